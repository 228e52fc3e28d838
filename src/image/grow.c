/* The last partition grown to the end of the disk, in the table's bytes:
 * a GPT entry's last LBA up to the last usable LBA (the entries' CRC, the
 * header's and the backup follow), or an MBR primary entry's sector count
 * up to the disk's end (capped at 2^32 - 1 sectors).  The filesystem
 * inside is grown by the agent afterwards (src/agent/grow.c).
 *
 * Pure: the table's first bytes in and changed in place, the backup GPT
 * out. */
#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "image/disk.h"
#include "image/fs.h"
#include "image/gpt.h"

#define GPT_ENTRIES_CRC_AT      88
#define GPT_ENTRY_LAST_AT       40
#define MBR_ENTRY_COUNT_AT      12
#define MBR_COUNT_MAX           0xffffffffu
#define GROW_MIN_BYTES          (1u << 20)      /* less room than this: left alone */

static bool
mbr_type_is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

static int
gpt_grow_last(uint8_t *head, size_t head_len, uint64_t disk_size, uint32_t ss,
    struct ptable_growth *g, char *err, size_t errlen)
{
	struct gpt_header h;
	uint64_t first, last;
	uint8_t *entries;
	int rc = gpt_head_load(head, head_len, ss, &h, err, errlen);

	if (rc < 0)
		return rc;
	if (h.alternate_lba + 1 != disk_size / ss) {
		image_error(err, errlen, "the GPT is for a disk of %llu sectors, this one has %llu",
		    (unsigned long long)(h.alternate_lba + 1),
		    (unsigned long long)(disk_size / ss));
		return -EINVAL;
	}
	entries = head + h.entries_lba * ss;
	last = gpt_entries_last_lba(entries, &h, &g->index, &first);
	if (g->index == 0 || last < first) {
		image_error(err, errlen, "no partition to grow");
		return -ENOENT;
	}
	g->offset = first * ss;
	g->old_length = g->new_length = (last - first + 1) * ss;
	if ((h.last_usable - last) * ss >= GROW_MIN_BYTES) {
		g->new_length = (h.last_usable - first + 1) * ss;
		gpt_store_le(entries + (size_t)(g->index - 1) * h.entry_size, h.entry_size,
		    GPT_ENTRY_LAST_AT, h.last_usable, 8);
		gpt_store_le(head + ss, h.header_size, GPT_ENTRIES_CRC_AT,
		    gpt_crc32(0, entries, gpt_entries_bytes(&h)), 4);
		gpt_header_seal(head + ss, h.header_size);
	}
	return gpt_relocate(head, head_len, disk_size, ss, &g->gpt, err, errlen);
}

static int
mbr_grow_last(uint8_t *head, size_t head_len, uint64_t disk_size, uint32_t ss,
    struct ptable_growth *g, char *err, size_t errlen)
{
	uint64_t sectors = MIN(disk_size / ss, (uint64_t)MBR_COUNT_MAX), end = 0;
	struct mbr_entry e[4];
	int last = -1;
	bool extended_last = false;

	if (!mbr_read_entries(head, head_len, e)) {
		image_error(err, errlen, "no MBR");
		return -EINVAL;
	}
	for (int i = 0; i < 4; i++) {
		uint64_t stop = (uint64_t)e[i].start + e[i].count;
		if (e[i].type == 0 || e[i].count == 0 || stop <= end)
			continue;
		end = stop;
		last = i;
		extended_last = mbr_type_is_extended(e[i].type);
	}
	if (last < 0) {
		image_error(err, errlen, "no partition to grow");
		return -ENOENT;
	}
	if (extended_last) {
		image_error(err, errlen, "the last partition is a logical one (not grown)");
		return -ENOTSUP;
	}
	g->index = (unsigned)last + 1;
	g->offset = (uint64_t)e[last].start * ss;
	g->old_length = g->new_length = (uint64_t)e[last].count * ss;
	if (sectors > end && (sectors - end) * ss >= GROW_MIN_BYTES) {
		g->new_length = (sectors - e[last].start) * ss;
		gpt_store_le(head, MBR_SIZE, MBR_ENTRIES_AT + (size_t)last * MBR_ENTRY_SIZE +
		    MBR_ENTRY_COUNT_AT, sectors - e[last].start, 4);
	}
	return 0;
}

int
ptable_grow_last(uint8_t *head, size_t head_len, enum ptable_kind kind,
    uint64_t disk_size, uint32_t sector_size, struct ptable_growth *g,
    char *err, size_t errlen)
{
	memset(g, 0, sizeof *g);
	if (sector_size < MBR_SIZE || (sector_size & (sector_size - 1)) != 0) {
		image_error(err, errlen, "unsupported sector size %u", sector_size);
		return -EINVAL;
	}
	switch (kind) {
	case PTABLE_GPT:
		return gpt_grow_last(head, head_len, disk_size, sector_size, g, err, errlen);
	case PTABLE_MBR:
		return mbr_grow_last(head, head_len, disk_size, sector_size, g, err, errlen);
	case PTABLE_NONE:
		break;
	}
	image_error(err, errlen, "no partition table");
	return -ENOTSUP;
}

void
ptable_growth_free(struct ptable_growth *g)
{
	gpt_relocation_free(&g->gpt);
}
