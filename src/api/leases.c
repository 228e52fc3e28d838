/* /api/v1/leases: the addresses pxed gave out (full mode), a page at a
 * time (docs/API.md). */
#include "api/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

static const char *const state_names[] = {
	[LEASE_OFFERED] = "offered", [LEASE_BOUND] = "bound", [LEASE_RELEASED] = "released",
	[LEASE_DECLINED] = "declined",
};

static json_t *
lease_json(const struct store_lease *l)
{
	char addr[INET_ADDRSTRLEN], mac[3 * 16] = "", id[3 * STORE_CLIENT_ID_MAX] = "";
	size_t o = 0;

	inet_ntop(AF_INET, &l->address, addr, sizeof addr);
	for (size_t i = 0; i < l->mac_len && o + 4 <= sizeof mac; i++)
		o += (size_t)snprintf(mac + o, sizeof mac - o, i ? ":%02x" : "%02x", l->mac[i]);
	o = 0;
	for (size_t i = 0; i < l->client_id_len && o + 4 <= sizeof id; i++)
		o += (size_t)snprintf(id + o, sizeof id - o, i ? ":%02x" : "%02x", l->client_id[i]);
	return json_pack("{s:s,s:s,s:s,s:s,s:I,s:o,s:o}", "address", addr, "mac", mac,
	    "client_id", id, "state", (size_t)l->state < ARRAY_SIZE(state_names) &&
	    state_names[l->state] != NULL ? state_names[l->state] : "?",
	    "starts", (json_int_t)l->starts,
	    "expires", l->expires == INT64_MAX ? json_null() : json_integer(l->expires),
	    "hostname", api_json_text(l->hostname));
}

static void
leases_list(struct api_call *c)
{
	struct store_lease *list;
	struct in_addr from = { 0 };
	const char *after;
	unsigned limit;
	char last[INET_ADDRSTRLEN];
	json_t *arr;
	int n;

	if (api_page(c, &limit, &after) < 0)
		return;
	if (after[0] != '\0' && inet_pton(AF_INET, after, &from) != 1) {
		api_reply_error(c->rs, 400, "after: an IPv4 address");
		return;
	}
	list = calloc(limit, sizeof *list);
	n = list != NULL ? store_lease_page(c->st, ntohl(from.s_addr), list, limit) : -ENOMEM;
	if (n < 0) {
		free(list);
		api_reply_error(c->rs, 500, "cannot list leases");
		return;
	}
	arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, lease_json(&list[i]));
	if (n > 0)
		inet_ntop(AF_INET, &list[n - 1].address, last, sizeof last);
	free(list);
	api_reply_page(c, "leases", arr, store_lease_count(c->st), limit, n > 0 ? last : NULL);
}

const struct api_route api_leases_routes[] = {
	{ "GET", "api/v1/leases", API_READ, .handler = leases_list,
	    .statuses = "200 400", .query = "limit after",
	    .summary = "leases pxed gave out, by address, a page at a time (?limit, ?after=ADDR)" },
	{ NULL },
};
