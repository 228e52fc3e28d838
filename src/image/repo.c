/* The image repository: verified chunks and atomically published
 * manifests in a directory.  See repo.h. */
#include "image/repo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "files/files.h"
#include "image/chunk.h"

#define CHUNK_FRAME_MAX (IMAGE_CHUNK_MAX + (IMAGE_CHUNK_MAX >> 7) + 4096)

int
repo_open(struct image_repo *r, const char *path)
{
	memset(r, 0, sizeof *r);
	r->dirfd = -1;
	if (str_copy(r->path, path, sizeof r->path) >= sizeof r->path)
		return -ENAMETOOLONG;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	r->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0)
		return -errno;
	if ((mkdirat(r->dirfd, "chunks", 0755) < 0 && errno != EEXIST) ||
	    (mkdirat(r->dirfd, "manifests", 0755) < 0 && errno != EEXIST)) {
		int err = -errno;
		repo_close(r);
		return err;
	}
	return 0;
}

void
repo_close(struct image_repo *r)
{
	if (r->dirfd >= 0)
		close(r->dirfd);
	r->dirfd = -1;
}

void
repo_chunk_relpath(const uint8_t sha[SHA256_LEN], char *out, size_t size)
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_hex(sha, hex);
	snprintf(out, size, "chunks/%.2s/%s.zst", hex, hex);
}

int64_t
repo_chunk_size(const struct image_repo *r, const uint8_t sha[SHA256_LEN])
{
	char rel[128];
	struct stat st;

	repo_chunk_relpath(sha, rel, sizeof rel);
	if (fstatat(r->dirfd, rel, &st, 0) < 0)
		return -errno;
	return st.st_size;
}

bool
repo_has_chunk(const struct image_repo *r, const uint8_t sha[SHA256_LEN])
{
	return repo_chunk_size(r, sha) >= 0;
}

/* Read a whole small file beneath the repository (bounded by max). */
static char *
read_file(int dirfd, const char *rel, size_t max, size_t *len)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char *buf = NULL;
	size_t off = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		goto out;
	while (off < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + off, (size_t)st.st_size - off, (off_t)off);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			free(buf);
			buf = NULL;
			goto out;
		}
		off += (size_t)n;
	}
	buf[off] = '\0';
	*len = off;
out:
	close(fd);
	return buf;
}

/* Write buf into a new file beneath dirfd, visible under rel only once
 * complete and synced. */
static int
write_new(int dirfd, const char *rel, const void *buf, size_t len)
{
	struct files_upload up;
	const char *p = buf;
	size_t off = 0;
	int rc = files_upload_begin(&up, dirfd, rel);

	if (rc < 0)
		return rc;
	while (off < len) {
		ssize_t n = write(up.fd, p + off, len - off);
		if (n < 0) {
			rc = -errno;
			files_upload_abort(&up);
			return rc;
		}
		off += (size_t)n;
	}
	if (fdatasync(up.fd) < 0) {
		rc = -errno;
		files_upload_abort(&up);
		return rc;
	}
	return files_upload_commit(&up);
}

int
repo_put_chunk(const struct image_repo *r, const uint8_t sha[SHA256_LEN],
    const void *z, size_t zlen)
{
	uint64_t size = chunk_frame_size(z, zlen);
	char rel[128], dir[16];
	void *plain;
	long n;
	int rc;

	if (size == 0 || size > IMAGE_CHUNK_MAX || zlen > CHUNK_FRAME_MAX)
		return -EBADMSG;
	if (repo_has_chunk(r, sha))
		return 0;
	plain = malloc((size_t)size);
	if (plain == NULL)
		return -ENOMEM;
	n = chunk_decompress_verify(z, zlen, plain, (size_t)size, sha);
	free(plain);
	if (n < 0)
		return (int)n;
	repo_chunk_relpath(sha, rel, sizeof rel);
	snprintf(dir, sizeof dir, "chunks/%.2s", rel + 7);
	if (mkdirat(r->dirfd, dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	rc = write_new(r->dirfd, rel, z, zlen);
	if (rc == -EEXIST)
		return 0;               /* another upload of the same chunk won */
	return rc < 0 ? rc : 1;
}

int
repo_check_chunk(const struct image_repo *r, const uint8_t sha[SHA256_LEN])
{
	char rel[128];
	size_t zlen = 0;
	char *z;
	void *plain;
	long n;

	repo_chunk_relpath(sha, rel, sizeof rel);
	z = read_file(r->dirfd, rel, CHUNK_FRAME_MAX, &zlen);
	if (z == NULL)
		return errno == ENOENT ? -ENOENT : -EBADMSG;
	plain = malloc(IMAGE_CHUNK_MAX);
	if (plain == NULL) {
		free(z);
		return -ENOMEM;
	}
	n = chunk_decompress_verify(z, zlen, plain, IMAGE_CHUNK_MAX, sha);
	free(plain);
	free(z);
	return n < 0 ? (int)n : 0;
}

static void
manifest_relpath(const char *name, char *out, size_t size)
{
	snprintf(out, size, "manifests/%s.json", name);
}

/* ---- manifest uploads ---- */

/* Each chunk of a manifest being read: on the server (else -ENOENT with
 * the hash named, unless the scan only sums), its sizes added up. */
static int
scan_chunk(void *arg, const struct image_chunk *c, char *err, size_t errlen)
{
	struct repo_scan *k = arg;
	int64_t z = repo_chunk_size(k->repo, c->sha256);
	char hex[SHA256_HEX_LEN + 1];

	if (z < 0 && k->need_all) {
		sha256_hex(c->sha256, hex);
		snprintf(err, errlen, "chunk %s is not on the server", hex);
		return -ENOENT;
	}
	k->info.used += c->length;
	k->info.stored += z > 0 ? (uint64_t)z : 0;
	return 0;
}

static int
scan_begin(struct repo_scan *k, const struct image_repo *r, bool need_all)
{
	memset(k, 0, sizeof *k);
	k->repo = r;
	k->need_all = need_all;
	return manifest_reader_new(&k->reader, &k->head, scan_chunk, k);
}

/* The reader's verdict and the info it gathered. */
static int
scan_end(struct repo_scan *k, char *err, size_t errlen)
{
	int rc = manifest_reader_end(k->reader, err, errlen);

	manifest_reader_free(k->reader);
	k->reader = NULL;
	if (rc < 0)
		return rc;
	str_copy(k->info.name, k->head.name, sizeof k->info.name);
	k->info.created = k->head.created;
	k->info.disk_size = k->head.disk_size;
	k->info.nchunks = k->head.nchunks;
	k->info.nparts = k->head.nparts;
	return 0;
}

int
repo_upload_begin(struct repo_upload *u, const struct image_repo *r)
{
	uint8_t rnd[8];
	char hex[17];
	int rc;

	memset(u, 0, sizeof *u);
	u->file.fd = -1;
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		return -EIO;
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(u->tmp, sizeof u->tmp, "manifests/.upload.%s.new", hex);
	rc = files_upload_begin(&u->file, r->dirfd, u->tmp);
	if (rc < 0)
		return rc;
	rc = scan_begin(&u->scan, r, true);
	if (rc < 0) {
		files_upload_abort(&u->file);
		u->file.fd = -1;
	}
	return rc;
}

int
repo_upload_write(struct repo_upload *u, const void *data, size_t len, char *err,
    size_t errlen)
{
	const char *p = data;
	size_t off = 0;
	int rc;

	if (u->bytes + len > IMAGE_MANIFEST_MAX) {
		snprintf(err, errlen, "manifest too large");
		return -EFBIG;
	}
	rc = manifest_reader_feed(u->scan.reader, data, len, err, errlen);
	while (rc == 0 && off < len) {
		ssize_t n = write(u->file.fd, p + off, len - off);
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "cannot write the manifest: %s", strerror(errno));
		}
		off += n > 0 ? (size_t)n : 0;
	}
	u->bytes += len;
	return rc;
}

int
repo_upload_finish(struct repo_upload *u, char *err, size_t errlen)
{
	return scan_end(&u->scan, err, errlen);
}

int
repo_upload_publish(struct repo_upload *u, bool replace, char *err, size_t errlen)
{
	const struct image_repo *r = u->scan.repo;
	char rel[IMAGE_NAME_MAX + 32];
	int rc = fdatasync(u->file.fd) < 0 ? -errno : 0;

	if (rc == 0) {
		rc = files_upload_commit(&u->file);     /* closes the file */
		u->file.fd = -1;
	}
	manifest_relpath(u->scan.head.name, rel, sizeof rel);
	if (rc == 0 && renameat2(r->dirfd, u->tmp, r->dirfd, rel,
	    replace ? 0 : RENAME_NOREPLACE) < 0) {
		rc = -errno;
		unlinkat(r->dirfd, u->tmp, 0);
	}
	if (rc == 0 && fsync(r->dirfd) < 0)
		rc = -errno;
	if (rc == -EEXIST)
		snprintf(err, errlen, "image %s exists (the task may not replace it)",
		    u->scan.head.name);
	else if (rc < 0)
		snprintf(err, errlen, "cannot write the manifest: %s", strerror(-rc));
	return rc;
}

void
repo_upload_abort(struct repo_upload *u)
{
	manifest_reader_free(u->scan.reader);
	u->scan.reader = NULL;
	if (u->file.fd >= 0)
		files_upload_abort(&u->file);
	u->file.fd = -1;
}

int
repo_publish(const struct image_repo *r, const char *text, size_t len, bool replace,
    char *err, size_t errlen)
{
	struct repo_upload u;
	int rc = repo_upload_begin(&u, r);

	if (rc < 0) {
		snprintf(err, errlen, "cannot write the manifest: %s", strerror(-rc));
		return rc;
	}
	rc = repo_upload_write(&u, text, len, err, errlen);
	if (rc == 0)
		rc = repo_upload_finish(&u, err, errlen);
	if (rc == 0)
		rc = repo_upload_publish(&u, replace, err, errlen);
	repo_upload_abort(&u);
	return rc;
}

char *
repo_manifest_text(const struct image_repo *r, const char *name, size_t *len)
{
	char rel[IMAGE_NAME_MAX + 32];

	if (!image_name_valid(name)) {
		errno = ENOENT;
		return NULL;
	}
	manifest_relpath(name, rel, sizeof rel);
	return read_file(r->dirfd, rel, IMAGE_MANIFEST_MAX, len);
}

int
repo_load(const struct image_repo *r, const char *name, struct manifest *m,
    char *err, size_t errlen)
{
	size_t len = 0;
	char *text = repo_manifest_text(r, name, &len);
	int rc;

	if (text == NULL) {
		snprintf(err, errlen, "image %s: %s", name, strerror(errno));
		return -ENOENT;
	}
	rc = manifest_parse(text, len, m, err, errlen);
	free(text);
	return rc;
}

/* Read the manifest file of name through the streaming reader. */
static int
scan_file(const struct image_repo *r, const char *name, struct repo_scan *k, char *err,
    size_t errlen)
{
	char rel[IMAGE_NAME_MAX + 32], buf[65536];
	int fd, rc;
	ssize_t n;

	if (!image_name_valid(name))
		return -ENOENT;
	manifest_relpath(name, rel, sizeof rel);
	fd = openat(r->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	rc = scan_begin(k, r, false);
	while (rc == 0 && (n = read(fd, buf, sizeof buf)) != 0)
		rc = n < 0 ? -errno : manifest_reader_feed(k->reader, buf, (size_t)n, err, errlen);
	close(fd);
	if (rc == 0)
		return scan_end(k, err, errlen);
	manifest_reader_free(k->reader);
	k->reader = NULL;
	return rc;
}

int
repo_scan(const struct image_repo *r, const char *name, struct manifest *head,
    struct image_info *out, char *err, size_t errlen)
{
	struct repo_scan k;
	int rc = scan_file(r, name, &k, err, errlen);

	if (rc < 0)
		return rc;
	if (head != NULL)
		*head = k.head;
	*out = k.info;
	return 0;
}

int
repo_info(const struct image_repo *r, const char *name, struct image_info *out)
{
	char err[256];

	return repo_scan(r, name, NULL, out, err, sizeof err);
}

int
repo_manifest_stamp(const struct image_repo *r, const char *name, int64_t *mtime_ns,
    uint64_t *size)
{
	char rel[IMAGE_NAME_MAX + 32];
	struct stat st;

	if (!image_name_valid(name))
		return -ENOENT;
	manifest_relpath(name, rel, sizeof rel);
	if (fstatat(r->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	*mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	*size = (uint64_t)st.st_size;
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
repo_list(const struct image_repo *r, char (**names)[IMAGE_NAME_MAX + 1])
{
	int fd = openat(r->dirfd, "manifests", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	char (*v)[IMAGE_NAME_MAX + 1] = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	*names = NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while ((e = readdir(d)) != NULL && n < 100000) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || len < 6 || len - 5 > IMAGE_NAME_MAX ||
		    strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			void *nv = reallocarray(v, cap, sizeof *v);
			if (nv == NULL) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		memcpy(v[n], e->d_name, len - 5);
		v[n][len - 5] = '\0';
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof *v, name_cmp);
	*names = v;
	return (int)n;
}

int
repo_remove(const struct image_repo *r, const char *name)
{
	char rel[IMAGE_NAME_MAX + 32];

	if (!image_name_valid(name))
		return -ENOENT;
	manifest_relpath(name, rel, sizeof rel);
	if (unlinkat(r->dirfd, rel, 0) < 0)
		return -errno;
	return 0;
}

int
repo_verify(const struct image_repo *r, const char *name, char *err, size_t errlen)
{
	struct manifest m;
	char hex[SHA256_HEX_LEN + 1];
	int rc = repo_load(r, name, &m, err, errlen), bad = 0;

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < m.nchunks; i++) {
		rc = repo_check_chunk(r, m.chunk[i].sha256);
		if (rc == 0)
			continue;
		if (bad++ == 0) {
			sha256_hex(m.chunk[i].sha256, hex);
			snprintf(err, errlen, "chunk %s at offset %llu: %s", hex,
			    (unsigned long long)m.chunk[i].offset,
			    rc == -ENOENT ? "missing" : rc == -EILSEQ ? "hash mismatch" :
			    "not a valid zstd frame");
		}
	}
	manifest_free(&m);
	return bad;
}

/* ---- garbage collection ---- */

struct sha_set {
	uint8_t (*v)[SHA256_LEN];
	size_t n, cap;
};

static int
sha_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SHA256_LEN);
}

static int
sha_set_add_manifest(const struct image_repo *r, const char *name, struct sha_set *s)
{
	struct manifest m;
	char err[256];
	int rc = repo_load(r, name, &m, err, sizeof err);

	if (rc < 0)
		return rc;
	if (s->n + m.nchunks > s->cap) {
		size_t cap = (s->n + m.nchunks) * 2;
		void *nv = reallocarray(s->v, cap, SHA256_LEN);
		if (nv == NULL) {
			manifest_free(&m);
			return -ENOMEM;
		}
		s->v = nv;
		s->cap = cap;
	}
	for (size_t i = 0; i < m.nchunks; i++)
		memcpy(s->v[s->n++], m.chunk[i].sha256, SHA256_LEN);
	manifest_free(&m);
	return 0;
}

/* The chunk hashes every published manifest names, sorted.  A manifest
 * that cannot be read stops the collection: better keep garbage than
 * delete a chunk an image needs. */
static int
referenced_chunks(const struct image_repo *r, struct sha_set *s)
{
	char (*names)[IMAGE_NAME_MAX + 1];
	int n = repo_list(r, &names), rc = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n && rc == 0; i++)
		rc = sha_set_add_manifest(r, names[i], s);
	free(names);
	if (rc == 0 && s->n > 0)
		qsort(s->v, s->n, SHA256_LEN, sha_cmp);
	return rc;
}

static int
gc_dir(const struct image_repo *r, const char *sub, const struct sha_set *keep,
    time_t cutoff, uint64_t *freed)
{
	char rel[64];
	int fd, removed = 0;
	struct dirent *e;
	DIR *d;

	snprintf(rel, sizeof rel, "chunks/%s", sub);
	fd = openat(r->dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		uint8_t sha[SHA256_LEN];
		struct stat st;
		size_t len = strlen(e->d_name);
		if (len != SHA256_HEX_LEN + 4 || strcmp(e->d_name + SHA256_HEX_LEN, ".zst") != 0 ||
		    sha256_parse(e->d_name, SHA256_HEX_LEN, sha) < 0)
			continue;
		if (keep->n > 0 && bsearch(sha, keep->v, keep->n, SHA256_LEN, sha_cmp) != NULL)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, 0) < 0 || st.st_mtime > cutoff)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0) {
			*freed += (uint64_t)st.st_size;
			removed++;
		}
	}
	closedir(d);
	return removed;
}

int
repo_gc(const struct image_repo *r, unsigned min_age_s, uint64_t *freed)
{
	struct sha_set keep = { 0 };
	time_t cutoff = time(NULL) - (time_t)min_age_s;
	int rc = referenced_chunks(r, &keep), removed = 0;

	*freed = 0;
	if (rc < 0) {
		free(keep.v);
		return rc;
	}
	for (unsigned i = 0; i < 256; i++) {
		char sub[3];
		snprintf(sub, sizeof sub, "%02x", i);
		removed += gc_dir(r, sub, &keep, cutoff, freed);
	}
	free(keep.v);
	return removed;
}
