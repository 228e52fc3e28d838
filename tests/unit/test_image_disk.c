/* Unit tests for src/image: partition tables from tables of hand-built
 * buffers (each in a heap block of exactly its length, so ASan sees any
 * over-read), then used-block maps of real filesystems made here with
 * mkfs.ext4, mkntfs + ntfscp, mkfs.vfat + mcopy, mkswap, and whole disks
 * made with sgdisk and sfdisk.  Nothing is mounted; no root is needed.
 * A missing tool is a failure: make check installs them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/util.h"
#include "image/disk.h"
#include "image/fsfile.h"
#include "image/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpt_build.h"

#define SS              512u
#define MiB             (1024u * 1024u)
#define GPT_ENTRY_SECTORS (GPT_ENTRIES * GPT_ENTRY_SIZE / SS)

/* ---- ptable tests ---- */

static int
parse_mbr_parts(const struct mbr_part *p, size_t n, size_t head_len,
    uint64_t disk_sectors, struct disk_layout *l)
{
	uint8_t sector[SS];
	uint8_t *head = malloc(head_len);
	char err[200] = "";
	int rc;

	assert_non_null(head);
	mbr_build(sector, p, n);
	memcpy(head, sector, MIN(head_len, (size_t)SS));
	rc = disk_parse_layout(head, head_len, NULL, 0, disk_sectors * SS, SS, l,
	    err, sizeof(err));
	if (rc != 0)
		assert_true(err[0] != '\0');
	free(head);
	return rc;
}

static void
test_mbr_two_primaries(void **state)
{
	static struct disk_layout l;
	const struct mbr_part p[] = { { 0x83, 2048, 4096 }, { 0x07, 8192, 1000 } };

	(void)state;
	assert_int_equal(parse_mbr_parts(p, 2, SS, 10000, &l), 0);
	assert_int_equal(l.kind, PTABLE_MBR);
	assert_int_equal(l.nparts, 2);
	assert_int_equal(l.part[0].index, 1);
	assert_int_equal(l.part[0].offset, 2048 * SS);
	assert_int_equal(l.part[0].length, 4096 * SS);
	assert_int_equal(l.part[0].mbr_type, 0x83);
	assert_int_equal(l.part[1].index, 2);
	assert_int_equal(l.part[1].offset, 8192 * SS);
	assert_int_equal(l.part[1].mbr_type, 0x07);
	assert_int_equal(l.ntable, 1);
	assert_int_equal(l.table[0].offset, 0);
	assert_int_equal(l.table[0].length, SS);
	assert_int_equal(l.extended_length, 0);
}

struct mbr_case {
	const char *name;
	struct mbr_part p[4];
	size_t n;
	size_t head_len;
	int rc;
	enum ptable_kind kind;
	size_t nparts;
};

static const struct mbr_case mbr_cases[] = {
	{ "empty table", { { 0 } }, 0, SS, 0, PTABLE_NONE, 0 },
	{ "past the end", { { 0x83, 2048, 8000 } }, 1, SS, -EINVAL, PTABLE_MBR, 0 },
	{ "starts at 0", { { 0x83, 0, 100 } }, 1, SS, -EINVAL, PTABLE_MBR, 0 },
	{ "overlap", { { 0x83, 2048, 4096 }, { 0x83, 6000, 100 } }, 2, SS,
	    -EINVAL, PTABLE_MBR, 0 },
	{ "touching", { { 0x83, 2048, 4096 }, { 0x83, 6144, 100 } }, 2, SS, 0,
	    PTABLE_MBR, 2 },
	{ "zero count ignored", { { 0x83, 2048, 0 }, { 0x83, 4096, 10 } }, 2, SS,
	    0, PTABLE_MBR, 1 },
	{ "extended", { { 0x83, 2048, 100 }, { 0x05, 4096, 4000 } }, 2, SS, 0,
	    PTABLE_MBR, 1 },
	{ "two extended", { { 0x05, 2048, 100 }, { 0x0f, 4096, 100 } }, 2, SS,
	    -EINVAL, PTABLE_MBR, 0 },
	{ "primary in extended", { { 0x05, 2048, 4000 }, { 0x83, 3000, 10 } }, 2,
	    SS, -EINVAL, PTABLE_MBR, 0 },
	{ "truncated head", { { 0x83, 2048, 100 } }, 1, 511, 0, PTABLE_NONE, 0 },
	{ "tiny head", { { 0x83, 2048, 100 } }, 1, 1, 0, PTABLE_NONE, 0 },
};

static void
test_mbr_table(void **state)
{
	static struct disk_layout l;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(mbr_cases); i++) {
		const struct mbr_case *c = &mbr_cases[i];
		int rc = parse_mbr_parts(c->p, c->n, c->head_len, 10000, &l);

		if (rc != c->rc || l.kind != c->kind ||
		    (rc == 0 && l.nparts != c->nparts))
			fail_msg("%s: rc %d kind %d nparts %zu", c->name, rc, l.kind,
			    l.nparts);
	}
}

static void
test_mbr_not_a_table(void **state)
{
	static struct disk_layout l;
	uint8_t *head = calloc(1, SS);
	const struct mbr_part p[] = { { 0x83, 2048, 4096 } };

	(void)state;
	assert_non_null(head);
	/* no signature */
	assert_int_equal(disk_parse_layout(head, SS, NULL, 0, MiB, SS, &l, NULL,
	    0), 0);
	assert_int_equal(l.kind, PTABLE_NONE);
	/* a boot sector: bad boot flag */
	mbr_build(head, p, 1);
	head[446] = 0x12;
	assert_int_equal(disk_parse_layout(head, SS, NULL, 0, 10 * MiB, SS, &l,
	    NULL, 0), 0);
	assert_int_equal(l.kind, PTABLE_NONE);
	/* bad sector size */
	assert_int_equal(disk_parse_layout(head, SS, NULL, 0, 10 * MiB, 520, &l,
	    NULL, 0), -EINVAL);
	free(head);
}

static int
parse_gpt(const struct gpt_disk *d, bool with_tail, struct disk_layout *l,
    char *err, size_t errlen)
{
	err[0] = '\0';
	return disk_parse_layout(d->head, d->head_len, with_tail ? d->tail : NULL,
	    with_tail ? d->tail_len : 0, d->sectors * d->ss, d->ss, l, err,
	    errlen);
}

static void
check_gpt_good(uint32_t ss)
{
	static struct disk_layout l;
	uint64_t sectors = 100000;
	uint32_t es = GPT_ENTRIES * GPT_ENTRY_SIZE / ss;
	const struct gpt_part p[] = { { 2048, 4095 }, { 4096, 50000 },
	    { 60000, sectors - 2 - es } };
	struct gpt_disk d;
	char err[200];

	gpt_build(&d, ss, sectors, p, 3);
	if (parse_gpt(&d, true, &l, err, sizeof(err)) != 0)
		fail_msg("sector size %u: %s", ss, err);
	assert_int_equal(l.kind, PTABLE_GPT);
	assert_int_equal(l.sector_size, ss);
	assert_int_equal(l.nparts, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(l.part[i].index, i + 1);
		assert_int_equal(l.part[i].offset, p[i].first * ss);
		assert_int_equal(l.part[i].length, (p[i].last - p[i].first + 1) * ss);
		assert_int_equal(l.part[i].gpt_type[0], 0x11 + i);
		assert_int_equal(l.part[i].mbr_type, 0);
	}
	assert_int_equal(l.ntable, 2);
	assert_int_equal(l.table[0].offset, 0);
	assert_int_equal(l.table[0].length, (2 + es) * ss);
	assert_int_equal(l.table[1].offset, (sectors - 1 - es) * ss);
	assert_int_equal(l.table[1].length, (es + 1) * ss);
	/* without the tail: the same */
	assert_int_equal(parse_gpt(&d, false, &l, err, sizeof(err)), 0);
	assert_int_equal(l.nparts, 3);
	gpt_free(&d);
}

static void
test_gpt_good(void **state)
{
	(void)state;
	check_gpt_good(512);
	check_gpt_good(4096);
}

enum gpt_damage {
	DAMAGE_HEADER_CRC,
	DAMAGE_ENTRIES_CRC,
	DAMAGE_PAST_END,
	DAMAGE_OVERLAP,
	DAMAGE_REVERSED,
	DAMAGE_SIGNATURE,
	DAMAGE_BACKUP_CRC,
	DAMAGE_BACKUP_ENTRIES,
	DAMAGE_HEADER_SIZE,
	DAMAGE_TRUNCATE_ENTRIES,
	DAMAGE_TRUNCATE_HEADER,
	DAMAGE_SHORT_TAIL,
};

struct gpt_case {
	const char *name;
	enum gpt_damage damage;
	bool with_tail;
};

static const struct gpt_case gpt_cases[] = {
	{ "header CRC", DAMAGE_HEADER_CRC, false },
	{ "entries CRC", DAMAGE_ENTRIES_CRC, false },
	{ "partition past the usable end", DAMAGE_PAST_END, false },
	{ "overlapping partitions", DAMAGE_OVERLAP, false },
	{ "last before first", DAMAGE_REVERSED, false },
	{ "no signature", DAMAGE_SIGNATURE, false },
	{ "backup header CRC", DAMAGE_BACKUP_CRC, true },
	{ "backup entries CRC", DAMAGE_BACKUP_ENTRIES, true },
	{ "header size", DAMAGE_HEADER_SIZE, false },
	{ "head without all entries", DAMAGE_TRUNCATE_ENTRIES, false },
	{ "head of one sector", DAMAGE_TRUNCATE_HEADER, false },
	{ "tail of half a sector", DAMAGE_SHORT_TAIL, true },
};

static void
gpt_set_part(struct gpt_disk *d, size_t i, uint64_t first, uint64_t last)
{
	uint8_t *e = d->head + 2 * d->ss + i * GPT_ENTRY_SIZE;

	put_le64(e + 32, first);
	put_le64(e + 40, last);
	gpt_reseal(d);
}

static void
gpt_damage(struct gpt_disk *d, enum gpt_damage damage)
{
	switch (damage) {
	case DAMAGE_HEADER_CRC:
		d->head[d->ss + 60] ^= 1;               /* disk GUID */
		break;
	case DAMAGE_ENTRIES_CRC:
		d->head[2 * d->ss + 100] ^= 1;          /* a name */
		break;
	case DAMAGE_PAST_END:
		gpt_set_part(d, 1, 4096, d->sectors - 10);
		break;
	case DAMAGE_OVERLAP:
		gpt_set_part(d, 1, 4000, 5000);
		break;
	case DAMAGE_REVERSED:
		gpt_set_part(d, 1, 5000, 4500);
		break;
	case DAMAGE_SIGNATURE:
		d->head[d->ss] = 'X';
		break;
	case DAMAGE_BACKUP_CRC:
		d->tail[d->tail_len - d->ss + 60] ^= 1;
		break;
	case DAMAGE_BACKUP_ENTRIES:
		d->tail[5] ^= 1;
		break;
	case DAMAGE_HEADER_SIZE:
		put_le32(d->head + d->ss + 12, d->ss + 1);
		break;
	case DAMAGE_TRUNCATE_ENTRIES:
		d->head_len = 20 * d->ss;
		break;
	case DAMAGE_TRUNCATE_HEADER:
		d->head_len = d->ss;
		break;
	case DAMAGE_SHORT_TAIL:
		d->tail_len = d->ss / 2;
		break;
	}
}

static void
test_gpt_damaged(void **state)
{
	static struct disk_layout l;
	const struct gpt_part p[] = { { 2048, 4095 }, { 4096, 50000 } };
	char err[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(gpt_cases); i++) {
		const struct gpt_case *c = &gpt_cases[i];
		struct gpt_disk d;
		uint8_t *head, *tail;
		int rc;

		gpt_build(&d, SS, 100000, p, 2);
		gpt_damage(&d, c->damage);
		head = exact_copy(d.head, d.head_len);
		tail = exact_copy(d.tail + (33 * SS - d.tail_len), d.tail_len);
		err[0] = '\0';
		rc = disk_parse_layout(head, d.head_len, c->with_tail ? tail : NULL,
		    c->with_tail ? d.tail_len : 0, d.sectors * SS, SS, &l, err,
		    sizeof(err));
		if (rc != -EINVAL || err[0] == '\0')
			fail_msg("%s: rc %d, err \"%s\"", c->name, rc, err);
		free(head);
		free(tail);
		gpt_free(&d);
	}
}

/* Every prefix of a valid GPT head parses or fails cleanly. */
static void
test_gpt_every_truncation(void **state)
{
	static struct disk_layout l;
	const struct gpt_part p[] = { { 2048, 4095 } };
	struct gpt_disk d;

	(void)state;
	gpt_build(&d, SS, 100000, p, 1);
	for (size_t len = 0; len <= d.head_len; len += 61) {
		uint8_t *head = exact_copy(d.head, len);
		int rc = disk_parse_layout(head, len, NULL, 0, d.sectors * SS, SS, &l,
		    NULL, 0);
		assert_true(rc == 0 || rc == -EINVAL);
		if (len >= 34 * SS)
			assert_int_equal(rc, 0);
		free(head);
	}
	gpt_free(&d);
}

/* ---- real images ---- */

static char tmpdir[64];

static int
setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pxed-disk-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown_tmp(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
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
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full),
	    "cd '%s' && PATH=/usr/sbin:/sbin:/usr/bin:/bin; export PATH; %s",
	    tmpdir, cmd);
	rc = system(full);
	if (rc != 0)
		fail_msg("command failed (%d): %s", rc, cmd);
}

static const char *
path_in_tmp(const char *name)
{
	static char path[2][256];
	static int which;

	which ^= 1;
	snprintf(path[which], sizeof(path[which]), "%s/%s", tmpdir, name);
	return path[which];
}

static void
write_file(const char *name, const void *data, size_t len)
{
	FILE *f = fopen(path_in_tmp(name), "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A source file: a unique marker, then some pseudo-random bytes. */
static void
write_marker_file(const char *name, const char *marker, size_t len)
{
	uint8_t *buf = malloc(len);
	uint32_t x = 12345;

	assert_non_null(buf);
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	memcpy(buf, marker, strlen(marker));
	write_file(name, buf, len);
	free(buf);
}

/* Offset of the first copy of marker in [from, from+len) of fd. */
static uint64_t
find_marker(int fd, uint64_t from, uint64_t len, const char *marker)
{
	size_t chunk = 4 * MiB, mlen = strlen(marker);
	uint8_t *buf = malloc(chunk + mlen);

	assert_non_null(buf);
	for (uint64_t pos = from; pos < from + len; pos += chunk) {
		ssize_t n = pread(fd, buf, chunk + mlen, (off_t)pos);
		assert_true(n >= 0);
		uint8_t *hit = memmem(buf, (size_t)n, marker, mlen);
		if (hit != NULL) {
			uint64_t at = pos + (uint64_t)(hit - buf);
			free(buf);
			return at;
		}
	}
	free(buf);
	fail_msg("marker %s not found", marker);
	return 0;
}

static bool
covered(const struct extent_list *l, uint64_t at)
{
	for (size_t i = 0; i < l->n; i++)
		if (at >= l->v[i].offset && at < l->v[i].offset + l->v[i].length)
			return true;
	return false;
}

/* Sorted, apart (merged when touching), inside [offset, offset+length). */
static void
check_extents(const struct extent_list *l, uint64_t offset, uint64_t length)
{
	for (size_t i = 0; i < l->n; i++) {
		assert_true(l->v[i].length > 0);
		assert_true(l->v[i].offset >= offset);
		assert_true(l->v[i].offset + l->v[i].length <= offset + length);
		if (i > 0)
			assert_true(l->v[i - 1].offset + l->v[i - 1].length <
			    l->v[i].offset);
	}
}

/* fs_used_extents on [offset, offset+length) of the file; checks the
 * kind, the shape of the list, used < max_percent of the partition and,
 * when marker is given, that its first byte is in a used extent. */
static void
check_used(const char *image, uint64_t offset, uint64_t length,
    enum fs_kind want, unsigned max_percent, const char *marker)
{
	struct extent_list l = { 0 };
	enum fs_kind kind;
	char err[256] = "";
	int fd = open(path_in_tmp(image), O_RDONLY | O_CLOEXEC);
	int rc;

	assert_true(fd >= 0);
	rc = fs_used_extents(fd, offset, length, &kind, &l, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s: %s", image, err);
	assert_int_equal(kind, want);
	check_extents(&l, offset, length);
	assert_true(extent_list_bytes(&l) * 100 <= length * max_percent);
	if (marker != NULL)
		assert_true(covered(&l, find_marker(fd, offset, length, marker)));
	assert_true(covered(&l, offset));               /* boot sector, superblock */
	if (want == FS_NTFS)                            /* backup boot sector */
		assert_true(covered(&l, offset + length - 512));
	print_message("%s (%s): %llu of %llu bytes used in %zu extents\n", image,
	    fs_kind_name(kind), (unsigned long long)extent_list_bytes(&l),
	    (unsigned long long)length, l.n);
	extent_list_free(&l);
	close(fd);
}

static void
make_ext4(const char *image, const char *size)
{
	run("rm -rf extsrc && mkdir -p extsrc/sub");
	write_marker_file("extsrc/hello.bin", "PXED-EXT-MARKER-1f3a9c", 300000);
	write_marker_file("extsrc/sub/small.txt", "PXED-EXT-SMALL-77a1", 100);
	run("mkfs.ext4 -q -F -d extsrc %s %s >/dev/null", image, size);
}

static void
make_fat(const char *image, unsigned kib, const char *options)
{
	write_marker_file("fatsrc.bin", "PXED-FAT-MARKER-5e2b71", 200000);
	run("rm -f %s && mkfs.vfat %s -C %s %u >/dev/null && "
	    "mcopy -i %s fatsrc.bin ::/data.bin", image, options, image, kib, image);
}

static void
test_used_ext4(void **state)
{
	(void)state;
	make_ext4("ext.img", "64M");
	check_used("ext.img", 0, 64 * MiB, FS_EXT, 20, "PXED-EXT-MARKER-1f3a9c");
	check_used("ext.img", 0, 64 * MiB, FS_EXT, 20, "PXED-EXT-SMALL-77a1");
	/* 1 KiB blocks: block 0 is outside the bitmap, still used */
	run("rm -f ext1k.img && mkfs.ext4 -q -F -b 1024 -d extsrc ext1k.img 16M >/dev/null");
	check_used("ext1k.img", 0, 16 * MiB, FS_EXT, 40, "PXED-EXT-MARKER-1f3a9c");
}

static void
test_used_ext_bigalloc(void **state)
{
	(void)state;
	run("rm -f big.img && mkfs.ext4 -q -F -O bigalloc -C 65536 -d extsrc "
	    "big.img 128M >/dev/null 2>&1");
	check_used("big.img", 0, 128 * MiB, FS_EXT, 40, "PXED-EXT-MARKER-1f3a9c");
}

static void
test_used_ntfs(void **state)
{
	(void)state;
	write_marker_file("ntfssrc.bin", "PXED-NTFS-MARKER-c0ffee", 500000);
	run("rm -f ntfs.img && truncate -s 64M ntfs.img && "
	    "mkntfs -F -Q -q ntfs.img 2>/dev/null && ntfscp ntfs.img ntfssrc.bin data.bin");
	check_used("ntfs.img", 0, 64 * MiB, FS_NTFS, 25, "PXED-NTFS-MARKER-c0ffee");
}

static void
test_used_fat(void **state)
{
	(void)state;
	make_fat("fat12.img", 1024, "");
	check_used("fat12.img", 0, MiB, FS_FAT, 40, "PXED-FAT-MARKER-5e2b71");
	make_fat("fat16.img", 32 * 1024, "-F 16");
	check_used("fat16.img", 0, 32 * MiB, FS_FAT, 10, "PXED-FAT-MARKER-5e2b71");
	make_fat("fat32.img", 64 * 1024, "-F 32");
	check_used("fat32.img", 0, 64 * MiB, FS_FAT, 10, "PXED-FAT-MARKER-5e2b71");
}

static void
test_used_swap(void **state)
{
	struct extent_list l = { 0 };
	enum fs_kind kind;
	int fd;

	(void)state;
	run("rm -f swap.img && truncate -s 8M swap.img && mkswap -q swap.img");
	fd = open(path_in_tmp("swap.img"), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fs_used_extents(fd, 0, 8 * MiB, &kind, &l, NULL, 0), 0);
	assert_int_equal(kind, FS_SWAP);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].offset, 0);
	assert_int_equal(l.v[0].length, sysconf(_SC_PAGESIZE));
	extent_list_free(&l);
	close(fd);
}

static void
test_used_unknown(void **state)
{
	struct extent_list l = { 0 };
	enum fs_kind kind;
	uint8_t noise[100];
	int fd;

	(void)state;
	run("rm -f raw.img && truncate -s 9M raw.img");
	fd = open(path_in_tmp("raw.img"), O_RDWR);
	assert_true(fd >= 0);
	/* all zero: nothing used */
	assert_int_equal(fs_used_extents(fd, 1 * MiB, 8 * MiB, &kind, &l, NULL, 0),
	    0);
	assert_int_equal(kind, FS_UNKNOWN);
	assert_int_equal(l.n, 0);
	/* 100 bytes at 5 MiB + 300000: the 64 KiB block holding them */
	memset(noise, 0x5a, sizeof(noise));
	assert_int_equal(pwrite(fd, noise, sizeof(noise), 5 * MiB + 300000),
	    (ssize_t)sizeof(noise));
	assert_int_equal(fs_used_extents(fd, 1 * MiB, 8 * MiB, &kind, &l, NULL, 0),
	    0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].offset, 1 * MiB + (4 * MiB + 300000) / 65536 * 65536);
	assert_int_equal(l.v[0].length, 65536);
	/* a partition whose length is not a multiple of 64 KiB, noise at the end */
	extent_list_free(&l);
	assert_int_equal(pwrite(fd, noise, 1, 9 * MiB - 1), 1);
	assert_int_equal(fs_used_extents(fd, 1 * MiB, 8 * MiB - 1000, &kind, &l,
	    NULL, 0), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(fs_used_extents(fd, 1 * MiB + 8 * MiB - 1000, 1000, &kind,
	    &l, NULL, 0), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[1].offset, 9 * MiB - 1000);
	assert_int_equal(l.v[1].length, 1000);
	/* out of order is refused */
	assert_int_equal(fs_used_extents(fd, 0, MiB, &kind, &l, NULL, 0), -EINVAL);
	extent_list_free(&l);
	close(fd);
}

/* A damaged ext superblock (magic kept) is an error, not a block scan. */
static void
test_used_ext_damaged(void **state)
{
	struct extent_list l = { 0 };
	enum fs_kind kind;
	char err[256] = "";
	uint8_t junk[64];
	int fd;

	(void)state;
	run("rm -f bad.img && cp ext.img bad.img");
	fd = open(path_in_tmp("bad.img"), O_RDWR);
	assert_true(fd >= 0);
	memset(junk, 0xff, sizeof(junk));
	assert_int_equal(pwrite(fd, junk, 32, 1024), 32);      /* counts, sizes */
	assert_true(fs_used_extents(fd, 0, 64 * MiB, &kind, &l, err,
	    sizeof(err)) < 0);
	assert_int_equal(kind, FS_EXT);
	assert_true(err[0] != '\0');
	/* a partition shorter than the filesystem */
	close(fd);
	fd = open(path_in_tmp("ext.img"), O_RDONLY);
	assert_true(fd >= 0);
	assert_true(fs_used_extents(fd, 0, 32 * MiB, &kind, &l, err,
	    sizeof(err)) < 0);
	assert_non_null(strstr(err, "larger"));
	extent_list_free(&l);
	close(fd);
}

static void
test_disk_gpt_sgdisk(void **state)
{
	static struct disk_layout l;
	char err[256] = "";
	int fd;

	(void)state;
	make_ext4("p1.img", "64M");
	make_fat("p2.img", 32 * 1024, "-F 16");
	run("rm -f disk.img && truncate -s 200M disk.img && "
	    "sgdisk -n 1:2048:+64M -t 1:8300 -n 2:133120:+32M -t 2:0700 disk.img "
	    ">/dev/null && "
	    "dd if=p1.img of=disk.img bs=1M seek=1 conv=notrunc status=none && "
	    "dd if=p2.img of=disk.img bs=512 seek=133120 conv=notrunc status=none");
	fd = open(path_in_tmp("disk.img"), O_RDONLY);
	assert_true(fd >= 0);
	if (disk_read_layout(fd, &l, err, sizeof(err)) != 0)
		fail_msg("disk_read_layout: %s", err);
	assert_int_equal(l.kind, PTABLE_GPT);
	assert_int_equal(l.disk_size, 200 * MiB);
	assert_int_equal(l.nparts, 2);
	assert_int_equal(l.part[0].index, 1);
	assert_int_equal(l.part[0].offset, 2048 * SS);
	assert_int_equal(l.part[0].length, 64 * MiB);
	assert_int_equal(l.part[1].index, 2);
	assert_int_equal(l.part[1].offset, 133120ull * SS);
	assert_int_equal(l.part[1].length, 32 * MiB);
	/* Linux filesystem data GUID 0FC63DAF-8483-4772-..., stored mixed-endian */
	assert_int_equal(l.part[0].gpt_type[0], 0xaf);
	assert_int_equal(l.part[0].gpt_type[3], 0x0f);
	assert_int_equal(l.ntable, 2);
	assert_int_equal(l.table[0].offset, 0);
	assert_int_equal(l.table[0].length, 34 * SS);
	assert_int_equal(l.table[1].offset, 200 * MiB - 33 * SS);
	assert_int_equal(l.table[1].length, 33 * SS);
	close(fd);
	check_used("disk.img", l.part[0].offset, l.part[0].length, FS_EXT, 20,
	    "PXED-EXT-MARKER-1f3a9c");
	check_used("disk.img", l.part[1].offset, l.part[1].length, FS_FAT, 10,
	    "PXED-FAT-MARKER-5e2b71");
}

static void
test_disk_mbr_logical(void **state)
{
	static struct disk_layout l;
	char err[256] = "";
	int fd;

	(void)state;
	run("rm -f dos.img && truncate -s 64M dos.img && printf '%%s\\n' "
	    "'label: dos' 'start=2048, size=20480, type=83' "
	    "'start=22528, size=100000, type=5' 'start=24576, size=20480, type=83' "
	    "'start=47104, size=20480, type=82' | sfdisk -q dos.img");
	fd = open(path_in_tmp("dos.img"), O_RDONLY);
	assert_true(fd >= 0);
	if (disk_read_layout(fd, &l, err, sizeof(err)) != 0)
		fail_msg("disk_read_layout: %s", err);
	assert_int_equal(l.kind, PTABLE_MBR);
	assert_int_equal(l.extended_offset, 22528 * SS);
	assert_int_equal(l.extended_length, 100000 * SS);
	assert_int_equal(l.nparts, 3);
	assert_int_equal(l.part[0].index, 1);
	assert_int_equal(l.part[1].index, 5);
	assert_int_equal(l.part[1].offset, 24576 * SS);
	assert_int_equal(l.part[1].length, 20480 * SS);
	assert_int_equal(l.part[1].mbr_type, 0x83);
	assert_int_equal(l.part[2].index, 6);
	assert_int_equal(l.part[2].offset, 47104 * SS);
	assert_int_equal(l.part[2].mbr_type, 0x82);
	assert_int_equal(l.ntable, 3);                  /* MBR + 2 EBRs */
	for (size_t i = 1; i < l.ntable; i++) {
		assert_true(l.table[i - 1].offset < l.table[i].offset);
		assert_true(l.table[i].offset >= l.extended_offset);
		assert_int_equal(l.table[i].length, SS);
	}
	close(fd);
}

/* An EBR whose link points back at itself: refused, not followed forever. */
static void
test_disk_mbr_ebr_loop(void **state)
{
	static struct disk_layout l;
	const struct mbr_part mbr[] = { { 0x05, 2048, 10000 } };
	const struct mbr_part ebr[] = { { 0x83, 2048, 100 }, { 0x05, 0, 10 } };
	uint8_t sector[SS];
	char err[256] = "";
	int fd;

	(void)state;
	run("rm -f loop.img && truncate -s 8M loop.img");
	fd = open(path_in_tmp("loop.img"), O_RDWR);
	assert_true(fd >= 0);
	mbr_build(sector, mbr, 1);
	assert_int_equal(pwrite(fd, sector, SS, 0), SS);
	mbr_build(sector, ebr, 2);
	assert_int_equal(pwrite(fd, sector, SS, 2048 * SS), SS);
	assert_int_equal(disk_read_layout(fd, &l, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "loop"));
	close(fd);
}

/* The FAT reader over memory, as the fuzzer drives it. */
struct mem {
	const uint8_t *p;
	size_t len;
};

static int
mem_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
	const struct mem *m = ctx;

	if (offset > m->len || len > m->len - offset)
		return -EIO;
	memcpy(buf, m->p + offset, len);
	return 0;
}

static void
test_fat_from_memory(void **state)
{
	struct extent_list l = { 0 };
	struct stat st;
	uint8_t *img;
	struct mem m;
	int fd;

	(void)state;
	make_fat("fatmem.img", 1024, "");
	fd = open(path_in_tmp("fatmem.img"), O_RDONLY);
	assert_true(fd >= 0 && fstat(fd, &st) == 0);
	img = malloc((size_t)st.st_size);
	assert_non_null(img);
	assert_int_equal(pread(fd, img, (size_t)st.st_size, 0), st.st_size);
	m.p = img;
	m.len = (size_t)st.st_size;
	assert_true(fat_boot_sector_valid(img, m.len));
	assert_int_equal(fat_used_extents(mem_read, &m, 1000, m.len, &l, NULL, 0),
	    0);
	assert_true(l.n >= 1);
	assert_int_equal(l.v[0].offset, 1000);
	assert_true(extent_list_bytes(&l) < m.len / 2);
	/* shorter than the filesystem */
	extent_list_free(&l);
	assert_int_equal(fat_used_extents(mem_read, &m, 0, m.len / 2, &l, NULL, 0),
	    -EINVAL);
	/* a damaged BPB */
	img[13] = 3;                                    /* sectors per cluster */
	assert_false(fat_boot_sector_valid(img, m.len));
	extent_list_free(&l);
	free(img);
	close(fd);
}

static void
test_extent_list(void **state)
{
	struct extent_list l = { 0 };

	(void)state;
	assert_int_equal(extent_list_add(&l, 100, 10), 0);
	assert_int_equal(extent_list_add(&l, 110, 10), 0);     /* touching */
	assert_int_equal(extent_list_add(&l, 105, 30), 0);     /* overlapping */
	assert_int_equal(extent_list_add(&l, 120, 5), 0);      /* inside */
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].length, 35);
	assert_int_equal(extent_list_add(&l, 200, 0), 0);
	assert_int_equal(extent_list_add(&l, 200, 1), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(extent_list_add(&l, 150, 1), -EINVAL);
	assert_int_equal(extent_list_add(&l, UINT64_MAX, 2), -EINVAL);
	assert_int_equal(extent_list_bytes(&l), 36);
	extent_list_free(&l);
	assert_string_equal(fs_kind_name(FS_NTFS), "ntfs");
	assert_string_equal(fs_kind_name((enum fs_kind)99), "unknown");
}

/* ---- files inside FAT (fat_files.c) ---- */

/* Every file of tree/ is listed (long names) and reads back identical. */
static void
check_fat_files(const char *image)
{
	struct fs_entries files = { 0 };
	struct fs_volume *v;
	char err[256] = "", src[512];
	int fd = open(path_in_tmp(image), O_RDONLY);
	off_t len = lseek(fd, 0, SEEK_END);
	unsigned found = 0;

	assert_true(fd >= 0);
	if (fs_volume_open(fd, 0, (uint64_t)len, FS_FAT, false, &v, err, sizeof err) != 0)
		fail_msg("%s: %s", image, err);
	if (fs_walk(v, 1000, &files, err, sizeof err) != 0)
		fail_msg("%s: %s", image, err);
	for (size_t i = 0; i < files.n; i++) {
		struct fs_reader *r;
		uint64_t size;
		char *want, *got;
		snprintf(src, sizeof src, "%s/tree%s", tmpdir, files.v[i].path);
		int sfd = open(src, O_RDONLY);
		if (sfd < 0)
			fail_msg("%s: %s listed, not in the tree", image, files.v[i].path);
		assert_int_equal(fs_reader_open(v, files.v[i].id, &r, &size), 0);
		assert_int_equal(size, (uint64_t)lseek(sfd, 0, SEEK_END));
		want = malloc(size + 1);
		got = malloc(size + 1);
		assert_int_equal(pread(sfd, want, size, 0), (ssize_t)size);
		for (uint64_t at = 0; at < size;) {
			ssize_t n = fs_reader_pread(r, got + at, 1000, at);
			assert_true(n > 0);
			at += (uint64_t)n;
		}
		assert_memory_equal(got, want, size);
		free(want);
		free(got);
		close(sfd);
		fs_reader_close(r);
		found++;
	}
	assert_int_equal(found, 4);
	fs_entries_free(&files);
	fs_volume_close(v);
	close(fd);
}

static void
test_fat_files(void **state)
{
	(void)state;
	run("mkdir -p tree/Deep/er && head -c 300000 /dev/urandom > tree/Deep/er/random.bin && "
	    "printf 'short' > tree/A.TXT && printf 'long name' > 'tree/A Long Name.document' && "
	    ": > tree/Deep/empty");
	run("truncate -s 4M f12.img && mkfs.vfat -F 12 f12.img && mcopy -s -i f12.img tree/* ::/");
	run("truncate -s 20M f16.img && mkfs.vfat -F 16 f16.img && mcopy -s -i f16.img tree/* ::/");
	run("truncate -s 40M f32.img && mkfs.vfat -F 32 f32.img && mcopy -s -i f32.img tree/* ::/");
	check_fat_files("f12.img");
	check_fat_files("f16.img");
	check_fat_files("f32.img");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* pure: tables of buffers */
		cmocka_unit_test(test_extent_list),
		cmocka_unit_test(test_mbr_two_primaries),
		cmocka_unit_test(test_mbr_table),
		cmocka_unit_test(test_mbr_not_a_table),
		cmocka_unit_test(test_gpt_good),
		cmocka_unit_test(test_gpt_damaged),
		cmocka_unit_test(test_gpt_every_truncation),
		/* real images in the group's temporary directory */
		cmocka_unit_test(test_used_ext4),
		cmocka_unit_test(test_used_ext_bigalloc),
		cmocka_unit_test(test_used_ext_damaged),
		cmocka_unit_test(test_used_ntfs),
		cmocka_unit_test(test_used_fat),
		cmocka_unit_test(test_used_swap),
		cmocka_unit_test(test_used_unknown),
		cmocka_unit_test(test_fat_from_memory),
		cmocka_unit_test(test_fat_files),
		cmocka_unit_test(test_disk_gpt_sgdisk),
		cmocka_unit_test(test_disk_mbr_logical),
		cmocka_unit_test(test_disk_mbr_ebr_loop),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
