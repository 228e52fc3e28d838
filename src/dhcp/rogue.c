/* Other DHCP servers answering on subnets pxed serves in full mode.
 *
 * Servers answer clients on port 68, so pxed listens there too (a socket
 * bound as root beside 67 and 4011; broadcasts reach every socket on the
 * port, whoever else listens).  It hears the answers other servers
 * broadcast (to clients that set the BROADCAST flag, as EDK2 does), and,
 * every dhcp-rogue-probe seconds, asks itself: a DISCOVER with the
 * BROADCAST flag from each of its addresses on a full-mode subnet, with
 * a client MAC of its own (02:70:78:65:64:NN, which pxed's server part
 * never answers), so that every server on the link answers where pxed
 * hears it.  An OFFER, ACK or NAK from a server id that is not one of
 * pxed's addresses nor in dhcp-rogue-allow, on a full-mode subnet (by the
 * address it gives, else by its own address), is another server: logged
 * (then at most every 10 minutes per server), counted, published as an
 * "alarm" event and listed with the subnets.  In proxy mode another server
 * is expected (it gives the addresses) and nothing is reported.  Relayed
 * subnets cannot be heard from here: their servers answer the relay. */
#include "dhcp/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/log.h"
#include "core/stats.h"

static void
own_addresses_load(struct dhcp_server *srv)
{
	struct ifaddrs *ifs = NULL;

	srv->own_count = 0;
	if (getifaddrs(&ifs) != 0)
		return;
	for (struct ifaddrs *i = ifs; i != NULL && srv->own_count < DHCP_OWN_ADDRS_MAX;
	    i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		srv->own[srv->own_count++] =
		    ((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
	}
	freeifaddrs(ifs);
}

bool
dhcp_is_own_address(const struct dhcp_server *srv, struct in_addr a)
{
	for (size_t i = 0; i < srv->own_count; i++)
		if (srv->own[i].s_addr == a.s_addr)
			return true;
	return false;
}

static bool
allowed(const struct dhcp_server *srv, struct in_addr a)
{
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, text, sizeof text);
	for (size_t i = 0; i < srv->cfg.dhcp_rogue_allow.count; i++)
		if (strcmp(srv->cfg.dhcp_rogue_allow.item[i], text) == 0)
			return true;
	return false;
}

static struct dhcp_rogue *
rogue_slot(struct dhcp_server *srv, struct in_addr server)
{
	struct dhcp_rogue *oldest = NULL;

	for (size_t i = 0; i < srv->rogue_count; i++) {
		if (srv->rogue[i].server.s_addr == server.s_addr)
			return &srv->rogue[i];
		if (oldest == NULL || srv->rogue[i].last_seen < oldest->last_seen)
			oldest = &srv->rogue[i];
	}
	if (srv->rogue_count < DHCP_ROGUES_MAX) {
		STATS_ADD(dhcp_rogue_servers, 1);
		oldest = &srv->rogue[srv->rogue_count++];
	}
	memset(oldest, 0, sizeof *oldest);
	oldest->server = server;
	return oldest;
}

static const char *
answer_name(enum dhcp_type t)
{
	return t == DHCPOFFER ? "OFFER" : t == DHCPACK ? "ACK" : "NAK";
}

static void
rogue_report(struct dhcp_rogue *r, const struct dhcp_message *m, int64_t now)
{
	char server[INET_ADDRSTRLEN], source[INET_ADDRSTRLEN], offered[INET_ADDRSTRLEN];
	char mac[18];

	inet_ntop(AF_INET, &r->server, server, sizeof server);
	inet_ntop(AF_INET, &r->source, source, sizeof source);
	inet_ntop(AF_INET, &r->offered, offered, sizeof offered);
	snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", r->mac[0], r->mac[1],
	    r->mac[2], r->mac[3], r->mac[4], r->mac[5]);
	log_warn("dhcp: another DHCP server answers on subnet %s: server id %s (from %s) sent"
	    " %s %s to %s%s (%llu answer(s) heard)", r->subnet, server, source,
	    answer_name(r->type), r->offered.s_addr != 0 ? offered : "(no address: proxyDHCP)",
	    mac, memcmp(m->chaddr, DHCP_PROBE_MAC_PREFIX, DHCP_PROBE_MAC_PREFIX_LEN) == 0 ?
	    " (pxed's probe)" : "", (unsigned long long)r->replies);
	dhcp_alarm_publish("{\"alarm\":\"rogue-dhcp\",\"subnet\":\"%s\",\"server\":\"%s\","
	    "\"source\":\"%s\",\"type\":\"%s\",\"offered\":\"%s\",\"mac\":\"%s\"}", r->subnet,
	    server, source, answer_name(r->type), r->offered.s_addr != 0 ? offered : "", mac);
	r->logged = now;
}

/* One datagram heard on port 68 from src. */
static void
heard(struct dhcp_server *srv, const uint8_t *buf, size_t len, struct in_addr src, int64_t now)
{
	static struct dhcp_message m;
	const char *why;
	struct in_addr server = src;
	struct dhcp_subnet *sn;

	if (dhcp_parse(buf, len, &m, &why) != 0 || m.op != DHCP_BOOTREPLY ||
	    (m.type != DHCPOFFER && m.type != DHCPACK && m.type != DHCPNAK))
		return;
	(void)dhcp_option_addr(&m, DHCP_OPT_SERVER_ID, &server);
	if (dhcp_is_own_address(srv, server) || dhcp_is_own_address(srv, src) ||
	    allowed(srv, server) || allowed(srv, src))
		return;
	sn = dhcp_subnet_for(srv, m.yiaddr.s_addr != 0 ? m.yiaddr : src);
	if (sn == NULL || !sn->has_pool || sn->proxy || sn->off)
		return;                 /* another server is expected there */
	STATS_ADD(dhcp_rogue_replies, 1);
	struct dhcp_rogue *r = rogue_slot(srv, server);
	if (r->first_seen == 0)
		r->first_seen = now;
	r->last_seen = now;
	r->source = src;
	r->offered = m.yiaddr;
	r->type = m.type;
	memcpy(r->mac, m.chaddr, MIN((size_t)m.hlen, sizeof r->mac));
	snprintf(r->subnet, sizeof r->subnet, "%s", sn->name);
	r->replies++;
	if (r->logged == 0 || now - r->logged >= DHCP_ROGUE_LOG_S)
		rogue_report(r, &m, now);
}

static void
client_readable(uv_poll_t *poll, int status, int events)
{
	struct dhcp_server *srv = poll->data;
	uint8_t buf[DHCP_PACKET_MAX + 1];
	struct sockaddr_in from;
	int64_t now = (int64_t)time(NULL);

	if (status < 0 || !(events & UV_READABLE))
		return;
	for (int i = 0; i < 64; i++) {          /* bounded per wake-up */
		socklen_t flen = sizeof from;
		ssize_t n = recvfrom(srv->socks.client_fd, buf, sizeof buf, MSG_DONTWAIT,
		    (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		if ((size_t)n <= DHCP_PACKET_MAX)
			heard(srv, buf, (size_t)n, from.sin_addr, now);
	}
}

void
dhcp_rogue_start(struct dhcp_server *srv)
{
	own_addresses_load(srv);
	if (srv->socks.client_fd < 0)
		return;
	uv_poll_init(srv->loop, &srv->client_poll, srv->socks.client_fd);
	srv->client_poll.data = srv;
	srv->client_poll_on = true;
	uv_poll_start(&srv->client_poll, UV_READABLE, client_readable);
}

/* Our DISCOVER out of interface ifindex from address local. */
static void
probe_send(struct dhcp_server *srv, unsigned ifindex, struct in_addr local)
{
	struct dhcp_builder b;
	uint8_t mac[6] = { 0x02, 0x70, 0x78, 0x65, 0x64, srv->probe_seq++ };
	uint32_t xid;
	static const uint8_t prl[] = { 1, 3, 6, 51, 54 };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(67),
		.sin_addr.s_addr = htonl(INADDR_BROADCAST) };
	struct in_pktinfo pi = { .ipi_ifindex = (int)ifindex, .ipi_spec_dst = local };
	union { char buf[CMSG_SPACE(sizeof pi)]; struct cmsghdr align; } ctl;
	struct iovec iov;
	struct msghdr msg = { .msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov,
		.msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };

	if (getrandom(&xid, sizeof xid, GRND_NONBLOCK) != sizeof xid)
		xid = (uint32_t)time(NULL);
	dhcp_request_start(&b, DHCPDISCOVER, xid, mac, sizeof mac);
	dhcp_set_flags(&b, 0x8000);     /* BROADCAST: every answer reaches us */
	dhcp_add_option(&b, DHCP_OPT_PARAM_LIST, prl, sizeof prl);
	size_t n = dhcp_finish(&b);
	if (n == 0)
		return;
	iov = (struct iovec){ b.buf, n };
	memset(&ctl, 0, sizeof ctl);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof pi);
	memcpy(CMSG_DATA(c), &pi, sizeof pi);
	if (sendmsg(srv->socks.client_fd, &msg, MSG_DONTWAIT) < 0)
		log_debug("dhcp: probe for other servers: %s", strerror(errno));
	else
		STATS_ADD(dhcp_probes_sent, 1);
}

/* With interface = ..., only those are served (and probed). */
static bool
interface_served(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->interface.count; i++)
		if (strcmp(cfg->interface.item[i], name) == 0)
			return true;
	return cfg->interface.count == 0;
}

void
dhcp_rogue_probe(struct dhcp_server *srv, int64_t now)
{
	struct ifaddrs *ifs = NULL;

	(void)now;
	own_addresses_load(srv);        /* addresses come and go */
	if (srv->socks.client_fd < 0 || getifaddrs(&ifs) != 0)
		return;
	for (struct ifaddrs *i = ifs; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		if (!interface_served(&srv->cfg, i->ifa_name))
			continue;
		struct in_addr a = ((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
		struct dhcp_subnet *sn = dhcp_subnet_for(srv, a);
		unsigned ifindex = if_nametoindex(i->ifa_name);
		if (sn != NULL && sn->has_pool && !sn->proxy && !sn->off && ifindex != 0)
			probe_send(srv, ifindex, a);
	}
	freeifaddrs(ifs);
}
