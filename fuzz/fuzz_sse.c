/* libFuzzer harness: the Server-Sent Events reader (core/sse.c) that
 * pxectl watch reads /api/v1/events with.
 *
 * What must hold: events keep their bounds (kind below SSE_KIND_MAX, data
 * below SSE_DATA_MAX with no NUL, its length right); the same bytes fed
 * whole and fed in pieces of any size give the same events; an event the
 * server would write ("event: K\ndata: D\n\n", D without a newline) reads
 * back as K and D.
 *
 * Input: byte 0 the size of the pieces (1 to 256), the rest the stream. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EVENTS_MAX 64

struct seen {
	size_t count;
	uint64_t hash[EVENTS_MAX];      /* of kind, data and cut */
	size_t total;
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211u;
	return h;
}

static bool
on_event(void *arg, const struct sse_event *e)
{
	struct seen *s = arg;
	size_t klen = strnlen(e->kind, SSE_KIND_MAX);

	if (klen >= SSE_KIND_MAX || e->len >= SSE_DATA_MAX || strlen(e->data) != e->len)
		abort();
	if (s->count < EVENTS_MAX)
		s->hash[s->count++] = fnv(fnv(fnv(14695981039346656037u, e->kind, klen + 1),
		    e->data, e->len), &e->cut, sizeof e->cut);
	s->total++;
	return true;
}

static void
feed(const uint8_t *data, size_t size, size_t piece, struct seen *s)
{
	static struct sse_reader r;

	memset(s, 0, sizeof *s);
	sse_reader_init(&r, on_event, s);
	for (size_t at = 0; at < size; at += piece) {
		size_t n = size - at < piece ? size - at : piece;
		char *copy = malloc(n);         /* exactly n: ASan sees over-reads */
		if (copy == NULL)
			abort();
		memcpy(copy, data + at, n);
		(void)sse_feed(&r, copy, n);
		free(copy);
	}
}

struct one {
	char kind[SSE_KIND_MAX];
	char data[512];
	int count;
};

static bool
on_one(void *arg, const struct sse_event *e)
{
	struct one *o = arg;

	snprintf(o->kind, sizeof o->kind, "%s", e->kind);
	snprintf(o->data, sizeof o->data, "%s", e->data);
	o->count++;
	return true;
}

/* The first line of the input as data, a name of its first bytes as the
 * kind: formatted as the server does, read back the same. */
static void
check_roundtrip(const uint8_t *data, size_t size)
{
	static struct sse_reader r;
	char text[1200], kind[16], value[400];
	size_t k = 0, v = 0;
	struct one o = { .count = 0 };

	for (size_t i = 0; i < size && k < sizeof kind - 1; i++)
		if (data[i] >= 'a' && data[i] <= 'z')
			kind[k++] = (char)data[i];
	kind[k] = '\0';
	for (size_t i = 0; i < size && v < sizeof value - 1; i++)
		if (data[i] != '\n' && data[i] != '\r' && data[i] != '\0')
			value[v++] = (char)data[i];
	value[v] = '\0';
	if (k == 0 || v == 0)
		return;
	int n = snprintf(text, sizeof text, "id: 7\nevent: %s\ndata: %s\n\n: keepalive\n\n", kind,
	    value);
	sse_reader_init(&r, on_one, &o);
	(void)sse_feed(&r, text, (size_t)n);
	if (o.count != 1 || strcmp(o.kind, kind) != 0 || strcmp(o.data, value) != 0) {
		fprintf(stderr, "'%s' '%s' read back as %d: '%s' '%s'\n", kind, value, o.count,
		    o.kind, o.data);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen whole, pieces;

	if (size < 1)
		return 0;
	size_t piece = (size_t)data[0] + 1;
	feed(data + 1, size - 1, size, &whole);
	feed(data + 1, size - 1, piece, &pieces);
	if (whole.total != pieces.total || memcmp(whole.hash, pieces.hash,
	    whole.count * sizeof whole.hash[0]) != 0)
		abort();
	check_roundtrip(data + 1, size - 1);
	return 0;
}
