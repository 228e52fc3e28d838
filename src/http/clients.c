/* /api/v1/clients and /api/v1/clients/MAC: the boot timeline.
 *
 * Runs in libmicrohttpd's threads, so it reads through a store connection
 * of its own (SQLite in WAL mode lets it read beside the loop's writer). */
#include "http/internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	json_object_set_new(e, "kind", json_string(kind));
	json_object_set_new(e, "detail", json_string(detail));
	return e;
}

static char *
dump(json_t *root, size_t *len)
{
	char *text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;

	json_decref(root);
	if (text != NULL)
		*len = strlen(text);
	return text;
}

char *
http_clients_json(const char *state_dir, size_t *len, unsigned *status)
{
	struct store *st = NULL;
	struct store_client *list = calloc(CLIENTS_MAX, sizeof *list);
	json_t *root = json_object(), *arr = json_array();
	char mac[64];
	int n;

	*status = 500;
	if (list == NULL || root == NULL || arr == NULL || (st = http_store(state_dir)) == NULL ||
	    (n = store_client_list(st, list, CLIENTS_MAX)) < 0) {
		free(list);
		json_decref(arr);
		json_decref(root);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		mac_text(list[i].mac, list[i].mac_len, mac, sizeof mac);
		json_t *c = event_json(list[i].last_ms, list[i].last_kind, list[i].last_detail);
		if (c != NULL) {
			json_object_set_new(c, "mac", json_string(mac));
			json_array_append_new(arr, c);
		}
	}
	json_object_set_new(root, "clients", arr);
	free(list);
	*status = 200;
	return dump(root, len);
}

char *
http_client_json(const char *state_dir, const char *mac_arg, size_t *len, unsigned *status)
{
	uint8_t mac[6];
	struct store *st = NULL;
	struct store_event *ev;
	json_t *root, *arr;
	int n;

	*status = 404;
	if (config_parse_mac(mac_arg, mac) != 0)
		return NULL;
	*status = 500;
	ev = calloc(EVENTS_MAX, sizeof *ev);
	root = json_object();
	arr = json_array();
	if (ev == NULL || root == NULL || arr == NULL || (st = http_store(state_dir)) == NULL ||
	    (n = store_event_list(st, mac, 6, ev, EVENTS_MAX)) < 0) {
		free(ev);
		json_decref(arr);
		json_decref(root);
		return NULL;
	}
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, event_json(ev[i].when_ms, ev[i].kind, ev[i].detail));
	json_object_set_new(root, "mac", json_string(mac_arg));
	json_object_set_new(root, "events", arr);
	free(ev);
	*status = n > 0 ? 200 : 404;
	return dump(root, len);
}
