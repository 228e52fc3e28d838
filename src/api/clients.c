/* /api/v1/clients and /api/v1/clients/MAC: the boot timeline, and the
 * HTTP downloads that go into it.
 *
 * Runs in libmicrohttpd's threads, so it reads through a store connection
 * of its own (SQLite in WAL mode lets it read beside the loop's writer).
 * Event details hold text from clients: made valid UTF-8 on the way out. */
#include "api/diag.h"
#include "api/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/util.h"
#include "store/store.h"

#define CLIENTS_MAX 500
#define EVENTS_MAX STORE_EVENTS_PER_MAC

static void
mac_text(const uint8_t *mac, size_t len, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < len && o + 4 <= size; i++)
		o += (size_t)snprintf(out + o, size - o, i ? ":%02x" : "%02x", mac[i]);
}

static json_t *
event_json(int64_t when_ms, const char *kind, const char *detail)
{
	json_t *e = json_object();

	if (e == NULL)
		return NULL;
	json_object_set_new(e, "time_ms", json_integer((json_int_t)when_ms));
	json_object_set_new(e, "kind", api_json_text(kind));
	json_object_set_new(e, "detail", api_json_text(detail));
	return e;
}

static void
clients_list(struct api_call *c)
{
	struct store_client *list = calloc(CLIENTS_MAX, sizeof *list);
	json_t *arr = json_array();
	char mac[64];
	int n = list != NULL ? store_client_list(c->st, list, CLIENTS_MAX) : -ENOMEM;

	for (int i = 0; i < n; i++) {
		json_t *e = event_json(list[i].last_ms, list[i].last_kind, list[i].last_detail);
		mac_text(list[i].mac, list[i].mac_len, mac, sizeof mac);
		if (e != NULL) {
			json_object_set_new(e, "mac", json_string(mac));
			json_array_append_new(arr, e);
		}
	}
	free(list);
	if (n < 0) {
		json_decref(arr);
		api_reply_error(c->rs, 500, "cannot read the boot timelines");
		return;
	}
	api_reply_json(c->rs, 200, json_pack("{s:o}", "clients", arr));
}

static void
client_show(struct api_call *c)
{
	struct store_event *ev;
	uint8_t mac[6];
	json_t *arr;
	int n;

	if (config_parse_mac(c->arg[0], mac) != 0) {
		api_reply_error(c->rs, 404, "%s is not a MAC address", c->arg[0]);
		return;
	}
	ev = calloc(EVENTS_MAX, sizeof *ev);
	n = ev != NULL ? store_event_list(c->st, mac, 6, ev, EVENTS_MAX) : -ENOMEM;
	if (n <= 0) {
		free(ev);
		api_reply_error(c->rs, n == 0 ? 404 : 500, n == 0 ? "no events for %s" :
		    "cannot read the timeline of %s", c->arg[0]);
		return;
	}
	arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, event_json(ev[i].when_ms, ev[i].kind, ev[i].detail));
	free(ev);
	api_reply_json(c->rs, 200, json_pack("{s:o,s:o}", "mac", api_json_text(c->arg[0]),
	    "events", arr));
}

void
api_timeline_http(struct api *a, struct in_addr peer, const char *path, uint64_t bytes,
    uint64_t ms, bool ok)
{
	struct store *st = a->cfg.timeline ? api_thread_store(a->state) : NULL;
	uint8_t mac[16];
	size_t mac_len;
	char detail[400];
	struct timespec ts;

	api_env_served(a, peer, path, bytes, ok);       /* a boot task's program */
	/* the MAC of its lease, or (proxy mode) of the address it said it has */
	if (st == NULL || peer.s_addr == 0 || (mac_len = store_mac_of(st, peer, mac)) == 0)
		return;
	snprintf(detail, sizeof detail, "%s %" PRIu64 " bytes in %" PRIu64 " ms", path,
	    ok ? bytes : 0, ms);
	clock_gettime(CLOCK_REALTIME, &ts);
	if (store_event_add(st, mac, mac_len, ok ? "http-done" : "http-aborted",
	    detail, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) == 0)
		(void)store_events_flush(st);
}

const struct api_route api_clients_routes[] = {
	{ "GET", "api/v1/clients", API_READ, .handler = clients_list, .statuses = "200",
	    .summary = "machines seen booting, with their last event" },
	{ "GET", "api/v1/clients/{mac}", API_READ, .handler = client_show,
	    .statuses = "200 404",
	    .summary = "one machine's boot timeline" },
	{ NULL },
};
