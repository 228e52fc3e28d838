/* libFuzzer harness: the DHCP message parser, the PXE option 43 parser and
 * the option 82 parser on the same input.  Whatever parses as a message is
 * answered (reply builder with a long, split option) and the reply is parsed
 * back; parsed vendor options are rebuilt and parsed back.  Invariants are
 * asserted throughout. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "dhcp/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LONG_OPTION 270                 /* two instances: 255 + 15 */

static int
parse_copy(const uint8_t *bytes, size_t len, struct dhcp_message *m)
{
	uint8_t *buf = malloc(len ? len : 1);
	const char *why = NULL;
	int rc;

	assert(buf != NULL);
	memcpy(buf, bytes, len);
	rc = dhcp_parse(buf, len, m, &why);
	assert((rc == 0) == (why == NULL));
	free(buf);
	return rc;
}

static void
check_message(const struct dhcp_message *m, size_t size)
{
	assert(m->op == DHCP_BOOTREQUEST || m->op == DHCP_BOOTREPLY);
	assert(m->hlen <= 16);
	assert(m->type <= DHCPINFORM);
	assert(m->overload <= 3);
	assert(strlen(m->sname) < sizeof m->sname);
	assert(strlen(m->file) < sizeof m->file);
	assert(m->store_used <= DHCP_OPTION_STORE && m->store_used <= size);
	if (!m->has_cookie)
		assert(m->store_used == 0 && m->type == DHCP_NONE && m->overload == 0);
	if (m->overload & 1)
		assert(m->file[0] == '\0');
	if (m->overload & 2)
		assert(m->sname[0] == '\0');
	assert(!m->opt_present[DHCP_OPT_PAD] && !m->opt_present[DHCP_OPT_END]);
	for (int code = 0; code < 256; code++) {
		if (m->opt_present[code])
			assert((size_t)m->opt_offset[code] + m->opt_length[code] <= m->store_used);
	}
}

/* Answer m and parse the answer back. */
static void
check_reply(const struct dhcp_message *m)
{
	static struct dhcp_builder b;
	static struct dhcp_message back;
	uint8_t fill[LONG_OPTION];
	struct in_addr sid = { htonl(0xc0a80101) };
	enum dhcp_type type = m->type == DHCP_NONE ? DHCP_NONE : DHCPOFFER;
	size_t max = 0, len, n;
	uint16_t max57;
	const uint8_t *v;

	for (size_t i = 0; i < sizeof fill; i++)
		fill[i] = (uint8_t)(i ^ m->xid);
	if (dhcp_option_u16(m, DHCP_OPT_MAX_SIZE, &max57) && max57 > 28)
		max = max57 - 28u;
	dhcp_reply_start(&b, m, type, max);
	assert(b.max >= DHCP_DEFAULT_MAX - 28 && b.max <= DHCP_PACKET_MAX);
	dhcp_set_file(&b, m->file);
	dhcp_add_addr(&b, DHCP_OPT_SERVER_ID, sid);
	dhcp_add_u32(&b, DHCP_OPT_LEASE_TIME, 3600);
	dhcp_add_option(&b, DHCP_OPT_VENDOR_CLASS, "PXEClient", 9);
	dhcp_add_option(&b, DHCP_OPT_VENDOR, fill, sizeof fill);
	assert(!b.overflow);                    /* all of that fits in 548 */
	v = dhcp_option(m, DHCP_OPT_RELAY_AGENT, &len);
	if (v != NULL)
		dhcp_add_option(&b, DHCP_OPT_RELAY_AGENT, v, len);
	n = dhcp_finish(&b);
	if (n == 0) {
		assert(b.overflow && v != NULL);
		return;
	}
	assert(n >= DHCP_MIN_MESSAGE && n <= b.max);
	assert(parse_copy(b.buf, n, &back) == 0);
	assert(back.op == DHCP_BOOTREPLY && back.type == type);
	assert(back.xid == m->xid && back.flags == m->flags);
	assert(back.htype == m->htype && back.hlen == m->hlen && back.hops == 0);
	assert(memcmp(back.chaddr, m->chaddr, sizeof m->chaddr) == 0);
	assert(back.giaddr.s_addr == m->giaddr.s_addr);
	/* the header field keeps 127 bytes + NUL */
	assert(strlen(back.file) == MIN(strlen(m->file), sizeof m->file - 2));
	assert(strncmp(back.file, m->file, sizeof m->file - 2) == 0);
	const uint8_t *bv = dhcp_option(&back, DHCP_OPT_VENDOR, &len);
	assert(bv != NULL && len == sizeof fill && memcmp(bv, fill, len) == 0);
	if (v != NULL) {
		size_t len82;
		const uint8_t *v82 = dhcp_option(m, DHCP_OPT_RELAY_AGENT, &len82);
		bv = dhcp_option(&back, DHCP_OPT_RELAY_AGENT, &len);
		assert(bv != NULL && len == len82 && (len == 0 || memcmp(bv, v82, len) == 0));
	}
}

static void
check_vendor_equal(const struct pxe_vendor *a, const struct pxe_vendor *b)
{
	assert(a->discovery_control == b->discovery_control);
	assert(a->has_boot_item == b->has_boot_item);
	if (a->has_boot_item)
		assert(a->item_type == b->item_type && a->item_layer == b->item_layer);
	assert(a->menu_count == b->menu_count && a->server_count == b->server_count);
	for (uint8_t i = 0; i < a->menu_count; i++) {
		assert(a->menu[i].type == b->menu[i].type);
		assert(strcmp(a->menu[i].text, b->menu[i].text) == 0);
	}
	for (uint8_t i = 0; i < a->server_count; i++) {
		assert(a->servers[i].type == b->servers[i].type);
		assert(a->servers[i].count == b->servers[i].count);
		for (uint8_t j = 0; j < a->servers[i].count; j++)
			assert(a->servers[i].addr[j].s_addr == b->servers[i].addr[j].s_addr);
	}
	assert(strcmp(a->prompt, b->prompt) == 0);
	if (a->mtftp_ip.s_addr != 0) {
		assert(a->mtftp_ip.s_addr == b->mtftp_ip.s_addr);
		assert(a->mtftp_cport == b->mtftp_cport && a->mtftp_sport == b->mtftp_sport);
		assert(a->mtftp_timeout == b->mtftp_timeout && a->mtftp_delay == b->mtftp_delay);
	}
}

static void
check_vendor(const uint8_t *buf, size_t size)
{
	static struct pxe_vendor v, back;
	uint8_t out[512];

	if (pxe_vendor_parse(buf, size, &v) != 0)
		return;
	assert(v.menu_count <= PXE_MENU_MAX && v.server_count <= PXE_MENU_MAX);
	for (uint8_t i = 0; i < v.server_count; i++)
		assert(v.servers[i].count <= PXE_SERVERS_MAX);
	size_t n = pxe_vendor_build(&v, out, sizeof out);
	if (n == 0)
		return;                         /* a list over 255 bytes */
	assert(out[n - 1] == 0xff);
	assert(pxe_vendor_parse(out, n, &back) == 0);
	check_vendor_equal(&v, &back);
}

static void
check_relay(const uint8_t *buf, size_t size)
{
	struct dhcp_relay_info r;

	if (dhcp_relay_parse(buf, size, &r) != 0)
		return;
	if (r.circuit_id != NULL)
		assert(r.circuit_id >= buf && r.circuit_id + r.circuit_id_len <= buf + size);
	if (r.remote_id != NULL)
		assert(r.remote_id >= buf && r.remote_id + r.remote_id_len <= buf + size);
}

/* Run check on an exact-size heap copy of an option's value. */
static void
check_option(const struct dhcp_message *m, uint8_t code,
    void (*check)(const uint8_t *, size_t))
{
	size_t len;
	const uint8_t *v = dhcp_option(m, code, &len);
	uint8_t *copy;

	if (v == NULL)
		return;
	copy = malloc(len ? len : 1);
	assert(copy != NULL);
	memcpy(copy, v, len);
	check(copy, len);
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dhcp_message m;
	uint8_t *buf = malloc(size ? size : 1);
	const char *why = NULL;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	int rc = dhcp_parse(buf, size, &m, &why);
	if (rc == 0) {
		assert(why == NULL);
		check_message(&m, size);
		check_reply(&m);
		check_option(&m, DHCP_OPT_VENDOR, check_vendor);
		check_option(&m, DHCP_OPT_RELAY_AGENT, check_relay);
	} else {
		assert(why != NULL);
		assert(rc == -EBADMSG || rc == -EPROTO || rc == -ENOSPC);
	}
	check_vendor(buf, size);
	check_relay(buf, size);
	free(buf);
	return 0;
}
