/* Unit-test helpers (header-only): little-endian writers, a reference
 * CRC32, and MBR and GPT tables built by hand in heap blocks of exactly
 * their length, so that ASan sees any over-read.  Include it after
 * cmocka.h (it asserts).  Included by the tests
 * of the partition-table parser and of the GPT relocation. */
#ifndef PXED_TESTS_GPT_BUILD_H
#define PXED_TESTS_GPT_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define MBR_BUILD_SIZE  512u
#define GPT_ENTRIES     128u
#define GPT_ENTRY_SIZE  128u

/* ---- little-endian writers and a reference CRC32 ---- */

static inline void
put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void
put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t
ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
	}
	return ~crc;
}

/* ---- MBR and GPT builders ---- */

struct mbr_part {
	uint8_t type;
	uint32_t start;
	uint32_t count;
};

static inline void
mbr_build(uint8_t *sector, const struct mbr_part *p, size_t n)
{
	memset(sector, 0, MBR_BUILD_SIZE);
	for (size_t i = 0; i < n && i < 4; i++) {
		uint8_t *e = sector + 446 + 16 * i;
		e[4] = p[i].type;
		put_le32(e + 8, p[i].start);
		put_le32(e + 12, p[i].count);
	}
	sector[510] = 0x55;
	sector[511] = 0xaa;
}

struct gpt_part {
	uint64_t first;
	uint64_t last;
};

/* A GPT disk of `sectors` sectors of `ss` bytes: head (34 sectors) and
 * tail (33 sectors), both heap blocks of exactly their length. */
struct gpt_disk {
	uint32_t ss;
	uint64_t sectors;
	uint8_t *head;
	size_t head_len;
	uint8_t *tail;
	size_t tail_len;
};

static inline void
gpt_header_build(uint8_t *h, uint32_t ss, uint64_t my, uint64_t alt,
    uint64_t last_usable, uint64_t entries_lba, uint32_t entries_crc)
{
	uint32_t entry_sectors = GPT_ENTRIES * GPT_ENTRY_SIZE / ss;

	memset(h, 0, ss);
	memcpy(h, "EFI PART", 8);
	put_le32(h + 8, 0x00010000);
	put_le32(h + 12, 92);
	put_le64(h + 24, my);
	put_le64(h + 32, alt);
	put_le64(h + 40, 2 + entry_sectors);
	put_le64(h + 48, last_usable);
	memset(h + 56, 0xab, 16);
	put_le64(h + 72, entries_lba);
	put_le32(h + 80, GPT_ENTRIES);
	put_le32(h + 84, GPT_ENTRY_SIZE);
	put_le32(h + 88, entries_crc);
	put_le32(h + 16, ref_crc32(h, 92));
}

/* Recompute both headers' CRCs after a test changed entries. */
static inline void
gpt_reseal(struct gpt_disk *d)
{
	uint32_t ss = d->ss, entry_sectors = GPT_ENTRIES * GPT_ENTRY_SIZE / ss;
	uint64_t last_usable = d->sectors - 2 - entry_sectors;
	uint8_t *entries = d->head + 2 * ss;
	uint32_t crc = ref_crc32(entries, GPT_ENTRIES * GPT_ENTRY_SIZE);

	memcpy(d->tail + d->tail_len - ss - GPT_ENTRIES * GPT_ENTRY_SIZE, entries,
	    GPT_ENTRIES * GPT_ENTRY_SIZE);
	gpt_header_build(d->head + ss, ss, 1, d->sectors - 1, last_usable, 2, crc);
	gpt_header_build(d->tail + d->tail_len - ss, ss, d->sectors - 1, 1,
	    last_usable, d->sectors - 1 - entry_sectors, crc);
}

static inline void
gpt_build(struct gpt_disk *d, uint32_t ss, uint64_t sectors,
    const struct gpt_part *p, size_t n)
{
	struct mbr_part protective = { 0xee, 1, (uint32_t)MIN(sectors - 1,
	    0xffffffffu) };
	uint8_t *entries;

	d->ss = ss;
	d->sectors = sectors;
	d->head_len = 34 * ss;
	d->tail_len = 33 * ss;
	d->head = calloc(1, d->head_len);
	d->tail = calloc(1, d->tail_len);
	assert_non_null(d->head);
	assert_non_null(d->tail);
	mbr_build(d->head, &protective, 1);
	entries = d->head + 2 * ss;
	for (size_t i = 0; i < n; i++) {
		uint8_t *e = entries + i * GPT_ENTRY_SIZE;
		memset(e, 0x11 + (int)i, 16);           /* type GUID */
		memset(e + 16, 0x77, 16);               /* unique GUID */
		put_le64(e + 32, p[i].first);
		put_le64(e + 40, p[i].last);
	}
	gpt_reseal(d);
}

static inline void
gpt_free(struct gpt_disk *d)
{
	free(d->head);
	free(d->tail);
}

/* Copy a buffer into a heap block of exactly len bytes. */
static inline uint8_t *
exact_copy(const uint8_t *p, size_t len)
{
	uint8_t *q = malloc(len ? len : 1);

	assert_non_null(q);
	memcpy(q, p, len);
	return q;
}

#endif
