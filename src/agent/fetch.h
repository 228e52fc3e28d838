/* Fetching one chunk for a deploy from its sources (sources.h): the
 * caches the task names, in order, then the server.  Every frame is
 * decompressed and its SHA-256 checked whatever served it; a cache's bad,
 * missing or slow chunk is fetched from the next source.  A cache gets one
 * short try (no token sent: chunks are public, content-addressed files);
 * the server gets the agent's retries (api.h) and three more fetches of a
 * frame that was not the chunk, as before there were caches. */
#ifndef PXED_AGENT_FETCH_H
#define PXED_AGENT_FETCH_H

#include <pthread.h>

#include "agent/agent.h"
#include "agent/sources.h"

/* A cache's bounds: connect, a stall (below the rate for so long), the
 * whole chunk. */
#define FETCH_CACHE_CONNECT_S 2L
#define FETCH_CACHE_STALL_S 5L
#define FETCH_CACHE_STALL_RATE (64L * 1024)
#define FETCH_CACHE_TOTAL_S 60L

struct chunk_fetcher {
	struct agent *ag;
	struct api cache_api;           /* no token, the bounds above, no retries */
	pthread_mutex_t lock;           /* guards set */
	struct source_set set;
};

/* 0, or -EIO (recorded). */
int chunk_fetcher_init(struct chunk_fetcher *f, struct agent *ag);
void chunk_fetcher_free(struct chunk_fetcher *f);

/* Chunk c into data (c->length bytes, verified), with frame as the
 * worker's buffer for the compressed bytes.  0, or -EIO (recorded). */
int chunk_fetch(struct chunk_fetcher *f, struct api_conn *conn, struct api_buf *frame,
    uint8_t *data, const struct image_chunk *c);

/* One log line per source: what it served, what failed. */
void chunk_fetcher_report(struct chunk_fetcher *f);

#endif
