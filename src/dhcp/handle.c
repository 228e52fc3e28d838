/* What the server does with each request (RFC 2131 4.3, PXE 2.1):
 * full mode with pools and leases, proxyDHCP, and the boot server on 4011. */
#include "dhcp/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "boot/quirks.h"
#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"
#include "dhcp/reply.h"
#include "dhcp/store_worker.h"
#include "store/store.h"

/* Everything one request needs while it is handled. */
struct request {
	struct dhcp_server *srv;
	const struct dhcp_origin *o;
	const struct dhcp_message *m;
	struct dhcp_subnet *sn;           /* NULL: no subnet here */
	const struct dhcp_host *host;
	struct boot_client client;
	struct boot_decision boot;
	const uint8_t *key;               /* 61, else chaddr */
	size_t key_len;
	char mac[24];                     /* printable, for logs: see req_mac */
	char who[LOG_ADDR_MAX];           /* see req_who */
	int64_t now;
};

/* The client's address and MAC, printable: formatted on first use, so a
 * request that logs nothing (the usual case under load) formats nothing. */
static const char *
req_who(struct request *r)
{
	if (r->who[0] == '\0')
		log_addr((const struct sockaddr *)&r->o->peer, r->who, sizeof r->who);
	return r->who;
}

static const char *
req_mac(struct request *r)
{
	static const char hex[] = "0123456789abcdef";

	if (r->mac[0] == '\0') {
		size_t n = 0;
		for (size_t i = 0; i < r->m->hlen && n + 3 < sizeof r->mac; i++) {
			if (i > 0)
				r->mac[n++] = ':';
			r->mac[n++] = hex[r->m->chaddr[i] >> 4];
			r->mac[n++] = hex[r->m->chaddr[i] & 15];
		}
		r->mac[n] = '\0';
	}
	return r->mac;
}

static const char *const type_names[] = {
	"BOOTP", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
};

static const char *
type_name(enum dhcp_type t)
{
	return (unsigned)t < ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

static void
event(struct request *r, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static uint64_t
fnv1a64(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211u;
	}
	return h;
}

/* Record a boot event for the client's MAC.  The same event (MAC, kind and
 * detail) again within a second is not recorded: a client or a load
 * generator repeating itself many times a second would otherwise turn every
 * exchange into three rows, and push the client's earlier, distinct events
 * out of its 200.  Retries of real clients are seconds apart and show. */
static void
event_record(struct request *r, const char *kind, const char *uuid, const char *detail)
{
	struct timespec ts;

	if (r->srv->worker == NULL || r->m->hlen == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	uint64_t h = fnv1a64(14695981039346656037u, r->m->chaddr, r->m->hlen);
	h = fnv1a64(h, kind, strlen(kind) + 1);
	h = fnv1a64(h, detail, strlen(detail));
	struct dhcp_event_seen *seen = &r->srv->event_seen[(h ^ (h >> 32)) % DHCP_EVENT_SEEN];
	if (seen->hash == h && now_ms >= seen->when_ms && now_ms - seen->when_ms < 1000)
		return;
	seen->hash = h;
	seen->when_ms = now_ms;
	(void)store_worker_event(r->srv->worker, r->m->chaddr, r->m->hlen, kind, detail, uuid,
	    now_ms);
}

static void
event(struct request *r, const char *kind, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	event_record(r, kind, "", detail);
}

/* Option 97's GUID as text, its 16 bytes in wire order ("" when none). */
static void
client_uuid_text(const struct boot_client *c, char out[STORE_UUID_TEXT])
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; c->has_uuid && i < sizeof c->uuid; i++)
		o += (size_t)snprintf(out + o, STORE_UUID_TEXT - o,
		    i == 4 || i == 6 || i == 8 || i == 10 ? "-%02x" : "%02x", c->uuid[i]);
}

static struct in_addr
addr_of(uint32_t host_order)
{
	struct in_addr a = { htonl(host_order) };
	return a;
}

static const char *
ntoa(struct in_addr a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* The server's address toward this client: the receiving interface's, or
 * the one the relay sent to. */
static struct in_addr
server_id(const struct request *r)
{
	return r->o->local;
}

static struct in_addr
next_server(const struct request *r)
{
	if (r->sn != NULL && r->sn->next_server.s_addr != 0)
		return r->sn->next_server;
	return server_id(r);
}

static void
decide_boot(struct request *r)
{
	const struct dhcp_relay_rules *relay = dhcp_relay_for(r->srv, r->m);
	/* a [relay] matched by option 82 replaces the subnet's rules */
	const struct boot_rules *subnet_rules = relay != NULL ? &relay->boot
	    : r->sn != NULL ? &r->sn->boot : NULL;
	const struct boot_rules *host_rules = r->host != NULL ? &r->host->boot : NULL;

	memset(&r->boot, 0, sizeof r->boot);
	r->boot.kind = BOOT_NOTHING;
	if (r->client.cls == BOOT_CLASS_NONE || (r->sn != NULL && (!r->sn->pxe || r->sn->off)))
		return;
	boot_decide(&r->srv->boot, subnet_rules, host_rules, &r->client, next_server(r), &r->boot);
}

/* A PXE menu goes to firmware PXE clients (not iPXE, not HTTP boot). */
static bool
menu_applies(const struct request *r)
{
	return r->srv->menu.count > 0 && r->client.pxe_client && !r->client.http_client &&
	    r->client.cls != BOOT_CLASS_IPXE && r->client.cls != BOOT_CLASS_NONE &&
	    (r->sn == NULL || r->sn->pxe);
}

static void
params_base(struct request *r, struct reply_params *rp, enum dhcp_type type)
{
	static struct pxe_vendor menu;

	memset(rp, 0, sizeof *rp);
	rp->type = type;
	rp->server_id = server_id(r);
	rp->boot = &r->boot;
	rp->next_server = next_server(r);
	rp->pxe_direct = true;
	rp->omit_header_boot = !boot_file_needs_header(&r->client);
	if (type == DHCPOFFER && menu_applies(r)) {
		pxe_menu_vendor(&r->srv->menu, next_server(r), &menu);
		rp->pxe = &menu;
		r->boot.vendor_pxe_client = true;
	}
}

static void
params_config(struct request *r, struct reply_params *rp, bool lease)
{
	const struct dhcp_subnet *sn = r->sn;

	rp->with_config = true;
	rp->with_lease = lease;
	rp->lease_time = sn->lease_time;
	rp->netmask = sn->netmask;
	rp->router = sn->router;
	memcpy(rp->dns, sn->dns, sizeof rp->dns);
	rp->dns_count = sn->dns_count;
	rp->domain = sn->domain;
	rp->hostname = r->host != NULL ? r->host->hostname : NULL;
}

static void
send_reply(struct request *r, const struct reply_params *rp, bool after_commit)
{
	struct dhcp_pending *p = dhcp_queue_reply(r->srv, r->o);
	struct dhcp_builder b;
	char a[INET_ADDRSTRLEN];

	if (p == NULL)
		return;
	size_t n = dhcp_reply_build(&b, r->m, rp);
	if (n == 0) {
		log_warn_peer(req_who(r), req_mac(r),
		    "dhcp %s %s: %s does not fit the client's maximum size", req_who(r), req_mac(r),
		    type_name(rp->type));
		r->srv->queued--;
		return;
	}
	memcpy(p->buf, b.buf, n);
	p->len = n;
	p->needs_commit = after_commit;
	p->lease = rp->yiaddr;
	dhcp_reply_address(r->m, r->o, rp->type, p);
	snprintf(p->note, sizeof p->note, "dhcp %s %s: %s %s%s%s%s", req_who(r), req_mac(r),
	    type_name(rp->type), ntoa(rp->yiaddr, a), r->boot.kind != BOOT_NOTHING ? " boot " : "",
	    r->boot.kind != BOOT_NOTHING ? r->boot.file : "",
	    r->boot.kind == BOOT_LOCAL ? "(local)" : "");
	if (!after_commit) {
		log_info_peer(req_who(r), req_mac(r), "%s", p->note);
		return;
	}
	str_copy(p->who, req_who(r), sizeof p->who);        /* logged when sent */
	str_copy(p->mac, req_mac(r), sizeof p->mac);
}

static void
send_nak(struct request *r, const char *why)
{
	struct reply_params rp;

	params_base(r, &rp, DHCPNAK);
	rp.boot = NULL;
	rp.message = why;
	log_info_peer(req_who(r), req_mac(r),
	    "dhcp %s %s: NAK: %s", req_who(r), req_mac(r), why);
	event(r, "dhcp-nak", "%s", why);
	send_reply(r, &rp, false);
}

static uint32_t
lease_expiry(const struct dhcp_subnet *sn, int64_t now, int64_t *expires)
{
	*expires = sn->lease_time == CONFIG_INFINITE ? POOL_INFINITE : now + sn->lease_time;
	return sn->lease_time;
}

/* The request's client as a lease of addr: its MAC, and its option 61
 * when that is not its MAC (the rest zero). */
static void
lease_client(const struct request *r, struct in_addr addr, struct store_lease *l)
{
	size_t id_len;
	const uint8_t *id = dhcp_option(r->m, DHCP_OPT_CLIENT_ID, &id_len);

	memset(l, 0, sizeof *l);
	l->address = addr;
	memcpy(l->mac, r->m->chaddr, MIN((size_t)r->m->hlen, sizeof l->mac));
	l->mac_len = (uint8_t)MIN((size_t)r->m->hlen, sizeof l->mac);
	if (id != NULL && id_len <= STORE_CLIENT_ID_MAX &&
	    !dhcp_client_id_is_mac(id, id_len, r->m->htype, r->m->chaddr, r->m->hlen)) {
		memcpy(l->client_id, id, id_len);
		l->client_id_len = (uint8_t)id_len;
	}
}

/* Queue the client's lease for the store worker; 0, or -errno when it
 * could not be (no ACK then: never acknowledge what is not stored; the ACK
 * itself waits for the batch's commit, see flush in server.c).  acks: the
 * ACKs that depend on it (named when it fails). */
static int
persist_acks(struct request *r, struct in_addr addr, enum lease_state state, int64_t expires,
    size_t acks)
{
	struct store_lease l;

	if (r->srv->worker == NULL)
		return 0;
	lease_client(r, addr, &l);
	l.state = state;
	l.starts = r->now;
	l.expires = expires;
	if (r->host != NULL)
		str_copy(l.hostname, r->host->hostname, sizeof l.hostname);
	int rc = store_worker_lease_put(r->srv->worker, &l);
	if (rc != 0) {
		char what[96], a[INET_ADDRSTRLEN];
		snprintf(what, sizeof what, "lease of %s for %s not stored", ntoa(addr, a),
		    req_mac(r));
		dhcp_store_failed(r->srv, what, rc, acks);
	} else if (state == LEASE_BOUND) {
		dhcp_lease_noted(r->srv, addr, expires);
	}
	return rc;
}

static int
persist(struct request *r, struct in_addr addr, enum lease_state state, int64_t expires)
{
	return persist_acks(r, addr, state, expires, state == LEASE_BOUND);
}

/* ---- full mode ---- */

/* A client the configuration or the pool knows: a [host], or one with a
 * lease or an offer in this pool, now or before (its slot not yet given
 * to anyone else). */
static bool
client_known(const struct request *r)
{
	return r->host != NULL || pool_knows_client(&r->sn->pool, r->key, r->key_len);
}

/* A new client wants an address: within the subnet's and the relay's
 * rates and above the pool's reserve (dhcp/guard.h), else no answer (it
 * tries again, as after a lost datagram; refusals are summed up in the
 * log once a minute by the tick, not logged one by one). */
static bool
new_client_admitted(struct request *r)
{
	const struct config *cfg = &r->srv->cfg;
	int64_t now_ms = r->now * 1000;
	struct dhcp_bucket *relay = r->m->giaddr.s_addr != 0 ?
	    dhcp_relay_bucket(r->srv, r->m->giaddr, now_ms) : NULL;
	enum dhcp_guard_verdict v = dhcp_guard_admit(&r->sn->guard, relay,
	    cfg->dhcp_new_client_rate, cfg->dhcp_relay_rate, cfg->dhcp_pool_reserve, now_ms);

	if (v == DHCP_GUARD_ADMIT)
		return true;
	STATS_ADD(dhcp_new_clients_refused, 1);
	log_debug_peer(req_who(r), req_mac(r),
	    "dhcp %s %s: new client not served: %s", req_who(r), req_mac(r),
	    v == DHCP_GUARD_RATE ? "over the rate" : "the pool is down to its reserve");
	return false;
}

static void
on_discover(struct request *r)
{
	struct reply_params rp;
	struct in_addr requested = { 0 };
	uint32_t reserved = r->host != NULL && r->host->address.s_addr != 0 &&
	    dhcp_subnet_for(r->srv, r->host->address) == r->sn ? ntohl(r->host->address.s_addr) : 0;
	bool live = pool_find_client(&r->sn->pool, r->key, r->key_len, r->now) != NULL;

	if (!live && !client_known(r) && !new_client_admitted(r))
		return;
	if (r->srv->store_unreachable) {
		/* no lease could be stored: let the client find another server */
		dhcp_outage_note(r->srv, req_who(r), req_mac(r), "DISCOVER not offered", false);
		return;
	}
	(void)dhcp_option_addr(r->m, DHCP_OPT_REQUESTED_IP, &requested);
	struct pool_slot *s = pool_offer(&r->sn->pool, r->key, r->key_len, r->m->chaddr,
	    r->m->hlen, reserved, ntohl(requested.s_addr), r->now);
	if (s == NULL) {
		log_warn_peer(req_who(r), req_mac(r),
		    "dhcp %s %s: no free address in %s", req_who(r), req_mac(r), r->sn->name);
		event(r, "dhcp-no-address", "subnet %s full", r->sn->name);
		return;
	}
	if (!live)
		dhcp_guard_took(&r->sn->guard);
	params_base(r, &rp, DHCPOFFER);
	params_config(r, &rp, true);
	rp.yiaddr = addr_of(pool_slot_addr(&r->sn->pool, s));
	if (r->boot.kind != BOOT_NOTHING && r->boot.kind != BOOT_LOCAL)
		dhcp_stats_boot(r->sn, r->now);
	char a[INET_ADDRSTRLEN];
	event(r, "dhcp-offer", "%s%s%s", ntoa(rp.yiaddr, a),
	    r->boot.kind != BOOT_NOTHING ? " boot " : "", r->boot.file);
	send_reply(r, &rp, false);
}

/* The store is in trouble (writes fail, or it does not answer): a
 * renewal of a lease the store holds is ACKed at once, from memory, for
 * no longer than the stored lease still runs (nothing promised is
 * unstored) nor dhcp-outage-lease-time.  The lease is written as usual
 * too, but the ACK does not wait for it: a commit that succeeds lengthens
 * what the next renewal may get, and ends the trouble.  True when it
 * answered. */
static bool
ack_from_memory(struct request *r, struct in_addr addr, bool reserved)
{
	struct pool_slot *s = pool_find_client(&r->sn->pool, r->key, r->key_len, r->now);
	int64_t left = s != NULL && s->state == SLOT_BOUND &&
	    pool_slot_addr(&r->sn->pool, s) == ntohl(addr.s_addr) ? s->stored_expires - r->now : 0;
	uint32_t cap = r->srv->cfg.dhcp_outage_lease_time;
	struct reply_params rp;
	int64_t expires;
	char a[INET_ADDRSTRLEN];

	if (cap == 0 || left < DHCP_OUTAGE_LEASE_MIN_S)
		return false;
	lease_expiry(r->sn, r->now, &expires);
	if (pool_bind(&r->sn->pool, ntohl(addr.s_addr), r->key, r->key_len, r->m->chaddr,
	    r->m->hlen, reserved, r->now, expires) == 0)
		(void)persist_acks(r, addr, LEASE_BOUND, expires, 0);
	params_base(r, &rp, DHCPACK);
	params_config(r, &rp, true);
	rp.lease_time = (uint32_t)MIN(MIN(left, (int64_t)cap), (int64_t)rp.lease_time);
	rp.yiaddr = addr;
	rp.ciaddr = r->m->ciaddr;
	event(r, "dhcp-ack", "%s for %u s from memory (the store does not answer)",
	    ntoa(addr, a), rp.lease_time);
	dhcp_outage_note(r->srv, req_who(r), req_mac(r), "renewal answered from memory", true);
	send_reply(r, &rp, false);
	return true;
}

/* ACK addr to the client, binding it first. */
static void
ack_lease(struct request *r, struct in_addr addr)
{
	struct reply_params rp;
	int64_t expires;
	bool reserved = r->host != NULL && r->host->address.s_addr == addr.s_addr;
	char a[INET_ADDRSTRLEN];

	if ((r->srv->store_failed || r->srv->store_unreachable) &&
	    ack_from_memory(r, addr, reserved))
		return;
	if (r->srv->store_unreachable) {
		/* not stored, not acknowledged; writes that fail are not tried */
		dhcp_outage_note(r->srv, req_who(r), req_mac(r), "REQUEST not answered", false);
		return;
	}
	lease_expiry(r->sn, r->now, &expires);
	int rc = pool_bind(&r->sn->pool, ntohl(addr.s_addr), r->key, r->key_len, r->m->chaddr,
	    r->m->hlen, reserved, r->now, expires);
	if (rc != 0) {
		send_nak(r, rc == -EBUSY ? "address in use" : "address not available");
		return;
	}
	if (persist(r, addr, LEASE_BOUND, expires) != 0)
		return;                 /* no answer: the client asks again */
	params_base(r, &rp, DHCPACK);
	params_config(r, &rp, true);
	rp.yiaddr = addr;
	rp.ciaddr = r->m->ciaddr;
	event(r, "dhcp-ack", "%s%s%s", ntoa(addr, a), r->boot.kind != BOOT_NOTHING ? " boot " : "",
	    r->boot.file);
	send_reply(r, &rp, true);
}

static bool
in_subnet(const struct dhcp_subnet *sn, struct in_addr a)
{
	return (a.s_addr & sn->netmask.s_addr) == sn->network.s_addr;
}

static void
on_request(struct request *r)
{
	struct in_addr sid = { 0 }, requested = { 0 };
	bool has_sid = dhcp_option_addr(r->m, DHCP_OPT_SERVER_ID, &sid);
	bool has_req = dhcp_option_addr(r->m, DHCP_OPT_REQUESTED_IP, &requested);
	struct pool_slot *mine = pool_find_client(&r->sn->pool, r->key, r->key_len, r->now);
	struct in_addr mine_addr = mine ? addr_of(pool_slot_addr(&r->sn->pool, mine)) : sid;

	if (has_sid && sid.s_addr != server_id(r).s_addr) {
		/* SELECTING another server's offer: drop ours */
		if (mine != NULL && mine->state == SLOT_OFFERED)
			pool_release(&r->sn->pool, mine_addr.s_addr ? ntohl(mine_addr.s_addr) : 0,
			    r->key, r->key_len, r->now);
		log_debug_peer(req_who(r), req_mac(r),
		    "dhcp %s %s: chose server %s", req_who(r), req_mac(r), inet_ntoa(sid));
		return;
	}
	struct in_addr want = has_req ? requested : r->m->ciaddr;
	if (want.s_addr == 0)
		return;
	if (!in_subnet(r->sn, want)) {
		send_nak(r, "wrong network");
		return;
	}
	if (mine == NULL && !has_sid) {
		/* INIT-REBOOT or RENEW/REBIND of a lease we do not know */
		if (pool_taken_by_other(&r->sn->pool, ntohl(want.s_addr), r->key, r->key_len, r->now))
			send_nak(r, "address belongs to another client");
		else if (!pool_contains(&r->sn->pool, ntohl(want.s_addr)) && r->host == NULL)
			send_nak(r, "address not from this server");
		else if ((r->m->ciaddr.s_addr != 0 || r->host != NULL) &&
		    (client_known(r) || new_client_admitted(r)))
			ack_lease(r, want);     /* renewing: we are authoritative here */
		return;
	}
	if (mine != NULL && mine_addr.s_addr != want.s_addr) {
		send_nak(r, "not the address offered");
		return;
	}
	ack_lease(r, want);
}

static void
on_release(struct request *r, bool decline)
{
	struct in_addr addr = r->m->ciaddr;
	char a[INET_ADDRSTRLEN];

	if (decline)
		(void)dhcp_option_addr(r->m, DHCP_OPT_REQUESTED_IP, &addr);
	int rc = decline ? pool_decline(&r->sn->pool, ntohl(addr.s_addr), r->key, r->key_len, r->now)
	    : pool_release(&r->sn->pool, ntohl(addr.s_addr), r->key, r->key_len, r->now);
	if (rc != 0)
		return;
	if (decline) {
		(void)persist(r, addr, LEASE_DECLINED, r->now + POOL_DECLINE_HOLD_S);
		log_warn_peer(req_who(r), req_mac(r),
		    "dhcp %s %s: DECLINE %s: address in use on the network, quarantined",
		    req_who(r), req_mac(r), ntoa(addr, a));
	} else if (r->srv->worker != NULL) {
		struct store_lease l;
		lease_client(r, addr, &l);
		(void)store_worker_lease_release(r->srv->worker, &l);
		log_info_peer(req_who(r), req_mac(r),
		    "dhcp %s %s: RELEASE %s", req_who(r), req_mac(r), ntoa(addr, a));
	}
	event(r, decline ? "dhcp-decline" : "dhcp-release", "%s", ntoa(addr, a));
}

static void
on_inform(struct request *r)
{
	struct reply_params rp;

	params_base(r, &rp, DHCPACK);
	params_config(r, &rp, false);
	rp.ciaddr = r->m->ciaddr;
	send_reply(r, &rp, false);
}

static void
full_mode(struct request *r)
{
	if (!dhcp_share_answers(r->srv, r->sn, r->o->broadcast, r->m)) {
		log_debug_peer(req_who(r), req_mac(r), "dhcp %s %s: another server's client",
		    req_who(r), req_mac(r));
		return;
	}
	switch (r->m->type) {
	case DHCPDISCOVER: on_discover(r); break;
	case DHCPREQUEST: on_request(r); break;
	case DHCPDECLINE: on_release(r, true); break;
	case DHCPRELEASE: on_release(r, false); break;
	case DHCPINFORM: on_inform(r); break;
	default: break;
	}
}

/* ---- proxyDHCP (port 67) and the boot server (port 4011) ---- */

/* In proxy replies (port 67 and 4011) an http:// target for a PXE client
 * (an iPXE script URL) needs 60 "PXEClient" and siaddr too: iPXE takes a
 * yiaddr-0 offer as proxyDHCP only with 60 "PXEClient", and uses it (or a
 * 4011 ACK at all) only with siaddr and a file (dhcp_has_pxeopts). */
static void
proxy_vendor(struct request *r)
{
	if (r->client.pxe_client && r->boot.kind == BOOT_HTTP && !r->boot.vendor_http_client)
		r->boot.vendor_pxe_client = true;
}

static void
proxy_offer(struct request *r)
{
	struct reply_params rp;

	if (r->m->type != DHCPDISCOVER || (!menu_applies(r) && (r->boot.kind == BOOT_NOTHING ||
	    r->boot.kind == BOOT_LOCAL)))
		return;
	proxy_vendor(r);
	params_base(r, &rp, DHCPOFFER);
	if (r->sn != NULL)
		dhcp_stats_boot(r->sn, r->now);
	event(r, "proxy-offer", "%s", r->boot.file);
	send_reply(r, &rp, false);
}

/* A discovery for a menu item (43.71 type) gets that item's file. */
static bool
menu_choice(struct request *r, const struct pxe_vendor *item)
{
	const char *target = pxe_menu_target(&r->srv->menu, item->item_type);

	if (target == NULL)
		return false;
	memset(&r->boot, 0, sizeof r->boot);
	r->boot.kind = strncmp(target, "http://", 7) == 0 ? BOOT_HTTP : BOOT_TFTP;
	str_copy(r->boot.file, target, sizeof r->boot.file);
	r->boot.vendor_pxe_client = true;
	r->boot.matched = "menu";
	return true;
}

static void
pxe_port(struct request *r)
{
	struct reply_params rp;
	struct pxe_vendor item;
	size_t len;
	const uint8_t *v43 = dhcp_option(r->m, DHCP_OPT_VENDOR, &len);
	bool has_item = v43 != NULL && pxe_vendor_parse(v43, len, &item) == 0 && item.has_boot_item;

	if (r->m->type != DHCPREQUEST && r->m->type != DHCPINFORM)
		return;
	if (has_item && item.item_type != 0 && !menu_choice(r, &item) &&
	    r->srv->menu.count > 0) {
		log_info_peer(req_who(r), req_mac(r),
		    "dhcp %s %s: boot server type %u is not on the menu", req_who(r), req_mac(r),
		    item.item_type);
		return;
	}
	if (r->boot.kind == BOOT_NOTHING || r->boot.kind == BOOT_LOCAL)
		return;
	proxy_vendor(r);
	params_base(r, &rp, DHCPACK);
	rp.yiaddr = r->m->ciaddr;       /* as dnsmasq: the client's address */
	if (has_item) {
		struct pxe_vendor echo = { .has_boot_item = true,
			.item_type = item.item_type, .item_layer = item.item_layer };
		item = echo;
		rp.pxe = &item;         /* 71 echoed with the same type */
	}
	event(r, "pxe-ack", "%s%s", r->boot.file, has_item ? " (menu item)" : "");
	send_reply(r, &rp, false);
}

/* Which subnet a request belongs to: the relay's (giaddr); else, for a
 * client that already has an address and sent from it (a renewal, INFORM
 * or RELEASE unicast to us, possibly routed from a relayed subnet, or a
 * 4011 request), that address's; else the receiving interface's. */
static struct in_addr
request_where(struct dhcp_server *srv, const struct dhcp_origin *o,
    const struct dhcp_message *m)
{
	if (m->giaddr.s_addr != 0)
		return m->giaddr;
	if (m->ciaddr.s_addr != 0 && (o->pxe_port ||
	    (o->peer.sin_addr.s_addr == m->ciaddr.s_addr &&
	    dhcp_subnet_for(srv, m->ciaddr) != NULL)))
		return m->ciaddr;
	return o->local;
}

static void
request_init(struct request *r, struct dhcp_server *srv, const struct dhcp_origin *o,
    const struct dhcp_message *m)
{
	size_t id_len;
	const uint8_t *id = dhcp_option(m, DHCP_OPT_CLIENT_ID, &id_len);
	struct timespec ts;

	memset(r, 0, sizeof *r);
	r->srv = srv;
	r->o = o;
	r->m = m;
	/* not time(): glibc reads the coarse clock, up to a tick behind, and a
	 * lease counted from a second before the client's request would end
	 * a second past its stored row */
	clock_gettime(CLOCK_REALTIME, &ts);
	r->now = (int64_t)ts.tv_sec;
	if (dhcp_client_id_is_mac(id, id_len, m->htype, m->chaddr, m->hlen))
		id = NULL;      /* 61 = htype + MAC (iPXE, Linux): the MAC is the key */
	r->key = id != NULL && id_len > 0 && id_len <= POOL_KEY_MAX ? id : m->chaddr;
	r->key_len = id != NULL && id_len > 0 && id_len <= POOL_KEY_MAX ? id_len : m->hlen;
	r->sn = dhcp_subnet_for(srv, request_where(srv, o, m));
	r->host = dhcp_host_for(srv, m);
	boot_classify(m, &r->client);
}

/* What the client itself says its address is: ciaddr (a 4011 request, a
 * renewal, iPXE's proxy request), or option 50 of a REQUEST (its choice of
 * another server's offer, relayed or broadcast to us too).  In proxy mode
 * that is how TFTP and HTTP transfers find the MAC of the boot timeline. */
static void
learn_address(struct request *r)
{
	struct in_addr requested;

	if (r->m->ciaddr.s_addr != 0)
		dhcp_addr_learn(r->srv, r->m->ciaddr, r->m->chaddr, r->m->hlen, r->now);
	else if (r->m->type == DHCPREQUEST &&
	    dhcp_option_addr(r->m, DHCP_OPT_REQUESTED_IP, &requested))
		dhcp_addr_learn(r->srv, requested, r->m->chaddr, r->m->hlen, r->now);
}

/* Servers sharing one database: a full-mode subnet's client whose bucket
 * is another server's.  That server records its DISCOVER: two would write
 * the timeline twice, and their trimming of one MAC's events would meet. */
static bool
another_servers_client(const struct request *r)
{
	return r->sn != NULL && r->sn->has_pool && !r->sn->proxy &&
	    !dhcp_share_answers(r->srv, r->sn, r->o->broadcast, r->m);
}

void
dhcp_handle(struct dhcp_server *srv, const struct dhcp_origin *o, const struct dhcp_message *m)
{
	static struct request r;

	if (m->op != DHCP_BOOTREQUEST || m->type == DHCP_NONE)
		return;
	if (m->hlen >= 6 && memcmp(m->chaddr, DHCP_PROBE_MAC_PREFIX, DHCP_PROBE_MAC_PREFIX_LEN) == 0)
		return;                 /* our own probe for other servers (rogue.c) */
	request_init(&r, srv, o, m);
	decide_boot(&r);
	log_debug_peer(req_who(&r), req_mac(&r),
	    "dhcp %s %s: %s via %s, class %s, vendor '%s'", req_who(&r), req_mac(&r),
	    type_name(m->type),
	    m->giaddr.s_addr ? "relay" : "link", boot_class_name(r.client.cls),
	    r.client.vendor_class);
	if (m->type == DHCPDISCOVER && !another_servers_client(&r)) {
		char uuid[STORE_UUID_TEXT];
		client_uuid_text(&r.client, uuid);
		event_record(&r, "dhcp-discover", uuid, r.client.vendor_class);
	}
	if (r.sn != NULL)
		dhcp_stats_request(r.sn, o, m, r.now);
	learn_address(&r);
	if (r.sn != NULL && r.sn->off) {
		log_debug("dhcp %s %s: subnet %s is disabled: ignored", req_who(&r), req_mac(&r),
		    r.sn->name);
		return;
	}
	if (o->pxe_port) {
		pxe_port(&r);
		return;
	}
	if (r.sn == NULL) {
		if (m->giaddr.s_addr != 0)
			dhcp_discovered_note(srv, m->giaddr, srv->cfg.proxy ?
			    "answered by the global proxy = yes" : "ignored", r.now);
		if (srv->cfg.proxy)
			proxy_offer(&r);
		else
			log_debug_peer(req_who(&r), req_mac(&r),
			    "dhcp %s %s: no subnet configured here: ignored", req_who(&r),
			    req_mac(&r));
		return;
	}
	if (r.sn->proxy || !r.sn->has_pool)
		proxy_offer(&r);
	else
		full_mode(&r);
}
