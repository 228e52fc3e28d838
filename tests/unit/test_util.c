/* Unit tests for the text helpers of src/core/util.c: text from outside
 * made valid UTF-8, cut on character boundaries, control characters
 * escaped for terminals and logs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/util.h"

struct case_ {
	const char *in;
	size_t len;
	size_t size;                    /* of the output buffer */
	const char *out;
};

#define C(in, size, out) { in, sizeof in - 1, size, out }

static const struct case_ sanitize_cases[] = {
	C("plain", 64, "plain"),
	C("caf\xc3\xa9", 64, "caf\xc3\xa9"),                 /* é kept */
	C("caf\xc3", 64, "caf\xef\xbf\xbd"),                 /* cut inside é: U+FFFD */
	C("\xff\xfe", 64, "\xef\xbf\xbd\xef\xbf\xbd"),       /* not UTF-8 at all */
	C("a\0b", 64, "a\xef\xbf\xbd" "b"),                  /* a NUL inside */
	C("\xed\xa0\x80", 64, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"),     /* a surrogate */
	C("\xc0\xaf", 64, "\xef\xbf\xbd\xef\xbf\xbd"),       /* overlong '/' */
	C("AAAA\xc3\xa9", 6, "AAAA"),                        /* é does not fit: dropped whole */
	C("AAAA\xc3\xa9", 7, "AAAA\xc3\xa9"),
	C("\xf0\x9f\x98\x80x", 4, ""),                       /* 4-byte emoji, room for 3 */
	C("esc\x1b[2J", 64, "esc\x1b[2J"),                   /* valid: kept by sanitize */
};

static void
test_utf8_sanitize(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof sanitize_cases / sizeof sanitize_cases[0]; i++) {
		const struct case_ *c = &sanitize_cases[i];
		char *in = malloc(c->len ? c->len : 1), out[64];
		memcpy(in, c->in, c->len);      /* exactly its length */
		size_t n = utf8_sanitize(out, c->size, in, c->len);
		free(in);
		if (strcmp(out, c->out) != 0)
			fail_msg("case %zu: \"%s\"", i, out);
		assert_int_equal(n, strlen(c->out));
	}
}

static void
test_utf8_tail(void **state)
{
	const char *s = "ab\xc3\xa9" "cd";          /* a b é c d: 6 bytes */

	(void)state;
	assert_int_equal(utf8_tail(s, 6, 10), 0);
	assert_int_equal(utf8_tail(s, 6, 4), 2);   /* "écd" */
	assert_int_equal(utf8_tail(s, 6, 3), 4);   /* inside é: steps to "cd" */
	assert_int_equal(utf8_tail(s, 6, 0), 6);
}

static const struct case_ escape_cases[] = {
	C("clean text", 64, "clean text"),
	C("\x1b[2J\x1b[H", 64, "\\x1b[2J\\x1b[H"),           /* clear screen */
	C("\x1b]52;c;ZXZpbA==\x07", 64, "\\x1b]52;c;ZXZpbA==\\x07"),      /* OSC 52 */
	C("line1\nline2", 64, "line1\\x0aline2"),
	C("del\x7f", 64, "del\\x7f"),
	C("c1 \xc2\x9b" "2J", 64, "c1 \\x9b2J"),             /* U+009B: C1 CSI */
	C("\xc3\xa9t\xc3\xa9", 64, "\xc3\xa9t\xc3\xa9"),
	C("bad \xff", 64, "bad \xef\xbf\xbd"),
	C("\x1b\x1b", 6, "\\x1b"),                           /* no half escape */
};

static void
test_escape_controls(void **state)
{
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof escape_cases / sizeof escape_cases[0]; i++) {
		const struct case_ *c = &escape_cases[i];
		text_escape_controls(out, c->size, c->in, false);
		if (strcmp(out, c->out) != 0)
			fail_msg("case %zu: \"%s\"", i, out);
	}
	text_escape_controls(out, sizeof out, "a\n\tb\x1b", true);
	assert_string_equal(out, "a\n\tb\\x1b");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_sanitize),
		cmocka_unit_test(test_utf8_tail),
		cmocka_unit_test(test_escape_controls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
