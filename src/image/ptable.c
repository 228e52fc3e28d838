/* Partition tables: MBR (four primary entries, and the EBR chain of an
 * extended partition) and GPT (primary header and entries checked by
 * CRC32, backup header at the end of the disk).
 *
 * disk_parse_layout is pure: buffers in, a struct disk_layout out, every
 * field read with a little-endian cursor after its length is known.
 * disk_read_layout is the I/O glue: sizes, preads, the EBR chain. */
#include <errno.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "core/cursor.h"
#include "core/util.h"
#include "image/disk.h"
#include "image/fs.h"
#include "image/gpt.h"

#define GPT_HEAD_SECTORS        34      /* MBR, header, 32 sectors of entries */
#define GPT_TAIL_SECTORS        33      /* 32 sectors of entries, header */

/* ---- helpers ---- */

static bool
sector_size_valid(uint32_t size)
{
	return size == 512 || size == 1024 || size == 2048 || size == 4096;
}

static bool
ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen > 0 && blen > 0 && a < b + blen && b < a + alen;
}

static bool
is_extended_type(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

static int
layout_add_table(struct disk_layout *out, uint64_t offset, uint64_t length)
{
	if (out->ntable == ARRAY_SIZE(out->table))
		return -EINVAL;
	out->table[out->ntable].offset = offset;
	out->table[out->ntable].length = length;
	out->ntable++;
	return 0;
}

static struct partition *
layout_add_part(struct disk_layout *out, unsigned index, uint64_t offset,
    uint64_t length)
{
	struct partition *p;

	if (out->nparts == DISK_MAX_PARTS)
		return NULL;
	p = &out->part[out->nparts++];
	memset(p, 0, sizeof(*p));
	p->index = index;
	p->offset = offset;
	p->length = length;
	return p;
}

static void
layout_sort_table(struct disk_layout *out)
{
	for (size_t i = 1; i < out->ntable; i++) {
		struct extent e = out->table[i];
		size_t j = i;

		for (; j > 0 && out->table[j - 1].offset > e.offset; j--)
			out->table[j] = out->table[j - 1];
		out->table[j] = e;
	}
}

/* No two partitions share a byte; no primary overlaps the extended
 * partition; no table sector lies inside a partition. */
static int
layout_check_overlaps(const struct disk_layout *out, char *err, size_t errlen)
{
	for (size_t i = 0; i < out->nparts; i++) {
		const struct partition *a = &out->part[i];

		for (size_t j = i + 1; j < out->nparts; j++) {
			const struct partition *b = &out->part[j];
			if (ranges_overlap(a->offset, a->length, b->offset, b->length)) {
				image_error(err, errlen, "partitions %u and %u overlap",
				    a->index, b->index);
				return -EINVAL;
			}
		}
		if (a->index <= 4 && ranges_overlap(a->offset, a->length,
		    out->extended_offset, out->extended_length)) {
			image_error(err, errlen, "partition %u overlaps the "
			    "extended partition", a->index);
			return -EINVAL;
		}
		for (size_t t = 0; t < out->ntable; t++) {
			if (ranges_overlap(a->offset, a->length,
			    out->table[t].offset, out->table[t].length)) {
				image_error(err, errlen, "partition %u overlaps "
				    "the partition table", a->index);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* ---- MBR ---- */

bool
mbr_read_entries(const uint8_t *sector, size_t len, struct mbr_entry e[4])
{
	struct cursor c;
	bool ok = true;

	if (len < MBR_SIZE || sector[MBR_SIGNATURE_AT] != 0x55 ||
	    sector[MBR_SIGNATURE_AT + 1] != 0xaa)
		return false;
	c = cursor_make(sector + MBR_ENTRIES_AT, 4 * MBR_ENTRY_SIZE);
	for (int i = 0; i < 4 && ok; i++) {
		ok = cursor_u8(&c, &e[i].status) && cursor_skip(&c, 3) &&
		    cursor_u8(&c, &e[i].type) && cursor_skip(&c, 3) &&
		    cursor_le32(&c, &e[i].start) && cursor_le32(&c, &e[i].count);
	}
	return ok;
}

/* A boot sector (FAT, NTFS) also ends in 55 AA: its "entries" are code or
 * zeros.  A real table has boot flags 0x00/0x80 and at least one entry. */
static bool
mbr_looks_like_table(const struct mbr_entry e[4])
{
	bool any = false;

	for (int i = 0; i < 4; i++) {
		if (e[i].status != 0x00 && e[i].status != 0x80)
			return false;
		if (e[i].type != 0)
			any = true;
	}
	return any;
}

static bool
mbr_is_protective(const struct mbr_entry e[4])
{
	for (int i = 0; i < 4; i++)
		if (e[i].type == MBR_TYPE_GPT)
			return true;
	return false;
}

static int
mbr_parse(const struct mbr_entry e[4], struct disk_layout *out, char *err,
    size_t errlen)
{
	uint64_t ss = out->sector_size;
	uint64_t sectors = out->disk_size / ss;

	out->kind = PTABLE_MBR;
	layout_add_table(out, 0, ss);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t start = e[i].start, count = e[i].count;
		struct partition *p;

		if (e[i].type == 0 || count == 0)
			continue;
		if (start == 0 || start + count > sectors) {
			image_error(err, errlen, "MBR partition %u (sectors %llu+%llu) "
			    "is outside the disk (%llu sectors)", i + 1,
			    (unsigned long long)start, (unsigned long long)count,
			    (unsigned long long)sectors);
			return -EINVAL;
		}
		if (is_extended_type(e[i].type)) {
			if (out->extended_length != 0) {
				image_error(err, errlen, "MBR has two extended "
				    "partitions");
				return -EINVAL;
			}
			out->extended_offset = start * ss;
			out->extended_length = count * ss;
			continue;
		}
		p = layout_add_part(out, i + 1, start * ss, count * ss);
		p->mbr_type = e[i].type;
	}
	return layout_check_overlaps(out, err, errlen);
}

/* ---- GPT ---- */

static int
gpt_parse_entries(const uint8_t *entries, const struct gpt_header *h,
    struct disk_layout *out, char *err, size_t errlen)
{
	uint64_t ss = out->sector_size;

	for (uint32_t i = 0; i < h->entries_count; i++) {
		struct cursor c = cursor_make(entries + (size_t)i * h->entry_size,
		    h->entry_size);
		const uint8_t *type;
		uint64_t first, last;
		struct partition *p;

		if (!cursor_bytes(&c, 16, &type) || !cursor_skip(&c, 16) ||
		    !cursor_le64(&c, &first) || !cursor_le64(&c, &last))
			return -EINVAL;         /* entry_size >= 128 */
		if (gpt_type_is_unused(type))
			continue;
		if (first > last || first < h->first_usable ||
		    last > h->last_usable) {
			image_error(err, errlen, "GPT partition %u (LBA %llu..%llu) "
			    "is outside the usable area %llu..%llu", i + 1,
			    (unsigned long long)first, (unsigned long long)last,
			    (unsigned long long)h->first_usable,
			    (unsigned long long)h->last_usable);
			return -EINVAL;
		}
		p = layout_add_part(out, i + 1, first * ss, (last - first + 1) * ss);
		if (p == NULL) {
			image_error(err, errlen, "more than %d GPT partitions",
			    DISK_MAX_PARTS);
			return -EINVAL;
		}
		memcpy(p->gpt_type, type, 16);
	}
	return 0;
}

/* The backup header must be the last sector of the disk, agree with the
 * primary and, when its entries are in the tail too, match their CRC. */
static const char *
gpt_check_backup(const uint8_t *tail, size_t tail_len, const struct gpt_header *h,
    const struct disk_layout *out)
{
	uint64_t ss = out->sector_size, sectors = out->disk_size / ss;
	struct gpt_header b;
	const char *why;
	uint64_t tail_lba, at, bytes = gpt_entries_bytes(h);

	/* The tail ends with the disk's last whole sector. */
	if (tail_len < ss || tail_len % ss != 0 || tail_len / ss > sectors)
		return "tail is not whole sectors of the disk";
	tail_lba = sectors - tail_len / ss;
	if (h->alternate_lba != sectors - 1)
		return "backup header is not at the end of the disk (grown disk? "
		    "sgdisk -e moves it)";
	why = gpt_header_check(tail + tail_len - ss, ss, sectors - 1, &b);
	if (why != NULL)
		return why;
	if (b.alternate_lba != 1 || b.entries_count != h->entries_count ||
	    b.entry_size != h->entry_size || b.entries_crc != h->entries_crc ||
	    b.entries_lba + gpt_entries_sectors(h, ss) != sectors - 1)
		return "backup header does not match the primary";
	if (b.entries_lba < tail_lba)
		return NULL;                    /* entries not read */
	at = (b.entries_lba - tail_lba) * ss;
	if (gpt_crc32(0, tail + at, bytes) != h->entries_crc)
		return "backup entries CRC mismatch";
	return NULL;
}

static int
gpt_parse(const uint8_t *head, size_t head_len, const uint8_t *tail,
    size_t tail_len, struct disk_layout *out, char *err, size_t errlen)
{
	uint64_t ss = out->sector_size, sectors = out->disk_size / ss;
	struct gpt_header h;
	const char *why;
	uint64_t at, bytes, entry_sectors;
	int rc;

	out->kind = PTABLE_GPT;
	if (head_len < 2 * ss) {
		image_error(err, errlen, "GPT: the head read is shorter than 2 "
		    "sectors");
		return -EINVAL;
	}
	why = gpt_header_check(head + ss, ss, 1, &h);
	if (why == NULL)
		why = gpt_header_check_geometry(&h, sectors, ss);
	if (why == NULL && h.entries_lba * ss + gpt_entries_bytes(&h) > head_len)
		why = "entries lie beyond the head read";
	if (why != NULL) {
		image_error(err, errlen, "GPT primary header: %s", why);
		return -EINVAL;
	}
	at = h.entries_lba * ss;
	bytes = gpt_entries_bytes(&h);
	if (gpt_crc32(0, head + at, bytes) != h.entries_crc) {
		image_error(err, errlen, "GPT: entries CRC mismatch");
		return -EINVAL;
	}
	if (tail != NULL && tail_len > 0) {
		why = gpt_check_backup(tail, tail_len, &h, out);
		if (why != NULL) {
			image_error(err, errlen, "GPT backup: %s", why);
			return -EINVAL;
		}
	}
	entry_sectors = gpt_entries_sectors(&h, ss);
	layout_add_table(out, 0, (h.entries_lba + entry_sectors) * ss);
	layout_add_table(out, (h.alternate_lba - entry_sectors) * ss,
	    (entry_sectors + 1) * ss);
	rc = gpt_parse_entries(head + at, &h, out, err, errlen);
	if (rc < 0)
		return rc;
	return layout_check_overlaps(out, err, errlen);
}

int
disk_parse_layout(const uint8_t *head, size_t head_len, const uint8_t *tail,
    size_t tail_len, uint64_t disk_size, uint32_t sector_size,
    struct disk_layout *out, char *err, size_t errlen)
{
	struct mbr_entry e[4];

	memset(out, 0, sizeof(*out));
	out->kind = PTABLE_NONE;
	out->sector_size = sector_size;
	out->disk_size = disk_size;
	if (!sector_size_valid(sector_size)) {
		image_error(err, errlen, "unsupported sector size %u", sector_size);
		return -EINVAL;
	}
	if (head_len > disk_size || tail_len > disk_size) {
		image_error(err, errlen, "more bytes read than the disk holds");
		return -EINVAL;
	}
	if (head == NULL || !mbr_read_entries(head, head_len, e) ||
	    !mbr_looks_like_table(e))
		return 0;
	if (mbr_is_protective(e))
		return gpt_parse(head, head_len, tail, tail_len, out, err, errlen);
	return mbr_parse(e, out, err, errlen);
}

/* ---- I/O: the disk's size, head, tail and EBR chain ---- */

static int
disk_size_get(int fd, uint64_t *size, uint32_t *sector_size, char *err,
    size_t errlen)
{
	struct stat st;
	int ss = 0;

	if (fstat(fd, &st) < 0)
		goto fail;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		*sector_size = 512;
		return 0;
	}
	if (!S_ISBLK(st.st_mode)) {
		image_error(err, errlen, "not a disk: neither a block device "
		    "nor a file");
		return -ENOTBLK;
	}
	if (ioctl(fd, BLKGETSIZE64, size) < 0 || ioctl(fd, BLKSSZGET, &ss) < 0)
		goto fail;
	*sector_size = (uint32_t)ss;
	return 0;
fail:
	image_error(err, errlen, "disk size: %s", strerror(errno));
	return -errno;
}

/* Reads the EBR at lba, adds its sector to the table and its logical
 * partition (if any) as number *index; *next is the next EBR or 0. */
static int
ebr_read_one(int fd, struct disk_layout *out, uint64_t lba, unsigned *index,
    uint64_t *next, char *err, size_t errlen)
{
	uint64_t ss = out->sector_size, ext_lba = out->extended_offset / ss;
	uint64_t ext_end = ext_lba + out->extended_length / ss;
	uint8_t sector[MBR_SIZE];
	struct mbr_entry e[4];
	int rc;

	rc = image_pread(fd, sector, sizeof(sector), lba * ss);
	if (rc < 0) {
		image_error(err, errlen, "EBR at sector %llu: %s",
		    (unsigned long long)lba, strerror(-rc));
		return rc;
	}
	if (!mbr_read_entries(sector, sizeof(sector), e) ||
	    layout_add_table(out, lba * ss, ss) < 0) {
		image_error(err, errlen, "EBR at sector %llu is not valid",
		    (unsigned long long)lba);
		return -EINVAL;
	}
	if (e[0].type != 0 && e[0].count != 0) {
		uint64_t start = lba + e[0].start, count = e[0].count;
		struct partition *p;

		if (e[0].start == 0 || start + count > ext_end) {
			image_error(err, errlen, "logical partition %u is outside "
			    "the extended partition", *index);
			return -EINVAL;
		}
		p = layout_add_part(out, (*index)++, start * ss, count * ss);
		if (p == NULL) {
			image_error(err, errlen, "more than %d partitions",
			    DISK_MAX_PARTS);
			return -EINVAL;
		}
		p->mbr_type = e[0].type;
	}
	*next = 0;
	if (is_extended_type(e[1].type) && e[1].count != 0)
		*next = ext_lba + e[1].start;
	return 0;
}

/* Follows the EBR chain: at most DISK_MAX_PARTS links, each inside the
 * extended partition and never seen before. */
static int
ebr_read_chain(int fd, struct disk_layout *out, char *err, size_t errlen)
{
	uint64_t ss = out->sector_size, ext_lba = out->extended_offset / ss;
	uint64_t ext_end = ext_lba + out->extended_length / ss;
	uint64_t seen[DISK_MAX_PARTS];
	size_t nseen = 0;
	uint64_t lba = ext_lba;
	unsigned index = 5;
	int rc;

	while (lba != 0) {
		if (nseen == ARRAY_SIZE(seen)) {
			image_error(err, errlen, "EBR chain longer than %zu links",
			    ARRAY_SIZE(seen));
			return -EINVAL;
		}
		for (size_t i = 0; i < nseen; i++) {
			if (seen[i] == lba) {
				image_error(err, errlen, "EBR chain loops at "
				    "sector %llu", (unsigned long long)lba);
				return -EINVAL;
			}
		}
		if (lba < ext_lba || lba >= ext_end) {
			image_error(err, errlen, "EBR at sector %llu is outside "
			    "the extended partition", (unsigned long long)lba);
			return -EINVAL;
		}
		seen[nseen++] = lba;
		rc = ebr_read_one(fd, out, lba, &index, &lba, err, errlen);
		if (rc < 0)
			return rc;
	}
	layout_sort_table(out);
	return layout_check_overlaps(out, err, errlen);
}

static int
disk_read_span(int fd, uint64_t offset, size_t len, uint8_t **out, char *err,
    size_t errlen)
{
	int rc;

	*out = malloc(len ? len : 1);
	if (*out == NULL)
		return -ENOMEM;
	rc = image_pread(fd, *out, len, offset);
	if (rc < 0) {
		image_error(err, errlen, "reading %zu bytes at %llu: %s", len,
		    (unsigned long long)offset, strerror(-rc));
		free(*out);
		*out = NULL;
	}
	return rc;
}

int
disk_read_layout(int fd, struct disk_layout *out, char *err, size_t errlen)
{
	uint8_t *head = NULL, *tail = NULL;
	uint64_t size = 0;
	uint32_t ss = 0;
	size_t head_len, tail_len;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = disk_size_get(fd, &size, &ss, err, errlen);
	if (rc < 0)
		return rc;
	if (!sector_size_valid(ss)) {
		image_error(err, errlen, "unsupported sector size %u", ss);
		return -EINVAL;
	}
	head_len = (size_t)MIN(size, (uint64_t)GPT_HEAD_SECTORS * ss);
	tail_len = (size_t)MIN(size - size % ss, (uint64_t)GPT_TAIL_SECTORS * ss);
	rc = disk_read_span(fd, 0, head_len, &head, err, errlen);
	if (rc == 0)
		rc = disk_read_span(fd, size - size % ss - tail_len, tail_len,
		    &tail, err, errlen);
	if (rc == 0)
		rc = disk_parse_layout(head, head_len, tail, tail_len, size, ss,
		    out, err, errlen);
	if (rc == 0 && out->kind == PTABLE_MBR && out->extended_length != 0)
		rc = ebr_read_chain(fd, out, err, errlen);
	free(head);
	free(tail);
	return rc;
}
