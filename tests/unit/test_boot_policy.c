/* Boot policy: classification of real clients' option sets (as seen from
 * QEMU's iPXE ROM, OVMF, AAVMF; /work/shared/QEMU-LAB.md), the firmware
 * quirks, rule parsing and the decision.  Messages are built by hand (no
 * packet parsing involved) with only dhcp_option() of the codec in the
 * way; one test runs two real requests through the codec as well. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "boot/policy.h"
#include "boot/quirks.h"

/* ---- building a parsed message by hand ---- */

struct opt {
	uint8_t code;
	const char *bytes;
	size_t len;
};

#define O(code, lit) { (code), (lit), sizeof(lit) - 1 }
#define OPTS_MAX 6

static const uint8_t test_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void
msg_init(struct dhcp_message *m)
{
	memset(m, 0, sizeof *m);
	m->op = DHCP_BOOTREQUEST;
	m->htype = 1;
	m->hlen = sizeof test_mac;
	memcpy(m->chaddr, test_mac, sizeof test_mac);
	m->type = DHCPDISCOVER;
	m->has_cookie = true;
}

static void
msg_add(struct dhcp_message *m, uint8_t code, const void *data, size_t len)
{
	assert_false(m->opt_present[code]);
	assert_true(m->store_used + len <= sizeof m->store);
	memcpy(m->store + m->store_used, data, len);
	m->opt_present[code] = true;
	m->opt_offset[code] = (uint16_t)m->store_used;
	m->opt_length[code] = (uint16_t)len;
	m->store_used += len;
}

static void
classify_opts(const struct opt *opts, size_t n, struct boot_client *c)
{
	struct dhcp_message m;

	msg_init(&m);
	for (size_t i = 0; i < n && opts[i].bytes; i++)
		msg_add(&m, opts[i].code, opts[i].bytes, opts[i].len);
	boot_classify(&m, c);
}

/* ---- classification table ---- */

#define VC_IPXE_BIOS "PXEClient:Arch:00000:UNDI:002001"
#define VC_IPXE_EFI "PXEClient:Arch:00007:UNDI:003010"
#define VC_EDK2_X64 "PXEClient:Arch:00007:UNDI:003000"
#define VC_AAVMF_PXE "PXEClient:Arch:00011:UNDI:003000"
#define VC_AAVMF_HTTP "HTTPClient:Arch:00019:UNDI:003000"
#define VC_X64_HTTP "HTTPClient:Arch:00016:UNDI:003000"
#define A(v) "\x00" v                    /* option 93, one 16-bit value */

struct class_case {
	const char *what;
	struct opt opts[OPTS_MAX];
	enum boot_class cls;
	bool pxe, http, ipxe, has_arch;
	uint16_t arch;
	enum boot_class arch_cls;       /* boot_arch_class(): iPXE fallback */
};

static const struct class_case class_cases[] = {
	{ "QEMU iPXE ROM, BIOS (first DHCP already says iPXE)",
	    { O(60, VC_IPXE_BIOS), O(77, "iPXE"), O(93, A("\x00")), O(94, "\x01\x02\x01") },
	    BOOT_CLASS_IPXE, true, false, true, true, 0, BOOT_CLASS_BIOS },
	{ "OVMF/EDK2 x64 PXE",
	    { O(60, VC_EDK2_X64), O(93, A("\x07")), O(94, "\x01\x03\x00") },
	    BOOT_CLASS_EFI64, true, false, false, true, 7, BOOT_CLASS_EFI64 },
	{ "old x64 firmware sending arch 9",
	    { O(60, "PXEClient:Arch:00009:UNDI:003000"), O(93, A("\x09")) },
	    BOOT_CLASS_EFI64, true, false, false, true, 9, BOOT_CLASS_EFI64 },
	{ "AAVMF PXE", { O(60, VC_AAVMF_PXE), O(93, A("\x0b")) },
	    BOOT_CLASS_ARM64, true, false, false, true, 0x0b, BOOT_CLASS_ARM64 },
	{ "AAVMF HTTP boot", { O(60, VC_AAVMF_HTTP), O(93, A("\x13")) },
	    BOOT_CLASS_ARM64_HTTP, false, true, false, true, 0x13, BOOT_CLASS_ARM64_HTTP },
	{ "x64 UEFI HTTP boot", { O(60, VC_X64_HTTP), O(93, A("\x10")) },
	    BOOT_CLASS_EFI64_HTTP, false, true, false, true, 0x10, BOOT_CLASS_EFI64_HTTP },
	{ "IA32 UEFI HTTP boot", { O(60, "HTTPClient:Arch:00015:UNDI:003000"), O(93, A("\x0f")) },
	    BOOT_CLASS_EFI32_HTTP, false, true, false, true, 0x0f, BOOT_CLASS_EFI32_HTTP },
	{ "ARM32 UEFI HTTP boot", { O(60, "HTTPClient:Arch:00018:UNDI:003000"), O(93, A("\x12")) },
	    BOOT_CLASS_ARM32_HTTP, false, true, false, true, 0x12, BOOT_CLASS_ARM32_HTTP },
	{ "HTTPClient with PXE arch 7", { O(60, "HTTPClient"), O(93, A("\x07")) },
	    BOOT_CLASS_EFI64_HTTP, false, true, false, true, 7, BOOT_CLASS_EFI64_HTTP },
	{ "HTTPClient without 93 or Arch field", { O(60, "HTTPClient") },
	    BOOT_CLASS_EFI64_HTTP, false, true, false, false, 0, BOOT_CLASS_EFI64_HTTP },
	{ "HTTPClient without 93, Arch:00019 in 60", { O(60, VC_AAVMF_HTTP) },
	    BOOT_CLASS_ARM64_HTTP, false, true, false, false, 0, BOOT_CLASS_ARM64_HTTP },
	{ "missing 93, Arch:00007 in 60 (Intel/HP ROMs)", { O(60, VC_EDK2_X64) },
	    BOOT_CLASS_EFI64, true, false, false, false, 0, BOOT_CLASS_EFI64 },
	{ "missing 93, Arch:00006 in 60", { O(60, "PXEClient:Arch:00006:UNDI:003000") },
	    BOOT_CLASS_EFI32, true, false, false, false, 0, BOOT_CLASS_EFI32 },
	{ "missing 93, Arch:00010 in 60", { O(60, "PXEClient:Arch:00010:UNDI:003000") },
	    BOOT_CLASS_ARM32, true, false, false, false, 0, BOOT_CLASS_ARM32 },
	{ "missing 93, bare PXEClient: BIOS", { O(60, "PXEClient") },
	    BOOT_CLASS_BIOS, true, false, false, false, 0, BOOT_CLASS_BIOS },
	{ "odd-length 93 ignored, arch from 60", { O(60, VC_EDK2_X64), O(93, "\x00\x00\x07") },
	    BOOT_CLASS_EFI64, true, false, false, false, 0, BOOT_CLASS_EFI64 },
	{ "93 wins over 60's Arch field", { O(60, VC_IPXE_BIOS), O(93, A("\x07")) },
	    BOOT_CLASS_EFI64, true, false, false, true, 7, BOOT_CLASS_EFI64 },
	{ "93 with two values: first counts", { O(60, "PXEClient"), O(93, A("\x0b") A("\x00")) },
	    BOOT_CLASS_ARM64, true, false, false, true, 0x0b, BOOT_CLASS_ARM64 },
	{ "plain dhclient (no 60)", { O(12, "host"), O(55, "\x01\x03\x06") },
	    BOOT_CLASS_NONE, false, false, false, false, 0, BOOT_CLASS_BIOS },
	{ "Windows client (MSFT 5.0)", { O(60, "MSFT 5.0"), O(93, A("\x00")) },
	    BOOT_CLASS_NONE, false, false, false, true, 0, BOOT_CLASS_BIOS },
	{ "short prefix PXEClien is not PXE", { O(60, "PXEClien") },
	    BOOT_CLASS_NONE, false, false, false, false, 0, BOOT_CLASS_BIOS },
	{ "iPXE EFI (175 present, no 77)",
	    { O(60, VC_IPXE_EFI), O(93, A("\x07")), O(175, "\xeb\x03\x01\x15\x01") },
	    BOOT_CLASS_IPXE, true, false, true, true, 7, BOOT_CLASS_EFI64 },
	{ "iPXE EFI (77 and 175)",
	    { O(60, VC_IPXE_EFI), O(77, "iPXE"), O(93, A("\x07")), O(175, "\x13\x01\x01") },
	    BOOT_CLASS_IPXE, true, false, true, true, 7, BOOT_CLASS_EFI64 },
	{ "77 in RFC 3004 form", { O(60, VC_IPXE_BIOS), O(77, "\x04iPXE"), O(93, A("\x00")) },
	    BOOT_CLASS_IPXE, true, false, true, true, 0, BOOT_CLASS_BIOS },
	{ "77 RFC 3004 list, iPXE second",
	    { O(60, VC_IPXE_BIOS), O(77, "\x03" "abc\x04iPXE"), O(93, A("\x00")) },
	    BOOT_CLASS_IPXE, true, false, true, true, 0, BOOT_CLASS_BIOS },
	{ "77 other user class", { O(60, VC_IPXE_BIOS), O(77, "gPXE"), O(93, A("\x00")) },
	    BOOT_CLASS_BIOS, true, false, false, true, 0, BOOT_CLASS_BIOS },
	{ "77 truncated RFC 3004 item", { O(60, VC_IPXE_BIOS), O(77, "\x05iPXE"), O(93, A("\x00")) },
	    BOOT_CLASS_BIOS, true, false, false, true, 0, BOOT_CLASS_BIOS },
	{ "77 iPXE alone (no 60) is still iPXE", { O(77, "iPXE"), O(93, A("\x07")) },
	    BOOT_CLASS_IPXE, false, false, true, true, 7, BOOT_CLASS_EFI64 },
	{ "unknown arch 0x99", { O(60, "PXEClient:Arch:00153:UNDI:003000"), O(93, A("\x99")) },
	    BOOT_CLASS_NONE, true, false, false, true, 0x99, BOOT_CLASS_NONE },
	{ "EBC HTTP 0x11 unknown", { O(60, "HTTPClient"), O(93, A("\x11")) },
	    BOOT_CLASS_NONE, false, true, false, true, 0x11, BOOT_CLASS_NONE },
	{ "BIOS arch with HTTPClient: no class", { O(60, "HTTPClient"), O(93, A("\x00")) },
	    BOOT_CLASS_NONE, false, true, false, true, 0, BOOT_CLASS_NONE },
	{ "HTTP arch with PXEClient: no class", { O(60, "PXEClient"), O(93, A("\x10")) },
	    BOOT_CLASS_NONE, true, false, false, true, 0x10, BOOT_CLASS_NONE },
	{ "iPXE with unknown arch: still ipxe",
	    { O(60, "PXEClient"), O(77, "iPXE"), O(93, A("\x99")) },
	    BOOT_CLASS_IPXE, true, false, true, true, 0x99, BOOT_CLASS_NONE },
};

static void
test_classify_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof class_cases / sizeof class_cases[0]; i++) {
		const struct class_case *k = &class_cases[i];
		struct boot_client c;

		print_message("case: %s\n", k->what);
		classify_opts(k->opts, OPTS_MAX, &c);
		assert_string_equal(boot_class_name(c.cls), boot_class_name(k->cls));
		assert_int_equal(c.cls, k->cls);
		assert_int_equal(c.pxe_client, k->pxe);
		assert_int_equal(c.http_client, k->http);
		assert_int_equal(c.ipxe, k->ipxe);
		assert_int_equal(c.has_arch, k->has_arch);
		if (k->has_arch)
			assert_int_equal(c.arch, k->arch);
		assert_int_equal(boot_arch_class(&c), k->arch_cls);
	}
}

static void
test_classify_fields(void **state)
{
	static const uint8_t guid[16] = { 0x78, 0x56, 0x34, 0x12, 0x34, 0x12, 0x78, 0x56,
		0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };
	uint8_t uuid_opt[17] = { 0 };
	struct dhcp_message m;
	struct boot_client c;

	(void)state;
	memcpy(uuid_opt + 1, guid, sizeof guid);
	msg_init(&m);
	msg_add(&m, 60, VC_EDK2_X64, strlen(VC_EDK2_X64));
	msg_add(&m, 93, "\x00\x07", 2);
	msg_add(&m, 97, uuid_opt, sizeof uuid_opt);
	boot_classify(&m, &c);
	assert_int_equal(c.cls, BOOT_CLASS_EFI64);
	assert_int_equal(c.mac_len, 6);
	assert_memory_equal(c.mac, test_mac, 6);
	assert_true(c.has_uuid);
	assert_memory_equal(c.uuid, guid, 16);
	assert_string_equal(c.vendor_class, VC_EDK2_X64);

	/* UUID with a non-zero type byte, or the wrong length: ignored */
	uuid_opt[0] = 1;
	msg_init(&m);
	msg_add(&m, 97, uuid_opt, sizeof uuid_opt);
	boot_classify(&m, &c);
	assert_false(c.has_uuid);
	assert_int_equal(c.cls, BOOT_CLASS_NONE);
	msg_init(&m);
	msg_add(&m, 97, guid, sizeof guid);
	boot_classify(&m, &c);
	assert_false(c.has_uuid);
	assert_string_equal(c.vendor_class, "");

	/* hlen over 16 is clamped */
	msg_init(&m);
	m.hlen = 200;
	boot_classify(&m, &c);
	assert_int_equal(c.mac_len, 16);
}

static void
test_classify_vendor_class_printable(void **state)
{
	char long_vc[100];
	struct dhcp_message m;
	struct boot_client c;

	(void)state;
	msg_init(&m);
	msg_add(&m, 60, "PXEClient\x01\xff\n\0x", 14);
	boot_classify(&m, &c);
	assert_true(c.pxe_client);
	assert_string_equal(c.vendor_class, "PXEClient....x");
	assert_int_equal(c.cls, BOOT_CLASS_BIOS);

	memset(long_vc, 'z', sizeof long_vc);
	memcpy(long_vc, "HTTPClient:Arch:00019:", 22);
	msg_init(&m);
	msg_add(&m, 60, long_vc, sizeof long_vc);
	boot_classify(&m, &c);
	assert_int_equal(strlen(c.vendor_class), sizeof c.vendor_class - 1);
	assert_int_equal(c.cls, BOOT_CLASS_ARM64_HTTP);
}

/* The same through the real codec: a request as QEMU's iPXE ROM sends it,
 * built, parsed, classified. */
static void
test_classify_parsed_packet(void **state)
{
	static const uint8_t guid[17] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
		15, 16 };
	struct dhcp_builder b;
	struct dhcp_message m;
	struct boot_client c;
	const char *why = NULL;

	(void)state;
	dhcp_request_start(&b, DHCPDISCOVER, 0x12345678u, test_mac, sizeof test_mac);
	dhcp_add_option(&b, 60, VC_IPXE_BIOS, strlen(VC_IPXE_BIOS));
	dhcp_add_option(&b, 77, "iPXE", 4);
	dhcp_add_u16(&b, 93, 0);
	dhcp_add_option(&b, 94, "\x01\x02\x01", 3);
	dhcp_add_option(&b, 97, guid, sizeof guid);
	size_t len = dhcp_finish(&b);
	assert_true(len > 0);
	assert_int_equal(dhcp_parse(b.buf, len, &m, &why), 0);
	boot_classify(&m, &c);
	assert_int_equal(c.cls, BOOT_CLASS_IPXE);
	assert_true(c.pxe_client && c.ipxe && c.has_arch && c.has_uuid);
	assert_int_equal(c.arch, 0);
	assert_memory_equal(c.uuid, guid + 1, 16);
	assert_memory_equal(c.mac, test_mac, sizeof test_mac);
	assert_string_equal(c.vendor_class, VC_IPXE_BIOS);

	dhcp_request_start(&b, DHCPDISCOVER, 1, test_mac, sizeof test_mac);
	dhcp_add_option(&b, 60, VC_AAVMF_HTTP, strlen(VC_AAVMF_HTTP));
	dhcp_add_u16(&b, 93, 0x13);
	len = dhcp_finish(&b);
	assert_int_equal(dhcp_parse(b.buf, len, &m, &why), 0);
	boot_classify(&m, &c);
	assert_int_equal(c.cls, BOOT_CLASS_ARM64_HTTP);
}

static void
test_class_names(void **state)
{
	(void)state;
	for (int i = 0; i < BOOT_CLASS_COUNT; i++)
		assert_int_equal(boot_class_parse(boot_class_name((enum boot_class)i)), i);
	assert_string_equal(boot_class_name(BOOT_CLASS_EFI64_HTTP), "efi64-http");
	assert_string_equal(boot_class_name(BOOT_CLASS_NONE), "none");
	assert_string_equal(boot_class_name(BOOT_CLASS_COUNT), "none");
	assert_int_equal(boot_class_parse("EFI64"), BOOT_CLASS_EFI64);
	assert_int_equal(boot_class_parse("efi65"), BOOT_CLASS_NONE);
	assert_int_equal(boot_class_parse(""), BOOT_CLASS_NONE);
	assert_int_equal(boot_class_parse("none"), BOOT_CLASS_NONE);
	assert_int_equal(boot_class_parse(NULL), BOOT_CLASS_NONE);
}

/* ---- quirks ---- */

static void
test_quirk_arch(void **state)
{
	uint16_t arch = 1234;

	(void)state;
	assert_int_equal(quirk_arch_normalize(9), 7);
	assert_int_equal(quirk_arch_normalize(7), 7);
	assert_int_equal(quirk_arch_normalize(0x13), 0x13);
	assert_true(quirk_arch_from_vendor_class(VC_AAVMF_PXE, &arch));
	assert_int_equal(arch, 11);
	assert_true(quirk_arch_from_vendor_class(VC_X64_HTTP, &arch));
	assert_int_equal(arch, 16);
	assert_true(quirk_arch_from_vendor_class("PXEClient:Arch:7", &arch));
	assert_int_equal(arch, 7);
	assert_true(quirk_arch_from_vendor_class("PXEClient:Arch:65535:UNDI:0", &arch));
	assert_int_equal(arch, 65535);
	arch = 1234;
	assert_false(quirk_arch_from_vendor_class("PXEClient:Arch:65536", &arch));
	assert_false(quirk_arch_from_vendor_class("PXEClient:Arch:000007", &arch));
	assert_false(quirk_arch_from_vendor_class("PXEClient:Arch::UNDI", &arch));
	assert_false(quirk_arch_from_vendor_class("PXEClient:Arch:0x7", &arch));
	assert_false(quirk_arch_from_vendor_class("PXEClient", &arch));
	assert_false(quirk_arch_from_vendor_class("MSFT 5.0", &arch));
	assert_false(quirk_arch_from_vendor_class("", &arch));
	assert_int_equal(arch, 1234);
}

static void
test_quirk_name_clean(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(boot_name_clean(out, sizeof out,
	    (const uint8_t *)"pxelinux.0\xff\xff\xff", 13), 10);
	assert_string_equal(out, "pxelinux.0");
	assert_int_equal(boot_name_clean(out, sizeof out,
	    (const uint8_t *)"pxelinux.0 \t\r\n\0\0\0", 17), 10);
	assert_string_equal(out, "pxelinux.0");
	assert_int_equal(boot_name_clean(out, sizeof out,
	    (const uint8_t *)"a b\xff \0junk", 10), 3);
	assert_string_equal(out, "a b");
	assert_int_equal(boot_name_clean(out, sizeof out, (const uint8_t *)"\xff\xff  ", 4), 0);
	assert_string_equal(out, "");
	/* not NUL-terminated, exactly the input length */
	assert_int_equal(boot_name_clean(out, sizeof out, (const uint8_t *)"abcdef", 3), 3);
	assert_string_equal(out, "abc");
	/* cut to the destination, length says so */
	assert_int_equal(boot_name_clean(out, 4, (const uint8_t *)"abcdefgh", 8), 8);
	assert_string_equal(out, "abc");
	assert_int_equal(boot_name_clean(out, 0, (const uint8_t *)"ab", 2), 2);
	assert_int_equal(boot_name_clean(out, sizeof out, (const uint8_t *)"", 0), 0);
	assert_string_equal(out, "");
}

static void
test_quirk_header_and_ipxe(void **state)
{
	struct boot_client c;

	(void)state;
	memset(&c, 0, sizeof c);
	assert_true(boot_file_needs_header(&c));
	c.cls = BOOT_CLASS_EFI64;
	assert_true(boot_file_needs_header(&c));
	assert_true(quirk_user_class_is_ipxe((const uint8_t *)"iPXE", 4));
	assert_true(quirk_user_class_is_ipxe((const uint8_t *)"\x04iPXE", 5));
	assert_true(quirk_user_class_is_ipxe((const uint8_t *)"\x01x\x04iPXE", 7));
	assert_false(quirk_user_class_is_ipxe((const uint8_t *)"ipxe", 4));
	assert_false(quirk_user_class_is_ipxe((const uint8_t *)"iPXE2", 5));
	assert_false(quirk_user_class_is_ipxe((const uint8_t *)"\x00iPXE", 5));
	assert_false(quirk_user_class_is_ipxe((const uint8_t *)"\x04iPX", 4));
	assert_false(quirk_user_class_is_ipxe((const uint8_t *)"", 0));
}

/* ---- rules ---- */

static void
test_rules_parse(void **state)
{
	struct boot_rules r;
	char err[256];

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(boot_rules_add(&r, "bios undionly.kpxe", err, sizeof err), 0);
	assert_int_equal(boot_rules_add(&r, "efi64=snponly.efi", err, sizeof err), 0);
	assert_int_equal(boot_rules_add(&r, "  arm64 \t grubaa64.efi \r\n", err, sizeof err), 0);
	assert_int_equal(boot_rules_add(&r, "arm64-http = http://${next-server}/a.efi", err,
	    sizeof err), 0);
	assert_int_equal(boot_rules_add(&r, "IPXE http://192.0.2.1/boot.ipxe", err, sizeof err), 0);
	assert_int_equal(boot_rules_add(&r, "efi32 local", err, sizeof err), 0);
	assert_int_equal(boot_rules_add(&r, "efi64-http local", err, sizeof err), 0);
	assert_int_equal(r.count, 7);
	assert_int_equal(r.rule[0].cls, BOOT_CLASS_BIOS);
	assert_string_equal(r.rule[0].target, "undionly.kpxe");
	assert_int_equal(r.rule[1].cls, BOOT_CLASS_EFI64);
	assert_string_equal(r.rule[1].target, "snponly.efi");
	assert_string_equal(r.rule[2].target, "grubaa64.efi");
	assert_int_equal(r.rule[3].cls, BOOT_CLASS_ARM64_HTTP);
	assert_string_equal(r.rule[3].target, "http://${next-server}/a.efi");
	assert_int_equal(r.rule[4].cls, BOOT_CLASS_IPXE);
}

static void
expect_bad(const char *spec, const char *needle)
{
	struct boot_rules r;
	char err[256] = "";

	memset(&r, 0, sizeof r);
	print_message("bad spec: \"%s\"\n", spec);
	assert_int_equal(boot_rules_add(&r, spec, err, sizeof err), -EINVAL);
	assert_int_equal(r.count, 0);
	assert_non_null(strstr(err, needle));
}

static void
test_rules_errors(void **state)
{
	char long_spec[400];
	struct boot_rules r;

	(void)state;
	expect_bad("efi65 shimx64.efi", "unknown boot class \"efi65\"");
	expect_bad("", "unknown boot class");
	expect_bad("=shimx64.efi", "unknown boot class");
	expect_bad("averyveryverylongclassname x", "unknown boot class");
	expect_bad("bios", "missing target");
	expect_bad("bios   ", "missing target");
	expect_bad("bios=", "missing target");
	expect_bad("bios = \xff\xff", "missing target");
	expect_bad("efi64-http shimx64.efi", "http:// URL");
	expect_bad("efi64-http http://", "http:// URL");
	expect_bad("arm64-http tftp://192.0.2.1/x.efi", "http:// URL");
	expect_bad("bios undionly kpxe", "space or control");
	expect_bad("bios undionly\001.kpxe", "space or control");
	expect_bad("bios undionly\x7f.kpxe", "space or control");
	memset(long_spec, 'a', sizeof long_spec);
	memcpy(long_spec, "bios ", 5);
	long_spec[5 + BOOT_TARGET_MAX] = '\0';
	expect_bad(long_spec, "longer than");
	/* exactly BOOT_TARGET_MAX - 1 bytes fits */
	long_spec[5 + BOOT_TARGET_MAX - 1] = '\0';
	memset(&r, 0, sizeof r);
	assert_int_equal(boot_rules_add(&r, long_spec, NULL, 0), 0);
	assert_int_equal(strlen(r.rule[0].target), BOOT_TARGET_MAX - 1);
	/* no err buffer: still -EINVAL */
	assert_int_equal(boot_rules_add(&r, "nope x", NULL, 0), -EINVAL);
}

static void
test_rules_replace(void **state)
{
	struct boot_rules r;

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(boot_rules_add(&r, "bios pxelinux.0", NULL, 0), 0);
	assert_int_equal(boot_rules_add(&r, "efi64 grubx64.efi", NULL, 0), 0);
	assert_int_equal(boot_rules_add(&r, "bios=undionly.kpxe", NULL, 0), 0);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.rule[0].cls, BOOT_CLASS_BIOS);
	assert_string_equal(r.rule[0].target, "undionly.kpxe");
	/* a failed add leaves the old rule alone */
	assert_int_equal(boot_rules_add(&r, "bios a b", NULL, 0), -EINVAL);
	assert_string_equal(r.rule[0].target, "undionly.kpxe");
	/* every class once, twice over: never more than the class count */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < BOOT_CLASS_COUNT; i++) {
			char spec[64];
			snprintf(spec, sizeof spec, "%s http://x/%d",
			    boot_class_name((enum boot_class)i), pass);
			assert_int_equal(boot_rules_add(&r, spec, NULL, 0), 0);
		}
	}
	assert_int_equal(r.count, BOOT_CLASS_COUNT);
	assert_string_equal(r.rule[0].target, "http://x/1");
}

/* ---- decisions ---- */

static struct in_addr
addr(const char *dotted)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, dotted, &a), 1);
	return a;
}

static void
add_rules(struct boot_rules *r, const char *const *specs)
{
	memset(r, 0, sizeof *r);
	for (size_t i = 0; specs[i]; i++)
		assert_int_equal(boot_rules_add(r, specs[i], NULL, 0), 0);
}

static void
client(struct boot_client *c, const char *vc, uint16_t arch, bool ipxe)
{
	struct dhcp_message m;
	uint8_t a[2] = { (uint8_t)(arch >> 8), (uint8_t)arch };

	msg_init(&m);
	msg_add(&m, 60, vc, strlen(vc));
	msg_add(&m, 93, a, sizeof a);
	if (ipxe)
		msg_add(&m, 77, "iPXE", 4);
	boot_classify(&m, c);
}

/* ${mac} is the client's MAC with dashes; an unknown ${...} stays for
 * iPXE to expand; a result that does not fit boots nothing. */
static void
test_decide_mac_variable(void **state)
{
	static const char *const g[] = {
		"ipxe http://${next-server}:8080/api/v1/boot/${mac}.ipxe?b=${buildarch}", NULL };
	struct boot_rules global;
	struct boot_client c;
	struct boot_decision d;

	(void)state;
	add_rules(&global, g);
	client(&c, VC_IPXE_BIOS, 0, true);
	boot_decide(&global, NULL, NULL, &c, addr("192.0.2.1"), &d);
	assert_int_equal(d.kind, BOOT_HTTP);
	assert_string_equal(d.file,
	    "http://192.0.2.1:8080/api/v1/boot/52-54-00-12-34-56.ipxe?b=${buildarch}");
}

/* A UEFI HTTP boot client with no *-http rule gets its architecture's
 * TFTP file over pxed's HTTP; a *-http rule overrides; no HTTP, a local or
 * URL target, or no TFTP rule: nothing. */
static void
test_decide_http_from_tftp(void **state)
{
	static const char *const g[] = { "efi64 boot/snponly.efi", "arm64 local", NULL };
	static const char *const s[] = { "efi64-http http://203.0.113.9/x.efi", NULL };
	struct boot_rules global, subnet;
	struct boot_client c;
	struct boot_decision d;
	struct in_addr ns = addr("192.0.2.1");

	(void)state;
	add_rules(&global, g);
	add_rules(&subnet, s);
	client(&c, VC_X64_HTTP, 0x10, false);
	assert_int_equal(c.cls, BOOT_CLASS_EFI64_HTTP);
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_NOTHING);         /* no HTTP served */
	global.http_port = 80;
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_HTTP);
	assert_string_equal(d.file, "http://192.0.2.1/boot/snponly.efi");
	assert_true(d.vendor_http_client);
	assert_string_equal(d.matched, "global");
	global.http_port = 8080;
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_string_equal(d.file, "http://192.0.2.1:8080/boot/snponly.efi");
	boot_decide(&global, &subnet, NULL, &c, ns, &d);        /* a rule wins */
	assert_string_equal(d.file, "http://203.0.113.9/x.efi");
	client(&c, VC_AAVMF_HTTP, 0x13, false);
	boot_decide(&global, NULL, NULL, &c, ns, &d);           /* arm64 local */
	assert_int_equal(d.kind, BOOT_NOTHING);
	client(&c, "HTTPClient:Arch:00015:UNDI:003000", 0x0f, false);
	boot_decide(&global, NULL, NULL, &c, ns, &d);           /* no efi32 rule */
	assert_int_equal(d.kind, BOOT_NOTHING);
}

static void
test_decide_precedence(void **state)
{
	static const char *const g[] = { "bios g.kpxe", "efi64 g.efi", "arm64 g-arm.efi", NULL };
	static const char *const s[] = { "bios s.kpxe", "efi64 s.efi", NULL };
	static const char *const h[] = { "bios h.kpxe", NULL };
	struct boot_rules global, subnet, host;
	struct boot_client c;
	struct boot_decision d;
	struct in_addr ns = addr("192.0.2.1");

	(void)state;
	add_rules(&global, g);
	add_rules(&subnet, s);
	add_rules(&host, h);
	client(&c, VC_EDK2_X64, 0, false);      /* bios, no iPXE */
	assert_int_equal(c.cls, BOOT_CLASS_BIOS);
	boot_decide(&global, &subnet, &host, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_TFTP);
	assert_string_equal(d.file, "h.kpxe");
	assert_string_equal(d.matched, "host");
	assert_int_equal(d.cls, BOOT_CLASS_BIOS);
	client(&c, VC_EDK2_X64, 7, false);
	boot_decide(&global, &subnet, &host, &c, ns, &d);
	assert_string_equal(d.file, "s.efi");
	assert_string_equal(d.matched, "subnet");
	client(&c, VC_AAVMF_PXE, 0x0b, false);
	boot_decide(&global, &subnet, &host, &c, ns, &d);
	assert_string_equal(d.file, "g-arm.efi");
	assert_string_equal(d.matched, "global");
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_string_equal(d.file, "g-arm.efi");
	client(&c, VC_EDK2_X64, 7, false);
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_string_equal(d.file, "g.efi");
	assert_string_equal(d.matched, "global");
	/* no rule for the class anywhere */
	client(&c, "PXEClient", 6, false);
	boot_decide(&global, &subnet, &host, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_NOTHING);
	assert_string_equal(d.matched, "none");
	assert_int_equal(d.cls, BOOT_CLASS_EFI32);
	assert_false(d.vendor_pxe_client);
	/* not a boot client at all */
	client(&c, "MSFT 5.0", 0, false);
	boot_decide(&global, &subnet, &host, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_NOTHING);
	assert_int_equal(d.cls, BOOT_CLASS_NONE);
}

static void
test_decide_ipxe(void **state)
{
	static const char *const g[] = { "bios undionly.kpxe", "efi64 snponly.efi", NULL };
	static const char *const s[] = { "ipxe http://${next-server}/boot.ipxe", NULL };
	static const char *const h[] = { "bios h.kpxe", NULL };
	struct boot_rules global, subnet, host;
	struct boot_client c;
	struct boot_decision d;
	struct in_addr ns = addr("198.51.100.7");

	(void)state;
	add_rules(&global, g);
	add_rules(&subnet, s);
	add_rules(&host, h);
	/* QEMU's iPXE ROM: an ipxe rule anywhere beats a host bios rule */
	client(&c, VC_IPXE_BIOS, 0, true);
	boot_decide(&global, &subnet, &host, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_HTTP);
	assert_string_equal(d.file, "http://198.51.100.7/boot.ipxe");
	assert_string_equal(d.matched, "subnet");
	assert_int_equal(d.cls, BOOT_CLASS_IPXE);
	assert_false(d.vendor_pxe_client);
	assert_false(d.vendor_http_client);
	/* no ipxe rule anywhere: falls back to its architecture */
	boot_decide(&global, NULL, &host, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_TFTP);
	assert_string_equal(d.file, "h.kpxe");
	assert_string_equal(d.matched, "host");
	assert_int_equal(d.cls, BOOT_CLASS_BIOS);
	assert_true(d.vendor_pxe_client);
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_string_equal(d.file, "undionly.kpxe");
	assert_string_equal(d.matched, "global");
	/* iPXE EFI (175 only) falls back to efi64 */
	static const struct opt efi[] = { O(60, VC_IPXE_EFI), O(93, A("\x07")),
		O(175, "\x13\x01\x01") };
	classify_opts(efi, 3, &c);
	assert_int_equal(c.cls, BOOT_CLASS_IPXE);
	boot_decide(&global, NULL, &host, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_TFTP);
	assert_string_equal(d.file, "snponly.efi");
	assert_int_equal(d.cls, BOOT_CLASS_EFI64);
	/* iPXE EFI without 93: the arch comes from 60 */
	static const struct opt efi60[] = { O(60, VC_IPXE_EFI), O(77, "iPXE") };
	classify_opts(efi60, 2, &c);
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_string_equal(d.file, "snponly.efi");
	/* iPXE on an unknown arch with no ipxe rule: nothing */
	client(&c, "PXEClient", 0x99, true);
	assert_int_equal(c.cls, BOOT_CLASS_IPXE);
	boot_decide(&global, NULL, &host, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_NOTHING);
	/* ... but the ipxe rule serves it */
	boot_decide(&global, &subnet, NULL, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_HTTP);
}

static void
test_decide_local_and_http(void **state)
{
	static const char *const g[] = { "efi64 local", "bios local",
		"arm64-http http://${next-server}:8080/${next-server}/grubaa64.efi",
		"efi64-http http://boot.example/shimx64.efi", "ipxe boot.ipxe", NULL };
	struct boot_rules global;
	struct boot_client c;
	struct boot_decision d;
	struct in_addr ns = addr("203.0.113.254");

	(void)state;
	add_rules(&global, g);
	client(&c, VC_EDK2_X64, 7, false);
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_LOCAL);
	assert_string_equal(d.file, "");
	assert_true(d.vendor_pxe_client);
	assert_false(d.vendor_http_client);
	/* AAVMF HTTP boot: both occurrences expanded, HTTPClient in the reply */
	client(&c, VC_AAVMF_HTTP, 0x13, false);
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_HTTP);
	assert_string_equal(d.file, "http://203.0.113.254:8080/203.0.113.254/grubaa64.efi");
	assert_true(d.vendor_http_client);
	assert_false(d.vendor_pxe_client);
	assert_int_equal(d.cls, BOOT_CLASS_ARM64_HTTP);
	client(&c, VC_X64_HTTP, 0x10, false);
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_string_equal(d.file, "http://boot.example/shimx64.efi");
	assert_true(d.vendor_http_client);
	/* PXE client with a TFTP rule */
	client(&c, VC_IPXE_BIOS, 0, true);
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_TFTP);
	assert_string_equal(d.file, "boot.ipxe");
	assert_true(d.vendor_pxe_client);
	assert_false(d.vendor_http_client);
}

static void
test_decide_overlong(void **state)
{
	char spec[BOOT_TARGET_MAX + 16];
	struct boot_rules global;
	struct boot_client c;
	struct boot_decision d;
	struct in_addr ns = addr("198.51.100.200");       /* 14 characters */
	const char *var = "${next-server}";               /* 14 characters too */

	(void)state;
	client(&c, VC_X64_HTTP, 0x10, false);
	/* 255 bytes after expansion: fits */
	size_t url_len = BOOT_TARGET_MAX - 1;
	int n = snprintf(spec, sizeof spec, "efi64-http http://%s/", var);
	memset(spec + n, 'a', url_len - (size_t)(n - 11));
	spec[11 + url_len] = '\0';
	memset(&global, 0, sizeof global);
	assert_int_equal(boot_rules_add(&global, spec, NULL, 0), 0);
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_HTTP);
	assert_int_equal(strlen(d.file), BOOT_TARGET_MAX - 1);
	assert_true(d.vendor_http_client);
	/* another address of the same length still fits ... */
	boot_decide(&global, NULL, NULL, &c, addr("198.51.100.201"), &d);
	assert_int_equal(d.kind, BOOT_HTTP);
	/* ... one character longer is one too many: nothing */
	ns = addr("255.255.255.255");                    /* 15 characters */
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_NOTHING);
	assert_string_equal(d.file, "");
	assert_false(d.vendor_http_client);
	assert_false(d.vendor_pxe_client);
	/* many variables in a short rule blow up past the limit */
	memset(&global, 0, sizeof global);
	/* 17 variables: 247 bytes as written, 264 expanded */
	n = snprintf(spec, sizeof spec, "efi64-http http://");
	for (int i = 0; i < 17; i++)
		n += snprintf(spec + n, sizeof spec - (size_t)n, "%s", var);
	snprintf(spec + n, sizeof spec - (size_t)n, "/x");
	assert_int_equal(boot_rules_add(&global, spec, NULL, 0), 0);
	boot_decide(&global, NULL, NULL, &c, ns, &d);
	assert_int_equal(d.kind, BOOT_NOTHING);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_table),
		cmocka_unit_test(test_classify_fields),
		cmocka_unit_test(test_classify_vendor_class_printable),
		cmocka_unit_test(test_classify_parsed_packet),
		cmocka_unit_test(test_class_names),
		cmocka_unit_test(test_quirk_arch),
		cmocka_unit_test(test_quirk_name_clean),
		cmocka_unit_test(test_quirk_header_and_ipxe),
		cmocka_unit_test(test_rules_parse),
		cmocka_unit_test(test_rules_errors),
		cmocka_unit_test(test_rules_replace),
		cmocka_unit_test(test_decide_precedence),
		cmocka_unit_test(test_decide_ipxe),
		cmocka_unit_test(test_decide_mac_variable),
		cmocka_unit_test(test_decide_http_from_tftp),
		cmocka_unit_test(test_decide_local_and_http),
		cmocka_unit_test(test_decide_overlong),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
