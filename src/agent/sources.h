/* The chunk sources of a deploy, in the order to try them: the caches the
 * server named for this machine's subnet, then the server itself (always
 * last, never rested).  Pure (the time is an argument): which source to
 * try next, and what each has served or failed.  fetch.c carries it out
 * under a lock; tests/unit/test_agent_sources.c drives it with fake time.
 *
 * A source that fails SOURCE_FAILS_MAX times in a row (a bad frame or
 * hash, a missing chunk, a timeout, a refused connection, an error
 * status) rests for SOURCE_REST_FIRST_US: it is not tried until then.  Its
 * first failure after a rest puts it to rest again for twice as long, up
 * to SOURCE_REST_MAX_US; a chunk it serves ends that. */
#ifndef PXED_AGENT_SOURCES_H
#define PXED_AGENT_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/sources.h"

#define SOURCE_URL_MAX 1024
#define SOURCE_FAILS_MAX 3
#define SOURCE_REST_FIRST_US (30 * 1000000ull)
#define SOURCE_REST_MAX_US (300 * 1000000ull)

enum source_outcome {
	SOURCE_OK,                      /* the chunk, its hash right */
	SOURCE_BAD,                     /* a frame that is not the chunk */
	SOURCE_MISSING,                 /* 404 or 410 */
	SOURCE_FAILED,                  /* no answer in time, another status */
};

struct source {
	char url[SOURCE_URL_MAX];       /* ends with '/' */
	bool server;                    /* the last: pxed itself */
	unsigned fails;                 /* in a row */
	uint64_t rest_until_us;         /* not tried before */
	uint64_t rest_us;               /* the next rest's length */
	uint64_t chunks, bytes;         /* served (uncompressed bytes) */
	uint64_t bad, missing, failed;  /* outcomes other than OK */
	uint64_t rests;                 /* times put to rest */
};

struct source_set {
	size_t count;
	struct source src[CHUNK_SOURCES_MAX + 1];
};

/* The caches, then the server's chunk URL (ends with '/'). */
void source_set_init(struct source_set *s, const struct chunk_sources *caches,
    const char *server_url);
/* The first source at index from or after it that is not resting at now;
 * the server when every cache before it rests (or from is past them). */
size_t source_set_next(const struct source_set *s, size_t from, uint64_t now_us);
/* What source i did with one chunk (bytes: its length).  True when this
 * outcome put it to rest. */
bool source_set_record(struct source_set *s, size_t i, enum source_outcome o, uint64_t bytes,
    uint64_t now_us);

#endif
