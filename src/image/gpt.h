/* Inside src/image: the GPT header and the MBR entry layout, shared by the
 * parser (ptable.c) and the relocation of a GPT to a disk of another size
 * (gpt.c).  Not for other parts: they call image/disk.h. */
#ifndef PXED_IMAGE_GPT_H
#define PXED_IMAGE_GPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MBR_SIZE                512
#define MBR_ENTRIES_AT          446
#define MBR_ENTRY_SIZE          16
#define MBR_SIGNATURE_AT        510
#define MBR_TYPE_GPT            0xee

#define GPT_HEADER_MIN          92
#define GPT_ENTRY_MIN           128

struct mbr_entry {
	uint8_t status;
	uint8_t type;
	uint32_t start;
	uint32_t count;
};

/* The four entries of an MBR or EBR sector; false without the 55 AA
 * signature or when the sector is short (ptable.c). */
bool mbr_read_entries(const uint8_t *sector, size_t len, struct mbr_entry e[4]);

struct gpt_header {
	uint32_t header_size;
	uint32_t header_crc;
	uint64_t my_lba;
	uint64_t alternate_lba;
	uint64_t first_usable;
	uint64_t last_usable;
	uint64_t entries_lba;
	uint32_t entries_count;
	uint32_t entry_size;
	uint32_t entries_crc;
};

/* CRC32 (IEEE 802.3, reflected), as GPT uses it; start with crc 0. */
uint32_t gpt_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* The CRC of a header sector's first header_size bytes, its own CRC field
 * counted as zero.  header_size must lie within the sector. */
uint32_t gpt_header_crc(const uint8_t *sector, uint32_t header_size);

/* Checks a header sector found at lba: signature, size, CRC, own LBA and
 * entry geometry, and fills h.  Returns NULL or what is wrong. */
const char *gpt_header_check(const uint8_t *sector, size_t len, uint64_t lba,
    struct gpt_header *h);

/* The primary header's numbers agree with each other and with a disk of
 * `sectors` sectors.  NULL or what is wrong. */
const char *gpt_header_check_geometry(const struct gpt_header *h, uint64_t sectors,
    uint64_t ss);

/* Bytes, and whole sectors, of the entry array. */
uint64_t gpt_entries_bytes(const struct gpt_header *h);
uint64_t gpt_entries_sectors(const struct gpt_header *h, uint64_t ss);

/* The low `width` bytes of v, little-endian, at buf + at: false (nothing
 * written) when they would not lie within len. */
bool gpt_store_le(uint8_t *buf, size_t len, size_t at, uint64_t v, size_t width);

/* A new CRC for a header sector whose first header_size bytes changed. */
bool gpt_header_seal(uint8_t *sector, uint32_t header_size);

/* The primary header and entries of head (sector size ss), checked as the
 * disk they were written for has them.  0 or -EINVAL with err. */
int gpt_head_load(const uint8_t *head, size_t head_len, uint32_t ss,
    struct gpt_header *h, char *err, size_t errlen);

/* The highest last LBA of a used entry: *index its number (1-based), 0
 * when no entry is used, *first_lba its first LBA. */
uint64_t gpt_entries_last_lba(const uint8_t *entries, const struct gpt_header *h,
    unsigned *index, uint64_t *first_lba);

/* An entry whose type GUID is all zeros is unused. */
bool gpt_type_is_unused(const uint8_t type[16]);

#endif
