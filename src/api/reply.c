/* Replies, request bodies and pages of lists.
 *
 * A JSON body is parsed in two steps: a streaming pass (yajl) counts its
 * values and depth and stops at the route's bound, and only a body within
 * it is built into a tree (jansson), whose size is then a known multiple
 * of the bound: a megabyte of "[{},{},...]" costs a scan, not a gigabyte
 * of objects. */
#include "api/internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_parse.h>

#include "core/bus.h"
#include "core/json_text.h"
#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"

#define BODY_DEPTH_MAX 32

int64_t
api_now(void)
{
	return (int64_t)time(NULL);
}

void
api_reply_text(struct api_response *rs, unsigned status, const char *type, char *text,
    size_t len)
{
	rs->status = text != NULL || status == 204 ? status : 500;
	rs->body = text;
	rs->len = text != NULL ? len : 0;
	rs->type = type;
}

void
api_reply_json(struct api_response *rs, unsigned status, json_t *body)
{
	char *text = NULL;

	if (body != NULL) {
		text = json_text(body, JSON_COMPACT, NULL);
		json_decref(body);
	}
	if (text == NULL && status != 204) {
		api_reply_text(rs, 500, "application/json", NULL, 0);
		return;
	}
	api_reply_text(rs, status, "application/json", text, text != NULL ? strlen(text) : 0);
}

void
api_reply_stored(struct api_response *rs, unsigned status, json_t *body, const char *location)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct log_limit limit;
	char *text = body != NULL ? json_text(body, JSON_COMPACT, NULL) : NULL;
	unsigned long held = 0;
	bool say;

	json_decref(body);
	if (location != NULL)
		str_copy(rs->location, location, sizeof rs->location);
	if (text != NULL) {
		api_reply_text(rs, status, "application/json", text, strlen(text));
		return;
	}
	/* done: no 500, which a client's retry would contradict (200, 409) */
	rs->status = status;
	rs->body = NULL;
	rs->len = 0;
	rs->type = "application/json";
	STATS_ADD(api_replies_bodiless, 1);
	pthread_mutex_lock(&lock);
	say = log_limit_take(&limit, (int64_t)(clock_now_us() / 1000000u), LOG_LIMIT_INTERVAL_S,
	    &held);
	pthread_mutex_unlock(&lock);
	if (say)
		log_error("api: a change was stored but its answer could not be made (out of"
		    " memory): %u without a body, Location %s (%lu more since the last line)",
		    status, location != NULL ? location : "none", held);
}

/* The stable, machine-readable name of an error status (docs/API.md). */
const char *
api_error_code(unsigned status)
{
	static const struct {
		unsigned status;
		const char *code;
	} codes[] = {
		{ 400, "bad_request" }, { 401, "unauthorized" }, { 403, "forbidden" },
		{ 404, "not_found" }, { 405, "method_not_allowed" }, { 409, "conflict" },
		{ 413, "too_large" }, { 422, "content_mismatch" }, { 429, "too_many_requests" },
		{ 503, "unavailable" }, { 507, "no_space" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (codes[i].status == status)
			return codes[i].code;
	return status >= 500 ? "server_error" : "error";
}

void
api_reply_error(struct api_response *rs, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	api_reply_json(rs, status, json_pack("{s:o,s:s}", "error", api_json_text(msg), "code",
	    api_error_code(status)));
}

void
api_error_response(struct api_response *rs, unsigned status, const char *message)
{
	memset(rs, 0, sizeof *rs);
	api_reply_error(rs, status, "%s", message);
}

json_t *
api_json_text(const char *text)
{
	size_t len = text != NULL ? strlen(text) : 0;
	size_t size = 3 * len + 1;      /* each bad byte may become U+FFFD */
	char small[512], *buf = size <= sizeof small ? small : malloc(size);
	json_t *s;

	if (buf == NULL)
		return json_string("");
	utf8_sanitize(buf, size, text != NULL ? text : "", len);
	s = json_string(buf);
	if (buf != small)
		free(buf);
	return s;
}

/* ---- JSON bodies ---- */

struct shape {
	unsigned values, max;
	unsigned depth;
};

static int
shape_value(void *ctx)
{
	struct shape *s = ctx;

	return ++s->values <= s->max;
}

static int
shape_null(void *ctx)
{
	return shape_value(ctx);
}

static int
shape_bool(void *ctx, int v)
{
	(void)v;
	return shape_value(ctx);
}

static int
shape_number(void *ctx, const char *v, size_t len)
{
	(void)v;
	(void)len;
	return shape_value(ctx);
}

static int
shape_string(void *ctx, const unsigned char *v, size_t len)
{
	(void)v;
	(void)len;
	return shape_value(ctx);
}

static int
shape_open(void *ctx)
{
	struct shape *s = ctx;

	return shape_value(ctx) && ++s->depth <= BODY_DEPTH_MAX;
}

static int
shape_close(void *ctx)
{
	struct shape *s = ctx;

	s->depth--;
	return 1;
}

static const yajl_callbacks shape_callbacks = {
	.yajl_null = shape_null, .yajl_boolean = shape_bool, .yajl_number = shape_number,
	.yajl_string = shape_string, .yajl_start_map = shape_open,
	.yajl_map_key = shape_string, .yajl_end_map = shape_close,
	.yajl_start_array = shape_open, .yajl_end_array = shape_close,
};

/* 0 when the text is one JSON value of at most max values and keys and
 * BODY_DEPTH_MAX levels; -E2BIG past a bound, -EINVAL when not JSON. */
static int
shape_check(const char *text, size_t len, unsigned max)
{
	struct shape s = { .max = max };
	yajl_handle h = yajl_alloc(&shape_callbacks, NULL, &s);
	yajl_status st;

	if (h == NULL)
		return -ENOMEM;
	st = yajl_parse(h, (const unsigned char *)text, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	if (st == yajl_status_client_canceled)
		return -E2BIG;
	return st == yajl_status_ok ? 0 : -EINVAL;
}

json_t *
api_body_json(struct api_call *c)
{
	json_error_t err;
	json_t *v;
	int rc = shape_check(c->body != NULL ? c->body : "", c->body_len, c->route->json_max);

	if (rc == -E2BIG) {
		api_reply_error(c->rs, 400, "body holds more than %u JSON values or %d levels",
		    c->route->json_max, BODY_DEPTH_MAX);
		return NULL;
	}
	/* Only a body the scan read whole goes to jansson: jansson reads
	 * past a NUL byte that stops the scan, so "\0[1,1,...]" was built
	 * whatever its size (found by fuzz_json_body). */
	if (rc != 0) {
		api_reply_error(c->rs, 400, "body is not JSON%s", rc == -ENOMEM ?
		    " (out of memory)" : "");
		return NULL;
	}
	v = json_loadb(c->body != NULL ? c->body : "", c->body_len, JSON_REJECT_DUPLICATES,
	    &err);
	if (v == NULL)
		api_reply_error(c->rs, 400, "body is not JSON: %s", err.text);
	return v;
}

/* ---- query arguments and pages ---- */

const char *
api_query(const struct api_call *c, const char *key)
{
	for (size_t i = 0; i < c->nquery; i++)
		if (strcmp(c->query[i].key, key) == 0)
			return c->query[i].value;
	return NULL;
}

int
api_page(struct api_call *c, unsigned *limit, const char **after)
{
	const char *l = api_query(c, "limit");
	uint64_t n = API_PAGE_DEFAULT;

	if (l != NULL && parse_u64(l, strlen(l), 1, API_PAGE_MAX, &n) < 0) {
		api_reply_error(c->rs, 400, "limit: 1 to %d", API_PAGE_MAX);
		return -EINVAL;
	}
	*limit = (unsigned)n;
	*after = api_query(c, "after");
	if (*after == NULL)
		*after = "";
	return 0;
}

void
api_reply_page(struct api_call *c, const char *key, json_t *items, int64_t total,
    unsigned limit, const char *last)
{
	json_t *o = json_object();

	json_object_set_new(o, key, items);
	json_object_set_new(o, "total", json_integer(total));
	json_object_set_new(o, "next", json_array_size(items) >= limit && last != NULL ?
	    api_json_text(last) : json_null());
	api_reply_json(c->rs, 200, o);
}

void
api_publish(const char *kind, json_t *data)
{
	char *text = data != NULL ? json_text(data, JSON_COMPACT, NULL) : NULL;

	json_decref(data);
	if (text != NULL)
		bus_publish(kind, text, strlen(text));
	else
		bus_lost(kind);
	free(text);
}

void
api_publish_task(struct store *st, int64_t id)
{
	struct store_task t;
	json_t *o;

	if (store_task_get(st, id, &t) < 0)
		return;
	o = api_task_json(&t);
	json_object_del(o, "log");      /* the log is for GET /api/v1/tasks/ID */
	api_publish("task", o);
}

/* Made without an allocation (mac is canonical text, change a word of
 * ours), into the ring's own room: a host event is not lost for want of
 * memory. */
void
api_publish_host(const char *mac, const char *change)
{
	char text[STORE_MAC_TEXT + 64];
	int n = snprintf(text, sizeof text, "{\"mac\":\"%s\",\"change\":\"%s\"}", mac, change);

	if (n > 0 && (size_t)n < sizeof text)
		bus_publish("host", text, (size_t)n);
	else
		bus_lost("host");
}
