/* The state store on SQLite: one connection, WAL, statements prepared once.
 *
 * Writes are grouped: the first write after a commit runs BEGIN IMMEDIATE
 * and store_commit() runs COMMIT.  If SQLite rolls the open transaction
 * back by itself (an I/O error, a full disk), the batch is marked lost:
 * later writes fail and store_commit() returns -EIO, so the caller never
 * acknowledges what was not kept. */
#include "store/store.h"
#include "store/internal.h"

#include "core/bus.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STORE_DB_NAME "pxed.db"
#define STORE_BUSY_TIMEOUT_MS "2000"
#define FIELD_SIZE(type, field) sizeof(((type *)NULL)->field)

enum stmt_id {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_LEASE_PUT,
	STMT_LEASE_DELETE,
	STMT_LEASE_ALL,
	STMT_LEASE_GET,
	STMT_EVENT_ADD,
	STMT_EVENT_PRUNE,
	STMT_EVENT_CAP,
	STMT_EVENT_LIST,
	STMT_CLIENT_LIST,
	STMT_HOST_SEEN,
	STMT_ADDR_PUT,
	STMT_ADDR_PRUNE,
	STMT_ADDR_GET,
	STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_LEASE_PUT] =
		"INSERT OR REPLACE INTO leases"
		" (address, mac, client_id, state, starts, expires, hostname)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[STMT_LEASE_DELETE] = "DELETE FROM leases WHERE address = ?1",
	[STMT_ADDR_PUT] =
		"INSERT OR REPLACE INTO client_addrs (address, mac, seen) VALUES (?1, ?2, ?3)",
	[STMT_ADDR_PRUNE] = "DELETE FROM client_addrs WHERE seen < ?1",
	[STMT_ADDR_GET] = "SELECT mac FROM client_addrs WHERE address = ?1",
	[STMT_LEASE_ALL] =
		"SELECT address, mac, client_id, state, starts, expires, hostname"
		" FROM leases ORDER BY address",
	[STMT_LEASE_GET] =
		"SELECT address, mac, client_id, state, starts, expires, hostname"
		" FROM leases WHERE address = ?1",
	[STMT_EVENT_ADD] =
		"INSERT INTO events (mac, when_ms, kind, detail)"
		" VALUES (?1, ?2, ?3, ?4)",
	/* Everything of this MAC at or below its (N+1)-th newest id: walks
	 * N entries of the (mac, id) index, then deletes a range of it. */
	[STMT_EVENT_PRUNE] =
		"DELETE FROM events WHERE mac = ?1 AND id <= ("
		"SELECT id FROM events WHERE mac = ?1"
		" ORDER BY id DESC LIMIT 1 OFFSET ?2)",
	/* The whole table bounded: a flood of new MACs cannot grow it. */
	[STMT_EVENT_CAP] =
		"DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?1",
	[STMT_EVENT_LIST] =
		"SELECT when_ms, kind, detail FROM ("
		"SELECT id, when_ms, kind, detail FROM events WHERE mac = ?1"
		" ORDER BY id DESC LIMIT ?2) ORDER BY when_ms, id",   /* batches: by time */
	[STMT_CLIENT_LIST] =
		"SELECT mac, when_ms, kind, detail FROM events"
		" WHERE id IN (SELECT max(id) FROM events GROUP BY mac)"
		" ORDER BY id DESC LIMIT ?1",
	/* a PXE or HTTP boot client seen by DHCP: registered (store/mgmt.c) */
	[STMT_HOST_SEEN] =
		"INSERT INTO hosts (mac, arch, uuid, first_seen, last_seen, approved)"
		" VALUES (?1, ?2, ?5, ?3, ?3, ?4) ON CONFLICT (mac) DO UPDATE"
		" SET last_seen = max(last_seen, ?3),"
		" arch = CASE WHEN ?2 = '' THEN arch ELSE ?2 END,"
		" uuid = CASE WHEN ?5 = '' THEN uuid ELSE ?5 END",
};

/* Migration i brings the schema to version i + 1.  Append only. */
static const char *const migrations[] = {
	"CREATE TABLE leases ("
	" address INTEGER PRIMARY KEY,"         /* IPv4, host order */
	" mac BLOB NOT NULL,"
	" client_id BLOB,"                      /* NULL: none */
	" state INTEGER NOT NULL,"
	" starts INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" hostname TEXT NOT NULL);"
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" mac BLOB NOT NULL,"
	" when_ms INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE INDEX events_mac_id ON events (mac, id);",
	/* 2: imaging -- hosts and their tasks (store/mgmt.c) */
	"CREATE TABLE hosts ("
	" mac TEXT PRIMARY KEY,"                /* aa:bb:cc:dd:ee:ff */
	" name TEXT NOT NULL DEFAULT '',"
	" arch TEXT NOT NULL DEFAULT '',"
	" uuid TEXT NOT NULL DEFAULT '',"
	" first_seen INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" approved INTEGER NOT NULL DEFAULT 0,"
	" inventory TEXT);"
	"CREATE TABLE tasks ("
	" id INTEGER PRIMARY KEY,"
	" mac TEXT NOT NULL REFERENCES hosts (mac) ON DELETE CASCADE,"
	" type TEXT NOT NULL,"
	" image TEXT NOT NULL DEFAULT '',"
	" state TEXT NOT NULL,"
	" verify INTEGER NOT NULL DEFAULT 1,"
	" token_hash BLOB,"
	" created INTEGER NOT NULL,"
	" started INTEGER NOT NULL DEFAULT 0,"
	" finished INTEGER NOT NULL DEFAULT 0,"
	" phase TEXT NOT NULL DEFAULT '',"
	" bytes INTEGER NOT NULL DEFAULT 0,"
	" total INTEGER NOT NULL DEFAULT 0,"
	" rate INTEGER NOT NULL DEFAULT 0,"
	" resume_offset INTEGER NOT NULL DEFAULT 0,"
	" message TEXT NOT NULL DEFAULT '',"
	" log_tail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX tasks_mac ON tasks (mac, id);"
	"CREATE UNIQUE INDEX tasks_token ON tasks (token_hash);",
	/* 3: a deploy task may belong to a multicast session */
	"ALTER TABLE tasks ADD COLUMN mcast TEXT NOT NULL DEFAULT '';",
	/* 4: a task's token is derived from a salt (stable for the task's
	 * life); a capture may replace an existing image only when asked */
	"ALTER TABLE tasks ADD COLUMN token_salt BLOB;"
	"ALTER TABLE tasks ADD COLUMN replace_image INTEGER NOT NULL DEFAULT 0;",
	/* 5: host groups (a group exists while it has members) */
	"CREATE TABLE host_groups ("
	" name TEXT NOT NULL,"
	" mac TEXT NOT NULL REFERENCES hosts (mac) ON DELETE CASCADE,"
	" PRIMARY KEY (name, mac));"
	"CREATE INDEX host_groups_mac ON host_groups (mac);",
	/* 6: what the machine does after its task (a shell task stays at the
	 * shell, as before) */
	"ALTER TABLE tasks ADD COLUMN after_action TEXT NOT NULL DEFAULT 'reboot';"
	"UPDATE tasks SET after_action = 'shell' WHERE type = 'shell';",
	/* 7: the image catalogue (store/images.c); the manifests in the
	 * repository stay the truth, a row is reconciled with its manifest at
	 * start-up by the manifest's size and mtime */
	"CREATE TABLE images ("
	" name TEXT PRIMARY KEY,"
	" created INTEGER NOT NULL,"
	" disk_size INTEGER NOT NULL,"
	" used INTEGER NOT NULL,"               /* uncompressed bytes of its chunks */
	" stored INTEGER NOT NULL,"             /* compressed bytes */
	" chunks INTEGER NOT NULL,"
	" partitions INTEGER NOT NULL,"
	" table_kind TEXT NOT NULL DEFAULT '',"
	" partition_list TEXT NOT NULL DEFAULT '[]',"  /* JSON, as the API shows it */
	" task INTEGER NOT NULL DEFAULT 0,"     /* the capture task; 0: unknown */
	" manifest_mtime_ns INTEGER NOT NULL DEFAULT 0,"
	" manifest_size INTEGER NOT NULL DEFAULT 0);",
	/* 8: subnets enabled or disabled while running (pxectl subnet,
	 * store/subnets.c); the config file stays the baseline they change */
	"CREATE TABLE subnets ("
	" cidr TEXT PRIMARY KEY,"               /* "198.51.100.0/24" */
	" mode TEXT NOT NULL,"                  /* full, proxy or off */
	" changed INTEGER NOT NULL);"           /* unix ms */
	/* and the addresses clients said they have (a 4011 or iPXE request's
	 * ciaddr, option 50 of a REQUEST to another server): in proxy mode
	 * pxed holds no lease, yet TFTP and HTTP events find the MAC here */
	"CREATE TABLE client_addrs ("
	" address INTEGER PRIMARY KEY,"         /* host order, as leases */
	" mac BLOB NOT NULL,"
	" seen INTEGER NOT NULL);",             /* unix ms */
	/* 9, 10: reserved for branches in flight when 11 came (filesystem
	 * tasks, diagnostics); a database already at 11 never runs them
	 * (db_migrate starts after the highest version), so those branches
	 * appended instead: the filesystem tasks as 12, diagnostics as 13 */
	"",
	"",
	/* 11: API tokens with scopes (store/tokens.c), kept as hashes */
	"CREATE TABLE tokens ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" scope TEXT NOT NULL,"                 /* read | admin */
	" hash BLOB NOT NULL UNIQUE,"           /* SHA-256 of the token */
	" created INTEGER NOT NULL,"
	" last_used INTEGER NOT NULL DEFAULT 0);",
	/* 12: work inside a machine's filesystems: a task's own options (a
	 * JSON object: no_grow, outside_partitions, quarantine, user...), the
	 * report its agent sent (findings, accounts), the files a scan has
	 * done so far, the name a host is given by a deploy */
	"ALTER TABLE tasks ADD COLUMN options TEXT NOT NULL DEFAULT '{}';"
	"ALTER TABLE tasks ADD COLUMN report TEXT;"
	"ALTER TABLE tasks ADD COLUMN files INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE hosts ADD COLUMN hostname TEXT NOT NULL DEFAULT '';",
	/* 13: diagnose and repair (store/diag.c): a task's parameters (JSON:
	 * tests, wipe level, environment), where a host was last seen and its
	 * Wake-on-LAN password, diagnostic results (each host keeps its last
	 * reports), wipe certificates (kept after their host is removed: an
	 * audit record), boot environments made through the API */
	"ALTER TABLE tasks ADD COLUMN params TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE hosts ADD COLUMN last_addr TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE hosts ADD COLUMN wol_password TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE diag_results ("
	" id INTEGER PRIMARY KEY,"
	" task INTEGER NOT NULL,"
	" mac TEXT NOT NULL REFERENCES hosts (mac) ON DELETE CASCADE,"
	" name TEXT NOT NULL,"
	" status TEXT NOT NULL,"                /* pass, fail, skipped, error */
	" started INTEGER NOT NULL,"            /* Unix seconds */
	" duration_ms INTEGER NOT NULL,"
	" summary TEXT NOT NULL,"
	" details TEXT NOT NULL DEFAULT '{}',"  /* JSON */
	" UNIQUE (task, name));"
	"CREATE INDEX diag_results_mac ON diag_results (mac, name, id);"
	"CREATE TABLE wipe_certificates ("
	" id INTEGER PRIMARY KEY,"
	" task INTEGER NOT NULL,"
	" mac TEXT NOT NULL,"
	" disk TEXT NOT NULL, model TEXT NOT NULL, serial TEXT NOT NULL,"
	" size INTEGER NOT NULL,"
	" method TEXT NOT NULL,"
	" started INTEGER NOT NULL, finished INTEGER NOT NULL,"
	" bytes_written INTEGER NOT NULL,"
	" verify TEXT NOT NULL,"                /* pass, fail, none */
	" bytes_verified INTEGER NOT NULL,"
	" write_ms INTEGER NOT NULL DEFAULT 0,"        /* the write pass, sync included */
	" ok INTEGER NOT NULL,"
	" message TEXT NOT NULL,"
	" UNIQUE (task, disk));"
	"CREATE INDEX wipe_certificates_mac ON wipe_certificates (mac, id);"
	"CREATE TABLE environments ("
	" name TEXT PRIMARY KEY,"
	" definition TEXT NOT NULL,"            /* JSON, as the API takes it */
	" created INTEGER NOT NULL);",
	/* 14: the address a task's token is bound to: the first that
	 * fetched the task's boot script or used the token ('': none yet) */
	"ALTER TABLE tasks ADD COLUMN token_addr TEXT NOT NULL DEFAULT '';",
};

struct queued_event {
	uint8_t mac[16];
	uint8_t mac_len;
	int64_t when_ms;
	char kind[32];
	char detail[256];
	char uuid[STORE_UUID_TEXT];     /* a DISCOVER's option 97, or "" */
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	bool in_tx;             /* BEGIN ran, COMMIT not yet */
	bool tx_lost;           /* SQLite rolled the batch back on its own */
	struct queued_event *queue;     /* events not yet written */
	size_t queued;
	bool host_approval;             /* hosts registered from DHCP wait for approval */
	unsigned addr_puts;             /* client addresses written (pruning) */
};

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

static int
db_fail(struct store *st, const char *what)
{
	log_error("store: %s: %s (%d)", what, sqlite3_errmsg(st->db),
	    sqlite3_extended_errcode(st->db));
	return -EIO;
}

/* Step a statement that returns no rows, then reset it and drop its
 * bindings (blobs and text are bound SQLITE_STATIC). */
static int
step_done(struct store *st, enum stmt_id id, const char *what)
{
	sqlite3_stmt *s = st->stmt[id];
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE)
		rc = db_fail(st, what);
	else
		rc = 0;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

/* Run a write of the batch: BEGIN IMMEDIATE first if none is open. */
static int
batch_write(struct store *st, enum stmt_id id, const char *what)
{
	int rc;

	if (st->tx_lost)
		goto out_clear;
	if (!st->in_tx) {
		rc = step_done(st, STMT_BEGIN, "begin");
		if (rc < 0)
			goto out_clear;
		st->in_tx = true;
	}
	rc = step_done(st, id, what);
	if (rc < 0 && sqlite3_get_autocommit(st->db)) {
		log_error("store: the batch was rolled back");
		st->tx_lost = true;
	}
	return rc;
out_clear:
	sqlite3_clear_bindings(st->stmt[id]);
	return -EIO;
}

/* ---- open, configure, migrate ---- */

static int
db_open(struct store *st, const char *state_dir)
{
	char path[PATH_MAX];
	int n, rc, err;

	n = snprintf(path, sizeof path, "%s/%s", state_dir, STORE_DB_NAME);
	if (n < 0 || (size_t)n >= sizeof path)
		return -ENAMETOOLONG;
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		err = sqlite3_system_errno(st->db);
		log_error("store: open %s: %s (%s)", path,
		    sqlite3_errmsg(st->db), err > 0 ? strerror(err) : "?");
		return err > 0 ? -err : -EIO;
	}
	if (sqlite3_db_readonly(st->db, "main") != 0) {
		log_error("store: %s is read-only", path);
		return -EACCES;
	}
	return 0;
}

static int
db_configure(struct store *st)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *mode;
	int rc = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s,
	    NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		rc = db_fail(st, "journal_mode");
		goto out;
	}
	mode = sqlite3_column_text(s, 0);
	if (mode == NULL || strcasecmp((const char *)mode, "wal") != 0) {
		log_error("store: journal_mode is %s, not wal",
		    mode != NULL ? (const char *)mode : "?");
		rc = -EIO;
		goto out;
	}
	if (sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL;"
	    "PRAGMA wal_autocheckpoint=4000;"
	    "PRAGMA busy_timeout=" STORE_BUSY_TIMEOUT_MS ";"
	    "PRAGMA foreign_keys=ON;", NULL, NULL, NULL) != SQLITE_OK)
		rc = db_fail(st, "pragmas");
out:
	sqlite3_finalize(s);
	return rc;
}

int
store_schema_latest(void)
{
	return (int)ARRAY_SIZE(migrations);
}

/* The current schema version, 0 for a new database. */
static int
schema_version(struct store *st, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;

	if (sqlite3_exec(st->db, "CREATE TABLE IF NOT EXISTS schema_version"
	    " (version INTEGER PRIMARY KEY)", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "SELECT coalesce(max(version), 0)"
	    " FROM schema_version", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW)
		rc = db_fail(st, "schema version");
	else
		*version = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc;
}

static int
migrate_one(struct store *st, int to)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;

	if (sqlite3_exec(st->db, migrations[to - 1], NULL, NULL, NULL)
	    != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "INSERT INTO schema_version (version)"
	    " VALUES (?1)", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_bind_int(s, 1, to) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_DONE)
		rc = db_fail(st, "migration");
	else
		log_info("store: schema migrated to version %d", to);
	sqlite3_finalize(s);
	return rc;
}

/* Bring the schema up to date in one transaction. */
static int
db_migrate(struct store *st)
{
	const int latest = (int)ARRAY_SIZE(migrations);
	int version = 0, rc;

	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)
	    != SQLITE_OK)
		return db_fail(st, "begin migration");
	rc = schema_version(st, &version);
	if (rc == 0 && version > latest) {
		log_error("store: schema version %d is newer than this pxed's"
		    " (%d)", version, latest);
		rc = -EPROTO;
	}
	for (int v = version + 1; rc == 0 && v <= latest; v++)
		rc = migrate_one(st, v);
	if (rc == 0 && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL)
	    != SQLITE_OK)
		rc = db_fail(st, "commit migration");
	if (rc < 0 && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int
prepare_all(struct store *st)
{
	for (size_t i = 0; i < STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK)
			return db_fail(st, stmt_sql[i]);
	}
	return 0;
}

static void
db_free(struct store *st)
{
	for (size_t i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (sqlite3_close(st->db) != SQLITE_OK)
		db_fail(st, "close");
	free(st);
}

int
store_open(struct store **out, const char *state_dir)
{
	struct store *st;
	int rc;

	*out = NULL;
	if (state_dir == NULL || state_dir[0] == '\0')
		return -EINVAL;
	st = calloc(1, sizeof *st);
	if (st == NULL)
		return -ENOMEM;
	rc = db_open(st, state_dir);
	if (rc == 0)
		rc = db_configure(st);
	if (rc == 0)
		rc = db_migrate(st);
	if (rc == 0)
		rc = prepare_all(st);
	if (rc < 0) {
		db_free(st);
		return rc;
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	(void)store_events_flush(st);
	store_commit(st);
	free(st->queue);
	sqlite3_exec(st->db, "PRAGMA optimize", NULL, NULL, NULL);
	db_free(st);
}

/* ---- batches ---- */

int
store_commit(struct store *st)
{
	int rc;

	if (!st->in_tx)
		return 0;
	st->in_tx = false;
	if (st->tx_lost) {
		st->tx_lost = false;
		return -EIO;
	}
	rc = step_done(st, STMT_COMMIT, "commit");
	if (rc < 0 && !sqlite3_get_autocommit(st->db))
		step_done(st, STMT_ROLLBACK, "rollback");
	return rc;
}

bool
store_pending(const struct store *st)
{
	return st->in_tx;
}

/* ---- leases ---- */

int
store_lease_put(struct store *st, const struct store_lease *lease)
{
	sqlite3_stmt *s = st->stmt[STMT_LEASE_PUT];
	size_t host_len = strnlen(lease->hostname, sizeof lease->hostname);

	if (lease->mac_len > sizeof lease->mac ||
	    lease->client_id_len > sizeof lease->client_id)
		return -EINVAL;
	sqlite3_bind_int64(s, 1, ntohl(lease->address.s_addr));
	sqlite3_bind_blob(s, 2, lease->mac, lease->mac_len, SQLITE_STATIC);
	if (lease->client_id_len > 0)
		sqlite3_bind_blob(s, 3, lease->client_id, lease->client_id_len,
		    SQLITE_STATIC);
	sqlite3_bind_int(s, 4, (int)lease->state);
	sqlite3_bind_int64(s, 5, lease->starts);
	sqlite3_bind_int64(s, 6, lease->expires);
	sqlite3_bind_text(s, 7, lease->hostname, (int)host_len, SQLITE_STATIC);
	return batch_write(st, STMT_LEASE_PUT, "lease put");
}

int
store_client_addr_put(struct store *st, struct in_addr address, const uint8_t *mac,
    size_t mac_len, int64_t when_ms)
{
	sqlite3_stmt *s = st->stmt[STMT_ADDR_PUT];

	if (mac_len == 0 || mac_len > 16)
		return -EINVAL;
	/* bounded: every 1024 writes, what was not seen for a day goes */
	if (++st->addr_puts % 1024 == 0) {
		sqlite3_bind_int64(st->stmt[STMT_ADDR_PRUNE], 1, when_ms - 86400000);
		(void)batch_write(st, STMT_ADDR_PRUNE, "client address prune");
	}
	sqlite3_bind_int64(s, 1, ntohl(address.s_addr));
	sqlite3_bind_blob(s, 2, mac, (int)mac_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, when_ms);
	return batch_write(st, STMT_ADDR_PUT, "client address put");
}

size_t
store_mac_of(struct store *st, struct in_addr address, uint8_t mac[16])
{
	struct store_lease lease;
	sqlite3_stmt *s = st->stmt[STMT_ADDR_GET];
	size_t n = 0;

	if (store_lease_get(st, address, &lease) == 0 && lease.mac_len > 0) {
		memcpy(mac, lease.mac, lease.mac_len);
		return lease.mac_len;
	}
	sqlite3_bind_int64(s, 1, (sqlite3_int64)ntohl(address.s_addr));
	if (sqlite3_step(s) == SQLITE_ROW) {
		n = (size_t)sqlite3_column_bytes(s, 0);
		n = n <= 16 ? n : 0;
		if (n > 0)
			memcpy(mac, sqlite3_column_blob(s, 0), n);
	}
	sqlite3_reset(s);
	return n;
}

int
store_lease_delete(struct store *st, struct in_addr address)
{
	sqlite3_bind_int64(st->stmt[STMT_LEASE_DELETE], 1,
	    ntohl(address.s_addr));
	return batch_write(st, STMT_LEASE_DELETE, "lease delete");
}

/* Copy column col (a blob of at most max bytes) into out. */
static int
column_blob(sqlite3_stmt *s, int col, uint8_t *out, size_t max,
    uint8_t *out_len)
{
	const void *p = sqlite3_column_blob(s, col);
	int n = sqlite3_column_bytes(s, col);

	if (n < 0 || (size_t)n > max)
		return -EINVAL;
	if (n > 0)
		memcpy(out, p, (size_t)n);
	*out_len = (uint8_t)n;
	return 0;
}

static int
row_to_lease(sqlite3_stmt *s, struct store_lease *l)
{
	sqlite3_int64 addr = sqlite3_column_int64(s, 0);
	const unsigned char *host;

	memset(l, 0, sizeof *l);
	if (addr < 0 || addr > UINT32_MAX)
		return -EINVAL;
	l->address.s_addr = htonl((uint32_t)addr);
	if (column_blob(s, 1, l->mac, sizeof l->mac, &l->mac_len) < 0 ||
	    column_blob(s, 2, l->client_id, sizeof l->client_id,
	    &l->client_id_len) < 0)
		return -EINVAL;
	l->state = (enum lease_state)sqlite3_column_int(s, 3);
	l->starts = sqlite3_column_int64(s, 4);
	l->expires = sqlite3_column_int64(s, 5);
	host = sqlite3_column_text(s, 6);
	str_copy(l->hostname, host != NULL ? (const char *)host : "",
	    sizeof l->hostname);
	return 0;
}

int
store_lease_get(struct store *st, struct in_addr address, struct store_lease *out)
{
	sqlite3_stmt *s = st->stmt[STMT_LEASE_GET];
	int rc;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)ntohl(address.s_addr));
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = row_to_lease(s, out) < 0 ? -EINVAL : 0;
	else
		rc = rc == SQLITE_DONE ? -ENOENT : db_fail(st, "lease get");
	sqlite3_reset(s);
	return rc;
}

/* fn must not call store_lease_foreach (the statement is shared); it may
 * put or delete leases. */
int
store_lease_foreach(struct store *st,
    void (*fn)(const struct store_lease *lease, void *arg), void *arg)
{
	sqlite3_stmt *s = st->stmt[STMT_LEASE_ALL];
	struct store_lease lease;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (row_to_lease(s, &lease) < 0) {
			log_warn("store: skipping a malformed lease (address"
			    " %lld)", (long long)sqlite3_column_int64(s, 0));
			continue;
		}
		fn(&lease, arg);
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(st, "lease list");
	sqlite3_reset(s);
	return rc;
}

int
store_lease_page(struct store *st, uint32_t after, struct store_lease *out, size_t max)
{
	sqlite3_stmt *s;
	size_t n = 0;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT address, mac, client_id, state, starts, expires,"
	    " hostname FROM leases WHERE address > ?1 ORDER BY address LIMIT ?2", -1, &s,
	    NULL) != SQLITE_OK)
		return db_fail(st, "lease page");
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		if (row_to_lease(s, &out[n]) == 0)
			n++;
	sqlite3_finalize(s);
	return (int)n;
}

int64_t
store_lease_count(struct store *st)
{
	sqlite3_stmt *s;
	int64_t n = -EIO;

	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM leases", -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, "lease count");
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* ---- events ---- */

static int
event_insert(struct store *st, const uint8_t *mac, size_t mac_len,
    const char *kind, const char *detail, int64_t when_ms)
{
	sqlite3_stmt *s = st->stmt[STMT_EVENT_ADD];
	int rc;

	if (mac == NULL || mac_len > 16 || kind == NULL)
		return -EINVAL;
	if (detail == NULL)
		detail = "";
	sqlite3_bind_blob(s, 1, mac, (int)mac_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, when_ms);
	sqlite3_bind_text(s, 3, kind,
	    (int)strnlen(kind, FIELD_SIZE(struct store_event, kind) - 1), SQLITE_STATIC);
	sqlite3_bind_text(s, 4, detail,
	    (int)strnlen(detail, FIELD_SIZE(struct store_event, detail) - 1), SQLITE_STATIC);
	rc = batch_write(st, STMT_EVENT_ADD, "event add");
	if (rc < 0)
		return rc;
	/* Trimming costs a DELETE: do it on every 16th event only (lists
	 * return at most STORE_EVENTS_PER_MAC anyway), and bound the table as
	 * a whole every 1024th. */
	sqlite3_int64 id = sqlite3_last_insert_rowid(st->db);
	if (id % 1024 == 0) {
		s = st->stmt[STMT_EVENT_CAP];
		sqlite3_bind_int(s, 1, STORE_EVENTS_MAX);
		rc = batch_write(st, STMT_EVENT_CAP, "event cap");
		if (rc < 0)
			return rc;
	}
	if (id % 16 != 0)
		return 0;
	s = st->stmt[STMT_EVENT_PRUNE];
	sqlite3_bind_blob(s, 1, mac, (int)mac_len, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, STORE_EVENTS_PER_MAC);
	return batch_write(st, STMT_EVENT_PRUNE, "event prune");
}

/* Events are kept in memory and written together by store_events_flush():
 * a boot timeline may lag by a flush interval, but DHCP's hot path does
 * not pay for a B-tree insert per event inside every lease commit. */
int
store_event_add(struct store *st, const uint8_t *mac, size_t mac_len,
    const char *kind, const char *detail, int64_t when_ms)
{
	return store_event_add_uuid(st, mac, mac_len, kind, detail, "", when_ms);
}

int
store_event_add_uuid(struct store *st, const uint8_t *mac, size_t mac_len,
    const char *kind, const char *detail, const char *uuid, int64_t when_ms)
{
	struct queued_event *e;

	if (mac == NULL || mac_len > 16 || kind == NULL)
		return -EINVAL;
	bus_publish_boot(mac, mac_len, kind, detail, when_ms);
	if (st->queue == NULL && (st->queue = calloc(STORE_EVENT_QUEUE, sizeof *st->queue)) == NULL)
		return event_insert(st, mac, mac_len, kind, detail, when_ms);
	if (st->queued == STORE_EVENT_QUEUE) {
		int rc = store_events_flush(st);
		if (rc < 0)
			return rc;
	}
	e = &st->queue[st->queued++];
	memcpy(e->mac, mac, mac_len);
	e->mac_len = (uint8_t)mac_len;
	e->when_ms = when_ms;
	str_copy(e->kind, kind, sizeof e->kind);
	str_copy(e->detail, detail != NULL ? detail : "", sizeof e->detail);
	str_copy(e->uuid, uuid != NULL ? uuid : "", sizeof e->uuid);
	return 0;
}

/* The IANA architecture number in a PXE vendor class
 * ("PXEClient:Arch:00007:UNDI:003016"), as text ("7"), or "". */
static void
vendor_arch(const char *vc, char *out, size_t size)
{
	const char *p = strstr(vc, ":Arch:");
	unsigned long v;
	char *end;

	out[0] = '\0';
	if (p == NULL)
		return;
	v = strtoul(p + 6, &end, 10);
	if (end != p + 6 && v <= 0xffff)
		snprintf(out, size, "%lu", v);
}

/* A DHCPDISCOVER of a PXE or HTTP boot client registers the machine as a
 * host (approved unless host approval is on), so machines that PXE boot
 * appear in the host list before anything was configured for them; its
 * architecture and UUID (option 97) are kept when it sent them. */
static int
host_seen(struct store *st, const struct queued_event *e)
{
	sqlite3_stmt *s = st->stmt[STMT_HOST_SEEN];
	char mac[3 * 16], arch[8];
	size_t o = 0;

	if (strcmp(e->kind, "dhcp-discover") != 0 || e->mac_len != 6 ||
	    (strncmp(e->detail, "PXEClient", 9) != 0 && strncmp(e->detail, "HTTPClient", 10) != 0))
		return 0;
	for (size_t i = 0; i < e->mac_len; i++)
		o += (size_t)snprintf(mac + o, sizeof mac - o, i ? ":%02x" : "%02x", e->mac[i]);
	vendor_arch(e->detail, arch, sizeof arch);
	sqlite3_bind_text(s, 1, mac, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, arch, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, e->when_ms / 1000);
	sqlite3_bind_int(s, 4, !st->host_approval);
	sqlite3_bind_text(s, 5, e->uuid, -1, SQLITE_TRANSIENT);
	return batch_write(st, STMT_HOST_SEEN, "host seen");
}

void
store_set_host_approval(struct store *st, bool required)
{
	st->host_approval = required;
}

int
store_events_flush(struct store *st)
{
	int rc = 0;

	for (size_t i = 0; i < st->queued && rc == 0; i++) {
		const struct queued_event *e = &st->queue[i];
		rc = event_insert(st, e->mac, e->mac_len, e->kind, e->detail, e->when_ms);
		if (rc == 0)
			rc = host_seen(st, e);
	}
	st->queued = 0;
	if (rc == 0)
		rc = store_commit(st);
	return rc;
}

size_t
store_events_queued(const struct store *st)
{
	return st->queued;
}

static void
column_str(sqlite3_stmt *s, int col, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	str_copy(out, t != NULL ? (const char *)t : "", size);
}

int
store_event_list(struct store *st, const uint8_t *mac, size_t mac_len,
    struct store_event *out, size_t max)
{
	sqlite3_stmt *s = st->stmt[STMT_EVENT_LIST];
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (mac == NULL || mac_len > 16)
		return -EINVAL;
	max = MIN(max, (size_t)STORE_EVENTS_PER_MAC);   /* a few more may wait to be trimmed */
	if (st->queued > 0 && store_events_flush(st) < 0)
		return -EIO;
	sqlite3_bind_blob(s, 1, mac, (int)mac_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		out[n].when_ms = sqlite3_column_int64(s, 0);
		column_str(s, 1, out[n].kind, sizeof out[n].kind);
		column_str(s, 2, out[n].detail, sizeof out[n].detail);
		n++;
	}
	if (n < max && rc != SQLITE_DONE)
		rc = db_fail(st, "event list");
	else
		rc = (int)n;
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc;
}

int
store_client_list(struct store *st, struct store_client *out, size_t max)
{
	sqlite3_stmt *s = st->stmt[STMT_CLIENT_LIST];
	size_t n = 0;
	int rc = SQLITE_DONE;

	max = MIN(max, (size_t)INT_MAX);
	if (st->queued > 0 && store_events_flush(st) < 0)
		return -EIO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_client *c = &out[n];
		if (column_blob(s, 0, c->mac, sizeof c->mac, &c->mac_len) < 0)
			continue;
		c->last_ms = sqlite3_column_int64(s, 1);
		column_str(s, 2, c->last_kind, sizeof c->last_kind);
		column_str(s, 3, c->last_detail, sizeof c->last_detail);
		n++;
	}
	if (n < max && rc != SQLITE_DONE)
		rc = db_fail(st, "client list");
	else
		rc = (int)n;
	sqlite3_reset(s);
	return rc;
}
