/* GPT headers: the CRC32, reading and checking a header (for ptable.c),
 * and the relocation of a GPT to a disk of another size (for deploy): the
 * primary header learns where the new backup is and how far the usable
 * area reaches, the backup entries and header are built for the disk's
 * last sectors, and a protective MBR that covered the old disk covers the
 * new one.
 *
 * Pure: buffers in and out; fields are read with a little-endian cursor
 * and written by a store that checks the bounds first. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "core/util.h"
#include "image/disk.h"
#include "image/fs.h"
#include "image/gpt.h"

/* Fields of a header sector, by byte offset. */
#define GPT_CRC_AT              16
#define GPT_MY_LBA_AT           24
#define GPT_ALTERNATE_LBA_AT    32
#define GPT_LAST_USABLE_AT      48
#define GPT_ENTRIES_LBA_AT      72

#define MBR_ENTRY_COUNT_AT      12      /* in an MBR entry: its sector count */
#define MBR_COUNT_MAX           0xffffffffu

uint32_t
gpt_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

uint32_t
gpt_header_crc(const uint8_t *sector, uint32_t header_size)
{
	static const uint8_t zero[4];
	uint32_t crc;

	crc = gpt_crc32(0, sector, GPT_CRC_AT);
	crc = gpt_crc32(crc, zero, sizeof(zero));
	return gpt_crc32(crc, sector + GPT_CRC_AT + 4, header_size - GPT_CRC_AT - 4);
}

static bool
gpt_header_read(const uint8_t *sector, size_t len, struct gpt_header *h)
{
	struct cursor c = cursor_make(sector, len);
	const uint8_t *signature;

	return cursor_bytes(&c, 8, &signature) &&
	    memcmp(signature, "EFI PART", 8) == 0 &&
	    cursor_skip(&c, 4) &&                       /* revision */
	    cursor_le32(&c, &h->header_size) &&
	    cursor_le32(&c, &h->header_crc) &&
	    cursor_skip(&c, 4) &&                       /* reserved */
	    cursor_le64(&c, &h->my_lba) &&
	    cursor_le64(&c, &h->alternate_lba) &&
	    cursor_le64(&c, &h->first_usable) &&
	    cursor_le64(&c, &h->last_usable) &&
	    cursor_skip(&c, 16) &&                      /* disk GUID */
	    cursor_le64(&c, &h->entries_lba) &&
	    cursor_le32(&c, &h->entries_count) &&
	    cursor_le32(&c, &h->entry_size) &&
	    cursor_le32(&c, &h->entries_crc);
}

const char *
gpt_header_check(const uint8_t *sector, size_t len, uint64_t lba,
    struct gpt_header *h)
{
	if (!gpt_header_read(sector, len, h))
		return "no GPT signature";
	if (h->header_size < GPT_HEADER_MIN || h->header_size > len)
		return "bad header size";
	if (gpt_header_crc(sector, h->header_size) != h->header_crc)
		return "header CRC mismatch";
	if (h->my_lba != lba)
		return "header is not where it says it is";
	if (h->entry_size < GPT_ENTRY_MIN ||
	    (h->entry_size & (h->entry_size - 1)) != 0)
		return "bad entry size";
	return NULL;
}

uint64_t
gpt_entries_bytes(const struct gpt_header *h)
{
	return (uint64_t)h->entries_count * h->entry_size;
}

uint64_t
gpt_entries_sectors(const struct gpt_header *h, uint64_t ss)
{
	return (gpt_entries_bytes(h) + ss - 1) / ss;
}

const char *
gpt_header_check_geometry(const struct gpt_header *h, uint64_t sectors,
    uint64_t ss)
{
	uint64_t entry_sectors = gpt_entries_sectors(h, ss);

	if (h->entries_lba < 2 || h->entries_lba >= sectors ||
	    entry_sectors > sectors - h->entries_lba)
		return "entries outside the disk";
	if (h->entries_lba + entry_sectors > h->first_usable)
		return "entries overlap the usable area";
	if (h->first_usable > h->last_usable || h->last_usable >= sectors)
		return "usable area outside the disk";
	if (h->alternate_lba <= h->last_usable || h->alternate_lba >= sectors)
		return "backup header LBA outside the disk";
	if (h->alternate_lba - h->last_usable - 1 < entry_sectors)
		return "no room for the backup entries";
	return NULL;
}

bool
gpt_type_is_unused(const uint8_t type[16])
{
	for (int i = 0; i < 16; i++)
		if (type[i] != 0)
			return false;
	return true;
}

/* ---- a bounded little-endian store ---- */

/* The low `width` bytes of v, little-endian, at buf + at: false (nothing
 * written) when they would not lie within len. */
bool
gpt_store_le(uint8_t *buf, size_t len, size_t at, uint64_t v, size_t width)
{
	if (at > len || len - at < width)
		return false;
	for (size_t i = 0; i < width; i++)
		buf[at + i] = (uint8_t)(v >> (8 * i));
	return true;
}

/* New CRC of a header sector whose first header_size bytes changed. */
bool
gpt_header_seal(uint8_t *sector, uint32_t header_size)
{
	return gpt_store_le(sector, header_size, GPT_CRC_AT,
	    gpt_header_crc(sector, header_size), 4);
}

/* ---- relocation ---- */

/* The primary header and entries of head, checked as the captured disk
 * had them (its size is where the primary says the backup was). */
int
gpt_head_load(const uint8_t *head, size_t head_len, uint32_t ss,
    struct gpt_header *h, char *err, size_t errlen)
{
	const char *why;

	if (head_len < 2 * (size_t)ss)
		why = "the head is shorter than 2 sectors";
	else
		why = gpt_header_check(head + ss, ss, 1, h);
	if (why == NULL && h->alternate_lba == UINT64_MAX)
		why = "backup header LBA outside the disk";
	if (why == NULL)
		why = gpt_header_check_geometry(h, h->alternate_lba + 1, ss);
	if (why == NULL && (h->entries_lba > head_len / ss ||
	    gpt_entries_bytes(h) > head_len - h->entries_lba * ss))
		why = "entries lie beyond the head";
	if (why == NULL && gpt_crc32(0, head + h->entries_lba * ss,
	    gpt_entries_bytes(h)) != h->entries_crc)
		why = "entries CRC mismatch";
	if (why != NULL) {
		image_error(err, errlen, "GPT primary header: %s", why);
		return -EINVAL;
	}
	return 0;
}

uint64_t
gpt_entries_last_lba(const uint8_t *entries, const struct gpt_header *h,
    unsigned *index, uint64_t *first_lba)
{
	uint64_t highest = 0;

	*index = 0;
	*first_lba = 0;
	for (uint32_t i = 0; i < h->entries_count; i++) {
		struct cursor c = cursor_make(entries + (size_t)i * h->entry_size,
		    h->entry_size);
		const uint8_t *type;
		uint64_t first, last;

		if (!cursor_bytes(&c, 16, &type) || !cursor_skip(&c, 16) ||
		    !cursor_le64(&c, &first) || !cursor_le64(&c, &last))
			break;                  /* entry_size >= 128 */
		if (!gpt_type_is_unused(type) && (*index == 0 || last > highest)) {
			highest = last;
			*first_lba = first;
			*index = i + 1;
		}
	}
	return highest;
}

/* Where the backup goes on a disk of `sectors` sectors, and the usable
 * area before it: -ENOSPC when the partitions (or the primary table) would
 * reach into it. */
static int
gpt_place_backup(const struct gpt_header *h, const uint8_t *entries,
    uint64_t sectors, uint32_t ss, struct gpt_relocation *r, char *err,
    size_t errlen)
{
	uint64_t entry_sectors = gpt_entries_sectors(h, ss), last_usable = 0;
	unsigned index;
	uint64_t first;
	uint64_t last_part = gpt_entries_last_lba(entries, h, &index, &first);

	if (sectors >= entry_sectors + 2)
		last_usable = sectors - 2 - entry_sectors;
	if (sectors < entry_sectors + 2 || last_usable < h->first_usable) {
		image_error(err, errlen, "a disk of %llu sectors has no room for "
		    "the GPT (%llu sectors before its usable area, %llu after)",
		    (unsigned long long)sectors, (unsigned long long)h->first_usable,
		    (unsigned long long)(entry_sectors + 1));
		return -ENOSPC;
	}
	if (index != 0 && last_usable < last_part) {
		image_error(err, errlen, "partition %u ends at LBA %llu, beyond the "
		    "last usable LBA %llu of a disk of %llu sectors", index,
		    (unsigned long long)last_part, (unsigned long long)last_usable,
		    (unsigned long long)sectors);
		return -ENOSPC;
	}
	r->backup_lba = sectors - 1;
	r->last_usable = last_usable;
	r->tail_len = (size_t)((entry_sectors + 1) * ss);
	r->tail_offset = (sectors - 1 - entry_sectors) * ss;
	return 0;
}

/* A 0xEE entry from LBA 1 that reached the old disk's end (or beyond) is
 * made to reach the new one; a hybrid MBR's shorter 0xEE entry stays. */
static void
mbr_protective_resize(uint8_t *mbr, size_t len, uint64_t old_sectors,
    uint64_t new_sectors)
{
	uint32_t old_count = (uint32_t)MIN(old_sectors - 1, MBR_COUNT_MAX);
	uint32_t new_count = (uint32_t)MIN(new_sectors - 1, MBR_COUNT_MAX);
	struct mbr_entry e[4];

	if (!mbr_read_entries(mbr, len, e))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(e); i++)
		if (e[i].type == MBR_TYPE_GPT && e[i].start == 1 &&
		    e[i].count >= old_count)
			gpt_store_le(mbr, MBR_SIZE, MBR_ENTRIES_AT + i * MBR_ENTRY_SIZE +
			    MBR_ENTRY_COUNT_AT, new_count, 4);
}

/* The primary header in head points at the new backup. */
static bool
gpt_primary_patch(uint8_t *sector, const struct gpt_header *h,
    const struct gpt_relocation *r)
{
	return gpt_store_le(sector, h->header_size, GPT_ALTERNATE_LBA_AT, r->backup_lba, 8) &&
	    gpt_store_le(sector, h->header_size, GPT_LAST_USABLE_AT, r->last_usable, 8) &&
	    gpt_header_seal(sector, h->header_size);
}

/* r->tail (allocated, zeroed): the entries, then a copy of the patched
 * primary header that says it is the backup. */
static bool
gpt_tail_fill(const uint8_t *head, const struct gpt_header *h, uint32_t ss,
    struct gpt_relocation *r)
{
	uint64_t entry_sectors = gpt_entries_sectors(h, ss);
	uint8_t *backup = r->tail + entry_sectors * ss;

	memcpy(r->tail, head + h->entries_lba * ss, gpt_entries_bytes(h));
	memcpy(backup, head + ss, h->header_size);
	return gpt_store_le(backup, h->header_size, GPT_MY_LBA_AT, r->backup_lba, 8) &&
	    gpt_store_le(backup, h->header_size, GPT_ALTERNATE_LBA_AT, 1, 8) &&
	    gpt_store_le(backup, h->header_size, GPT_ENTRIES_LBA_AT,
	    r->backup_lba - entry_sectors, 8) &&
	    gpt_header_seal(backup, h->header_size);
}

int
gpt_relocate(uint8_t *head, size_t head_len, uint64_t disk_size,
    uint32_t sector_size, struct gpt_relocation *out, char *err, size_t errlen)
{
	struct gpt_header h;
	int rc;

	memset(out, 0, sizeof(*out));
	if (sector_size < MBR_SIZE || (sector_size & (sector_size - 1)) != 0) {
		image_error(err, errlen, "unsupported sector size %u", sector_size);
		return -EINVAL;
	}
	rc = gpt_head_load(head, head_len, sector_size, &h, err, errlen);
	if (rc == 0)
		rc = gpt_place_backup(&h, head + h.entries_lba * sector_size,
		    disk_size / sector_size, sector_size, out, err, errlen);
	if (rc < 0)
		return rc;
	out->tail = calloc(1, out->tail_len);
	if (out->tail == NULL) {
		image_error(err, errlen, "out of memory for the backup GPT");
		return -ENOMEM;
	}
	out->old_backup_lba = h.alternate_lba;
	out->old_last_usable = h.last_usable;
	out->entries_crc = h.entries_crc;
	mbr_protective_resize(head, head_len, h.alternate_lba + 1, out->backup_lba + 1);
	if (!gpt_primary_patch(head + sector_size, &h, out) ||
	    !gpt_tail_fill(head, &h, sector_size, out)) {
		gpt_relocation_free(out);       /* header_size >= 92: not reached */
		image_error(err, errlen, "GPT header too short to rewrite");
		return -EINVAL;
	}
	return 0;
}

void
gpt_relocation_free(struct gpt_relocation *r)
{
	free(r->tail);
	r->tail = NULL;
	r->tail_len = 0;
}
