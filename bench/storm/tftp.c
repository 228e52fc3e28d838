/* bench/storm: the boot file over TFTP, received the way EDK2's MTFTP4
 * driver does it (NetworkPkg/Mtftp4Dxe/Mtftp4Rrq.c, PxeBcMtftp.c):
 *  - a size query first: RRQ with tsize 0, blksize, windowsize; the OACK's
 *    tsize is taken and the transfer ended with ERROR 8;
 *  - then the download from the same port: RRQ with blksize, windowsize;
 *    ACK 0 to the OACK;
 *  - a block in order is kept (and compared with the file); after
 *    windowsize of them since the last ACK, or the final short one, an ACK;
 *  - any other block (a gap, or a copy of an old one) is answered at once
 *    with an ACK of the last block in order, every time;
 *  - the timer restarts at every packet sent; when it fires, the last
 *    packet goes again, --tftp-retries times at most.
 * Packets from the server's address but another port get ERROR 5. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"
#include "storm.h"
#include "tftp/codec.h"

#define PKT_MAX (65464 + TFTP_HEADER_SIZE + 64)
#define RECV_ROUNDS 64

static void
send_to(const struct client *c, const struct sockaddr_in *to, const uint8_t *p, size_t n)
{
	/* a send the kernel refuses is a lost packet: the timer resends */
	(void)sendto(c->fd, p, n, 0, (const struct sockaddr *)to, sizeof *to);
}

static struct sockaddr_in
server_port69(const struct client *c)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(69),
	    .sin_addr = c->lease.next_server };
	return to;
}

static void
send_rrq(struct storm *s, struct client *c, uint64_t now)
{
	struct tftp_oack req = { .present = TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE,
	    .blksize = s->o.blksize, .windowsize = s->o.windowsize };
	struct sockaddr_in to = server_port69(c);
	uint8_t pkt[TFTP_REQUEST_MAX];
	size_t n;

	if (c->state == C_TFTP_SIZE)
		req.present |= TFTP_OPT_TSIZE;  /* tsize 0: a size query */
	n = tftp_build_request(pkt, sizeof pkt, TFTP_RRQ, c->lease.file, "octet", &req);
	if (n > 0)
		send_to(c, &to, pkt, n);
	c->due_us = now + (uint64_t)s->o.tftp_timeout_ms * 1000;
}

static void
send_ack(struct storm *s, struct client *c, uint16_t block, uint64_t now)
{
	uint8_t pkt[TFTP_HEADER_SIZE];
	size_t n = tftp_build_ack(pkt, sizeof pkt, block);

	send_to(c, &c->tid, pkt, n);
	c->last_ack = block;
	c->in_window = 0;
	c->due_us = now + (uint64_t)s->o.tftp_timeout_ms * 1000;
}

static void
send_error(const struct client *c, const struct sockaddr_in *to, enum tftp_error_code code,
    const char *msg)
{
	uint8_t pkt[128];
	size_t n = tftp_build_error(pkt, sizeof pkt, code, msg);

	if (n > 0)
		send_to(c, to, pkt, n);
}

static int
open_socket(struct client *c)
{
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr = c->lease.yiaddr };
	int on = 1, rcvbuf = 256 << 10, prio = STORM_PRIORITY;

	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	(void)setsockopt(c->fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof on);
	(void)setsockopt(c->fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof prio);
	if (bind(c->fd, (struct sockaddr *)&local, sizeof local) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

void
storm_tftp_start(struct storm *s, struct client *c, uint64_t now)
{
	c->boot = storm_file(s, c->lease.file);
	if (c->boot == NULL) {
		storm_fail(s, c, STEP_TFTP, "the boot file named is not under --root");
		return;
	}
	if (open_socket(c) != 0) {
		storm_fail(s, c, STEP_TFTP, "cannot bind a socket to the address leased");
		return;
	}
	storm_watch(s, c->fd, STORM_TAG(TAG_TFTP, c->index));
	c->state = s->o.size_query ? C_TFTP_SIZE : C_TFTP_DATA;
	c->tries = 0;
	c->tid_known = false;
	c->blksize = 0;
	c->next = 1;
	send_rrq(s, c, now);
}

void
storm_tftp_close(struct storm *s, struct client *c)
{
	(void)s;
	if (c->fd >= 0)
		close(c->fd);           /* leaves the epoll set with it */
	c->fd = -1;
}

static void
finish(struct storm *s, struct client *c, uint64_t now)
{
	storm_tftp_close(s, c);
	c->tftp_end_us = now;
	storm_dhcp_start(s, c, true, now);
}

/* The OACK to the size query: its tsize, then ERROR 8 and the download. */
static void
on_size_oack(struct storm *s, struct client *c, const uint8_t *p, size_t n, uint64_t now)
{
	struct tftp_oack oack;

	if (tftp_oack_parse(p, n, &oack) != 0) {
		storm_fail(s, c, STEP_TFTP, "malformed OACK");
		return;
	}
	if (!(oack.present & TFTP_OPT_TSIZE) || oack.tsize != c->boot->len) {
		storm_fail(s, c, STEP_TFTP, "the size query's OACK has no tsize or a wrong one");
		return;
	}
	send_error(c, &c->tid, TFTP_ERR_OPTION, "User aborted");
	c->state = C_TFTP_DATA;
	c->tid_known = false;
	c->tries = 0;
	send_rrq(s, c, now);
}

static void
on_oack(struct storm *s, struct client *c, const uint8_t *p, size_t n, uint64_t now)
{
	struct tftp_oack oack;

	if (c->state == C_TFTP_SIZE) {
		on_size_oack(s, c, p, n, now);
		return;
	}
	if (c->next != 1)
		return;                 /* data is flowing: a late copy */
	if (c->blksize == 0) {
		if (tftp_oack_parse(p, n, &oack) != 0) {
			storm_fail(s, c, STEP_TFTP, "malformed OACK");
			return;
		}
		c->blksize = (oack.present & TFTP_OPT_BLKSIZE) ? oack.blksize : 512;
		c->windowsize = (oack.present & TFTP_OPT_WINDOWSIZE) ? oack.windowsize : 1;
		if (c->blksize < 8 || c->blksize > s->o.blksize || c->windowsize == 0 ||
		    c->windowsize > s->o.windowsize) {
			storm_fail(s, c, STEP_TFTP, "OACK grants more than asked");
			return;
		}
	}
	send_ack(s, c, 0, now);         /* again if our ACK 0 was lost */
}

/* The block numbered next is in hand: check it and move on. */
static void
take_block(struct storm *s, struct client *c, const uint8_t *p, size_t n, uint64_t now)
{
	uint64_t off = (c->next - 1) * (uint64_t)c->blksize;

	if (n > c->blksize || off + n > c->boot->len) {
		storm_fail(s, c, STEP_TFTP, "more data than the file holds");
		return;
	}
	if (n > 0 && memcmp(c->boot->data + off, p, n) != 0) {
		storm_fail(s, c, STEP_TFTP, "data differs from the file");
		return;
	}
	c->tftp_bytes += n;
	c->tries = 0;
	c->in_window++;
	if (n < c->blksize) {
		if (off + n != c->boot->len) {
			storm_fail(s, c, STEP_TFTP, "transfer ended short of the file");
			return;
		}
		send_ack(s, c, (uint16_t)c->next, now);
		finish(s, c, now);
		return;
	}
	c->next++;
	if (c->in_window >= c->windowsize)
		send_ack(s, c, (uint16_t)(c->next - 1), now);
}

static void
on_data(struct storm *s, struct client *c, uint16_t block, const uint8_t *p, size_t n,
    uint64_t now)
{
	if (c->state == C_TFTP_SIZE) {
		storm_fail(s, c, STEP_TFTP, "DATA to the size query (no options taken)");
		return;
	}
	if (c->blksize == 0) {          /* no OACK: the server took no option */
		c->blksize = 512;
		c->windowsize = 1;
	}
	if (block == (uint16_t)c->next)
		take_block(s, c, p, n, now);
	else                            /* EDK2: every unexpected block */
		send_ack(s, c, (uint16_t)(c->next - 1), now);
}

/* The first answer fixes the server's transfer ID; another port of the
 * server gets ERROR 5 (a second session from a resent RRQ). */
static bool
accept_tid(struct client *c, const struct sockaddr_in *from)
{
	if (from->sin_addr.s_addr != c->lease.next_server.s_addr)
		return false;
	if (!c->tid_known) {
		c->tid = *from;
		c->tid_known = true;
		return true;
	}
	if (from->sin_port == c->tid.sin_port)
		return true;
	send_error(c, from, TFTP_ERR_UNKNOWN_TID, "unknown transfer ID");
	return false;
}

static void
on_packet(struct storm *s, struct client *c, const struct sockaddr_in *from,
    const uint8_t *p, size_t n, uint64_t now)
{
	uint16_t op, num;

	if (!accept_tid(c, from) || tftp_packet_header(p, n, &op, &num) != 0)
		return;
	if (op == TFTP_ERROR)
		storm_fail(s, c, STEP_TFTP, "the server sent ERROR");
	else if (op == TFTP_OACK)
		on_oack(s, c, p, n, now);
	else if (op == TFTP_DATA)
		on_data(s, c, num, p + TFTP_HEADER_SIZE, n - TFTP_HEADER_SIZE, now);
}

void
storm_tftp_readable(struct storm *s, struct client *c, uint64_t now)
{
	static uint8_t buf[PKT_MAX];

	for (int i = 0; i < RECV_ROUNDS && c->fd >= 0; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(c->fd, buf, sizeof buf, MSG_DONTWAIT,
		    (struct sockaddr *)&from, &fl);

		if (n < 0)
			return;
		on_packet(s, c, &from, buf, (size_t)n, now);
	}
}

void
storm_tftp_timeout(struct storm *s, struct client *c, uint64_t now)
{
	if (c->tries++ >= s->o.tftp_retries) {
		storm_fail(s, c, STEP_TFTP, c->state == C_TFTP_SIZE ? "no answer to the size query" :
		    "timed out waiting for DATA");
		return;
	}
	c->tftp_timeouts++;
	c->tftp_timeouts_at[c->state == C_TFTP_SIZE ? 0 : c->next == 1 ? 1 : 2]++;
	if (c->state == C_TFTP_SIZE || (c->blksize == 0 && !c->tid_known))
		send_rrq(s, c, now);
	else
		send_ack(s, c, c->last_ack, now);
}
