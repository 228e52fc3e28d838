/* What the servers sharing one database run (api/internal.h): each one
 * publishes its transfers in flight and multicast sessions with its
 * heartbeat (the share thread calls api_running_text once a second and
 * writes the text into its row of the servers table); the list routes,
 * on the HTTP threads with their own store connection, read the other
 * live servers' rows and append their entries, each marked with the
 * server that runs it.  A server whose heartbeat is older than
 * DHCP_SHARE_DEAD_MS is not read.  On SQLite (one server) no other server
 * writes a row (the statement finds none) and this server's entries are
 * not marked. */
#include "api/internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/log.h"
#include "core/util.h"
#include "dhcp/share.h"
#include "store/servers.h"

void
api_set_server_name(struct api *a, const char *name)
{
	str_copy(a->server_name, name != NULL && name[0] != '\0' ? name : "pxed",
	    sizeof a->server_name);
}

char *
api_running_text(void *api, struct store *st)
{
	struct api *a = api;
	json_t *transfers = NULL;
	size_t more = 0;

	if (api_transfers_json(a, st, API_RUNNING_MAX, &transfers, &more) != 0)
		return NULL;
	json_t *mcast = api_mcast_sessions_json(a);
	json_t *o = json_pack("{s:o, s:o}", "transfers", transfers, "mcast", mcast);
	char *text = o != NULL ? json_text(o, JSON_COMPACT, NULL) : NULL;
	json_decref(o);
	return text;
}

static bool
shared(const struct api_call *c)
{
	return strcmp(store_engine(c->st), "postgresql") == 0;
}

void
api_running_mark(struct api_call *c, json_t *o)
{
	if (shared(c) && json_is_object(o))
		json_object_set_new(o, "server", json_string(c->api->server_name));
}

/* One server's row: its entries under key, when the text parses. */
static json_t *
row_entries(const char *name, const char *running, const char *key)
{
	json_t *o = json_loads(running, 0, NULL), *list = json_object_get(o, key);

	if (!json_is_array(list)) {
		char text[STORE_SERVER_NAME_MAX * 4];
		log_warn("api: what server %s runs cannot be read",
		    log_printable(name, strlen(name), text, sizeof text));
		json_decref(o);
		return NULL;
	}
	json_incref(list);
	json_decref(o);
	return list;
}

/* Each entry under key of each live other server, marked with it. */
struct rows {
	const char *key;
	void (*each)(json_t *entry, const char *server, void *arg);
	void *arg;
};

static void
row_each(const char *name, const char *running, void *arg)
{
	struct rows *r = arg;
	json_t *list = row_entries(name, running, r->key), *e;
	size_t i;

	json_array_foreach(list, i, e) {
		if (!json_is_object(e))
			continue;
		json_object_set_new(e, "server", json_string(name));
		r->each(e, name, r->arg);
	}
	json_decref(list);
}

static void
rows_read(struct api_call *c, const char *key,
    void (*each)(json_t *entry, const char *server, void *arg), void *arg)
{
	struct rows r = { .key = key, .each = each, .arg = arg };

	(void)store_servers_running(c->st, DHCP_SHARE_DEAD_MS, c->api->server_name, row_each,
	    &r);
}

struct merge {
	json_t *list;
	size_t max, left_out;
};

static void
merge_entry(json_t *e, const char *server, void *arg)
{
	struct merge *m = arg;

	(void)server;
	if (json_array_size(m->list) < m->max)
		json_array_append(m->list, e);
	else
		m->left_out++;
}

size_t
api_running_merge(struct api_call *c, const char *key, json_t *list, size_t max)
{
	struct merge m = { .list = list, .max = max };
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e)
		api_running_mark(c, e);
	rows_read(c, key, merge_entry, &m);
	return m.left_out;
}

struct find {
	const char *name;
	json_t *found;
	char *server;
	size_t server_size;
};

static void
find_entry(json_t *e, const char *server, void *arg)
{
	struct find *f = arg;
	const char *n = json_string_value(json_object_get(e, "name"));

	if (f->found == NULL && n != NULL && strcmp(n, f->name) == 0) {
		f->found = json_incref(e);
		str_copy(f->server, server, f->server_size);
	}
}

json_t *
api_running_find(struct api_call *c, const char *key, const char *name, char *server,
    size_t server_size)
{
	struct find f = { .name = name, .server = server, .server_size = server_size };

	rows_read(c, key, find_entry, &f);
	return f.found;
}
