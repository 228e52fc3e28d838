/* What each subnet has seen, for `pxectl subnet list`: requests, clients
 * seen and boots in the last hour, the relay or interface it is reached
 * by; and the relays of subnets pxed does not know ("discovered").  Runs
 * on the loop with the requests; bounded tables, no allocation. */
#include "dhcp/internal.h"
#include "dhcp/store_worker.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store.h"

static uint32_t
mac_hash(const uint8_t *mac, size_t len)
{
	return pool_key_hash(mac, len) | 1;     /* 0 marks an empty slot */
}

void
dhcp_stats_request(struct dhcp_subnet *sn, const struct dhcp_origin *o,
    const struct dhcp_message *m, int64_t now)
{
	struct dhcp_subnet_stats *st = &sn->stats;
	uint32_t h = mac_hash(m->chaddr, m->hlen);

	st->requests++;
	st->last_seen = now;
	/* how it is reached: from clients without an address only (a renewal
	 * or a 4011 request comes routed, not through the relay) */
	if (!o->pxe_port && m->ciaddr.s_addr == 0) {
		st->relay = m->giaddr;
		if (m->giaddr.s_addr == 0)
			st->ifindex = o->ifindex;
	}
	st->seen_hash[h % DHCP_SEEN_SLOTS] = h;
	st->seen_at[h % DHCP_SEEN_SLOTS] = now;
}

void
dhcp_stats_boot(struct dhcp_subnet *sn, int64_t now)
{
	struct dhcp_subnet_stats *st = &sn->stats;
	int64_t minute = now / 60;
	size_t i = (size_t)(minute % DHCP_MINUTES);

	if (st->boot_minute[i] != minute) {
		st->boot_minute[i] = minute;
		st->boots[i] = 0;
	}
	st->boots[i]++;
}

void
dhcp_discovered_note(struct dhcp_server *srv, struct in_addr giaddr, const char *how,
    int64_t now)
{
	struct dhcp_discovered *d = NULL, *oldest = NULL;
	char a[INET_ADDRSTRLEN];

	for (size_t i = 0; i < srv->discovered_count && d == NULL; i++)
		if (srv->discovered[i].giaddr.s_addr == giaddr.s_addr)
			d = &srv->discovered[i];
	for (size_t i = 0; d == NULL && i < srv->discovered_count; i++)
		if (oldest == NULL || srv->discovered[i].last_seen < oldest->last_seen)
			oldest = &srv->discovered[i];
	if (d == NULL) {
		/* full: the relay heard from least recently gives way */
		d = srv->discovered_count < DHCP_DISCOVERED_MAX ?
		    &srv->discovered[srv->discovered_count++] : oldest;
		memset(d, 0, sizeof *d);
		d->giaddr = giaddr;
		d->first_seen = now;
	}
	d->requests++;
	d->last_seen = now;
	if (d->logged != 0 && now - d->logged < DHCP_DISCOVERED_LOG_S)
		return;
	d->logged = now;
	log_warn("dhcp: relayed requests from a subnet not configured here: relay %s (%llu "
	    "so far): %s; pxectl subnet enable CIDR serves it",
	    inet_ntop(AF_INET, &giaddr, a, sizeof a), (unsigned long long)d->requests, how);
}

void
dhcp_addr_learn(struct dhcp_server *srv, struct in_addr addr, const uint8_t *mac,
    size_t mac_len, int64_t now)
{
	struct dhcp_client_addr *a = &srv->addrs[ntohl(addr.s_addr) % DHCP_ADDRS];

	if (mac_len != 6 || addr.s_addr == 0 || addr.s_addr == INADDR_BROADCAST)
		return;
	if (a->addr.s_addr == addr.s_addr && memcmp(a->mac, mac, 6) == 0 &&
	    now - a->seen < DHCP_ADDR_REFRESH_S)
		return;
	a->addr = addr;
	memcpy(a->mac, mac, 6);
	a->seen = now;
	if (srv->worker != NULL)
		(void)store_worker_addr_put(srv->worker, addr, mac, 6, now * 1000);
}

const uint8_t *
dhcp_addr_mac(const struct dhcp_server *srv, struct in_addr addr, int64_t now)
{
	const struct dhcp_client_addr *a = &srv->addrs[ntohl(addr.s_addr) % DHCP_ADDRS];

	return a->addr.s_addr == addr.s_addr && now - a->seen < 86400 ? a->mac : NULL;
}

static const char *
subnet_mode(const struct dhcp_subnet *sn)
{
	bool proxy = sn->proxy || !sn->has_pool;

	if (sn->off || (!sn->pxe && proxy))
		return "off";
	return proxy ? "proxy" : "full";
}

static void
subnet_view(const struct dhcp_subnet *sn, int64_t now, struct dhcp_subnet_view *v)
{
	const struct dhcp_subnet_stats *st = &sn->stats;
	char a[INET_ADDRSTRLEN], ifname[IF_NAMESIZE];
	struct pool_counts pc;

	memset(v, 0, sizeof *v);
	str_copy(v->cidr, sn->name, sizeof v->cidr);
	str_copy(v->mode, subnet_mode(sn), sizeof v->mode);
	str_copy(v->source, sn->from_store ? "pxectl" : "file", sizeof v->source);
	if (st->relay.s_addr != 0)
		snprintf(v->reach, sizeof v->reach, "relay %s",
		    inet_ntop(AF_INET, &st->relay, a, sizeof a));
	else if (st->ifindex != 0 && if_indextoname(st->ifindex, ifname) != NULL)
		snprintf(v->reach, sizeof v->reach, "interface %s", ifname);
	v->requests = st->requests;
	v->last_seen = st->last_seen;
	for (size_t i = 0; i < DHCP_SEEN_SLOTS; i++)
		v->clients_hour += st->seen_hash[i] != 0 && now - st->seen_at[i] < 3600;
	for (size_t i = 0; i < DHCP_MINUTES; i++)
		v->boots_hour += now / 60 - st->boot_minute[i] < DHCP_MINUTES ? st->boots[i] : 0;
	pool_count(&sn->pool, now, &pc);
	v->leases = pc.bound;
	v->full = sn->has_pool && !sn->proxy && !sn->off;
	v->leasable = pc.bound + pc.offered + pc.declined + pc.free_count;
	v->free = pc.free_count;
	v->low = sn->guard.low;
	v->refused = sn->guard.refused_rate + sn->guard.refused_reserve;
}

static void
rogue_view(const struct dhcp_rogue *r, struct dhcp_rogue_view *v)
{
	static const char *const types[] = { [DHCPOFFER] = "OFFER", [DHCPACK] = "ACK",
		[DHCPNAK] = "NAK" };

	memset(v, 0, sizeof *v);
	inet_ntop(AF_INET, &r->server, v->server, sizeof v->server);
	inet_ntop(AF_INET, &r->source, v->source, sizeof v->source);
	if (r->offered.s_addr != 0)
		inet_ntop(AF_INET, &r->offered, v->offered, sizeof v->offered);
	str_copy(v->subnet, r->subnet, sizeof v->subnet);
	str_copy(v->type, (size_t)r->type < ARRAY_SIZE(types) && types[r->type] != NULL ?
	    types[r->type] : "?", sizeof v->type);
	snprintf(v->mac, sizeof v->mac, "%02x:%02x:%02x:%02x:%02x:%02x", r->mac[0], r->mac[1],
	    r->mac[2], r->mac[3], r->mac[4], r->mac[5]);
	v->replies = r->replies;
	v->first_seen = r->first_seen;
	v->last_seen = r->last_seen;
}

static void
setting_seen(void *arg, const char *name, const char *value, const char *source)
{
	struct dhcp_subnet_view *v = arg;

	if (v->setting_count >= DHCP_VIEW_SETTINGS)
		return;
	struct dhcp_setting_view *s = &v->setting[v->setting_count++];
	str_copy(s->name, name, sizeof s->name);
	str_copy(s->value, value, sizeof s->value);
	str_copy(s->source, source, sizeof s->source);
}

/* The subnet's settings and their sources, from the configuration. */
static void
subnet_settings_view(const struct config *cfg, const struct dhcp_subnet *sn,
    struct dhcp_subnet_view *v)
{
	for (size_t i = 0; i < cfg->subnet_count; i++) {
		const struct config_subnet *c = &cfg->subnet[i];
		if (c->network.s_addr != sn->network.s_addr || c->netmask.s_addr != sn->netmask.s_addr)
			continue;
		config_subnet_describe(cfg, c, setting_seen, v);
		v->changed_ms = c->changed_ms;
		if (!c->in_file)
			str_copy(v->source, "pxectl", sizeof v->source);
		return;
	}
}

void
dhcp_server_views(struct dhcp_server *srv, struct dhcp_views *v)
{
	int64_t now = (int64_t)time(NULL);

	v->subnet_count = MIN(srv->subnet_count, (size_t)DHCP_VIEWS_MAX);
	for (size_t i = 0; i < v->subnet_count; i++) {
		subnet_view(&srv->subnet[i], now, &v->subnet[i]);
		subnet_settings_view(&srv->cfg, &srv->subnet[i], &v->subnet[i]);
	}
	v->discovered_count = MIN(srv->discovered_count, (size_t)DHCP_VIEWS_MAX);
	for (size_t i = 0; i < v->discovered_count; i++) {
		const struct dhcp_discovered *d = &srv->discovered[i];
		struct dhcp_discovered_view *w = &v->discovered[i];
		inet_ntop(AF_INET, &d->giaddr, w->relay, sizeof w->relay);
		w->requests = d->requests;
		w->first_seen = d->first_seen;
		w->last_seen = d->last_seen;
	}
	v->rogue_count = MIN(srv->rogue_count, (size_t)DHCP_ROGUE_VIEWS);
	for (size_t i = 0; i < v->rogue_count; i++)
		rogue_view(&srv->rogue[i], &v->rogue[i]);
}
