/* Server-Sent Events, the reading side (pxectl watch): bytes as they come
 * off the connection, in pieces of any size, into events.
 *
 * A line ends at '\n' (a '\r' before it is dropped); "event: KIND" and
 * "data: TEXT" set the event's fields (the blank after the colon is
 * optional, as the format allows), several data lines are joined with
 * '\n', other lines (": keepalive", "id: N", unknown fields) are skipped,
 * and a blank line hands the event over when it has data.  Bounded: a
 * line longer than SSE_LINE_MAX and an event's data past SSE_DATA_MAX are
 * cut (the event is marked cut), a kind past SSE_KIND_MAX too.  Pure: no
 * I/O, no allocation. */
#ifndef PXED_CORE_SSE_H
#define PXED_CORE_SSE_H

#include <stdbool.h>
#include <stddef.h>

#define SSE_LINE_MAX 65536
#define SSE_DATA_MAX 65536
#define SSE_KIND_MAX 32

struct sse_event {
	const char *kind;               /* "message" when the event named none */
	const char *data;               /* NUL-terminated, no NUL inside */
	size_t len;
	bool cut;                       /* a line or the data was longer than allowed */
};

/* Return false to stop: sse_feed then returns at once. */
typedef bool (*sse_event_fn)(void *arg, const struct sse_event *e);

struct sse_reader {
	char line[SSE_LINE_MAX];
	size_t line_len;
	bool line_cut;
	char kind[SSE_KIND_MAX];
	char data[SSE_DATA_MAX];
	size_t data_len;
	bool has_data, cut;
	sse_event_fn fn;
	void *arg;
};

void sse_reader_init(struct sse_reader *r, sse_event_fn fn, void *arg);
/* Feed n bytes; false when the callback asked to stop. */
bool sse_feed(struct sse_reader *r, const char *bytes, size_t n);

#endif
