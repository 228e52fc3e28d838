/* Unit tests for pxe-agent's capture planning on disk image files made
 * here (sgdisk, sfdisk, mkfs.ext4 -d, mkfs.vfat): table chunks, data
 * chunks covering the files and the boot loader gap, chunks that never
 * overlap a table extent (EBRs between logical partitions of a disk full
 * of data), the same plan twice, and a manifest that parses.  Also the
 * extent helpers from tables.  The agent is not in libpxed: its curl-free
 * source is compiled in here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent/plan.c"
#include "core/util.h"

#include <fcntl.h>
#include <unistd.h>

#define KiB 1024u
#define MiB (1024u * 1024u)
#define CHUNK (4 * MiB)

static const struct plan_options opts = { .chunk_size = CHUNK };

static char tmpdir[64];

static int
setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pxed-capture-XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
teardown_tmp(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

__attribute__((format(printf, 1, 2)))
static void
run(const char *fmt, ...)
{
	char cmd[1024], full[1200];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(full, sizeof full, "cd '%s' && PATH=/usr/sbin:/sbin:/usr/bin:/bin; export PATH; "
	    "exec >/dev/null 2>&1; %s", tmpdir, cmd);
	rc = system(full);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
}

static int
open_in_tmp(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	return fd;
}

/* ---- extent helpers ---- */

static void
test_extents_normalize(void **state)
{
	struct extent v[] = { { 100, 10 }, { 0, 10 }, { 5, 10 }, { 15, 5 }, { 50, 0 },
	    { 105, 2 }, { 200, 1 } };
	size_t n;

	(void)state;
	n = extents_normalize(v, sizeof v / sizeof v[0]);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].offset, 0);
	assert_int_equal(v[0].length, 20);
	assert_int_equal(v[1].offset, 100);
	assert_int_equal(v[1].length, 10);
	assert_int_equal(v[2].offset, 200);
}

static void
test_extents_subtract(void **state)
{
	static struct extent a[] = { { 0, 100 }, { 200, 100 }, { 400, 50 } };
	static struct extent b[] = { { 0, 10 }, { 50, 10 }, { 90, 120 }, { 290, 200 } };
	static const struct extent want[] = { { 10, 40 }, { 60, 30 }, { 210, 80 } };
	struct extent_list la = { a, 3, 3 };
	struct extent_list lb = { b, 4, 4 };
	struct extent_list out = { 0 }, none = { 0 };

	(void)state;
	assert_int_equal(extents_subtract(&la, &lb, &out), 0);
	assert_int_equal(out.n, 3);
	assert_memory_equal(out.v, want, sizeof want);
	out.n = 0;
	assert_int_equal(extents_subtract(&la, &none, &out), 0);
	assert_int_equal(out.n, 3);
	assert_memory_equal(out.v, a, sizeof a);
	extent_list_free(&out);
}

/* ---- plans of real disks ---- */

static void
assert_plan_sane(const struct capture_plan *p, uint64_t disk_size)
{
	for (size_t i = 0; i < p->nchunks; i++) {
		const struct image_chunk *c = &p->chunk[i];
		assert_true(c->length > 0);
		assert_true(c->offset + c->length <= disk_size);
		if (i > 0)
			assert_true(p->chunk[i - 1].offset + p->chunk[i - 1].length <= c->offset);
		assert_int_equal(c->offset / CHUNK, (c->offset + c->length - 1) / CHUNK);
	}
}

/* Is [offset, offset+len) inside the chunks? */
static bool
covered(const struct capture_plan *p, uint64_t offset, uint64_t len)
{
	for (size_t i = 0; i < p->nchunks && len > 0; i++) {
		const struct image_chunk *c = &p->chunk[i];
		if (offset >= c->offset && offset < c->offset + c->length) {
			uint64_t n = MIN(len, c->offset + c->length - offset);
			offset += n;
			len -= n;
		}
	}
	return len == 0;
}

/* Where a marker string is in the image (the first byte), or -1. */
static int64_t
find_marker(int fd, const char *marker)
{
	size_t mlen = strlen(marker);
	char *buf = malloc(MiB + 64);
	int64_t found = -1;
	uint64_t at = 0;
	ssize_t n;

	while (found < 0 && (n = pread(fd, buf, MiB + 64, (off_t)at)) > (ssize_t)mlen) {
		for (ssize_t i = 0; found < 0 && i + (ssize_t)mlen <= n; i++)
			if (memcmp(buf + i, marker, mlen) == 0)
				found = (int64_t)at + i;
		at += MiB;
	}
	free(buf);
	return found;
}

static void
make_gpt_disk(void)
{
	run("truncate -s 64M gpt.img && sgdisk -n1:2048:+20M -t1:ef00 -n2:0:0 -t2:8300 gpt.img");
	run("mkdir -p tree && printf 'MARKER-IN-EXT4-FILE' > tree/marker.txt && "
	    "head -c 3000000 /dev/urandom > tree/random.bin");
	run("mkfs.ext4 -q -F -d tree -E offset=%u gpt.img 44015k", 43008u * 512);
	run("mkfs.vfat -C fat.img 20480 && printf 'MARKER-IN-FAT-FILE' > fat.txt && "
	    "mcopy -i fat.img fat.txt ::/ && dd if=fat.img of=gpt.img bs=512 seek=2048 "
	    "conv=notrunc");
	run("printf 'MARKER-BOOT-LOADER' | dd of=gpt.img bs=512 seek=40 conv=notrunc");
}

static void
test_plan_gpt(void **state)
{
	struct capture_plan p, again;
	char err[256];
	int fd;

	(void)state;
	make_gpt_disk();
	fd = open_in_tmp("gpt.img");
	if (capture_plan_build(fd, &opts, &p, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(p.layout.kind, PTABLE_GPT);
	assert_int_equal(p.nparts, 2);
	assert_int_equal(p.part[0].fs, FS_FAT);
	assert_int_equal(p.part[1].fs, FS_EXT);
	assert_true(p.part[1].used >= 3000000);
	assert_true(p.part[1].used < p.part[1].length / 2);
	assert_plan_sane(&p, 64 * MiB);
	/* the primary table first, the backup last, both table chunks */
	assert_true(p.chunk[0].table);
	assert_int_equal(p.chunk[0].offset, 0);
	assert_int_equal(p.chunk[0].length, 34 * 512);
	assert_true(p.chunk[p.nchunks - 1].table);
	assert_int_equal(p.chunk[p.nchunks - 1].offset + p.chunk[p.nchunks - 1].length, 64 * MiB);
	for (size_t i = 1; i + 1 < p.nchunks; i++)
		assert_false(p.chunk[i].table);
	assert_true(p.bytes < 16 * MiB);
	assert_true(covered(&p, 40 * 512, 18));
	assert_true(covered(&p, (uint64_t)find_marker(fd, "MARKER-IN-EXT4-FILE"), 19));
	assert_true(covered(&p, (uint64_t)find_marker(fd, "MARKER-IN-FAT-FILE"), 18));
	/* the same disk plans the same way (dedup) */
	assert_int_equal(capture_plan_build(fd, &opts, &again, err, sizeof err), 0);
	assert_int_equal(again.nchunks, p.nchunks);
	assert_memory_equal(again.chunk, p.chunk, p.nchunks * sizeof p.chunk[0]);
	capture_plan_free(&again);
	capture_plan_free(&p);
	close(fd);
}

/* A disk full of random bytes under an MBR with logical partitions: data
 * on both sides of every EBR, which must stay table chunks of their own. */
static void
test_plan_mbr_logical(void **state)
{
	struct capture_plan p;
	struct manifest m = { .created = 1, .chunk_size = CHUNK };
	struct manifest back;
	char err[256], *text;
	size_t ntable = 0, len;
	int fd;

	(void)state;
	run("head -c %u /dev/urandom > mbr.img", 48 * MiB);
	run("printf 'label: dos\\n,8M,83\\n,,5\\n,10M,83\\n,10M,83\\n,,83\\n' | sfdisk mbr.img");
	fd = open_in_tmp("mbr.img");
	if (capture_plan_build(fd, &opts, &p, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(p.layout.kind, PTABLE_MBR);
	assert_int_equal(p.nparts, 4);
	assert_plan_sane(&p, 48 * MiB);
	for (size_t i = 0; i < p.nchunks; i++)
		ntable += p.chunk[i].table;
	assert_int_equal(ntable, 1 + 3);        /* the MBR and one EBR per logical */
	assert_true(p.bytes > 40 * MiB);        /* random: nearly all of it */
	/* the plan makes a valid manifest */
	str_copy(m.name, "mbr-test", sizeof m.name);
	m.disk_size = p.layout.disk_size;
	m.sector_size = p.layout.sector_size;
	m.table = p.layout.kind;
	memcpy(m.part, p.part, sizeof m.part);
	m.nparts = p.nparts;
	m.chunk = p.chunk;
	m.nchunks = p.nchunks;
	text = manifest_format(&m, &len);
	assert_non_null(text);
	if (manifest_parse(text, len, &back, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(back.nchunks, p.nchunks);
	manifest_free(&back);
	free(text);
	capture_plan_free(&p);
	close(fd);
}

/* No partition table: a filesystem on the whole disk. */
static void
test_plan_bare_filesystem(void **state)
{
	struct capture_plan p;
	char err[256];
	int fd;

	(void)state;
	run("truncate -s 32M bare.img && mkdir -p tree2 && printf 'BARE-MARKER' > tree2/m && "
	    "mkfs.ext4 -q -F -d tree2 bare.img");
	fd = open_in_tmp("bare.img");
	if (capture_plan_build(fd, &opts, &p, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(p.layout.kind, PTABLE_NONE);
	assert_int_equal(p.nparts, 0);
	assert_plan_sane(&p, 32 * MiB);
	for (size_t i = 0; i < p.nchunks; i++)
		assert_false(p.chunk[i].table);
	assert_true(p.bytes < 16 * MiB);
	assert_true(covered(&p, (uint64_t)find_marker(fd, "BARE-MARKER"), 11));
	capture_plan_free(&p);
	close(fd);
}

/* A previously used disk: old random data after the last partition and
 * between two partitions.  Only the tables, the boot loader gap and the
 * partitions' used blocks are planned; with outside_partitions the old
 * data too. */
static void
test_plan_outside_partitions(void **state)
{
	const struct plan_options all = { .chunk_size = CHUNK, .outside_partitions = true };
	struct capture_plan p, q;
	char err[256];
	int fd;

	(void)state;
	run("head -c %u /dev/urandom > used.img", 64 * MiB);
	run("sgdisk -Z used.img && sgdisk -n1:2048:+8M -n2:20M:+8M used.img");
	run("dd if=/dev/zero of=used.img bs=1M seek=1 count=8 conv=notrunc && "
	    "dd if=/dev/zero of=used.img bs=1M seek=20 count=8 conv=notrunc");
	run("mkfs.ext4 -q -F -E offset=%u used.img 8M", 20 * MiB);
	run("mkfs.vfat --offset 2048 used.img 8192");
	run("dd if=/dev/zero of=used.img bs=512 seek=34 count=2014 conv=notrunc && "
	    "printf 'MARKER-BOOT-LOADER' | dd of=used.img bs=512 seek=40 conv=notrunc");
	run("printf 'OLD-DATA-AFTER-LAST' | dd of=used.img bs=1M seek=40 conv=notrunc");
	fd = open_in_tmp("used.img");
	if (capture_plan_build(fd, &opts, &p, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(p.nparts, 2);
	assert_plan_sane(&p, 64 * MiB);
	assert_true(covered(&p, 40 * 512, 18));
	assert_false(covered(&p, 40 * MiB, 19));
	assert_false(covered(&p, 12 * MiB, 1));
	/* tables + loader gap + two nearly empty filesystems */
	assert_true(p.bytes < 4 * MiB);
	if (capture_plan_build(fd, &all, &q, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_true(covered(&q, 40 * MiB, 19));
	assert_true(covered(&q, 12 * MiB, 4096));
	assert_true(q.bytes > 40 * MiB);
	capture_plan_free(&q);
	capture_plan_free(&p);
	close(fd);
}

/* A BitLocker partition: refused by name, or taken whole when asked. */
static void
test_plan_bitlocker(void **state)
{
	const struct plan_options raw = { .chunk_size = CHUNK, .raw_encrypted = true };
	struct capture_plan p;
	char err[256] = "";
	int fd;

	(void)state;
	run("truncate -s 32M bl.img && sgdisk -n1:2048:+8M -n2:0:+16M bl.img");
	run("head -c %u /dev/urandom | dd of=bl.img bs=1M seek=9 conv=notrunc", 16 * MiB);
	run("printf '\\353\\130\\220-FVE-FS-' | dd of=bl.img bs=1M seek=9 conv=notrunc");
	run("mkfs.vfat --offset 2048 bl.img 8192");
	fd = open_in_tmp("bl.img");
	assert_int_equal(capture_plan_build(fd, &opts, &p, err, sizeof err), -EPERM);
	if (strstr(err, "partition 2 is encrypted with BitLocker") == NULL)
		fail_msg("%s", err);
	if (capture_plan_build(fd, &raw, &p, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(p.part[1].fs, FS_BITLOCKER);
	assert_int_equal(p.part[1].used, 16 * MiB);
	assert_true(covered(&p, 9 * MiB, 16 * MiB));
	assert_string_equal(image_fs_name(p.part[1].fs), "bitlocker");
	capture_plan_free(&p);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extents_normalize),
		cmocka_unit_test(test_extents_subtract),
		cmocka_unit_test(test_plan_gpt),
		cmocka_unit_test(test_plan_mbr_logical),
		cmocka_unit_test(test_plan_bare_filesystem),
		cmocka_unit_test(test_plan_outside_partitions),
		cmocka_unit_test(test_plan_bitlocker),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
