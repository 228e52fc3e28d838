/* Server-Sent Events, the reading side: core/sse.h. */
#include "core/sse.h"

#include <string.h>

#include "core/util.h"

void
sse_reader_init(struct sse_reader *r, sse_event_fn fn, void *arg)
{
	r->line_len = 0;
	r->line_cut = false;
	r->kind[0] = '\0';
	r->data[0] = '\0';
	r->data_len = 0;
	r->has_data = r->cut = false;
	r->fn = fn;
	r->arg = arg;
}

/* The value of field name in line (len bytes), or NULL: "name:" then an
 * optional blank. */
static const char *
field_value(const char *line, size_t len, const char *name, size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || memcmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	n++;
	if (n < len && line[n] == ' ')
		n++;
	*vlen = len - n;
	return line + n;
}

static void
data_append(struct sse_reader *r, const char *v, size_t len)
{
	size_t room = SSE_DATA_MAX - 1 - r->data_len;

	if (r->has_data) {
		if (room == 0) {
			r->cut = true;
			return;
		}
		r->data[r->data_len++] = '\n';
		room--;
	}
	if (len > room) {
		len = room;
		r->cut = true;
	}
	memcpy(r->data + r->data_len, v, len);
	r->data_len += len;
	r->data[r->data_len] = '\0';
	r->has_data = true;
}

/* A blank line: the event, if it has data; then a new one. */
static bool
event_end(struct sse_reader *r)
{
	struct sse_event e = { r->kind[0] != '\0' ? r->kind : "message", r->data, r->data_len,
		r->cut };
	bool go_on = !r->has_data || r->fn(r->arg, &e);

	r->kind[0] = '\0';
	r->data[0] = '\0';
	r->data_len = 0;
	r->has_data = r->cut = false;
	return go_on;
}

static bool
line_end(struct sse_reader *r)
{
	const char *line = r->line, *v;
	size_t len = r->line_len, vlen;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	r->cut |= r->line_cut;
	r->line_len = 0;
	r->line_cut = false;
	if (len == 0)
		return event_end(r);
	if ((v = field_value(line, len, "event", &vlen)) != NULL) {
		if (vlen >= SSE_KIND_MAX) {
			vlen = SSE_KIND_MAX - 1;
			r->cut = true;
		}
		memcpy(r->kind, v, vlen);
		r->kind[vlen] = '\0';
	} else if ((v = field_value(line, len, "data", &vlen)) != NULL) {
		data_append(r, v, vlen);
	}
	return true;
}

bool
sse_feed(struct sse_reader *r, const char *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char b = bytes[i];
		if (b == '\n') {
			if (!line_end(r))
				return false;
		} else if (b == '\0' || r->line_len == SSE_LINE_MAX) {
			r->line_cut = true;     /* a NUL cannot be kept in text */
		} else {
			r->line[r->line_len++] = b;
		}
	}
	return true;
}
