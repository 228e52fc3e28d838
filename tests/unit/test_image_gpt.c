/* Unit tests for gpt_relocate (src/image/gpt.c): a GPT rewritten for a
 * larger and a smaller disk, checked by our parser (every CRC, the backup
 * at the end), by a reference CRC32 and, on disk files in a temporary
 * directory, by sgdisk -v (gdisk); a disk too small for a partition is
 * refused with the head unchanged; damaged and truncated heads fail
 * cleanly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "image/disk.h"

#include "gpt_build.h"

#define ES(ss)          (GPT_ENTRIES * GPT_ENTRY_SIZE / (ss))   /* entry sectors */
#define SOURCE_SECTORS  100000u

static const struct gpt_part two_parts[] = { { 2048, 4095 }, { 4096, 50000 } };

static uint32_t
get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* The header's CRC by the reference CRC32, its own field as zero. */
static void
assert_header_crc(const uint8_t *sector)
{
	uint8_t copy[92];

	memcpy(copy, sector, sizeof(copy));
	memset(copy + 16, 0, 4);
	assert_int_equal(ref_crc32(copy, sizeof(copy)), get_le32(sector + 16));
}

/* head and r->tail parse as a valid GPT of a disk of `sectors` sectors,
 * with the partitions of two_parts. */
static void
assert_parses(const uint8_t *head, size_t head_len, const struct gpt_relocation *r,
    uint32_t ss, uint64_t sectors)
{
	static struct disk_layout l;
	uint8_t *h = exact_copy(head, head_len), *t = exact_copy(r->tail, r->tail_len);
	char err[200] = "";

	if (disk_parse_layout(h, head_len, t, r->tail_len, sectors * ss, ss, &l, err,
	    sizeof(err)) != 0)
		fail_msg("%llu sectors of %u: %s", (unsigned long long)sectors, ss, err);
	assert_int_equal(l.kind, PTABLE_GPT);
	assert_int_equal(l.nparts, ARRAY_SIZE(two_parts));
	for (size_t i = 0; i < l.nparts; i++) {
		assert_int_equal(l.part[i].offset, two_parts[i].first * ss);
		assert_int_equal(l.part[i].length,
		    (two_parts[i].last - two_parts[i].first + 1) * ss);
	}
	assert_int_equal(l.table[1].offset, r->tail_offset);
	assert_int_equal(l.table[1].length, r->tail_len);
	free(h);
	free(t);
}

/* Relocates a fresh GPT of SOURCE_SECTORS to `sectors` and checks every
 * field against what it must be. */
static void
check_relocated(uint32_t ss, uint64_t sectors)
{
	struct gpt_disk d;
	struct gpt_relocation r, again;
	uint8_t *head, *before;
	uint64_t es = ES(ss);
	char err[200] = "";

	gpt_build(&d, ss, SOURCE_SECTORS, two_parts, ARRAY_SIZE(two_parts));
	head = exact_copy(d.head, d.head_len);
	before = exact_copy(d.head, d.head_len);
	if (gpt_relocate(head, d.head_len, sectors * ss + ss / 2, ss, &r, err,
	    sizeof(err)) != 0)
		fail_msg("%llu sectors of %u: %s", (unsigned long long)sectors, ss, err);
	assert_int_equal(r.backup_lba, sectors - 1);
	assert_int_equal(r.last_usable, sectors - 2 - es);
	assert_int_equal(r.old_backup_lba, SOURCE_SECTORS - 1);
	assert_int_equal(r.old_last_usable, SOURCE_SECTORS - 2 - es);
	assert_int_equal(r.tail_len, (es + 1) * ss);
	assert_int_equal(r.tail_offset, (sectors - 1 - es) * ss);
	/* primary: alternate and last usable changed, entries and their CRC not */
	assert_int_equal(get_le64(head + ss + 32), sectors - 1);
	assert_int_equal(get_le64(head + ss + 48), sectors - 2 - es);
	assert_int_equal(get_le32(head + ss + 88), get_le32(before + ss + 88));
	assert_memory_equal(head + 2 * ss, before + 2 * ss, d.head_len - 2 * ss);
	assert_header_crc(head + ss);
	/* backup: its own LBA, the primary as alternate, its entries' LBA */
	assert_int_equal(get_le64(r.tail + es * ss + 24), sectors - 1);
	assert_int_equal(get_le64(r.tail + es * ss + 32), 1);
	assert_int_equal(get_le64(r.tail + es * ss + 72), sectors - 1 - es);
	assert_memory_equal(r.tail, before + 2 * ss, es * ss);
	assert_header_crc(r.tail + es * ss);
	/* the protective MBR covers the new disk */
	assert_int_equal(get_le32(head + 446 + 12), MIN(sectors - 1, 0xffffffffu));
	assert_parses(head, d.head_len, &r, ss, sectors);
	/* once more on its own result: nothing changes */
	memcpy(before, head, d.head_len);
	assert_int_equal(gpt_relocate(head, d.head_len, sectors * ss, ss, &again, err,
	    sizeof(err)), 0);
	assert_memory_equal(head, before, d.head_len);
	assert_int_equal(again.tail_len, r.tail_len);
	assert_memory_equal(again.tail, r.tail, r.tail_len);
	gpt_relocation_free(&again);
	gpt_relocation_free(&r);
	free(head);
	free(before);
	gpt_free(&d);
}

static void
test_relocate_larger(void **state)
{
	(void)state;
	check_relocated(512, 3 * SOURCE_SECTORS);
	check_relocated(4096, 3 * SOURCE_SECTORS);
	check_relocated(512, SOURCE_SECTORS + 1);
	check_relocated(512, 1ull << 33);       /* MBR size capped at 0xFFFFFFFF */
}

static void
test_relocate_smaller(void **state)
{
	(void)state;
	check_relocated(512, 60000);
	check_relocated(4096, 60000);
	/* the usable area ends exactly with the last partition */
	check_relocated(512, 50000 + ES(512) + 2);
	check_relocated(4096, 50000 + ES(4096) + 2);
}

/* One sector fewer than the last partition needs: refused, head as it was. */
static void
check_refused(uint32_t ss, uint64_t sectors, const char *want)
{
	struct gpt_disk d;
	struct gpt_relocation r;
	uint8_t *head;
	char err[200] = "";

	gpt_build(&d, ss, SOURCE_SECTORS, two_parts, ARRAY_SIZE(two_parts));
	head = exact_copy(d.head, d.head_len);
	assert_int_equal(gpt_relocate(head, d.head_len, sectors * ss, ss, &r, err,
	    sizeof(err)), -ENOSPC);
	if (strstr(err, want) == NULL)
		fail_msg("%llu sectors: \"%s\" lacks \"%s\"", (unsigned long long)sectors,
		    err, want);
	assert_memory_equal(head, d.head, d.head_len);
	assert_null(r.tail);
	free(head);
	gpt_free(&d);
}

static void
test_relocate_refused(void **state)
{
	(void)state;
	check_refused(512, 50000 + ES(512) + 1, "partition 2 ends at LBA 50000");
	check_refused(4096, 50000 + ES(4096) + 1, "partition 2 ends at LBA 50000");
	check_refused(512, 30000, "partition 2");
	check_refused(512, 40, "no room for the GPT");
	check_refused(512, 0, "no room for the GPT");
}

/* A hybrid MBR's 0xEE entry covers only the GPT's start: it stays; a
 * protective entry of 0xFFFFFFFF sectors on a small disk is corrected. */
static void
test_relocate_mbr_entries(void **state)
{
	const struct mbr_part hybrid[] = { { 0xee, 1, 2047 }, { 0x83, 2048, 2048 } };
	const struct mbr_part oversized[] = { { 0xee, 1, 0xffffffffu } };
	struct gpt_disk d;
	struct gpt_relocation r;
	uint8_t before[512];
	char err[200];

	(void)state;
	gpt_build(&d, 512, SOURCE_SECTORS, two_parts, ARRAY_SIZE(two_parts));
	mbr_build(d.head, hybrid, ARRAY_SIZE(hybrid));
	memcpy(before, d.head, sizeof(before));
	assert_int_equal(gpt_relocate(d.head, d.head_len, 300000 * 512ull, 512, &r, err,
	    sizeof(err)), 0);
	assert_memory_equal(d.head, before, sizeof(before));
	gpt_relocation_free(&r);
	mbr_build(d.head, oversized, ARRAY_SIZE(oversized));
	assert_int_equal(gpt_relocate(d.head, d.head_len, 300000 * 512ull, 512, &r, err,
	    sizeof(err)), 0);
	assert_int_equal(get_le32(d.head + 446 + 12), 299999);
	gpt_relocation_free(&r);
	gpt_free(&d);
}

static void
test_relocate_damaged(void **state)
{
	struct gpt_disk d;
	struct gpt_relocation r;
	char err[200];

	(void)state;
	gpt_build(&d, 512, SOURCE_SECTORS, two_parts, ARRAY_SIZE(two_parts));
	d.head[512 + 60] ^= 1;                  /* header CRC */
	assert_int_equal(gpt_relocate(d.head, d.head_len, 1ull << 30, 512, &r, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "header CRC"));
	d.head[512 + 60] ^= 1;
	d.head[2 * 512 + 100] ^= 1;             /* an entry's name */
	assert_int_equal(gpt_relocate(d.head, d.head_len, 1ull << 30, 512, &r, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "entries CRC"));
	d.head[2 * 512 + 100] ^= 1;
	assert_int_equal(gpt_relocate(d.head, d.head_len, 1ull << 30, 520, &r, err,
	    sizeof(err)), -EINVAL);
	assert_int_equal(gpt_relocate(d.head, d.head_len, 1ull << 30, 512, &r, err,
	    sizeof(err)), 0);
	gpt_relocation_free(&r);
	gpt_free(&d);
}

/* Every prefix of a head relocates or fails cleanly (ASan: no over-read). */
static void
test_relocate_every_truncation(void **state)
{
	struct gpt_disk d;

	(void)state;
	gpt_build(&d, 512, SOURCE_SECTORS, two_parts, ARRAY_SIZE(two_parts));
	for (size_t len = 0; len <= d.head_len; len += 37) {
		uint8_t *head = exact_copy(d.head, len);
		struct gpt_relocation r;
		int rc = gpt_relocate(head, len, 1ull << 30, 512, &r, NULL, 0);

		assert_int_equal(rc, len >= 34 * 512 ? 0 : -EINVAL);
		gpt_relocation_free(&r);
		free(head);
	}
	gpt_free(&d);
}

/* ---- sgdisk's opinion, on disk files ---- */

/* The output of sgdisk -v on a file, in out. */
static void
sgdisk_verify(const char *file, char *out, size_t size)
{
	char cmd[256];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "PATH=$PATH:/usr/sbin:/sbin sgdisk -v %s 2>&1", file);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	pclose(p);
}

/* source.img's head relocated into a blank file of mib MiB. */
static void
relocate_to_file(const char *file, unsigned mib, bool relocate)
{
	uint8_t head[34 * 512];
	struct gpt_relocation r;
	char cmd[128], err[200] = "";
	int src = open("source.img", O_RDONLY), dst;

	snprintf(cmd, sizeof(cmd), "rm -f %s && truncate -s %uM %s", file, mib, file);
	assert_int_equal(system(cmd), 0);
	dst = open(file, O_WRONLY);
	assert_true(src >= 0 && dst >= 0);
	assert_int_equal(image_pread(src, head, sizeof(head), 0), 0);
	if (relocate) {
		if (gpt_relocate(head, sizeof(head), (uint64_t)mib << 20, 512, &r, err,
		    sizeof(err)) != 0)
			fail_msg("%u MiB: %s", mib, err);
		assert_int_equal(pwrite(dst, r.tail, r.tail_len, (off_t)r.tail_offset),
		    (ssize_t)r.tail_len);
		gpt_relocation_free(&r);
	}
	assert_int_equal(pwrite(dst, head, sizeof(head), 0), (ssize_t)sizeof(head));
	close(src);
	close(dst);
}

static void
test_relocate_sgdisk(void **state)
{
	char dir[] = "/tmp/pxed-gpt-XXXXXX", out[4096];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(system("truncate -s 64M source.img && PATH=$PATH:/usr/sbin:/sbin "
	    "sgdisk -n 1:2048:+20M -n 2:0:+20M source.img >/dev/null"), 0);
	sgdisk_verify("source.img", out, sizeof(out));
	assert_non_null(strstr(out, "No problems found"));
	/* the head alone on a larger disk: sgdisk sees the damage */
	relocate_to_file("copied.img", 1088, false);
	sgdisk_verify("copied.img", out, sizeof(out));
	if (strstr(out, "No problems found") != NULL)
		fail_msg("sgdisk -v finds no problem in an unrelocated copy: %s", out);
	relocate_to_file("larger.img", 1088, true);
	sgdisk_verify("larger.img", out, sizeof(out));
	if (strstr(out, "No problems found") == NULL)
		fail_msg("larger: %s", out);
	relocate_to_file("smaller.img", 48, true);
	sgdisk_verify("smaller.img", out, sizeof(out));
	if (strstr(out, "No problems found") == NULL)
		fail_msg("smaller: %s", out);
	assert_int_equal(system("rm -f source.img copied.img larger.img smaller.img"), 0);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- the last partition grown (ptable_grow_last) ---- */

/* The table of file grown in place; 0 or the error. */
static int
grow_file(const char *file, enum ptable_kind kind, struct ptable_growth *g)
{
	uint8_t head[34 * 512];
	char err[200] = "";
	int fd = open(file, O_RDWR), rc;
	off_t size = lseek(fd, 0, SEEK_END);

	assert_true(fd >= 0);
	assert_int_equal(image_pread(fd, head, sizeof(head), 0), 0);
	rc = ptable_grow_last(head, sizeof(head), kind, (uint64_t)size, 512, g, err,
	    sizeof(err));
	if (rc == 0 && g->gpt.tail != NULL)
		assert_int_equal(pwrite(fd, g->gpt.tail, g->gpt.tail_len,
		    (off_t)g->gpt.tail_offset), (ssize_t)g->gpt.tail_len);
	if (rc == 0)
		assert_int_equal(pwrite(fd, head, sizeof(head), 0), (ssize_t)sizeof(head));
	close(fd);
	return rc;
}

static void
test_grow_last(void **state)
{
	char dir[] = "/tmp/pxed-grow-XXXXXX", out[4096];
	struct ptable_growth g;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	/* GPT: partition 2 (of 2) grows to the last usable sector */
	assert_int_equal(system("truncate -s 64M g.img && PATH=$PATH:/usr/sbin:/sbin "
	    "sgdisk -n 1:2048:+20M -n 2:0:+20M g.img >/dev/null"), 0);
	assert_int_equal(grow_file("g.img", PTABLE_GPT, &g), 0);
	assert_int_equal(g.index, 2);
	assert_int_equal(g.old_length, 20u << 20);
	assert_int_equal(g.offset + g.new_length, (64u << 20) - 33 * 512);
	ptable_growth_free(&g);
	sgdisk_verify("g.img", out, sizeof(out));
	if (strstr(out, "No problems found") == NULL)
		fail_msg("grown GPT: %s", out);
	/* again: nothing left to grow */
	assert_int_equal(grow_file("g.img", PTABLE_GPT, &g), 0);
	assert_int_equal(g.new_length, g.old_length);
	ptable_growth_free(&g);
	/* MBR: the last primary grows to the disk's end; sfdisk agrees */
	assert_int_equal(system("truncate -s 64M m.img && printf 'label: dos\\n,8M,83\\n"
	    ",8M,7\\n' | PATH=$PATH:/usr/sbin:/sbin sfdisk -q m.img >/dev/null"), 0);
	assert_int_equal(grow_file("m.img", PTABLE_MBR, &g), 0);
	assert_int_equal(g.index, 2);
	assert_int_equal(g.offset + g.new_length, 64u << 20);
	assert_int_equal(system("PATH=$PATH:/usr/sbin:/sbin sfdisk -d m.img | "
	    "grep -q 'm.img2 : start=       18432, size=      112640, type=7'"), 0);
	/* a logical last partition is left alone */
	assert_int_equal(system("truncate -s 64M l.img && printf 'label: dos\\n,8M,83\\n"
	    ",,5\\n,8M,83\\n' | PATH=$PATH:/usr/sbin:/sbin sfdisk -q l.img >/dev/null"), 0);
	assert_int_equal(grow_file("l.img", PTABLE_MBR, &g), -ENOTSUP);
	assert_int_equal(system("rm -f g.img m.img l.img"), 0);
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relocate_larger),
		cmocka_unit_test(test_relocate_smaller),
		cmocka_unit_test(test_relocate_refused),
		cmocka_unit_test(test_relocate_mbr_entries),
		cmocka_unit_test(test_relocate_damaged),
		cmocka_unit_test(test_relocate_every_truncation),
		cmocka_unit_test(test_relocate_sgdisk),
		cmocka_unit_test(test_grow_last),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
