/* The state store: leases, batches, crash safety, events, schema, on
 * SQLite and on PostgreSQL (store_backends.h).  Each test gets a fresh
 * place for its store.  The test reads the database directly with SQLite or
 * libpq for what the API does not show (schema version, address encoding);
 * pxed itself includes their headers in store/db_*.c only. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/util.h"
#include "store/servers.h"
#include "store/stats.h"
#include "store/store.h"

#include "store_backends.h"

struct fixture {
	char dir[TB_WHERE_MAX];         /* where the store is (a directory or a URL) */
	struct store *st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	log_init("test_store", true, LOG_LEVEL_WARN);
	tb_where_new(f->dir, sizeof f->dir, "store");
	assert_int_equal(store_open(&f->st, f->dir), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = {
		"pxed.db", "pxed.db-wal", "pxed.db-shm", "file",
	};

	store_close(f->st);
	tb_where_drop(f->dir, names, ARRAY_SIZE(names));
	free(f);
	return 0;
}

static void
reopen(struct fixture *f)
{
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(&f->st, f->dir), 0);
}

static struct store_lease
make_lease(const char *addr, uint8_t last, int64_t expires)
{
	struct store_lease l;

	memset(&l, 0, sizeof l);
	assert_int_equal(inet_pton(AF_INET, addr, &l.address), 1);
	l.mac_len = 6;
	memcpy(l.mac, (const uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34, last }, 6);
	l.state = LEASE_BOUND;
	l.starts = 1700000000 + last;
	l.expires = expires;
	snprintf(l.hostname, sizeof l.hostname, "node-%u", last);
	return l;
}

#define LEASES_MAX 16

struct collected {
	struct store_lease leases[LEASES_MAX];
	size_t n;
};

static void
collect(const struct store_lease *lease, void *arg)
{
	struct collected *c = arg;

	assert_true(c->n < LEASES_MAX);
	c->leases[c->n++] = *lease;
}

static size_t
load_all(struct store *st, struct collected *c)
{
	memset(c, 0, sizeof *c);
	assert_int_equal(store_lease_foreach(st, collect, c), 0);
	return c->n;
}

static void
assert_lease_equal(const struct store_lease *a, const struct store_lease *b)
{
	assert_int_equal(a->address.s_addr, b->address.s_addr);
	assert_int_equal(a->mac_len, b->mac_len);
	assert_memory_equal(a->mac, b->mac, a->mac_len);
	assert_int_equal(a->client_id_len, b->client_id_len);
	if (a->client_id_len > 0)
		assert_memory_equal(a->client_id, b->client_id, a->client_id_len);
	assert_int_equal(a->state, b->state);
	assert_true(a->starts == b->starts);
	assert_true(a->expires == b->expires);
	assert_string_equal(a->hostname, b->hostname);
}

/* Run one query returning an integer, straight on the database. */
static int64_t
query_int(const char *where, const char *sql)
{
	return tb_query_int(where, sql);
}

static void
test_open_creates_db(void **state)
{
	struct fixture *f = *state;
	char path[TB_WHERE_MAX + 16];
	struct stat sb;

	assert_false(store_pending(f->st));
	assert_true(store_connected(f->st));
	if (tb_pg()) {
		assert_int_equal(query_int(f->dir, "SELECT count(*) FROM pg_stat_activity"
		    " WHERE application_name = 'pxed'"), 1);
		return;
	}
	snprintf(path, sizeof path, "%s/pxed.db", f->dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(query_int(f->dir,
	    "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
}

static void
test_schema_version(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(tb_catalog_count(f->dir, "table", "'schema_version'"), 1);
	assert_int_equal(query_int(f->dir,
	    "SELECT max(version) FROM schema_version"), store_schema_latest());
	assert_int_equal(store_schema_latest(), 17);
	assert_int_equal(tb_catalog_count(f->dir, "table",
	    "'hosts', 'tasks', 'host_groups', 'subnets', 'tokens',"
	    " 'diag_results', 'wipe_certificates', 'environments', 'servers'"), 9);
	assert_int_equal(tb_catalog_count(f->dir, "index", "'events_mac_id'"), 1);
	/* Reopening does not migrate again. */
	reopen(f);
	assert_int_equal(query_int(f->dir,
	    "SELECT count(*) FROM schema_version"), store_schema_latest());
}

/* The MAC at an address: its lease's first, else the address the client
 * said it has (proxy mode); rewritten by a newer client. */
static void
test_mac_of(void **state)
{
	struct fixture *f = *state;
	struct store_lease l = make_lease("10.0.0.5", 1, INT64_MAX);
	struct in_addr a, b;
	uint8_t mac[16];
	static const uint8_t m1[6] = { 0x52, 0x54, 0, 0, 0, 0x51 }, m2[6] = { 0x52, 0x54, 0, 0, 0, 0x52 };

	inet_pton(AF_INET, "10.0.0.5", &a);
	inet_pton(AF_INET, "10.0.0.6", &b);
	assert_int_equal(store_mac_of(f->st, b, mac), 0);
	assert_int_equal(store_client_addr_put(f->st, b, m1, 6, 1000), 0);
	assert_int_equal(store_client_addr_put(f->st, a, m2, 6, 1000), 0);
	assert_int_equal(store_lease_put(f->st, &l), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_mac_of(f->st, b, mac), 6);
	assert_memory_equal(mac, m1, 6);
	assert_int_equal(store_mac_of(f->st, a, mac), l.mac_len);     /* the lease wins */
	assert_memory_equal(mac, l.mac, l.mac_len);
	assert_int_equal(store_client_addr_put(f->st, b, m2, 6, 2000), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_mac_of(f->st, b, mac), 6);
	assert_memory_equal(mac, m2, 6);
	assert_int_equal(store_client_addr_put(f->st, b, m2, 0, 2000), -EINVAL);
}

static void
test_lease_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct store_lease in[4];
	struct collected c;

	in[0] = make_lease("10.0.0.20", 1, 1700003600);
	in[1] = make_lease("10.0.0.3", 2, INT64_MAX);
	in[2] = make_lease("192.168.1.250", 3, 1700007200);
	in[3] = make_lease("10.0.0.100", 4, 0);
	in[0].client_id_len = 7;
	memcpy(in[0].client_id, "\x01\x52\x54\x00\x12\x34\x01", 7);
	in[1].client_id_len = STORE_CLIENT_ID_MAX;
	memset(in[1].client_id, 0xab, STORE_CLIENT_ID_MAX);
	in[2].state = LEASE_DECLINED;
	in[2].hostname[0] = '\0';
	in[3].state = LEASE_RELEASED;
	memset(in[3].hostname, 'h', sizeof in[3].hostname - 1);
	for (size_t i = 0; i < ARRAY_SIZE(in); i++)
		assert_int_equal(store_lease_put(f->st, &in[i]), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(load_all(f->st, &c), 4);
	/* ordered by address as a number: 10.0.0.3 < .20 < .100 < 192... */
	assert_lease_equal(&c.leases[0], &in[1]);
	assert_lease_equal(&c.leases[1], &in[0]);
	assert_lease_equal(&c.leases[2], &in[3]);
	assert_lease_equal(&c.leases[3], &in[2]);
	/* host order on disk: 10.0.0.3 is 0x0a000003 */
	assert_int_equal(query_int(f->dir, "SELECT min(address) FROM leases"),
	    0x0a000003);
}

static void
test_lease_put_replaces(void **state)
{
	struct fixture *f = *state;
	struct store_lease a = make_lease("10.0.0.5", 5, 100);
	struct collected c;

	assert_int_equal(store_lease_put(f->st, &a), 0);
	assert_int_equal(store_commit(f->st), 0);
	a.mac[5] = 9;
	a.expires = INT64_MAX;
	a.client_id_len = 2;
	memcpy(a.client_id, "\xff\x00", 2);
	str_copy(a.hostname, "renamed", sizeof a.hostname);
	assert_int_equal(store_lease_put(f->st, &a), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(load_all(f->st, &c), 1);
	assert_lease_equal(&c.leases[0], &a);
}

static void
test_lease_delete(void **state)
{
	struct fixture *f = *state;
	struct store_lease a = make_lease("10.0.0.5", 5, 100);
	struct store_lease b = make_lease("10.0.0.6", 6, 100);
	struct collected c;

	assert_int_equal(store_lease_put(f->st, &a), 0);
	assert_int_equal(store_lease_put(f->st, &b), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_lease_delete(f->st, a.address), 0);
	/* deleting what is not there is fine */
	assert_int_equal(store_lease_delete(f->st, a.address), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(load_all(f->st, &c), 1);
	assert_lease_equal(&c.leases[0], &b);
}

static void
test_leases_survive_reopen(void **state)
{
	struct fixture *f = *state;
	struct store_lease a = make_lease("10.0.0.7", 7, INT64_MAX);
	struct store_lease b = make_lease("10.0.0.8", 8, 1700009999);
	struct collected c;

	assert_int_equal(store_lease_put(f->st, &a), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_lease_put(f->st, &b), 0);
	/* not committed: store_close commits it */
	reopen(f);
	assert_int_equal(load_all(f->st, &c), 2);
	assert_lease_equal(&c.leases[0], &a);
	assert_lease_equal(&c.leases[1], &b);
}

/* The child dies like kill -9: no store_close, no atexit. */
static void
crash_child(const char *dir)
{
	struct store *st;
	struct store_lease a = make_lease("10.0.0.10", 10, 1000);
	struct store_lease b = make_lease("10.0.0.11", 11, 1000);

	if (store_open(&st, dir) != 0 || store_lease_put(st, &a) != 0 ||
	    store_commit(st) != 0 || store_lease_put(st, &b) != 0 ||
	    !store_pending(st))
		_exit(1);
	_exit(0);
}

static void
test_crash_loses_only_uncommitted(void **state)
{
	struct fixture *f = *state;
	struct store_lease a = make_lease("10.0.0.10", 10, 1000);
	struct collected c;
	int status;
	pid_t pid;

	/* No connection may cross fork(): close ours first. */
	store_close(f->st);
	f->st = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		crash_child(f->dir);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(store_open(&f->st, f->dir), 0);
	assert_int_equal(load_all(f->st, &c), 1);
	assert_lease_equal(&c.leases[0], &a);
}

static void
test_pending(void **state)
{
	struct fixture *f = *state;
	struct store_lease a = make_lease("10.0.0.12", 12, 1000);
	const uint8_t mac[6] = { 1, 2, 3, 4, 5, 6 };

	assert_false(store_pending(f->st));
	assert_int_equal(store_commit(f->st), 0);       /* nothing to do */
	assert_int_equal(store_lease_put(f->st, &a), 0);
	assert_true(store_pending(f->st));
	assert_int_equal(store_commit(f->st), 0);
	assert_false(store_pending(f->st));
	assert_int_equal(store_event_add(f->st, mac, sizeof mac, "dhcp-ack",
	    "10.0.0.12", 1), 0);
	/* events wait in memory, outside the lease batch, until a flush */
	assert_false(store_pending(f->st));
	assert_int_equal(store_events_queued(f->st), 1);
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM events"), 0);
	assert_int_equal(store_events_flush(f->st), 0);
	assert_int_equal(store_events_queued(f->st), 0);
	assert_false(store_pending(f->st));
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM events"), 1);
	assert_int_equal(store_lease_delete(f->st, a.address), 0);
	assert_true(store_pending(f->st));
	assert_int_equal(store_commit(f->st), 0);
	assert_false(store_pending(f->st));
}

#define EVENTS_A 250

static void
test_events_pruned(void **state)
{
	struct fixture *f = *state;
	const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0, 0, 0xa };
	const uint8_t mac_b[6] = { 0x52, 0x54, 0, 0, 0, 0xb };
	struct store_event ev[STORE_EVENTS_PER_MAC + 10];
	char detail[32];

	for (int i = 0; i < EVENTS_A; i++) {
		snprintf(detail, sizeof detail, "a%d", i);
		assert_int_equal(store_event_add(f->st, mac_a, sizeof mac_a,
		    "tftp-start", detail, 1000 + i), 0);
		if (i % 100 == 0)
			assert_int_equal(store_commit(f->st), 0);
		if (i < 3)
			assert_int_equal(store_event_add(f->st, mac_b,
			    sizeof mac_b, "dhcp-discover", "", 5000 + i), 0);
	}
	assert_int_equal(store_events_flush(f->st), 0);
	/* trimmed at every 16th id (the ids of a new table: a0 b0 a1 b1 a2 b2
	 * are 1-6, a3 is 7, ... a249 is 253): the last trim was id 240, a236,
	 * so a237-a249 wait on disk beside the newest of a and b's three */
	int rows = query_int(f->dir, "SELECT count(*) FROM events");
	assert_int_equal(rows, STORE_EVENTS_PER_MAC + 13 + 3);
	assert_int_equal(store_event_list(f->st, mac_a, sizeof mac_a, ev,
	    ARRAY_SIZE(ev)), STORE_EVENTS_PER_MAC);
	for (int i = 0; i < STORE_EVENTS_PER_MAC; i++) {
		int k = EVENTS_A - STORE_EVENTS_PER_MAC + i;
		snprintf(detail, sizeof detail, "a%d", k);
		assert_true(ev[i].when_ms == 1000 + k);
		assert_string_equal(ev[i].kind, "tftp-start");
		assert_string_equal(ev[i].detail, detail);
	}
	/* a smaller max gives the newest ones, still oldest first */
	assert_int_equal(store_event_list(f->st, mac_a, sizeof mac_a, ev, 2), 2);
	assert_string_equal(ev[0].detail, "a248");
	assert_string_equal(ev[1].detail, "a249");
	assert_int_equal(store_event_list(f->st, mac_b, sizeof mac_b, ev,
	    ARRAY_SIZE(ev)), 3);
	for (int i = 0; i < 3; i++) {
		assert_true(ev[i].when_ms == 5000 + i);
		assert_string_equal(ev[i].kind, "dhcp-discover");
		assert_string_equal(ev[i].detail, "");
	}
	/* a MAC with no events, and a MAC that is a prefix of another */
	assert_int_equal(store_event_list(f->st, mac_a, 5, ev, 10), 0);
	assert_int_equal(store_event_list(f->st, mac_a, sizeof mac_a, ev, 0), 0);
}

static void
test_event_text_limits(void **state)
{
	struct fixture *f = *state;
	const uint8_t mac[6] = { 9, 9, 9, 9, 9, 9 };
	char kind[100], detail[1000];
	struct store_event ev[1];

	memset(kind, 'k', sizeof kind - 1);
	kind[sizeof kind - 1] = '\0';
	memset(detail, 'd', sizeof detail - 1);
	detail[sizeof detail - 1] = '\0';
	assert_int_equal(store_event_add(f->st, mac, sizeof mac, kind, detail,
	    1), 0);
	assert_int_equal(store_event_add(f->st, mac, 17, kind, NULL, 1),
	    -EINVAL);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_event_list(f->st, mac, sizeof mac, ev, 1), 1);
	assert_int_equal(strlen(ev[0].kind), sizeof ev[0].kind - 1);
	assert_int_equal(strlen(ev[0].detail), sizeof ev[0].detail - 1);
}

static void
test_client_list(void **state)
{
	struct fixture *f = *state;
	const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0, 0, 0xa };
	const uint8_t mac_b[6] = { 0x52, 0x54, 0, 0, 0, 0xb };
	const uint8_t mac_c[20] = { 0xc };
	struct store_client cl[8];

	for (int i = 0; i < 250; i++)
		assert_int_equal(store_event_add(f->st, mac_a, sizeof mac_a,
		    "tftp-start", "x", 1000 + i), 0);
	assert_int_equal(store_event_add(f->st, mac_b, sizeof mac_b,
	    "dhcp-discover", "", 2000), 0);
	assert_int_equal(store_event_add(f->st, mac_a, sizeof mac_a,
	    "http-done", "vmlinuz 12345 bytes", 3000), 0);
	assert_int_equal(store_event_add(f->st, mac_c, 16, "pxe-ack", "ib",
	    2500), 0);
	assert_int_equal(store_commit(f->st), 0);
	/* the events: a (old) ..., b, a, c: newest first is c, a, b */
	assert_int_equal(store_client_list(f->st, cl, ARRAY_SIZE(cl)), 3);
	assert_int_equal(cl[0].mac_len, 16);
	assert_memory_equal(cl[0].mac, mac_c, 16);
	assert_int_equal(cl[1].mac_len, 6);
	assert_memory_equal(cl[1].mac, mac_a, 6);
	assert_true(cl[1].last_ms == 3000);
	assert_string_equal(cl[1].last_kind, "http-done");
	assert_string_equal(cl[1].last_detail, "vmlinuz 12345 bytes");
	assert_memory_equal(cl[2].mac, mac_b, 6);
	assert_true(cl[2].last_ms == 2000);
	assert_string_equal(cl[2].last_kind, "dhcp-discover");
	assert_int_equal(store_client_list(f->st, cl, 1), 1);
	assert_memory_equal(cl[0].mac, mac_c, 16);
	assert_int_equal(store_client_list(f->st, cl, 0), 0);
}

/* Boots and failures per hour (store/stats.c): each kind that counts,
 * those that do not, a MAC once an hour, hours outside the window. */
static void
test_boot_hours(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint8_t mac;
		int64_t at;                     /* seconds from the hour's start */
		const char *kind, *detail;
	} ev[] = {
		{ 0xa, 10, "dhcp-discover", "PXEClient:Arch:00000:UNDI:002001" },
		{ 0xa, 11, "dhcp-offer", "192.0.2.10 boot undionly.kpxe" },
		{ 0xa, 12, "dhcp-ack", "192.0.2.10 boot undionly.kpxe" },    /* A once */
		{ 0xa, 3599, "dhcp-no-address", "subnet 192.0.2.0/24 full" },
		{ 0xb, 20, "dhcp-offer", "192.0.2.11" },                     /* no boot */
		{ 0xb, 21, "dhcp-ack", "192.0.2.12 boot " },                 /* local */
		{ 0xb, 22, "tftp-start", "undionly.kpxe 1000 bytes" },
		{ 0xc, 30, "proxy-offer", "undionly.kpxe" },
		{ 0xc, 31, "tftp-failed", "pxelinux.cfg/default: file not found" },
		{ 0xc, 32, "tftp-failed", "undionly.kpxe: no answer at block 3" },
		{ 0xd, -3595, "pxe-ack", "undionly.kpxe" },                  /* the hour before */
		{ 0xd, -3594, "task-failed", "task 1: disk too small" },
		{ 0xe, 40, "boot-script", "task 2: deploy img" },
		{ 0xe, 41, "http-aborted", "bootenv/initrd 0 bytes in 9 ms" },
		{ 0xe, 42, "task-done", "task 2: ok" },
		{ 0xf, -3 * 3600, "pxe-ack", "undionly.kpxe" },              /* out of the window */
		{ 0xf, -3 * 3600 + 1, "task-failed", "task 3" },
	};
	const int64_t hour = 1700000000 / 3600 * 3600;
	struct store_hour h[STORE_HOURS_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(ev); i++) {
		uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, ev[i].mac };
		assert_int_equal(store_event_add(f->st, mac, sizeof mac, ev[i].kind, ev[i].detail,
		    (hour + ev[i].at) * 1000), 0);
	}
	/* still queued: counted all the same */
	assert_int_equal(store_boot_hours(f->st, hour + 1800, 3, h), 0);
	assert_true(h[0].start == hour - 7200 && h[1].start == hour - 3600 && h[2].start == hour);
	assert_int_equal(h[0].boots, 0);
	assert_int_equal(h[0].failures, 0);
	assert_int_equal(h[1].boots, 1);                /* D */
	assert_int_equal(h[1].failures, 1);             /* D */
	assert_int_equal(h[2].boots, 3);                /* A, C, E */
	assert_int_equal(h[2].failures, 3);             /* A, C, E */
	assert_int_equal(store_boot_hours(f->st, hour + 3599, 1, h), 0);
	assert_true(h[0].start == hour);
	assert_int_equal(h[0].boots, 3);
	assert_int_equal(store_boot_hours(f->st, hour + 3600, STORE_HOURS_MAX, h), 0);
	assert_int_equal(h[STORE_HOURS_MAX - 1].boots, 0);      /* a new hour */
	assert_int_equal(h[STORE_HOURS_MAX - 2].boots, 3);
	assert_int_equal(h[STORE_HOURS_MAX - 5].boots, 1);      /* F, in a week's window */
	assert_int_equal(h[STORE_HOURS_MAX - 5].failures, 1);
	assert_int_equal(store_boot_hours(f->st, hour, 0, h), -EINVAL);
	assert_int_equal(store_boot_hours(f->st, hour, STORE_HOURS_MAX + 1, h), -EINVAL);
}

static void
test_bad_lease(void **state)
{
	struct fixture *f = *state;
	struct store_lease a = make_lease("10.0.0.13", 13, 1000);

	a.mac_len = 17;
	assert_int_equal(store_lease_put(f->st, &a), -EINVAL);
	a.mac_len = 6;
	a.client_id_len = STORE_CLIENT_ID_MAX + 1;
	assert_int_equal(store_lease_put(f->st, &a), -EINVAL);
	assert_false(store_pending(f->st));
}

/* Servers starting at once on one database: each migrates or waits for
 * the one that does (PostgreSQL: an advisory lock; SQLite: BEGIN
 * IMMEDIATE), and every one opens it. */
#define MIGRATORS 4

static void
test_migrate_at_once(void **state)
{
	struct fixture *f = *state;
	pid_t pids[MIGRATORS];
	int status;

	store_close(f->st);
	f->st = NULL;
	tb_where_clear(f->dir);
	for (int i = 0; i < MIGRATORS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct store *st;
			int rc = store_open(&st, f->dir);
			_exit(rc == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < MIGRATORS; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(query_int(f->dir, "SELECT count(*) FROM schema_version"),
	    store_schema_latest());
	assert_int_equal(store_open(&f->st, f->dir), 0);
}


/* PostgreSQL: every statement has a time limit (store/db_pg.c): 10 s,
 * unless the URL's options set one (it stays); a statement past it
 * fails; the wait for another server's migration, and the migration, are
 * not cut by it. */
static void
statement_timeout_is(struct db *db, const char *want)
{
	struct db_stmt *s = db_prepare(db, "SHOW statement_timeout", false);

	assert_non_null(s);
	assert_int_equal(db_step(s), 1);
	assert_string_equal(db_col_text(s, 0), want);
	db_finalize(s);
}

static void
test_statement_timeout(void **state)
{
	struct fixture *f = *state;
	char where[TB_WHERE_MAX + 64];
	struct timespec t0, t1;
	struct db *db;
	int status;

	if (!tb_pg())
		return;         /* SQLite waits busy_timeout at most, per statement */
	assert_int_equal(db_open(&db, f->dir), 0);
	statement_timeout_is(db, "10s");
	db_close(db);
	snprintf(where, sizeof where, "%s%%20-cstatement_timeout%%3D300", f->dir);
	assert_int_equal(db_open(&db, where), 0);
	statement_timeout_is(db, "300ms");
	assert_int_equal(db_exec(db, "SELECT pg_sleep(0.05)"), 0);
	assert_int_equal(db_exec(db, "SELECT pg_sleep(1)"), -EIO);
	db_close(db);
	/* another server migrates for 1 s (holds the lock): this one waits
	 * for it, under a limit of 300 ms, and migrates */
	store_close(f->st);
	f->st = NULL;
	tb_where_clear(f->dir);
	PGconn *c = tb_pg_connect(f->dir);
	tb_pg_must(c, "SELECT pg_advisory_lock(1887004004)");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *st;
		_exit(store_open(&st, where) == 0 ? 0 : 1);
	}
	usleep(1000000);
	tb_pg_must(c, "SELECT pg_advisory_unlock(1887004004)");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	PQfinish(c);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 900);
	assert_int_equal(store_open(&f->st, f->dir), 0);
}


/* Servers sharing one database (store/servers.h): a lease is written only
 * when its address is free, expired, released or already that client's;
 * otherwise -EBUSY, and the batch goes on. */
static void
test_lease_take(void **state)
{
	struct fixture *f = *state;
	struct store *b;
	struct store_lease x = make_lease("10.0.0.5", 5, 1700000000 + 1000);
	struct store_lease other = make_lease("10.0.0.5", 6, 1700000000 + 1000);
	struct store_lease y = make_lease("10.0.0.6", 6, 1700000000 + 1000);
	struct store_lease got;

	store_set_server(f->st, "A");
	assert_int_equal(store_open(&b, f->dir), 0);
	store_set_server(b, "B");
	assert_int_equal(store_lease_put(f->st, &x), 0);
	assert_int_equal(store_commit(f->st), 0);
	/* another client, through B: refused; the batch goes on */
	assert_int_equal(store_lease_put(b, &other), -EBUSY);
	assert_int_equal(store_lease_put(b, &y), 0);
	assert_int_equal(store_commit(b), 0);
	assert_int_equal(store_lease_get(b, x.address, &got), 0);
	assert_lease_equal(&got, &x);
	assert_int_equal(store_lease_get(f->st, y.address, &got), 0);
	assert_lease_equal(&got, &y);
	/* the same client renewing through B: taken */
	x.expires += 100;
	assert_int_equal(store_lease_put(b, &x), 0);
	assert_int_equal(store_commit(b), 0);
	/* expired (the new lease starts after it ended): taken */
	other.starts = x.expires;
	other.expires = x.expires + 100;
	assert_int_equal(store_lease_put(f->st, &other), 0);
	assert_int_equal(store_commit(f->st), 0);
	/* released: taken */
	y.state = LEASE_RELEASED;
	assert_int_equal(store_lease_put(b, &y), 0);
	assert_int_equal(store_commit(b), 0);
	y = make_lease("10.0.0.6", 7, 1700000000 + 1000);
	assert_int_equal(store_lease_put(f->st, &y), 0);
	assert_int_equal(store_commit(f->st), 0);
	/* a client id names the client, whatever its MAC */
	other.client_id_len = 2;
	memcpy(other.client_id, "\x01\x02", 2);
	other.starts = other.expires;           /* its own lease had ended */
	other.expires += 100;
	assert_int_equal(store_lease_put(f->st, &other), 0);
	assert_int_equal(store_commit(f->st), 0);
	y.address = other.address;
	y.starts = other.starts;
	y.client_id_len = 2;
	memcpy(y.client_id, "\x01\x03", 2);
	assert_int_equal(store_lease_put(b, &y), -EBUSY);
	memcpy(y.client_id, "\x01\x02", 2);
	assert_int_equal(store_lease_put(b, &y), 0);       /* another MAC, the same id */
	assert_int_equal(store_commit(b), 0);
	assert_int_equal(store_lease_get(f->st, y.address, &got), 0);
	assert_lease_equal(&got, &y);
	store_close(b);
}

/* Two servers write one address for two clients at once: the second waits
 * for the first one's commit, then loses. */
static void
test_lease_take_race(void **state)
{
	struct fixture *f = *state;
	struct store_lease x = make_lease("10.0.0.9", 9, 1700000000 + 1000);
	int status;

	int ready[2], go[2];
	char c = 0;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *b;
		struct store_lease other = make_lease("10.0.0.9", 10, 1700000000 + 1000);
		int orc = store_open(&b, f->dir);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1 || orc != 0)
			_exit(3);
		store_set_server(b, "B");
		int rc = store_lease_put(b, &other);
		int crc = store_commit(b);
		store_close(b);
		_exit(rc == -EBUSY && crc == 0 ? 0 : rc == 0 ? 1 : 2);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	store_set_server(f->st, "A");
	assert_int_equal(store_lease_put(f->st, &x), 0);       /* not committed yet */
	assert_int_equal(write(go[1], &c, 1), 1);
	usleep(300000);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

struct seen_leases {
	unsigned n;
	uint8_t last_mac;
	enum lease_state last_state;
};

static void
seen_lease(const struct store_lease *l, void *arg)
{
	struct seen_leases *s = arg;

	s->n++;
	s->last_mac = l->mac[5];
	s->last_state = l->state;
}

struct seen_running {
	char last[128];
};

static void
seen_running(const char *name, const char *running, void *arg)
{
	struct seen_running *s = arg;

	snprintf(s->last, sizeof s->last, "%s=%s", name, running);
}

/* Heartbeats by the database's clock, what each runs; the leases the
 * other servers wrote. */
static void
test_servers(void **state)
{
	struct fixture *f = *state;
	struct seen_running running;
	char names[4][STORE_SERVER_NAME_MAX];
	char subnets[4][STORE_SERVER_SUBNETS_MAX];
	struct store_lease a = make_lease("10.0.0.5", 5, INT64_MAX);
	struct store_lease b = make_lease("10.0.0.6", 6, INT64_MAX);
	struct seen_leases seen = { 0 };
	int64_t last = 0, t0 = store_now_ms(f->st);

	assert_true(t0 > 1700000000000);
	assert_int_equal(store_server_beat(f->st, "pxe2", "{\"transfers\":[]}",
	    "192.0.2.0/24"), 0);
	assert_int_equal(store_server_beat(f->st, "pxe1", "{\"old\":1}", "10.0.0.0/8"), 0);
	assert_int_equal(store_server_beat(f->st, "pxe1", "{\"new\":1}",
	    "192.0.2.0/24 198.51.100.0/25"), 0);
	assert_int_equal(store_server_beat(f->st, "pxe3", NULL, NULL), 0);
	assert_int_equal(store_servers_live(f->st, 4000, names, subnets, 4), 3);
	assert_string_equal(names[0], "pxe1");
	assert_string_equal(names[1], "pxe2");
	/* each one's subnets, the newest */
	assert_string_equal(subnets[0], "192.0.2.0/24 198.51.100.0/25");
	assert_string_equal(subnets[1], "192.0.2.0/24");
	assert_string_equal(subnets[2], "");
	/* pxe2 reads what pxe1 runs (the newest), not its own nor pxe3's nothing */
	memset(&running, 0, sizeof running);
	assert_int_equal(store_servers_running(f->st, 4000, "pxe2", seen_running, &running), 1);
	assert_string_equal(running.last, "pxe1={\"new\":1}");
	tb_exec(f->dir, "UPDATE servers SET heartbeat = heartbeat - 10000 WHERE name = 'pxe1'");
	assert_int_equal(store_servers_live(f->st, 4000, names, NULL, 4), 2);
	assert_string_equal(names[0], "pxe2");
	/* a dead server's row is not read */
	assert_int_equal(store_servers_running(f->st, 4000, "pxe3", seen_running, &running), 1);
	assert_string_equal(running.last, "pxe2={\"transfers\":[]}");

	store_set_server(f->st, "pxe1");
	assert_int_equal(store_lease_put(f->st, &a), 0);
	store_set_server(f->st, "pxe2");
	assert_int_equal(store_lease_put(f->st, &b), 0);
	assert_int_equal(store_commit(f->st), 0);
	/* pxe1 reads what pxe2 wrote, not its own */
	assert_int_equal(store_lease_changes(f->st, "pxe1", t0 - 1000, 16, seen_lease, &seen,
	    &last), 1);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.last_mac, 6);
	assert_true(last >= t0);
	assert_int_equal(store_lease_changes(f->st, "pxe1", last, 16, seen_lease, &seen,
	    &last), 0);
}

/* A RELEASE: alone, the row goes; servers sharing the database keep it,
 * released and stamped, for the others to read, and only when it is that
 * client's (its MAC, or its client id when it has one). */
static void
test_lease_release(void **state)
{
	struct fixture *f = *state;
	struct store_lease x = make_lease("10.0.0.5", 5, INT64_MAX);
	struct store_lease other = make_lease("10.0.0.5", 6, INT64_MAX);
	struct store_lease got;
	struct seen_leases seen = { 0 };
	int64_t last = 0, t0 = store_now_ms(f->st);

	assert_int_equal(store_lease_put(f->st, &x), 0);
	assert_int_equal(store_lease_release(f->st, &x), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_lease_get(f->st, x.address, &got), -ENOENT);

	store_set_server(f->st, "pxe1");
	assert_int_equal(store_lease_put(f->st, &x), 0);
	assert_int_equal(store_commit(f->st), 0);
	store_set_server(f->st, "pxe2");
	/* another client's RELEASE (pxe2's pool did not know x): nothing */
	assert_int_equal(store_lease_release(f->st, &other), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_lease_get(f->st, x.address, &got), 0);
	assert_lease_equal(&got, &x);
	/* a client id names the client: x has none, so one sent does not match */
	struct store_lease x_id = x;
	x_id.client_id_len = 2;
	memcpy(x_id.client_id, "\x01\x02", 2);
	assert_int_equal(store_lease_release(f->st, &x_id), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_lease_get(f->st, x.address, &got), 0);
	assert_int_equal(got.state, LEASE_BOUND);
	/* x's own, through pxe2: released, read so by pxe1 */
	assert_int_equal(store_lease_release(f->st, &x), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_lease_get(f->st, x.address, &got), 0);
	assert_int_equal(got.state, LEASE_RELEASED);
	assert_int_equal(store_lease_changes(f->st, "pxe1", t0 - 1000, 16, seen_lease, &seen,
	    &last), 1);
	assert_int_equal(seen.last_mac, 5);
	assert_int_equal(seen.last_state, LEASE_RELEASED);
	/* and free for another client */
	store_set_server(f->st, "pxe1");
	assert_int_equal(store_lease_put(f->st, &other), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_lease_get(f->st, x.address, &got), 0);
	assert_lease_equal(&got, &other);
}

static void
test_open_fails(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	char path[TB_WHERE_MAX + 32];
	FILE *fp;
	int rc;

	if (tb_pg()) {
		/* no server on that socket; no such database on ours */
		rc = store_open(&st, "postgresql://pxed@/pxed?host=/nonexistent");
		assert_int_equal(rc, -ECONNREFUSED);
		assert_null(st);
		snprintf(path, sizeof path, "postgresql://pxed@/nosuchdb?host=%s", tb_pg_dir);
		assert_int_equal(store_open(&st, path), -ECONNREFUSED);
		assert_null(st);
		assert_int_equal(store_open(&st, ""), -EINVAL);
		return;
	}
	snprintf(path, sizeof path, "%s/missing/dir", f->dir);
	rc = store_open(&st, path);
	assert_int_equal(rc, -ENOENT);
	assert_null(st);
	/* a regular file where the directory should be */
	snprintf(path, sizeof path, "%s/file", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	rc = store_open(&st, path);
	assert_int_equal(rc, -ENOTDIR);
	assert_null(st);
	/* even root cannot create files in /proc */
	rc = store_open(&st, "/proc");
	assert_true(rc < 0);
	assert_null(st);
	assert_int_equal(store_open(&st, ""), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mac_of, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_put_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases_survive_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_loses_only_uncommitted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_pruned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_text_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_hours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statement_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_take, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_take_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_servers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_fails, setup, teardown),
	};

	return tb_run_both("test_store", tests, ARRAY_SIZE(tests));
}
