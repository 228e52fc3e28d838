/* The SQL layer on SQLite: state-dir/pxed.db in WAL mode, synchronous=NORMAL
 * (a commit has reached the kernel), foreign keys on.  The only file that
 * includes sqlite3.h.  See db.h. */
#include "store/db.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/util.h"

#define STORE_DB_NAME "pxed.db"
#define BUSY_TIMEOUT_MS 2000

struct lite {
	struct db head;
	sqlite3 *db;
	sqlite3_stmt *begin, *commit;   /* kept: a batch's BEGIN and COMMIT are
	                                 * not compiled again each time */
	struct log_limit errors;        /* a full disk fails every write */
};

struct lite_stmt {
	struct db_stmt head;
	struct lite *lite;
	sqlite3_stmt *s;
};

static struct lite *
lite_of(struct db *db)
{
	return (struct lite *)db;
}

static struct lite_stmt *
stmt_of(struct db_stmt *s)
{
	return (struct lite_stmt *)s;
}

/* Log an error of the connection (at most one line a minute: a full
 * disk fails every write) and say what it was: -ENOSPC when the disk or
 * the database is full, else -EIO. */
static int
lite_fail(struct lite *l, const char *what)
{
	int code = sqlite3_extended_errcode(l->db);
	unsigned long held;

	if (!log_limit_take(&l->errors, (int64_t)(clock_now_us() / 1000000u),
	    LOG_LIMIT_INTERVAL_S, &held))
		return (code & 0xff) == SQLITE_FULL ? -ENOSPC : -EIO;
	if (held > 0)
		log_error("store: %s: %s (%d), and %lu more error(s) held back since the last line",
		    what, sqlite3_errmsg(l->db), code, held);
	else
		log_error("store: %s: %s (%d)", what, sqlite3_errmsg(l->db), code);
	return (code & 0xff) == SQLITE_FULL ? -ENOSPC : -EIO;
}

static int
lite_connect(struct lite *l, const char *state_dir)
{
	char path[PATH_MAX];
	int n, rc, err;

	n = snprintf(path, sizeof path, "%s/%s", state_dir, STORE_DB_NAME);
	if (n < 0 || (size_t)n >= sizeof path)
		return -ENAMETOOLONG;
	rc = sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		err = sqlite3_system_errno(l->db);
		log_error("store: open %s: %s (%s)", path,
		    sqlite3_errmsg(l->db), err > 0 ? strerror(err) : "?");
		return err > 0 ? -err : -EIO;
	}
	if (sqlite3_db_readonly(l->db, "main") != 0) {
		log_error("store: %s is read-only", path);
		return -EACCES;
	}
	return 0;
}

/* Switching a new database to WAL takes an exclusive lock, and SQLite
 * answers SQLITE_BUSY without calling the busy handler when another
 * connection opening it at the same moment holds a shared one
 * (test_migrate_at_once saw it under load): try again, bounded by the
 * busy timeout. */
static int
journal_mode_step(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	for (int i = 0; rc == SQLITE_BUSY && i < BUSY_TIMEOUT_MS / 10; i++) {
		sqlite3_reset(s);
		sqlite3_sleep(10);
		rc = sqlite3_step(s);
	}
	return rc;
}

static int
lite_configure(struct lite *l)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *mode;
	int rc = 0;

	/* first: opening processes wait for each other from here on */
	sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS);
	if (sqlite3_prepare_v2(l->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) != SQLITE_OK ||
	    journal_mode_step(s) != SQLITE_ROW) {
		rc = lite_fail(l, "journal_mode");
		goto out;
	}
	mode = sqlite3_column_text(s, 0);
	if (mode == NULL || strcasecmp((const char *)mode, "wal") != 0) {
		log_error("store: journal_mode is %s, not wal",
		    mode != NULL ? (const char *)mode : "?");
		rc = -EIO;
		goto out;
	}
	if (sqlite3_exec(l->db, "PRAGMA synchronous=NORMAL;"
	    "PRAGMA wal_autocheckpoint=4000;"
	    "PRAGMA foreign_keys=ON;", NULL, NULL, NULL) != SQLITE_OK)
		rc = lite_fail(l, "pragmas");
out:
	sqlite3_finalize(s);
	return rc;
}

static void
lite_close(struct db *db)
{
	struct lite *l = lite_of(db);

	sqlite3_finalize(l->begin);
	sqlite3_finalize(l->commit);
	sqlite3_exec(l->db, "PRAGMA optimize", NULL, NULL, NULL);
	if (sqlite3_close(l->db) != SQLITE_OK)
		lite_fail(l, "close");
	free(l);
}

static int
lite_open(struct db **out, const char *where)
{
	struct lite *l = calloc(1, sizeof *l);
	int rc;

	if (l == NULL)
		return -ENOMEM;
	l->head.ops = &db_sqlite_ops;
	rc = lite_connect(l, where);
	if (rc == 0)
		rc = lite_configure(l);
	if (rc < 0) {
		sqlite3_close(l->db);
		free(l);
		return rc;
	}
	*out = &l->head;
	return 0;
}

static int
lite_exec(struct db *db, const char *sql)
{
	struct lite *l = lite_of(db);
	char *text = db_render(DB_SQLITE, sql);
	int rc;

	if (text == NULL)
		return -ENOMEM;
	rc = sqlite3_exec(l->db, text, NULL, NULL, NULL) == SQLITE_OK ? 0 : lite_fail(l, text);
	free(text);
	return rc;
}

/* Run a statement without parameters or rows, prepared at its first run
 * and kept in *s. */
static int
lite_run_kept(struct lite *l, sqlite3_stmt **s, const char *sql)
{
	int rc;

	if (*s == NULL && sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, s,
	    NULL) != SQLITE_OK)
		return lite_fail(l, sql);
	rc = sqlite3_step(*s) == SQLITE_DONE ? 0 : lite_fail(l, sql);
	sqlite3_reset(*s);
	return rc;
}

static int
lite_begin(struct db *db)
{
	struct lite *l = lite_of(db);

	return lite_run_kept(l, &l->begin, "BEGIN IMMEDIATE");
}

static int
lite_commit(struct db *db)
{
	struct lite *l = lite_of(db);

	return lite_run_kept(l, &l->commit, "COMMIT");
}

/* BEGIN IMMEDIATE holds the database's write lock already. */
static int
lite_lock_schema(struct db *db)
{
	(void)db;
	return 0;
}

static bool
lite_tx_open(struct db *db)
{
	return !sqlite3_get_autocommit(lite_of(db)->db);
}

static bool
lite_connected(struct db *db)
{
	(void)db;
	return true;
}

static struct db_stmt *
lite_prepare(struct db *db, const char *sql, bool keep)
{
	struct lite *l = lite_of(db);
	struct lite_stmt *s = calloc(1, sizeof *s);
	char *text = db_render(DB_SQLITE, sql);

	if (s == NULL || text == NULL)
		goto fail;
	s->head.ops = &db_sqlite_ops;
	s->lite = l;
	if (sqlite3_prepare_v3(l->db, text, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0,
	    &s->s, NULL) != SQLITE_OK) {
		lite_fail(l, text);
		goto fail;
	}
	free(text);
	return &s->head;
fail:
	free(text);
	free(s);
	return NULL;
}

static void
lite_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(stmt_of(s)->s, i, v);
}

static void
lite_bind_text(struct db_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(stmt_of(s)->s, i, v, -1, SQLITE_TRANSIENT);
}

static void
lite_bind_blob(struct db_stmt *s, int i, const void *p, size_t n)
{
	sqlite3_bind_blob(stmt_of(s)->s, i, p, (int)n, SQLITE_TRANSIENT);
}

static int
lite_step(struct db_stmt *st)
{
	struct lite_stmt *s = stmt_of(st);
	int rc = sqlite3_step(s->s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	return lite_fail(s->lite, sqlite3_sql(s->s));
}

static int64_t
lite_col_int64(struct db_stmt *s, int i)
{
	return sqlite3_column_int64(stmt_of(s)->s, i);
}

static const char *
lite_col_text(struct db_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(stmt_of(s)->s, i);
}

static int
lite_col_blob(struct db_stmt *st, int i, void *out, size_t max)
{
	sqlite3_stmt *s = stmt_of(st)->s;
	const void *p = sqlite3_column_blob(s, i);
	int n = sqlite3_column_bytes(s, i);

	if (n < 0 || (size_t)n > max)
		return -EINVAL;
	if (n > 0)
		memcpy(out, p, (size_t)n);
	return n;
}

static int64_t
lite_changes(struct db_stmt *s)
{
	return sqlite3_changes(stmt_of(s)->lite->db);
}

static int64_t
lite_last_id(struct db_stmt *s)
{
	return sqlite3_last_insert_rowid(stmt_of(s)->lite->db);
}

static void
lite_reset(struct db_stmt *st)
{
	struct lite_stmt *s = stmt_of(st);

	sqlite3_reset(s->s);
	sqlite3_clear_bindings(s->s);
}

static void
lite_finalize(struct db_stmt *st)
{
	struct lite_stmt *s = stmt_of(st);

	sqlite3_finalize(s->s);
	free(s);
}

const struct db_ops db_sqlite_ops = {
	.kind = DB_SQLITE,
	.open = lite_open,
	.close = lite_close,
	.exec = lite_exec,
	.begin = lite_begin,
	.commit = lite_commit,
	.lock_schema = lite_lock_schema,
	.tx_usable = lite_tx_open,
	.tx_open = lite_tx_open,
	.connected = lite_connected,
	.prepare = lite_prepare,
	.bind_int64 = lite_bind_int64,
	.bind_text = lite_bind_text,
	.bind_blob = lite_bind_blob,
	.step = lite_step,
	.col_int64 = lite_col_int64,
	.col_text = lite_col_text,
	.col_blob = lite_col_blob,
	.changes = lite_changes,
	.last_id = lite_last_id,
	.reset = lite_reset,
	.finalize = lite_finalize,
};
