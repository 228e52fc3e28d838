/* The state store: one connection (SQLite or PostgreSQL, store/db.h),
 * statements kept prepared.
 *
 * Writes are grouped: the first write after a commit begins a transaction
 * and store_commit() commits it.  If the engine ends the open transaction
 * by itself (an I/O error, a full disk, a lost connection), the batch is
 * marked lost: later writes fail and store_commit() returns -EIO, so the
 * caller never acknowledges what was not kept. */
#include "store/store.h"
#include "store/internal.h"

#include "core/bus.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_SIZE(type, field) sizeof(((type *)NULL)->field)

enum stmt_id {
	STMT_LEASE_PUT,
	STMT_LEASE_TAKE,
	STMT_LEASE_DELETE,
	STMT_LEASE_FREE,
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
	[STMT_LEASE_PUT] =
		"INSERT INTO leases"
		" (address, mac, client_id, state, starts, expires, hostname)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (address) DO UPDATE"
		" SET mac = excluded.mac, client_id = excluded.client_id,"
		" state = excluded.state, starts = excluded.starts,"
		" expires = excluded.expires, hostname = excluded.hostname",
	/* Servers sharing one database (store_set_server): the row is taken
	 * only when it is free (no row, released), expired, or already this
	 * client's; no row changed = another client holds it (-EBUSY).  A
	 * concurrent writer of the same row waits for the first one's commit
	 * and then sees its row (PostgreSQL's ON CONFLICT under READ
	 * COMMITTED), so two servers never both win one address. */
	[STMT_LEASE_TAKE] =
		"INSERT INTO leases"
		" (address, mac, client_id, state, starts, expires, hostname, updated, server)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, {now_ms}, ?8) ON CONFLICT (address) DO UPDATE"
		" SET mac = excluded.mac, client_id = excluded.client_id,"
		" state = excluded.state, starts = excluded.starts,"
		" expires = excluded.expires, hostname = excluded.hostname,"
		" updated = excluded.updated, server = excluded.server"
		" WHERE leases.expires <= excluded.starts OR leases.state = 3"
		" OR (leases.client_id IS NULL AND excluded.client_id IS NULL"
		" AND leases.mac = excluded.mac) OR leases.client_id = excluded.client_id",
	[STMT_LEASE_DELETE] = "DELETE FROM leases WHERE address = ?1",
	/* Servers sharing one database: a RELEASE leaves the row, released
	 * and stamped, so that the others read it (store_lease_changes) and
	 * free the address in their pools; only that client's binding. */
	[STMT_LEASE_FREE] =
		"UPDATE leases SET state = 3, updated = {now_ms}, server = ?4"
		" WHERE address = ?1 AND state = 2 AND (client_id = ?3"
		" OR (client_id IS NULL AND CAST(?3 AS {blob}) IS NULL AND mac = ?2))",
	[STMT_ADDR_PUT] =
		"INSERT INTO client_addrs (address, mac, seen) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (address) DO UPDATE SET mac = excluded.mac, seen = excluded.seen",
	[STMT_ADDR_PRUNE] = "DELETE FROM client_addrs WHERE {trim_turn} AND seen < ?1",
	[STMT_ADDR_GET] = "SELECT mac FROM client_addrs WHERE address = ?1",
	[STMT_LEASE_ALL] =
		"SELECT address, mac, client_id, state, starts, expires, hostname"
		" FROM leases ORDER BY address",
	[STMT_LEASE_GET] =
		"SELECT address, mac, client_id, state, starts, expires, hostname"
		" FROM leases WHERE address = ?1",
	[STMT_EVENT_ADD] =
		"INSERT INTO events (mac, when_ms, kind, detail)"
		" VALUES (?1, ?2, ?3, ?4){returning_id}",
	/* Everything of this MAC at or below its (N+1)-th newest id: walks
	 * N entries of the (mac, id) index, then deletes a range of it. */
	[STMT_EVENT_PRUNE] =
		"DELETE FROM events WHERE {trim_turn} AND mac = ?1 AND id <= ("
		"SELECT id FROM events WHERE mac = ?1"
		" ORDER BY id DESC LIMIT 1 OFFSET ?2)",
	/* The whole table bounded: a flood of new MACs cannot grow it. */
	[STMT_EVENT_CAP] =
		"DELETE FROM events WHERE {trim_turn} AND id <= (SELECT max(id) FROM events) - ?1",
	[STMT_EVENT_LIST] =
		"SELECT when_ms, kind, detail FROM ("
		"SELECT id, when_ms, kind, detail FROM events WHERE mac = ?1"
		" ORDER BY id DESC LIMIT ?2) AS newest ORDER BY when_ms, id",   /* batches: by time */
	[STMT_CLIENT_LIST] =
		"SELECT mac, when_ms, kind, detail FROM events"
		" WHERE id IN (SELECT max(id) FROM events GROUP BY mac)"
		" ORDER BY id DESC LIMIT ?1",
	/* a PXE or HTTP boot client seen by DHCP: registered (store/mgmt.c) */
	[STMT_HOST_SEEN] =
		"INSERT INTO hosts (mac, arch, uuid, first_seen, last_seen, approved)"
		" VALUES (?1, ?2, ?5, ?3, ?3, ?4) ON CONFLICT (mac) DO UPDATE"
		" SET last_seen = {greatest}(hosts.last_seen, ?3),"
		" arch = CASE WHEN ?2 = '' THEN hosts.arch ELSE ?2 END,"
		" uuid = CASE WHEN ?5 = '' THEN hosts.uuid ELSE ?5 END",
};

/* Migration i brings the schema to version i + 1.  Append only.  One text
 * for both engines (the words in braces: store/db.h); a migration whose
 * dialects cannot agree would be a pair of texts chosen by db_kind(). */
static const char *const migrations[] = {
	"CREATE TABLE leases ("
	" address {int} PRIMARY KEY,"         /* IPv4, host order */
	" mac {blob} NOT NULL,"
	" client_id {blob},"                      /* NULL: none */
	" state {int} NOT NULL,"
	" starts {int} NOT NULL,"
	" expires {int} NOT NULL,"
	" hostname TEXT NOT NULL);"
	"CREATE TABLE events ("
	" id {id},"
	" mac {blob} NOT NULL,"
	" when_ms {int} NOT NULL,"
	" kind TEXT NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE INDEX events_mac_id ON events (mac, id);",
	/* 2: imaging -- hosts and their tasks (store/mgmt.c) */
	"CREATE TABLE hosts ("
	" mac {key} PRIMARY KEY,"                /* aa:bb:cc:dd:ee:ff */
	" name TEXT NOT NULL DEFAULT '',"
	" arch TEXT NOT NULL DEFAULT '',"
	" uuid TEXT NOT NULL DEFAULT '',"
	" first_seen {int} NOT NULL,"
	" last_seen {int} NOT NULL,"
	" approved {int} NOT NULL DEFAULT 0,"
	" inventory TEXT);"
	"CREATE TABLE tasks ("
	" id {id},"
	" mac {key} NOT NULL REFERENCES hosts (mac) ON DELETE CASCADE,"
	" type TEXT NOT NULL,"
	" image TEXT NOT NULL DEFAULT '',"
	" state TEXT NOT NULL,"
	" verify {int} NOT NULL DEFAULT 1,"
	" token_hash {blob},"
	" created {int} NOT NULL,"
	" started {int} NOT NULL DEFAULT 0,"
	" finished {int} NOT NULL DEFAULT 0,"
	" phase TEXT NOT NULL DEFAULT '',"
	" bytes {int} NOT NULL DEFAULT 0,"
	" total {int} NOT NULL DEFAULT 0,"
	" rate {int} NOT NULL DEFAULT 0,"
	" resume_offset {int} NOT NULL DEFAULT 0,"
	" message TEXT NOT NULL DEFAULT '',"
	" log_tail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX tasks_mac ON tasks (mac, id);"
	"CREATE UNIQUE INDEX tasks_token ON tasks (token_hash);",
	/* 3: a deploy task may belong to a multicast session */
	"ALTER TABLE tasks ADD COLUMN mcast TEXT NOT NULL DEFAULT '';",
	/* 4: a task's token is derived from a salt (stable for the task's
	 * life); a capture may replace an existing image only when asked */
	"ALTER TABLE tasks ADD COLUMN token_salt {blob};"
	"ALTER TABLE tasks ADD COLUMN replace_image {int} NOT NULL DEFAULT 0;",
	/* 5: host groups (a group exists while it has members) */
	"CREATE TABLE host_groups ("
	" name {key} NOT NULL,"
	" mac {key} NOT NULL REFERENCES hosts (mac) ON DELETE CASCADE,"
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
	" name {key} PRIMARY KEY,"
	" created {int} NOT NULL,"
	" disk_size {int} NOT NULL,"
	" used {int} NOT NULL,"               /* uncompressed bytes of its chunks */
	" stored {int} NOT NULL,"             /* compressed bytes */
	" chunks {int} NOT NULL,"
	" partitions {int} NOT NULL,"
	" table_kind TEXT NOT NULL DEFAULT '',"
	" partition_list TEXT NOT NULL DEFAULT '[]',"  /* JSON, as the API shows it */
	" task {int} NOT NULL DEFAULT 0,"     /* the capture task; 0: unknown */
	" manifest_mtime_ns {int} NOT NULL DEFAULT 0,"
	" manifest_size {int} NOT NULL DEFAULT 0);",
	/* 8: subnets enabled or disabled while running (pxectl subnet,
	 * store/subnets.c); the config file stays the baseline they change */
	"CREATE TABLE subnets ("
	" cidr {key} PRIMARY KEY,"               /* "198.51.100.0/24" */
	" mode TEXT NOT NULL,"                  /* full, proxy or off */
	" changed {int} NOT NULL);"           /* unix ms */
	/* and the addresses clients said they have (a 4011 or iPXE request's
	 * ciaddr, option 50 of a REQUEST to another server): in proxy mode
	 * pxed holds no lease, yet TFTP and HTTP events find the MAC here */
	"CREATE TABLE client_addrs ("
	" address {int} PRIMARY KEY,"         /* host order, as leases */
	" mac {blob} NOT NULL,"
	" seen {int} NOT NULL);",             /* unix ms */
	/* 9, 10: reserved for branches in flight when 11 came (filesystem
	 * tasks, diagnostics); a database already at 11 never runs them
	 * (db_migrate starts after the highest version), so those branches
	 * appended instead: the filesystem tasks as 12, diagnostics as 13.
	 * Every text serves both engines, written with the words of
	 * store/db.h: {int} for INTEGER (PostgreSQL's INTEGER is 32 bits:
	 * unix ms and IPv4 addresses overflow it), {blob} for BLOB, {id} for
	 * an INTEGER PRIMARY KEY that numbers rows, {key} for a text key that
	 * is ordered or paged. */
	"",
	"",
	/* 11: API tokens with scopes (store/tokens.c), kept as hashes */
	"CREATE TABLE tokens ("
	" id {id},"
	" name {key} NOT NULL UNIQUE,"
	" scope TEXT NOT NULL,"                 /* read | admin */
	" hash {blob} NOT NULL UNIQUE,"           /* SHA-256 of the token */
	" created {int} NOT NULL,"
	" last_used {int} NOT NULL DEFAULT 0);",
	/* 12: work inside a machine's filesystems: a task's own options (a
	 * JSON object: no_grow, outside_partitions, quarantine, user...), the
	 * report its agent sent (findings, accounts), the files a scan has
	 * done so far, the name a host is given by a deploy */
	"ALTER TABLE tasks ADD COLUMN options TEXT NOT NULL DEFAULT '{}';"
	"ALTER TABLE tasks ADD COLUMN report TEXT;"
	"ALTER TABLE tasks ADD COLUMN files {int} NOT NULL DEFAULT 0;"
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
	" id {id},"
	" task {int} NOT NULL,"
	" mac {key} NOT NULL REFERENCES hosts (mac) ON DELETE CASCADE,"
	" name {key} NOT NULL,"
	" status TEXT NOT NULL,"                /* pass, fail, skipped, error */
	" started {int} NOT NULL,"            /* Unix seconds */
	" duration_ms {int} NOT NULL,"
	" summary TEXT NOT NULL,"
	" details TEXT NOT NULL DEFAULT '{}',"  /* JSON */
	" UNIQUE (task, name));"
	"CREATE INDEX diag_results_mac ON diag_results (mac, name, id);"
	"CREATE TABLE wipe_certificates ("
	" id {id},"
	" task {int} NOT NULL,"
	" mac {key} NOT NULL,"
	" disk TEXT NOT NULL, model TEXT NOT NULL, serial TEXT NOT NULL,"
	" size {int} NOT NULL,"
	" method TEXT NOT NULL,"
	" started {int} NOT NULL, finished {int} NOT NULL,"
	" bytes_written {int} NOT NULL,"
	" verify TEXT NOT NULL,"                /* pass, fail, none */
	" bytes_verified {int} NOT NULL,"
	" write_ms {int} NOT NULL DEFAULT 0,"        /* the write pass, sync included */
	" ok {int} NOT NULL,"
	" message TEXT NOT NULL,"
	" UNIQUE (task, disk));"
	"CREATE INDEX wipe_certificates_mac ON wipe_certificates (mac, id);"
	"CREATE TABLE environments ("
	" name {key} PRIMARY KEY,"
	" definition TEXT NOT NULL,"            /* JSON, as the API takes it */
	" created {int} NOT NULL);",
	/* 14: the address a task's token is bound to: the first that
	 * fetched the task's boot script or used the token ('': none yet) */
	"ALTER TABLE tasks ADD COLUMN token_addr TEXT NOT NULL DEFAULT '';",
	/* 15: several servers on one database (dhcp/share.c, store/servers.c):
	 * who wrote a lease and when (by the database's clock: the others
	 * read what changed), and each server's heartbeat */
	"ALTER TABLE leases ADD COLUMN updated {int} NOT NULL DEFAULT 0;"
	"ALTER TABLE leases ADD COLUMN server TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX leases_updated ON leases (updated);"
	"CREATE TABLE servers ("
	" name {key} PRIMARY KEY,"
	" heartbeat {int} NOT NULL,"          /* unix ms, the database's clock */
	" started {int} NOT NULL);",
	/* 16: what each server runs (its TFTP/HTTP transfers in flight and
	 * multicast sessions, JSON: api/running.c), written with its
	 * heartbeat, read by the others' API */
	"ALTER TABLE servers ADD COLUMN running TEXT NOT NULL DEFAULT '';",
	/* 17: the subnets each server gives addresses on ("network/prefix"
	 * separated by spaces, '': none), written with its heartbeat: the
	 * split of clients is between the servers of a subnet (dhcp/share.c) */
	"ALTER TABLE servers ADD COLUMN subnets TEXT NOT NULL DEFAULT '';",
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
	struct db *db;
	struct db_stmt *stmt[STMT_COUNT];
	bool in_tx;             /* BEGIN ran, COMMIT not yet */
	bool tx_lost;           /* the engine ended the batch on its own */
	struct log_limit rolled_back;   /* its line: at most once a minute */
	struct queued_event *queue;     /* events not yet written */
	size_t queued;
	bool host_approval;             /* hosts registered from DHCP wait for approval */
	char server[STORE_SERVER_NAME_MAX];     /* shared database: this server's name */
	int64_t changes;                /* rows the last kept statement changed */
	unsigned addr_puts;             /* client addresses written (pruning) */
};

struct db *
store_db(struct store *st)
{
	return st->db;
}

struct db_stmt *
store_prep(struct store *st, const char *sql)
{
	return db_prepare(st->db, sql, false);
}

/* Run a kept statement that returns no rows (or the row of
 * {returning_id}), then reset it; the id of the row it inserted in
 * *new_id (db_last_id). */
static int
step_done(struct store *st, enum stmt_id id, int64_t *new_id)
{
	struct db_stmt *s = st->stmt[id];
	int rc = db_step(s);

	if (rc >= 0 && new_id != NULL)
		*new_id = db_last_id(s);
	st->changes = rc == 0 ? db_changes(s) : 0;
	db_reset(s);
	return rc > 0 ? 0 : rc;
}

/* Run a write of the batch: a transaction begins first if none is open. */
static int
batch_write_id(struct store *st, enum stmt_id id, int64_t *new_id)
{
	int rc;

	if (st->tx_lost)
		goto out_clear;
	if (!st->in_tx) {
		if (db_begin(st->db) < 0)
			goto out_clear;
		st->in_tx = true;
	}
	rc = step_done(st, id, new_id);
	if (rc < 0 && !db_tx_usable(st->db)) {
		unsigned long held;
		if (log_limit_take(&st->rolled_back, (int64_t)(clock_now_us() / 1000000u),
		    LOG_LIMIT_INTERVAL_S, &held))
			log_error("store: the batch was rolled back (%lu more since the last line)",
			    held);
		st->tx_lost = true;
	}
	return rc == -EEXIST ? -EIO : rc;
out_clear:
	db_reset(st->stmt[id]);
	return -EIO;
}

static int
batch_write(struct store *st, enum stmt_id id)
{
	return batch_write_id(st, id, NULL);
}

/* ---- open, migrate ---- */

int
store_schema_latest(void)
{
	return (int)ARRAY_SIZE(migrations);
}

/* The current schema version, 0 for a new database. */
static int
schema_version(struct store *st, int *version)
{
	int64_t v;

	if (db_exec(st->db, "CREATE TABLE IF NOT EXISTS schema_version"
	    " (version {int} PRIMARY KEY)") < 0)
		return -EIO;
	v = db_one_int64(db_prepare(st->db, "SELECT coalesce(max(version), 0)"
	    " FROM schema_version", false));
	if (v < 0)
		return -EIO;
	*version = (int)v;
	return 0;
}

static int
migrate_one(struct store *st, int to)
{
	struct db_stmt *s;

	if (migrations[to - 1][0] != '\0' && db_exec(st->db, migrations[to - 1]) < 0)
		return -EIO;
	s = db_prepare(st->db, "INSERT INTO schema_version (version) VALUES (?1)", false);
	if (s != NULL)
		db_bind_int64(s, 1, to);
	if (db_run(s) < 0)
		return -EIO;
	log_info("store: schema migrated to version %d", to);
	return 0;
}

/* Bring the schema up to date in one transaction; on PostgreSQL, servers
 * starting at once wait for each other's migration (db_lock_schema). */
static int
db_migrate(struct store *st)
{
	const int latest = (int)ARRAY_SIZE(migrations);
	int version = 0, rc;

	if (db_begin(st->db) < 0)
		return -EIO;
	rc = db_lock_schema(st->db);
	if (rc == 0)
		rc = schema_version(st, &version);
	if (rc == 0 && version > latest) {
		log_error("store: schema version %d is newer than this pxed's"
		    " (%d)", version, latest);
		rc = -EPROTO;
	}
	for (int v = version + 1; rc == 0 && v <= latest; v++)
		rc = migrate_one(st, v);
	if (rc == 0)
		rc = db_commit(st->db);
	if (rc < 0 && db_tx_open(st->db))
		db_exec(st->db, "ROLLBACK");
	return rc;
}

static int
prepare_all(struct store *st)
{
	for (size_t i = 0; i < STMT_COUNT; i++) {
		st->stmt[i] = db_prepare(st->db, stmt_sql[i], true);
		if (st->stmt[i] == NULL)
			return -EIO;
	}
	return 0;
}

static void
store_free(struct store *st)
{
	for (size_t i = 0; i < STMT_COUNT; i++)
		db_finalize(st->stmt[i]);
	db_close(st->db);
	free(st->queue);
	free(st);
}

int
store_open(struct store **out, const char *where)
{
	struct store *st;
	int rc;

	*out = NULL;
	if (where == NULL || where[0] == '\0')
		return -EINVAL;
	st = calloc(1, sizeof *st);
	if (st == NULL)
		return -ENOMEM;
	rc = db_open(&st->db, where);
	if (rc == 0)
		rc = db_migrate(st);
	if (rc == 0)
		rc = prepare_all(st);
	if (rc < 0) {
		store_free(st);
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
	store_free(st);
}

int
store_url_check(const char *value, char *err, size_t err_size)
{
	if (value[0] == '\0' || db_is_url(value))
		return 0;
	snprintf(err, err_size, "'%.32s' is not a postgresql:// URL", value);
	return -EINVAL;
}

int
store_ping(struct store *st)
{
	return db_one_int64(db_prepare(st->db, "SELECT 1", false)) == 1 ? 0 : -EIO;
}

const char *
store_engine(const struct store *st)
{
	return db_kind(st->db) == DB_POSTGRESQL ? "postgresql" : "sqlite";
}

const char *
store_engine_of(const char *where)
{
	return db_is_url(where) ? "postgresql" : "sqlite";
}

bool
store_connected(struct store *st)
{
	return db_connected(st->db);
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
		if (db_tx_open(st->db))
			db_exec(st->db, "ROLLBACK");
		return -EIO;
	}
	rc = db_commit(st->db);
	if (rc < 0 && db_tx_open(st->db))
		db_exec(st->db, "ROLLBACK");
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
	/* Servers sharing the database write conditionally (STMT_LEASE_TAKE;
	 * no row changed: -EBUSY, another client holds the address). */
	enum stmt_id id = st->server[0] != '\0' ? STMT_LEASE_TAKE : STMT_LEASE_PUT;
	struct db_stmt *s = st->stmt[id];
	char host[sizeof lease->hostname];

	if (lease->mac_len > sizeof lease->mac ||
	    lease->client_id_len > sizeof lease->client_id)
		return -EINVAL;
	str_copy(host, lease->hostname, sizeof host);
	db_bind_int64(s, 1, ntohl(lease->address.s_addr));
	db_bind_blob(s, 2, lease->mac, lease->mac_len);
	if (lease->client_id_len > 0)
		db_bind_blob(s, 3, lease->client_id, lease->client_id_len);
	db_bind_int64(s, 4, (int)lease->state);
	db_bind_int64(s, 5, lease->starts);
	db_bind_int64(s, 6, lease->expires);
	db_bind_text(s, 7, host);
	if (id == STMT_LEASE_PUT)
		return batch_write(st, id);
	db_bind_text(s, 8, st->server);
	int rc = batch_write(st, id);
	return rc == 0 && st->changes == 0 ? -EBUSY : rc;
}

void
store_set_server(struct store *st, const char *name)
{
	str_copy(st->server, name, sizeof st->server);
}

const char *
store_server(const struct store *st)
{
	return st->server;
}

int
store_client_addr_put(struct store *st, struct in_addr address, const uint8_t *mac,
    size_t mac_len, int64_t when_ms)
{
	struct db_stmt *s = st->stmt[STMT_ADDR_PUT];

	if (mac_len == 0 || mac_len > 16)
		return -EINVAL;
	/* bounded: every 1024 writes, what was not seen for a day goes */
	if (++st->addr_puts % 1024 == 0) {
		db_bind_int64(st->stmt[STMT_ADDR_PRUNE], 1, when_ms - 86400000);
		(void)batch_write(st, STMT_ADDR_PRUNE);
	}
	db_bind_int64(s, 1, ntohl(address.s_addr));
	db_bind_blob(s, 2, mac, mac_len);
	db_bind_int64(s, 3, when_ms);
	return batch_write(st, STMT_ADDR_PUT);
}

size_t
store_mac_of(struct store *st, struct in_addr address, uint8_t mac[16])
{
	struct store_lease lease;
	struct db_stmt *s = st->stmt[STMT_ADDR_GET];
	int n = 0;

	if (store_lease_get(st, address, &lease) == 0 && lease.mac_len > 0) {
		memcpy(mac, lease.mac, lease.mac_len);
		return lease.mac_len;
	}
	db_bind_int64(s, 1, ntohl(address.s_addr));
	if (db_step(s) == 1)
		n = db_col_blob(s, 0, mac, 16);
	db_reset(s);
	return n > 0 ? (size_t)n : 0;
}

int
store_lease_delete(struct store *st, struct in_addr address)
{
	db_bind_int64(st->stmt[STMT_LEASE_DELETE], 1, ntohl(address.s_addr));
	return batch_write(st, STMT_LEASE_DELETE);
}

int
store_lease_release(struct store *st, const struct store_lease *lease)
{
	struct db_stmt *s = st->stmt[STMT_LEASE_FREE];

	if (st->server[0] == '\0')
		return store_lease_delete(st, lease->address);
	if (lease->mac_len > sizeof lease->mac ||
	    lease->client_id_len > sizeof lease->client_id)
		return -EINVAL;
	db_bind_int64(s, 1, ntohl(lease->address.s_addr));
	db_bind_blob(s, 2, lease->mac, lease->mac_len);
	if (lease->client_id_len > 0)
		db_bind_blob(s, 3, lease->client_id, lease->client_id_len);
	db_bind_text(s, 4, st->server);
	return batch_write(st, STMT_LEASE_FREE);
}

/* Copy column col (a blob of at most max bytes) into out. */
static int
column_blob(struct db_stmt *s, int col, uint8_t *out, size_t max, uint8_t *out_len)
{
	int n = db_col_blob(s, col, out, max);

	if (n < 0)
		return n;
	*out_len = (uint8_t)n;
	return 0;
}

int
store_row_lease(struct db_stmt *s, struct store_lease *l)
{
	int64_t addr = db_col_int64(s, 0);

	memset(l, 0, sizeof *l);
	if (addr < 0 || addr > UINT32_MAX)
		return -EINVAL;
	l->address.s_addr = htonl((uint32_t)addr);
	if (column_blob(s, 1, l->mac, sizeof l->mac, &l->mac_len) < 0 ||
	    column_blob(s, 2, l->client_id, sizeof l->client_id,
	    &l->client_id_len) < 0)
		return -EINVAL;
	l->state = (enum lease_state)db_col_int64(s, 3);
	l->starts = db_col_int64(s, 4);
	l->expires = db_col_int64(s, 5);
	db_col_str(s, 6, l->hostname, sizeof l->hostname);
	return 0;
}

int
store_lease_get(struct store *st, struct in_addr address, struct store_lease *out)
{
	struct db_stmt *s = st->stmt[STMT_LEASE_GET];
	int rc;

	db_bind_int64(s, 1, ntohl(address.s_addr));
	rc = db_step(s);
	if (rc == 1)
		rc = store_row_lease(s, out) < 0 ? -EINVAL : 0;
	else
		rc = rc == 0 ? -ENOENT : -EIO;
	db_reset(s);
	return rc;
}

/* fn must not call store_lease_foreach (the statement is shared); it may
 * put or delete leases. */
int
store_lease_foreach(struct store *st,
    void (*fn)(const struct store_lease *lease, void *arg), void *arg)
{
	struct db_stmt *s = st->stmt[STMT_LEASE_ALL];
	struct store_lease lease;
	int rc;

	while ((rc = db_step(s)) == 1) {
		if (store_row_lease(s, &lease) < 0) {
			log_warn("store: skipping a malformed lease (address"
			    " %lld)", (long long)db_col_int64(s, 0));
			continue;
		}
		fn(&lease, arg);
	}
	db_reset(s);
	return rc == 0 ? 0 : -EIO;
}

int
store_lease_page(struct store *st, uint32_t after, struct store_lease *out, size_t max)
{
	struct db_stmt *s = db_prepare(st->db, "SELECT address, mac, client_id, state, starts,"
	    " expires, hostname FROM leases WHERE address > ?1 ORDER BY address LIMIT ?2",
	    false);
	size_t n = 0;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, after);
	db_bind_int64(s, 2, (int64_t)max);
	while (n < max && db_step(s) == 1)
		if (store_row_lease(s, &out[n]) == 0)
			n++;
	db_finalize(s);
	return (int)n;
}

int64_t
store_lease_count(struct store *st)
{
	return db_one_int64(db_prepare(st->db, "SELECT count(*) FROM leases", false));
}

/* ---- events ---- */

static int
event_insert(struct store *st, const uint8_t *mac, size_t mac_len,
    const char *kind, const char *detail, int64_t when_ms)
{
	struct db_stmt *s = st->stmt[STMT_EVENT_ADD];
	char kind_text[FIELD_SIZE(struct store_event, kind)];
	char detail_text[FIELD_SIZE(struct store_event, detail)];
	int64_t id = 0;
	int rc;

	if (mac == NULL || mac_len > 16 || kind == NULL)
		return -EINVAL;
	str_copy(kind_text, kind, sizeof kind_text);
	str_copy(detail_text, detail != NULL ? detail : "", sizeof detail_text);
	db_bind_blob(s, 1, mac, mac_len);
	db_bind_int64(s, 2, when_ms);
	db_bind_text(s, 3, kind_text);
	db_bind_text(s, 4, detail_text);
	rc = batch_write_id(st, STMT_EVENT_ADD, &id);
	if (rc < 0)
		return rc;
	/* Trimming costs a DELETE: do it on every 16th event only (lists
	 * return at most STORE_EVENTS_PER_MAC anyway), and bound the table as
	 * a whole every 1024th. */
	if (id % 1024 == 0) {
		db_bind_int64(st->stmt[STMT_EVENT_CAP], 1, STORE_EVENTS_MAX);
		rc = batch_write(st, STMT_EVENT_CAP);
		if (rc < 0)
			return rc;
	}
	if (id % 16 != 0)
		return 0;
	s = st->stmt[STMT_EVENT_PRUNE];
	db_bind_blob(s, 1, mac, mac_len);
	db_bind_int64(s, 2, STORE_EVENTS_PER_MAC);
	return batch_write(st, STMT_EVENT_PRUNE);
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
	if (mac == NULL || mac_len > 16 || kind == NULL)
		return -EINVAL;
	bus_publish_boot(mac, mac_len, kind, detail, when_ms);
	return store_event_queue(st, mac, mac_len, kind, detail, uuid, when_ms);
}

int
store_event_queue(struct store *st, const uint8_t *mac, size_t mac_len,
    const char *kind, const char *detail, const char *uuid, int64_t when_ms)
{
	struct queued_event *e;

	if (mac == NULL || mac_len > 16 || kind == NULL)
		return -EINVAL;
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
	struct db_stmt *s = st->stmt[STMT_HOST_SEEN];
	char mac[3 * 16], arch[8];
	size_t o = 0;

	if (strcmp(e->kind, "dhcp-discover") != 0 || e->mac_len != 6 ||
	    (strncmp(e->detail, "PXEClient", 9) != 0 && strncmp(e->detail, "HTTPClient", 10) != 0))
		return 0;
	for (size_t i = 0; i < e->mac_len; i++)
		o += (size_t)snprintf(mac + o, sizeof mac - o, i ? ":%02x" : "%02x", e->mac[i]);
	vendor_arch(e->detail, arch, sizeof arch);
	db_bind_text(s, 1, mac);
	db_bind_text(s, 2, arch);
	db_bind_int64(s, 3, e->when_ms / 1000);
	db_bind_int64(s, 4, !st->host_approval);
	db_bind_text(s, 5, e->uuid);
	return batch_write(st, STMT_HOST_SEEN);
}

void
store_set_host_approval(struct store *st, bool required)
{
	st->host_approval = required;
}

/* The queued events in one batch, which ends here whatever happened: a
 * failed write must not leave the transaction, and with it the database's
 * write lock, open on this connection. */
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
	int committed = store_commit(st);   /* or the batch rolled back */
	if (rc == 0)
		rc = committed;
	/* a lost connection keeps them for the next flush (the queue's size
	 * bounds them); any other failure loses them, logged by the caller */
	if (rc == 0 || db_connected(st->db) || st->queued == STORE_EVENT_QUEUE)
		st->queued = 0;
	return rc;
}

size_t
store_events_queued(const struct store *st)
{
	return st->queued;
}

int
store_event_list(struct store *st, const uint8_t *mac, size_t mac_len,
    struct store_event *out, size_t max)
{
	struct db_stmt *s = st->stmt[STMT_EVENT_LIST];
	size_t n = 0;
	int rc = 0;

	if (mac == NULL || mac_len > 16)
		return -EINVAL;
	max = MIN(max, (size_t)STORE_EVENTS_PER_MAC);   /* a few more may wait to be trimmed */
	if (st->queued > 0 && store_events_flush(st) < 0)
		return -EIO;
	db_bind_blob(s, 1, mac, mac_len);
	db_bind_int64(s, 2, (int64_t)max);
	while (n < max && (rc = db_step(s)) == 1) {
		out[n].when_ms = db_col_int64(s, 0);
		db_col_str(s, 1, out[n].kind, sizeof out[n].kind);
		db_col_str(s, 2, out[n].detail, sizeof out[n].detail);
		n++;
	}
	db_reset(s);
	return rc < 0 ? -EIO : (int)n;
}

int
store_client_list(struct store *st, struct store_client *out, size_t max)
{
	struct db_stmt *s = st->stmt[STMT_CLIENT_LIST];
	size_t n = 0;
	int rc = 0;

	max = MIN(max, (size_t)INT_MAX);
	if (st->queued > 0 && store_events_flush(st) < 0)
		return -EIO;
	db_bind_int64(s, 1, (int64_t)max);
	while (n < max && (rc = db_step(s)) == 1) {
		struct store_client *c = &out[n];
		if (column_blob(s, 0, c->mac, sizeof c->mac, &c->mac_len) < 0)
			continue;
		c->last_ms = db_col_int64(s, 1);
		db_col_str(s, 2, c->last_kind, sizeof c->last_kind);
		db_col_str(s, 3, c->last_detail, sizeof c->last_detail);
		n++;
	}
	db_reset(s);
	return rc < 0 ? -EIO : (int)n;
}
