/* Reply assembly: what goes into OFFER/ACK/NAK for each kind of client. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "dhcp/internal.h"
#include "core/util.h"
#include "dhcp/reply.h"

static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

static struct in_addr
ip(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return a;
}

/* A request from a client: optional vendor class, arch, PRL, 57, 61, 82. */
static void
make_request(struct dhcp_message *m, enum dhcp_type type, const char *vendor, int arch,
    const uint8_t *prl, size_t prl_len, uint16_t max57, bool relayed)
{
	struct dhcp_builder b;
	const char *why;

	dhcp_request_start(&b, type, 0x11223344, mac, 6);
	if (vendor != NULL)
		dhcp_add_option(&b, DHCP_OPT_VENDOR_CLASS, vendor, strlen(vendor));
	if (arch >= 0)
		dhcp_add_u16(&b, DHCP_OPT_CLIENT_ARCH, (uint16_t)arch);
	if (prl != NULL)
		dhcp_add_option(&b, DHCP_OPT_PARAM_LIST, prl, prl_len);
	if (max57 != 0)
		dhcp_add_u16(&b, DHCP_OPT_MAX_SIZE, max57);
	dhcp_add_option(&b, DHCP_OPT_CLIENT_ID, "\x01RSxx!V", 7);
	if (relayed) {
		dhcp_set_addrs(&b, ip("0.0.0.0"), ip("0.0.0.0"), ip("0.0.0.0"), ip("198.51.100.1"));
		dhcp_add_option(&b, DHCP_OPT_RELAY_AGENT, "\x01\x03" "eth\x02\x02" "r1", 9);
	}
	size_t n = dhcp_finish(&b);
	assert_true(n > 0);
	assert_int_equal(dhcp_parse(b.buf, n, m, &why), 0);
}

/* Position of an option's first instance in the main option area, -1 if
 * absent (walks the raw bytes: the parser stores values by code). */
static int
wire_pos(const uint8_t *buf, size_t n, uint8_t code)
{
	for (size_t i = 240; i + 1 < n;) {
		if (buf[i] == 0) {
			i++;
			continue;
		}
		if (buf[i] == 255)
			return -1;
		if (buf[i] == code)
			return (int)i;
		i += 2u + buf[i + 1];
	}
	return -1;
}

static void
reparse(const struct dhcp_builder *b, size_t n, struct dhcp_message *out)
{
	const char *why;

	assert_true(n >= DHCP_MIN_MESSAGE);
	assert_int_equal(dhcp_parse(b->buf, n, out, &why), 0);
}

static void
base_params(struct reply_params *rp, enum dhcp_type type, struct boot_decision *d)
{
	memset(rp, 0, sizeof *rp);
	rp->type = type;
	rp->server_id = ip("192.0.2.1");
	rp->next_server = ip("192.0.2.1");
	rp->boot = d;
	rp->pxe_direct = true;
}

/* A reply is at most 3 times its request (never below 548 bytes), the
 * client's option 57 notwithstanding: a forged request cannot make pxed
 * an amplifier. */
static void
test_reply_size_bounded(void **state)
{
	static struct dhcp_builder b;
	static struct dhcp_message m;
	const uint8_t client[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	const char *why;
	uint8_t *copy;
	size_t n;

	(void)state;
	dhcp_request_start(&b, DHCPINFORM, 1, client, sizeof client);
	dhcp_add_u16(&b, DHCP_OPT_MAX_SIZE, 1500);
	n = dhcp_finish(&b);
	copy = malloc(n);
	assert_non_null(copy);
	memcpy(copy, b.buf, n);
	assert_int_equal(dhcp_parse(copy, n, &m, &why), 0);
	assert_int_equal(m.wire_len, n);
	assert_true(n * 3 < 1472);
	assert_int_equal(dhcp_client_max_size(&m), MAX(3 * n, (size_t)548));
	m.wire_len = 100;               /* the floor: what every client takes */
	assert_int_equal(dhcp_client_max_size(&m), 548);
	m.wire_len = 1000;              /* a large request: its 57 rules */
	assert_int_equal(dhcp_client_max_size(&m), 1472);
	free(copy);
}

static void
test_offer_full_mode_pxe(void **state)
{
	static struct dhcp_message req, rep;
	static const uint8_t prl[] = { 67, 66, 60, 43, 3, 1, 51 };
	struct boot_decision d = { .kind = BOOT_TFTP, .file = "undionly.kpxe",
		.vendor_pxe_client = true };
	struct reply_params rp;
	struct dhcp_builder b;
	size_t len;
	struct in_addr a;
	uint32_t lt;

	(void)state;
	make_request(&req, DHCPDISCOVER, "PXEClient:Arch:00000:UNDI:002001", 0, prl, sizeof prl,
	    0, false);
	base_params(&rp, DHCPOFFER, &d);
	rp.yiaddr = ip("192.0.2.100");
	rp.with_config = rp.with_lease = true;
	rp.lease_time = 3600;
	rp.netmask = ip("255.255.255.0");
	rp.router = ip("192.0.2.1");
	size_t n = dhcp_reply_build(&b, &req, &rp);
	reparse(&b, n, &rep);
	assert_int_equal(rep.type, DHCPOFFER);
	assert_int_equal(rep.xid, 0x11223344);
	assert_memory_equal(rep.chaddr, mac, 6);
	assert_int_equal(rep.yiaddr.s_addr, ip("192.0.2.100").s_addr);
	assert_int_equal(rep.siaddr.s_addr, ip("192.0.2.1").s_addr);  /* header too */
	assert_string_equal(rep.file, "undionly.kpxe");
	assert_memory_equal(dhcp_option(&rep, DHCP_OPT_BOOTFILE, &len), "undionly.kpxe", 13);
	assert_memory_equal(dhcp_option(&rep, DHCP_OPT_VENDOR_CLASS, &len), "PXEClient", 9);
	assert_int_equal(len, 9);
	assert_true(dhcp_option_addr(&rep, DHCP_OPT_SERVER_ID, &a));
	assert_true(dhcp_option_u32(&rep, DHCP_OPT_LEASE_TIME, &lt) && lt == 3600);
	assert_true(dhcp_option_u32(&rep, DHCP_OPT_T1, &lt) && lt == 1800);
	assert_true(dhcp_option_u32(&rep, DHCP_OPT_T2, &lt) && lt == 3150);
	/* 43 says: boot the file, no menu, no discovery */
	struct pxe_vendor v;
	const uint8_t *v43 = dhcp_option(&rep, DHCP_OPT_VENDOR, &len);
	assert_non_null(v43);
	assert_int_equal(pxe_vendor_parse(v43, len, &v), 0);
	assert_int_equal(v.discovery_control, 0x08);
	/* client id echoed (RFC 6842) */
	assert_memory_equal(dhcp_option(&rep, DHCP_OPT_CLIENT_ID, &len), "\x01RSxx!V", 7);
	/* options in the order the client listed them: 67 before 66 before 60 */
	int p53 = wire_pos(b.buf, n, 53), p67 = wire_pos(b.buf, n, 67);
	int p66 = wire_pos(b.buf, n, 66), p60 = wire_pos(b.buf, n, 60);
	int p3 = wire_pos(b.buf, n, 3), p1 = wire_pos(b.buf, n, 1), p61 = wire_pos(b.buf, n, 61);
	assert_true(p53 == 240);                        /* message type first */
	assert_true(p67 > 0 && p67 < p66 && p66 < p60);
	assert_true(p60 < p3 && p3 < p1);
	assert_true(p1 < p61);                          /* unrequested ones after */
}

static void
test_proxy_offer_has_no_lease(void **state)
{
	static struct dhcp_message req, rep;
	struct boot_decision d = { .kind = BOOT_TFTP, .file = "snponly.efi",
		.vendor_pxe_client = true };
	struct reply_params rp;
	struct dhcp_builder b;
	size_t len;

	(void)state;
	make_request(&req, DHCPDISCOVER, "PXEClient:Arch:00007:UNDI:003000", 7, NULL, 0, 0, false);
	base_params(&rp, DHCPOFFER, &d);
	reparse(&b, dhcp_reply_build(&b, &req, &rp), &rep);
	assert_int_equal(rep.yiaddr.s_addr, 0);
	for (int code = 1; code < 255; code++) {
		if (code == 51 || code == 58 || code == 59 || code == 1 || code == 3 || code == 6)
			assert_null(dhcp_option(&rep, (uint8_t)code, &len));
	}
	assert_string_equal(rep.file, "snponly.efi");
}

static void
test_http_boot_offer(void **state)
{
	static struct dhcp_message req, rep;
	struct boot_decision d = { .kind = BOOT_HTTP, .file = "http://192.0.2.1/ipxe.efi",
		.vendor_http_client = true };
	struct reply_params rp;
	struct dhcp_builder b;
	size_t len;

	(void)state;
	make_request(&req, DHCPDISCOVER, "HTTPClient:Arch:00016:UNDI:003000", 0x10, NULL, 0, 0,
	    false);
	base_params(&rp, DHCPOFFER, &d);
	reparse(&b, dhcp_reply_build(&b, &req, &rp), &rep);
	const uint8_t *v = dhcp_option(&rep, DHCP_OPT_VENDOR_CLASS, &len);
	assert_int_equal(len, 10);
	assert_memory_equal(v, "HTTPClient", 10);
	assert_memory_equal(dhcp_option(&rep, DHCP_OPT_BOOTFILE, &len), "http://192.0.2.1/ipxe.efi", 25);
	assert_null(dhcp_option(&rep, DHCP_OPT_VENDOR, &len));   /* no PXE 43 */
	assert_null(dhcp_option(&rep, DHCP_OPT_TFTP_SERVER, &len));
}

static void
test_menu_in_offer(void **state)
{
	static struct dhcp_message req, rep;
	struct boot_decision d = { .kind = BOOT_NOTHING, .vendor_pxe_client = true };
	struct reply_params rp;
	struct dhcp_builder b;
	struct pxe_menu menu;
	struct pxe_vendor v, parsed;
	static struct config cfg;
	char err[256];
	size_t len;

	(void)state;
	memset(&cfg, 0, sizeof cfg);
	str_copy(cfg.pxe_menu.item[0], "Deploy image | deploy.kpxe", CONFIG_ITEM_MAX);
	str_copy(cfg.pxe_menu.item[1], "Capture image|capture.kpxe", CONFIG_ITEM_MAX);
	str_copy(cfg.pxe_menu.item[2], "Boot local disk | local", CONFIG_ITEM_MAX);
	cfg.pxe_menu.count = 3;
	str_copy(cfg.pxe_prompt, "Press F8", sizeof cfg.pxe_prompt);
	cfg.pxe_menu_timeout = 5;
	assert_int_equal(pxe_menu_build(&menu, &cfg, err, sizeof err), 0);
	assert_string_equal(pxe_menu_target(&menu, 0x8001), "capture.kpxe");
	assert_null(pxe_menu_target(&menu, 0));
	assert_null(pxe_menu_target(&menu, 0x8005));
	pxe_menu_vendor(&menu, ip("192.0.2.1"), &v);
	make_request(&req, DHCPDISCOVER, "PXEClient:Arch:00000:UNDI:002001", 0, NULL, 0, 0, false);
	base_params(&rp, DHCPOFFER, &d);
	rp.pxe = &v;
	reparse(&b, dhcp_reply_build(&b, &req, &rp), &rep);
	const uint8_t *v43 = dhcp_option(&rep, DHCP_OPT_VENDOR, &len);
	assert_non_null(v43);
	assert_int_equal(pxe_vendor_parse(v43, len, &parsed), 0);
	assert_int_equal(parsed.menu_count, 3);
	assert_string_equal(parsed.menu[0].text, "Deploy image");
	assert_int_equal(parsed.menu[0].type, 0x8000);
	assert_int_equal(parsed.menu[2].type, 0);       /* local */
	assert_int_equal(parsed.prompt_timeout, 5);
	assert_string_equal(parsed.prompt, "Press F8");
	assert_int_equal(parsed.server_count, 2);       /* local needs no server */
	assert_int_equal(parsed.servers[1].addr[0].s_addr, ip("192.0.2.1").s_addr);
	assert_int_equal(parsed.discovery_control & 0x08, 0);   /* show the menu */
	assert_memory_equal(dhcp_option(&rep, DHCP_OPT_VENDOR_CLASS, &len), "PXEClient", 9);
	/* bad menu lines */
	str_copy(cfg.pxe_menu.item[0], "no bar here", CONFIG_ITEM_MAX);
	assert_int_not_equal(pxe_menu_build(&menu, &cfg, err, sizeof err), 0);
}

static void
test_max_size_and_relay(void **state)
{
	static struct dhcp_message req, rep;
	static uint8_t prl[40];
	struct boot_decision d = { .kind = BOOT_TFTP, .vendor_pxe_client = true };
	struct reply_params rp;
	struct dhcp_builder b;
	size_t len;

	(void)state;
	memset(d.file, 'f', 120);
	for (size_t i = 0; i < sizeof prl; i++)
		prl[i] = (uint8_t)(i + 1);
	make_request(&req, DHCPDISCOVER, "PXEClient:Arch:00000:UNDI:002001", 0, prl, sizeof prl,
	    576, true);
	base_params(&rp, DHCPOFFER, &d);
	rp.with_config = true;
	rp.domain = "a-rather-long-domain-name.example.org";
	size_t n = dhcp_reply_build(&b, &req, &rp);
	assert_true(n > 0 && n <= 576 - 28);
	reparse(&b, n, &rep);
	/* option 82 back to the relay, unchanged */
	const uint8_t *o82 = dhcp_option(&rep, DHCP_OPT_RELAY_AGENT, &len);
	assert_int_equal(len, 9);
	assert_memory_equal(o82, "\x01\x03" "eth\x02\x02" "r1", 9);
	assert_int_equal(rep.giaddr.s_addr, ip("198.51.100.1").s_addr);
	/* a NAK through a relay asks for a broadcast */
	base_params(&rp, DHCPNAK, NULL);
	rp.message = "wrong network";
	reparse(&b, dhcp_reply_build(&b, &req, &rp), &rep);
	assert_int_equal(rep.type, DHCPNAK);
	assert_true(rep.flags & 0x8000);
	assert_int_equal(rep.yiaddr.s_addr, 0);
	assert_int_equal(rep.file[0], '\0');
	assert_null(dhcp_option(&rep, DHCP_OPT_LEASE_TIME, &len));
	assert_memory_equal(dhcp_option(&rep, DHCP_OPT_MESSAGE, &len), "wrong network", 13);
}

/* More than fits in 576 bytes: optional options go, 51/54/61 stay. */
/* The BROADCAST flag: a relay delivers a reply with the flag clear as a
 * unicast to yiaddr, so a reply to a relay without an address (proxy
 * offer, INFORM) or a NAK asks for a broadcast; a full-mode offer keeps
 * the client's flag; nothing changes without a relay. */
static void
test_relay_broadcast_flag(void **state)
{
	static struct dhcp_message direct, relayed, rep;
	struct boot_decision d = { .kind = BOOT_TFTP, .vendor_pxe_client = true };
	struct reply_params rp;
	struct dhcp_builder b;

	(void)state;
	str_copy(d.file, "undionly.kpxe", sizeof d.file);
	make_request(&direct, DHCPDISCOVER, "PXEClient:Arch:00000:UNDI:002001", 0, NULL, 0, 0,
	    false);
	make_request(&relayed, DHCPDISCOVER, "PXEClient:Arch:00000:UNDI:002001", 0, NULL, 0, 0,
	    true);
	assert_int_equal(relayed.flags & DHCP_FLAG_BROADCAST, 0);      /* as iPXE sends it */
	base_params(&rp, DHCPOFFER, &d);                /* proxy: yiaddr 0 */
	reparse(&b, dhcp_reply_build(&b, &relayed, &rp), &rep);
	assert_int_equal(rep.flags, DHCP_FLAG_BROADCAST);
	assert_int_equal(rep.yiaddr.s_addr, 0);
	assert_int_equal(rep.giaddr.s_addr, ip("198.51.100.1").s_addr);
	reparse(&b, dhcp_reply_build(&b, &direct, &rp), &rep);
	assert_int_equal(rep.flags, 0);                 /* on the link: broadcast anyway */
	rp.yiaddr = ip("198.51.100.77");                /* full mode through the relay */
	reparse(&b, dhcp_reply_build(&b, &relayed, &rp), &rep);
	assert_int_equal(rep.flags, 0);
	base_params(&rp, DHCPACK, NULL);                /* INFORM's ACK, relayed */
	rp.ciaddr = ip("198.51.100.77");
	assert_int_equal(dhcp_reply_flags(&relayed, &rp), DHCP_FLAG_BROADCAST);
	base_params(&rp, DHCPNAK, NULL);
	rp.yiaddr = ip("198.51.100.77");
	assert_int_equal(dhcp_reply_flags(&relayed, &rp), DHCP_FLAG_BROADCAST);
	assert_int_equal(dhcp_reply_flags(&direct, &rp), 0);
}

static void
test_trim_to_client_limit(void **state)
{
	static struct dhcp_message req, rep;
	static uint8_t prl[60];
	struct boot_decision d = { .kind = BOOT_TFTP, .vendor_pxe_client = true };
	struct reply_params rp;
	struct dhcp_builder b;
	char host[64], domain[128];
	size_t len;
	uint32_t lt;

	(void)state;
	memset(d.file, 'f', 127);
	memset(host, 'h', 63);
	host[63] = '\0';
	memset(domain, 'd', 127);
	domain[127] = '\0';
	for (size_t i = 0; i < sizeof prl; i++)
		prl[i] = (uint8_t)(i + 1);
	make_request(&req, DHCPDISCOVER, "PXEClient:Arch:00000:UNDI:002001", 0, prl, sizeof prl,
	    576, false);
	base_params(&rp, DHCPOFFER, &d);
	rp.with_config = rp.with_lease = true;
	rp.lease_time = 600;
	rp.hostname = host;
	rp.domain = domain;
	rp.dns_count = 4;
	size_t n = dhcp_reply_build(&b, &req, &rp);
	assert_true(n > 0 && n <= 576 - 28);
	reparse(&b, n, &rep);
	assert_true(dhcp_option_u32(&rep, DHCP_OPT_LEASE_TIME, &lt) && lt == 600);
	assert_non_null(dhcp_option(&rep, DHCP_OPT_SERVER_ID, &len));
	assert_non_null(dhcp_option(&rep, DHCP_OPT_CLIENT_ID, &len));
	/* something optional had to go, and the file is still in the header */
	assert_true(dhcp_option(&rep, DHCP_OPT_DOMAIN, &len) == NULL ||
	    dhcp_option(&rep, DHCP_OPT_HOSTNAME, &len) == NULL ||
	    dhcp_option(&rep, DHCP_OPT_BOOTFILE, &len) == NULL);
	assert_int_equal(strlen(rep.file), 127);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_size_bounded),
		cmocka_unit_test(test_offer_full_mode_pxe),
		cmocka_unit_test(test_proxy_offer_has_no_lease),
		cmocka_unit_test(test_http_boot_offer),
		cmocka_unit_test(test_menu_in_offer),
		cmocka_unit_test(test_max_size_and_relay),
		cmocka_unit_test(test_relay_broadcast_flag),
		cmocka_unit_test(test_trim_to_client_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
