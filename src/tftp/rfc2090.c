/* RFC 2090 multicast option on port 69: the I/O around the transfer engine
 * (rfc2090_xfer.c).
 *
 * An octet RRQ with "multicast" (empty value) for a file under the root
 * joins that file's multicast transfer, or starts one.  A transfer has its
 * own socket, bound to the address the request came to (the transfer ID:
 * unicast OACKs and the multicast DATA both come from it), multicasting
 * out of the request's interface (TTL 1, no loopback) to the next of 64
 * groups from tftp-multicast-group, on tftp-multicast-port.  One transfer
 * per file (same inode) at a time.
 *
 * Anything the transfer cannot take is served by ordinary TFTP: netascii,
 * IPv6, a client on another local address than the transfer's, a blksize
 * (asked, or the default 512) smaller than the group's, files of more than
 * 65535 blocks, a full client list, all 64 groups busy.
 *
 * Blocks are read with preadv2(RWF_NOWAIT); a block not in the page cache
 * is read in libuv's thread pool, so the loop never waits for a disk. */
#include "tftp/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"
#include "tftp/negotiate.h"
#include "tftp/rfc2090_xfer.h"

#define GROUPS 64                       /* transfers at once: one group each */
#define XFER_RTO_US 100000u             /* first resend after 100 ms */
#define XFER_RETRIES 3                  /* then a silent master is skipped (4 sends:
                                         * as TFTP_UNPROVEN_SENDS) */

struct rfc2090_io {
	struct rfc2090_server *owner;
	size_t slot;                        /* group = first group + slot */
	int sock, fd;
	uv_poll_t poll;
	uv_timer_t timer;
	uv_fs_t read_req;
	int handles_open;
	bool closing;
	bool read_pending;                  /* read_req in the thread pool */
	uint64_t read_block;                /* ... for this block */
	uint64_t want_block;                /* block to send once read (0: none) */
	struct sockaddr_in group, local;
	dev_t dev;
	ino_t ino;
	uint64_t size, started_us;
	uint32_t blksize;
	char path[FILES_PATH_MAX];
	uint8_t *packet;                    /* TFTP_HEADER_SIZE + blksize */
	struct rfc2090_xfer engine;
};

struct rfc2090_server {
	struct tftp_server *srv;
	struct rfc2090_io *xfer[GROUPS];
	uint32_t next;                      /* the group after the last one used */
};

static void xfer_do(struct rfc2090_io *t, const struct rfc2090_action *act);

/* ---- one transfer: lifetime ---- */

static void
xfer_free_if_done(struct rfc2090_io *t)
{
	if (t->handles_open > 0 || t->read_pending)
		return;
	free(t->packet);
	free(t);
}

static void
xfer_handle_closed(uv_handle_t *h)
{
	struct rfc2090_io *t = h->data;

	if (h == (uv_handle_t *)&t->poll)
		close(t->sock);
	t->handles_open--;
	xfer_free_if_done(t);
}

static void
xfer_close(struct rfc2090_io *t)
{
	if (t->closing)
		return;
	t->closing = true;
	if (t->owner != NULL && t->owner->xfer[t->slot] == t)
		t->owner->xfer[t->slot] = NULL;
	t->owner = NULL;
	uv_poll_stop(&t->poll);
	uv_timer_stop(&t->timer);
	if (t->fd >= 0 && !t->read_pending)
		close(t->fd);
	uv_close((uv_handle_t *)&t->poll, xfer_handle_closed);
	uv_close((uv_handle_t *)&t->timer, xfer_handle_closed);
}

static const char *
peer_text(struct rfc2090_peer peer, char *buf, size_t size)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = peer.port,
		.sin_addr.s_addr = peer.addr };

	return log_addr((const struct sockaddr *)&in, buf, size);
}

static struct sockaddr_in
peer_sockaddr(struct rfc2090_peer peer)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = peer.port,
		.sin_addr.s_addr = peer.addr };

	return in;
}

/* ---- sending ---- */

static void
send_oack(struct rfc2090_io *t, size_t index, bool master)
{
	struct rfc2090_client *c = &t->engine.client[index];
	struct sockaddr_in to = peer_sockaddr(c->peer);
	uint8_t buf[512];

	c->oack.present |= TFTP_OPT_MULTICAST;
	memcpy(c->oack.multicast.addr, &t->group.sin_addr.s_addr, 4);
	c->oack.multicast.port = ntohs(t->group.sin_port);
	c->oack.multicast.has_group = true;  /* atftp cannot parse ",,1" */
	c->oack.multicast.master = master;
	size_t n = tftp_build_oack(buf, sizeof buf, &c->oack);
	if (n > 0)
		(void)sendto(t->sock, buf, n, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof to);
}

static size_t
block_len(const struct rfc2090_io *t, uint64_t block)
{
	uint64_t off = (block - 1) * t->blksize;

	return off >= t->size ? 0 : (size_t)MIN((uint64_t)t->blksize, t->size - off);
}

/* The block is in t->packet: to the group. */
static void
send_data(struct rfc2090_io *t, uint64_t block, size_t len)
{
	tftp_build_data_header(t->packet, TFTP_HEADER_SIZE, (uint16_t)block);
	if (sendto(t->sock, t->packet, TFTP_HEADER_SIZE + len, MSG_DONTWAIT,
	    (struct sockaddr *)&t->group, sizeof t->group) >= 0)
		STATS_ADD(tftp_bytes_sent, len);
}

static void read_block(struct rfc2090_io *t, uint64_t block);

static void
read_done(uv_fs_t *req)
{
	struct rfc2090_io *t = req->data;
	ssize_t got = req->result;
	uint64_t block = t->read_block;

	uv_fs_req_cleanup(req);
	t->read_pending = false;
	if (t->closing) {
		close(t->fd);
		xfer_free_if_done(t);
		return;
	}
	if (got >= 0 && (size_t)got == block_len(t, block) && t->want_block == block) {
		t->want_block = 0;
		send_data(t, block, (size_t)got);
		return;
	}
	if (got < 0)
		log_warn("tftp multicast %s: read failed at block %" PRIu64 ": %s", t->path,
		    block, uv_strerror((int)got));
	/* a failed read is a loss (the timer resends); a newer block is read */
	if (t->want_block != 0 && t->want_block != block)
		read_block(t, t->want_block);
}

/* Send a block: from the page cache at once, else read off the loop. */
static void
read_block(struct rfc2090_io *t, uint64_t block)
{
	size_t len = block_len(t, block);
	off_t off = (off_t)((block - 1) * t->blksize);
	struct iovec iov = { t->packet + TFTP_HEADER_SIZE, len };

	t->want_block = block;
	if (t->read_pending)
		return;                 /* read_done goes on with want_block */
	if (len == 0 || preadv2(t->fd, &iov, 1, off, RWF_NOWAIT) == (ssize_t)len) {
		t->want_block = 0;
		send_data(t, block, len);
		return;
	}
	uv_buf_t buf = uv_buf_init((char *)iov.iov_base, (unsigned)len);
	t->read_req.data = t;
	t->read_block = block;
	if (uv_fs_read(t->owner->srv->loop, &t->read_req, t->fd, &buf, 1, off, read_done) == 0)
		t->read_pending = true;
}

/* ---- engine decisions ---- */

static void xfer_timer(uv_timer_t *timer);

static void
log_gone(struct rfc2090_io *t, const struct rfc2090_action *act)
{
	static const char *const why[] = {
		[RFC2090_GONE_DONE] = "has the whole file",
		[RFC2090_GONE_ERROR] = "sent an error, left",
		[RFC2090_GONE_SILENT] = "silent as master, skipped",
	};
	char who[LOG_ADDR_MAX];

	if (act->gone == RFC2090_GONE_NONE)
		return;
	peer_text(act->gone_peer, who, sizeof who);
	log_info_peer(who, NULL,
	    "tftp %s: %s multicast: %s", who, t->path, why[act->gone]);
	if (act->gone == RFC2090_GONE_DONE)
		STATS_ADD(tftp_transfers_ok, 1);
	else
		STATS_ADD(tftp_transfers_failed, 1);
}

static void
xfer_end(struct rfc2090_io *t)
{
	const struct rfc2090_xfer *x = &t->engine;
	char group[INET_ADDRSTRLEN];

	log_info("tftp multicast %s to %s: ended in %" PRIu64 " ms, %u client(s) done, "
	    "%u skipped, %u master(s), %" PRIu64 " blocks sent, %" PRIu64 " resent", t->path,
	    inet_ntop(AF_INET, &t->group.sin_addr, group, sizeof group),
	    (clock_now_us() - t->started_us) / 1000, x->finished, x->skipped, x->masters,
	    x->blocks_sent, x->resent);
	xfer_close(t);
}

static void
xfer_do(struct rfc2090_io *t, const struct rfc2090_action *act)
{
	log_gone(t, act);
	switch (act->kind) {
	case RFC2090_ACTION_NONE:
		break;
	case RFC2090_ACTION_OACK:
		send_oack(t, act->index, act->master);
		break;
	case RFC2090_ACTION_DATA:
		read_block(t, act->block);
		break;
	case RFC2090_ACTION_DONE:
		xfer_end(t);
		return;
	}
	uint64_t d = t->engine.deadline_us, now = clock_now_us();
	if (d != 0)
		uv_timer_start(&t->timer, xfer_timer, d > now ? (d - now + 999) / 1000 : 0, 0);
}

static void
xfer_timer(uv_timer_t *timer)
{
	struct rfc2090_io *t = timer->data;
	struct rfc2090_action act;
	uint64_t resent = t->engine.resent;

	if (t->closing)
		return;
	rfc2090_xfer_on_timeout(&t->engine, clock_now_us(), &act);
	STATS_ADD(tftp_retransmits, t->engine.resent - resent);
	xfer_do(t, &act);
}

static void
xfer_packet(struct rfc2090_io *t, const uint8_t *buf, size_t len,
    const struct sockaddr_in *from)
{
	struct rfc2090_peer peer = { from->sin_addr.s_addr, from->sin_port };
	struct rfc2090_action act = { .kind = RFC2090_ACTION_NONE };
	uint16_t op, num;

	if (tftp_packet_header(buf, len, &op, &num) != 0)
		return;
	if (rfc2090_xfer_find(&t->engine, peer) < 0) {
		/* not one of ours (or one we skipped): RFC 1350's answer */
		if (op != TFTP_ERROR)
			tftp_send_error_to(t->sock,
			    (const struct sockaddr_storage *)(const void *)from, sizeof *from,
			    TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
		return;
	}
	if (op == TFTP_ACK)
		(void)rfc2090_xfer_on_ack(&t->engine, peer, num, clock_now_us(), &act);
	else if (op == TFTP_ERROR)
		(void)rfc2090_xfer_on_error(&t->engine, peer, clock_now_us(), &act);
	xfer_do(t, &act);
}

static void
xfer_readable(uv_poll_t *poll, int status, int events)
{
	struct rfc2090_io *t = poll->data;
	uint8_t buf[600];

	if (t->closing || status < 0 || !(events & UV_READABLE))
		return;
	for (int i = 0; i < TFTP_RECV_BATCH && !t->closing; i++) {
		struct sockaddr_in from;
		socklen_t from_len = sizeof from;
		ssize_t n = recvfrom(t->sock, buf, sizeof buf, MSG_DONTWAIT,
		    (struct sockaddr *)&from, &from_len);
		if (n < 0)
			return;
		if (from.sin_family == AF_INET)
			xfer_packet(t, buf, (size_t)n, &from);
	}
}

/* ---- requests ---- */

/* The file a request names, opened; false (and nothing open) on any
 * failure: ordinary TFTP then answers with the right error. */
static bool
request_open(struct tftp_server *srv, const struct tftp_request *req, char *path,
    struct stat *st, int *fd)
{
	const struct files_root *root = srv->tcfg.root;
	char normalized[FILES_PATH_MAX];

	if (files_path_normalize(req->filename, req->filename_len, root->path, normalized,
	    sizeof normalized) != 0)
		return false;
	*fd = files_open_read(root, normalized, st, path);
	return *fd >= 0;
}

/* This client's OACK (without the multicast value, filled when sent),
 * negotiated like a unicast one; false if its blksize cannot be the
 * group's (group_blksize 0: it sets the group's). */
static bool
request_options(struct tftp_server *srv, const struct tftp_request *req, uint64_t size,
    unsigned mtu, uint32_t group_blksize, struct tftp_oack *oack, uint32_t *blksize)
{
	struct tftp_limits lim;
	struct tftp_transfer_params params;

	tftp_limits_from_config(&srv->cfg, mtu, AF_INET, &lim);
	tftp_negotiate(req, &lim, size, oack, &params);
	oack->present &= ~TFTP_OPT_WINDOWSIZE;  /* lock-step: window 1 */
	*blksize = params.blksize;
	if (group_blksize == 0)
		return true;
	if (params.blksize < group_blksize || (!(req->present & TFTP_OPT_BLKSIZE) &&
	    group_blksize != TFTP_BLKSIZE_DEFAULT))
		return false;
	oack->blksize = *blksize = group_blksize;
	return true;
}

static struct rfc2090_io *
xfer_find(struct rfc2090_server *m, const struct stat *st)
{
	for (size_t i = 0; i < GROUPS; i++) {
		struct rfc2090_io *t = m->xfer[i];
		if (t != NULL && t->dev == st->st_dev && t->ino == st->st_ino)
			return t;
	}
	return NULL;
}

/* The next free group after the last one used (a group just freed is not
 * reused at once: late packets of its transfer may still be about). */
static int
group_slot(struct rfc2090_server *m)
{
	for (uint32_t k = 0; k < GROUPS; k++) {
		uint32_t slot = (m->next + k) % GROUPS;
		if (m->xfer[slot] == NULL) {
			m->next = slot + 1;
			return (int)slot;
		}
	}
	return -1;
}

static void
xfer_params(const struct config *cfg, uint64_t size, uint32_t blksize,
    struct rfc2090_params *p)
{
	memset(p, 0, sizeof *p);
	p->last_block = size / blksize + 1;
	p->rto_us = MAX((uint64_t)XFER_RTO_US, (uint64_t)cfg->tftp_min_rto_ms * 1000u);
	p->max_rto_us = MAX(p->rto_us, (uint64_t)cfg->tftp_max_rto_ms * 1000u);
	p->retries = XFER_RETRIES;
	p->max_clients = RFC2090_CLIENTS_MAX;
}

static struct rfc2090_io *
xfer_new(struct rfc2090_server *m, int slot, int sock, int fd, const struct stat *st,
    uint32_t blksize, const struct sockaddr_in *local)
{
	const struct config *cfg = &m->srv->cfg;
	struct rfc2090_io *t = calloc(1, sizeof *t);

	if (t == NULL || (t->packet = malloc(TFTP_HEADER_SIZE + blksize)) == NULL) {
		free(t);
		return NULL;
	}
	t->owner = m;
	t->slot = (size_t)slot;
	t->sock = sock;
	t->fd = fd;
	t->dev = st->st_dev;
	t->ino = st->st_ino;
	t->size = (uint64_t)st->st_size;
	t->blksize = blksize;
	t->local = *local;
	t->group.sin_family = AF_INET;
	t->group.sin_addr.s_addr = htonl(ntohl(cfg->tftp_multicast_group.s_addr) + (uint32_t)slot);
	t->group.sin_port = htons((uint16_t)cfg->tftp_multicast_port);
	t->started_us = clock_now_us();
	uv_poll_init(m->srv->loop, &t->poll, sock);
	uv_timer_init(m->srv->loop, &t->timer);
	t->poll.data = t->timer.data = t;
	t->handles_open = 2;
	uv_poll_start(&t->poll, UV_READABLE, xfer_readable);
	m->xfer[slot] = t;
	return t;
}

/* A first request for a file: a new transfer, or false (unicast). */
static struct rfc2090_io *
xfer_start(struct rfc2090_server *m, int fd, const struct stat *st, uint32_t blksize,
    const struct sockaddr_in *local, unsigned ifindex, const char **why)
{
	struct rfc2090_params p;
	int slot, sock;

	if ((uint64_t)st->st_size / blksize + 1 > RFC2090_BLOCKS_MAX) {
		*why = "more than 65535 blocks";
		return NULL;
	}
	if ((slot = group_slot(m)) < 0) {
		*why = "all 64 groups busy";
		return NULL;
	}
	if ((sock = tftp_multicast_socket(local, ifindex)) < 0) {
		*why = "no socket";
		return NULL;
	}
	struct rfc2090_io *t = xfer_new(m, slot, sock, fd, st, blksize, local);
	if (t == NULL) {
		close(sock);
		*why = "out of memory";
		return NULL;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
	xfer_params(&m->srv->cfg, t->size, blksize, &p);
	rfc2090_xfer_start(&t->engine, &p);
	return t;
}

/* Add the client to t; false if it cannot be (list full). */
static bool
xfer_join(struct rfc2090_io *t, const struct sockaddr_in *peer, const struct tftp_oack *oack,
    const char *who)
{
	struct rfc2090_peer id = { peer->sin_addr.s_addr, peer->sin_port };
	struct rfc2090_action act;
	char group[INET_ADDRSTRLEN];
	int rc = rfc2090_xfer_join(&t->engine, id, oack, clock_now_us(), &act);

	if (rc == -ENOSPC)
		return false;
	inet_ntop(AF_INET, &t->group.sin_addr, group, sizeof group);
	if (rc == -EEXIST)
		log_debug_peer(who, NULL,
		    "tftp %s: repeated RRQ %s: multicast OACK again", who, t->path);
	else
		log_info_peer(who, NULL,
		    "tftp %s: RRQ %s octet multicast to %s:%u (%" PRIu64 " bytes, blksize "
		    "%u), %s, %zu client(s)", who, t->path, group, ntohs(t->group.sin_port),
		    t->size, t->blksize, act.master ? "master" : "listening", t->engine.count);
	xfer_do(t, &act);
	return true;
}

static bool
request_eligible(const struct tftp_server *srv, const struct tftp_request *req,
    const struct sockaddr_storage *peer)
{
	return srv->cfg.tftp_multicast && req->op == TFTP_RRQ &&
	    req->mode == TFTP_MODE_OCTET && req->option_error == NULL &&
	    peer->ss_family == AF_INET && !tftp_server_has_session(srv, peer);
}

static struct rfc2090_server *
server_get(struct tftp_server *srv)
{
	if (srv->rfc2090 == NULL) {
		srv->rfc2090 = calloc(1, sizeof *srv->rfc2090);
		if (srv->rfc2090 != NULL)
			srv->rfc2090->srv = srv;
	}
	return srv->rfc2090;
}

/* Join the file's running transfer, or start one; NULL reason on success. */
static const char *
request_take(struct rfc2090_server *m, const struct tftp_request *req, const char *path,
    int fd, const struct stat *st, const struct sockaddr_in *peer, const struct sockaddr_in *local,
    unsigned ifindex, unsigned mtu, const char *who)
{
	struct rfc2090_io *t = xfer_find(m, st);
	struct tftp_oack oack;
	uint32_t blksize;
	const char *why = NULL;

	if (t != NULL) {
		close(fd);
		if (t->local.sin_addr.s_addr != local->sin_addr.s_addr)
			return "its transfer runs on another address";
		if (!request_options(m->srv, req, t->size, mtu, t->blksize, &oack, &blksize))
			return "blksize smaller than the group's";
		return xfer_join(t, peer, &oack, who) ? NULL : "client list full";
	}
	request_options(m->srv, req, (uint64_t)st->st_size, mtu, 0, &oack, &blksize);
	t = xfer_start(m, fd, st, blksize, local, ifindex, &why);
	if (t == NULL) {
		close(fd);
		return why;
	}
	str_copy(t->path, path, sizeof t->path);
	return xfer_join(t, peer, &oack, who) ? NULL : "client list full";
}

bool
tftp_rfc2090_request(struct tftp_server *srv, const struct tftp_request *req,
    const struct sockaddr_storage *peer, const struct sockaddr_storage *local,
    unsigned ifindex, unsigned mtu)
{
	struct rfc2090_server *m;
	char path[FILES_PATH_MAX], who[LOG_ADDR_MAX];
	struct stat st;
	int fd;

	if (!request_eligible(srv, req, peer) || (m = server_get(srv)) == NULL ||
	    !request_open(srv, req, path, &st, &fd))
		return false;
	log_addr((const struct sockaddr *)peer, who, sizeof who);
	const char *why = request_take(m, req, path, fd, &st,
	    (const struct sockaddr_in *)(const void *)peer,
	    (const struct sockaddr_in *)(const void *)local, ifindex, mtu, who);
	if (why != NULL) {
		log_info_peer(who, NULL,
		    "tftp %s: RRQ %s: multicast refused (%s), unicast instead", who, path, why);
		return false;
	}
	return true;
}

void
tftp_rfc2090_stop(struct tftp_server *srv)
{
	struct rfc2090_server *m = srv->rfc2090;

	if (m == NULL)
		return;
	srv->rfc2090 = NULL;
	for (size_t i = 0; i < GROUPS; i++)
		if (m->xfer[i] != NULL)
			xfer_close(m->xfer[i]);
	free(m);
}
