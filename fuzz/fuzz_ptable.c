/* libFuzzer harness: the partition-table parser.  The input is
 *   byte 0     flags: bit 0 = 4096-byte sectors (else 512), bit 1 = a tail
 *   bytes 1-2  head length, little-endian (clamped to what is left)
 *   bytes 3-6  disk size in sectors, little-endian
 *   the head, then the tail (the rest)
 * and each part is copied into a heap block of exactly its length.  On
 * success the layout's invariants are asserted: partitions inside the disk,
 * whole sectors, apart from each other and from the table extents. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER 7

static uint8_t *
exact_copy(const uint8_t *p, size_t len)
{
	uint8_t *q = malloc(len ? len : 1);

	assert(q != NULL);
	if (len > 0)
		memcpy(q, p, len);
	return q;
}

static int
overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static void
check_layout(const struct disk_layout *l)
{
	assert(l->kind == PTABLE_MBR || l->kind == PTABLE_GPT);
	assert(l->nparts <= DISK_MAX_PARTS && l->ntable <= DISK_MAX_TABLE);
	assert(l->ntable == (l->kind == PTABLE_GPT ? 2u : 1u));
	for (size_t i = 0; i < l->ntable; i++) {
		const struct extent *t = &l->table[i];
		assert(t->length > 0 && t->offset + t->length <= l->disk_size);
		if (i > 0)
			assert(l->table[i - 1].offset + l->table[i - 1].length <=
			    t->offset);
	}
	for (size_t i = 0; i < l->nparts; i++) {
		const struct partition *p = &l->part[i];
		assert(p->length > 0 && p->offset + p->length <= l->disk_size);
		assert(p->offset % l->sector_size == 0);
		assert(p->length % l->sector_size == 0);
		for (size_t j = i + 1; j < l->nparts; j++)
			assert(!overlap(p->offset, p->length, l->part[j].offset,
			    l->part[j].length));
		for (size_t t = 0; t < l->ntable; t++)
			assert(!overlap(p->offset, p->length, l->table[t].offset,
			    l->table[t].length));
	}
	if (l->kind == PTABLE_GPT)
		assert(l->extended_length == 0);
	assert(l->extended_offset + l->extended_length <= l->disk_size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct disk_layout l;
	uint32_t ss, sectors;
	size_t head_len, tail_len;
	uint8_t *head, *tail;
	char err[160];
	int rc;

	if (size < HEADER)
		return 0;
	ss = (data[0] & 1) ? 4096 : 512;
	head_len = (size_t)data[1] | (size_t)data[2] << 8;
	sectors = (uint32_t)data[3] | (uint32_t)data[4] << 8 |
	    (uint32_t)data[5] << 16 | (uint32_t)data[6] << 24;
	data += HEADER;
	size -= HEADER;
	if (head_len > size)
		head_len = size;
	tail_len = (data[-HEADER] & 2) ? size - head_len : 0;
	head = exact_copy(data, head_len);
	tail = exact_copy(data + head_len, tail_len);
	err[0] = '\0';
	rc = disk_parse_layout(head, head_len, tail_len ? tail : NULL, tail_len,
	    (uint64_t)sectors * ss, ss, &l, err, sizeof(err));
	if (rc == 0) {
		if (l.kind != PTABLE_NONE)
			check_layout(&l);
		else
			assert(l.nparts == 0 && l.ntable == 0);
	} else {
		assert(rc == -EINVAL && err[0] != '\0');
	}
	free(head);
	free(tail);
	return 0;
}
