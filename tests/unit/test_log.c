/* Unit tests for src/core/log.c: the text line as before, and
 * log-format = json: one object per line that jansson parses back to the
 * same message (quotes, backslashes, control characters, bytes that are
 * not UTF-8, a message longer than the JSON line), with "peer" and "mac"
 * only on lines about a client. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "core/log.h"

/* stderr goes to a temporary file while a test logs; captured() reads it
 * back and resets it. */
static FILE *capture;
static int saved_stderr = -1;

static int
setup(void **state)
{
	(void)state;
	capture = tmpfile();
	if (capture == NULL)
		return -1;
	saved_stderr = dup(STDERR_FILENO);
	dup2(fileno(capture), STDERR_FILENO);
	log_init("test", true, LOG_LEVEL_DEBUG);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	fclose(capture);
	log_set_format(LOG_FORMAT_TEXT);
	return 0;
}

static char *
captured(void)
{
	static char buf[65536];
	size_t n;

	fflush(stderr);
	rewind(capture);
	n = fread(buf, 1, sizeof buf - 1, capture);
	buf[n] = '\0';
	rewind(capture);
	assert_int_equal(ftruncate(fileno(capture), 0), 0);
	return buf;
}

/* the one line captured, parsed */
static json_t *
one_json_line(void)
{
	char *text = captured();
	json_error_t err;
	char *nl = strchr(text, '\n');

	assert_non_null(nl);
	assert_string_equal(nl + 1, "");        /* exactly one line */
	json_t *v = json_loadb(text, (size_t)(nl - text), 0, &err);
	if (v == NULL)
		fail_msg("not JSON (%s): %s", err.text, text);
	assert_true(json_is_object(v));
	return v;
}

static const char *
field(json_t *v, const char *key)
{
	return json_string_value(json_object_get(v, key));
}

static void
test_text(void **state)
{
	(void)state;
	log_set_format(LOG_FORMAT_TEXT);
	log_info_peer("192.0.2.2:68", "52:54:00:00:00:01", "dhcp %s %s: NAK: %s",
	    "192.0.2.2:68", "52:54:00:00:00:01", "wrong subnet");
	char *text = captured();
	/* "HH:MM:SS.mmm info  message", as before the JSON format existed */
	assert_int_equal(strlen(text), 13 + 6 + strlen("dhcp 192.0.2.2:68 52:54:00:00:00:01: NAK: "
	    "wrong subnet") + 1);
	assert_string_equal(text + 13, "info  dhcp 192.0.2.2:68 52:54:00:00:00:01: NAK: "
	    "wrong subnet\n");
	log_debug("plain %d", 1);
	assert_string_equal(captured() + 13, "debug plain 1\n");
}

static void
test_json_fields(void **state)
{
	json_t *v;

	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	log_warn_peer("192.0.2.2:68", "52:54:00:00:00:01", "dhcp %s %s: no free address in %s",
	    "192.0.2.2:68", "52:54:00:00:00:01", "lab");
	v = one_json_line();
	assert_string_equal(field(v, "level"), "warn");
	assert_string_equal(field(v, "message"),
	    "dhcp 192.0.2.2:68 52:54:00:00:00:01: no free address in lab");
	assert_string_equal(field(v, "peer"), "192.0.2.2:68");
	assert_string_equal(field(v, "mac"), "52:54:00:00:00:01");
	/* 2026-12-07T11:48:00.123Z */
	const char *t = field(v, "time");
	assert_non_null(t);
	assert_int_equal(strlen(t), 24);
	assert_true(t[4] == '-' && t[10] == 'T' && t[19] == '.' && t[23] == 'Z');
	assert_int_equal(json_object_size(v), 5);
	json_decref(v);

	log_info_peer("[2001:db8::2]:1234", NULL, "tftp %s: sent x", "[2001:db8::2]:1234");
	v = one_json_line();
	assert_string_equal(field(v, "peer"), "[2001:db8::2]:1234");
	assert_null(json_object_get(v, "mac"));
	json_decref(v);

	log_error("no client here");
	v = one_json_line();
	assert_string_equal(field(v, "level"), "error");
	assert_null(json_object_get(v, "peer"));
	assert_int_equal(json_object_size(v), 3);
	json_decref(v);
}

static void
test_json_escapes(void **state)
{
	json_t *v;

	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	log_info("q\"uote b\\ack nl\n tab\t ctl\x01 del\x7f caf\xc3\xa9 bad\xff end");
	v = one_json_line();
	assert_string_equal(field(v, "message"),
	    "q\"uote b\\ack nl\n tab\t ctl\x01 del\x7f caf\xc3\xa9 bad\xef\xbf\xbd end");
	json_decref(v);
	/* a peer string with a quote stays inside its field */
	log_info_peer("a\"b", "c\\d", "x");
	v = one_json_line();
	assert_string_equal(field(v, "peer"), "a\"b");
	assert_string_equal(field(v, "mac"), "c\\d");
	json_decref(v);
}

/* 1000 control characters escape to 6000 bytes, more than a JSON line
 * holds: the message is cut, the line is still one valid object. */
static void
test_json_long(void **state)
{
	char msg[1001], cjk[1001];
	json_t *v;

	(void)state;
	log_set_format(LOG_FORMAT_JSON);
	memset(msg, 0x01, 1000);
	msg[1000] = '\0';
	log_info_peer("192.0.2.2:69", "52:54:00:00:00:02", "%s", msg);
	v = one_json_line();
	const char *m = field(v, "message");
	assert_non_null(m);
	assert_true(strlen(m) > 500 && strlen(m) < 1000);
	assert_int_equal(strspn(m, "\x01"), strlen(m));
	/* cut: the fields after the message are left out, never half written */
	assert_null(json_object_get(v, "peer"));
	json_decref(v);
	/* bytes that become U+FFFD (3 bytes each): cut on a character */
	memset(cjk, 0xff, 1000);
	cjk[1000] = '\0';
	log_info("%s", cjk);
	v = one_json_line();
	m = field(v, "message");
	assert_non_null(m);
	assert_int_equal(strlen(m) % 3, 0);
	json_decref(v);
}

static void
test_format_parse(void **state)
{
	enum log_format f;
	char err[64];

	(void)state;
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("TEXT", &f), 0);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_int_not_equal(log_format_parse("xml", &f), 0);
	assert_int_not_equal(log_format_check("xml", err, sizeof err), 0);
	assert_string_equal(err, "'xml' is not text or json");
	assert_int_equal(log_format_check("json", err, sizeof err), 0);
}

/* A line a minute: the first goes, the rest of the minute are counted and
 * named by the next one that goes. */
static void
test_limit(void **state)
{
	struct log_limit l = { 0 };
	unsigned long held = 99;

	(void)state;
	assert_true(log_limit_take(&l, 1000, 60, &held));
	assert_int_equal(held, 0);
	assert_false(log_limit_take(&l, 1000, 60, &held));
	assert_false(log_limit_take(&l, 1059, 60, &held));
	assert_true(log_limit_take(&l, 1060, 60, &held));
	assert_int_equal(held, 2);
	assert_false(log_limit_take(&l, 1061, 60, &held));
	assert_true(log_limit_take(&l, 5000, 60, &held));
	assert_int_equal(held, 1);
	struct log_limit zero = { 0 };  /* time 0 is a time like another */
	assert_true(log_limit_take(&zero, 0, 60, &held));
	assert_false(log_limit_take(&zero, 0, 60, &held));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_long, setup, teardown),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
