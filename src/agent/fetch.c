/* A deploy's chunks from their sources: caches first, the server last. */
#include "agent/fetch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#include "agent/journal.h"
#include "core/util.h"
#include "image/chunk.h"

#define SERVER_FETCH_ATTEMPTS 4         /* the first and three more */

int
chunk_fetcher_init(struct chunk_fetcher *f, struct agent *ag)
{
	const struct chunk_sources *caches = &ag->task.sources;

	f->ag = ag;
	source_set_init(&f->set, caches, ag->task.chunk_url);
	if (api_init(&f->cache_api, ag->api.base, "", 0, &ag->stop) < 0)
		return agent_fail(ag, "chunk sources: cannot set up");
	f->cache_api.connect_s = FETCH_CACHE_CONNECT_S;
	f->cache_api.stall_s = FETCH_CACHE_STALL_S;
	f->cache_api.stall_rate = FETCH_CACHE_STALL_RATE;
	f->cache_api.total_s = FETCH_CACHE_TOTAL_S;
	pthread_mutex_init(&f->lock, NULL);
	for (size_t i = 0; i < caches->count; i++)
		journal_info("chunk source %zu: %s (then the server)", i + 1, caches->url[i]);
	return 0;
}

void
chunk_fetcher_free(struct chunk_fetcher *f)
{
	pthread_mutex_destroy(&f->lock);
}

/* GET the frame from url and decompress it: the length, or -EBADMSG (a
 * frame that is not the chunk), or the api_request answer that was not
 * 200 (a status, or a negative errno; err says why). */
static long
fetch_frame(struct api_conn *conn, const char *url, struct api_buf *frame, uint8_t *data,
    const struct image_chunk *c, char *err, size_t errlen)
{
	long n;
	int rc;

	frame->max = ZSTD_COMPRESSBOUND(c->length);
	rc = api_request(conn, "GET", url, NULL, 0, NULL, frame, err, errlen);
	if (rc == -EMSGSIZE)
		return -EBADMSG;
	if (rc != 200)
		return rc > 0 ? -rc : rc;
	n = chunk_decompress_verify(frame->data, frame->len, data, c->length, c->sha256);
	return n == (long)c->length ? n : -EBADMSG;
}

static void
chunk_url(const struct source *s, const char *hex, char *url, size_t size)
{
	snprintf(url, size, "%s%.2s/%s.zst", s->url, hex, hex);
}

static void
fetch_record(struct chunk_fetcher *f, size_t i, enum source_outcome o, uint64_t bytes)
{
	bool rested;
	struct source s;

	pthread_mutex_lock(&f->lock);
	rested = source_set_record(&f->set, i, o, bytes, clock_now_us());
	s = f->set.src[i];
	pthread_mutex_unlock(&f->lock);
	if (rested)
		journal_info("chunk source %s: %u failures in a row: skipped for %" PRIu64 " s",
		    s.url, s.fails, (s.rest_until_us - clock_now_us() + 999999) / 1000000);
}

/* One try at a cache: 0 with the chunk in data, or -EAGAIN (the next
 * source), or -ECANCELED (the run stops). */
static int
fetch_from_cache(struct chunk_fetcher *f, struct api_conn *conn, size_t i,
    struct api_buf *frame, uint8_t *data, const struct image_chunk *c, const char *hex)
{
	struct api_conn via = { .api = &f->cache_api, .curl = conn->curl,
		.abort_on_stop = conn->abort_on_stop };
	char url[SOURCE_URL_MAX + 2 * SHA256_HEX_LEN], err[API_ERR_MAX] = "";
	enum source_outcome o;
	long n;

	chunk_url(&f->set.src[i], hex, url, sizeof url);
	n = fetch_frame(&via, url, frame, data, c, err, sizeof err);
	if (n == -ECANCELED)
		return -ECANCELED;
	if (n >= 0) {
		fetch_record(f, i, SOURCE_OK, c->length);
		return 0;
	}
	o = n == -EBADMSG ? SOURCE_BAD : n == -404 || n == -410 ? SOURCE_MISSING : SOURCE_FAILED;
	journal_info("chunk %s at offset %" PRIu64 " from %s: %s: trying the next source", hex,
	    c->offset, f->set.src[i].url, o == SOURCE_BAD ? "not the chunk (bad frame or hash)" :
	    err[0] != '\0' ? err : "failed");
	fetch_record(f, i, o, 0);
	return -EAGAIN;
}

/* The server, as before caches: its retries, and up to three more fetches
 * of a frame that was not the chunk.  0 or -EIO (recorded). */
static int
fetch_from_server(struct chunk_fetcher *f, struct api_conn *conn, size_t i,
    struct api_buf *frame, uint8_t *data, const struct image_chunk *c, const char *hex)
{
	char url[SOURCE_URL_MAX + 2 * SHA256_HEX_LEN], err[API_ERR_MAX] = "";
	long n = -EBADMSG;

	chunk_url(&f->set.src[i], hex, url, sizeof url);
	for (int k = 0; k < SERVER_FETCH_ATTEMPTS && n == -EBADMSG; k++) {
		if (k > 0) {
			fetch_record(f, i, SOURCE_BAD, 0);
			journal_info("chunk %s at offset %" PRIu64 ": bad frame or hash, "
			    "fetching again", hex, c->offset);
		}
		n = fetch_frame(conn, url, frame, data, c, err, sizeof err);
	}
	if (n >= 0) {
		fetch_record(f, i, SOURCE_OK, c->length);
		return 0;
	}
	if (n == -EBADMSG)
		return agent_fail(f->ag, "chunk %s at offset %" PRIu64 ": hash mismatch", hex,
		    c->offset);
	return agent_fail(f->ag, "chunk %s at offset %" PRIu64 ": %s", hex, c->offset,
	    n == -ECANCELED ? "stopped" : err);
}

int
chunk_fetch(struct chunk_fetcher *f, struct api_conn *conn, struct api_buf *frame,
    uint8_t *data, const struct image_chunk *c)
{
	char hex[SHA256_HEX_LEN + 1];
	size_t i;
	int rc;

	sha256_hex(c->sha256, hex);
	for (size_t from = 0;; from = i + 1) {
		pthread_mutex_lock(&f->lock);
		i = source_set_next(&f->set, from, clock_now_us());
		pthread_mutex_unlock(&f->lock);
		if (f->set.src[i].server)
			return fetch_from_server(f, conn, i, frame, data, c, hex);
		rc = fetch_from_cache(f, conn, i, frame, data, c, hex);
		if (rc == 0)
			return 0;
		if (rc == -ECANCELED)
			return agent_fail(f->ag, "chunk %s at offset %" PRIu64 ": stopped", hex,
			    c->offset);
	}
}

void
chunk_fetcher_report(struct chunk_fetcher *f)
{
	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->set.count; i++) {
		const struct source *s = &f->set.src[i];
		journal_info("chunk source %s%s: %" PRIu64 " chunks, %" PRIu64 " bytes served; "
		    "%" PRIu64 " not the chunk, %" PRIu64 " missing, %" PRIu64 " failed, "
		    "skipped %" PRIu64 " times", s->server ? "(the server) " : "", s->url,
		    s->chunks, s->bytes, s->bad, s->missing, s->failed, s->rests);
	}
	pthread_mutex_unlock(&f->lock);
}
