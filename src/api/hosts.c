/* /api/v1/hosts: the machines pxed knows (docs/API.md).
 *
 * A host is registered by an administrator, by DHCP when a PXE client
 * asks, or by its first boot-script fetch (boot.c); lists come a page at a
 * time with the total, so no host is ever silently left out. */
#include "api/diag.h"
#include "api/internal.h"
#include "api/task_options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

static void
hosts_list(struct api_call *c)
{
	const char *q = api_query(c, "q");
	struct store_host *list;
	const char *after;
	unsigned limit;
	json_t *arr;
	int n;

	if (api_page(c, &limit, &after) < 0)
		return;
	if (q == NULL)
		q = "";
	list = calloc(limit, sizeof *list);
	n = list != NULL ? store_host_list(c->st, after, q, list, limit) : -ENOMEM;
	if (n < 0) {
		free(list);
		api_reply_error(c->rs, 500, "cannot list hosts");
		return;
	}
	arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, api_host_json(&list[i]));
	api_reply_page(c, "hosts", arr, store_host_count(c->st, q), limit,
	    n > 0 ? list[n - 1].mac : NULL);
	for (int i = 0; i < n; i++)
		store_host_free(&list[i]);
	free(list);
}

/* The host's object, with its groups, active task and extras; NULL when
 * it cannot be read or made (*missing: there is no such host). */
static json_t *
host_object(struct api_call *c, const char *mac, bool *missing)
{
	struct store_host h;
	struct store_task t;
	json_t *o;
	int rc = store_host_get(c->st, mac, &h);

	*missing = rc == -ENOENT;
	if (rc < 0)
		return NULL;
	o = api_host_json(&h);
	store_host_free(&h);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "groups", api_host_groups_json(c->st, mac));
	json_object_set_new(o, "task", store_task_active(c->st, mac, &t) == 0 ?
	    api_task_json(&t) : json_null());
	api_host_extras(c, mac, o);
	return o;
}

/* The answer to a change of host mac that is stored (api_reply_stored). */
static void
host_reply_stored(struct api_call *c, const char *mac, unsigned status)
{
	char where[STORE_MAC_TEXT + 16];
	bool missing;

	snprintf(where, sizeof where, "/api/v1/hosts/%s", mac);
	api_reply_stored(c->rs, status, host_object(c, mac, &missing), where);
}

static void
host_show(struct api_call *c)
{
	char mac[STORE_MAC_TEXT] = "";
	bool missing = true;
	json_t *o = api_resolve_host(c->st, c->arg[0], mac) == 0 ?
	    host_object(c, mac, &missing) : NULL;

	if (o != NULL)
		api_reply_json(c->rs, 200, o);
	else if (missing)
		api_reply_error(c->rs, 404, "no host %s", c->arg[0]);
	else
		api_reply_error(c->rs, 500, "cannot read host %s", mac);
}

static void
host_add(struct api_call *c)
{
	json_t *body = api_body_json(c);
	const char *mac_arg = NULL, *name = "";
	char mac[STORE_MAC_TEXT];
	int rc;

	if (body == NULL)
		return;
	if (json_unpack(body, "{s:s,s?s}", "mac", &mac_arg, "name", &name) < 0 ||
	    mac_text_canon(mac_arg, mac) < 0 || strlen(name) > 63) {
		json_decref(body);
		api_reply_error(c->rs, 400, "expected {\"mac\": \"aa:bb:cc:dd:ee:ff\","
		    " \"name\": \"...\"}");
		return;
	}
	rc = store_host_add(c->st, mac, name, api_now());
	json_decref(body);
	if (rc < 0 && rc != -EEXIST) {
		api_reply_error(c->rs, 500, "cannot add the host");
		return;
	}
	log_info_peer(NULL, mac, "api: host %s %s", mac, rc == -EEXIST ? "updated" : "added");
	api_publish_host(mac, rc == -EEXIST ? "updated" : "added");
	host_reply_stored(c, mac, rc == 0 ? 201 : 200);
}

/* A host is removed with its tasks: an active one among them ends. */
static void
host_remove(struct api_call *c)
{
	char mac[STORE_MAC_TEXT];
	struct store_task t;

	if (api_resolve_host(c->st, c->arg[0], mac) < 0) {
		api_reply_error(c->rs, 404, "no host %s", c->arg[0]);
		return;
	}
	if (store_task_active(c->st, mac, &t) == 0)
		(void)api_task_end(c->api, c->st, &t, TASK_CANCELLED, "host removed", NULL);
	if (store_host_remove(c->st, mac) < 0) {
		api_reply_error(c->rs, 404, "no host %s", c->arg[0]);
		return;
	}
	log_info_peer(NULL, mac, "api: host %s removed", mac);
	api_publish_host(mac, "removed");
	api_reply_json(c->rs, 204, NULL);
}

static void
host_approve(struct api_call *c, bool approved)
{
	char mac[STORE_MAC_TEXT];

	if (api_resolve_host(c->st, c->arg[0], mac) < 0 ||
	    store_host_approve(c->st, mac, approved) < 0) {
		api_reply_error(c->rs, 404, "no host %s", c->arg[0]);
		return;
	}
	log_info_peer(NULL, mac, "api: host %s %s", mac, approved ? "approved" : "denied");
	api_publish_host(mac, "updated");
	host_reply_stored(c, mac, 200);
}

static void
host_allow(struct api_call *c)
{
	host_approve(c, true);
}

static void
host_deny(struct api_call *c)
{
	host_approve(c, false);
}

const struct api_route api_hosts_routes[] = {
	{ "GET", "api/v1/hosts", API_READ, .handler = hosts_list,
	    .statuses = "200 400", .query = "limit after q",
	    .summary = "hosts, a page at a time (?limit, ?after=MAC), with the total;"
	    " ?q=TEXT: in the MAC or the name" },
	{ "POST", "api/v1/hosts", API_ADMIN, .body_max = 4096, .json_max = 16,
	    .handler = host_add,
	    .statuses = "200 201", .summary = "register a host {mac, name}" },
	{ "GET", "api/v1/hosts/{host}", API_READ, .handler = host_show,
	    .statuses = "200 404",
	    .summary = "one host (MAC or name), its groups and active task" },
	{ "DELETE", "api/v1/hosts/{host}", API_ADMIN, .handler = host_remove,
	    .statuses = "204 404",
	    .summary = "remove a host and its tasks" },
	{ "POST", "api/v1/hosts/{host}/approve", API_ADMIN, .handler = host_allow,
	    .statuses = "200 404",
	    .summary = "let a host boot its tasks" },
	{ "POST", "api/v1/hosts/{host}/deny", API_ADMIN, .handler = host_deny,
	    .statuses = "200 404",
	    .summary = "make a host boot its local disk" },
	{ "PUT", "api/v1/hosts/{host}/hostname", API_ADMIN, .body_max = 1024, .json_max = 4,
	    .handler = api_host_hostname, .statuses = "200 404",
	    .summary = "the name deploys give the machine" },
	{ NULL },
};
