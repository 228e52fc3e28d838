/* libFuzzer harness: the FAT12/16/32 used-block reader over a filesystem
 * image in memory (the input, as long as the partition).  On success the
 * extents must be sorted, apart, inside the image and start with the boot
 * sector.  Then the file walker (fat_files.c): every file it lists has a
 * path that starts with '/', and reading it never reads outside the
 * image nor returns more than asked. */
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

static void
walk_files(struct mem *m, size_t size)
{
	struct fat_files f;
	struct fs_entries files = { 0 };
	uint8_t buf[4096];
	char err[160];

	if (fat_files_open(&f, mem_read, m, size, err, sizeof err) < 0)
		return;
	(void)fat_files_walk(&f, 1000, &files, err, sizeof err);
	for (size_t i = 0; i < files.n; i++) {
		uint64_t size_of = 0, hint_index = 0;
		uint32_t cluster = 0, hint_cluster = 0;
		assert(files.v[i].path[0] == '/');
		if (fat_files_entry(&f, files.v[i].id, &cluster, &size_of) < 0)
			continue;
		for (uint64_t off = 0; off < size_of && off < 65536;) {
			ssize_t n = fat_files_pread(&f, cluster, size_of, buf, sizeof buf, off,
			    &hint_index, &hint_cluster);
			assert(n <= (ssize_t)sizeof buf);
			if (n <= 0)
				break;
			off += (uint64_t)n;
		}
	}
	fs_entries_free(&files);
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
	walk_files(&m, size);
	free(copy);
	return 0;
}
