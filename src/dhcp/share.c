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

/* A live list as the thread read it: names sorted, what each published. */
struct live_list {
	char names[SPLIT_SERVERS_MAX][SPLIT_NAME_MAX];
	char subnets[SPLIT_SERVERS_MAX][STORE_SERVER_SUBNETS_MAX];
	const char *lists[SPLIT_SERVERS_MAX];
	size_t n;
};

/* Self among the live servers even when its own heartbeat did not go
 * through (with what it publishes). */
static void
live_with_self(const struct dhcp_share *sh, struct live_list *l)
{
	size_t at = 0;

	if (!listed((const char (*)[SPLIT_NAME_MAX])l->names, l->n, sh->self)) {
		if (l->n == SPLIT_SERVERS_MAX)
			l->n--;                 /* the last one gives way to self */
		while (at < l->n && strcmp(l->names[at], sh->self) < 0)
			at++;
		memmove(l->names[at + 1], l->names[at], (l->n - at) * sizeof l->names[0]);
		memmove(l->subnets[at + 1], l->subnets[at], (l->n - at) * sizeof l->subnets[0]);
		str_copy(l->names[at], sh->self, SPLIT_NAME_MAX);
		l->n++;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->names[i], sh->self) == 0)
			str_copy(l->subnets[i], sh->subnets, STORE_SERVER_SUBNETS_MAX);
		l->lists[i] = l->subnets[i];
	}
}

static bool
subnet_full(const struct dhcp_subnet *sn)
{
	return sn->has_pool && !sn->proxy && !sn->off;
}

static void
subnet_key(const struct dhcp_subnet *sn, char key[SPLIT_KEY_MAX])
{
	split_subnet_key(ntohl(sn->network.s_addr), ntohl(sn->netmask.s_addr), key);
}

_Static_assert(CONFIG_SUBNETS_MAX * SPLIT_KEY_MAX <= STORE_SERVER_SUBNETS_MAX,
    "every subnet's key fits in servers.subnets");

/* The subnets this server gives addresses on, as published. */
static void
subnets_text(const struct dhcp_server *srv, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < srv->subnet_count; i++) {
		char key[SPLIT_KEY_MAX];
		if (!subnet_full(&srv->subnet[i]))
			continue;
		subnet_key(&srv->subnet[i], key);
		if (o + strlen(key) + 2 > size)
			break;                  /* CONFIG_SUBNETS_MAX of them fit */
		o += (size_t)snprintf(out + o, size - o, "%s%s", o > 0 ? " " : "", key);
	}
}

/* The buckets server `who` had on the subnet key in the list l (none when
 * it did not publish key). */
static void
buckets_of(const struct live_list *l, const char *who, const char *key, bool out[SPLIT_BUCKETS])
{
	memset(out, 0, SPLIT_BUCKETS);
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->names[i], who) == 0 && split_lists(l->lists[i], key))
			(void)split_subnet_mine((const char (*)[SPLIT_NAME_MAX])l->names, l->lists,
			    l->n, who, key, out);
}

/* How many of the subnet's buckets are ours. */
static unsigned
buckets_mine(const struct dhcp_subnet *sn)
{
	unsigned count = 0;

	for (unsigned b = 0; b < SPLIT_BUCKETS; b++)
		count += sn->share_mine[b];
	return count;
}

/* Of the server who that left (old list), the buckets we answer now, per
 * subnet: "NAME N more, M of 256; ..." into out; the number taken. */
static unsigned
taken_from(const struct dhcp_server *srv, const struct live_list *old, const char *who,
    char *out, size_t size)
{
	unsigned all = 0;
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < srv->subnet_count; i++) {
		const struct dhcp_subnet *sn = &srv->subnet[i];
		char key[SPLIT_KEY_MAX];
		bool had[SPLIT_BUCKETS];
		unsigned got = 0;
		if (!subnet_full(sn))
			continue;
		subnet_key(sn, key);
		buckets_of(old, who, key, had);
		for (unsigned b = 0; b < SPLIT_BUCKETS; b++)
			got += had[b] && sn->share_mine[b];
		if (got > 0 && o < size)
			o += (size_t)snprintf(out + o, size - o, "%ssubnet %s %u more, %u of %d",
			    o > 0 ? "; " : "", sn->name, got, buckets_mine(sn), SPLIT_BUCKETS);
		all += got;
	}
	return all;
}

/* Does server i of l give addresses on one of our subnets?  Ours in
 * out: "subnet NAME: SELF serves N of 256; ...". */
static bool
shares_with_us(const struct dhcp_server *srv, const char *list, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < srv->subnet_count; i++) {
		const struct dhcp_subnet *sn = &srv->subnet[i];
		char key[SPLIT_KEY_MAX];
		if (!subnet_full(sn))
			continue;
		subnet_key(sn, key);
		if (!split_lists(list, key))
			continue;
		if (o < size)
			o += (size_t)snprintf(out + o, size - o, "%ssubnet %s: %s serves %u of %d",
			    o > 0 ? "; " : "", sn->name, srv->share.self, buckets_mine(sn),
			    SPLIT_BUCKETS);
	}
	return o > 0;
}

/* The first split: the live servers, and on each of our subnets how many
 * give addresses there and our buckets. */
static void
split_log_first(const struct dhcp_server *srv, const struct live_list *l)
{
	char list[512] = "";
	size_t o = 0;

	for (size_t i = 0; i < l->n && o < sizeof list; i++)
		o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", l->names[i]);
	log_info("dhcp: pools shared with %zu live server(s) (%s), %s gives addresses on: %s",
	    l->n, list, srv->share.self, srv->share.subnets[0] ? srv->share.subnets : "none");
	for (size_t i = 0; i < srv->subnet_count; i++) {
		const struct dhcp_subnet *sn = &srv->subnet[i];
		if (!subnet_full(sn))
			continue;
		log_info("dhcp: subnet %s: %zu server(s) give addresses there, %s serves %u of %d"
		    " buckets", sn->name, sn->share_peers, srv->share.self, buckets_mine(sn),
		    SPLIT_BUCKETS);
	}
}

/* One line per server that left or came, and what it means for us (the
 * subnets' new buckets already computed; old: the list before). */
static void
split_log(const struct dhcp_server *srv, const struct live_list *old, const struct live_list *l)
{
	char what[512];

	for (size_t i = 0; i < old->n; i++) {
		if (listed((const char (*)[SPLIT_NAME_MAX])l->names, l->n, old->names[i]))
			continue;
		if (taken_from(srv, old, old->names[i], what, sizeof what) > 0)
			log_warn("dhcp: serving buckets of %s (heartbeat lost): %s", old->names[i],
			    what);
		else if (shares_with_us(srv, old->lists[i], what, sizeof what))
			log_warn("dhcp: %s: heartbeat lost; its buckets went to the others",
			    old->names[i]);
		else
			log_info("dhcp: %s: heartbeat lost; it gave addresses on none of our subnets",
			    old->names[i]);
	}
	for (size_t i = 0; i < l->n; i++) {
		if (listed((const char (*)[SPLIT_NAME_MAX])old->names, old->n, l->names[i]))
			continue;
		if (shares_with_us(srv, l->lists[i], what, sizeof what))
			log_info("dhcp: %s is live: its buckets are its own again; %s", l->names[i],
			    what);
		else
			log_info("dhcp: %s is live, giving addresses on none of our subnets (%s):"
			    " our buckets stay ours", l->names[i],
			    l->lists[i][0] ? l->lists[i] : "none");
	}
}

/* Each full-mode subnet's buckets among the servers of l that publish it;
 * the pools pick free addresses from our own buckets first. */
static void
split_compute(struct dhcp_server *srv, const struct live_list *l)
{
	for (size_t i = 0; i < srv->subnet_count; i++) {
		struct dhcp_subnet *sn = &srv->subnet[i];
		char key[SPLIT_KEY_MAX];
		sn->pool.prefer = NULL;
		if (!subnet_full(sn))
			continue;
		subnet_key(sn, key);
		sn->share_peers = split_subnet_mine((const char (*)[SPLIT_NAME_MAX])l->names,
		    l->lists, l->n, srv->share.self, key, sn->share_mine);
		sn->pool.prefer = sn->share_peers > 1 ? sn->share_mine : NULL;
	}
}

/* The list in sh, as a live_list. */
static void
live_kept(const struct dhcp_share *sh, struct live_list *l)
{
	memcpy(l->names, sh->live, sh->live_count * sizeof l->names[0]);
	memcpy(l->subnets, sh->live_subnets, sh->live_count * sizeof l->subnets[0]);
	l->n = sh->live_count;
	for (size_t i = 0; i < l->n; i++)
		l->lists[i] = l->subnets[i];
}

/* A new list from the thread (or ours changed: l is the kept one). */
static void
split_update(struct dhcp_server *srv, struct live_list *l, bool force)
{
	struct dhcp_share *sh = &srv->share;
	static struct live_list old;    /* the loop's only */

	live_with_self(sh, l);
	if (sh->known && !force && l->n == sh->live_count &&
	    memcmp(l->names, sh->live, l->n * sizeof l->names[0]) == 0 &&
	    memcmp(l->subnets, sh->live_subnets, l->n * sizeof l->subnets[0]) == 0)
		return;
	live_kept(sh, &old);
	split_compute(srv, l);
	if (!sh->known)
		split_log_first(srv, l);
	else
		split_log(srv, &old, l);
	memcpy(sh->live, l->names, l->n * sizeof l->names[0]);
	memcpy(sh->live_subnets, l->subnets, l->n * sizeof l->subnets[0]);
	sh->live_count = l->n;
	sh->known = true;
	sh->all = false;                /* the database answers (again) */
}

/* Our subnets again (a reload, pxectl subnet): published by the next
 * heartbeat; true when they changed. */
static bool
subnets_check(struct dhcp_server *srv)
{
	struct dhcp_share *sh = &srv->share;
	char now[STORE_SERVER_SUBNETS_MAX];

	subnets_text(srv, now, sizeof now);
	if (strcmp(now, sh->subnets) == 0)
		return false;
	str_copy(sh->subnets, now, sizeof sh->subnets);
	if (sh->thread != NULL)
		share_thread_set_subnets(sh->thread, now);
	log_info("dhcp: %s now gives addresses on: %s", sh->self, now[0] ? now : "none");
	return true;
}

void
dhcp_share_resplit(struct dhcp_server *srv)
{
	struct dhcp_share *sh = &srv->share;
	static struct live_list l;      /* the loop's only */

	if (!sh->on || sh->all || !sh->known)
		return;                 /* every client, or none until the first list */
	(void)subnets_check(srv);
	live_kept(sh, &l);
	split_compute(srv, &l);
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

/* What the thread read: the live servers, the others' leases. */
static void
share_take(struct dhcp_server *srv)
{
	struct dhcp_share *sh = &srv->share;
	static struct live_list l;      /* the loop's only */
	struct store_lease got[64];
	bool mine_changed = sh->known && !sh->all && subnets_check(srv);

	if (share_thread_take_live(sh->thread, l.names, l.subnets, &l.n))
		split_update(srv, &l, mine_changed);
	else if (mine_changed)
		dhcp_share_resplit(srv);
	for (unsigned i = 0; i < SHARE_THREAD_LEARNED / 64; i++) {
		size_t n = share_thread_take_learned(sh->thread, got, 64);
		for (size_t j = 0; j < n; j++)
			lease_learned(&got[j], srv);
		if (n < 64)
			break;
	}
}

/* No heartbeats: every client of every subnet served, alone. */
static void
serve_all(struct dhcp_server *srv)
{
	srv->share.all = true;
	srv->share.known = true;
	for (size_t i = 0; i < srv->subnet_count; i++)
		srv->subnet[i].pool.prefer = NULL;
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
	serve_all(srv);
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
	subnets_text(srv, sh->subnets, sizeof sh->subnets);
	if (share_thread_start(&sh->thread, where, sh->self, sh->subnets) != 0) {
		log_warn("dhcp: pools shared as %s without heartbeats: every client served", sh->self);
		serve_all(srv);
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
dhcp_share_answers(const struct dhcp_server *srv, const struct dhcp_subnet *sn, bool broadcast,
    const struct dhcp_message *m)
{
	struct in_addr sid;

	if (!srv->share.on || srv->share.all)
		return true;
	if (m->type == DHCPREQUEST && (dhcp_option_addr(m, DHCP_OPT_SERVER_ID, &sid) ||
	    (m->ciaddr.s_addr != 0 && m->giaddr.s_addr == 0 && !broadcast)))
		return true;
	if (m->type != DHCPDISCOVER && m->type != DHCPREQUEST)
		return true;
	return sn->share_mine[split_hash(m->chaddr, m->hlen)];
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
