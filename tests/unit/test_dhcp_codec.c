/* DHCPv4 codec tables: real-looking client messages built byte by byte,
 * malformed ones with their exact error, builders round-tripped through
 * the parser, PXE option 43 and relay option 82.  Every input is parsed
 * from a heap buffer of exactly its length so ASan catches any over-read. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "dhcp/codec.h"

#define P(s) (const uint8_t *)(s), sizeof(s) - 1
#define MAC "\x52\x54\x00\x12\x34\x56"

static const uint8_t test_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* A message to assemble: header fields, raw sname/file bytes, options. */
struct msg_spec {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t flags;
	uint32_t ciaddr, giaddr;        /* host order */
	const uint8_t *sname;
	size_t sname_len;
	const uint8_t *file;
	size_t file_len;
	bool no_cookie;
	const uint8_t *opts;
	size_t opts_len;
	size_t cut;                     /* nonzero: exactly this many bytes */
};

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Lay the message out byte by byte into out (zeroed); returns its length. */
static size_t
msg_make(const struct msg_spec *s, uint8_t *out, size_t size)
{
	size_t len = DHCP_HEADER_SIZE;

	assert_true(size >= 240 + s->opts_len && size >= s->cut);
	memset(out, 0, size);
	out[0] = s->op;
	out[1] = s->htype;
	out[2] = s->hlen;
	out[3] = s->hops;
	put32(out + 4, s->xid);
	out[10] = (uint8_t)(s->flags >> 8);
	out[11] = (uint8_t)s->flags;
	put32(out + 12, s->ciaddr);
	put32(out + 24, s->giaddr);
	memcpy(out + 28, test_mac, sizeof test_mac);
	assert_true(s->sname_len <= 64 && s->file_len <= 128);
	if (s->sname_len > 0)
		memcpy(out + 44, s->sname, s->sname_len);
	if (s->file_len > 0)
		memcpy(out + 108, s->file, s->file_len);
	if (!s->no_cookie) {
		put32(out + 236, DHCP_COOKIE);
		len = 240;
		if (s->opts_len > 0)
			memcpy(out + 240, s->opts, s->opts_len);
		len += s->opts_len;
	}
	return s->cut != 0 ? s->cut : len;
}

/* An exact-size heap copy; the caller frees it. */
static uint8_t *
heap_copy(const uint8_t *bytes, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);

	assert_non_null(buf);
	if (len > 0)
		memcpy(buf, bytes, len);
	return buf;
}

/* Parse from an exact-size heap copy. */
static int
parse_exact(const uint8_t *bytes, size_t len, struct dhcp_message *m, const char **why)
{
	uint8_t *buf = heap_copy(bytes, len);
	int rc = dhcp_parse(buf, len, m, why);

	free(buf);
	return rc;
}

static int
parse_spec(const struct msg_spec *s, struct dhcp_message *m, const char **why)
{
	uint8_t raw[2048];
	size_t len = msg_make(s, raw, sizeof raw);

	return parse_exact(raw, len, m, why);
}

struct opt_expect {
	uint8_t code;                   /* 0 ends the list */
	const uint8_t *val;             /* NULL: must be absent */
	size_t len;
};

struct parse_case {
	const char *what;
	struct msg_spec msg;
	int rc;
	const char *why;
	enum dhcp_type type;
	uint8_t overload;
	bool cookie;
	const char *sname, *file;
	struct opt_expect opts[7];
};

#define REQ .op = 1, .htype = 1, .hlen = 6
#define EDK2_OPTS \
	"\x35\x01\x01" \
	"\x39\x02\x05\xc0" \
	"\x37\x23\x01\x02\x03\x04\x05\x06\x0c\x0d\x0f\x11\x12\x16\x17\x1c\x28\x29" \
	"\x2a\x2b\x32\x33\x36\x3a\x3b\x3c\x42\x43\x61\x80\x81\x82\x83\x84\x85\x86\x87" \
	"\x61\x11\x00\x4c\x4c\x45\x44\x00\x44\x10\x80\x36\x53\xb1\xc0\x4f\x39\x34\x32" \
	"\x5e\x03\x01\x03\x00" \
	"\x5d\x02\x00\x07" \
	"\x3c\x20" "PXEClient:Arch:00007:UNDI:003000" \
	"\xff"
#define IPXE_OPTS \
	"\x35\x01\x01" \
	"\x39\x02\x05\xc0" \
	"\x5d\x02\x00\x00" \
	"\x5e\x03\x01\x02\x01" \
	"\x3c\x20" "PXEClient:Arch:00000:UNDI:002001" \
	"\x4d\x04" "iPXE" \
	"\x37\x17\x01\x03\x06\x07\x0c\x0f\x11\x1a\x2b\x3c\x42\x43\x77\x79\x80\x81\x82" \
	"\x83\x84\x85\x86\x87\xaf" \
	"\xaf\x12\xb1\x05\x01\x80\x86\x10\x0e\xeb\x03\x01\x00\x00\x13\x01\x01\x15\x01\x01" \
	"\x3d\x07\x01" MAC \
	"\xff"
#define DHCLIENT_OPTS \
	"\x35\x01\x03" \
	"\x3d\x07\x01" MAC \
	"\x32\x04\xc0\xa8\x01\x64" \
	"\x36\x04\xc0\xa8\x01\x01" \
	"\x0c\x05" "host1" \
	"\x37\x0d\x01\x1c\x02\x03\x0f\x06\x77\x0c\x2c\x2f\x1a\x79\x2a" \
	"\xff"
#define RELAY_82 "\x01\x06" "eth0/1" "\x02\x08\x00\x11\x22\x33\x44\x55\x66\x77"
#define RELAYED_OPTS \
	"\x35\x01\x03" \
	"\x32\x04\x0a\x01\x02\x64" \
	"\x36\x04\x0a\x00\x00\x01" \
	"\x52\x12" RELAY_82 \
	"\xff"

static const struct parse_case parse_cases[] = {
	{ "EDK2 DISCOVER", { REQ, .xid = 0x1a2b3c4d, .flags = 0x8000, .opts = P(EDK2_OPTS) },
	    0, NULL, DHCPDISCOVER, 0, true, "", "",
	    { { 57, P("\x05\xc0") }, { 93, P("\x00\x07") }, { 94, P("\x01\x03\x00") },
	      { 60, P("PXEClient:Arch:00007:UNDI:003000") },
	      { 97, P("\x00\x4c\x4c\x45\x44\x00\x44\x10\x80\x36\x53\xb1\xc0\x4f\x39\x34\x32") },
	      { 43, NULL, 0 } } },
	{ "iPXE DISCOVER", { REQ, .xid = 0x0badf00d, .opts = P(IPXE_OPTS) },
	    0, NULL, DHCPDISCOVER, 0, true, "", "",
	    { { 77, P("iPXE") }, { 61, P("\x01" MAC) }, { 93, P("\x00\x00") },
	      { 175, P("\xb1\x05\x01\x80\x86\x10\x0e\xeb\x03\x01\x00\x00\x13\x01\x01\x15\x01\x01") },
	      { 60, P("PXEClient:Arch:00000:UNDI:002001") } } },
	{ "dhclient REQUEST (SELECTING)", { REQ, .xid = 0x11223344, .opts = P(DHCLIENT_OPTS) },
	    0, NULL, DHCPREQUEST, 0, true, "", "",
	    { { 50, P("\xc0\xa8\x01\x64") }, { 54, P("\xc0\xa8\x01\x01") }, { 12, P("host1") },
	      { 61, P("\x01" MAC) } } },
	{ "relayed REQUEST with 82", { REQ, .hops = 1, .xid = 7, .giaddr = 0x0a010201,
	    .opts = P(RELAYED_OPTS) }, 0, NULL, DHCPREQUEST, 0, true, "", "",
	    { { 82, P(RELAY_82) }, { 50, P("\x0a\x01\x02\x64") } } },
	{ "BOOTP request, no cookie", { REQ, .xid = 9, .sname = P("bootsrv"),
	    .file = P("pxelinux.0"), .no_cookie = true, .cut = 300 },
	    0, NULL, DHCP_NONE, 0, false, "bootsrv", "pxelinux.0", { { 53, NULL, 0 } } },
	{ "BOOTP, header only (236)", { REQ, .file = P("boot"), .no_cookie = true },
	    0, NULL, DHCP_NONE, 0, false, "", "boot", { { 53, NULL, 0 } } },
	{ "cut cookie (239) is BOOTP", { REQ, .opts = P("\x35\x01\x01"), .cut = 239 },
	    0, NULL, DHCP_NONE, 0, false, "", "", { { 53, NULL, 0 } } },
	{ "cookie, no options (240)", { REQ }, 0, NULL, DHCP_NONE, 0, true, "", "",
	    { { 53, NULL, 0 } } },
	{ "sname/file fill their fields", { REQ,
	    .sname = P("0123456789012345678901234567890123456789012345678901234567890123"),
	    .file = P("0123456789012345678901234567890123456789012345678901234567890123"
		      "0123456789012345678901234567890123456789012345678901234567890123"),
	    .opts = P("\x35\x01\x01\xff") }, 0, NULL, DHCPDISCOVER, 0, true,
	    "0123456789012345678901234567890123456789012345678901234567890123",
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "0123456789012345678901234567890123456789012345678901234567890123", { { 0 } } },
	{ "overload 1: options in file", { REQ, .sname = P("srv"),
	    .file = P("\x0f\x07" "example" "\xff"), .opts = P("\x35\x01\x01\x34\x01\x01\xff") },
	    0, NULL, DHCPDISCOVER, 1, true, "srv", "", { { 15, P("example") },
	    { 52, P("\x01") } } },
	{ "overload 2: options in sname", { .op = 2, .htype = 1, .hlen = 6,
	    .sname = P("\x0c\x03" "abc" "\xff"), .file = P("boot.efi"),
	    .opts = P("\x35\x01\x02\x34\x01\x02\xff") },
	    0, NULL, DHCPOFFER, 2, true, "", "boot.efi", { { 12, P("abc") } } },
	{ "overload 3: main, file, sname concatenated in that order", { .op = 2, .htype = 1,
	    .hlen = 6, .sname = P("\x4d\x02" "ef" "\xff"), .file = P("\x4d\x02" "cd" "\xff"),
	    .opts = P("\x35\x01\x05\x34\x01\x03\x4d\x02" "ab" "\xff") },
	    0, NULL, DHCPACK, 3, true, "", "", { { 77, P("abcdef") } } },
	{ "overload 3: pads, no end in file", { REQ, .file = P("\x00\x00\x0c\x01" "x"),
	    .sname = P("\x0f\x01" "y"), .opts = P("\x35\x01\x01\x34\x01\x03") },
	    0, NULL, DHCPDISCOVER, 3, true, "", "", { { 12, P("x") }, { 15, P("y") } } },
	{ "52 in the file area is ignored", { REQ, .sname = P("keep"),
	    .file = P("\x34\x01\x02\x0c\x01" "h" "\xff"),
	    .opts = P("\x35\x01\x01\x34\x01\x01\xff") },
	    0, NULL, DHCPDISCOVER, 1, true, "keep", "", { { 12, P("h") }, { 52, P("\x01") } } },
	{ "RFC 3396 split option concatenated", { REQ,
	    .opts = P("\x35\x01\x01\x0c\x03" "abc" "\x3c\x01" "X" "\x0c\x03" "def" "\xff") },
	    0, NULL, DHCPDISCOVER, 0, true, "", "", { { 12, P("abcdef") }, { 60, P("X") } } },
	{ "no end at the end of the area", { REQ, .opts = P("\x35\x01\x01\x0c\x01" "h") },
	    0, NULL, DHCPDISCOVER, 0, true, "", "", { { 12, P("h") } } },
	{ "bytes after end ignored", { REQ, .opts = P("\x35\x01\x01\xff\x0c\x09" "garbage") },
	    0, NULL, DHCPDISCOVER, 0, true, "", "", { { 12, NULL, 0 } } },
	{ "pads and an empty option", { REQ, .opts = P("\x00\x00\x35\x01\x01\x00\x50\x00\xff") },
	    0, NULL, DHCPDISCOVER, 0, true, "", "", { { 80, P("") } } },
	{ "hlen 16 accepted", { .op = 1, .htype = 32, .hlen = 16, .opts = P("\x35\x01\x08") },
	    0, NULL, DHCPINFORM, 0, true, "", "", { { 0 } } },
	/* malformed */
	{ "235 bytes", { REQ, .no_cookie = true, .cut = 235 }, -EBADMSG,
	    "shorter than the BOOTP header" },
	{ "op 3", { .op = 3, .htype = 1, .hlen = 6, .opts = P("\x35\x01\x01\xff") }, -EPROTO,
	    "not a BOOTREQUEST or BOOTREPLY" },
	{ "op 0", { .op = 0, .htype = 1, .hlen = 6 }, -EPROTO, "not a BOOTREQUEST or BOOTREPLY" },
	{ "hlen 17", { .op = 1, .htype = 1, .hlen = 17, .opts = P("\x35\x01\x01\xff") },
	    -EPROTO, "hardware address longer than 16 bytes" },
	{ "option length past the end", { REQ, .opts = P("\x35\x01\x01\x0c\x05" "ab") },
	    -EBADMSG, "truncated option" },
	{ "option without its length byte", { REQ, .opts = P("\x35\x01\x01\x0c") },
	    -EBADMSG, "truncated option" },
	{ "overload value 4", { REQ, .opts = P("\x35\x01\x01\x34\x01\x04\xff") }, -EBADMSG,
	    "bad overload option" },
	{ "overload value 0", { REQ, .opts = P("\x35\x01\x01\x34\x01\x00\xff") }, -EBADMSG,
	    "bad overload option" },
	{ "overload length 2", { REQ, .opts = P("\x35\x01\x01\x34\x02\x01\x01\xff") },
	    -EBADMSG, "bad overload option" },
	{ "overload twice", { REQ, .opts = P("\x35\x01\x01\x34\x01\x01\x34\x01\x01\xff") },
	    -EBADMSG, "bad overload option" },
	{ "overload 1, truncated file area", { REQ, .file = P("\x0f\xff" "x"),
	    .opts = P("\x35\x01\x01\x34\x01\x01\xff") }, -EBADMSG, "truncated option" },
	{ "overload 2, truncated sname area", { REQ, .sname = P("\x00\x0c\x3f"),
	    .opts = P("\x35\x01\x01\x34\x01\x02\xff") }, -EBADMSG, "truncated option" },
	{ "message type length 2", { REQ, .opts = P("\x35\x02\x01\x01\xff") }, -EBADMSG,
	    "bad message type" },
	{ "message type 0", { REQ, .opts = P("\x35\x01\x00\xff") }, -EBADMSG,
	    "bad message type" },
	{ "message type 9", { REQ, .opts = P("\x35\x01\x09\xff") }, -EBADMSG,
	    "bad message type" },
	{ "message type twice", { REQ, .opts = P("\x35\x01\x01\x35\x01\x01\xff") }, -EBADMSG,
	    "bad message type" },
};

static void
check_case(const struct parse_case *c, const struct dhcp_message *m)
{
	assert_int_equal(m->type, c->type);
	assert_int_equal(m->overload, c->overload);
	assert_int_equal(m->has_cookie, c->cookie);
	assert_string_equal(m->sname, c->sname);
	assert_string_equal(m->file, c->file);
	assert_int_equal(m->op, c->msg.op);
	assert_int_equal(m->hlen, c->msg.hlen);
	assert_int_equal(m->hops, c->msg.hops);
	assert_int_equal(m->xid, c->msg.xid);
	assert_int_equal(m->flags, c->msg.flags);
	assert_int_equal(ntohl(m->giaddr.s_addr), c->msg.giaddr);
	assert_memory_equal(m->chaddr, test_mac, sizeof test_mac);
	for (size_t i = 0; i < 7 && c->opts[i].code != 0; i++) {
		const struct opt_expect *e = &c->opts[i];
		size_t len;
		const uint8_t *v = dhcp_option(m, e->code, &len);

		print_message("  option %u\n", e->code);
		if (e->val == NULL) {
			assert_null(v);
			continue;
		}
		assert_non_null(v);
		assert_int_equal(len, e->len);
		if (len > 0)
			assert_memory_equal(v, e->val, len);
	}
}

static void
test_parse_table(void **state)
{
	struct dhcp_message *m = malloc(sizeof *m);

	(void)state;
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		const char *why = "unset";

		print_message("case: %s\n", c->what);
		int rc = parse_spec(&c->msg, m, &why);
		assert_int_equal(rc, c->rc);
		if (rc != 0) {
			assert_non_null(why);
			assert_string_equal(why, c->why);
			continue;
		}
		assert_null(why);
		check_case(c, m);
	}
	free(m);
}

static void
test_every_message_type(void **state)
{
	struct dhcp_message m;
	const char *why;

	(void)state;
	for (uint8_t t = 1; t <= 8; t++) {
		uint8_t opts[] = { 0x35, 0x01, t, 0xff };
		struct msg_spec s = { REQ, .xid = t, .opts = opts, .opts_len = sizeof opts };

		assert_int_equal(parse_spec(&s, &m, &why), 0);
		assert_int_equal(m.type, t);
		assert_int_equal(m.xid, t);
	}
}

static void
test_edk2_fields(void **state)
{
	struct msg_spec s = { REQ, .xid = 0x1a2b3c4d, .flags = 0x8000,
	    .ciaddr = 0xc0a80105, .opts = P(EDK2_OPTS) };
	struct dhcp_message m;
	const char *why;
	uint16_t u16;
	uint8_t u8;
	uint32_t u32;
	struct in_addr a;
	size_t len;

	(void)state;
	assert_int_equal(parse_spec(&s, &m, &why), 0);
	assert_int_equal(m.htype, 1);
	assert_int_equal(ntohl(m.ciaddr.s_addr), 0xc0a80105);
	assert_true(dhcp_option_u16(&m, DHCP_OPT_MAX_SIZE, &u16));
	assert_int_equal(u16, 1472);
	assert_true(dhcp_option_u16(&m, DHCP_OPT_CLIENT_ARCH, &u16));
	assert_int_equal(u16, 7);
	assert_true(dhcp_option_u8(&m, DHCP_OPT_MESSAGE_TYPE, &u8));
	assert_int_equal(u8, 1);
	/* wrong size or absent */
	assert_false(dhcp_option_u8(&m, DHCP_OPT_MAX_SIZE, &u8));
	assert_false(dhcp_option_u32(&m, DHCP_OPT_MAX_SIZE, &u32));
	assert_false(dhcp_option_addr(&m, DHCP_OPT_SERVER_ID, &a));
	assert_false(dhcp_option_u16(&m, DHCP_OPT_CLIENT_NDI, &u16));
	assert_null(dhcp_option(&m, DHCP_OPT_VENDOR, &len));
	assert_int_equal(len, 0);
	assert_non_null(dhcp_option(&m, DHCP_OPT_PARAM_LIST, &len));
	assert_int_equal(len, 35);
}

static void
test_dhclient_addrs(void **state)
{
	struct msg_spec s = { REQ, .xid = 0x11223344, .opts = P(DHCLIENT_OPTS) };
	struct dhcp_message m;
	const char *why;
	struct in_addr a;

	(void)state;
	assert_int_equal(parse_spec(&s, &m, &why), 0);
	assert_true(dhcp_option_addr(&m, DHCP_OPT_REQUESTED_IP, &a));
	assert_int_equal(ntohl(a.s_addr), 0xc0a80164);
	assert_true(dhcp_option_addr(&m, DHCP_OPT_SERVER_ID, &a));
	assert_int_equal(ntohl(a.s_addr), 0xc0a80101);
}

/* Append code/len/value instances to a message under construction. */
static size_t
put_option(uint8_t *p, size_t at, uint8_t code, uint8_t len, uint8_t fill)
{
	p[at] = code;
	p[at + 1] = len;
	memset(p + at + 2, fill, len);
	return at + 2 + len;
}

static void
test_store_bounds(void **state)
{
	static uint8_t raw[3000];
	struct msg_spec s = { REQ, .opts = P("\x35\x01\x01") };
	struct dhcp_message *m = malloc(sizeof *m);
	const char *why;
	size_t at;

	(void)state;
	/* exactly DHCP_OPTION_STORE bytes of values: 1 + 8 * 255 + 7 */
	at = msg_make(&s, raw, sizeof raw);
	for (int i = 0; i < 8; i++)
		at = put_option(raw, at, DHCP_OPT_VENDOR, 255, (uint8_t)i);
	at = put_option(raw, at, DHCP_OPT_HOSTNAME, 7, 'h');
	raw[at++] = DHCP_OPT_END;
	assert_int_equal(parse_exact(raw, at, m, &why), 0);
	assert_int_equal(m->store_used, DHCP_OPTION_STORE);
	size_t len;
	const uint8_t *v = dhcp_option(m, DHCP_OPT_VENDOR, &len);
	assert_int_equal(len, 8 * 255);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(v[i], i / 255);
	/* one more byte: -ENOSPC */
	at = msg_make(&s, raw, sizeof raw);
	for (int i = 0; i < 8; i++)
		at = put_option(raw, at, DHCP_OPT_VENDOR, 255, (uint8_t)i);
	at = put_option(raw, at, DHCP_OPT_HOSTNAME, 8, 'h');
	raw[at++] = DHCP_OPT_END;
	assert_int_equal(parse_exact(raw, at, m, &why), -ENOSPC);
	assert_string_equal(why, "options larger than the store");
	/* many big options */
	at = msg_make(&s, raw, sizeof raw);
	for (int i = 0; i < 10; i++)
		at = put_option(raw, at, (uint8_t)(100 + i), 255, 'x');
	assert_int_equal(parse_exact(raw, at, m, &why), -ENOSPC);
	free(m);
}

static int
relay_parse_exact(const uint8_t *bytes, size_t len, struct dhcp_relay_info *r)
{
	uint8_t *buf = heap_copy(bytes, len);
	int rc = dhcp_relay_parse(buf, len, r);

	free(buf);                      /* r's pointers are not used after this */
	return rc;
}

static void
test_relay_info(void **state)
{
	struct msg_spec s = { REQ, .hops = 1, .xid = 7, .giaddr = 0x0a010201,
	    .opts = P(RELAYED_OPTS) };
	struct dhcp_message m;
	struct dhcp_relay_info r;
	const char *why;
	const uint8_t *v;
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(parse_spec(&s, &m, &why), 0);
	v = dhcp_option(&m, DHCP_OPT_RELAY_AGENT, &len);
	assert_non_null(v);
	buf = heap_copy(v, len);
	assert_int_equal(dhcp_relay_parse(buf, len, &r), 0);
	assert_int_equal(r.circuit_id_len, 6);
	assert_ptr_equal(r.circuit_id, buf + 2);
	assert_memory_equal(r.circuit_id, "eth0/1", 6);
	assert_int_equal(r.remote_id_len, 8);
	assert_memory_equal(r.remote_id, "\x00\x11\x22\x33\x44\x55\x66\x77", 8);
	assert_false(r.has_link_selection);
	free(buf);

	static const uint8_t link[] = "\x05\x04\x0a\x01\x02\x00" "\x0b\x04\x0a\x00\x00\x01";
	buf = heap_copy(link, sizeof link - 1);
	assert_int_equal(dhcp_relay_parse(buf, sizeof link - 1, &r), 0);
	assert_true(r.has_link_selection);
	assert_int_equal(ntohl(r.link_selection.s_addr), 0x0a010200);
	assert_null(r.circuit_id);
	assert_null(r.remote_id);
	free(buf);
	assert_int_equal(relay_parse_exact(P("\x01\x06" "eth0"), &r), -EBADMSG);
	assert_int_equal(relay_parse_exact(P("\x01"), &r), -EBADMSG);
	assert_int_equal(relay_parse_exact(P("\x05\x03\x0a\x01\x02"), &r), -EBADMSG);
	assert_int_equal(relay_parse_exact(P(""), &r), 0);
	assert_int_equal(relay_parse_exact(P("\x01\x00"), &r), 0);
	assert_int_equal(r.circuit_id_len, 0);
}

/* ---- builders ---- */

static void
check_padding(const uint8_t *buf, size_t end_at, size_t n)
{
	assert_int_equal(buf[end_at], DHCP_OPT_END);
	for (size_t i = end_at + 1; i < n; i++)
		assert_int_equal(buf[i], 0);
}

static void
test_reply_roundtrip(void **state)
{
	struct msg_spec s = { REQ, .xid = 0x1a2b3c4d, .flags = 0x8000, .opts = P(EDK2_OPTS) };
	struct dhcp_message req, rep;
	struct dhcp_builder b;
	struct in_addr none = { 0 }, yi = { htonl(0xc0a80164) }, si = { htonl(0xc0a80101) };
	const char *why;
	uint16_t max;
	uint32_t lease;
	struct in_addr sid;
	size_t len, n;
	const uint8_t *v;

	(void)state;
	assert_int_equal(parse_spec(&s, &req, &why), 0);
	assert_true(dhcp_option_u16(&req, DHCP_OPT_MAX_SIZE, &max));
	dhcp_reply_start(&b, &req, DHCPOFFER, max - 28u);
	assert_int_equal(b.max, 1444);
	dhcp_set_addrs(&b, none, yi, si, req.giaddr);
	dhcp_set_sname(&b, "pxed");
	dhcp_set_file(&b, "snponly.efi");
	dhcp_add_addr(&b, DHCP_OPT_SERVER_ID, si);
	dhcp_add_u32(&b, DHCP_OPT_LEASE_TIME, 3600);
	dhcp_add_option(&b, DHCP_OPT_VENDOR_CLASS, "PXEClient", 9);
	v = dhcp_option(&req, DHCP_OPT_UUID, &len);
	dhcp_add_option(&b, DHCP_OPT_UUID, v, len);
	dhcp_add_option(&b, DHCP_OPT_VENDOR, "\x06\x01\x08\xff", 4);
	size_t end_at = b.len;
	n = dhcp_finish(&b);
	assert_int_equal(n, DHCP_MIN_MESSAGE);
	check_padding(b.buf, end_at, n);
	assert_int_equal(parse_exact(b.buf, n, &rep, &why), 0);
	assert_int_equal(rep.op, DHCP_BOOTREPLY);
	assert_int_equal(rep.type, DHCPOFFER);
	assert_int_equal(rep.xid, 0x1a2b3c4d);
	assert_int_equal(rep.flags, 0x8000);
	assert_int_equal(rep.htype, 1);
	assert_int_equal(rep.hlen, 6);
	assert_int_equal(rep.hops, 0);
	assert_int_equal(rep.secs, 0);
	assert_memory_equal(rep.chaddr, req.chaddr, 16);
	assert_int_equal(rep.ciaddr.s_addr, 0);
	assert_int_equal(rep.yiaddr.s_addr, yi.s_addr);
	assert_int_equal(rep.siaddr.s_addr, si.s_addr);
	assert_string_equal(rep.sname, "pxed");
	assert_string_equal(rep.file, "snponly.efi");
	assert_true(dhcp_option_addr(&rep, DHCP_OPT_SERVER_ID, &sid));
	assert_int_equal(sid.s_addr, si.s_addr);
	assert_true(dhcp_option_u32(&rep, DHCP_OPT_LEASE_TIME, &lease));
	assert_int_equal(lease, 3600);
	v = dhcp_option(&rep, DHCP_OPT_UUID, &len);
	assert_int_equal(len, 17);
	assert_memory_equal(v, "\x00\x4c\x4c\x45\x44", 5);
	v = dhcp_option(&rep, DHCP_OPT_VENDOR_CLASS, &len);
	assert_int_equal(len, 9);
	assert_memory_equal(v, "PXEClient", 9);
	/* the option area starts with 53 */
	assert_memory_equal(b.buf + 236, "\x63\x82\x53\x63\x35\x01\x02", 7);
}

static void
test_reply_relayed(void **state)
{
	struct msg_spec s = { REQ, .hops = 1, .xid = 7, .giaddr = 0x0a010201,
	    .opts = P(RELAYED_OPTS) };
	struct dhcp_message req, rep;
	struct dhcp_builder b;
	const char *why;
	const uint8_t *v;
	size_t len, n;

	(void)state;
	assert_int_equal(parse_spec(&s, &req, &why), 0);
	dhcp_reply_start(&b, &req, DHCPACK, 0);
	v = dhcp_option(&req, DHCP_OPT_RELAY_AGENT, &len);
	dhcp_add_option(&b, DHCP_OPT_RELAY_AGENT, v, len);
	n = dhcp_finish(&b);
	assert_int_equal(n, 300);
	assert_int_equal(parse_exact(b.buf, n, &rep, &why), 0);
	assert_int_equal(rep.type, DHCPACK);
	assert_int_equal(ntohl(rep.giaddr.s_addr), 0x0a010201);
	assert_int_equal(rep.hops, 0);
	v = dhcp_option(&rep, DHCP_OPT_RELAY_AGENT, &len);
	assert_int_equal(len, sizeof RELAY_82 - 1);
	assert_memory_equal(v, RELAY_82, len);
}

static void
test_reply_bootp(void **state)
{
	struct msg_spec s = { REQ, .xid = 9, .no_cookie = true, .cut = 300 };
	struct dhcp_message req, rep;
	struct dhcp_builder b;
	const char *why;
	size_t n;

	(void)state;
	assert_int_equal(parse_spec(&s, &req, &why), 0);
	dhcp_reply_start(&b, &req, DHCP_NONE, 548);
	dhcp_set_file(&b, "pxelinux.0");
	n = dhcp_finish(&b);
	assert_int_equal(n, 300);
	assert_int_equal(parse_exact(b.buf, n, &rep, &why), 0);
	assert_int_equal(rep.type, DHCP_NONE);
	assert_true(rep.has_cookie);
	assert_false(rep.opt_present[DHCP_OPT_MESSAGE_TYPE]);
	assert_string_equal(rep.file, "pxelinux.0");
}

static void
test_split_600(void **state)
{
	struct dhcp_message req, rep;
	struct dhcp_builder b;
	uint8_t data[600];
	const char *why;
	const uint8_t *v;
	size_t len, n;

	(void)state;
	memset(&req, 0, sizeof req);
	req.op = 1;
	req.htype = 1;
	req.hlen = 6;
	req.xid = 42;
	memcpy(req.chaddr, test_mac, 6);
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	dhcp_reply_start(&b, &req, DHCPACK, 1444);
	size_t at = b.len;
	dhcp_add_option(&b, DHCP_OPT_VENDOR, data, sizeof data);
	assert_false(b.overflow);
	assert_int_equal(b.len, at + 600 + 6);
	/* three instances: 255 + 255 + 90 */
	assert_int_equal(b.buf[at], 43);
	assert_int_equal(b.buf[at + 1], 255);
	assert_int_equal(b.buf[at + 257], 43);
	assert_int_equal(b.buf[at + 258], 255);
	assert_int_equal(b.buf[at + 514], 43);
	assert_int_equal(b.buf[at + 515], 90);
	n = dhcp_finish(&b);
	assert_int_equal(n, at + 606 + 1);
	assert_int_equal(parse_exact(b.buf, n, &rep, &why), 0);
	v = dhcp_option(&rep, DHCP_OPT_VENDOR, &len);
	assert_int_equal(len, 600);
	assert_memory_equal(v, data, 600);
	/* exactly 255 is one instance, 256 two */
	dhcp_reply_start(&b, &req, DHCPACK, 1444);
	at = b.len;
	dhcp_add_option(&b, 200, data, 255);
	assert_int_equal(b.len, at + 257);
	dhcp_add_option(&b, 201, data, 256);
	assert_int_equal(b.len, at + 257 + 260);
	dhcp_add_option(&b, 202, NULL, 0);
	assert_int_equal(b.len, at + 257 + 260 + 2);
}

static void
test_builder_overflow(void **state)
{
	struct dhcp_message req, rep;
	struct dhcp_builder b;
	uint8_t data[400] = { 0 };
	const char *why;
	size_t n;

	(void)state;
	memset(&req, 0, sizeof req);
	req.op = 1;
	req.hlen = 6;
	dhcp_reply_start(&b, &req, DHCPOFFER, 100);
	assert_int_equal(b.max, 548);
	dhcp_reply_start(&b, &req, DHCPOFFER, 5000);
	assert_int_equal(b.max, DHCP_PACKET_MAX);
	/* 243 used; 548 - 243 - 1 = 304 for options: 300-byte value + 4 */
	dhcp_reply_start(&b, &req, DHCPOFFER, 548);
	assert_int_equal(b.len, 243);
	dhcp_add_option(&b, 224, data, 300);
	assert_false(b.overflow);
	n = dhcp_finish(&b);
	assert_int_equal(n, 548);
	assert_int_equal(b.buf[547], DHCP_OPT_END);
	assert_int_equal(parse_exact(b.buf, n, &rep, &why), 0);
	/* 302 bytes do not fit: nothing is written, finish returns 0 */
	dhcp_reply_start(&b, &req, DHCPOFFER, 548);
	dhcp_add_option(&b, 224, data, 302);
	assert_true(b.overflow);
	assert_int_equal(b.len, 243);
	dhcp_add_u8(&b, 1, 1);
	assert_int_equal(b.len, 243);
	assert_int_equal(dhcp_finish(&b), 0);
	/* pad and end are not options */
	dhcp_reply_start(&b, &req, DHCPOFFER, 548);
	dhcp_add_option(&b, DHCP_OPT_END, data, 1);
	assert_int_equal(dhcp_finish(&b), 0);
	/* a long reply is not padded further */
	dhcp_reply_start(&b, &req, DHCPOFFER, 1444);
	dhcp_add_option(&b, 224, data, 400);
	assert_int_equal(dhcp_finish(&b), 243 + 400 + 4 + 1);   /* 255 + 145 */
}

static void
test_request_builder(void **state)
{
	static const char long_name[] =
	    "0123456789012345678901234567890123456789012345678901234567890123456789";
	struct dhcp_builder b;
	struct dhcp_message m;
	struct in_addr ci = { htonl(0x0a000005) }, none = { 0 };
	const char *why;
	uint16_t max;
	size_t n;

	(void)state;
	dhcp_request_start(&b, DHCPREQUEST, 0xdeadbeef, test_mac, 6);
	dhcp_set_addrs(&b, ci, none, none, none);
	dhcp_set_flags(&b, 0x8000);
	dhcp_set_sname(&b, long_name);
	dhcp_set_file(&b, "x");
	dhcp_set_file(&b, "bootx64.efi");
	dhcp_add_u16(&b, DHCP_OPT_MAX_SIZE, 1472);
	n = dhcp_finish(&b);
	assert_int_equal(n, 300);
	assert_int_equal(parse_exact(b.buf, n, &m, &why), 0);
	assert_int_equal(m.op, DHCP_BOOTREQUEST);
	assert_int_equal(m.type, DHCPREQUEST);
	assert_int_equal(m.xid, 0xdeadbeef);
	assert_int_equal(m.htype, 1);
	assert_int_equal(m.hlen, 6);
	assert_int_equal(m.flags, 0x8000);
	assert_int_equal(ntohl(m.ciaddr.s_addr), 0x0a000005);
	assert_memory_equal(m.chaddr, test_mac, 6);
	assert_int_equal(strlen(m.sname), 63);
	assert_memory_equal(m.sname, long_name, 63);
	assert_string_equal(m.file, "bootx64.efi");
	assert_true(dhcp_option_u16(&m, DHCP_OPT_MAX_SIZE, &max));
	assert_int_equal(max, 1472);
	/* over-long hardware address is cut to 16 */
	uint8_t mac20[20] = { 1, 2, 3 };
	dhcp_request_start(&b, DHCPDISCOVER, 1, mac20, sizeof mac20);
	n = dhcp_finish(&b);
	assert_int_equal(parse_exact(b.buf, n, &m, &why), 0);
	assert_int_equal(m.hlen, 16);
}

/* ---- PXE option 43 ---- */

#define PXELINUX_43 "\x09\x0f\x80\x00\x0c" "Network boot" "\x0a\x07\x00" "Prompt" \
	"\x06\x01\x02\x08\x03\x80\x00\x00\x47\x04\x80\x00\x00\x00\xff"

static void
pxelinux_vendor(struct pxe_vendor *v)
{
	memset(v, 0, sizeof *v);
	v->menu_count = 1;
	v->menu[0].type = 0x8000;
	memcpy(v->menu[0].text, "Network boot", 13);
	v->prompt_timeout = 0;
	memcpy(v->prompt, "Prompt", 7);
	v->discovery_control = 0x02;
	v->server_count = 1;
	v->servers[0].type = 0x8000;
	v->servers[0].count = 0;
	v->has_boot_item = true;
	v->item_type = 0x8000;
	v->item_layer = 0;
}

static int
vendor_parse_exact(const uint8_t *bytes, size_t len, struct pxe_vendor *v)
{
	uint8_t *buf = heap_copy(bytes, len);
	int rc = pxe_vendor_parse(buf, len, v);

	free(buf);
	return rc;
}

static void
test_pxe_pxelinux_example(void **state)
{
	struct pxe_vendor v, back;
	uint8_t out[256];
	size_t n;

	(void)state;
	pxelinux_vendor(&v);
	n = pxe_vendor_build(&v, out, sizeof out);
	assert_int_equal(n, sizeof PXELINUX_43 - 1);
	assert_memory_equal(out, PXELINUX_43, n);
	/* every smaller buffer: 0 */
	for (size_t size = 0; size < n; size++)
		assert_int_equal(pxe_vendor_build(&v, out, size), 0);
	assert_int_equal(vendor_parse_exact(P(PXELINUX_43), &back), 0);
	assert_int_equal(back.menu_count, 1);
	assert_int_equal(back.menu[0].type, 0x8000);
	assert_string_equal(back.menu[0].text, "Network boot");
	assert_int_equal(back.prompt_timeout, 0);
	assert_string_equal(back.prompt, "Prompt");
	assert_int_equal(back.discovery_control, 2);
	assert_int_equal(back.server_count, 1);
	assert_int_equal(back.servers[0].type, 0x8000);
	assert_int_equal(back.servers[0].count, 0);
	assert_true(back.has_boot_item);
	assert_int_equal(back.item_type, 0x8000);
	assert_int_equal(back.item_layer, 0);
	assert_int_equal(back.mtftp_ip.s_addr, 0);
	/* rebuilding the parsed struct gives the same bytes */
	n = pxe_vendor_build(&back, out, sizeof out);
	assert_memory_equal(out, PXELINUX_43, sizeof PXELINUX_43 - 1);
}

static void
test_pxe_roundtrip_full(void **state)
{
	struct pxe_vendor v, back;
	uint8_t out[256];
	size_t n;

	(void)state;
	memset(&v, 0, sizeof v);
	v.mtftp_ip.s_addr = htonl(0xe0010203);
	v.mtftp_cport = 1758;
	v.mtftp_sport = 1759;
	v.mtftp_timeout = 2;
	v.mtftp_delay = 3;
	v.discovery_control = 0x07;
	v.server_count = 2;
	v.servers[0].type = 0x8000;
	v.servers[0].count = 2;
	v.servers[0].addr[0].s_addr = htonl(0x0a000001);
	v.servers[0].addr[1].s_addr = htonl(0x0a000002);
	v.servers[1].type = 0;
	v.menu_count = 2;
	v.menu[0].type = 0x8000;
	memcpy(v.menu[0].text, "Install", 8);
	v.menu[1].type = 0;
	memcpy(v.menu[1].text, "Local disk", 11);
	v.prompt_timeout = 10;
	memcpy(v.prompt, "Press F8", 9);
	n = pxe_vendor_build(&v, out, sizeof out);
	assert_true(n > 0);
	assert_memory_equal(out, "\x01\x04\xe0\x01\x02\x03\x02\x02\x06\xde\x03\x02\x06\xdf"
	    "\x04\x01\x02\x05\x01\x03\x09", 21);
	assert_int_equal(out[n - 1], 0xff);
	assert_int_equal(vendor_parse_exact(out, n, &back), 0);
	assert_int_equal(back.mtftp_ip.s_addr, v.mtftp_ip.s_addr);
	assert_int_equal(back.mtftp_cport, 1758);
	assert_int_equal(back.mtftp_sport, 1759);
	assert_int_equal(back.mtftp_timeout, 2);
	assert_int_equal(back.mtftp_delay, 3);
	assert_int_equal(back.discovery_control, 7);
	assert_int_equal(back.server_count, 2);
	assert_int_equal(back.servers[0].count, 2);
	assert_int_equal(ntohl(back.servers[0].addr[1].s_addr), 0x0a000002);
	assert_int_equal(back.servers[1].type, 0);
	assert_int_equal(back.menu_count, 2);
	assert_string_equal(back.menu[1].text, "Local disk");
	assert_int_equal(back.prompt_timeout, 10);
	assert_string_equal(back.prompt, "Press F8");
	assert_false(back.has_boot_item);
	/* "just boot the file": 06 01 08 ff */
	memset(&v, 0, sizeof v);
	v.discovery_control = 0x08;
	n = pxe_vendor_build(&v, out, sizeof out);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "\x06\x01\x08\xff", 4);
	/* menu without prompt text still sends 10 with the timeout */
	memset(&v, 0, sizeof v);
	v.menu_count = 1;
	v.prompt_timeout = 255;
	n = pxe_vendor_build(&v, out, sizeof out);
	assert_int_equal(n, 9);
	assert_memory_equal(out, "\x09\x03\x00\x00\x00\x0a\x01\xff\xff", 9);
}

static void
test_pxe_build_limits(void **state)
{
	struct pxe_vendor v;
	uint8_t out[1024];

	(void)state;
	memset(&v, 0, sizeof v);
	v.menu_count = PXE_MENU_MAX;
	for (int i = 0; i < PXE_MENU_MAX; i++)
		memset(v.menu[i].text, 'a', sizeof v.menu[i].text);   /* no NUL: cut to 63 */
	assert_int_equal(pxe_vendor_build(&v, out, sizeof out), 0);
	v.menu_count = 3;
	size_t n = pxe_vendor_build(&v, out, sizeof out);
	assert_int_equal(out[1], 3 * (3 + 63));
	assert_true(n > 0);
	memset(&v, 0, sizeof v);
	v.server_count = PXE_MENU_MAX;
	for (int i = 0; i < PXE_MENU_MAX; i++)
		v.servers[i].count = PXE_SERVERS_MAX;
	assert_int_equal(pxe_vendor_build(&v, out, sizeof out), 0);
}

static void
test_pxe_parse_client(void **state)
{
	struct pxe_vendor v;

	(void)state;
	/* a 4011 request from a client */
	assert_int_equal(vendor_parse_exact(P("\x47\x04\x80\x00\x00\x01\xff"), &v), 0);
	assert_true(v.has_boot_item);
	assert_int_equal(v.item_type, 0x8000);
	assert_int_equal(v.item_layer, 1);
	/* no end, pads, unknown sub-option skipped */
	assert_int_equal(vendor_parse_exact(P("\x00\x0b\x08\x01\x02\x03\x04\x05\x06\x07\x08"
	    "\x47\x04\x00\x03\x80\x00"), &v), 0);
	assert_int_equal(v.item_type, 3);
	assert_int_equal(v.item_layer, 0x8000);
	assert_int_equal(vendor_parse_exact(P(""), &v), 0);
	assert_false(v.has_boot_item);
	/* malformed */
	assert_int_equal(vendor_parse_exact(P("\x47\x04\x80\x00"), &v), -EBADMSG);
	assert_int_equal(vendor_parse_exact(P("\x47"), &v), -EBADMSG);
	assert_int_equal(vendor_parse_exact(P("\x47\x03\x80\x00\x00\xff"), &v), -EBADMSG);
	assert_int_equal(vendor_parse_exact(P("\x06\x02\x01\x02\xff"), &v), -EBADMSG);
	assert_int_equal(vendor_parse_exact(P("\x09\x04\x80\x00\x05" "a\xff"), &v), -EBADMSG);
	assert_int_equal(vendor_parse_exact(P("\x08\x04\x80\x00\x01\x0a\xff"), &v), -EBADMSG);
	assert_int_equal(vendor_parse_exact(P("\x0a\x00\xff"), &v), -EBADMSG);
	/* long menu text is cut to 63 */
	uint8_t menu[2 + 3 + 100];
	menu[0] = 9;
	menu[1] = 103;
	menu[2] = 0;
	menu[3] = 1;
	menu[4] = 100;
	memset(menu + 5, 'm', 100);
	assert_int_equal(vendor_parse_exact(menu, sizeof menu, &v), 0);
	assert_int_equal(strlen(v.menu[0].text), 63);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_every_message_type),
		cmocka_unit_test(test_edk2_fields),
		cmocka_unit_test(test_dhclient_addrs),
		cmocka_unit_test(test_store_bounds),
		cmocka_unit_test(test_relay_info),
		cmocka_unit_test(test_reply_roundtrip),
		cmocka_unit_test(test_reply_relayed),
		cmocka_unit_test(test_reply_bootp),
		cmocka_unit_test(test_split_600),
		cmocka_unit_test(test_builder_overflow),
		cmocka_unit_test(test_request_builder),
		cmocka_unit_test(test_pxe_pxelinux_example),
		cmocka_unit_test(test_pxe_roundtrip_full),
		cmocka_unit_test(test_pxe_build_limits),
		cmocka_unit_test(test_pxe_parse_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
