/* Resume tracking for a deploy: which chunks are written, and the offset
 * below which every chunk is (the resume_offset reported to the server
 * once the disk has been synced).  Pure: no I/O, no locking (the caller
 * holds its lock). */
#ifndef PXED_AGENT_RESUME_H
#define PXED_AGENT_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/manifest.h"

struct resume {
	const struct image_chunk *chunk;        /* sorted by offset, not owned */
	size_t n;
	bool *done;
	size_t first_open;                      /* first chunk not written */
	uint64_t bytes_done;
};

/* Chunks ending at or below resume_offset count as written already.
 * 0 or -ENOMEM. */
int resume_init(struct resume *r, const struct image_chunk *chunk, size_t n,
    uint64_t resume_offset);
void resume_free(struct resume *r);

bool resume_is_done(const struct resume *r, size_t i);
/* Chunk i is written (to the page cache: sync before reporting). */
void resume_mark(struct resume *r, size_t i);
/* Every chunk below this offset is written: the start of the first chunk
 * not written, or the end of the last chunk when all are. */
uint64_t resume_offset(const struct resume *r);

#endif
