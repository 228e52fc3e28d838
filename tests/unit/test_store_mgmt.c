/* Hosts and tasks in the store: registration, approval, the task life
 * cycle and its guards (one active task per host, tokens, cancel), host
 * groups, what a task does after it (schema 6), local tasks, the image
 * catalogue (schema 7), and the upgrade of a database made by the first
 * schema. */
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
#include "store/images.h"
#include "store/mgmt.h"
#include "store/servers.h"
#include "store/store.h"
#include "store/subnets.h"
#include "store/tokens.h"

#include "store_backends.h"

/* A spec of type and image: verify, no replace, unicast, reboot after. */
#define SPEC(type_, image_) \
	(&(struct store_task_spec){ .type = (type_), .image = (image_), .verify = true, \
	    .mcast = "", .after = TASK_AFTER_REBOOT })

struct fixture {
	char dir[TB_WHERE_MAX];         /* where the store is (a directory or a URL) */
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	log_init("test_store_mgmt", true, LOG_LEVEL_WARN);
	tb_where_new(f->dir, sizeof f->dir, "mgmt");
	assert_int_equal(store_open(&f->st, f->dir), 0);
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
test_mac_canon(void **state)
{
	static const struct { const char *in; const char *out; } ok[] = {
		{ "52:54:00:12:34:56", "52:54:00:12:34:56" },
		{ "52-54-00-AB-CD-EF", "52:54:00:ab:cd:ef" },
		{ "525400abcdef", "52:54:00:ab:cd:ef" },
		{ "5254.00ab.cdef", "52:54:00:ab:cd:ef" },
	};
	static const char *const bad[] = {
		"", "52:54:00:12:34", "52:54:00:12:34:56:78", "52:54:00:12:34:5g",
		"5:254:00:12:34:56", "lab1", "52:54:00:12:34:56 ",
	};
	char out[STORE_MAC_TEXT];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		assert_int_equal(mac_text_canon(ok[i].in, out), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(mac_text_canon(bad[i], out), -EINVAL);
}

static void
test_hosts(void **state)
{
	struct fixture *f = *state;
	struct store_host h, list[4];
	char mac[STORE_MAC_TEXT];

	/* seen first: registered, approval as the server says */
	assert_int_equal(store_host_seen(f->st, "52:54:00:00:00:01", "efi64", "", false, 100), 1);
	assert_int_equal(store_host_seen(f->st, "52:54:00:00:00:01", "", "uuid-1", false, 200), 0);
	assert_int_equal(store_host_get(f->st, "52:54:00:00:00:01", &h), 0);
	assert_false(h.approved);
	assert_string_equal(h.arch, "efi64");       /* an empty arch keeps the old one */
	assert_string_equal(h.uuid, "uuid-1");
	assert_int_equal(h.first_seen, 100);
	assert_int_equal(h.last_seen, 200);
	store_host_free(&h);
	/* an administrator adds it: approved and named */
	assert_int_equal(store_host_add(f->st, "52:54:00:00:00:01", "lab1", 300), -EEXIST);
	assert_int_equal(store_host_add(f->st, "52:54:00:00:00:02", "lab2", 300), 0);
	assert_int_equal(store_host_get(f->st, "52:54:00:00:00:01", &h), 0);
	assert_true(h.approved);
	assert_string_equal(h.name, "lab1");
	store_host_free(&h);
	assert_int_equal(store_host_approve(f->st, "52:54:00:00:00:02", false), 0);
	assert_int_equal(store_host_by_name(f->st, "lab2", mac), 0);
	assert_string_equal(mac, "52:54:00:00:00:02");
	assert_int_equal(store_host_by_name(f->st, "lab9", mac), -ENOENT);
	assert_int_equal(store_host_by_name(f->st, "", mac), -ENOENT);  /* unnamed hosts */
	assert_int_equal(store_host_approve(f->st, "52:54:00:00:00:09", true), -ENOENT);
	assert_int_equal(store_host_set_inventory(f->st, "52:54:00:00:00:02", "{\"ram\":1}"), 0);
	assert_int_equal(store_host_list(f->st, "", "", list, 4), 2);
	assert_string_equal(list[0].mac, "52:54:00:00:00:01");
	assert_string_equal(list[1].inventory, "{\"ram\":1}");
	assert_false(list[1].approved);
	for (int i = 0; i < 2; i++)
		store_host_free(&list[i]);
	assert_int_equal(store_host_remove(f->st, "52:54:00:00:00:02"), 0);
	assert_int_equal(store_host_remove(f->st, "52:54:00:00:00:02"), -ENOENT);
	assert_int_equal(store_host_get(f->st, "52:54:00:00:00:02", &h), -ENOENT);
}

/* A running task's token: bound to the first address, kept over a
 * reboot, still finding its task once ended (which binds and issues
 * nothing). */
static void
task_token_to_end(struct fixture *f, int64_t id, const struct store_token *tok1)
{
	char bound[STORE_ADDR_TEXT];
	struct store_token tok2, got;
	struct store_task t;

	memset(&tok2, 2, sizeof tok2);
	/* the token's address: the first wins, another is told which */
	assert_int_equal(store_task_bind(f->st, id, "192.0.2.7", bound), 0);
	assert_int_equal(store_task_bind(f->st, id, "192.0.2.7", bound), 0);
	assert_int_equal(store_task_bind(f->st, id, "2001:db8::7", bound), -EPERM);
	assert_string_equal(bound, "192.0.2.7");
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_string_equal(t.token_addr, "192.0.2.7");
	assert_int_equal(store_task_bind(f->st, 999999, "192.0.2.7", bound), -ESRCH);
	/* a reboot mid-task: booting again keeps it running and its token */
	assert_int_equal(store_task_boot(f->st, id, &tok2, &got), 0);
	assert_memory_equal(&got, tok1, sizeof got);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_int_equal(t.state, TASK_RUNNING);
	assert_int_equal(store_task_finish(f->st, id, TASK_DONE, "ok", "log", 20), 0);
	assert_int_equal(store_task_finish(f->st, id, TASK_FAILED, "late", "", 21), -ESRCH);
	/* the token still finds its ended task: its agent is told why */
	assert_int_equal(store_task_by_token(f->st, tok1->hash, &t), 0);
	assert_int_equal(t.state, TASK_DONE);
	/* an ended task binds nothing */
	assert_int_equal(store_task_bind(f->st, id, "192.0.2.7", bound), -ESRCH);
	/* an ended task issues no token */
	assert_int_equal(store_task_boot(f->st, id, &tok2, &got), -ESRCH);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_int_equal(t.state, TASK_DONE);
	assert_string_equal(t.message, "ok");
	assert_int_equal(t.finished, 20);
}

static void
test_task_life(void **state)
{
	struct fixture *f = *state;
	const char *mac = "52:54:00:00:00:01";
	struct store_token tok1, tok2, tok3, got;
	struct store_task t;
	int64_t id;

	memset(&tok1, 1, sizeof tok1);
	memset(&tok2, 2, sizeof tok2);
	memset(&tok3, 3, sizeof tok3);
	assert_int_equal(store_task_add(f->st, mac, SPEC(TASK_DEPLOY, "img"), 10), -ENOENT);
	assert_int_equal(store_host_add(f->st, mac, "lab1", 1), 0);
	id = store_task_add(f->st, mac, SPEC(TASK_DEPLOY, "img"), 10);
	assert_true(id > 0);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_int_equal(t.after, TASK_AFTER_REBOOT);
	/* only a pending task is ended by serving its script */
	assert_int_equal(store_task_boot(f->st, id, &tok3, &got), 1);
	assert_int_equal(store_task_served(f->st, id, "served", 11), -ESRCH);
	assert_int_equal(store_task_finish(f->st, id, TASK_CANCELLED, "", "", 11), 0);
	id = store_task_add(f->st, mac, SPEC(TASK_DEPLOY, "img"), 10);
	assert_true(id > 0);
	/* one active task per host */
	assert_int_equal(store_task_add(f->st, mac, SPEC(TASK_WIPE, ""), 11), -EBUSY);
	/* not running: no progress, no start before the boot */
	assert_int_equal(store_task_progress(f->st, id, "deploy", 1, 2, 3, 0), -ESRCH);
	assert_int_equal(store_task_start(f->st, id, 12), -ESRCH);
	/* the boot issues a token; a second boot gets the same one back */
	assert_int_equal(store_task_boot(f->st, id, &tok1, &got), 1);
	assert_memory_equal(&got, &tok1, sizeof got);
	memset(&got, 0, sizeof got);
	assert_int_equal(store_task_boot(f->st, id, &tok2, &got), 0);
	assert_memory_equal(&got, &tok1, sizeof got);
	assert_int_equal(store_task_by_token(f->st, tok2.hash, &t), -ENOENT);
	assert_int_equal(store_task_by_token(f->st, tok1.hash, &t), 0);
	assert_int_equal(t.state, TASK_BOOTING);
	assert_int_equal(store_task_start(f->st, id, 13), 0);
	assert_int_equal(store_task_progress(f->st, id, "deploy", 100, 1000, 50, 64), 0);
	/* resume_offset never goes back */
	assert_int_equal(store_task_progress(f->st, id, "deploy", 200, 1000, 50, 32), 0);
	assert_int_equal(store_task_active(f->st, mac, &t), 0);
	assert_int_equal(t.id, id);
	assert_int_equal(t.state, TASK_RUNNING);
	assert_int_equal(t.started, 13);
	assert_int_equal(t.bytes, 200);
	assert_int_equal(t.resume_offset, 64);
	assert_string_equal(t.phase, "deploy");
	task_token_to_end(f, id, &tok1);
	assert_int_equal(store_task_active(f->st, mac, &t), -ENOENT);
	/* a new task once the last ended; cancel works from pending */
	id = store_task_add(f->st, mac, &(struct store_task_spec){ .type = TASK_CAPTURE,
	    .image = "new", .replace = true, .mcast = "", .after = TASK_AFTER_POWEROFF }, 30);
	assert_true(id > 0);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_true(t.replace);
	assert_int_equal(t.after, TASK_AFTER_POWEROFF);
	assert_int_equal(store_task_finish(f->st, id, TASK_DONE, "", "", 31), -ESRCH);
	assert_int_equal(store_task_finish(f->st, id, TASK_CANCELLED, "by admin", "", 31), 0);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_int_equal(t.state, TASK_CANCELLED);
	assert_false(t.verify);
	/* removing the host removes its tasks */
	assert_int_equal(store_host_remove(f->st, mac), 0);
	assert_int_equal(store_task_get(f->st, id, &t), -ENOENT);
}

/* A local task: done when its script is served, once; the next task of
 * the host can then be made. */
static void
test_task_local(void **state)
{
	struct fixture *f = *state;
	const char *mac = "52:54:00:00:00:03";
	struct store_task t;
	int64_t id;

	assert_int_equal(store_host_add(f->st, mac, "lab3", 1), 0);
	id = store_task_add(f->st, mac, SPEC(TASK_LOCAL, ""), 40);
	assert_true(id > 0);
	assert_int_equal(store_task_active(f->st, mac, &t), 0);
	assert_int_equal(t.type, TASK_LOCAL);
	assert_int_equal(store_task_served(f->st, id, "local disk booted", 41), 0);
	assert_int_equal(store_task_served(f->st, id, "again", 42), -ESRCH);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_int_equal(t.state, TASK_DONE);
	assert_int_equal(t.started, 41);
	assert_int_equal(t.finished, 41);
	assert_string_equal(t.message, "local disk booted");
	assert_int_equal(store_task_active(f->st, mac, &t), -ENOENT);
	assert_true(store_task_add(f->st, mac, SPEC(TASK_WIPE, ""), 43) > 0);
}

/* Schema 6 gives every task an after action: a shell task made before it
 * stays at the shell, the others reboot. */
static void
test_upgrade_after(void **state)
{
	struct fixture *f = *state;
	const char *mac = "52:54:00:00:00:04";
	struct store_task t;
	int64_t shell, wipe;

	assert_int_equal(store_host_add(f->st, mac, "old", 1), 0);
	shell = store_task_add(f->st, mac, SPEC(TASK_SHELL, ""), 50);
	assert_int_equal(store_task_finish(f->st, shell, TASK_CANCELLED, "", "", 51), 0);
	wipe = store_task_add(f->st, mac, SPEC(TASK_WIPE, ""), 52);
	store_close(f->st);
	f->st = NULL;
	/* back to schema 5: no after_action column, no image catalogue, none
	 * of the later schemas' columns and tables (up to token_addr, 14, and the
	 * servers sharing a database, 15) */
	tb_exec(f->dir, "ALTER TABLE tasks DROP COLUMN after_action;"
	    "DROP INDEX leases_updated; ALTER TABLE leases DROP COLUMN updated;"
	    "ALTER TABLE leases DROP COLUMN server; DROP TABLE servers;"
	    "ALTER TABLE tasks DROP COLUMN token_addr;"
	    "DROP TABLE images; DROP TABLE subnets; DROP TABLE client_addrs; DROP TABLE tokens;"
	    "ALTER TABLE tasks DROP COLUMN params;"
	    "ALTER TABLE hosts DROP COLUMN last_addr;"
	    "ALTER TABLE hosts DROP COLUMN wol_password;"
	    "DROP TABLE diag_results; DROP TABLE wipe_certificates; DROP TABLE environments;"
	    "ALTER TABLE tasks DROP COLUMN options;"
	    "ALTER TABLE tasks DROP COLUMN report;"
	    "ALTER TABLE tasks DROP COLUMN files;"
	    "ALTER TABLE hosts DROP COLUMN hostname;"
	    "DELETE FROM schema_version WHERE version >= 6;");
	assert_int_equal(store_open(&f->st, f->dir), 0);
	assert_int_equal(store_task_get(f->st, shell, &t), 0);
	assert_int_equal(t.after, TASK_AFTER_SHELL);
	assert_int_equal(store_task_get(f->st, wipe, &t), 0);
	assert_int_equal(t.after, TASK_AFTER_REBOOT);
}

static void
test_group_names(void **state)
{
	static const char *const ok[] = { "room1", "Lab-B", "a", "2nd.floor_west" };
	static const char *const bad[] = { "", "-room", ".room", "_room", "room 1", "room/1",
		"r\xc3\xa9" };
	char longest[STORE_GROUP_NAME + 1];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		assert_true(group_name_valid(ok[i]));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_false(group_name_valid(bad[i]));
	memset(longest, 'g', sizeof longest);
	longest[STORE_GROUP_NAME - 1] = '\0';          /* 63 characters */
	assert_true(group_name_valid(longest));
	longest[STORE_GROUP_NAME - 1] = 'g';
	longest[STORE_GROUP_NAME] = '\0';              /* 64 */
	assert_false(group_name_valid(longest));
}

/* Memberships: added once, listed with counts, a host's groups, removal;
 * a group ends with its last member; removing a host removes its
 * memberships. */
static void
test_groups(void **state)
{
	struct fixture *f = *state;
	const char *a = "52:54:00:00:00:0a", *b = "52:54:00:00:00:0b", *c = "52:54:00:00:00:0c";
	struct store_group groups[4];
	struct store_host members[4];

	assert_int_equal(store_host_add(f->st, b, "lab-b", 1), 0);
	assert_int_equal(store_host_add(f->st, a, "lab-a", 1), 0);
	assert_int_equal(store_host_add(f->st, c, "lab-c", 1), 0);
	assert_int_equal(store_group_add(f->st, "room1", b), 1);
	assert_int_equal(store_group_add(f->st, "room1", a), 1);
	assert_int_equal(store_group_add(f->st, "room1", a), 0);      /* a member already */
	assert_int_equal(store_group_add(f->st, "lab", c), 1);
	assert_int_equal(store_group_add(f->st, "lab", a), 1);
	assert_int_equal(store_group_add(f->st, "room1", "52:54:00:00:00:99"), -ENOENT);
	assert_int_equal(store_group_add(f->st, "bad name", a), -EINVAL);
	assert_int_equal(store_group_list(f->st, groups, 4), 2);
	assert_string_equal(groups[0].name, "lab");
	assert_int_equal(groups[0].members, 2);
	assert_string_equal(groups[1].name, "room1");
	assert_int_equal(groups[1].members, 2);
	assert_int_equal(store_group_list(f->st, groups, 1), 1);      /* bounded */
	/* members in MAC order, as whole host records */
	assert_int_equal(store_group_members(f->st, "room1", members, 4), 2);
	assert_string_equal(members[0].mac, a);
	assert_string_equal(members[0].name, "lab-a");
	assert_string_equal(members[1].mac, b);
	for (int i = 0; i < 2; i++)
		store_host_free(&members[i]);
	assert_int_equal(store_group_members(f->st, "nowhere", members, 4), 0);
	assert_int_equal(store_host_groups(f->st, a, groups, 4), 2);
	assert_string_equal(groups[0].name, "lab");
	assert_int_equal(groups[0].members, 2);
	assert_string_equal(groups[1].name, "room1");
	assert_int_equal(store_host_groups(f->st, b, groups, 4), 1);
	assert_string_equal(groups[0].name, "room1");
	assert_int_equal(store_group_has(f->st, "room1", b), 1);
	assert_int_equal(store_group_has(f->st, "lab", b), 0);
	assert_int_equal(store_group_has(f->st, "nowhere", b), 0);
	/* out of a group */
	assert_int_equal(store_group_remove(f->st, "room1", b), 0);
	assert_int_equal(store_group_remove(f->st, "room1", b), -ENOENT);
	assert_int_equal(store_group_remove(f->st, "nowhere", a), -ENOENT);
	assert_int_equal(store_host_groups(f->st, b, groups, 4), 0);
	assert_int_equal(store_group_has(f->st, "room1", b), 0);
	/* removing a host removes its memberships; room1 ends with it */
	assert_int_equal(store_host_remove(f->st, a), 0);
	assert_int_equal(store_group_members(f->st, "room1", members, 4), 0);
	assert_int_equal(store_group_list(f->st, groups, 4), 1);
	assert_string_equal(groups[0].name, "lab");
	assert_int_equal(groups[0].members, 1);
	/* a host added again under the same MAC is in no group */
	assert_int_equal(store_host_add(f->st, a, "lab-a", 2), 0);
	assert_int_equal(store_host_groups(f->st, a, groups, 4), 0);
	/* dissolving a group leaves its hosts */
	assert_int_equal(store_group_delete(f->st, "lab"), 1);
	assert_int_equal(store_group_delete(f->st, "lab"), -ENOENT);
	assert_int_equal(store_group_list(f->st, groups, 4), 0);
	assert_int_equal(store_host_list(f->st, "", "", members, 4), 3);
	for (int i = 0; i < 3; i++)
		store_host_free(&members[i]);
}

/* A PXE client's DISCOVER in the boot timeline registers the machine;
 * a plain DHCP client's does not. */
static void
test_hosts_from_dhcp(void **state)
{
	struct fixture *f = *state;
	static const uint8_t pxe[6] = { 0x52, 0x54, 0, 0, 0, 0x31 };
	static const uint8_t plain[6] = { 0x52, 0x54, 0, 0, 0, 0x32 };
	static const uint8_t http[6] = { 0x52, 0x54, 0, 0, 0, 0x33 };
	struct store_host h;

	assert_int_equal(store_event_add_uuid(f->st, pxe, 6, "dhcp-discover",
	    "PXEClient:Arch:00007:UNDI:003016", "d0c1b2a3-9485-7669-5a4b-3c2d1e0f0a1b", 5000), 0);
	assert_int_equal(store_event_add(f->st, plain, 6, "dhcp-discover", "udhcp 1.35.0", 5000), 0);
	store_set_host_approval(f->st, true);
	assert_int_equal(store_event_add(f->st, http, 6, "dhcp-discover",
	    "HTTPClient:Arch:00019:UNDI:003000", 6000), 0);
	assert_int_equal(store_host_get(f->st, "52:54:00:00:00:31", &h), -ENOENT); /* queued */
	assert_int_equal(store_events_flush(f->st), 0);
	assert_int_equal(store_host_get(f->st, "52:54:00:00:00:31", &h), 0);
	assert_string_equal(h.arch, "7");
	assert_string_equal(h.uuid, "d0c1b2a3-9485-7669-5a4b-3c2d1e0f0a1b");
	assert_int_equal(h.first_seen, 5);
	assert_false(h.approved);       /* approval was required at flush time */
	store_host_free(&h);
	assert_int_equal(store_host_get(f->st, "52:54:00:00:00:33", &h), 0);
	assert_string_equal(h.arch, "19");
	store_host_free(&h);
	assert_int_equal(store_host_get(f->st, "52:54:00:00:00:32", &h), -ENOENT);
	/* seen again: last_seen moves, the name an admin gave stays */
	assert_int_equal(store_host_add(f->st, "52:54:00:00:00:31", "lab31", 7), -EEXIST);
	assert_int_equal(store_event_add(f->st, pxe, 6, "dhcp-discover", "PXEClient", 9000), 0);
	assert_int_equal(store_events_flush(f->st), 0);
	assert_int_equal(store_host_get(f->st, "52:54:00:00:00:31", &h), 0);
	assert_string_equal(h.name, "lab31");
	assert_string_equal(h.arch, "7");
	assert_string_equal(h.uuid, "d0c1b2a3-9485-7669-5a4b-3c2d1e0f0a1b");   /* none sent: kept */
	assert_int_equal(h.last_seen, 9);
	assert_true(h.approved);
	store_host_free(&h);
}

static void
test_task_names(void **state)
{
	(void)state;
	for (int i = 0; i < TASK_TYPE_COUNT; i++)
		assert_int_equal(task_type_parse(task_type_name((enum task_type)i)), i);
	assert_int_equal(task_type_parse("format-c"), -EINVAL);
	assert_int_equal(task_type_parse("local"), TASK_LOCAL);
	for (int i = 0; i < TASK_AFTER_COUNT; i++)
		assert_int_equal(task_after_parse(task_after_name((enum task_after)i)), i);
	assert_int_equal(task_after_parse("poweroff"), TASK_AFTER_POWEROFF);
	assert_int_equal(task_after_parse("halt"), -EINVAL);
	assert_int_equal(task_after_parse(""), -EINVAL);
	assert_true(task_state_active(TASK_PENDING));
	assert_true(task_state_active(TASK_RUNNING));
	assert_false(task_state_active(TASK_DONE));
	assert_false(task_state_active(TASK_CANCELLED));
}

static struct store_image
image_row(const char *name, uint64_t used, int64_t task)
{
	struct store_image im = { .created = 1700000000, .disk_size = 1 << 30, .used = used,
		.stored = used / 2, .chunks = used >> 20, .partitions = 2, .task = task,
		.stamp = { .mtime_ns = 1700000000123456789, .size = 400 } };

	str_copy(im.name, name, sizeof im.name);
	str_copy(im.table, "gpt", sizeof im.table);
	return im;
}

/* Catalogue rows: written, replaced, read back, listed page by page,
 * removed. */
static void
test_images(void **state)
{
	struct fixture *f = *state;
	struct store_image im = image_row("win11", 5 << 20, 7), got, list[3];
	static const char *const names[] = { "a", "b", "c", "d", "e" };

	im.partition_list = strdup("[{\"index\":1}]");
	assert_int_equal(store_image_put(f->st, &im), 0);
	store_image_free(&im);
	assert_int_equal(store_image_get(f->st, "win11", &got), 0);
	assert_string_equal(got.name, "win11");
	assert_int_equal(got.used, 5 << 20);
	assert_int_equal(got.stored, 5 << 19);
	assert_int_equal(got.chunks, 5);
	assert_int_equal(got.partitions, 2);
	assert_int_equal(got.task, 7);
	assert_int_equal(got.disk_size, 1 << 30);
	assert_int_equal(got.created, 1700000000);
	assert_string_equal(got.table, "gpt");
	assert_int_equal(got.stamp.mtime_ns, 1700000000123456789);
	assert_int_equal(got.stamp.size, 400);
	assert_string_equal(got.partition_list, "[{\"index\":1}]");
	store_image_free(&got);
	/* published again (replace): one row, the new values */
	im = image_row("win11", 1 << 20, 9);
	assert_int_equal(store_image_put(f->st, &im), 0);
	assert_int_equal(store_image_get(f->st, "win11", &got), 0);
	assert_int_equal(got.task, 9);
	assert_string_equal(got.partition_list, "[]");
	store_image_free(&got);
	assert_int_equal(store_image_get(f->st, "nope", &got), -ENOENT);
	/* lists: ordered by name, page after page */
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		im = image_row(names[i], 1, 0);
		assert_int_equal(store_image_put(f->st, &im), 0);
	}
	assert_int_equal(store_image_list(f->st, "", list, 3), 3);
	assert_string_equal(list[0].name, "a");
	assert_null(list[0].partition_list);
	assert_string_equal(list[2].name, "c");
	assert_int_equal(store_image_list(f->st, list[2].name, list, 3), 3);
	assert_string_equal(list[0].name, "d");
	assert_string_equal(list[2].name, "win11");
	assert_int_equal(store_image_list(f->st, "win11", list, 3), 0);
	assert_int_equal(store_image_remove(f->st, "b"), 0);
	assert_int_equal(store_image_remove(f->st, "b"), -ENOENT);
	assert_int_equal(store_image_list(f->st, "a", list, 3), 3);
	assert_string_equal(list[0].name, "c");
}

/* Active captures are counted whatever their state, and only captures. */
static void
test_captures_active(void **state)
{
	struct fixture *f = *state;
	struct store_token tok = { .salt = { 1 }, .hash = { 2 } }, got;
	int64_t c1, c2;

	assert_int_equal(store_captures_active(f->st), 0);
	assert_int_equal(store_host_add(f->st, "52:54:00:00:00:01", "a", 1), 0);
	assert_int_equal(store_host_add(f->st, "52:54:00:00:00:02", "b", 1), 0);
	assert_int_equal(store_host_add(f->st, "52:54:00:00:00:03", "c", 1), 0);
	assert_true(store_task_add(f->st, "52:54:00:00:00:03", SPEC(TASK_DEPLOY, "x"), 2) > 0);
	assert_int_equal(store_captures_active(f->st), 0);
	c1 = store_task_add(f->st, "52:54:00:00:00:01", SPEC(TASK_CAPTURE, "x"), 2);
	c2 = store_task_add(f->st, "52:54:00:00:00:02", SPEC(TASK_CAPTURE, "y"), 2);
	assert_true(c1 > 0 && c2 > 0);
	assert_int_equal(store_captures_active(f->st), 2);          /* pending */
	assert_int_equal(store_task_boot(f->st, c1, &tok, &got), 1);
	assert_int_equal(store_task_start(f->st, c1, 3), 0);
	assert_int_equal(store_captures_active(f->st), 2);          /* running, pending */
	assert_int_equal(store_task_finish(f->st, c2, TASK_CANCELLED, "", "", 4), 0);
	assert_int_equal(store_captures_active(f->st), 1);
	assert_int_equal(store_task_finish(f->st, c1, TASK_FAILED, "disk full", "", 5), 0);
	assert_int_equal(store_captures_active(f->st), 0);
}

/* The list of active tasks (pxectl status): pending, booting and running
 * ones, newest first, page by page; ended ones only in the full list. */
static void
test_tasks_active_list(void **state)
{
	struct fixture *f = *state;
	struct store_token tok1 = { .salt = { 1 }, .hash = { 2 } }, got;
	struct store_token tok3 = { .salt = { 3 }, .hash = { 4 } };
	static const struct store_task_filter active = { .state = "active" };
	struct store_task list[8];
	int64_t id[5];
	char mac[32];

	for (int i = 0; i < 5; i++) {
		snprintf(mac, sizeof mac, "52:54:00:00:01:%02x", i);
		assert_int_equal(store_host_add(f->st, mac, "", 1), 0);
		id[i] = store_task_add(f->st, mac, SPEC(TASK_DEPLOY, "x"), 2);
		assert_true(id[i] > 0);
	}
	assert_int_equal(store_task_boot(f->st, id[1], &tok1, &got), 1);       /* booting */
	assert_int_equal(store_task_boot(f->st, id[3], &tok3, &got), 1);
	assert_int_equal(store_task_start(f->st, id[3], 3), 0);                 /* running */
	assert_int_equal(store_task_finish(f->st, id[2], TASK_CANCELLED, "", "", 4), 0);
	assert_int_equal(store_task_finish(f->st, id[4], TASK_CANCELLED, "", "", 4), 0);
	assert_int_equal(store_task_count(f->st, NULL), 5);
	assert_int_equal(store_task_count(f->st, &active), 3);
	assert_int_equal(store_task_list(f->st, 0, &active, list, 8), 3);
	assert_int_equal(list[0].id, id[3]);
	assert_int_equal(list[0].state, TASK_RUNNING);
	assert_int_equal(list[1].id, id[1]);
	assert_int_equal(list[1].state, TASK_BOOTING);
	assert_int_equal(list[2].id, id[0]);
	assert_int_equal(list[2].state, TASK_PENDING);
	assert_int_equal(store_task_list(f->st, id[1], &active, list, 8), 1);     /* next page */
	assert_int_equal(list[0].id, id[0]);
	assert_int_equal(store_task_list(f->st, 0, &active, list, 2), 2);
	assert_int_equal(store_task_list(f->st, 0, NULL, list, 8), 5);
}

/* A database made by schema 1 (leases and events only) is upgraded in
 * place and keeps its leases. */
static void
test_upgrade_from_v1(void **state)
{
	struct fixture *f = *state;
	char sql[1024];

	store_close(f->st);
	f->st = NULL;
	tb_where_clear(f->dir);
	snprintf(sql, sizeof sql, "CREATE TABLE schema_version (version {int} PRIMARY KEY);"
	    "INSERT INTO schema_version VALUES (1);"
	    "CREATE TABLE leases (address {int} PRIMARY KEY, mac {blob} NOT NULL,"
	    " client_id {blob}, state {int} NOT NULL, starts {int} NOT NULL,"
	    " expires {int} NOT NULL, hostname TEXT NOT NULL);"
	    "CREATE TABLE events (id {id}, mac {blob} NOT NULL,"
	    " when_ms {int} NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL);"
	    "CREATE INDEX events_mac_id ON events (mac, id);"
	    "INSERT INTO leases VALUES (3221225994, %s, NULL, 2, 1, 9000000000, 'a');",
	    tb_pg() ? "'\\x525400000001'::bytea" : "x'525400000001'");
	tb_exec(f->dir, sql);
	assert_int_equal(store_open(&f->st, f->dir), 0);
	assert_int_equal(store_host_add(f->st, "52:54:00:00:00:01", "after-upgrade", 1), 0);
	assert_int_equal(store_image_list(f->st, "", &(struct store_image){ 0 }, 1), 0);
	assert_int_equal(tb_query_int(f->dir, "SELECT count(*) FROM leases"), 1);
	assert_int_equal(tb_query_int(f->dir, "SELECT max(version) FROM schema_version"),
	    store_schema_latest());
}

/* API tokens (schema 11, store/tokens.c): names unique, found by their
 * hash only, last_used written at most once a minute, listed by id,
 * removed by name or by id. */
static void
test_api_tokens(void **state)
{
	struct fixture *f = *state;
	uint8_t h1[32], h2[32], h3[32];
	struct store_api_token t, list[4];
	int64_t id1, id2;

	memset(h1, 0x11, sizeof h1);
	memset(h2, 0x22, sizeof h2);
	memset(h3, 0x33, sizeof h3);
	h1[31] = 0;                     /* a NUL inside the hash is kept */
	id1 = store_token_add(f->st, "ci", TOKEN_READ, h1, 100);
	assert_true(id1 > 0);
	id2 = store_token_add(f->st, "ops", TOKEN_ADMIN, h2, 101);
	assert_true(id2 > id1);
	assert_int_equal(store_token_add(f->st, "ci", TOKEN_ADMIN, h3, 102), -EEXIST);
	assert_int_equal(store_token_add(f->st, "other", TOKEN_READ, h2, 102), -EEXIST);
	assert_int_equal(store_token_use(f->st, h3, 200, &t), -ENOENT);
	assert_int_equal(store_token_use(f->st, h1, 130, &t), 0);
	assert_int_equal(t.id, id1);
	assert_string_equal(t.name, "ci");
	assert_int_equal(t.scope, TOKEN_READ);
	assert_int_equal(t.created, 100);
	assert_int_equal(t.last_used, 0);
	/* used at 130: written; at 150 (under a minute later): not */
	assert_int_equal(store_token_use(f->st, h1, 150, &t), 0);
	assert_int_equal(t.last_used, 130);
	assert_int_equal(store_token_use(f->st, h1, 190, &t), 0);
	assert_int_equal(t.last_used, 130);
	assert_int_equal(store_token_list(f->st, list, ARRAY_SIZE(list)), 2);
	assert_int_equal(list[0].id, id1);
	assert_int_equal(list[0].last_used, 190);
	assert_string_equal(list[1].name, "ops");
	assert_int_equal(list[1].scope, TOKEN_ADMIN);
	assert_int_equal(store_token_remove(f->st, "ops"), 0);
	assert_int_equal(store_token_remove(f->st, "ops"), -ENOENT);
	char id_text[24];
	snprintf(id_text, sizeof id_text, "%lld", (long long)id1);
	assert_int_equal(store_token_remove(f->st, id_text), 0);
	assert_int_equal(store_token_list(f->st, list, ARRAY_SIZE(list)), 0);
	assert_int_equal(store_token_use(f->st, h1, 300, &t), -ENOENT);
}

/* Schema 12: a task's options and report, a host's hostname. */
static void
test_options_report_hostname(void **state)
{
	struct fixture *f = *state;
	const char *mac = "52:54:00:00:00:09";
	struct store_task_spec spec = { .type = TASK_SCAN, .image = "", .mcast = "",
		.options = "{\"quarantine\":true}" };
	struct store_task t;
	struct store_host h;
	char *report = NULL;
	int64_t id;

	assert_int_equal(store_host_add(f->st, mac, "lab-9", 1), 0);
	id = store_task_add(f->st, mac, &spec, 2);
	assert_true(id > 0);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_int_equal(t.type, TASK_SCAN);
	assert_string_equal(task_type_name(t.type), "scan");
	assert_string_equal(t.options, "{\"quarantine\":true}");
	assert_int_equal(store_task_report(f->st, id, &report), 0);
	assert_null(report);
	assert_int_equal(store_task_set_report(f->st, id, "{\"infected\":1}"), 0);
	assert_int_equal(store_task_report(f->st, id, &report), 0);
	assert_string_equal(report, "{\"infected\":1}");
	free(report);
	assert_int_equal(store_task_set_report(f->st, id + 100, "{}"), -ENOENT);
	assert_int_equal(store_task_boot(f->st, id, &(struct store_token){ .hash = { 9 } },
	    &(struct store_token){ 0 }), 1);
	assert_int_equal(store_task_start(f->st, id, 3), 0);
	assert_int_equal(store_task_progress_files(f->st, id, "scan", 100, 0, 10, 0, 7), 0);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_int_equal(t.files, 7);
	assert_int_equal(store_task_finish(f->st, id, TASK_CANCELLED, "", "", 3), 0);
	/* no options: an empty object */
	id = store_task_add(f->st, mac, SPEC(TASK_WIPE, ""), 4);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_string_equal(t.options, "{}");
	assert_int_equal(store_host_get(f->st, mac, &h), 0);
	assert_string_equal(h.hostname, "");
	store_host_free(&h);
	assert_int_equal(store_host_set_hostname(f->st, mac, "pc-09"), 0);
	assert_int_equal(store_host_get(f->st, mac, &h), 0);
	assert_string_equal(h.hostname, "pc-09");
	store_host_free(&h);
	assert_int_equal(store_host_set_hostname(f->st, "52:54:00:00:00:99", "x"), -ENOENT);
	assert_int_equal(task_type_parse("reset-password"), TASK_RESET_PASSWORD);
	assert_int_equal(task_type_parse("restore"), TASK_RESTORE);
}

/* A database made before the filesystem tasks merged (schema 11, with 9
 * and 10 empty) gains their columns (12), diagnostics' (13) and the task
 * token's address (14), the shared leases' columns (15) and keeps its rows. */
static void
test_upgrade_from_v11(void **state)
{
	struct fixture *f = *state;
	const char *mac = "52:54:00:00:00:11";
	struct store_task_spec spec = { .type = TASK_SCAN, .image = "", .mcast = "",
		.options = "{\"quarantine\":true}" };
	struct store_task t;
	struct store_host h;
	int64_t id;

	assert_int_equal(store_host_add(f->st, mac, "lab-11", 1), 0);
	store_close(f->st);
	f->st = NULL;
	tb_exec(f->dir, "ALTER TABLE tasks DROP COLUMN options;"
	    "ALTER TABLE tasks DROP COLUMN report;"
	    "ALTER TABLE tasks DROP COLUMN files;"
	    "ALTER TABLE hosts DROP COLUMN hostname;"
	    "ALTER TABLE tasks DROP COLUMN params;"
	    "ALTER TABLE hosts DROP COLUMN last_addr;"
	    "ALTER TABLE hosts DROP COLUMN wol_password;"
	    "DROP TABLE diag_results; DROP TABLE wipe_certificates; DROP TABLE environments;"
	    "DROP INDEX leases_updated; ALTER TABLE leases DROP COLUMN updated;"
	    "ALTER TABLE leases DROP COLUMN server; DROP TABLE servers;"
	    "ALTER TABLE tasks DROP COLUMN token_addr;"
	    "DELETE FROM schema_version WHERE version >= 12;");
	assert_int_equal(store_open(&f->st, f->dir), 0);
	id = store_task_add(f->st, mac, &spec, 2);
	assert_true(id > 0);
	assert_int_equal(store_task_get(f->st, id, &t), 0);
	assert_string_equal(t.options, "{\"quarantine\":true}");
	assert_string_equal(t.token_addr, "");
	assert_int_equal(store_host_set_hostname(f->st, mac, "pc-11"), 0);
	assert_int_equal(store_host_get(f->st, mac, &h), 0);
	assert_string_equal(h.name, "lab-11");
	assert_string_equal(h.hostname, "pc-11");
	store_host_free(&h);
	assert_int_equal(tb_query_int(f->dir, "SELECT max(version) FROM schema_version"),
	    store_schema_latest());
	assert_int_equal(store_schema_latest(), 17);
	/* servers.running (16) and servers.subnets (17) */
	assert_int_equal(store_server_beat(f->st, "pxe1", "{}", "192.0.2.0/24"), 0);
	assert_int_equal(tb_query_int(f->dir, "SELECT count(*) FROM servers"
	    " WHERE subnets = '192.0.2.0/24' AND running = '{}'"), 1);
}

/* Subnets changed with pxectl (schema 8): set, replaced, listed oldest
 * first, read, forgotten. */
static void
test_subnets(void **state)
{
	struct fixture *f = *state;
	struct store_subnet out[4], one;

	assert_int_equal(store_subnet_list(f->st, out, 4), 0);
	assert_int_equal(store_subnet_get(f->st, "198.51.100.0/24", &one), -ENOENT);
	assert_int_equal(store_subnet_set(f->st, "198.51.100.0/24", "off", 100), 0);
	assert_int_equal(store_subnet_set(f->st, "203.0.113.0/24", "full", 200), 0);
	assert_int_equal(store_subnet_set(f->st, "198.51.100.0/24", "proxy", 300), 0);
	assert_int_equal(store_subnet_list(f->st, out, 4), 2);
	assert_string_equal(out[0].cidr, "203.0.113.0/24");
	assert_string_equal(out[1].mode, "proxy");
	assert_int_equal(out[1].changed_ms, 300);
	assert_int_equal(store_subnet_list(f->st, out, 1), 1);
	assert_int_equal(store_subnet_get(f->st, "198.51.100.0/24", &one), 0);
	assert_string_equal(one.mode, "proxy");
	assert_int_equal(store_subnet_delete(f->st, "198.51.100.0/24"), 0);
	assert_int_equal(store_subnet_delete(f->st, "198.51.100.0/24"), -ENOENT);
	assert_int_equal(store_subnet_list(f->st, out, 4), 1);
}

/* Lists filtered as the console asks: hosts by a piece of their MAC or
 * name (case-insensitive), tasks by host, state, type and image, each with
 * the count of the same filter. */
static void
test_filters(void **state)
{
	struct fixture *f = *state;
	struct store_host h[8] = { 0 };
	struct store_task t[8];
	struct store_task_filter deploys = { .type = "deploy" };
	struct store_task_filter of1 = { .mac = "52:54:00:00:00:71", .state = "pending" };
	struct store_task_filter none = { .image = "nothing" };
	int64_t id;

	assert_int_equal(store_host_add(f->st, "52:54:00:00:00:71", "Lab-A", 1), 0);
	assert_int_equal(store_host_add(f->st, "52:54:00:00:00:72", "lab-b", 1), 0);
	assert_int_equal(store_host_add(f->st, "52:54:00:00:0a:73", "office", 1), 0);
	assert_int_equal(store_host_list(f->st, "", "LAB", h, 8), 2);
	assert_int_equal(store_host_count(f->st, "LAB"), 2);
	for (int i = 0; i < 2; i++)
		store_host_free(&h[i]);
	assert_int_equal(store_host_list(f->st, "", "0a:7", h, 8), 1);
	assert_string_equal(h[0].name, "office");
	store_host_free(&h[0]);
	assert_int_equal(store_host_count(f->st, ""), 3);
	id = store_task_add(f->st, "52:54:00:00:00:71", SPEC(TASK_DEPLOY, "img"), 10);
	assert_true(id > 0);
	assert_true(store_task_add(f->st, "52:54:00:00:00:72", SPEC(TASK_WIPE, ""), 11) > 0);
	assert_int_equal(store_task_list(f->st, 0, &deploys, t, 8), 1);
	assert_int_equal(t[0].id, id);
	assert_int_equal(store_task_count(f->st, &deploys), 1);
	assert_int_equal(store_task_list(f->st, 0, &of1, t, 8), 1);
	assert_int_equal(store_task_count(f->st, &none), 0);
	assert_int_equal(store_task_count(f->st, NULL), 2);
	assert_int_equal(store_task_list(f->st, id, NULL, t, 8), 0);  /* none older */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_canon),
		cmocka_unit_test(test_task_names),
		cmocka_unit_test(test_group_names),
		cmocka_unit_test_setup_teardown(test_hosts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hosts_from_dhcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_life, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options_report_hostname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_images, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tasks_active_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_captures_active, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_v11, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subnets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
	};

	return tb_run_both("test_store_mgmt", tests, ARRAY_SIZE(tests));
}
