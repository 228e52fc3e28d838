/* DHCP I/O: sockets on 67 and 4011, receiving with IP_PKTINFO, replies
 * addressed per RFC 2131 4.1, and the group commit: replies that
 * acknowledge a lease leave only after the store has committed the batch
 * they were decided in. */
#include "dhcp/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "core/stats.h"
#include "dhcp/store_worker.h"
#include "store/store.h"

#define DHCP_RCVBUF (4 << 20)

bool
dhcp_enabled(const struct config *cfg)
{
	return cfg->proxy || cfg->subnet_count > 0 || cfg->dhcp_range.count > 0;
}

#define DHCP_PRIORITY 6                 /* TC_PRIO_INTERACTIVE */

static int
dhcp_socket(unsigned port, const char *ifname)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd, on = 1, rcvbuf = DHCP_RCVBUF, err, tos = IPTOS_CLASS_CS6, prio = DHCP_PRIORITY;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	/* Replies marked as network control (DSCP CS6, as dnsmasq and Kea do),
	 * and queued on this host ahead of bulk traffic (priority 6: the
	 * first band of pfifo_fast): in a boot storm the server's own HTTP
	 * downloads must not hold back the next machine's OFFER. */
	(void)setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
	(void)setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof prio);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on) != 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0 ||
	    (ifname != NULL && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
	    (socklen_t)strlen(ifname)) != 0) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int
sockets_add(struct dhcp_sockets *socks, unsigned port, bool pxe, const char *ifname)
{
	int fd;

	if (port == 0 || socks->count >= DHCP_SOCKETS_MAX)
		return 0;
	fd = dhcp_socket(port, ifname);
	if (fd < 0) {
		log_error("dhcp: cannot listen on port %u%s%s: %s", port, ifname ? " on " : "",
		    ifname ? ifname : "", strerror(-fd));
		return fd;
	}
	socks->is_pxe_port[socks->count] = pxe;
	socks->fd[socks->count++] = fd;
	return 0;
}

/* Does cfg serve addresses anywhere (full mode)? */
static bool
full_mode_configured(const struct config *cfg)
{
	if (cfg->dhcp_range.count > 0)
		return true;
	for (size_t i = 0; i < cfg->subnet_count; i++)
		if (cfg->subnet[i].range.count > 0 && !cfg->subnet[i].proxy)
			return true;
	return false;
}

/* Port 68, to hear other servers' answers (dhcp/rogue.c): a failure is
 * logged and detection is left out. */
static void
client_socket_open(struct dhcp_sockets *socks, const struct config *cfg)
{
	if (!full_mode_configured(cfg))
		return;
	socks->client_fd = dhcp_socket(68, NULL);
	if (socks->client_fd < 0) {
		log_warn("dhcp: cannot listen on port 68 (%s): other DHCP servers on the served"
		    " subnets are not detected", strerror(-socks->client_fd));
		socks->client_fd = -1;
	}
}

int
dhcp_sockets_open(struct dhcp_sockets *socks, const struct config *cfg)
{
	int rc = 0;

	memset(socks, 0, sizeof *socks);
	socks->client_fd = -1;
	if (!dhcp_enabled(cfg))
		return 0;
	if (cfg->interface.count == 0) {
		rc = sockets_add(socks, cfg->dhcp_port, false, NULL);
		if (rc == 0)
			rc = sockets_add(socks, cfg->pxe_port, true, NULL);
	}
	for (size_t i = 0; i < cfg->interface.count && rc == 0; i++) {
		rc = sockets_add(socks, cfg->dhcp_port, false, cfg->interface.item[i]);
		if (rc == 0)
			rc = sockets_add(socks, cfg->pxe_port, true, cfg->interface.item[i]);
	}
	if (rc == 0)
		client_socket_open(socks, cfg);
	if (rc != 0)
		dhcp_sockets_close(socks);
	return rc;
}

void
dhcp_sockets_close(struct dhcp_sockets *socks)
{
	for (size_t i = 0; i < socks->count; i++)
		close(socks->fd[i]);
	socks->count = 0;
	if (socks->client_fd >= 0)
		close(socks->client_fd);
	socks->client_fd = -1;
}

/* RFC 2131 4.1: relay, then ciaddr, then broadcast (the client cannot
 * answer ARP yet; unicast to yiaddr would need an ARP entry we cannot add
 * without CAP_NET_ADMIN, and broadcast is what the RFC allows instead).
 * 4011: back to the request's source address and port. */
void
dhcp_reply_address(const struct dhcp_message *req, const struct dhcp_origin *o,
    enum dhcp_type type, struct dhcp_pending *p)
{
	memset(&p->to, 0, sizeof p->to);
	p->to.sin_family = AF_INET;
	p->ifindex = 0;
	p->from = o->local;
	if (o->pxe_port) {
		p->to = o->peer;
	} else if (req->giaddr.s_addr != 0) {
		p->to.sin_addr = req->giaddr;
		p->to.sin_port = htons(67);
	} else if (req->ciaddr.s_addr != 0 && type != DHCPNAK) {
		p->to.sin_addr = req->ciaddr;
		p->to.sin_port = htons(68);
	} else {
		p->to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
		p->to.sin_port = htons(68);
		p->ifindex = o->ifindex;
	}
}

struct dhcp_pending *
dhcp_queue_reply(struct dhcp_server *srv, const struct dhcp_origin *o)
{
	if (srv->queued >= DHCP_QUEUE_MAX)
		return NULL;
	struct dhcp_pending *p = &srv->queue[srv->queued++];
	p->fd = o->fd;
	return p;
}

static void
send_failed(const struct dhcp_pending *p, int err)
{
	char who[LOG_ADDR_MAX];

	log_warn("dhcp: send to %s failed: %s",
	    log_addr((const struct sockaddr *)&p->to, who, sizeof who), strerror(err));
}

/* Send the replies queued for one socket with sendmmsg, each with its own
 * source address and, for broadcasts, interface (IP_PKTINFO). */
static void
send_batch(struct dhcp_pending *const *p, size_t n)
{
	struct mmsghdr mm[DHCP_QUEUE_MAX];
	struct iovec iov[DHCP_QUEUE_MAX];
	union { char buf[CMSG_SPACE(sizeof(struct in_pktinfo))]; struct cmsghdr align; }
	    ctl[DHCP_QUEUE_MAX];

	memset(ctl, 0, n * sizeof ctl[0]);
	for (size_t i = 0; i < n; i++) {
		struct in_pktinfo pi = { .ipi_ifindex = (int)p[i]->ifindex,
			.ipi_spec_dst = p[i]->from };
		iov[i] = (struct iovec){ p[i]->buf, p[i]->len };
		mm[i].msg_len = 0;
		mm[i].msg_hdr = (struct msghdr){
			.msg_name = &p[i]->to, .msg_namelen = sizeof p[i]->to,
			.msg_iov = &iov[i], .msg_iovlen = 1,
			.msg_control = ctl[i].buf, .msg_controllen = sizeof ctl[i].buf,
		};
		struct cmsghdr *c = CMSG_FIRSTHDR(&mm[i].msg_hdr);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof pi);
		memcpy(CMSG_DATA(c), &pi, sizeof pi);
	}
	/* sendmmsg stops at the first message that fails: report it and go
	 * on with the next one */
	for (size_t done = 0; done < n;) {
		int k = sendmmsg(p[done]->fd, mm + done, (unsigned)(n - done), MSG_DONTWAIT);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			send_failed(p[done], errno);
			k = 1;
		}
		done += (size_t)k;
	}
}

void
dhcp_store_failed(struct dhcp_server *srv, const char *what, int err, size_t acks)
{
	unsigned long held;

	srv->store_failed = srv->batch_failed = true;
	srv->held_back += acks;
	if (log_limit_take(&srv->store_failing, (int64_t)(clock_now_us() / 1000000u),
	    LOG_LIMIT_INTERVAL_S, &held))
		log_error("dhcp: %s (%s): %zu ACK(s) not sent (%lu more such failure(s) since"
		    " the last line)", what, strerror(-err), acks, held);
}

/* A batch went into the store after writes had failed: say so once. */
static void
store_recovered(struct dhcp_server *srv)
{
	log_info("dhcp: the lease store takes writes again; %lu ACK(s) were not sent"
	    " while it failed", srv->held_back);
	srv->store_failed = false;
	srv->held_back = 0;
	srv->store_failing = (struct log_limit){ 0 };
}

static size_t
acks_queued(const struct dhcp_server *srv)
{
	size_t n = 0;

	for (size_t i = 0; i < srv->queued; i++)
		n += srv->queue[i].needs_commit;
	return n;
}

/* Send replies in order, one sendmmsg per run of replies on one socket;
 * held ACKs are logged as they go. */
static void
send_all(struct dhcp_pending *const *p, size_t n)
{
	size_t first = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i]->needs_commit)
			log_info_peer(p[i]->who, p[i]->mac, "%s", p[i]->note);
		if (i > first && (p[first]->fd != p[i]->fd || i - first == DHCP_QUEUE_MAX)) {
			send_batch(p + first, i - first);
			first = i;
		}
	}
	if (n > first)
		send_batch(p + first, n - first);
}

void
dhcp_lease_noted(struct dhcp_server *srv, struct in_addr addr, int64_t expires)
{
	if (srv->noted_count < DHCP_QUEUE_MAX)
		srv->noted[srv->noted_count++] = (struct dhcp_lease_note){ 0, addr, expires };
}

/* The batch's ACKs and lease notes wait for its outcome. */
static void
hold_batch(struct dhcp_server *srv, int64_t batch)
{
	size_t dropped = 0;

	for (size_t i = 0; i < srv->queued; i++) {
		struct dhcp_pending *p = &srv->queue[i];
		if (!p->needs_commit)
			continue;
		if (batch <= 0 || srv->held_count == DHCP_HELD_MAX) {
			dropped++;
			continue;
		}
		p->batch = batch;
		srv->held[(srv->held_head + srv->held_count++) % DHCP_HELD_MAX] = *p;
	}
	for (size_t i = 0; i < srv->noted_count && batch > 0; i++) {
		if (srv->notes_count == DHCP_NOTES_MAX)
			break;          /* its stored end stays the older, shorter one */
		srv->noted[i].batch = batch;
		srv->notes[(srv->notes_head + srv->notes_count++) % DHCP_NOTES_MAX] = srv->noted[i];
	}
	srv->noted_count = 0;
	if (dropped > 0)
		dhcp_store_failed(srv, batch <= 0 ? "the store worker's queue is full"
		    : "too many ACKs wait for the store", -ENOBUFS, dropped);
}

/* End of a batch: the replies that do not depend on the store go now; the
 * ACKs wait until the worker has committed their leases (store_answered).
 * Without a store, everything goes now. */
static void
flush(struct dhcp_server *srv)
{
	struct dhcp_pending *now[DHCP_QUEUE_MAX];
	size_t n = 0;

	if (srv->worker != NULL) {
		int64_t batch = store_worker_batch_open(srv->worker) ?
		    store_worker_commit(srv->worker) : 0;
		if (batch != 0 || acks_queued(srv) > 0)
			hold_batch(srv, batch);
	}
	srv->batch_failed = false;
	for (size_t i = 0; i < srv->queued; i++)
		if (!srv->queue[i].needs_commit || srv->worker == NULL)
			now[n++] = &srv->queue[i];
	send_all(now, n);
	srv->queued = 0;
}

/* The slot of a lease written in a committed batch learns its stored end. */
static void
note_stored(struct dhcp_server *srv, const struct dhcp_lease_note *note)
{
	struct dhcp_subnet *sn = dhcp_subnet_for(srv, note->addr);
	struct pool_slot *s = sn != NULL ? pool_slot(&sn->pool, ntohl(note->addr.s_addr)) : NULL;

	if (s != NULL && s->state == SLOT_BOUND)
		s->stored_expires = note->expires;
}

/* Servers sharing the database: the lease writes of batches up to
 * o->batch that another server's client won.  Their ACKs are not sent
 * (the client asks again and its pool, having learned the holder's lease,
 * NAKs it). */
static void
lost_apply(struct dhcp_server *srv, const struct store_outcome *o)
{
	struct store_lease holder;

	for (size_t i = 0; i < STORE_WORKER_LOST &&
	    store_worker_take_lost(srv->worker, o->batch, &holder); i++) {
		for (size_t j = 0; j < srv->held_count; j++) {
			struct dhcp_pending *p = &srv->held[(srv->held_head + j) % DHCP_HELD_MAX];
			if (p->batch <= o->batch && p->lease.s_addr == holder.address.s_addr)
				p->batch = 0;   /* not this outcome's: dropped below */
		}
		dhcp_share_lost(srv, &holder);
	}
}

/* One batch's outcome: its ACKs go, or are dropped (the clients ask
 * again); its leases' stored ends are noted. */
static void
outcome_apply(struct dhcp_server *srv, const struct store_outcome *o)
{
	struct dhcp_pending *go[DHCP_HELD_MAX];
	size_t n = 0, dropped = 0;

	lost_apply(srv, o);
	while (srv->held_count > 0 && srv->held[srv->held_head].batch <= o->batch) {
		struct dhcp_pending *p = &srv->held[srv->held_head];
		if (o->committed && p->batch == o->batch)
			go[n++] = p;
		else
			dropped++;
		srv->held_head = (srv->held_head + 1) % DHCP_HELD_MAX;
		srv->held_count--;
	}
	while (srv->notes_count > 0 && srv->notes[srv->notes_head].batch <= o->batch) {
		if (o->committed && srv->notes[srv->notes_head].batch == o->batch)
			note_stored(srv, &srv->notes[srv->notes_head]);
		srv->notes_head = (srv->notes_head + 1) % DHCP_NOTES_MAX;
		srv->notes_count--;
	}
	send_all(go, n);        /* their slots are still in the ring: not reused yet */
	if (!o->committed)
		dhcp_store_failed(srv, "lease store commit failed", -EIO, dropped);
	else if (srv->store_failed)
		store_recovered(srv);
}

static void
store_answered(uv_async_t *h)
{
	struct dhcp_server *srv = h->data;
	struct store_outcome o;

	for (size_t i = 0; i < STORE_WORKER_OUTCOMES && store_worker_take(srv->worker, &o); i++)
		outcome_apply(srv, &o);
	dhcp_store_watch(srv);
}

void
dhcp_store_watch(struct dhcp_server *srv)
{
	if (srv->worker == NULL)
		return;
	bool down = !store_worker_reachable(srv->worker) ||
	    store_worker_waiting_ms(srv->worker) > DHCP_STORE_STALL_MS;

	if (down == srv->store_unreachable)
		return;
	srv->store_unreachable = down;
	STATS_ADD(dhcp_store_outages, down);
	STATS_SUB(dhcp_store_unreachable, !down);
	STATS_ADD(dhcp_store_unreachable, down);
	if (down) {
		srv->outage_renewed = srv->outage_refused = 0;
		srv->outage_log = (struct log_limit){ 0 };
		log_error("dhcp: the state store does not answer: no new leases and no offers;"
		    " renewals of stored leases are answered from memory (at most %u s, never past"
		    " the stored end)", srv->cfg.dhcp_outage_lease_time);
		return;
	}
	log_info("dhcp: the state store answers again: full service (while it did not, %lu"
	    " renewal(s) were answered from memory and %lu request(s) were not answered)",
	    srv->outage_renewed, srv->outage_refused);
}

void
dhcp_outage_note(struct dhcp_server *srv, const char *who, const char *mac, const char *what,
    bool answered)
{
	unsigned long held;

	if (answered) {
		srv->outage_renewed++;
		STATS_ADD(dhcp_outage_renewals, 1);
	} else {
		srv->outage_refused++;
		STATS_ADD(dhcp_outage_refused, 1);
	}
	if (log_limit_take(&srv->outage_log, (int64_t)(clock_now_us() / 1000000u),
	    LOG_LIMIT_INTERVAL_S, &held))
		log_warn_peer(who, mac, "dhcp %s %s: %s: the state store does not answer (%lu more"
		    " such request(s) since the last line)", who, mac, what, held);
}

static void
origin_from_cmsg(struct msghdr *msg, struct dhcp_origin *o)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			o->local = pi.ipi_spec_dst;
			o->ifindex = (unsigned)pi.ipi_ifindex;
			o->broadcast = pi.ipi_addr.s_addr == htonl(INADDR_BROADCAST);
		}
	}
}

static bool
listen_allowed(const struct dhcp_server *srv, struct in_addr local)
{
	char a[INET_ADDRSTRLEN];

	if (srv->cfg.listen.count == 0)
		return true;
	inet_ntop(AF_INET, &local, a, sizeof a);
	for (size_t i = 0; i < srv->cfg.listen.count; i++)
		if (strcmp(srv->cfg.listen.item[i], a) == 0)
			return true;
	return false;
}

static void
handle_one(struct dhcp_server *srv, int fd, bool pxe_port, struct msghdr *msg, size_t n)
{
	struct dhcp_origin o = { .fd = fd, .pxe_port = pxe_port };
	const char *why;
	char who[LOG_ADDR_MAX];

	if (msg->msg_flags & MSG_TRUNC)
		return;
	memcpy(&o.peer, msg->msg_name, sizeof o.peer);
	origin_from_cmsg(msg, &o);
	if (!listen_allowed(srv, o.local))
		return;
	if (dhcp_parse(msg->msg_iov[0].iov_base, n, &srv->msg, &why) != 0) {
		log_debug("dhcp %s: bad message (%zu bytes): %s",
		    log_addr((const struct sockaddr *)&o.peer, who, sizeof who), n, why);
		return;
	}
	dhcp_handle(srv, &o, &srv->msg);
}

static void
readable(uv_poll_t *poll, int status, int events)
{
	struct dhcp_server *srv = poll->data;
	size_t idx = (size_t)(poll - srv->poll);
	int fd = srv->socks.fd[idx];
	struct mmsghdr mm[DHCP_RECV_BATCH];
	struct iovec iov[DHCP_RECV_BATCH];
	struct sockaddr_in peer[DHCP_RECV_BATCH];
	size_t want = MIN((size_t)DHCP_RECV_BATCH, DHCP_QUEUE_MAX - srv->queued);

	if (status < 0 || !(events & UV_READABLE))
		return;
	for (size_t i = 0; i < want; i++) {
		iov[i] = (struct iovec){ srv->rx[i], sizeof srv->rx[i] };
		mm[i].msg_len = 0;
		mm[i].msg_hdr = (struct msghdr){
			.msg_name = &peer[i], .msg_namelen = sizeof peer[i],
			.msg_iov = &iov[i], .msg_iovlen = 1,
			.msg_control = srv->rx_ctl[i].buf, .msg_controllen = sizeof srv->rx_ctl[i].buf,
		};
	}
	int n = recvmmsg(fd, mm, (unsigned)want, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++)
		handle_one(srv, fd, srv->socks.is_pxe_port[idx], &mm[i].msg_hdr, mm[i].msg_len);
	flush(srv);
}

int
dhcp_config_check(const struct config *cfg, char *err, size_t err_size)
{
	struct dhcp_server *srv = calloc(1, sizeof *srv);

	if (srv == NULL)
		return -ENOMEM;
	srv->cfg = *cfg;
	int rc = dhcp_subnets_build(srv, err, err_size);
	dhcp_subnets_free(srv);
	free(srv);
	return rc;
}

static void
server_free(struct dhcp_server *srv)
{
	if (!store_worker_free(srv->worker))
		return;         /* its worker still runs (a frozen database): left */
	dhcp_subnets_free(srv);
	free(srv->held);
	free(srv->notes);
	free(srv);
}

/* The server is freed when its last handle has closed. */
static void
handle_closed(uv_handle_t *h)
{
	struct dhcp_server *srv = h->data;

	if (--srv->poll_count == 0)
		server_free(srv);
}

static void
store_wake(void *arg)
{
	struct dhcp_server *srv = arg;

	uv_async_send(&srv->store_answer);
}

/* The store worker, its answers on the loop, the rings of what waits. */
static int
worker_start(struct dhcp_server *srv, const char *where)
{
	srv->held = calloc(DHCP_HELD_MAX, sizeof *srv->held);
	srv->notes = calloc(DHCP_NOTES_MAX, sizeof *srv->notes);
	if (srv->held == NULL || srv->notes == NULL)
		return -ENOMEM;
	uv_async_init(srv->loop, &srv->store_answer, store_answered);
	srv->store_answer.data = srv;
	srv->store_answer_on = true;
	return store_worker_start(&srv->worker, where, srv->cfg.host_approval,
	    srv->share.on ? srv->share.self : "", store_wake, srv);
}

int
dhcp_server_start(struct dhcp_server **out, uv_loop_t *loop, const struct config *cfg,
    const struct dhcp_sockets *socks, struct store *store, const char *where)
{
	struct dhcp_server *srv = calloc(1, sizeof *srv);
	char err[512];

	if (srv == NULL)
		return -ENOMEM;
	srv->loop = loop;
	srv->cfg = *cfg;
	srv->socks = *socks;
	srv->store = store;
	if (dhcp_subnets_build(srv, err, sizeof err) != 0) {
		log_error("dhcp: %s", err);
		server_free(srv);
		return -EINVAL;
	}
	dhcp_leases_load(srv);
	dhcp_share_start(srv, where);
	int rc = store != NULL ? worker_start(srv, where) : 0;
	if (rc != 0) {
		dhcp_share_stop(srv);
		srv->poll_count = srv->store_answer_on;
		if (srv->store_answer_on)       /* srv is freed when it has closed */
			uv_close((uv_handle_t *)&srv->store_answer, handle_closed);
		else
			server_free(srv);
		return rc;
	}
	for (size_t i = 0; i < socks->count; i++) {
		uv_poll_init(loop, &srv->poll[i], socks->fd[i]);
		srv->poll[i].data = srv;
		uv_poll_start(&srv->poll[i], UV_READABLE, readable);
	}
	srv->poll_count = socks->count;
	dhcp_rogue_start(srv);
	dhcp_tick_start(srv);
	srv->store = NULL;      /* read at start only: a reload's reads come read */
	log_info("dhcp: %zu subnet(s)%s, %zu host(s), ports %u and %u", srv->subnet_count,
	    cfg->proxy ? " + proxy" : "", srv->host_count, cfg->dhcp_port, cfg->pxe_port);
	*out = srv;
	return 0;
}

/* The worker writes what is queued and stops; the ACKs of batches it
 * committed meanwhile go (the sockets are still open). */
#define DHCP_WORKER_STOP_MS 10000
static void
worker_stop(struct dhcp_server *srv)
{
	struct store_outcome o;

	if (srv->worker == NULL)
		return;
	store_worker_stop(srv->worker, DHCP_WORKER_STOP_MS);
	while (store_worker_take(srv->worker, &o))
		outcome_apply(srv, &o);
}

void
dhcp_server_stop(struct dhcp_server *srv)
{
	if (srv == NULL)
		return;
	worker_stop(srv);
	dhcp_share_stop(srv);
	size_t n = srv->poll_count;
	srv->poll_count += srv->tick_on + srv->client_poll_on + srv->store_answer_on;
	if (srv->poll_count == 0) {
		server_free(srv);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uv_poll_stop(&srv->poll[i]);
		uv_close((uv_handle_t *)&srv->poll[i], handle_closed);
	}
	if (srv->client_poll_on) {
		uv_poll_stop(&srv->client_poll);
		uv_close((uv_handle_t *)&srv->client_poll, handle_closed);
	}
	if (srv->tick_on) {
		uv_timer_stop(&srv->tick);
		uv_close((uv_handle_t *)&srv->tick, handle_closed);
	}
	if (srv->store_answer_on)
		uv_close((uv_handle_t *)&srv->store_answer, handle_closed);
}

void
dhcp_server_event(struct dhcp_server *srv, const uint8_t *mac, size_t mac_len,
    const char *kind, const char *detail, int64_t when_ms)
{
	if (srv != NULL && srv->worker != NULL)
		(void)store_worker_event(srv->worker, mac, mac_len, kind, detail, "", when_ms);
}

size_t
dhcp_server_mac_of(struct dhcp_server *srv, struct in_addr addr, uint8_t mac[16])
{
	struct dhcp_subnet *sn = srv != NULL ? dhcp_subnet_for(srv, addr) : NULL;
	struct pool_slot *s = sn != NULL ? pool_slot(&sn->pool, ntohl(addr.s_addr)) : NULL;
	const uint8_t *said = srv != NULL ? dhcp_addr_mac(srv, addr, (int64_t)time(NULL)) : NULL;

	if ((s == NULL || s->state != SLOT_BOUND) && said != NULL) {
		memcpy(mac, said, 6);           /* proxy mode: the address it said it has */
		return 6;
	}
	if (s == NULL || s->state != SLOT_BOUND)
		return 0;
	memcpy(mac, s->mac, s->mac_len);
	return s->mac_len;
}
