/* Live reconfiguration (SIGHUP, pxectl reload, pxectl subnet): the new
 * runtime state -- subnets, pools, hosts, rules, menu -- is built whole off
 * to the side from the new configuration; only when that succeeded are the
 * old pools' leases, offers and quarantines carried over and the state
 * swapped in, in one step on the loop thread.  The stored leases come
 * read already (pxed/reload.c reads them off the loop).  The sockets, the store and
 * the batch being handled are untouched, so no request is lost to a
 * reload.  A lease that no longer fits (its range shrank, its subnet went)
 * stays in the store and comes back when its range does. */
#include "dhcp/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/stats.h"

struct carry_counts {
	unsigned leases, offers, declined, dropped;
};

/* Is addr reserved (a host's address) for the client of slot s? */
static bool
reserved_for(const struct dhcp_server *srv, uint32_t addr, const struct pool_slot *s)
{
	for (size_t i = 0; i < srv->host_count; i++) {
		const struct dhcp_host *h = &srv->host[i];
		if (ntohl(h->address.s_addr) != addr)
			continue;
		if (h->has_mac && s->mac_len == 6 && memcmp(h->mac, s->mac, 6) == 0)
			return true;
		if (h->client_id_len > 0 && h->client_id_len == s->key_len &&
		    memcmp(h->client_id, s->key, s->key_len) == 0)
			return true;
	}
	return false;
}

static void
carry_pool(const struct dhcp_server *next, struct dhcp_subnet *to,
    const struct dhcp_subnet *from, int64_t now, struct carry_counts *c)
{
	const struct pool *p = &from->pool;

	for (uint32_t i = 0; i < p->size; i++) {
		const struct pool_slot *s = &p->slots[i];
		uint32_t addr = p->first + i;
		if (s->state == SLOT_FREE || s->state == SLOT_RESERVED_ELSEWHERE || s->expires <= now)
			continue;
		if (pool_restore(&to->pool, addr, s, reserved_for(next, addr, s), now) != 0) {
			c->dropped++;
			continue;
		}
		c->leases += s->state == SLOT_BOUND;
		c->offers += s->state == SLOT_OFFERED;
		c->declined += s->state == SLOT_DECLINED;
	}
}

static struct dhcp_subnet *
subnet_same(struct dhcp_server *srv, const struct dhcp_subnet *sn)
{
	for (size_t i = 0; i < srv->subnet_count; i++)
		if (srv->subnet[i].network.s_addr == sn->network.s_addr &&
		    srv->subnet[i].netmask.s_addr == sn->netmask.s_addr)
			return &srv->subnet[i];
	return NULL;
}

static void
carry_all(struct dhcp_server *srv, struct dhcp_server *next, int64_t now)
{
	for (size_t i = 0; i < next->subnet_count; i++) {
		struct dhcp_subnet *to = &next->subnet[i];
		const struct dhcp_subnet *from = subnet_same(srv, to);
		struct carry_counts c = { 0 };
		if (from == NULL)
			continue;
		to->stats = from->stats;
		to->guard = from->guard;
		carry_pool(next, to, from, now, &c);
		if (c.leases + c.offers + c.declined + c.dropped == 0)
			continue;
		log_info("reload: subnet %s: kept %u lease(s), %u offer(s), %u quarantined "
		    "address(es)%s%.0u%s", to->name, c.leases, c.offers, c.declined,
		    c.dropped > 0 ? "; outside the new ranges: " : "", c.dropped,
		    c.dropped > 0 ? " (a lease among them stays in the store)" : "");
	}
	for (size_t i = 0; i < srv->subnet_count; i++) {
		struct dhcp_subnet *gone = &srv->subnet[i];
		struct pool_counts pc;
		if (subnet_same(next, gone) != NULL)
			continue;
		if (gone->guard.low)
			STATS_SUB(dhcp_pools_low, 1);
		pool_count(&gone->pool, now, &pc);
		if (pc.bound > 0)
			log_info("reload: subnet %s removed: its %u lease(s) stay in the store",
			    gone->name, pc.bound);
	}
}

/* Relays now inside a known subnet are no longer "discovered". */
static void
discovered_prune(struct dhcp_server *srv)
{
	size_t n = 0;

	for (size_t i = 0; i < srv->discovered_count; i++)
		if (dhcp_subnet_for(srv, srv->discovered[i].giaddr) == NULL)
			srv->discovered[n++] = srv->discovered[i];
	srv->discovered_count = n;
}

/* Swap next's runtime state into srv; srv's old state is freed. */
static void
runtime_swap(struct dhcp_server *srv, struct dhcp_server *next)
{
	dhcp_subnets_free(srv);
	memcpy(srv->subnet, next->subnet, sizeof srv->subnet);
	srv->subnet_count = next->subnet_count;
	memcpy(srv->host, next->host, sizeof srv->host);
	srv->host_count = next->host_count;
	srv->boot = next->boot;
	srv->menu = next->menu;
	memcpy(srv->relay, next->relay, sizeof srv->relay);
	srv->relay_count = next->relay_count;
	srv->mtftp = next->mtftp;
	srv->cfg = next->cfg;
	next->subnet_count = 0;         /* its pools and table are srv's now */
	next->mtftp = NULL;
}

int
dhcp_server_reload(struct dhcp_server *srv, const struct config *cfg,
    const struct dhcp_stored *stored, char *err, size_t err_size)
{
	struct dhcp_server *next = calloc(1, sizeof *next);

	if (next == NULL) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	next->cfg = *cfg;
	if (dhcp_subnets_build(next, err, err_size) != 0) {
		dhcp_subnets_free(next);
		free(next);
		return -EINVAL;
	}
	carry_all(srv, next, (int64_t)time(NULL));
	dhcp_leases_put(next, stored);  /* stored leases that fit again */
	runtime_swap(srv, next);
	dhcp_share_resplit(srv);        /* the new subnets' buckets, their pools' preference */
	discovered_prune(srv);
	free(next);
	return 0;
}
