/* GET /api/v1/events: Server-Sent Events (docs/API.md, "Events").
 *
 * Each listener reads the event bus (core/bus.h) from where it joined, or
 * from Last-Event-ID: "id: SEQ", "event: KIND", "data: JSON", a blank
 * line.  Events a slow listener missed (pushed out of the bus's ring) are
 * told as one "gap" event with their count, so a client knows to reload
 * what it shows.  A comment line keeps an idle connection alive: one
 * after 10 s of silence, seen by the stream's 5 s tick (http/stream.c), so
 * never more than 15 s apart.  At most EVENTS_LISTENERS at once (503 past it): a listener holds a
 * connection for as long as it listens. */
#include "api/internal.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/util.h"

#define EVENTS_LISTENERS 64
#define KEEPALIVE_US 10000000u        /* + the 5 s tick: at most 15 s */

static atomic_uint listeners;

struct listener {
	uint64_t cursor;                /* the last event sent */
	uint64_t last_us;               /* when something was last sent */
	char *pending;                  /* formatted, not yet all sent */
	size_t off, len;
};

/* The next event after the cursor, formatted into l->pending: false when
 * there is none. */
static bool
listener_next(struct listener *l)
{
	struct bus_event e;
	uint64_t gap;
	int rc = bus_read(l->cursor, &e, &gap);
	size_t size;

	if (rc == 0)
		return false;
	size = e.len + 160;
	l->pending = malloc(size);
	if (l->pending == NULL) {
		free(e.data);
		return false;
	}
	l->len = 0;
	if (rc < 0)
		l->len = (size_t)snprintf(l->pending, size, "event: gap\ndata: {\"lost\":%" PRIu64
		    "}\n\n", gap);
	l->len += (size_t)snprintf(l->pending + l->len, size - l->len,
	    "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", e.seq, e.kind, e.data);
	l->off = 0;
	l->cursor = e.seq;
	free(e.data);
	return true;
}

static long
listener_read(void *ctx, char *buf, size_t max)
{
	struct listener *l = ctx;
	uint64_t now = clock_now_us();
	size_t n;

	if (l->pending == NULL && !listener_next(l)) {
		static const char keepalive[] = ": keepalive\n\n";
		if (now - l->last_us < KEEPALIVE_US || max < sizeof keepalive)
			return 0;
		memcpy(buf, keepalive, sizeof keepalive - 1);
		l->last_us = now;
		return (long)(sizeof keepalive - 1);
	}
	n = MIN(max, l->len - l->off);
	memcpy(buf, l->pending + l->off, n);
	l->off += n;
	if (l->off == l->len) {
		free(l->pending);
		l->pending = NULL;
	}
	l->last_us = now;
	return (long)n;
}

static void
listener_done(void *ctx)
{
	struct listener *l = ctx;

	free(l->pending);
	free(l);
	atomic_fetch_sub(&listeners, 1);
}

static void
events_listen(struct api_call *c)
{
	struct listener *l;
	uint64_t from = bus_last();

	if (c->last_event_id[0] != '\0' && parse_u64(c->last_event_id,
	    strlen(c->last_event_id), 0, UINT64_MAX, &from) < 0) {
		api_reply_error(c->rs, 400, "Last-Event-ID: an event's id");
		return;
	}
	if (atomic_fetch_add(&listeners, 1) >= EVENTS_LISTENERS) {
		atomic_fetch_sub(&listeners, 1);
		api_reply_error(c->rs, 503, "%d event listeners already", EVENTS_LISTENERS);
		return;
	}
	l = calloc(1, sizeof *l);
	if (l == NULL) {
		atomic_fetch_sub(&listeners, 1);
		api_reply_error(c->rs, 503, "out of memory");
		return;
	}
	l->cursor = MIN(from, bus_last());
	l->last_us = clock_now_us();
	c->rs->status = 200;
	c->rs->type = "text/event-stream";
	c->rs->stream = (struct api_stream){ listener_read, listener_done, l };
}

const struct api_route api_events_routes[] = {
	{ "GET", "api/v1/events", API_READ, .handler = events_listen, .statuses = "200 400",
	    .summary = "Server-Sent Events: boot, task, mcast, host (Last-Event-ID resumes)" },
	{ NULL },
};
