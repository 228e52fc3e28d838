/* bench/storm: the two DHCP exchanges, relay-style over one socket.
 * Messages are built and parsed with pxed's codec (src/dhcp/codec.h).
 * The xid says which client and which exchange a reply belongs to:
 * xid = base + 2 * index + (iPXE ? 1 : 0), base random with 20 low bits
 * clear (STORM_CLIENTS_MAX * 2 fits). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"
#include "dhcp/codec.h"
#include "storm.h"

#define RECV_BATCH 64

/* EDK2's parameter request list (PxeBcDhcp4.c), and iPXE's (dhcp.c). */
static const uint8_t edk2_prl[] = {
	1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51,
	54, 58, 59, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135,
};
static const uint8_t ipxe_prl[] = {
	1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132,
	133, 134, 135, 175, 203,
};
/* iPXE's encapsulated options (175): a build's features, e.g. HTTP (0x13),
 * PXE (0x21), EFI (0x24), and the bus id. */
static const uint8_t ipxe_175[] = {
	0x13, 1, 1, 0x21, 1, 1, 0x24, 1, 1, 0xb1, 5, 1, 0x80, 0x86, 0x10, 0x0e,
};

int
storm_dhcp_open(struct storm *s)
{
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_port = htons(67) };
	int on = 1, rcvbuf = 8 << 20, prio = STORM_PRIORITY;

	s->dhcp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->dhcp_fd < 0)
		return -1;
	if (setsockopt(s->dhcp_fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
		(void)setsockopt(s->dhcp_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	(void)setsockopt(s->dhcp_fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof prio);
	if (setsockopt(s->dhcp_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
	    bind(s->dhcp_fd, (struct sockaddr *)&local, sizeof local) != 0) {
		fprintf(stderr, "storm: bind UDP 67 (the relay's port): %s\n", strerror(errno));
		return -1;
	}
	storm_watch(s, s->dhcp_fd, STORM_TAG(TAG_DHCP, 0));
	return 0;
}

static void
uuid_of(const struct client *c, uint8_t out[17])
{
	out[0] = 0;                     /* type 0: a GUID follows */
	for (int i = 0; i < 16; i++)
		out[1 + i] = (uint8_t)(0x5a ^ (i * 37) ^ (c->index >> (8 * (i % 3))));
}

static void
add_common(struct dhcp_builder *b, const struct client *c)
{
	uint8_t uuid[17];
	uint8_t arch[2] = { 0, 7 };     /* x64 UEFI */

	uuid_of(c, uuid);
	dhcp_add_u16(b, DHCP_OPT_MAX_SIZE, 1472);
	dhcp_add_option(b, DHCP_OPT_UUID, uuid, sizeof uuid);
	dhcp_add_option(b, DHCP_OPT_CLIENT_ARCH, arch, sizeof arch);
}

static void
add_firmware_options(struct dhcp_builder *b, const struct client *c)
{
	static const char vendor[] = "PXEClient:Arch:00007:UNDI:003000";
	uint8_t ndi[3] = { 1, 3, 0 };

	dhcp_add_option(b, DHCP_OPT_PARAM_LIST, edk2_prl, sizeof edk2_prl);
	add_common(b, c);
	dhcp_add_option(b, DHCP_OPT_CLIENT_NDI, ndi, sizeof ndi);
	dhcp_add_option(b, DHCP_OPT_VENDOR_CLASS, vendor, sizeof vendor - 1);
}

static void
add_ipxe_options(struct dhcp_builder *b, const struct client *c)
{
	static const char vendor[] = "PXEClient:Arch:00007:UNDI:003016";
	uint8_t ndi[3] = { 1, 3, 16 };
	uint8_t id[7] = { 1 };

	memcpy(id + 1, c->mac, 6);
	dhcp_add_option(b, DHCP_OPT_PARAM_LIST, ipxe_prl, sizeof ipxe_prl);
	add_common(b, c);
	dhcp_add_option(b, DHCP_OPT_CLIENT_NDI, ndi, sizeof ndi);
	dhcp_add_option(b, DHCP_OPT_VENDOR_CLASS, vendor, sizeof vendor - 1);
	dhcp_add_option(b, DHCP_OPT_USER_CLASS, "iPXE", 4);
	dhcp_add_option(b, DHCP_OPT_CLIENT_ID, id, sizeof id);
	dhcp_add_option(b, DHCP_OPT_IPXE, ipxe_175, sizeof ipxe_175);
}

static void
dhcp_send(struct storm *s, struct client *c, enum dhcp_type type)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(67), .sin_addr = s->o.server };
	struct in_addr none = { 0 };
	struct dhcp_builder b;
	size_t len;

	dhcp_request_start(&b, type, c->xid, c->mac, sizeof c->mac);
	b.buf[3] = 1;                   /* hops: one relay */
	dhcp_set_flags(&b, c->ipxe ? 0 : DHCP_FLAG_BROADCAST);  /* EDK2 sets it */
	dhcp_set_addrs(&b, none, none, none, c->giaddr);
	if (type == DHCPREQUEST) {
		dhcp_add_addr(&b, DHCP_OPT_REQUESTED_IP, c->lease.yiaddr);
		dhcp_add_addr(&b, DHCP_OPT_SERVER_ID, c->lease.server_id);
	}
	if (c->ipxe)
		add_ipxe_options(&b, c);
	else
		add_firmware_options(&b, c);
	len = dhcp_finish(&b);
	/* a send the kernel refuses is a lost packet: the timer resends */
	if (len > 0)
		(void)sendto(s->dhcp_fd, b.buf, len, 0, (struct sockaddr *)&to, sizeof to);
	c->sent_us = clock_now_us();
}

static void
arm(struct storm *s, struct client *c, uint64_t now)
{
	const unsigned *t = c->ipxe ? s->o.ipxe_timeouts_ms : s->o.dhcp_timeouts_ms;
	unsigned n = c->ipxe ? s->o.ipxe_timeouts : s->o.dhcp_timeouts;

	c->due_us = now + (uint64_t)t[MIN(c->tries, n - 1)] * 1000;
}

void
storm_dhcp_start(struct storm *s, struct client *c, bool ipxe, uint64_t now)
{
	c->ipxe = ipxe;
	c->xid = s->xid_base + 2 * c->index + (ipxe ? 1 : 0);
	c->state = C_DISCOVER;
	c->tries = 0;
	memset(&c->lease, 0, sizeof c->lease);
	dhcp_send(s, c, DHCPDISCOVER);
	arm(s, c, now);
}

void
storm_dhcp_timeout(struct storm *s, struct client *c, uint64_t now)
{
	unsigned n = c->ipxe ? s->o.ipxe_timeouts : s->o.dhcp_timeouts;
	enum storm_step step = c->ipxe ? STEP_IPXE_DHCP : STEP_DHCP;

	if (++c->tries >= n) {
		storm_fail(s, c, step, c->state == C_DISCOVER ? "no OFFER" : "no ACK");
		return;
	}
	if (c->ipxe)
		c->ipxe_resent++;
	else
		c->dhcp_resent++;
	dhcp_send(s, c, c->state == C_DISCOVER ? DHCPDISCOVER : DHCPREQUEST);
	arm(s, c, now);
}

/* What the OFFER says: address, server, next server, boot file. */
static int
take_offer(struct client *c, const struct dhcp_message *m)
{
	size_t len;
	const uint8_t *file = dhcp_option(m, DHCP_OPT_BOOTFILE, &len);
	struct in_addr ns;

	if (m->yiaddr.s_addr == 0 || !dhcp_option_addr(m, DHCP_OPT_SERVER_ID, &c->lease.server_id))
		return -1;
	c->lease.yiaddr = m->yiaddr;
	c->lease.next_server = m->siaddr;
	if (c->lease.next_server.s_addr == 0 && dhcp_option_addr(m, DHCP_OPT_TFTP_SERVER, &ns))
		c->lease.next_server = ns;
	if (m->file[0] != '\0')
		str_copy(c->lease.file, m->file, sizeof c->lease.file);
	else if (file != NULL && len > 0 && len < sizeof c->lease.file) {
		memcpy(c->lease.file, file, len);
		c->lease.file[len] = '\0';
	}
	return c->lease.file[0] != '\0' ? 0 : -1;
}

static void
on_ack(struct storm *s, struct client *c, const struct dhcp_message *m, uint64_t now)
{
	if (m->yiaddr.s_addr != c->lease.yiaddr.s_addr) {
		storm_fail(s, c, c->ipxe ? STEP_IPXE_DHCP : STEP_DHCP, "ACK for another address");
		return;
	}
	c->due_us = UINT64_MAX;
	if (!c->ipxe) {
		c->first_addr = c->lease.yiaddr;
		storm_tftp_start(s, c, now);
	} else {
		storm_http_start(s, c, now);
	}
}

static void
on_reply(struct storm *s, struct client *c, const struct dhcp_message *m, uint64_t now)
{
	enum storm_step step = c->ipxe ? STEP_IPXE_DHCP : STEP_DHCP;

	if (c->state == C_DISCOVER && m->type == DHCPOFFER) {
		if (take_offer(c, m) != 0) {
			storm_fail(s, c, step, "OFFER without an address, server id or boot file");
			return;
		}
		if (!c->ipxe && c->offer_us == 0) {
			c->offer_us = now;
			c->offer_wait_us = now - c->sent_us;
		}
		c->state = C_REQUEST;
		c->tries = 0;
		dhcp_send(s, c, DHCPREQUEST);
		arm(s, c, now);
	} else if (c->state == C_REQUEST && m->type == DHCPACK) {
		on_ack(s, c, m, now);
	} else if (c->state == C_REQUEST && m->type == DHCPNAK) {
		storm_fail(s, c, step, "NAK");
	}
	/* anything else: a repeat of an answer already taken */
}

static void
dispatch_reply(struct storm *s, const uint8_t *buf, size_t len, uint64_t now)
{
	struct dhcp_message m;
	const char *why;
	uint32_t rel;
	struct client *c;

	if (dhcp_parse(buf, len, &m, &why) != 0 || m.op != DHCP_BOOTREPLY)
		return;
	rel = m.xid - s->xid_base;
	if (rel / 2 >= s->o.clients)
		return;
	c = &s->c[rel / 2];
	if ((rel & 1) != (c->ipxe ? 1u : 0u) || m.hlen != 6 || memcmp(m.chaddr, c->mac, 6) != 0)
		return;
	on_reply(s, c, &m, now);
}

void
storm_dhcp_readable(struct storm *s, uint64_t now)
{
	static uint8_t bufs[RECV_BATCH][DHCP_PACKET_MAX];
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];

	for (int round = 0; round < 16; round++) {
		int got;

		memset(msgs, 0, sizeof msgs);
		for (int i = 0; i < RECV_BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof bufs[i] };
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		got = recvmmsg(s->dhcp_fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0)
			return;
		for (int i = 0; i < got; i++)
			dispatch_reply(s, bufs[i], msgs[i].msg_len, now);
		if (got < RECV_BATCH)
			return;
	}
}
