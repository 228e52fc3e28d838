/* Diagnose and repair in the store (schema 13), on SQLite and on
 * PostgreSQL (store_backends.h): diagnostic results (a
 * test sent again replaces itself, the latest per test, each host keeps
 * its newest 20 reports, gone with the host), wipe certificates (kept
 * after their host), boot environments, where a host was seen (boot
 * script, DHCP lease) and its Wake-on-LAN password, a task's parameters,
 * the states of boot tasks. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/util.h"
#include "store/diag.h"
#include "store/mgmt.h"
#include "store/store.h"

#include "store_backends.h"

#define MAC "52:54:00:d1:00:01"
#define MAC2 "52:54:00:d1:00:02"

struct fixture {
	char dir[TB_WHERE_MAX];         /* where the store is (a directory or a URL) */
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	log_init("test_store_diag", true, LOG_LEVEL_WARN);
	tb_where_new(f->dir, sizeof f->dir, "diag");
	assert_int_equal(store_open(&f->st, f->dir), 0);
	assert_int_equal(store_host_add(f->st, MAC, "lab1", 1), 0);
	assert_int_equal(store_host_add(f->st, MAC2, "lab2", 1), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { "pxed.db", "pxed.db-wal", "pxed.db-shm" };

	store_close(f->st);
	tb_where_drop(f->dir, names, ARRAY_SIZE(names));
	free(f);
	return 0;
}

static void
put(struct store *st, int64_t task, const char *mac, const char *name, const char *status,
    const char *summary)
{
	struct store_diag_result r = { .task = task, .started = 1000 + task,
		.duration_ms = 42, .details = (char *)"{\"k\":1}" };

	str_copy(r.mac, mac, sizeof r.mac);
	str_copy(r.name, name, sizeof r.name);
	str_copy(r.status, status, sizeof r.status);
	str_copy(r.summary, summary, sizeof r.summary);
	assert_int_equal(store_diag_put(st, &r), 0);
}

static void
test_diag_results(void **state)
{
	struct fixture *f = *state;
	struct store_diag_result out[8];
	int64_t reports[4];
	int n;

	put(f->st, 1, MAC, "smart", "pass", "healthy");
	put(f->st, 1, MAC, "disk-read", "fail", "first");
	put(f->st, 1, MAC, "disk-read", "fail", "sent again");   /* replaces */
	put(f->st, 2, MAC, "smart", "fail", "reallocated 12");
	put(f->st, 3, MAC2, "cpu", "pass", "other host");
	n = store_diag_of_task(f->st, 1, out, ARRAY_SIZE(out));
	assert_int_equal(n, 2);
	assert_string_equal(out[0].name, "smart");
	assert_string_equal(out[1].name, "disk-read");
	assert_string_equal(out[1].summary, "sent again");
	assert_string_equal(out[1].details, "{\"k\":1}");
	assert_int_equal(out[1].duration_ms, 42);
	assert_int_equal(out[1].started, 1001);
	for (int i = 0; i < n; i++)
		store_diag_free(&out[i]);
	/* the latest of each test: smart from task 2, disk-read from task 1 */
	n = store_diag_latest(f->st, MAC, out, ARRAY_SIZE(out));
	assert_int_equal(n, 2);
	assert_string_equal(out[0].name, "disk-read");
	assert_int_equal(out[0].task, 1);
	assert_string_equal(out[1].name, "smart");
	assert_int_equal(out[1].task, 2);
	assert_string_equal(out[1].status, "fail");
	for (int i = 0; i < n; i++)
		store_diag_free(&out[i]);
	assert_int_equal(store_diag_reports(f->st, MAC, reports, ARRAY_SIZE(reports)), 2);
	assert_int_equal(reports[0], 2);
	assert_int_equal(reports[1], 1);
	/* an unknown host: refused */
	struct store_diag_result r = { .task = 9, .mac = "52:54:00:00:00:99", .name = "cpu",
		.status = "pass" };
	assert_int_equal(store_diag_put(f->st, &r), -ENOENT);
	/* gone with their host */
	assert_int_equal(store_host_remove(f->st, MAC), 0);
	assert_int_equal(store_diag_latest(f->st, MAC, out, ARRAY_SIZE(out)), 0);
	assert_int_equal(store_diag_latest(f->st, MAC2, out, ARRAY_SIZE(out)), 1);
	store_diag_free(&out[0]);
}

/* 25 reports: the newest 20 stay, each whole. */
static void
test_diag_history_kept(void **state)
{
	struct fixture *f = *state;
	int64_t reports[STORE_DIAG_REPORTS_KEPT + 5];
	struct store_diag_result out[4];
	int n;

	for (int64_t t = 1; t <= STORE_DIAG_REPORTS_KEPT + 5; t++) {
		put(f->st, t, MAC, "cpu", "pass", "");
		put(f->st, t, MAC, "memory", "pass", "");
	}
	n = store_diag_reports(f->st, MAC, reports, ARRAY_SIZE(reports));
	assert_int_equal(n, STORE_DIAG_REPORTS_KEPT);
	assert_int_equal(reports[0], STORE_DIAG_REPORTS_KEPT + 5);
	assert_int_equal(reports[n - 1], 6);
	assert_int_equal(store_diag_of_task(f->st, 5, out, ARRAY_SIZE(out)), 0);
	n = store_diag_of_task(f->st, 6, out, ARRAY_SIZE(out));
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++)
		store_diag_free(&out[i]);
}

static void
test_wipe_certificates(void **state)
{
	struct fixture *f = *state;
	struct store_wipe_cert c = { .task = 7, .size = 1 << 20, .started = 10, .finished = 20,
		.bytes_written = 1 << 20, .bytes_verified = 1 << 20, .ok = true };
	struct store_wipe_cert out[4];

	str_copy(c.mac, MAC, sizeof c.mac);
	str_copy(c.disk, "/dev/sda", sizeof c.disk);
	str_copy(c.model, "QEMU HARDDISK", sizeof c.model);
	str_copy(c.serial, "QM0001", sizeof c.serial);
	str_copy(c.method, "zero", sizeof c.method);
	str_copy(c.verify, "pass", sizeof c.verify);
	assert_int_equal(store_wipe_put(f->st, &c), 0);
	c.bytes_written = 1 << 19;
	assert_int_equal(store_wipe_put(f->st, &c), 0);         /* same task, disk: replaced */
	c.task = 8;
	str_copy(c.mac, MAC2, sizeof c.mac);
	assert_int_equal(store_wipe_put(f->st, &c), 0);
	assert_int_equal(store_wipe_list(f->st, "", 0, out, ARRAY_SIZE(out)), 2);
	assert_int_equal(out[0].task, 8);
	assert_int_equal(store_wipe_list(f->st, MAC, 0, out, ARRAY_SIZE(out)), 1);
	assert_int_equal(store_wipe_count(f->st, MAC), 1);
	assert_int_equal(store_wipe_count(f->st, ""), 2);
	assert_int_equal(out[0].bytes_written, 1 << 19);
	assert_string_equal(out[0].serial, "QM0001");
	assert_string_equal(out[0].verify, "pass");
	assert_true(out[0].ok);
	/* an audit record: kept when the host goes */
	assert_int_equal(store_host_remove(f->st, MAC), 0);
	assert_int_equal(store_wipe_list(f->st, MAC, 0, out, ARRAY_SIZE(out)), 1);
	/* page by page */
	assert_int_equal(store_wipe_list(f->st, "", out[0].id, out, ARRAY_SIZE(out)), 0);
}

static void
test_environments(void **state)
{
	struct fixture *f = *state;
	char names[4][STORE_ENV_NAME];
	char *json;

	assert_int_equal(store_env_put(f->st, "rescue", "{\"kind\":\"linux\"}", 5), 0);
	assert_int_equal(store_env_put(f->st, "winpe", "{\"kind\":\"wimboot\"}", 6), 0);
	assert_int_equal(store_env_put(f->st, "rescue", "{\"kind\":\"chain\"}", 7), 0);
	assert_int_equal(store_env_names(f->st, names, ARRAY_SIZE(names)), 2);
	assert_string_equal(names[0], "rescue");
	assert_string_equal(names[1], "winpe");
	assert_int_equal(store_env_get(f->st, "rescue", &json), 0);
	assert_string_equal(json, "{\"kind\":\"chain\"}");
	free(json);
	assert_int_equal(store_env_get(f->st, "nope", &json), -ENOENT);
	assert_null(json);
	assert_int_equal(store_env_remove(f->st, "rescue"), 0);
	assert_int_equal(store_env_remove(f->st, "rescue"), -ENOENT);
	assert_int_equal(store_env_names(f->st, names, ARRAY_SIZE(names)), 1);
}

static void
test_host_where(void **state)
{
	struct fixture *f = *state;
	struct store_host_where w;
	struct store_lease lease = { .state = LEASE_BOUND, .starts = 5, .expires = 500,
		.mac = { 0x52, 0x54, 0x00, 0xd1, 0x00, 0x01 }, .mac_len = 6 };

	assert_int_equal(store_host_where(f->st, MAC, &w), 0);
	assert_int_equal(w.last_addr.s_addr, 0);
	assert_int_equal(w.lease_addr.s_addr, 0);
	assert_string_equal(w.wol_password, "");
	inet_pton(AF_INET, "198.51.100.7", &lease.address);
	assert_int_equal(store_lease_put(f->st, &lease), 0);
	assert_int_equal(store_commit(f->st), 0);
	inet_pton(AF_INET, "192.0.2.40", &w.last_addr);
	assert_int_equal(store_host_seen_at(f->st, MAC, w.last_addr), 0);
	assert_int_equal(store_host_set_wol_password(f->st, MAC, "a1:b2:c3:d4:e5:f6"), 0);
	assert_int_equal(store_host_where(f->st, MAC, &w), 0);
	assert_int_equal(w.last_addr.s_addr, htonl(0xc0000228));
	assert_int_equal(w.lease_addr.s_addr, htonl(0xc6336407));
	assert_string_equal(w.wol_password, "a1:b2:c3:d4:e5:f6");
	assert_int_equal(store_host_where(f->st, "52:54:00:00:00:99", &w), -ENOENT);
	assert_int_equal(store_host_seen_at(f->st, "52:54:00:00:00:99", w.last_addr), -ENOENT);
}

static void
test_task_params_and_boot_states(void **state)
{
	struct fixture *f = *state;
	struct store_task_spec spec = { .type = TASK_BOOT, .image = "memtest86+", .mcast = "",
		.params = "{\"environment\":\"memtest86+\"}" };
	struct store_task t;
	int64_t id = store_task_add(f->st, MAC, &spec, 10);

	assert_true(id > 0);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_int_equal(t.type, TASK_BOOT);
	assert_string_equal(task_type_name(t.type), "boot");
	assert_int_equal(task_type_parse("diagnose"), TASK_DIAGNOSE);
	assert_string_equal(t.params, "{\"environment\":\"memtest86+\"}");
	/* not booting yet: cannot be served done */
	assert_int_equal(store_task_served_done(f->st, id, "served", 11), -ESRCH);
	assert_int_equal(store_task_booted(f->st, id, 11), 0);
	assert_int_equal(store_task_booted(f->st, id, 12), 0);          /* again: still booting */
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_int_equal(t.state, TASK_BOOTING);
	assert_int_equal(t.started, 11);
	assert_int_equal(store_task_served_done(f->st, id, "memtest86+x64.bin served", 13), 0);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_int_equal(t.state, TASK_DONE);
	assert_int_equal(t.finished, 13);
	assert_string_equal(t.message, "memtest86+x64.bin served");
	assert_int_equal(store_task_served_done(f->st, id, "again", 14), -ESRCH);
	assert_int_equal(store_task_booted(f->st, id, 15), -ESRCH);
	/* a task made without parameters has none */
	spec.params = NULL;
	id = store_task_add(f->st, MAC, &spec, 20);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_string_equal(t.params, "");
}

/* A database main made before the filesystem tasks and diagnostics merged
 * is at schema 11 with 9 and 10 empty: opening it runs 12 to 17 (the
 * migration starts after the highest version, so diagnostics could not
 * stay at 10); hosts and tasks stay. */
static void
test_upgrade_from_11(void **state)
{
	struct fixture *f = *state;
	struct store_task_spec spec = { .type = TASK_WIPE, .image = "", .mcast = "" };
	struct store_host_where w;
	struct store_task t;
	char *json = NULL;
	int64_t id = store_task_add(f->st, MAC, &spec, 10);

	assert_true(id > 0);
	store_close(f->st);
	f->st = NULL;
	tb_exec(f->dir,
	    "ALTER TABLE tasks DROP COLUMN params;"
	    "ALTER TABLE hosts DROP COLUMN last_addr;"
	    "ALTER TABLE hosts DROP COLUMN wol_password;"
	    "DROP TABLE diag_results; DROP TABLE wipe_certificates; DROP TABLE environments;"
	    "ALTER TABLE tasks DROP COLUMN options;"
	    "ALTER TABLE tasks DROP COLUMN report;"
	    "ALTER TABLE tasks DROP COLUMN files;"
	    "ALTER TABLE hosts DROP COLUMN hostname;"
	    "DROP INDEX leases_updated; ALTER TABLE leases DROP COLUMN updated;"
	    "ALTER TABLE leases DROP COLUMN server; DROP TABLE servers;"
	    "ALTER TABLE tasks DROP COLUMN token_addr;"
	    "DELETE FROM schema_version WHERE version >= 12;");
	assert_int_equal(tb_query_int(f->dir, "SELECT max(version) FROM schema_version"), 11);
	assert_int_equal(tb_catalog_count(f->dir, "table", "'tokens'"), 1);

	assert_int_equal(store_open(&f->st, f->dir), 0);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_int_equal(t.type, TASK_WIPE);
	assert_string_equal(t.params, "");
	assert_int_equal(store_env_put(f->st, "memtest", "{\"kind\":\"memtest\"}", 20), 0);
	assert_int_equal(store_env_get(f->st, "memtest", &json), 0);
	assert_string_equal(json, "{\"kind\":\"memtest\"}");
	free(json);
	assert_int_equal(store_host_set_wol_password(f->st, MAC, "a1:b2:c3:d4:e5:f6"), 0);
	assert_int_equal(store_host_where(f->st, MAC, &w), 0);
	assert_string_equal(w.wol_password, "a1:b2:c3:d4:e5:f6");
	put(f->st, id, MAC, "smart", "pass", "healthy");
	assert_int_equal(tb_query_int(f->dir, "SELECT max(version) FROM schema_version"), 17);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_diag_results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diag_history_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wipe_certificates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_where, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_params_and_boot_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_11, setup, teardown),
	};

	return tb_run_both("test_store_diag", tests, ARRAY_SIZE(tests));
}
