/* Capture planning: which bytes of a disk to copy and how they are cut
 * into chunks.  The used bytes are the partition table's extents, what each
 * partition's filesystem uses, and the non-empty blocks of the boot loader
 * gap (between the table and the first partition); the rest of the space
 * outside the partitions only when asked (outside_partitions).
 * Table extents become their own chunks (table = true, written first by a
 * deploy); data chunks never cross a table extent or a multiple of the
 * chunk size, so the same data cuts the same way every time. */
#ifndef PXED_AGENT_PLAN_H
#define PXED_AGENT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/disk.h"
#include "image/manifest.h"

#define PLAN_MERGE_GAP (64u << 10)

struct capture_plan {
	struct disk_layout layout;
	struct image_part part[DISK_MAX_PARTS];
	size_t nparts;
	struct image_chunk *chunk;      /* ascending, sha256 not filled */
	size_t nchunks;
	uint64_t bytes;                 /* sum of the chunk lengths */
};

struct plan_options {
	uint64_t chunk_size;
	/* Also the non-zero blocks of the free space outside the partitions
	 * past the boot loader gap (capture --outside-partitions). */
	bool outside_partitions;
	/* A BitLocker partition is taken whole (else the plan fails naming
	 * it: capture --raw-encrypted). */
	bool raw_encrypted;
};

/* Reads the layout of fd and plans its chunks.  0, or a negative errno
 * with a message in err. */
int capture_plan_build(int fd, const struct plan_options *o, struct capture_plan *p,
    char *err, size_t errlen);

/* The same from a layout already read (tests build layouts by hand). */
int capture_plan_layout(int fd, const struct disk_layout *layout,
    const struct plan_options *o, struct capture_plan *p, char *err, size_t errlen);

void capture_plan_free(struct capture_plan *p);

/* Sort extents by offset and merge those that overlap or touch, in
 * place.  Returns the new count. */
size_t extents_normalize(struct extent *v, size_t n);

/* out = a minus b (both normalized).  0 or -ENOMEM. */
int extents_subtract(const struct extent_list *a, const struct extent_list *b,
    struct extent_list *out);

#endif
