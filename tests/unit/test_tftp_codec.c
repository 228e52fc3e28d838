/* TFTP codec tables: every packet type, every option edge.  Each input is
 * copied into a heap buffer of exactly its length so ASan catches any
 * read past the end. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tftp/codec.h"

#define P(s) (const uint8_t *)(s), sizeof(s) - 1

struct request_case {
	const char *what;
	const uint8_t *bytes;
	size_t len;
	int rc;
	uint32_t present;
	uint32_t blksize, windowsize, timeout;
	uint64_t tsize;
	const char *option_error;
	bool trailing;
	unsigned unknown;
};

static const struct request_case request_cases[] = {
	{ "plain octet", P("\0\1pxelinux.0\0octet\0"), 0, 0, 512, 1, 0, 0, NULL, false, 0 },
	{ "mode case-insensitive", P("\0\1f\0OcTeT\0"), 0, 0, 512, 1, 0, 0, NULL, false, 0 },
	{ "netascii", P("\0\1f\0netascii\0"), 0, 0, 512, 1, 0, 0, NULL, false, 0 },
	{ "WRQ", P("\0\2up.bin\0octet\0"), 0, 0, 512, 1, 0, 0, NULL, false, 0 },
	{ "blksize 7 refused", P("\0\1f\0octet\0blksize\0" "7\0"), 0, 0, 512, 1, 0, 0,
	    "blksize", false, 0 },
	{ "blksize 8", P("\0\1f\0octet\0blksize\0" "8\0"), 0, TFTP_OPT_BLKSIZE, 8, 1, 0, 0,
	    NULL, false, 0 },
	{ "blksize 65464", P("\0\1f\0octet\0blksize\0" "65464\0"), 0, TFTP_OPT_BLKSIZE, 65464,
	    1, 0, 0, NULL, false, 0 },
	{ "blksize 65465 clamped", P("\0\1f\0octet\0blksize\0" "65465\0"), 0, TFTP_OPT_BLKSIZE,
	    65464, 1, 0, 0, NULL, false, 0 },
	{ "blksize huge clamped", P("\0\1f\0octet\0blksize\0" "999999999999999999999999\0"), 0,
	    TFTP_OPT_BLKSIZE, 65464, 1, 0, 0, NULL, false, 0 },
	{ "blksize not a number ignored", P("\0\1f\0octet\0blksize\0" "12a\0"), 0, 0, 512, 1,
	    0, 0, NULL, false, 0 },
	{ "windowsize 0 refused", P("\0\1f\0octet\0windowsize\0" "0\0"), 0, 0, 512, 1, 0, 0,
	    "windowsize", false, 0 },
	{ "windowsize 1", P("\0\1f\0octet\0windowsize\0" "1\0"), 0, TFTP_OPT_WINDOWSIZE, 512,
	    1, 0, 0, NULL, false, 0 },
	{ "windowsize 65535", P("\0\1f\0octet\0windowsize\0" "65535\0"), 0,
	    TFTP_OPT_WINDOWSIZE, 512, 65535, 0, 0, NULL, false, 0 },
	{ "windowsize 65536 clamped", P("\0\1f\0octet\0windowsize\0" "65536\0"), 0,
	    TFTP_OPT_WINDOWSIZE, 512, 65535, 0, 0, NULL, false, 0 },
	{ "tsize query", P("\0\1f\0octet\0tsize\0" "0\0"), 0, TFTP_OPT_TSIZE, 512, 1, 0, 0,
	    NULL, false, 0 },
	{ "timeout 0 ignored", P("\0\1f\0octet\0timeout\0" "0\0"), 0, 0, 512, 1, 0, 0, NULL,
	    false, 0 },
	{ "timeout 255", P("\0\1f\0octet\0timeout\0" "255\0"), 0, TFTP_OPT_TIMEOUT, 512, 1,
	    255, 0, NULL, false, 0 },
	{ "timeout 256 ignored", P("\0\1f\0octet\0timeout\0" "256\0"), 0, 0, 512, 1, 0, 0,
	    NULL, false, 0 },
	{ "EDK2 probe", P("\0\1snponly.efi\0octet\0tsize\0" "0\0blksize\0" "1468\0windowsize\0"
	    "4\0"), 0, TFTP_OPT_TSIZE | TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE, 1468, 4, 0, 0,
	    NULL, false, 0 },
	{ "option names case-insensitive", P("\0\1f\0octet\0BLKSIZE\0" "1432\0TSize\0" "0\0"),
	    0, TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE, 1432, 1, 0, 0, NULL, false, 0 },
	{ "unknown option ignored", P("\0\1f\0octet\0bigfoot\0" "7\0blksize\0" "1024\0"), 0,
	    TFTP_OPT_BLKSIZE, 1024, 1, 0, 0, NULL, false, 1 },
	{ "duplicate option: first wins", P("\0\1f\0octet\0blksize\0" "1024\0blksize\0"
	    "2048\0"), 0, TFTP_OPT_BLKSIZE, 1024, 1, 0, 0, NULL, false, 0 },
	{ "msftwindow noted", P("\0\1f\0octet\0msftwindow\0" "31416\0"), 0,
	    TFTP_OPT_MSFTWINDOW, 512, 1, 0, 0, NULL, false, 0 },
	{ "multicast, empty value (RFC 2090)", P("\0\1f\0octet\0multicast\0\0blksize\0"
	    "1024\0"), 0, TFTP_OPT_MULTICAST | TFTP_OPT_BLKSIZE, 1024, 1, 0, 0, NULL, false, 0 },
	{ "multicast name case-insensitive", P("\0\1f\0octet\0MultiCast\0\0"), 0,
	    TFTP_OPT_MULTICAST, 512, 1, 0, 0, NULL, false, 0 },
	{ "multicast with a value: ignored", P("\0\1f\0octet\0multicast\0" "1\0"), 0, 0, 512,
	    1, 0, 0, NULL, false, 0 },
	{ "multicast last, its value's NUL missing", P("\0\1f\0octet\0multicast\0"), 0, 0,
	    512, 1, 0, 0, NULL, true, 0 },
	{ "option without value: trailing garbage", P("\0\1f\0octet\0blksize\0" "1024\0tsize\0"),
	    0, TFTP_OPT_BLKSIZE, 1024, 1, 0, 0, NULL, true, 0 },
	{ "unterminated trailing bytes", P("\0\1f\0octet\0xyz"), 0, 0, 512, 1, 0, 0, NULL,
	    true, 0 },
	{ "NUL padding accepted", P("\0\1f\0octet\0\0\0\0\0"), 0, 0, 512, 1, 0, 0, NULL,
	    false, 0 },
	{ "missing NUL after filename", P("\0\1pxelinux.0"), -EBADMSG, 0, 0, 0, 0, 0, NULL,
	    false, 0 },
	{ "missing NUL after mode", P("\0\1f\0octet"), -EBADMSG, 0, 0, 0, 0, 0, NULL, false, 0 },
	{ "empty filename", P("\0\1\0octet\0"), -EBADMSG, 0, 0, 0, 0, 0, NULL, false, 0 },
	{ "unknown mode", P("\0\1f\0mail\0"), -EINVAL, 0, 0, 0, 0, 0, NULL, false, 0 },
	{ "truncated opcode", P("\0"), -EBADMSG, 0, 0, 0, 0, 0, NULL, false, 0 },
	{ "empty datagram", (const uint8_t *)"", 0, -EBADMSG, 0, 0, 0, 0, 0, NULL, false, 0 },
	{ "DATA is not a request", P("\0\3\0\1abc"), -EPROTO, 0, 0, 0, 0, 0, NULL, false, 0 },
	{ "ACK is not a request", P("\0\4\0\1"), -EPROTO, 0, 0, 0, 0, 0, NULL, false, 0 },
	{ "ERROR is not a request", P("\0\5\0\1x\0"), -EPROTO, 0, 0, 0, 0, 0, NULL, false, 0 },
	{ "OACK is not a request", P("\0\6blksize\0" "8\0"), -EPROTO, 0, 0, 0, 0, 0, NULL,
	    false, 0 },
	{ "opcode 0", P("\0\0f\0octet\0"), -EPROTO, 0, 0, 0, 0, 0, NULL, false, 0 },
	{ "opcode 65535", P("\xff\xff" "f\0octet\0"), -EPROTO, 0, 0, 0, 0, 0, NULL, false, 0 },
};

static void
test_request_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof request_cases / sizeof request_cases[0]; i++) {
		const struct request_case *c = &request_cases[i];
		uint8_t *buf = malloc(c->len ? c->len : 1);
		struct tftp_request req;
		const char *why = NULL;

		memcpy(buf, c->bytes, c->len);
		int rc = tftp_request_parse(buf, c->len, &req, &why);
		print_message("case: %s\n", c->what);
		assert_int_equal(rc, c->rc);
		if (rc != 0) {
			assert_non_null(why);
			free(buf);
			continue;
		}
		assert_int_equal(req.present, c->present);
		assert_int_equal(req.blksize, c->blksize);
		assert_int_equal(req.windowsize, c->windowsize);
		if (c->present & TFTP_OPT_TIMEOUT)
			assert_int_equal(req.timeout, c->timeout);
		if (c->present & TFTP_OPT_TSIZE)
			assert_true(req.tsize == c->tsize);
		if (c->option_error == NULL)
			assert_null(req.option_error);
		else
			assert_string_equal(req.option_error, c->option_error);
		assert_int_equal(req.trailing_garbage, c->trailing);
		assert_int_equal(req.unknown_options, c->unknown);
		free(buf);
	}
}

static void
test_request_fields(void **state)
{
	static const uint8_t pkt[] = "\0\1\\Boot\\BCD\0octet\0tsize\0" "0\0";
	struct tftp_request req;
	const char *why;

	(void)state;
	assert_int_equal(tftp_request_parse(pkt, sizeof pkt - 1, &req, &why), 0);
	assert_int_equal(req.op, TFTP_RRQ);
	assert_int_equal(req.filename_len, 9);
	assert_memory_equal(req.filename, "\\Boot\\BCD", 9);
	assert_int_equal(req.mode, TFTP_MODE_OCTET);
}

static void
test_request_too_long(void **state)
{
	size_t len = TFTP_REQUEST_MAX + 1;
	uint8_t *buf = calloc(1, len);
	struct tftp_request req;
	const char *why;

	(void)state;
	buf[1] = 1;
	buf[2] = 'f';
	memcpy(buf + 4, "octet", 5);
	assert_int_equal(tftp_request_parse(buf, len, &req, &why), -EBADMSG);
	free(buf);
}

static void
test_build_oack_roundtrip(void **state)
{
	struct tftp_oack out = {
		.present = TFTP_OPT_BLKSIZE | TFTP_OPT_TSIZE | TFTP_OPT_WINDOWSIZE | TFTP_OPT_TIMEOUT,
		.blksize = 1468, .tsize = 41943040ull * 1024, .windowsize = 4, .timeout = 3,
	};
	struct tftp_oack in;
	uint8_t buf[512];
	size_t n;

	(void)state;
	n = tftp_build_oack(buf, sizeof buf, &out);
	assert_true(n > 2);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1], TFTP_OACK);
	assert_int_equal(buf[n - 1], 0);
	assert_int_equal(tftp_oack_parse(buf, n, &in), 0);
	assert_int_equal(in.present, out.present);
	assert_int_equal(in.blksize, 1468);
	assert_true(in.tsize == out.tsize);
	assert_int_equal(in.windowsize, 4);
	assert_int_equal(in.timeout, 3);
	/* exactly the options asked, nothing else */
	assert_memory_equal(buf + 2, "blksize\0" "1468\0tsize\0", 19);
	/* too small a buffer: nothing written */
	assert_int_equal(tftp_build_oack(buf, 10, &out), 0);
}

static void
test_build_small_packets(void **state)
{
	uint8_t buf[64];

	(void)state;
	assert_int_equal(tftp_build_ack(buf, sizeof buf, 0xfffe), 4);
	assert_memory_equal(buf, "\0\4\xff\xfe", 4);
	assert_int_equal(tftp_build_data_header(buf, sizeof buf, 1), 4);
	assert_memory_equal(buf, "\0\3\0\1", 4);
	assert_int_equal(tftp_build_error(buf, sizeof buf, TFTP_ERR_ACCESS, "denied"), 11);
	assert_memory_equal(buf, "\0\5\0\2denied\0", 11);
	assert_int_equal(tftp_build_error(buf, 5, TFTP_ERR_ACCESS, "denied"), 0);
	assert_int_equal(tftp_build_ack(buf, 3, 1), 0);
}

static void
test_packet_header(void **state)
{
	static const uint8_t ack[] = { 0, 4, 0x12, 0x34 };
	uint16_t op, num;

	(void)state;
	assert_int_equal(tftp_packet_header(ack, 4, &op, &num), 0);
	assert_int_equal(op, TFTP_ACK);
	assert_int_equal(num, 0x1234);
	assert_int_equal(tftp_packet_header(ack, 3, &op, &num), -EBADMSG);
	assert_int_equal(tftp_packet_header(ack, 0, &op, &num), -EBADMSG);
}

static void
test_build_request_roundtrip(void **state)
{
	struct tftp_oack opts = { .present = TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE,
		.blksize = 1468, .windowsize = 16 };
	struct tftp_request req;
	const char *why;
	uint8_t buf[256];

	(void)state;
	size_t n = tftp_build_request(buf, sizeof buf, TFTP_RRQ, "ipxe.efi", "octet", &opts);
	assert_true(n > 0);
	assert_int_equal(tftp_request_parse(buf, n, &req, &why), 0);
	assert_int_equal(req.blksize, 1468);
	assert_int_equal(req.windowsize, 16);
	assert_int_equal(req.present, TFTP_OPT_BLKSIZE | TFTP_OPT_WINDOWSIZE);
}

struct multicast_case {
	const char *value;
	int rc;
	bool has_group;
	uint8_t addr[4];
	uint16_t port;
	bool master;
};

static const struct multicast_case multicast_cases[] = {
	{ "239.255.0.1,1758,1", 0, true, { 239, 255, 0, 1 }, 1758, true },
	{ "224.0.1.2,65535,0", 0, true, { 224, 0, 1, 2 }, 65535, false },
	{ ",,1", 0, false, { 0 }, 0, true },
	{ ",,0", 0, false, { 0 }, 0, false },
	{ "", -EBADMSG, false, { 0 }, 0, false },
	{ ",,", -EBADMSG, false, { 0 }, 0, false },
	{ ",,2", -EBADMSG, false, { 0 }, 0, false },
	{ ",,1,", -EBADMSG, false, { 0 }, 0, false },
	{ "239.255.0.1,,1", -EBADMSG, false, { 0 }, 0, false },
	{ ",1758,1", -EBADMSG, false, { 0 }, 0, false },
	{ "239.255.0.1,0,1", -EBADMSG, false, { 0 }, 0, false },
	{ "239.255.0.1,65536,1", -EBADMSG, false, { 0 }, 0, false },
	{ "239.255.0,1758,1", -EBADMSG, false, { 0 }, 0, false },
	{ "239.255.0.1.1,1758,1", -EBADMSG, false, { 0 }, 0, false },
	{ "239.256.0.1,1758,1", -EBADMSG, false, { 0 }, 0, false },
	{ "239..0.1,1758,1", -EBADMSG, false, { 0 }, 0, false },
	{ "239.0255.0.1,1758,1", -EBADMSG, false, { 0 }, 0, false },
	{ "239.255.0.1,1758", -EBADMSG, false, { 0 }, 0, false },
	{ "239.255.0.1", -EBADMSG, false, { 0 }, 0, false },
};

/* The OACK value parser, each input in an exact-size heap buffer. */
static void
test_multicast_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof multicast_cases / sizeof multicast_cases[0]; i++) {
		const struct multicast_case *c = &multicast_cases[i];
		size_t len = strlen(c->value);
		char *buf = malloc(len ? len : 1);
		struct tftp_multicast m;

		print_message("multicast value: '%s'\n", c->value);
		memcpy(buf, c->value, len);
		assert_int_equal(tftp_multicast_parse(buf, len, &m), c->rc);
		free(buf);
		if (c->rc != 0)
			continue;
		assert_int_equal(m.has_group, c->has_group);
		assert_memory_equal(m.addr, c->addr, 4);
		assert_int_equal(m.port, c->port);
		assert_int_equal(m.master, c->master);
	}
}

/* OACK with multicast: "addr,port,mc", or ",,1"; parsed back; a request
 * carries it with an empty value. */
static void
test_multicast_build(void **state)
{
	struct tftp_oack out = { .present = TFTP_OPT_BLKSIZE | TFTP_OPT_MULTICAST,
		.blksize = 1428,
		.multicast = { .has_group = true, .addr = { 239, 255, 7, 200 }, .port = 1758,
		    .master = true } };
	static const char want[] = "\0\6blksize\0" "1428\0multicast\0" "239.255.7.200,1758,1";
	struct tftp_oack in;
	struct tftp_request req;
	char text[TFTP_MULTICAST_TEXT_MAX];
	const char *why;
	uint8_t buf[128];

	(void)state;
	size_t n = tftp_build_oack(buf, sizeof buf, &out);
	assert_int_equal(n, sizeof want);
	assert_memory_equal(buf, want, sizeof want);
	assert_int_equal(tftp_oack_parse(buf, n, &in), 0);
	assert_int_equal(in.present, out.present);
	assert_memory_equal(&in.multicast, &out.multicast, sizeof out.multicast);
	/* a later OACK making a client master: group and port left out */
	out.multicast = (struct tftp_multicast){ .master = true };
	out.present = TFTP_OPT_MULTICAST;
	n = tftp_build_oack(buf, sizeof buf, &out);
	assert_int_equal(n, 2 + 10 + 4);
	assert_memory_equal(buf + 2, "multicast\0,,1", 14);
	assert_int_equal(tftp_oack_parse(buf, n, &in), 0);
	assert_true(in.multicast.master && !in.multicast.has_group);
	/* the longest value fits its buffer exactly */
	out.multicast = (struct tftp_multicast){ { 255, 255, 255, 255 }, 65535, true, true };
	assert_int_equal(tftp_multicast_format(&out.multicast, text, sizeof text), 23);
	assert_int_equal(tftp_multicast_format(&out.multicast, text, 23), 0);
	/* a bad value in an OACK is skipped like an unknown option */
	static const uint8_t bad[] = "\0\6multicast\0" "1,2\0";
	assert_int_equal(tftp_oack_parse(bad, sizeof bad - 1, &in), 0);
	assert_int_equal(in.present, 0);
	/* in a request: empty value */
	n = tftp_build_request(buf, sizeof buf, TFTP_RRQ, "f", "octet", &out);
	assert_int_equal(n, 2 + 2 + 6 + 10 + 1);
	assert_memory_equal(buf + 10, "multicast\0\0", 11);
	assert_int_equal(tftp_request_parse(buf, n, &req, &why), 0);
	assert_int_equal(req.present, TFTP_OPT_MULTICAST);
}

static void
test_oack_parse_bad(void **state)
{
	struct tftp_oack o;

	(void)state;
	assert_int_equal(tftp_oack_parse((const uint8_t *)"\0\6blksize\0" "8", 11, &o), -EBADMSG);
	assert_int_equal(tftp_oack_parse((const uint8_t *)"\0\4\0\0", 4, &o), -EBADMSG);
	assert_int_equal(tftp_oack_parse((const uint8_t *)"\0\6", 2, &o), 0);
	assert_int_equal(o.present, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_table),
		cmocka_unit_test(test_request_fields),
		cmocka_unit_test(test_request_too_long),
		cmocka_unit_test(test_build_oack_roundtrip),
		cmocka_unit_test(test_build_small_packets),
		cmocka_unit_test(test_packet_header),
		cmocka_unit_test(test_build_request_roundtrip),
		cmocka_unit_test(test_oack_parse_bad),
		cmocka_unit_test(test_multicast_parse),
		cmocka_unit_test(test_multicast_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
