/* The image repository: chunks verified before they are named, manifests
 * published only whole and only with every chunk present, listing,
 * verification of stored chunks, removal and garbage collection; the
 * image catalogue in the store, made from the manifests and reconciled
 * with them. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/util.h"
#include "api/catalog.h"
#include "image/chunk.h"
#include "image/repo.h"
#include "store/store.h"

struct fixture {
	char dir[64];
	struct image_repo repo;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	log_init("test_image_repo", true, LOG_LEVEL_WARN);
	str_copy(f->dir, "/tmp/pxed-test-repo.XXXXXX", sizeof f->dir);
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(repo_open(&f->repo, f->dir), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	repo_close(&f->repo);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A chunk of n bytes filled from seed, compressed; its hash in sha. */
static void *
make_chunk(size_t n, int seed, uint8_t sha[SHA256_LEN], size_t *zlen)
{
	uint8_t *data = malloc(n);
	void *z = NULL;

	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(seed + (int)(i / 512));
	chunk_sha256(data, n, sha);
	assert_int_equal(chunk_compress(data, n, 3, &z, zlen), 0);
	free(data);
	return z;
}

static void
put(struct fixture *f, size_t n, int seed, uint8_t sha[SHA256_LEN])
{
	size_t zlen;
	void *z = make_chunk(n, seed, sha, &zlen);

	assert_int_equal(repo_put_chunk(&f->repo, sha, z, zlen), 1);
	free(z);
}

/* Manifest text for a 1 MiB disk with the given chunks at 64 KiB steps. */
static char *
manifest_text(const char *name, uint8_t (*shas)[SHA256_LEN], const size_t *lens, size_t n)
{
	struct manifest m = { 0 };
	char *text;

	str_copy(m.name, name, sizeof m.name);
	m.created = 1700000000;
	m.disk_size = 1 << 20;
	m.sector_size = 512;
	m.table = PTABLE_NONE;
	m.chunk_size = 65536;
	m.chunk = calloc(n, sizeof *m.chunk);
	assert_non_null(m.chunk);
	for (size_t i = 0; i < n; i++) {
		m.chunk[i].offset = i * 65536;
		m.chunk[i].length = (uint32_t)lens[i];
		memcpy(m.chunk[i].sha256, shas[i], SHA256_LEN);
	}
	m.nchunks = n;
	text = manifest_format(&m, NULL);
	assert_non_null(text);
	manifest_free(&m);
	return text;
}

static void
test_put_chunk(void **state)
{
	struct fixture *f = *state;
	uint8_t sha[SHA256_LEN], other[SHA256_LEN];
	size_t zlen;
	void *z = make_chunk(40000, 7, sha, &zlen);
	char rel[128];
	struct stat st;

	assert_false(repo_has_chunk(&f->repo, sha));
	assert_int_equal(repo_put_chunk(&f->repo, sha, z, zlen), 1);
	assert_int_equal(repo_put_chunk(&f->repo, sha, z, zlen), 0);   /* present */
	assert_true(repo_has_chunk(&f->repo, sha));
	assert_int_equal(repo_chunk_size(&f->repo, sha), (int64_t)zlen);
	repo_chunk_relpath(sha, rel, sizeof rel);
	assert_int_equal(fstatat(f->repo.dirfd, rel, &st, 0), 0);
	assert_int_equal(repo_check_chunk(&f->repo, sha), 0);
	/* the right frame under another name: refused, nothing stored */
	memcpy(other, sha, sizeof other);
	other[0] ^= 1;
	assert_int_equal(repo_put_chunk(&f->repo, other, z, zlen), -EILSEQ);
	assert_false(repo_has_chunk(&f->repo, other));
	/* cut, garbage, empty */
	assert_int_equal(repo_put_chunk(&f->repo, other, z, zlen - 1), -EBADMSG);
	assert_int_equal(repo_put_chunk(&f->repo, other, "garbage!", 8), -EBADMSG);
	assert_int_equal(repo_put_chunk(&f->repo, other, "", 0), -EBADMSG);
	assert_false(repo_has_chunk(&f->repo, other));
	free(z);
}

static void
test_publish(void **state)
{
	struct fixture *f = *state;
	uint8_t shas[3][SHA256_LEN];
	size_t lens[3] = { 65536, 4096, 65536 };
	char err[256], (*names)[IMAGE_NAME_MAX + 1];
	struct image_info info;
	char *text;

	put(f, lens[0], 1, shas[0]);
	put(f, lens[1], 2, shas[1]);
	{
		size_t zlen;
		void *z = make_chunk(lens[2], 3, shas[2], &zlen);   /* not uploaded */
		free(z);
	}
	text = manifest_text("win11", shas, lens, 3);
	assert_int_equal(repo_publish(&f->repo, text, strlen(text), true, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "is not on the server"));
	assert_int_equal(repo_list(&f->repo, &names), 0);
	free(names);
	free(text);
	/* with two chunks it is whole */
	text = manifest_text("win11", shas, lens, 2);
	assert_int_equal(repo_publish(&f->repo, text, strlen(text), true, err, sizeof err), 0);
	free(text);
	assert_int_equal(repo_list(&f->repo, &names), 1);
	assert_string_equal(names[0], "win11");
	free(names);
	assert_int_equal(repo_info(&f->repo, "win11", &info), 0);
	assert_int_equal(info.nchunks, 2);
	assert_int_equal(info.used, 65536 + 4096);
	assert_true(info.stored > 0 && info.stored < info.used);
	assert_int_equal(repo_verify(&f->repo, "win11", err, sizeof err), 0);
	/* published again: refused unless replace is asked for */
	text = manifest_text("win11", shas, lens, 1);
	assert_int_equal(repo_publish(&f->repo, text, strlen(text), false, err, sizeof err),
	    -EEXIST);
	assert_non_null(strstr(err, "image win11 exists"));
	assert_int_equal(repo_info(&f->repo, "win11", &info), 0);
	assert_int_equal(info.nchunks, 2);
	assert_int_equal(repo_publish(&f->repo, text, strlen(text), true, err, sizeof err), 0);
	free(text);
	assert_int_equal(repo_info(&f->repo, "win11", &info), 0);
	assert_int_equal(info.nchunks, 1);
	assert_int_equal(repo_list(&f->repo, &names), 1);
	free(names);
	/* not JSON, a bad name */
	assert_int_equal(repo_publish(&f->repo, "{", 1, true, err, sizeof err), -EINVAL);
	assert_int_equal(repo_info(&f->repo, "../etc", &info), -ENOENT);
}

/* A chunk damaged on the server's disk is found by verify, named. */
static void
test_verify_damage(void **state)
{
	struct fixture *f = *state;
	uint8_t shas[2][SHA256_LEN];
	size_t lens[2] = { 65536, 65536 };
	char err[256], rel[128], hex[SHA256_HEX_LEN + 1];
	char *text;
	int fd;

	put(f, lens[0], 1, shas[0]);
	put(f, lens[1], 9, shas[1]);
	text = manifest_text("lab", shas, lens, 2);
	assert_int_equal(repo_publish(&f->repo, text, strlen(text), true, err, sizeof err), 0);
	free(text);
	repo_chunk_relpath(shas[1], rel, sizeof rel);
	fd = openat(f->repo.dirfd, rel, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\xff\xff\xff\xff", 4, 20), 4);
	close(fd);
	assert_int_equal(repo_verify(&f->repo, "lab", err, sizeof err), 1);
	sha256_hex(shas[1], hex);
	assert_non_null(strstr(err, hex));
	assert_non_null(strstr(err, "offset 65536"));
}

static void
test_remove_gc(void **state)
{
	struct fixture *f = *state;
	uint8_t shas[3][SHA256_LEN], only_a[1][SHA256_LEN], orphan[SHA256_LEN];
	size_t lens[3] = { 65536, 65536, 65536 };
	char err[256];
	uint64_t freed;
	char *text;

	put(f, lens[0], 1, shas[0]);
	put(f, lens[1], 2, shas[1]);
	put(f, lens[2], 3, shas[2]);
	put(f, 1000, 4, orphan);
	memcpy(only_a[0], shas[0], SHA256_LEN);
	text = manifest_text("a", only_a, lens, 1);
	assert_int_equal(repo_publish(&f->repo, text, strlen(text), true, err, sizeof err), 0);
	free(text);
	text = manifest_text("b", shas, lens, 3);
	assert_int_equal(repo_publish(&f->repo, text, strlen(text), true, err, sizeof err), 0);
	free(text);
	/* young chunks are kept (a capture may be uploading them) */
	assert_int_equal(repo_gc(&f->repo, 3600, &freed), 0);
	assert_int_equal(repo_gc(&f->repo, 0, &freed), 1);
	assert_false(repo_has_chunk(&f->repo, orphan));
	assert_true(freed > 0);
	/* b removed: its own chunks go, the one a shares stays */
	assert_int_equal(repo_remove(&f->repo, "b"), 0);
	assert_int_equal(repo_remove(&f->repo, "b"), -ENOENT);
	assert_int_equal(repo_gc(&f->repo, 0, &freed), 2);
	assert_true(repo_has_chunk(&f->repo, shas[0]));
	assert_false(repo_has_chunk(&f->repo, shas[1]));
	assert_int_equal(repo_verify(&f->repo, "a", err, sizeof err), 0);
}

/* Publish image name with chunks of the given seeds (64 KiB each). */
static void
publish(struct fixture *f, const char *name, const int *seeds, size_t n)
{
	uint8_t shas[4][SHA256_LEN];
	size_t lens[4] = { 65536, 65536, 65536, 65536 };
	char err[256], *text;

	assert_true(n <= 4);
	for (size_t i = 0; i < n; i++) {
		size_t zlen;
		void *z = make_chunk(lens[i], seeds[i], shas[i], &zlen);
		assert_true(repo_put_chunk(&f->repo, shas[i], z, zlen) >= 0);
		free(z);
	}
	text = manifest_text(name, shas, lens, n);
	assert_int_equal(repo_publish(&f->repo, text, strlen(text), true, err, sizeof err), 0);
	free(text);
}

/* The row agrees with the manifest (repo_info) and names its task. */
static void
assert_row_matches(struct fixture *f, struct store *st, const char *name, int64_t task)
{
	struct store_image row;
	struct image_info info;

	assert_int_equal(store_image_get(st, name, &row), 0);
	assert_int_equal(repo_info(&f->repo, name, &info), 0);
	assert_string_equal(row.name, name);
	assert_int_equal(row.created, info.created);
	assert_int_equal(row.disk_size, info.disk_size);
	assert_int_equal(row.used, info.used);
	assert_int_equal(row.stored, info.stored);
	assert_int_equal(row.chunks, info.nchunks);
	assert_int_equal(row.partitions, info.nparts);
	assert_string_equal(row.table, "none");
	assert_string_equal(row.partition_list, "[]");
	assert_int_equal(row.task, task);
	store_image_free(&row);
}

/* A publish writes the row; start-up reconciliation adds a row for a
 * manifest that has none, makes a row again whose manifest changed,
 * removes rows without a manifest (or with one that cannot be read), and
 * changes nothing when all agree. */
static void
test_catalog_reconcile(void **state)
{
	struct fixture *f = *state;
	struct catalog_report rep;
	struct store_image row;
	struct store *st;
	static const int a[] = { 1, 2 }, b[] = { 3 }, b2[] = { 3, 4, 5 }, c[] = { 6 };
	int fd;

	assert_int_equal(store_open(&st, f->dir), 0);
	publish(f, "a", a, 2);
	assert_int_equal(catalog_record(&f->repo, st, "a", 11), 0);
	assert_row_matches(f, st, "a", 11);
	publish(f, "b", b, 1);
	assert_int_equal(catalog_record(&f->repo, st, "b", 12), 0);
	/* behind pxed's back: b replaced (newer mtime), c published without
	 * a row, a row for gone, a manifest that does not parse */
	publish(f, "b", b2, 3);
	assert_int_equal(utimensat(f->repo.dirfd, "manifests/b.json",
	    (struct timespec[2]){ { 0, UTIME_OMIT }, { 1800000000, 0 } }, 0), 0);
	publish(f, "c", c, 1);
	row = (struct store_image){ .name = "gone", .chunks = 3, .task = 5 };
	assert_int_equal(store_image_put(st, &row), 0);
	row = (struct store_image){ .name = "bad", .chunks = 1 };
	assert_int_equal(store_image_put(st, &row), 0);
	fd = openat(f->repo.dirfd, "manifests/bad.json", O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"format\":", 10), 10);
	close(fd);
	assert_int_equal(catalog_reconcile(&f->repo, st, &rep), 0);
	assert_int_equal(rep.added, 1);
	assert_int_equal(rep.updated, 1);
	assert_int_equal(rep.removed, 2);
	assert_int_equal(rep.kept, 1);
	assert_int_equal(rep.failed, 0);
	assert_row_matches(f, st, "a", 11);
	assert_row_matches(f, st, "b", 0);          /* its capture is not known */
	assert_row_matches(f, st, "c", 0);
	assert_int_equal(store_image_get(st, "gone", &row), -ENOENT);
	assert_int_equal(store_image_get(st, "bad", &row), -ENOENT);
	/* again: everything agrees, nothing changes */
	assert_int_equal(catalog_reconcile(&f->repo, st, &rep), 0);
	assert_int_equal(rep.kept, 3);
	assert_int_equal(rep.added + rep.updated + rep.removed + rep.failed, 0);
	/* a manifest removed: its row goes at the next start */
	assert_int_equal(repo_remove(&f->repo, "a"), 0);
	assert_int_equal(catalog_reconcile(&f->repo, st, &rep), 0);
	assert_int_equal(rep.removed, 1);
	assert_int_equal(store_image_get(st, "a", &row), -ENOENT);
	assert_int_equal(catalog_record(&f->repo, st, "a", 1), -ENOENT);
	store_close(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_chunk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_gc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_catalog_reconcile, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
