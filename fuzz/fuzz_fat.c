/* libFuzzer harness: the FAT12/16/32 used-block reader over a filesystem
 * image in memory (the input, as long as the partition).  On success the
 * extents must be sorted, apart, inside the image and start with the boot
 * sector. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/disk.h"
#include "image/fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE 1048576u                   /* where the "partition" starts */

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct extent_list l = { 0 };
	uint8_t *copy = malloc(size ? size : 1);
	struct mem m = { copy, size };
	char err[160];
	int rc;

	assert(copy != NULL);
	if (size > 0)
		memcpy(copy, data, size);
	(void)fat_boot_sector_valid(copy, size);
	rc = fat_used_extents(mem_read, &m, BASE, size, &l, err, sizeof(err));
	if (rc == 0) {
		assert(l.n > 0 && l.v[0].offset == BASE);
		for (size_t i = 0; i < l.n; i++) {
			assert(l.v[i].length > 0);
			assert(l.v[i].offset + l.v[i].length <= BASE + size);
			if (i > 0)
				assert(l.v[i - 1].offset + l.v[i - 1].length <
				    l.v[i].offset);
		}
	} else {
		assert(rc == -EINVAL || rc == -EIO || rc == -ENOMEM);
	}
	extent_list_free(&l);
	free(copy);
	return 0;
}
