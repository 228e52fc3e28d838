/* /metrics and /api/v1/status: the counters of core/stats.h. */
#include "api/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/stats.h"
#include "core/util.h"

#include "core/version.h"

struct counter_def {
	const char *group;      /* "tftp" or "http": JSON object, metric prefix */
	const char *key;
	size_t offset;          /* in struct stats */
	bool gauge;             /* else a counter ("_total") */
	const char *help;
};

#define COUNTER(g, k, gauge, help) { #g, #k, offsetof(struct stats, g##_##k), gauge, help }

static const struct counter_def counters[] = {
	COUNTER(tftp, requests, false, "TFTP read and write requests received."),
	COUNTER(tftp, transfers_ok, false, "TFTP transfers completed."),
	COUNTER(tftp, transfers_failed, false, "TFTP transfers that failed."),
	COUNTER(tftp, sessions_active, true, "TFTP sessions in progress."),
	COUNTER(tftp, bytes_sent, false, "TFTP payload bytes sent."),
	COUNTER(tftp, bytes_received, false, "TFTP payload bytes received."),
	COUNTER(tftp, retransmits, false, "TFTP blocks sent again."),
	COUNTER(tftp, bad_packets, false, "TFTP packets that could not be parsed."),
	COUNTER(tftp, refused, false, "TFTP requests refused over a session cap."),
	COUNTER(http, requests, false, "HTTP requests received."),
	COUNTER(http, bytes_sent, false, "HTTP body bytes sent."),
	COUNTER(http, errors, false, "HTTP requests answered with 4xx or 5xx."),
	COUNTER(http, connections_active, true, "HTTP connections open."),
	COUNTER(http, bodies_refused, false,
	    "HTTP requests refused (503): request bodies in flight at http-body-memory."),
	COUNTER(http, bodies_slow, false,
	    "HTTP requests cut off: their body came slower than http-body-min-rate."),
	COUNTER(http, headers_slow, false,
	    "HTTP connections closed: a request's line and headers did not come within"
	    " http-header-timeout (the first) or http-timeout (the next)."),
	COUNTER(dhcp, new_clients_refused, false,
	    "DHCP requests of new clients not served: over dhcp-new-client-rate or "
	    "dhcp-relay-rate, or the pool down to dhcp-pool-reserve."),
	COUNTER(dhcp, pool_low_alarms, false,
	    "DHCP pools that fell below dhcp-pool-low percent free."),
	COUNTER(dhcp, pools_low, true, "DHCP pools below dhcp-pool-low percent free now."),
	COUNTER(dhcp, rogue_replies, false,
	    "Answers of other DHCP servers heard on full-mode subnets."),
	COUNTER(dhcp, rogue_servers, true, "Other DHCP servers heard on full-mode subnets."),
	COUNTER(dhcp, probes_sent, false, "DISCOVERs sent to find other DHCP servers."),
	COUNTER(dhcp, store_unreachable, true,
	    "1 while the state store does not answer DHCP's store worker (no new leases)."),
	COUNTER(dhcp, store_outages, false, "Times the state store stopped answering DHCP."),
	COUNTER(dhcp, outage_renewals, false,
	    "DHCP renewals ACKed from memory while the state store did not answer."),
	COUNTER(dhcp, outage_refused, false,
	    "DHCP DISCOVERs and REQUESTs not answered while the state store did not answer."),
	COUNTER(http, chunks_sent, false,
	    "Image chunks served whole (GET /images/chunks/...: to agents or caches)."),
	COUNTER(http, chunk_bytes_sent, false, "Bytes of the image chunks served whole."),
	COUNTER(api, hosts_refused, false,
	    "Hosts not registered by a boot script: host-register-rate or hosts-max."),
	COUNTER(api, task_tokens_refused, false,
	    "Boot scripts and agent requests refused: the task's token is bound to another"
	    " address (task-token-bind)."),
	COUNTER(api, events_lost, false,
	    "Events (GET /api/v1/events) lost: their JSON could not be made or copied"
	    " (out of memory), or was over 8 KiB."),
	COUNTER(api, replies_bodiless, false,
	    "Changes stored and answered 200/201 without their JSON body (with a Location):"
	    " the body could not be made (out of memory)."),
};

static uint64_t
counter_value(const struct counter_def *def)
{
	atomic_uint_fast64_t *p = (atomic_uint_fast64_t *)(void *)
	    ((char *)&stats + def->offset);

	return (uint64_t)atomic_load_explicit(p, memory_order_relaxed);
}

char *
api_metrics_text(size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(counters); i++) {
		const struct counter_def *d = &counters[i];
		const char *suffix = d->gauge ? "" : "_total";
		fprintf(f, "# HELP pxed_%s_%s%s %s\n", d->group, d->key, suffix, d->help);
		fprintf(f, "# TYPE pxed_%s_%s%s %s\n", d->group, d->key, suffix,
		    d->gauge ? "gauge" : "counter");
		fprintf(f, "pxed_%s_%s%s %" PRIu64 "\n", d->group, d->key, suffix,
		    counter_value(d));
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (len != NULL)
		*len = size;
	return buf;
}

/* {"requests": N, ...} for one group; NULL when out of memory. */
static json_t *
group_json(const char *group)
{
	json_t *obj = json_object();

	if (obj == NULL)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(counters); i++) {
		if (strcmp(counters[i].group, group) != 0)
			continue;
		json_int_t v = (json_int_t)MIN(counter_value(&counters[i]),
		    (uint64_t)INT64_MAX);
		if (json_object_set_new(obj, counters[i].key, json_integer(v)) < 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

/* [{"name": "tftp", "listen": ["0.0.0.0:69", ...]}, {"name": "dhcp",
 * "mode": "server", ...}, ...] */
static json_t *
services_json(const struct api_service *list, size_t count)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < count; i++) {
		json_t *addrs = json_array(), *sv;
		for (size_t j = 0; addrs != NULL && j < list[i].count; j++)
			json_array_append_new(addrs, json_string(list[i].listen[j]));
		sv = json_pack("{s:s,s:o*}", "name", list[i].name, "listen", addrs);
		if (sv != NULL && list[i].mode != NULL)
			json_object_set_new(sv, "mode", json_string(list[i].mode));
		if (sv == NULL || json_array_append_new(arr, sv) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* The state store as this thread's connection sees it: its engine and
 * whether the database answers now (not when the thread could not even
 * connect: st NULL, the engine from where). */
static json_t *
store_json(const char *where, struct store *st)
{
	json_t *o = json_object();

	if (o == NULL || (st == NULL && where == NULL))
		return o;
	json_object_set_new(o, "engine", json_string(st != NULL ? store_engine(st) :
	    store_engine_of(where)));
	json_object_set_new(o, "reachable", json_boolean(st != NULL && store_ping(st) == 0));
	return o;
}

char *
api_status_json(uint64_t uptime_s, const struct api_service *services, size_t count,
    const char *where, struct store *st, size_t *len)
{
	json_t *root = json_object();
	char *text = NULL;

	if (root == NULL)
		return NULL;
	if (json_object_set_new(root, "version", json_string(PXED_VERSION)) == 0 &&
	    json_object_set_new(root, "state", store_json(where, st)) == 0 &&
	    json_object_set_new(root, "services", services_json(services, count)) == 0 &&
	    json_object_set_new(root, "uptime_s",
	    json_integer((json_int_t)MIN(uptime_s, (uint64_t)INT64_MAX))) == 0 &&
	    json_object_set_new(root, "tftp", group_json("tftp")) == 0 &&
	    json_object_set_new(root, "http", group_json("http")) == 0 &&
	    json_object_set_new(root, "api", group_json("api")) == 0)
		text = json_text(root, JSON_COMPACT, NULL);
	json_decref(root);
	if (text != NULL && len != NULL)
		*len = strlen(text);
	return text;
}

int
api_metrics_auth_check(const char *value, char *err, size_t size)
{
	if (strcmp(value, "open") == 0 || strcmp(value, "read") == 0)
		return 0;
	snprintf(err, size, "'%.32s' is not open or read", value);
	return -EINVAL;
}

static void
route_status(struct api_call *c)
{
	size_t len = 0;
	char *text = api_status_json((clock_now_us() - c->api->started_us) / 1000000u,
	    c->api->cfg.services, c->api->cfg.services_count, c->api->state, c->st, &len);

	api_reply_text(c->rs, text != NULL ? 200 : 503, "application/json", text, len);
}

static void
route_metrics(struct api_call *c)
{
	size_t len = 0;
	char *text = api_metrics_text(&len);

	api_reply_text(c->rs, text != NULL ? 200 : 503, "text/plain; version=0.0.4; charset=utf-8",
	    text, len);
}

const struct api_route api_status_routes[] = {
	{ "GET", "api/v1/status", API_COUNTERS, .handler = route_status, .statuses = "200",
	    .no_store = true,
	    .summary = "version, uptime, the services and their sockets, the counters" },
	{ "GET", "metrics", API_COUNTERS, .handler = route_metrics, .statuses = "200",
	    .summary = "the counters for Prometheus" },
	{ NULL },
};
