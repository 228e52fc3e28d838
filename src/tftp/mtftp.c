/* PXE MTFTP server (PXE 2.1): the I/O around the pass engine
 * (mtftp_pass.c).
 *
 * A plain RRQ on mtftp-port for a file with an mtftp-file entry opens a
 * pass: a socket bound to the address the request came to (so the data
 * comes from the address the client opened), multicast to GROUP:CPORT out
 * of the interface the request came in on (TTL 1, no loopback), block 1
 * also unicast to the opener, whose ACKs drive the pass.  An RRQ for a
 * file whose pass is running is not answered: the requester hears that
 * pass (PXE clients listen after opening) and reopens after it if it
 * still misses blocks.  One pass per file at a time.
 *
 * Blocks are read with pread: boot files are small and hot in the page
 * cache (posix_fadvise WILLNEED when a pass starts). */
#include "tftp/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"
#include "tftp/mtftp_files.h"
#include "tftp/mtftp_pass.h"

#define PASS_RTO_US 100000u             /* first resend after 100 ms */
#define PASS_RETRIES 3
#define PASS_PACE_US 2000u              /* without a master: a burst every 2 ms */
#define PASS_BURST 8
#define LINGER_EXTRA_MS 5000u

struct mtftp_pass_io {
	struct mtftp_server *owner;         /* NULL once closing */
	size_t slot;
	int sock, fd;
	uv_poll_t poll;
	uv_timer_t timer;
	int handles_open;
	bool closing;
	bool lingering;                     /* ended; its port still takes opens */
	struct sockaddr_in master, group, local;
	unsigned ifindex;
	char master_text[LOG_ADDR_MAX];
	const struct mtftp_file *file;
	uint64_t size, started_us;
	struct mtftp_pass engine;
};

struct mtftp_server {
	struct tftp_server *srv;
	struct mtftp_files table;
	uv_poll_t listen_poll[TFTP_LISTEN_MAX];
	size_t listen_count;
	struct mtftp_pass_io *pass[MTFTP_FILES_MAX];      /* running */
	struct mtftp_pass_io *lingering[MTFTP_FILES_MAX]; /* ended, port kept */
	uint8_t rx[TFTP_REQUEST_MAX + 1];
};

/* ---- one pass ---- */

static void
pass_handle_closed(uv_handle_t *h)
{
	struct mtftp_pass_io *p = h->data;

	if (h == (uv_handle_t *)&p->poll)
		close(p->sock);
	if (--p->handles_open == 0)
		free(p);
}

static void
pass_close(struct mtftp_pass_io *p)
{
	if (p->closing)
		return;
	p->closing = true;
	if (p->owner != NULL && p->owner->pass[p->slot] == p)
		p->owner->pass[p->slot] = NULL;
	if (p->owner != NULL && p->owner->lingering[p->slot] == p)
		p->owner->lingering[p->slot] = NULL;
	p->owner = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	uv_poll_stop(&p->poll);
	uv_timer_stop(&p->timer);
	uv_close((uv_handle_t *)&p->poll, pass_handle_closed);
	uv_close((uv_handle_t *)&p->timer, pass_handle_closed);
}

static void
pass_send_block(struct mtftp_pass_io *p, uint64_t block, bool unicast)
{
	uint8_t pkt[TFTP_HEADER_SIZE + MTFTP_BLKSIZE];
	uint64_t off = (block - 1) * MTFTP_BLKSIZE;
	size_t len = off >= p->size ? 0 : (size_t)MIN((uint64_t)MTFTP_BLKSIZE, p->size - off);

	tftp_build_data_header(pkt, sizeof pkt, (uint16_t)block);
	if (len > 0 && pread(p->fd, pkt + TFTP_HEADER_SIZE, len, (off_t)off) != (ssize_t)len) {
		log_warn("mtftp: %s: read failed at block %" PRIu64, p->file->path, block);
		return;                 /* as a loss: the timer resends */
	}
	if (unicast)
		(void)sendto(p->sock, pkt, TFTP_HEADER_SIZE + len, MSG_DONTWAIT,
		    (struct sockaddr *)&p->master, sizeof p->master);
	if (sendto(p->sock, pkt, TFTP_HEADER_SIZE + len, MSG_DONTWAIT,
	    (struct sockaddr *)&p->group, sizeof p->group) >= 0)
		STATS_ADD(tftp_bytes_sent, len);
}

static void pass_timer(uv_timer_t *t);

static void
linger_timer(uv_timer_t *t)
{
	pass_close(t->data);
}

/* A pass that ended keeps its port a while: a client that opened during
 * it learned that port and may reopen there (atftp's client does, after
 * missing blocks); such an open starts the next pass.  One per file. */
static void
pass_linger(struct mtftp_pass_io *p)
{
	struct mtftp_server *m = p->owner;
	uint64_t ms = ((uint64_t)m->table.timeout + m->table.delay) * 2000u + LINGER_EXTRA_MS;

	m->pass[p->slot] = NULL;
	if (m->lingering[p->slot] != NULL)
		pass_close(m->lingering[p->slot]);
	m->lingering[p->slot] = p;
	p->lingering = true;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	uv_timer_start(&p->timer, linger_timer, ms, 0);
}

static void
pass_done(struct mtftp_pass_io *p)
{
	uint64_t ms = (clock_now_us() - p->started_us) / 1000;

	if (p->engine.unproven) {
		log_info_peer(p->master_text, NULL,
		    "mtftp %s: pass of %s ended at block 1: the opener never ACKed (no"
		    " pass for an open that proves nothing)", p->master_text, p->file->path);
		pass_linger(p);
		return;
	}
	log_info_peer(p->master_text, NULL,
	    "mtftp %s: pass of %s (%" PRIu64 " bytes) ended in %" PRIu64 " ms, %s, "
	    "%" PRIu64 " blocks resent", p->master_text, p->file->path, p->size, ms,
	    p->engine.master ? "master to the end" : "master gone", p->engine.resent);
	pass_linger(p);
}

static void
pass_do(struct mtftp_pass_io *p, const struct mtftp_action *act)
{
	if (act->kind == MTFTP_ACTION_DONE) {
		pass_done(p);
		return;
	}
	if (act->kind != MTFTP_ACTION_SEND)
		return;
	for (uint32_t i = 0; i < act->count; i++)
		pass_send_block(p, act->first + i, act->unicast && i == 0);
	uint64_t now = clock_now_us();
	mtftp_pass_sent(&p->engine, act->first, act->count, now);
	uint64_t d = p->engine.deadline_us;
	uv_timer_start(&p->timer, pass_timer, d > now ? (d - now + 999) / 1000 : 0, 0);
}

static void
pass_timer(uv_timer_t *t)
{
	struct mtftp_pass_io *p = t->data;
	struct mtftp_action act;
	bool had_master = p->engine.master;

	if (p->closing)
		return;
	mtftp_pass_on_timeout(&p->engine, &act);
	if (had_master && !p->engine.master)
		log_info_peer(p->master_text, NULL,
		    "mtftp %s: %s: master silent at block %" PRIu64 ", the pass runs on",
		    p->master_text, p->file->path, p->engine.sent);
	pass_do(p, &act);
}

static void mtftp_open(struct mtftp_server *m, int lfd, const uint8_t *buf, size_t len,
    const struct sockaddr_in *peer, const struct sockaddr_in *local, unsigned ifindex);

static bool
from_master(const struct mtftp_pass_io *p, const struct sockaddr_in *from)
{
	return from->sin_family == AF_INET && from->sin_addr.s_addr == p->master.sin_addr.s_addr &&
	    from->sin_port == p->master.sin_port;
}

static void
pass_packet(struct mtftp_pass_io *p, const uint8_t *buf, size_t len)
{
	uint16_t op, num;
	struct mtftp_action act = { .kind = MTFTP_ACTION_NONE };

	if (tftp_packet_header(buf, len, &op, &num) != 0)
		return;
	if (op == TFTP_ACK) {
		mtftp_pass_on_ack(&p->engine, num, &act);
	} else if (op == TFTP_ERROR) {
		log_info_peer(p->master_text, NULL,
		    "mtftp %s: %s: master sent error %u, the pass runs on", p->master_text,
		    p->file->path, num);
		mtftp_pass_master_gone(&p->engine, &act);
	}
	pass_do(p, &act);
}

static void
pass_readable(uv_poll_t *poll, int status, int events)
{
	struct mtftp_pass_io *p = poll->data;
	uint8_t buf[TFTP_PACKET_MAX];

	if (p->closing || status < 0 || !(events & UV_READABLE))
		return;
	for (int i = 0; i < TFTP_RECV_BATCH && !p->closing; i++) {
		struct sockaddr_in from;
		socklen_t from_len = sizeof from;
		ssize_t n = recvfrom(p->sock, buf, sizeof buf, MSG_DONTWAIT,
		    (struct sockaddr *)&from, &from_len);
		if (n < 0)
			return;
		if (p->lingering) {
			mtftp_open(p->owner, p->sock, buf, (size_t)n, &from, &p->local, p->ifindex);
			continue;       /* (may close p: the loop checks) */
		}
		if (!from_master(p, &from))
			continue;       /* listeners do not talk; strays are ignored */
		pass_packet(p, buf, (size_t)n);
	}
}

static struct mtftp_pass_io *
pass_new(struct mtftp_server *m, size_t slot, int sock, int fd, uint64_t size,
    const struct sockaddr_in *master, const struct sockaddr_in *local, unsigned ifindex)
{
	struct mtftp_pass_io *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->owner = m;
	p->slot = slot;
	p->sock = sock;
	p->fd = fd;
	p->size = size;
	p->file = &m->table.file[slot];
	p->master = *master;
	p->local = *local;
	p->ifindex = ifindex;
	p->group.sin_family = AF_INET;
	p->group.sin_addr = p->file->group;
	p->group.sin_port = htons(p->file->cport);
	p->started_us = clock_now_us();
	log_addr((const struct sockaddr *)master, p->master_text, sizeof p->master_text);
	uv_poll_init(m->srv->loop, &p->poll, sock);
	uv_timer_init(m->srv->loop, &p->timer);
	p->poll.data = p->timer.data = p;
	p->handles_open = 2;
	uv_poll_start(&p->poll, UV_READABLE, pass_readable);
	m->pass[slot] = p;
	return p;
}

static void
pass_params(const struct config *cfg, uint64_t size, struct mtftp_pass_params *pp)
{
	memset(pp, 0, sizeof *pp);
	pp->last_block = size / MTFTP_BLKSIZE + 1;
	pp->rto_us = MAX((uint64_t)PASS_RTO_US, (uint64_t)cfg->tftp_min_rto_ms * 1000u);
	pp->max_rto_us = MAX(pp->rto_us, (uint64_t)cfg->tftp_max_rto_ms * 1000u);
	pp->retries = PASS_RETRIES;
	pp->pace_us = PASS_PACE_US;
	pp->burst = PASS_BURST;
}

/* ---- opens on mtftp-port ---- */

static int
open_file(struct mtftp_server *m, const struct mtftp_file *f, uint64_t *size,
    const char **why)
{
	char resolved[FILES_PATH_MAX];
	struct stat st;
	int fd = files_open_read(m->srv->tcfg.root, f->path, &st, resolved);

	if (fd < 0) {
		*why = fd == -ENOENT ? "file not found" : "access violation";
		return fd;
	}
	if ((uint64_t)st.st_size / MTFTP_BLKSIZE + 1 > MTFTP_BLOCKS_MAX) {
		close(fd);
		*why = "file too large for MTFTP (more than 65535 blocks): use TFTP";
		return -EFBIG;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
	*size = (uint64_t)st.st_size;
	return fd;
}

static void
pass_start(struct mtftp_server *m, int lfd, size_t slot, const struct sockaddr_in *peer,
    const struct sockaddr_in *local, unsigned ifindex, const char *who)
{
	const struct mtftp_file *f = &m->table.file[slot];
	const char *why = NULL;
	uint64_t size = 0;
	struct mtftp_pass_params pp;
	struct mtftp_action act;
	char group[INET_ADDRSTRLEN];
	int fd = open_file(m, f, &size, &why), sock = -1;

	if (fd >= 0 && (sock = tftp_multicast_socket(local, ifindex)) < 0)
		why = "server out of resources";
	if (why != NULL) {
		log_info_peer(who, NULL,
		    "mtftp %s: RRQ %s: %s", who, f->path, why);
		tftp_send_error_to(lfd, (const struct sockaddr_storage *)(const void *)peer,
		    sizeof *peer, fd == -ENOENT ? TFTP_ERR_NOT_FOUND : TFTP_ERR_UNDEFINED, why);
		if (fd >= 0)
			close(fd);
		return;
	}
	struct mtftp_pass_io *p = pass_new(m, slot, sock, fd, size, peer, local, ifindex);
	if (p == NULL) {
		close(fd);
		close(sock);
		return;
	}
	log_info_peer(who, NULL,
	    "mtftp %s: pass of %s (%" PRIu64 " bytes) to %s:%u, master %s", who, f->path,
	    size, inet_ntop(AF_INET, &f->group, group, sizeof group), f->cport, who);
	pass_params(&m->srv->cfg, size, &pp);
	mtftp_pass_start(&p->engine, &pp, &act);
	pass_do(p, &act);
}

/* An open (RRQ) on mtftp-port, or on the port of a pass that ended. */
static void
mtftp_open(struct mtftp_server *m, int lfd, const uint8_t *buf, size_t len,
    const struct sockaddr_in *peer, const struct sockaddr_in *local, unsigned ifindex)
{
	struct tftp_request req;
	char who[LOG_ADDR_MAX];
	const char *why;
	const struct sockaddr_storage *to = (const struct sockaddr_storage *)(const void *)peer;

	log_addr((const struct sockaddr *)peer, who, sizeof who);
	int rc = tftp_request_parse(buf, len, &req, &why);
	if (rc == 0 && req.op != TFTP_RRQ)
		why = "MTFTP serves reads only";
	if (rc != 0 || req.op != TFTP_RRQ) {
		log_debug_peer(who, NULL,
		    "mtftp %s: bad request: %s", who, why);
		if (rc != -EPROTO)
			tftp_send_error_to(lfd, to, sizeof *peer, TFTP_ERR_ILLEGAL_OP, why);
		return;
	}
	const struct mtftp_file *f = mtftp_files_find(&m->table, req.filename);
	if (f == NULL) {
		char name[256];
		log_printable(req.filename, req.filename_len, name, sizeof name);
		log_info_peer(who, NULL,
		    "mtftp %s: RRQ %s: not an mtftp-file", who, name);
		tftp_send_error_to(lfd, to, sizeof *peer, TFTP_ERR_NOT_FOUND, "file not found");
		return;
	}
	size_t slot = (size_t)(f - m->table.file);
	if (m->pass[slot] != NULL) {
		log_debug_peer(who, NULL,
		    "mtftp %s: RRQ %s: a pass is running, the client listens to it", who,
		    f->path);
		return;
	}
	pass_start(m, lfd, slot, peer, local, ifindex, who);
}

static void
listener_readable(uv_poll_t *poll, int status, int events)
{
	struct mtftp_server *m = poll->data;
	int lfd;

	if (status < 0 || !(events & UV_READABLE) || m->srv->stopping)
		return;
	uv_fileno((uv_handle_t *)poll, &lfd);
	for (int i = 0; i < TFTP_RECV_BATCH; i++) {
		struct sockaddr_in peer;
		union { char buf[256]; struct cmsghdr align; } control;
		struct iovec iov = { m->rx, sizeof m->rx };
		struct msghdr msg = {
			.msg_name = &peer, .msg_namelen = sizeof peer,
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = control.buf, .msg_controllen = sizeof control.buf,
		};
		ssize_t n = recvmsg(lfd, &msg, MSG_DONTWAIT);
		if (n < 0)
			break;
		if ((msg.msg_flags & MSG_TRUNC) || peer.sin_family != AF_INET)
			continue;
		struct sockaddr_storage local;
		unsigned ifindex;
		tftp_local_from_cmsg(&msg, AF_INET, &local, &ifindex);
		mtftp_open(m, lfd, m->rx, (size_t)n, &peer,
		    (const struct sockaddr_in *)(const void *)&local, ifindex);
	}
}

int
tftp_mtftp_start(struct tftp_server *srv)
{
	char err[256];
	struct mtftp_server *m;

	if (srv->tcfg.mtftp_count == 0)
		return 0;
	m = calloc(1, sizeof *m);
	if (m == NULL)
		return -ENOMEM;
	m->srv = srv;
	if (mtftp_files_build(&srv->cfg, &m->table, err, sizeof err) != 0) {
		log_error("%s", err);
		free(m);
		return -EINVAL;
	}
	for (size_t i = 0; i < srv->tcfg.mtftp_count; i++) {
		uv_poll_init(srv->loop, &m->listen_poll[i], srv->tcfg.mtftp_fds[i]);
		m->listen_poll[i].data = m;
		uv_poll_start(&m->listen_poll[i], UV_READABLE, listener_readable);
	}
	m->listen_count = srv->tcfg.mtftp_count;
	srv->mtftp = m;
	log_info("mtftp: %zu file(s) on port %u", m->table.count, srv->cfg.mtftp_port);
	return 0;
}

static void
listener_closed(uv_handle_t *h)
{
	struct mtftp_server *m = h->data;

	if (--m->listen_count == 0)
		free(m);
}

void
tftp_mtftp_stop(struct tftp_server *srv)
{
	struct mtftp_server *m = srv->mtftp;

	if (m == NULL)
		return;
	srv->mtftp = NULL;
	for (size_t i = 0; i < MTFTP_FILES_MAX; i++) {
		if (m->pass[i] != NULL)
			pass_close(m->pass[i]);
		if (m->lingering[i] != NULL)
			pass_close(m->lingering[i]);
	}
	for (size_t i = 0, n = m->listen_count; i < n; i++) {
		uv_poll_stop(&m->listen_poll[i]);
		uv_close((uv_handle_t *)&m->listen_poll[i], listener_closed);
	}
}
