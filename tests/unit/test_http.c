/* Unit tests of the pure HTTP helpers: request target resolution, Range,
 * dates, entity tags, media types, status mapping, /metrics and status. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "core/util.h"
#include "http/internal.h"
#include "api/internal.h"
#include "http/server.h"

/* ---- http_path_resolve ---- */

struct path_case {
	const char *target;
	int rc;
	const char *out;                /* expected when rc == 0 */
};

static const struct path_case path_cases[] = {
	{ "/boot/ipxe.efi", 0, "boot/ipxe.efi" },
	{ "/", 0, "" },
	{ "", 0, "" },
	{ "/a%20b.efi", 0, "a b.efi" },
	{ "/boot%2Fipxe.efi", 0, "boot/ipxe.efi" },
	{ "/boot%2fipxe.efi", 0, "boot/ipxe.efi" },
	{ "/%25", 0, "%" },
	{ "/a%C3%A9", 0, "a\xc3\xa9" },
	{ "/a+b", 0, "a+b" },
	{ "//boot/./x//y", 0, "boot/x/y" },
	{ "/%2e/x", 0, "x" },
	{ "/%2e%2e/etc/passwd", -EACCES, NULL },
	{ "/%2E%2E/etc/passwd", -EACCES, NULL },
	{ "/boot/%2e%2e/%2e%2e/x", -EACCES, NULL },
	{ "/boot/..%2fx", -EACCES, NULL },
	{ "/../x", -EACCES, NULL },
	{ "/a%00b", -EACCES, NULL },
	{ "/a%0ab", -EACCES, NULL },
	{ "/a%7f", -EACCES, NULL },
	{ "/a\tb", -EACCES, NULL },
	{ "/a%4", -EINVAL, NULL },
	{ "/a%", -EINVAL, NULL },
	{ "/%zz", -EINVAL, NULL },
	{ "/%4g", -EINVAL, NULL },
	{ "/%g4", -EINVAL, NULL },
	{ "/x.efi?y=1", 0, "x.efi" },
	{ "/x.efi?y=%00&z=%zz", 0, "x.efi" },
	{ "/x%3Fy", 0, "x?y" },
	{ "?only=query", 0, "" },
	{ "/boot\\ipxe.efi", 0, "boot/ipxe.efi" },
	{ "\\boot\\ipxe.efi", 0, "boot/ipxe.efi" },
	{ "/boot%5Cipxe.efi", 0, "boot/ipxe.efi" },
	{ "/boot%5C..%5Cx", -EACCES, NULL },
	{ "http://host:8080/boot/x.efi", 0, "boot/x.efi" },
	{ "HTTPS://host/a", 0, "a" },
	{ "http://host", 0, "" },
	{ "/srv/tftp/boot/x", 0, "boot/x" },     /* root prefix stripped */
	{ "/srv/tftpx/boot", 0, "srv/tftpx/boot" },
};

static void
test_path_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(path_cases); i++) {
		const struct path_case *pc = &path_cases[i];
		char out[FILES_PATH_MAX];
		int rc = http_path_resolve(pc->target, strlen(pc->target), "/srv/tftp",
		    out, sizeof out);
		if (rc != pc->rc)
			fail_msg("case %zu \"%s\": rc %d, want %d", i, pc->target, rc, pc->rc);
		if (rc == 0)
			assert_string_equal(out, pc->out);
		else
			assert_string_equal(out, "");
	}
}

/* The target is not NUL-terminated and ends exactly at the end of a heap
 * block: ASan catches any read past target_len. */
static void
test_path_exact_end(void **state)
{
	static const char *const targets[] = {
		"/ok.efi", "/a%", "/a%4", "/a%41", "/x?", "/%2e%2e", "http://h",
	};
	static const int want[] = { 0, -EINVAL, -EINVAL, 0, 0, -EACCES, 0 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
		size_t len = strlen(targets[i]);
		char *buf = malloc(len);
		char out[FILES_PATH_MAX];
		assert_non_null(buf);
		memcpy(buf, targets[i], len);
		assert_int_equal(http_path_resolve(buf, len, NULL, out, sizeof out), want[i]);
		free(buf);
	}
}

static void
test_path_limits(void **state)
{
	char *big = malloc(HTTP_TARGET_MAX + 2);
	char out[FILES_PATH_MAX], small[4];

	(void)state;
	assert_non_null(big);
	memset(big, 'a', HTTP_TARGET_MAX + 2);
	big[0] = '/';
	assert_int_equal(http_path_resolve(big, HTTP_TARGET_MAX + 2, NULL, out,
	    sizeof out), -ENAMETOOLONG);
	/* one component over FILES_NAME_MAX */
	assert_int_equal(http_path_resolve(big, FILES_NAME_MAX + 2, NULL, out,
	    sizeof out), -ENAMETOOLONG);
	assert_int_equal(http_path_resolve(big, FILES_NAME_MAX + 1, NULL, out,
	    sizeof out), 0);
	/* "./" repeated decodes long but normalizes short */
	for (size_t i = 0; i + 1 < HTTP_TARGET_MAX; i += 2)
		memcpy(big + i, "/.", 2);
	assert_int_equal(http_path_resolve(big, HTTP_TARGET_MAX - 1, NULL, out,
	    sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(http_path_resolve("/abcdef", 7, NULL, small, sizeof small),
	    -ENAMETOOLONG);
	assert_int_equal(http_path_resolve("/a", 2, NULL, NULL, 0), -EINVAL);
	assert_int_equal(http_path_resolve(NULL, 0, NULL, out, sizeof out), 0);
	free(big);
}

/* ---- http_range_parse ---- */

struct range_case {
	const char *value;
	uint64_t size;
	int rc;
	uint64_t start, count;
};

#define U64MAX_S "18446744073709551615"
#define GIB5 UINT64_C(5368709120)

static const struct range_case range_cases[] = {
	{ "bytes=0-499", 1000, 0, 0, 500 },
	{ "bytes=500-", 1000, 0, 500, 500 },
	{ "bytes=-200", 1000, 0, 800, 200 },
	{ "bytes=-1000", 1000, 0, 0, 1000 },
	{ "bytes=-5000", 1000, 0, 0, 1000 },
	{ "bytes=0-0", 1000, 0, 0, 1 },
	{ "bytes=999-999", 1000, 0, 999, 1 },
	{ "bytes=999-", 1000, 0, 999, 1 },
	{ "bytes=900-5000", 1000, 0, 900, 100 },
	{ "bytes=0-999", 1000, 0, 0, 1000 },
	{ " Bytes=10-19 ", 1000, 0, 10, 10 },
	{ "BYTES= 10-19", 1000, 0, 10, 10 },
	{ "bytes=1000-", 1000, -ERANGE, 0, 0 },
	{ "bytes=1000-2000", 1000, -ERANGE, 0, 0 },
	{ "bytes=-0", 1000, -ERANGE, 0, 0 },
	{ "bytes=0-", 0, -ERANGE, 0, 0 },
	{ "bytes=-1", 0, -ERANGE, 0, 0 },
	{ "bytes=5-2", 1000, -EINVAL, 0, 0 },
	{ "bytes=0-1,5-6", 1000, -EINVAL, 0, 0 },
	{ "bytes=0-1, 5-6", 1000, -EINVAL, 0, 0 },
	{ "bytes=0-1,", 1000, -EINVAL, 0, 0 },
	{ "bytes=", 1000, -EINVAL, 0, 0 },
	{ "bytes=-", 1000, -EINVAL, 0, 0 },
	{ "bytes=a-b", 1000, -EINVAL, 0, 0 },
	{ "bytes=1-2x", 1000, -EINVAL, 0, 0 },
	{ "bytes=1 -2", 1000, -EINVAL, 0, 0 },
	{ "bytes=--1", 1000, -EINVAL, 0, 0 },
	{ "bytes=1--2", 1000, -EINVAL, 0, 0 },
	{ "bytes=+1-2", 1000, -EINVAL, 0, 0 },
	{ "bytes=1", 1000, -EINVAL, 0, 0 },
	{ "bytes 0-1", 1000, -EINVAL, 0, 0 },
	{ "items=0-1", 1000, -EINVAL, 0, 0 },
	{ "bytes", 1000, -EINVAL, 0, 0 },
	{ "", 1000, -EINVAL, 0, 0 },
	/* 64-bit edges: saturating numbers, no wrap-around */
	{ "bytes=" U64MAX_S "-", 1000, -ERANGE, 0, 0 },
	{ "bytes=99999999999999999999999999-", 1000, -ERANGE, 0, 0 },
	{ "bytes=0-99999999999999999999999999", 1000, 0, 0, 1000 },
	{ "bytes=-99999999999999999999999999", 1000, 0, 0, 1000 },
	{ "bytes=99999999999999999999999999-5", 1000, -EINVAL, 0, 0 },
	{ "bytes=0-" U64MAX_S, UINT64_MAX, 0, 0, UINT64_MAX },
	{ "bytes=1-" U64MAX_S, UINT64_MAX, 0, 1, UINT64_MAX - 1 },
	{ "bytes=-" U64MAX_S, UINT64_MAX, 0, 0, UINT64_MAX },
	{ "bytes=5368709000-", GIB5, 0, UINT64_C(5368709000), 120 },
	{ "bytes=5368709000-5368709119", GIB5, 0, UINT64_C(5368709000), 120 },
	{ "bytes=-4096", GIB5, 0, GIB5 - 4096, 4096 },
	{ "bytes=5368709120-", GIB5, -ERANGE, 0, 0 },
};

static void
test_range_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(range_cases); i++) {
		const struct range_case *rc = &range_cases[i];
		uint64_t start = 77, count = 77;
		int r = http_range_parse(rc->value, strlen(rc->value), rc->size,
		    &start, &count);
		if (r != rc->rc)
			fail_msg("case %zu \"%s\": rc %d, want %d", i, rc->value, r, rc->rc);
		if (r == 0 && (start != rc->start || count != rc->count))
			fail_msg("case %zu \"%s\": %llu+%llu, want %llu+%llu", i, rc->value,
			    (unsigned long long)start, (unsigned long long)count,
			    (unsigned long long)rc->start, (unsigned long long)rc->count);
	}
}

static void
test_range_bounds(void **state)
{
	char value[HTTP_RANGE_VALUE_MAX + 2];
	uint64_t start, count;
	const char *exact = "bytes=0-9";
	char *buf = malloc(strlen(exact));

	(void)state;
	memset(value, ' ', sizeof value);
	memcpy(value, "bytes=0-9", 9);
	assert_int_equal(http_range_parse(value, HTTP_RANGE_VALUE_MAX, 100,
	    &start, &count), 0);
	assert_int_equal(http_range_parse(value, HTTP_RANGE_VALUE_MAX + 1, 100,
	    &start, &count), -EINVAL);
	assert_int_equal(http_range_parse(NULL, 0, 100, &start, &count), -EINVAL);
	assert_non_null(buf);
	memcpy(buf, exact, strlen(exact));
	assert_int_equal(http_range_parse(buf, strlen(exact), 100, &start, &count), 0);
	assert_int_equal(count, 10);
	/* "bytes=0-" cut just before its end: the last digit is not read */
	assert_int_equal(http_range_parse(buf, strlen(exact) - 1, 100, &start, &count), 0);
	assert_int_equal(count, 100);
	free(buf);
}

/* ---- dates, entity tags, types, statuses ---- */

static void
test_dates(void **state)
{
	char buf[HTTP_DATE_SIZE];
	time_t t;

	(void)state;
	assert_int_equal(http_date_format(784111777, buf, sizeof buf), 0);
	assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	assert_int_equal(http_date_format(0, buf, sizeof buf), 0);
	assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
	assert_int_equal(http_date_format(0, buf, 10), -EINVAL);
	assert_int_equal(http_date_parse(" Sun, 06 Nov 1994 08:49:37 GMT ", 31, &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(http_date_parse("Thu, 29 Feb 2024 23:59:59 GMT", 29, &t), 0);
	static const char *const bad[] = {
		"Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Foo 1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		"Sun, 6 Nov 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:3x GMT", "", "yesterday",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (http_date_parse(bad[i], strlen(bad[i]), &t) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

static void
test_etags(void **state)
{
	struct stat st = { 0 };
	char etag[HTTP_ETAG_SIZE];

	(void)state;
	st.st_ino = 0x1a2b;
	st.st_size = 0x400;
	st.st_mtim.tv_sec = 2;
	st.st_mtim.tv_nsec = 5;
	http_etag_format(&st, etag, sizeof etag);
	assert_string_equal(etag, "\"1a2b-400-77359405\"");
	static const struct { const char *list; bool match; } cases[] = {
		{ "\"1a2b-400-77359405\"", true },
		{ "W/\"1a2b-400-77359405\"", true },
		{ "\"x\", \"1a2b-400-77359405\"", true },
		{ " \"x\" ,W/\"1a2b-400-77359405\" ", true },
		{ "*", true },
		{ " * ", true },
		{ "\"x\"", false },
		{ "1a2b-400-77359405", false },
		{ "\"1a2b-400-77359405", false },
		{ "\"x\" junk, \"1a2b-400-77359405\"", false },
		{ "\"1a2b-400-7735940\"", false },
		{ "", false },
		{ ",,", false },
		{ "W/", false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (http_etag_list_match(cases[i].list, strlen(cases[i].list), etag) !=
		    cases[i].match)
			fail_msg("case %zu \"%s\"", i, cases[i].list);
	}
}

static void
test_types_and_statuses(void **state)
{
	(void)state;
	assert_string_equal(http_content_type("boot/ipxe.efi"), "application/efi");
	assert_string_equal(http_content_type("BOOT/BOOTX64.EFI"), "application/efi");
	assert_string_equal(http_content_type("menu.ipxe"), "text/plain");
	assert_string_equal(http_content_type("pxelinux.cfg"), "text/plain");
	assert_string_equal(http_content_type("a.txt"), "text/plain");
	assert_string_equal(http_content_type("ui/index.html"), "text/html; charset=utf-8");
	assert_string_equal(http_content_type("ui/app.CSS"), "text/css; charset=utf-8");
	assert_string_equal(http_content_type("ui/js/app.js"), "text/javascript; charset=utf-8");
	assert_string_equal(http_content_type("ui/logo.svg"), "image/svg+xml");
	assert_string_equal(http_content_type("ui/app.json"), "application/json");
	assert_string_equal(http_content_type("a.jsx"), "application/octet-stream");
	assert_string_equal(http_content_type("vmlinuz"), "application/octet-stream");
	assert_string_equal(http_content_type("efi"), "application/octet-stream");
	assert_string_equal(http_content_type(""), "application/octet-stream");
	assert_int_equal(http_status_for_error(-ENOENT, false), 404);
	assert_int_equal(http_status_for_error(-EACCES, false), 403);
	assert_int_equal(http_status_for_error(-EISDIR, false), 404);
	assert_int_equal(http_status_for_error(-EINVAL, false), 404);
	assert_int_equal(http_status_for_error(-EINVAL, true), 400);
	assert_int_equal(http_status_for_error(-EACCES, true), 403);
	assert_int_equal(http_status_for_error(-ENAMETOOLONG, true), 414);
	assert_int_equal(http_status_for_error(-EIO, false), 500);
}

/* ---- /metrics and /api/v1/status ---- */

static void
test_metrics(void **state)
{
	size_t len = 0;
	char *text;

	(void)state;
	atomic_store(&stats.tftp_requests, 12);
	atomic_store(&stats.http_connections_active, 3);
	text = api_metrics_text(&len);
	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	assert_non_null(strstr(text, "\npxed_tftp_requests_total 12\n"));
	assert_non_null(strstr(text, "\npxed_http_connections_active 3\n"));
	assert_non_null(strstr(text, "# TYPE pxed_http_bytes_sent_total counter\n"));
	assert_non_null(strstr(text, "# TYPE pxed_tftp_sessions_active gauge\n"));
	free(text);
}

static void
test_status_json(void **state)
{
	json_error_t err;
	size_t len = 0;
	char *text;
	json_t *root;

	(void)state;
	atomic_store(&stats.tftp_requests, 12);
	atomic_store(&stats.http_requests, 7);
	static struct api_service services[2] = {
		{ .name = "tftp", .count = 2, .listen = { "0.0.0.0:69", "[::]:69" } },
		{ .name = "dhcp", .mode = "proxy", .count = 1, .listen = { "0.0.0.0:67%eth0" } },
	};
	text = api_status_json(42, services, 2, NULL, NULL, &len);
	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	root = json_loads(text, 0, &err);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "version")), "0.1.0");
	assert_int_equal(json_integer_value(json_object_get(root, "uptime_s")), 42);
	assert_int_equal(json_integer_value(json_object_get(
	    json_object_get(root, "tftp"), "requests")), 12);
	assert_int_equal(json_integer_value(json_object_get(
	    json_object_get(root, "http"), "requests")), 7);
	assert_non_null(json_object_get(json_object_get(root, "http"),
	    "connections_active"));
	json_t *sv = json_object_get(root, "services");
	assert_int_equal(json_array_size(sv), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sv, 0), "name")),
	    "tftp");
	assert_null(json_object_get(json_array_get(sv, 0), "mode"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_array_get(sv, 0), "listen"), 1)), "[::]:69");
	assert_string_equal(json_string_value(json_object_get(json_array_get(sv, 1), "mode")),
	    "proxy");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_array_get(sv, 1), "listen"), 0)), "0.0.0.0:67%eth0");
	json_decref(root);
	free(text);
}

/* A thread that could not open the state store still answers: the
 * engine of the setting, not reachable. */
static void
test_status_no_store(void **state)
{
	static const struct { const char *where, *engine; } cases[] = {
		{ "postgresql://pxed@/pxed?host=/nonexistent", "postgresql" },
		{ "/var/lib/pxed", "sqlite" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *text = api_status_json(1, NULL, 0, cases[i].where, NULL, NULL);
		json_t *root = json_loads(text, 0, NULL), *st;
		assert_non_null(root);
		st = json_object_get(root, "state");
		assert_string_equal(json_string_value(json_object_get(st, "engine")),
		    cases[i].engine);
		assert_true(json_is_false(json_object_get(st, "reachable")));
		json_decref(root);
		free(text);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_table),
		cmocka_unit_test(test_path_exact_end),
		cmocka_unit_test(test_path_limits),
		cmocka_unit_test(test_range_table),
		cmocka_unit_test(test_range_bounds),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_etags),
		cmocka_unit_test(test_types_and_statuses),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_status_no_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
