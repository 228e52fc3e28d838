/* One TFTP transfer: its socket (the server's transfer ID), timer,
 * negotiation and the engine's decisions carried out. */
#include "tftp/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"

#define SESSION_PRIORITY 6              /* TC_PRIO_INTERACTIVE */

/* Boot files marked low-delay (the IP TOS bit BSD's tftpd sets) and queued
 * on this host ahead of bulk traffic (priority 6: pfifo_fast's first
 * band): in a boot storm the server's HTTP downloads must not stretch
 * every TFTP window's round trip. */
static void
mark_low_delay(int fd, int family)
{
	int tos = IPTOS_LOWDELAY, prio = SESSION_PRIORITY;

	if (family == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
	else
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
	(void)setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof prio);
}

int
tftp_session_socket(const struct sockaddr_storage *local)
{
	socklen_t len = local->ss_family == AF_INET ? sizeof(struct sockaddr_in)
	    : sizeof(struct sockaddr_in6);
	struct sockaddr_storage bind_to = *local;
	int fd, err, sndbuf = 1 << 20;

	fd = socket(local->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	mark_low_delay(fd, local->ss_family);
	if (bind_to.ss_family == AF_INET)
		((struct sockaddr_in *)&bind_to)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&bind_to)->sin6_port = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	if (bind(fd, (struct sockaddr *)&bind_to, len) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void session_readable(uv_poll_t *poll, int status, int events);
static void session_timer(uv_timer_t *timer);

struct tftp_session *
tftp_session_new(struct tftp_server *srv, int sock, const struct sockaddr_storage *peer,
    socklen_t peer_len, enum session_kind kind)
{
	struct tftp_session *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->server = srv;
	s->kind = kind;
	s->sock = sock;
	s->fd = -1;
	s->peer = *peer;
	s->peer_len = peer_len;
	s->started_us = clock_now_us();
	log_addr((const struct sockaddr *)peer, s->peer_text, sizeof s->peer_text);
	uv_poll_init(srv->loop, &s->poll, sock);
	uv_timer_init(srv->loop, &s->timer);
	s->poll.data = s;
	s->timer.data = s;
	s->handles_open = 2;
	uv_poll_start(&s->poll, UV_READABLE, session_readable);
	s->next = srv->sessions;
	if (srv->sessions != NULL)
		srv->sessions->prev = s;
	srv->sessions = s;
	srv->session_count++;
	STATS_ADD(tftp_sessions_active, 1);
	return s;
}

static void
session_free_if_done(struct tftp_session *s)
{
	if (s->handles_open > 0 || s->read_pending)
		return;
	free(s->ascii_block);
	free(s);
}

static void
handle_closed(uv_handle_t *h)
{
	struct tftp_session *s = h->data;

	if (h == (uv_handle_t *)&s->poll)
		close(s->sock);         /* the fd outlives its poll handle */
	s->handles_open--;
	session_free_if_done(s);
}

void
tftp_session_close(struct tftp_session *s, bool ok, const char *why)
{
	if (s->closing)
		return;
	s->closing = true;
	if (s->kind == SESSION_WRITE && s->upload_open)
		files_upload_abort(&s->upload);
	if (why != NULL)
		log_debug_peer(s->peer_text, NULL,
		    "tftp %s: %s: session closed: %s", s->peer_text, s->path, why);
	if (ok)
		STATS_ADD(tftp_transfers_ok, 1);
	else
		STATS_ADD(tftp_transfers_failed, 1);
	tftp_server_session_gone(s->server, s);
	uv_poll_stop(&s->poll);
	uv_timer_stop(&s->timer);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	uv_close((uv_handle_t *)&s->poll, handle_closed);
	uv_close((uv_handle_t *)&s->timer, handle_closed);
}

void
tftp_session_send_error(struct tftp_session *s, enum tftp_error_code code, const char *msg)
{
	tftp_send_error_to(s->sock, &s->peer, s->peer_len, code, msg);
}

void
tftp_session_arm_timer(struct tftp_session *s, uint64_t deadline_us)
{
	uint64_t now = clock_now_us();
	uint64_t ms = deadline_us > now ? (deadline_us - now + 999) / 1000 : 0;

	if (!s->closing)
		uv_timer_start(&s->timer, session_timer, ms, 0);
}

static void
read_done(struct tftp_session *s)
{
	uint64_t ms = (clock_now_us() - s->started_us) / 1000;
	uint64_t bytes = s->xfer.p.size_known ? s->xfer.p.size : s->in_off_next;

	log_info_peer(s->peer_text, NULL,
	    "tftp %s: sent %s (%" PRIu64 " bytes, blksize %u, window %u) in %" PRIu64
	    " ms, %" PRIu64 " blocks resent", s->peer_text, s->path, bytes,
	    s->xfer.p.blksize, s->xfer.p.windowsize, ms, s->xfer.retransmitted_blocks);
	tftp_observe(s, "tftp-done", "%s %" PRIu64 " bytes in %" PRIu64 " ms", s->path, bytes, ms);
	tftp_session_close(s, true, NULL);
}

/* Carry out what the engine decided. */
void
tftp_session_do(struct tftp_session *s, const struct tftp_action *act)
{
	switch (act->kind) {
	case TFTP_ACTION_NONE:
		return;
	case TFTP_ACTION_SEND_OACK:
		if (tftp_send_oack(s) != 0)
			tftp_session_close(s, false, "cannot send OACK");
		return;
	case TFTP_ACTION_SEND:
		s->send_next = act->first;
		s->send_end = act->first + act->count;
		tftp_send_continue(s);
		return;
	case TFTP_ACTION_DONE:
		read_done(s);
		return;
	case TFTP_ACTION_GIVE_UP:
		if (!s->xfer.proven) {
			/* maybe a forged source: nothing more goes to it */
			log_info_peer(s->peer_text, NULL,
			    "tftp %s: %s: no answer from the client to %u sends of the first"
			    " packet: transfer not started", s->peer_text, s->path,
			    TFTP_UNPROVEN_SENDS);
			tftp_observe(s, "tftp-failed", "%s: no answer to the first packet", s->path);
			tftp_session_close(s, false, "no answer");
			return;
		}
		log_info_peer(s->peer_text, NULL,
		    "tftp %s: %s: no answer for %u s, transfer abandoned at block %" PRIu64,
		    s->peer_text, s->path, s->server->cfg.tftp_session_timeout, s->xfer.acked);
		tftp_observe(s, "tftp-failed", "%s: no answer at block %" PRIu64, s->path,
		    s->xfer.acked);
		tftp_session_send_error(s, TFTP_ERR_UNDEFINED, "timeout");
		tftp_session_close(s, false, "timeout");
		return;
	}
}

static void
session_timer(uv_timer_t *timer)
{
	struct tftp_session *s = timer->data;
	struct tftp_action act;
	uint64_t now = clock_now_us();

	if (s->closing)
		return;
	if (s->kind == SESSION_WRITE) {
		tftp_upload_on_timer(s, now);
		return;
	}
	uint64_t before = s->xfer.retransmitted_blocks;
	tftp_transfer_on_timeout(&s->xfer, now, &act);
	STATS_ADD(tftp_retransmits, s->xfer.retransmitted_blocks - before);
	log_debug_peer(s->peer_text, NULL,
	    "tftp %s: %s: timeout (rto %" PRIu64 " us), resend from block %" PRIu64,
	    s->peer_text, s->path, s->xfer.rto_us, s->xfer.acked + 1);
	tftp_session_do(s, &act);
}

/* The client ended a transfer after its OACK without ACK 0: a size query
 * (EDK2 asks the tsize so), ended with an ERROR or by the next request. */
void
tftp_session_end_size_query(struct tftp_session *s, const char *how)
{
	log_info_peer(s->peer_text, NULL,
	    "tftp %s: %s: client ended after the OACK (size query): %s",
	    s->peer_text, s->path, how);
	tftp_observe(s, "tftp-size-query", "%s %" PRIu64 " bytes", s->path, s->oack.tsize);
	tftp_session_close(s, true, NULL);
}

static void
peer_error(struct tftp_session *s, const uint8_t *buf, size_t len, uint16_t code)
{
	char msg[128], how[160];
	bool size_query = s->kind == SESSION_READ && s->xfer.oack_pending;

	log_printable(buf + 4, strnlen((const char *)buf + 4, len - 4), msg, sizeof msg);
	if (size_query) {
		snprintf(how, sizeof how, "%u %s", code, msg);
		tftp_session_end_size_query(s, how);
	} else {
		log_info_peer(s->peer_text, NULL,
		    "tftp %s: %s: client aborted: error %u %s", s->peer_text, s->path, code, msg);
		tftp_observe(s, "tftp-failed", "%s: client aborted: %s", s->path, msg);
		tftp_session_close(s, false, NULL);
	}
}

static void
read_session_packet(struct tftp_session *s, const uint8_t *buf, size_t len, uint64_t now)
{
	uint16_t op, num;
	struct tftp_action act;

	if (tftp_packet_header(buf, len, &op, &num) != 0) {
		STATS_ADD(tftp_bad_packets, 1);
		return;
	}
	if (op == TFTP_ACK) {
		uint64_t before = s->xfer.retransmitted_blocks;
		tftp_transfer_on_ack(&s->xfer, num, now, &act);
		STATS_ADD(tftp_retransmits, s->xfer.retransmitted_blocks - before);
		tftp_session_do(s, &act);
	} else if (op == TFTP_ERROR) {
		peer_error(s, buf, len, num);
	} else {
		STATS_ADD(tftp_bad_packets, 1);
		log_debug_peer(s->peer_text, NULL,
		    "tftp %s: unexpected opcode %u during a read", s->peer_text, op);
	}
}

static bool
from_peer(const struct tftp_session *s, const struct sockaddr_storage *from)
{
	if (from->ss_family != s->peer.ss_family)
		return false;
	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)from;
		const struct sockaddr_in *b = (const struct sockaddr_in *)&s->peer;
		return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
	}
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)from;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)&s->peer;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof a6->sin6_addr) == 0;
}

static void
session_receive(struct tftp_session *s)
{
	uint8_t *buf = s->server->rxbuf[0];

	for (int i = 0; i < TFTP_RECV_BATCH && !s->closing; i++) {
		struct sockaddr_storage from;
		socklen_t from_len = sizeof from;
		ssize_t n = recvfrom(s->sock, buf, TFTP_PACKET_MAX + 1, MSG_DONTWAIT,
		    (struct sockaddr *)&from, &from_len);
		if (n < 0)
			return;
		if (!from_peer(s, &from)) {
			char who[LOG_ADDR_MAX];
			log_debug_peer(s->peer_text, NULL,
			    "tftp %s: packet from unknown transfer ID %s",
			    s->peer_text, log_addr((struct sockaddr *)&from, who, sizeof who));
			tftp_send_error_to(s->sock, &from, from_len, TFTP_ERR_UNKNOWN_TID,
			    "unknown transfer ID");
			continue;
		}
		uint64_t now = clock_now_us();
		if (s->kind == SESSION_WRITE) {
			tftp_upload_on_packet(s, buf, (size_t)n, now);
			continue;
		}
		uint64_t sent_before = s->xfer.sent;
		read_session_packet(s, buf, (size_t)n, now);
		/* A window just left: its ACK is a round trip away, so another read
		 * now would only say EAGAIN.  Level-triggered polling brings us
		 * back if more is queued. */
		if (s->xfer.sent != sent_before || s->closing)
			return;
	}
}

static void
session_readable(uv_poll_t *poll, int status, int events)
{
	struct tftp_session *s = poll->data;

	if (s->closing)
		return;
	if (status < 0) {
		tftp_session_close(s, false, uv_strerror(status));
		return;
	}
	if (events & UV_WRITABLE) {
		s->want_writable = false;
		uv_poll_start(&s->poll, UV_READABLE, session_readable);
		tftp_send_continue(s);
	}
	if ((events & UV_READABLE) && !s->closing)
		session_receive(s);
}

/* Re-arm the poll for writability after the socket buffer filled. */
void
tftp_session_poll(struct tftp_session *s)
{
	if (!s->closing)
		uv_poll_start(&s->poll, UV_READABLE | (s->want_writable ? UV_WRITABLE : 0),
		    session_readable);
}
