#include "dhcp/reply.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/util.h"

#define IP_UDP_HEADERS 28
#define DHCP_REPLY_FACTOR 3

/* The client's limit (57), and never more than DHCP_REPLY_FACTOR times
 * the request: a reply can go where the request says (giaddr, ciaddr,
 * the source of a 4011 request), which a forged request chooses, so
 * pxed amplifies nothing (a real client asking for large replies sends
 * a request of 300 bytes or more: 900 bytes of reply). */
size_t
dhcp_client_max_size(const struct dhcp_message *req)
{
	uint16_t max57;
	size_t max = DHCP_DEFAULT_MAX - IP_UDP_HEADERS;

	if (dhcp_option_u16(req, DHCP_OPT_MAX_SIZE, &max57) && max57 >= DHCP_DEFAULT_MAX)
		max = MIN((size_t)max57 - IP_UDP_HEADERS, (size_t)DHCP_PACKET_MAX);
	if (req->wire_len > 0 && max > DHCP_REPLY_FACTOR * req->wire_len)
		max = MAX(DHCP_REPLY_FACTOR * req->wire_len,
		    (size_t)(DHCP_DEFAULT_MAX - IP_UDP_HEADERS));
	return max;
}

/* Candidate options, emitted in the client's parameter request list order
 * first, then the rest in code order. */
struct candidates {
	const uint8_t *data[256];
	uint16_t len[256];
	bool set[256];
	uint8_t scratch[1024];
	size_t used;
};

static void
cand_put(struct candidates *c, uint8_t code, const void *data, size_t len)
{
	if (c->used + len > sizeof c->scratch || len > 255 * 4)
		return;
	memcpy(c->scratch + c->used, data, len);
	c->data[code] = c->scratch + c->used;
	c->len[code] = (uint16_t)len;
	c->set[code] = true;
	c->used += len;
}

static void
cand_u32(struct candidates *c, uint8_t code, uint32_t v)
{
	uint32_t n = htonl(v);
	cand_put(c, code, &n, 4);
}

static void
cand_config(struct candidates *c, const struct reply_params *rp)
{
	if (rp->with_lease) {
		uint32_t lt = rp->lease_time;
		cand_u32(c, DHCP_OPT_LEASE_TIME, lt);
		if (lt != 0xffffffffu) {
			cand_u32(c, DHCP_OPT_T1, lt / 2);
			cand_u32(c, DHCP_OPT_T2, (uint32_t)((uint64_t)lt * 7 / 8));
		}
	}
	if (rp->netmask.s_addr != 0)
		cand_put(c, DHCP_OPT_SUBNET_MASK, &rp->netmask, 4);
	if (rp->router.s_addr != 0)
		cand_put(c, DHCP_OPT_ROUTER, &rp->router, 4);
	if (rp->dns_count > 0)
		cand_put(c, DHCP_OPT_DNS, rp->dns, 4 * (size_t)rp->dns_count);
	if (rp->domain != NULL && rp->domain[0] != '\0')
		cand_put(c, DHCP_OPT_DOMAIN, rp->domain, strlen(rp->domain));
	if (rp->hostname != NULL && rp->hostname[0] != '\0')
		cand_put(c, DHCP_OPT_HOSTNAME, rp->hostname, strlen(rp->hostname));
}

/* PXE MTFTP (43.1-5) when the decision says the file is served so. */
static void
vendor_mtftp(const struct boot_decision *d, struct pxe_vendor *v)
{
	if (d->mtftp == NULL || d->mtftp_table == NULL)
		return;
	v->mtftp_ip = d->mtftp->group;
	v->mtftp_cport = d->mtftp->cport;
	v->mtftp_sport = d->mtftp_table->sport;
	v->mtftp_timeout = d->mtftp_table->timeout;
	v->mtftp_delay = d->mtftp_table->delay;
}

/* Boot options.  The BOOTP header's file and siaddr are filled too unless
 * rp->omit_header_boot (firmware quirk (d) in boot/quirks.c: legacy ROMs
 * read only the header). */
static void
cand_boot(struct candidates *c, struct dhcp_builder *b, const struct dhcp_message *req,
    const struct reply_params *rp)
{
	const struct boot_decision *d = rp->boot;
	size_t uuid_len;
	const uint8_t *uuid = dhcp_option(req, DHCP_OPT_UUID, &uuid_len);
	char server[INET_ADDRSTRLEN];
	uint8_t vendor[512];

	/* "local" or no rule: no boot fields at all, unless a PXE menu is sent */
	if (d == NULL || ((d->kind == BOOT_NOTHING || d->kind == BOOT_LOCAL) && rp->pxe == NULL))
		return;
	if (d->vendor_http_client)
		cand_put(c, DHCP_OPT_VENDOR_CLASS, "HTTPClient", 10);
	else if (d->vendor_pxe_client)
		cand_put(c, DHCP_OPT_VENDOR_CLASS, "PXEClient", 9);
	if (uuid != NULL)
		cand_put(c, DHCP_OPT_UUID, uuid, uuid_len);     /* echoed, as PXE asks */
	if (d->kind == BOOT_TFTP || d->kind == BOOT_HTTP) {
		cand_put(c, DHCP_OPT_BOOTFILE, d->file, strlen(d->file));
		if (!rp->omit_header_boot)
			dhcp_set_file(b, d->file);
	}
	if (d->kind == BOOT_TFTP) {
		inet_ntop(AF_INET, &rp->next_server, server, sizeof server);
		cand_put(c, DHCP_OPT_TFTP_SERVER, server, strlen(server));
	}
	if (d->vendor_pxe_client) {
		struct pxe_vendor v = { .discovery_control = 0x08 };
		if (rp->pxe != NULL)
			v = *rp->pxe;
		if (rp->pxe == NULL && !rp->pxe_direct)
			return;
		vendor_mtftp(d, &v);
		size_t n = pxe_vendor_build(&v, vendor, sizeof vendor);
		if (n > 0)
			cand_put(c, DHCP_OPT_VENDOR, vendor, n);
	}
}

/* Options a reply keeps even when the client's size limit forces others
 * out: the lease times and the echoed client id (RFC 2131 table 3, RFC
 * 6842).  53 and 54 are already in, 82 is added last. */
static bool
must_keep(uint8_t code)
{
	return code == DHCP_OPT_LEASE_TIME || code == DHCP_OPT_T1 || code == DHCP_OPT_T2 ||
	    code == DHCP_OPT_CLIENT_ID;
}

/* Bytes an option takes on the wire (split per RFC 3396). */
static size_t
wire_size(size_t len)
{
	size_t pieces = len == 0 ? 1 : (len + 254) / 255;
	return len + 2 * pieces;
}

static void
emit_one(struct dhcp_builder *b, struct candidates *c, uint8_t code, size_t *reserve)
{
	size_t need = wire_size(c->len[code]);
	size_t limit = MIN(b->max, sizeof b->buf);

	if (must_keep(code)) {
		*reserve -= need;
	} else if (b->len + need + *reserve + 1 > limit) {
		c->set[code] = false;   /* does not fit the client's limit: left out */
		return;
	}
	dhcp_add_option(b, code, c->data[code], c->len[code]);
	c->set[code] = false;
}

/* Emit: the client's list first (in its order), then the rest.  When
 * everything does not fit the client's maximum size, optional options are
 * left out and the ones that must be there keep their place. */
static void
emit(struct dhcp_builder *b, const struct dhcp_message *req, struct candidates *c,
    size_t extra_reserve)
{
	size_t prl_len = 0, reserve = extra_reserve;
	const uint8_t *prl = dhcp_option(req, DHCP_OPT_PARAM_LIST, &prl_len);

	for (unsigned code = 1; code < 255; code++)
		if (c->set[code] && must_keep((uint8_t)code))
			reserve += wire_size(c->len[code]);
	for (size_t i = 0; prl != NULL && i < prl_len; i++)
		if (c->set[prl[i]])
			emit_one(b, c, prl[i], &reserve);
	for (unsigned code = 1; code < 255; code++)
		if (c->set[code])
			emit_one(b, c, (uint8_t)code, &reserve);
}

/* The BROADCAST flag of a reply: the client's (RFC 2131 4.1: "flags" from
 * the request), set when the reply goes through a relay that would
 * otherwise have no way to reach the client.
 *
 * A relay delivers a BOOTREPLY by the flag (RFC 1542 4.1.2): set, an IP and
 * link-layer broadcast; clear, an IP unicast to yiaddr at chaddr.  ISC
 * dhcrelay (relay/dhcrelay.c relay()) and dnsmasq's relay (dhcp.c, the reply
 * sent with an ARP entry for yiaddr injected) do exactly that.  A reply with
 * yiaddr 0 -- a proxyDHCP offer, an INFORM's ACK -- and the flag clear would
 * be unicast to 0.0.0.0: dropped, or never accepted by the client.  iPXE
 * (ROM and snponly.efi) and SeaBIOS's iPXE ROM send DISCOVER with the flag
 * clear, so a relayed proxy offer never reached them.  So, as RFC 2131 4.3.2
 * asks for a NAK through a relay and as dnsmasq's own proxyDHCP does
 * (rfc2131.c: "mess->flags |= htons(0x8000)" when it answers with yiaddr 0),
 * a reply to a relay sets the flag when yiaddr is 0 or it is a NAK.  A
 * client that already has an address accepts a broadcast too.  Replies
 * with an address (full mode) keep the client's flag: the relay unicasts
 * them to yiaddr as the client asked.  Not relayed: nothing changes. */
uint16_t
dhcp_reply_flags(const struct dhcp_message *req, const struct reply_params *rp)
{
	if (req->giaddr.s_addr != 0 && (rp->type == DHCPNAK || rp->yiaddr.s_addr == 0))
		return (uint16_t)(req->flags | DHCP_FLAG_BROADCAST);
	return req->flags;
}

size_t
dhcp_reply_build(struct dhcp_builder *b, const struct dhcp_message *req,
    const struct reply_params *rp)
{
	static struct candidates c;     /* large: not on the stack */
	size_t id_len;
	const uint8_t *client_id = dhcp_option(req, DHCP_OPT_CLIENT_ID, &id_len);

	memset(&c, 0, sizeof c);
	dhcp_reply_start(b, req, rp->type, dhcp_client_max_size(req));
	dhcp_set_flags(b, dhcp_reply_flags(req, rp));
	dhcp_add_addr(b, DHCP_OPT_SERVER_ID, rp->server_id);
	if (client_id != NULL)
		cand_put(&c, DHCP_OPT_CLIENT_ID, client_id, id_len);   /* RFC 6842 */
	if (rp->message != NULL)
		cand_put(&c, DHCP_OPT_MESSAGE, rp->message, strlen(rp->message));
	if (rp->type != DHCPNAK) {
		struct in_addr none = { 0 };
		bool tftp = rp->boot != NULL && !rp->omit_header_boot &&
		    (rp->boot->kind == BOOT_TFTP || rp->pxe != NULL ||
		    (rp->boot->kind == BOOT_HTTP && rp->boot->vendor_pxe_client));
		dhcp_set_addrs(b, rp->ciaddr, rp->yiaddr, tftp ? rp->next_server : none, req->giaddr);
		if (rp->with_config)
			cand_config(&c, rp);
		cand_boot(&c, b, req, rp);
	}
	/* RFC 3046: the relay's option 82 goes back to it unchanged, last */
	size_t len82;
	const uint8_t *o82 = dhcp_option(req, DHCP_OPT_RELAY_AGENT, &len82);
	bool echo82 = o82 != NULL && req->giaddr.s_addr != 0;
	emit(b, req, &c, echo82 ? wire_size(len82) : 0);
	if (echo82)
		dhcp_add_option(b, DHCP_OPT_RELAY_AGENT, o82, len82);
	return dhcp_finish(b);
}
