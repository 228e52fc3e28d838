/* /api/v1/subnets and /api/v1/reload (docs/API.md): the subnets pxed
 * serves, how and from where they are reached, the relays of subnets it
 * does not know; enabling and disabling a subnet while running; a reload.
 * A CIDR in a path is two segments: api/v1/subnets/198.51.100.0/24.
 *
 * The DHCP engine lives on the loop thread: this file only writes the
 * change into the state store (it survives a restart; the config file
 * stays the baseline) and asks the loop, through the board, to reload
 * and to describe the subnets (dhcp/board.h). */
#include "api/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "dhcp/board.h"
#include "store/subnets.h"

/* The subnets as the loop serves them now, malloc'd (large: not on a
 * thread's stack), or NULL with the reply made. */
static struct dhcp_views *
views_get(struct api *m, struct api_response *rs)
{
	struct dhcp_views *views = malloc(sizeof *views);
	char msg[256];
	int rc = -ENOMEM;

	if (views != NULL && m->cfg.board == NULL)
		rc = -ENOTSUP;
	else if (views != NULL)
		rc = board_ask(m->cfg.board, BOARD_VIEWS, msg, sizeof msg, views);
	if (rc == -ENOTSUP)
		api_reply_error(rs, 409, "DHCP is off: add a [subnet], a dhcp-range or proxy = yes "
		    "to the config file and restart pxed");
	else if (rc == -ENOMEM)
		api_reply_error(rs, 500, "out of memory");
	else if (rc != 0)
		api_reply_error(rs, 503, "%s", msg);
	if (rc == 0)
		return views;
	free(views);
	return NULL;
}

static json_t *
subnet_json(const struct dhcp_subnet_view *v, bool details)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:i, s:I}",
	    "cidr", v->cidr, "mode", v->mode, "source", v->source, "reach", v->reach,
	    "requests", (json_int_t)v->requests, "clients_last_hour", (int)v->clients_hour,
	    "boots_last_hour", (int)v->boots_hour, "leases", (int)v->leases,
	    "last_seen", (json_int_t)v->last_seen);

	if (o != NULL && v->full)
		json_object_set_new(o, "pool", json_pack("{s:i, s:i, s:b, s:I}", "leasable",
		    (int)v->leasable, "free", (int)v->free, "low", v->low, "refused",
		    (json_int_t)v->refused));
	if (o == NULL || !details)
		return o;
	json_t *settings = json_array();
	for (size_t i = 0; i < v->setting_count; i++)
		json_array_append_new(settings, json_pack("{s:s, s:s, s:s}", "name",
		    v->setting[i].name, "value", v->setting[i].value, "source",
		    v->setting[i].source));
	json_object_set_new(o, "settings", settings);
	json_object_set_new(o, "changed", json_integer(v->changed_ms));
	return o;
}

static void
subnets_list(struct api *m, struct api_response *rs)
{
	struct dhcp_views *v = views_get(m, rs);

	if (v == NULL)
		return;
	json_t *list = json_array(), *found = json_array();
	for (size_t i = 0; i < v->subnet_count; i++)
		json_array_append_new(list, subnet_json(&v->subnet[i], false));
	for (size_t i = 0; i < v->discovered_count; i++)
		json_array_append_new(found, json_pack("{s:s, s:I, s:I, s:I}", "relay",
		    v->discovered[i].relay, "requests", (json_int_t)v->discovered[i].requests,
		    "first_seen", (json_int_t)v->discovered[i].first_seen,
		    "last_seen", (json_int_t)v->discovered[i].last_seen));
	json_t *rogue = json_array();
	for (size_t i = 0; i < v->rogue_count; i++) {
		const struct dhcp_rogue_view *r = &v->rogue[i];
		json_array_append_new(rogue, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I,"
		    " s:I}", "server", r->server, "source", r->source, "subnet", r->subnet, "type",
		    r->type, "offered", r->offered, "mac", r->mac, "replies", (json_int_t)r->replies,
		    "first_seen", (json_int_t)r->first_seen, "last_seen",
		    (json_int_t)r->last_seen));
	}
	free(v);
	api_reply_json(rs, 200, json_pack("{s:o, s:o, s:o}", "subnets", list, "discovered", found,
	    "rogue_servers", rogue));
}

/* A CIDR as an administrator writes it: the network address exactly
 * (host bits clear), a prefix from /8 to /30.  0 or -EINVAL (400 made). */
static int
cidr_parse(const char *text, struct in_addr *net, struct in_addr *mask,
    struct api_response *rs)
{
	char canon[48], a[INET_ADDRSTRLEN];
	const char *slash = strchr(text, '/');

	if (strlen(text) >= sizeof canon || slash == NULL ||
	    config_parse_cidr(text, net, mask) != 0) {
		api_reply_error(rs, 400, "'%.60s' is not a subnet like 198.51.100.0/24", text);
		return -EINVAL;
	}
	int bits = __builtin_popcount(mask->s_addr);
	snprintf(canon, sizeof canon, "%s/%d", inet_ntop(AF_INET, net, a, sizeof a), bits);
	if (strcmp(canon, text) != 0) {
		api_reply_error(rs, 400, "%s has host bits set: the subnet is %s", text, canon);
		return -EINVAL;
	}
	if (bits < 8 || bits > 30) {
		api_reply_error(rs, 400, "%s: a prefix from /8 to /30, please", text);
		return -EINVAL;
	}
	return 0;
}

/* The view of net/mask (the file may write a CIDR with host bits). */
static const struct dhcp_subnet_view *
view_find(const struct dhcp_views *v, struct in_addr net, struct in_addr mask)
{
	for (size_t i = 0; i < v->subnet_count; i++) {
		struct in_addr n2, m2;
		if (config_parse_cidr(v->subnet[i].cidr, &n2, &m2) == 0 &&
		    n2.s_addr == net.s_addr && m2.s_addr == mask.s_addr)
			return &v->subnet[i];
	}
	return NULL;
}

/* A configured subnet that overlaps net/mask without being it, or NULL. */
static const char *
overlap_find(const struct dhcp_views *v, struct in_addr net, struct in_addr mask)
{
	for (size_t i = 0; i < v->subnet_count; i++) {
		struct in_addr n2, m2;
		if (config_parse_cidr(v->subnet[i].cidr, &n2, &m2) != 0 ||
		    (n2.s_addr == net.s_addr && m2.s_addr == mask.s_addr))
			continue;
		uint32_t common = mask.s_addr & m2.s_addr;
		if ((net.s_addr & common) == (n2.s_addr & common))
			return v->subnet[i].cidr;
	}
	return NULL;
}

/* Has a relay of this subnet been heard from? */
static bool
relay_seen(const struct dhcp_views *v, const struct dhcp_subnet_view *sv, struct in_addr net,
    struct in_addr mask)
{
	if (sv != NULL && sv->reach[0] != '\0')
		return true;
	for (size_t i = 0; i < v->discovered_count; i++) {
		struct in_addr g;
		if (inet_pton(AF_INET, v->discovered[i].relay, &g) == 1 &&
		    (g.s_addr & mask.s_addr) == net.s_addr)
			return true;
	}
	return false;
}

/* Write mode for cidr and reload; on a refused reload the earlier state of
 * the store comes back.  0, or the reply made. */
static int
subnet_change(struct api *m, struct store *st, const char *cidr, const char *mode,
    struct api_response *rs)
{
	struct store_subnet before;
	char msg[512];
	int had = store_subnet_get(st, cidr, &before);

	if (had == -EIO || store_subnet_set(st, cidr, mode, api_now() * 1000) != 0) {
		api_reply_error(rs, 500, "the state store cannot be written");
		return -EIO;
	}
	int rc = board_ask(m->cfg.board, BOARD_RELOAD, msg, sizeof msg, NULL);
	if (rc == 0)
		return 0;
	if (had == 0)
		(void)store_subnet_set(st, cidr, before.mode, before.changed_ms);
	else
		(void)store_subnet_delete(st, cidr);
	api_reply_error(rs, rc == -ETIMEDOUT || rc == -ECANCELED ? 503 : 400, "%s not applied: %s", cidr, msg);
	return rc;
}

/* The CIDR of the call's two path segments. */
static const char *
call_cidr(const struct api_call *c, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", c->arg[0], c->arg[1]);
	return out;
}

/* The subnet's view after a change, with a warning when no request from
 * it was ever seen, as the answer. */
static void
subnet_changed_reply(struct api_call *c, const char *cidr, struct in_addr net,
    struct in_addr mask, bool warn)
{
	struct dhcp_views *v = views_get(c->api, c->rs);
	const struct dhcp_subnet_view *sv = v != NULL ? view_find(v, net, mask) : NULL;

	if (v != NULL && sv == NULL)
		api_reply_error(c->rs, 500, "%s: not served after the change", cidr);
	if (sv == NULL) {
		free(v);
		return;
	}
	json_t *o = subnet_json(sv, true);
	free(v);
	if (warn) {
		log_warn("api: subnet %s enabled, but no request from it has been seen: is DHCP "
		    "relayed from it to this server (ip helper-address)?", cidr);
		json_object_set_new(o, "warning", json_string("no relayed request from this subnet "
		    "has been seen yet: check that its router relays DHCP to this server"));
	}
	api_reply_json(c->rs, 200, o);
}

static void
subnet_enable_or_disable(struct api_call *c, bool enable)
{
	struct in_addr net, mask;
	char cidr[2 * API_ARG_MAX];
	json_t *body = c->body_len > 0 ? api_body_json(c) : json_object();
	struct dhcp_views *v;

	if (body == NULL)
		return;
	bool proxy = json_is_true(json_object_get(body, "proxy"));
	json_decref(body);
	call_cidr(c, cidr, sizeof cidr);
	if (cidr_parse(cidr, &net, &mask, c->rs) != 0 || (v = views_get(c->api, c->rs)) == NULL)
		return;
	const char *other = overlap_find(v, net, mask);
	if (other != NULL)
		api_reply_error(c->rs, 409, "%s overlaps subnet %s", cidr, other);
	bool seen = relay_seen(v, view_find(v, net, mask), net, mask);
	free(v);
	if (other != NULL)
		return;
	if (subnet_change(c->api, c->st, cidr, !enable ? "off" : proxy ? "proxy" : "full",
	    c->rs) != 0)
		return;
	log_info("api %s: subnet %s %s", c->peer, cidr, enable ? "enabled" : "disabled");
	subnet_changed_reply(c, cidr, net, mask, enable && !seen);
}

static void
subnet_enable(struct api_call *c)
{
	subnet_enable_or_disable(c, true);
}

static void
subnet_disable(struct api_call *c)
{
	subnet_enable_or_disable(c, false);
}

static void
subnet_show(struct api_call *c)
{
	struct in_addr net, mask;
	char cidr[2 * API_ARG_MAX];
	struct dhcp_views *v;

	call_cidr(c, cidr, sizeof cidr);
	if (cidr_parse(cidr, &net, &mask, c->rs) != 0 || (v = views_get(c->api, c->rs)) == NULL)
		return;
	const struct dhcp_subnet_view *sv = view_find(v, net, mask);
	if (sv == NULL)
		api_reply_error(c->rs, 404, "no subnet %s", cidr);
	else
		api_reply_json(c->rs, 200, subnet_json(sv, true));
	free(v);
}

static void
subnets_get(struct api_call *c)
{
	subnets_list(c->api, c->rs);
}

static void
reload(struct api_call *c)
{
	char msg[512];
	int rc = c->api->cfg.board != NULL ? board_ask(c->api->cfg.board, BOARD_RELOAD, msg,
	    sizeof msg, NULL) : -ENOTSUP;

	if (rc == 0 || rc == -ENOTSUP)
		api_reply_json(c->rs, 200, json_pack("{s:s}", "message", rc == 0 ? msg :
		    "DHCP is off: nothing to reload through the API; send SIGHUP"));
	else
		api_reply_error(c->rs, rc == -ETIMEDOUT || rc == -ECANCELED ? 503 : 400, "reload refused: %s", msg);
}

#define SUBNET_BODY_MAX 4096
const struct api_route api_subnets_routes[] = {
	{ "GET", "api/v1/subnets", API_READ, .handler = subnets_get, .statuses = "200 409",
	    .summary = "the subnets served (mode, how reached, last hour) and discovered ones" },
	{ "GET", "api/v1/subnets/{net}/{bits}", API_READ, .handler = subnet_show,
	    .statuses = "200 400 404 409",
	    .summary = "one subnet, each setting with its source" },
	{ "POST", "api/v1/subnets/{net}/{bits}/enable", API_ADMIN, .body_max = SUBNET_BODY_MAX,
	    .json_max = 8, .handler = subnet_enable, .statuses = "200 400 409",
	    .summary = "serve a subnet (full, or {\"proxy\": true}); kept in the state store" },
	{ "POST", "api/v1/subnets/{net}/{bits}/disable", API_ADMIN, .body_max = SUBNET_BODY_MAX,
	    .json_max = 8, .handler = subnet_disable, .statuses = "200 400 409",
	    .summary = "stop answering a subnet; kept in the state store" },
	{ "POST", "api/v1/reload", API_ADMIN, .body_max = SUBNET_BODY_MAX, .json_max = 8,
	    .handler = reload,
	    .statuses = "200 400", .summary = "re-read the config file (as SIGHUP) and apply it" },
	{ NULL },
};
