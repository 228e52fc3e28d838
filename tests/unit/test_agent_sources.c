/* Unit tests for chunk sources: the chunk-sources setting's syntax and the
 * choice of a subnet's list (image/sources.c, in libpxed), and the agent's
 * order of sources with their rests, driven with fake time
 * (agent/sources.c, compiled in: the agent is not in libpxed). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "agent/sources.c"

#define S (1000000ull)                  /* a second in µs */

/* Parse text from a heap copy of exactly its length (ASan sees over-reads). */
static int
parse(const char *text, struct chunk_sources *out, char *err, size_t errlen)
{
	char *copy = strdup(text);
	int rc;

	assert_non_null(copy);
	rc = chunk_sources_parse(copy, out, err, errlen);
	free(copy);
	return rc;
}

static void
test_parse_good(void **state)
{
	static const struct {
		const char *text;
		size_t count;
		const char *first, *last;
	} cases[] = {
		{ "http://198.51.100.1:8080/pxed/images/chunks/", 1,
		  "http://198.51.100.1:8080/pxed/images/chunks/", NULL },
		{ "http://cache.building-a/pxed", 1, "http://cache.building-a/pxed/", NULL },
		{ "http://a/ http://b:81/x/", 2, "http://a/", "http://b:81/x/" },
		{ "  http://a/,http://b/\thttp://c/ , http://d/  ", 4, "http://a/", "http://d/" },
		{ "http://a", 1, "http://a/", NULL },
		{ "none", 0, NULL, NULL },
	};
	struct chunk_sources s;
	char err[256], text[CHUNK_SOURCES_TEXT_MAX + 8];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct chunk_sources again;
		assert_int_equal(parse(cases[i].text, &s, err, sizeof err), 0);
		assert_int_equal(s.count, cases[i].count);
		if (cases[i].first != NULL)
			assert_string_equal(s.url[0], cases[i].first);
		if (cases[i].last != NULL)
			assert_string_equal(s.url[s.count - 1], cases[i].last);
		/* written back, it parses to the same list */
		chunk_sources_format(&s, text, sizeof text);
		assert_int_equal(parse(text, &again, err, sizeof err), 0);
		assert_memory_equal(&s, &again, sizeof s);
		assert_int_equal(chunk_sources_check(cases[i].text, err, sizeof err), 0);
	}
}

static void
test_parse_bad(void **state)
{
	char longest[CHUNK_SOURCE_URL_MAX + 8];
	const char *cases[] = {
		"", "   ", ",", "ftp://a/", "https://a/", "http://", "http:///path",
		"http://:80/", "a/b", "http://a/?q=1", "http://a/#f", "http://a/\"x",
		"http://a/\\x", "http://a/<x>", "http://a/{x}", "http://a/|", "http://a/^",
		"http://a/`", "http://a/\x7f", "http://a/\x01", "http://a/\xc3\xa9",
		"http://a/ http://b/ http://c/ http://d/ http://e/", "none http://a/",
		"HTTP://a/", longest,
	};
	struct chunk_sources s;
	char err[256];

	(void)state;
	/* one byte longer than a source URL may be */
	memcpy(longest, "http://a/", 9);
	memset(longest + 9, 'x', CHUNK_SOURCE_URL_MAX - 1 - 9);
	longest[CHUNK_SOURCE_URL_MAX - 1] = '\0';
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		if (parse(cases[i], &s, err, sizeof err) == 0)
			fail_msg("case %zu \"%s\" parsed", i, cases[i]);
		assert_true(err[0] != '\0');
	}
	/* one byte too long once its '/' is added */
	longest[CHUNK_SOURCE_URL_MAX - 2] = '\0';
	assert_int_not_equal(parse(longest, &s, err, sizeof err), 0);
	/* the longest that fits: its '/' added; the stored form parses again */
	longest[CHUNK_SOURCE_URL_MAX - 3] = '\0';
	assert_int_equal(parse(longest, &s, err, sizeof err), 0);
	assert_int_equal(strlen(s.url[0]), CHUNK_SOURCE_URL_MAX - 2);
	snprintf(longest, sizeof longest, "%s", s.url[0]);
	assert_int_equal(parse(longest, &s, err, sizeof err), 0);
}

static struct chunk_sources_rule
rule(const char *net, int bits)
{
	struct chunk_sources_rule r = { 0 };

	inet_pton(AF_INET, net, &r.network);
	r.netmask.s_addr = bits == 0 ? 0 : htonl(0xffffffffu << (32 - bits));
	r.sources.count = 1;
	snprintf(r.sources.url[0], sizeof r.sources.url[0], "http://%s-%d/", net, bits);
	return r;
}

static const char *
pick(const struct chunk_sources_rule *rules, size_t n, const char *addr)
{
	struct in_addr a;
	const struct chunk_sources_rule *r;

	inet_pton(AF_INET, addr, &a);
	r = chunk_sources_pick(rules, n, a);
	return r != NULL ? r->sources.url[0] : "(none)";
}

static void
test_pick(void **state)
{
	struct chunk_sources_rule rules[] = {
		rule("198.51.100.0", 24), rule("198.51.100.128", 25), rule("203.0.113.0", 24),
		rule("198.51.0.0", 16),
	};

	(void)state;
	assert_string_equal(pick(rules, 4, "198.51.100.7"), "http://198.51.100.0-24/");
	assert_string_equal(pick(rules, 4, "198.51.100.200"), "http://198.51.100.128-25/");
	assert_string_equal(pick(rules, 4, "198.51.7.1"), "http://198.51.0.0-16/");
	assert_string_equal(pick(rules, 4, "203.0.113.9"), "http://203.0.113.0-24/");
	assert_string_equal(pick(rules, 4, "192.0.2.2"), "(none)");
	assert_string_equal(pick(rules, 0, "198.51.100.7"), "(none)");
}

static struct source_set
two_caches(void)
{
	struct chunk_sources caches = { .count = 2 };
	struct source_set s;

	snprintf(caches.url[0], sizeof caches.url[0], "http://a/");
	snprintf(caches.url[1], sizeof caches.url[1], "http://b/");
	source_set_init(&s, &caches, "http://192.0.2.1/images/chunks/");
	return s;
}

static void
test_order(void **state)
{
	struct source_set s = two_caches();
	struct source_set none;

	(void)state;
	assert_int_equal(s.count, 3);
	assert_true(s.src[2].server);
	assert_false(s.src[0].server);
	assert_int_equal(source_set_next(&s, 0, 0), 0);
	assert_int_equal(source_set_next(&s, 1, 0), 1);
	assert_int_equal(source_set_next(&s, 2, 0), 2);
	assert_int_equal(source_set_next(&s, 3, 0), 2);         /* past the end: the server */
	/* no cache: the server alone */
	source_set_init(&none, NULL, "http://192.0.2.1/images/chunks/");
	assert_int_equal(none.count, 1);
	assert_int_equal(source_set_next(&none, 0, 0), 0);
	/* what each served */
	source_set_record(&s, 0, SOURCE_OK, 4096, 0);
	source_set_record(&s, 0, SOURCE_OK, 100, 0);
	source_set_record(&s, 2, SOURCE_OK, 7, 0);
	assert_int_equal(s.src[0].chunks, 2);
	assert_int_equal(s.src[0].bytes, 4196);
	assert_int_equal(s.src[2].bytes, 7);
	assert_false(source_set_record(&s, 7, SOURCE_OK, 1, 0));   /* out of range */
}

static void
test_rests(void **state)
{
	struct source_set s = two_caches();
	uint64_t t = 1000 * S;

	(void)state;
	/* two failures: still tried; the third in a row puts it to rest */
	assert_false(source_set_record(&s, 0, SOURCE_BAD, 0, t));
	assert_false(source_set_record(&s, 0, SOURCE_MISSING, 0, t));
	assert_int_equal(source_set_next(&s, 0, t), 0);
	assert_true(source_set_record(&s, 0, SOURCE_FAILED, 0, t));
	assert_int_equal(source_set_next(&s, 0, t), 1);
	assert_int_equal(source_set_next(&s, 0, t + 29 * S), 1);
	/* a fetch begun before the rest fails: counted, the rest not lengthened */
	assert_false(source_set_record(&s, 0, SOURCE_FAILED, 0, t + 1 * S));
	assert_int_equal(s.src[0].failed, 2);
	assert_int_equal(source_set_next(&s, 0, t + 30 * S), 0);
	/* back, it fails again at once: twice as long */
	assert_true(source_set_record(&s, 0, SOURCE_FAILED, 0, t + 30 * S));
	assert_int_equal(source_set_next(&s, 0, t + 89 * S), 1);
	assert_int_equal(source_set_next(&s, 0, t + 90 * S), 0);
	/* doubling stops at the maximum */
	uint64_t now = t + 90 * S;
	for (int i = 0; i < 10; i++) {
		assert_true(source_set_record(&s, 0, SOURCE_FAILED, 0, now));
		now = s.src[0].rest_until_us;
	}
	assert_int_equal(s.src[0].rest_us, SOURCE_REST_MAX_US);
	assert_int_equal(s.src[0].rests, 12);
	/* a chunk served ends it: three failures in a row are needed again */
	assert_false(source_set_record(&s, 0, SOURCE_OK, 1, now));
	assert_false(source_set_record(&s, 0, SOURCE_BAD, 0, now));
	assert_false(source_set_record(&s, 0, SOURCE_BAD, 0, now));
	assert_true(source_set_record(&s, 0, SOURCE_BAD, 0, now));
	assert_int_equal(s.src[0].rest_until_us, now + SOURCE_REST_FIRST_US);
	/* both caches resting: the server */
	for (int i = 0; i < 3; i++)
		source_set_record(&s, 1, SOURCE_MISSING, 0, now);
	assert_int_equal(source_set_next(&s, 0, now), 2);
	/* the server is never put to rest */
	for (int i = 0; i < 10; i++)
		assert_false(source_set_record(&s, 2, SOURCE_FAILED, 0, now));
	assert_int_equal(source_set_next(&s, 2, now), 2);
	assert_int_equal(s.src[2].rests, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_rests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
