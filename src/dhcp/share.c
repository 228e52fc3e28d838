/* Servers sharing one database (dhcp/share.h). */
#include "dhcp/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "dhcp/share_thread.h"
#include "store/servers.h"
#include "store/store.h"

static bool
listed(const char (*names)[SPLIT_NAME_MAX], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* The live servers read by the thread, self among them even when its own
 * heartbeat did not go through.  Sorted by name. */
static void
live_with_self(const struct dhcp_share *sh, char (*names)[SPLIT_NAME_MAX], size_t *n)
{
	if (listed((const char (*)[SPLIT_NAME_MAX])names, *n, sh->self))
		return;
	size_t at = 0;
	if (*n == SPLIT_SERVERS_MAX)
		(*n)--;                 /* the last one gives way to self */
	while (at < *n && strcmp(names[at], sh->self) < 0)
		at++;
	memmove(names[at + 1], names[at], (*n - at) * sizeof names[0]);
	str_copy(names[at], sh->self, SPLIT_NAME_MAX);
	(*n)++;
}

/* Buckets of owner index `from` in the old split that are ours now. */
static unsigned
taken_from(const uint8_t *old_owner, size_t from, const bool *mine)
{
	unsigned n = 0;

	for (unsigned b = 0; b < SPLIT_BUCKETS; b++)
		n += old_owner[b] == from && mine[b];
	return n;
}

/* One line per server that left or came, and what it means for us. */
static void
split_log(struct dhcp_share *sh, const char (*names)[SPLIT_NAME_MAX], size_t n,
    const uint8_t *old_owner, const bool *mine, unsigned count)
{
	if (!sh->known) {
		char list[512] = "";
		size_t o = 0;
		for (size_t i = 0; i < n && o < sizeof list; i++)
			o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "",
			    names[i]);
		log_info("dhcp: pools shared with %zu live server(s) (%s): %s serves %u of %d"
		    " buckets", n, list, sh->self, count, SPLIT_BUCKETS);
		return;
	}
	for (size_t i = 0; i < sh->live_count; i++) {
		if (listed(names, n, sh->live[i]))
			continue;
		unsigned got = taken_from(old_owner, i, mine);
		if (got > 0)
			log_warn("dhcp: serving buckets of %s (heartbeat lost): %u more, %u of %d",
			    sh->live[i], got, count, SPLIT_BUCKETS);
		else
			log_warn("dhcp: %s: heartbeat lost; its buckets went to the others",
			    sh->live[i]);
	}
	for (size_t i = 0; i < n; i++)
		if (!listed((const char (*)[SPLIT_NAME_MAX])sh->live, sh->live_count, names[i]))
			log_info("dhcp: %s is live: its buckets are its own again; %s serves %u of"
			    " %d", names[i], sh->self, count, SPLIT_BUCKETS);
}

static void
split_update(struct dhcp_server *srv, char (*names)[SPLIT_NAME_MAX], size_t n)
{
	struct dhcp_share *sh = &srv->share;
	uint8_t owner[SPLIT_BUCKETS], old_owner[SPLIT_BUCKETS];
	bool mine[SPLIT_BUCKETS];
	size_t self = 0;
	unsigned count = 0;

	live_with_self(sh, names, &n);
	if (sh->known && n == sh->live_count && memcmp(names, sh->live, n * sizeof names[0]) == 0)
		return;
	while (strcmp(names[self], sh->self) != 0)
		self++;
	split_owners((const char (*)[SPLIT_NAME_MAX])names, n, owner);
	split_owners((const char (*)[SPLIT_NAME_MAX])sh->live, sh->live_count, old_owner);
	for (unsigned b = 0; b < SPLIT_BUCKETS; b++)
		count += mine[b] = owner[b] == self;
	split_log(sh, (const char (*)[SPLIT_NAME_MAX])names, n, old_owner, mine, count);
	memcpy(sh->live, names, n * sizeof names[0]);
	sh->live_count = n;
	memcpy(sh->mine, mine, sizeof mine);
	sh->mine_count = count;
	sh->known = true;
}

/* A lease another server wrote: the pool holds it for that client; a
 * lease that client released there is free here too (when the pool still
 * holds the address for that client, not for one that took it since). */
static void
lease_learned(const struct store_lease *l, void *arg)
{
	struct dhcp_server *srv = arg;
	struct dhcp_subnet *sn = dhcp_subnet_for(srv, l->address);
	const uint8_t *key = l->client_id_len ? l->client_id : l->mac;
	size_t key_len = l->client_id_len ? l->client_id_len : l->mac_len;
	int64_t now = (int64_t)time(NULL);

	if (sn == NULL || !sn->has_pool)
		return;
	if (l->state == LEASE_RELEASED && key_len > 0)     /* 0: dhcp_share_lost's "not read" */
		(void)pool_release(&sn->pool, ntohl(l->address.s_addr), key, key_len, now);
	else if (l->state == LEASE_BOUND && l->expires > now)
		(void)pool_learn(&sn->pool, ntohl(l->address.s_addr), key, key_len, l->mac,
		    l->mac_len, l->expires);
}

/* Free addresses are picked from our own buckets first. */
static void
pools_prefer(struct dhcp_server *srv)
{
	for (size_t i = 0; i < srv->subnet_count; i++)
		srv->subnet[i].pool.prefer = srv->share.live_count > 1 ? srv->share.mine : NULL;
}

/* What the thread read: the live servers, the others' leases. */
static void
share_take(struct dhcp_server *srv)
{
	struct dhcp_share *sh = &srv->share;
	char names[SPLIT_SERVERS_MAX][SPLIT_NAME_MAX];
	struct store_lease l[64];
	size_t n;

	if (share_thread_take_live(sh->thread, names, &n)) {
		split_update(srv, names, n);
		pools_prefer(srv);
	}
	for (unsigned i = 0; i < SHARE_THREAD_LEARNED / 64; i++) {
		n = share_thread_take_learned(sh->thread, l, 64);
		for (size_t j = 0; j < n; j++)
			lease_learned(&l[j], srv);
		if (n < 64)
			break;
	}
}

void
dhcp_share_tick(struct dhcp_server *srv, int64_t now)
{
	struct dhcp_share *sh = &srv->share;

	if (!sh->on || sh->thread == NULL)
		return;
	share_take(srv);
	if (sh->known || now * 1000 < sh->started_ms + DHCP_SHARE_DEAD_MS)
		return;
	/* the database did not answer since the start: alone until it does */
	memset(sh->mine, 1, sizeof sh->mine);
	sh->mine_count = SPLIT_BUCKETS;
	sh->known = true;
	log_warn("dhcp: pools shared as %s, the servers' heartbeats not read in %d ms: serving"
	    " every client meanwhile", sh->self, DHCP_SHARE_DEAD_MS);
}

void
dhcp_share_start(struct dhcp_server *srv, const char *where)
{
	struct dhcp_share *sh = &srv->share;

	memset(sh, 0, sizeof *sh);
	if (srv->store == NULL || strcmp(store_engine(srv->store), "postgresql") != 0)
		return;
	/* pxed/main.c put the host name there when none was set */
	str_copy(sh->self, srv->cfg.server_name[0] != '\0' ? srv->cfg.server_name : "pxed",
	    sizeof sh->self);
	sh->on = true;          /* the lease writes are conditional whatever follows */
	if (share_thread_start(&sh->thread, where, sh->self) != 0) {
		log_warn("dhcp: pools shared as %s without heartbeats: every client served", sh->self);
		memset(sh->mine, 1, sizeof sh->mine);
		sh->mine_count = SPLIT_BUCKETS;
		sh->known = true;
		return;
	}
	/* until the first list of live servers: only the requests that name us */
	sh->started_ms = (int64_t)time(NULL) * 1000;
	share_take(srv);        /* the thread's first round, when it was in time */
}

void
dhcp_share_stop(struct dhcp_server *srv)
{
	if (srv->share.thread != NULL)
		share_thread_stop(srv->share.thread, DHCP_SHARE_STOP_MS);
	srv->share.thread = NULL;
}

void
dhcp_share_running(struct dhcp_server *srv, share_running_fn *fn, void *arg)
{
	if (srv != NULL && srv->share.thread != NULL)
		share_thread_set_running(srv->share.thread, fn, arg);
}

bool
dhcp_share_answers(const struct dhcp_server *srv, bool broadcast, const struct dhcp_message *m)
{
	struct in_addr sid;

	if (!srv->share.on)
		return true;
	if (m->type == DHCPREQUEST && (dhcp_option_addr(m, DHCP_OPT_SERVER_ID, &sid) ||
	    (m->ciaddr.s_addr != 0 && m->giaddr.s_addr == 0 && !broadcast)))
		return true;
	if (m->type != DHCPDISCOVER && m->type != DHCPREQUEST)
		return true;
	return srv->share.mine[split_hash(m->chaddr, m->hlen)];
}

void
dhcp_share_lost(struct dhcp_server *srv, const struct store_lease *holder)
{
	char a[INET_ADDRSTRLEN];
	unsigned long held;

	srv->share.taken_by_others++;
	lease_learned(holder, srv);
	if (log_limit_take(&srv->share.lost_log, (int64_t)time(NULL), 10, &held))
		log_info("dhcp: %s: taken by another server's client, its ACK not sent (%" PRIu64
		    " such since start, %lu not logged since the last line)",
		    inet_ntop(AF_INET, &holder->address, a, sizeof a), srv->share.taken_by_others,
		    held);
}
