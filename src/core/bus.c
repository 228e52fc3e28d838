/* The event bus.  See bus.h. */
#include "core/bus.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"

struct slot {
	uint64_t seq;
	char kind[BUS_KIND_MAX];
	char *data;                     /* small, or malloc'd */
	size_t len;
	char small[BUS_SMALL];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot ring[BUS_EVENTS];
static uint64_t last;                   /* sequence numbers given out */
static void (*notify_fn)(void *);
static void *notify_arg;
static struct log_limit lost_log;       /* under lock */

void
bus_lost(const char *kind)
{
	unsigned long held = 0;
	bool say;

	STATS_ADD(api_events_lost, 1);
	pthread_mutex_lock(&lock);
	say = log_limit_take(&lost_log, (int64_t)(clock_now_us() / 1000000u),
	    LOG_LIMIT_INTERVAL_S, &held);
	pthread_mutex_unlock(&lock);
	if (say)
		log_error("events: a %s event is lost (out of memory, or over %d bytes): listeners"
		    " do not see it (%lu more lost since the last line)", kind, BUS_DATA_MAX, held);
}

uint64_t
bus_publish(const char *kind, const char *json, size_t len)
{
	char *copy = NULL;
	struct slot *s;
	uint64_t seq;
	void (*fn)(void *);
	void *arg;

	if (len > BUS_DATA_MAX || (len >= BUS_SMALL && (copy = malloc(len + 1)) == NULL)) {
		bus_lost(kind);
		return 0;
	}
	pthread_mutex_lock(&lock);
	seq = ++last;
	s = &ring[seq % BUS_EVENTS];
	if (s->data != s->small)
		free(s->data);
	s->seq = seq;
	s->len = len;
	s->data = copy != NULL ? copy : s->small;
	memcpy(s->data, json, len);
	s->data[len] = '\0';
	str_copy(s->kind, kind, sizeof s->kind);
	fn = notify_fn;
	arg = notify_arg;
	pthread_mutex_unlock(&lock);
	if (fn != NULL)
		fn(arg);
	return seq;
}

int
bus_read(uint64_t after, struct bus_event *out, uint64_t *gap)
{
	uint64_t want, oldest;
	const struct slot *s;
	int rc = 1;

	*gap = 0;
	pthread_mutex_lock(&lock);
	if (after >= last) {
		pthread_mutex_unlock(&lock);
		return 0;
	}
	want = after + 1;
	oldest = last >= BUS_EVENTS ? last - BUS_EVENTS + 1 : 1;
	if (want < oldest) {
		*gap = oldest - want;
		want = oldest;
		rc = -1;
	}
	s = &ring[want % BUS_EVENTS];
	out->seq = s->seq;
	str_copy(out->kind, s->kind, sizeof out->kind);
	out->len = s->len;
	out->data = malloc(s->len + 1);
	if (out->data != NULL)
		memcpy(out->data, s->data, s->len + 1);
	pthread_mutex_unlock(&lock);
	if (out->data == NULL)
		return 0;
	return rc;
}

uint64_t
bus_last(void)
{
	uint64_t v;

	pthread_mutex_lock(&lock);
	v = last;
	pthread_mutex_unlock(&lock);
	return v;
}

void
bus_set_notify(void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&lock);
	notify_fn = fn;
	notify_arg = arg;
	pthread_mutex_unlock(&lock);
}

void
bus_publish_boot(const uint8_t *mac, size_t mac_len, const char *kind, const char *detail,
    int64_t when_ms)
{
	char text[64] = "", safe[3 * 256 + 1];
	size_t o = 0;
	json_t *e;
	char *json;

	for (size_t i = 0; i < mac_len && o + 4 <= sizeof text; i++)
		o += (size_t)snprintf(text + o, sizeof text - o, i ? ":%02x" : "%02x", mac[i]);
	utf8_sanitize(safe, sizeof safe, detail != NULL ? detail : "",
	    detail != NULL ? strnlen(detail, 256) : 0);
	e = json_pack("{s:s,s:s,s:s,s:I}", "mac", text, "kind", kind, "detail", safe,
	    "time_ms", (json_int_t)when_ms);
	json = e != NULL ? json_text(e, JSON_COMPACT, NULL) : NULL;
	json_decref(e);
	if (json != NULL)
		bus_publish("boot", json, strlen(json));
	else
		bus_lost("boot");
	free(json);
}
