/* The SQL layer on PostgreSQL through libpq: one connection, statements
 * kept prepared on the server at their first run (with the parameter types
 * of that run; prepared again after a reconnection), text results, blobs
 * sent as binary parameters.  The only file that includes
 * libpq-fe.h.  See db.h.
 *
 * A lost connection is tried again at the next statement, at most once a
 * backoff interval (1 s doubling to 30 s); meanwhile statements fail at
 * once with -EIO, and a transaction open when the connection went is lost
 * (db_tx_usable is false: the store's batch fails, nothing is
 * acknowledged).
 *
 * Every statement has a time limit, PG_STATEMENT_TIMEOUT (PostgreSQL's
 * statement_timeout, set at each connection unless the URL's options, the
 * role, the database or postgresql.conf set one): a statement stuck
 * behind a lock or a runaway plan fails (-EIO) instead of holding its
 * thread.  Migrations are exempt (db_lock_schema: waiting for another
 * server's migration, then the migration, may take longer); the lists are
 * paged, and the one full read, the stored leases at start and reload,
 * takes well under it (docs/INSTALL.md). */
#include "store/db.h"

#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistr.h>

#include "core/log.h"
#include "core/util.h"

#define PG_PARAMS_MAX 24
#define PG_BACKOFF_MIN_MS 1000
#define PG_BACKOFF_MAX_MS 30000
#define PG_CONNECT_TIMEOUT "5"
#define PG_STATEMENT_TIMEOUT "10s"
/* pg_advisory_xact_lock's key for schema migrations: "pxed" in ASCII */
#define PG_SCHEMA_LOCK "1887004004"

struct pg {
	struct db head;
	PGconn *conn;
	unsigned gen;                   /* connections made: statements prepared in an
	                                 * older one are prepared again */
	unsigned names;                 /* prepared statements named so far */
	int64_t retry_ms;               /* no reconnection before (monotonic) */
	int64_t backoff_ms;
	bool down;                      /* the loss was logged */
};

struct pg_stmt {
	struct db_stmt head;
	struct pg *pg;
	char *sql;                      /* in PostgreSQL's dialect */
	bool keep;
	char name[16];
	unsigned gen;                   /* prepared on connection gen; 0: not yet */
	int nparams;
	char *val[PG_PARAMS_MAX];       /* NULL: SQL NULL */
	int len[PG_PARAMS_MAX];
	int fmt[PG_PARAMS_MAX];         /* 1: binary (blobs) */
	Oid type[PG_PARAMS_MAX];        /* as bound; 0 (not bound): inferred */
	PGresult *res;                  /* of the run, while rows are read */
	int row;                        /* the current row; -1 before the run */
	int64_t changes;
};

static struct pg *
pg_of(struct db *db)
{
	return (struct pg *)db;
}

static struct pg_stmt *
stmt_of(struct db_stmt *s)
{
	return (struct pg_stmt *)s;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq's message on one line (its newlines and tabs as spaces). */
static void
pg_flatten(const char *msg, char *out, size_t size)
{
	size_t n;

	str_copy(out, msg, size);
	for (char *p = out; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	n = strlen(out);
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
}

static void
pg_log_error(const char *what, const char *msg)
{
	char line[512];

	pg_flatten(msg, line, sizeof line);
	log_error("store: %s: %s", what, line);
}

/* The server's notices ("relation ... already exists, skipping") go to the
 * debug log, not to stderr. */
static void
pg_notice(void *arg, const char *msg)
{
	char line[512];

	(void)arg;
	pg_flatten(msg, line, sizeof line);
	log_debug("store: PostgreSQL: %s", line);
}

static int pg_result_rc(const PGresult *r, const char *what);

/* A new connection's settings: UTF-8, and the statement time limit when
 * none is set (0: PostgreSQL's default). */
static int
pg_session(PGconn *conn)
{
	if (PQsetClientEncoding(conn, "UTF8") != 0) {
		pg_log_error("client encoding", PQerrorMessage(conn));
		return -EIO;
	}
	PGresult *r = PQexec(conn, "SELECT set_config('statement_timeout', '"
	    PG_STATEMENT_TIMEOUT "', false) WHERE current_setting('statement_timeout') = '0'");
	int rc = pg_result_rc(r, "statement_timeout");
	PQclear(r);
	return rc;
}

static int
pg_connect(struct pg *p, const char *url)
{
	static const char *const keys[] = { "dbname", "application_name", "connect_timeout",
		NULL };
	const char *values[] = { url, "pxed", PG_CONNECT_TIMEOUT, NULL };

	p->conn = PQconnectdbParams(keys, values, 1);
	if (p->conn == NULL)
		return -ENOMEM;
	if (PQstatus(p->conn) != CONNECTION_OK) {
		pg_log_error("connect to PostgreSQL", PQerrorMessage(p->conn));
		return -ECONNREFUSED;
	}
	PQsetNoticeProcessor(p->conn, pg_notice, NULL);
	if (pg_session(p->conn) != 0)
		return -EIO;
	p->gen = 1;
	return 0;
}

static int
pg_open(struct db **out, const char *where)
{
	struct pg *p = calloc(1, sizeof *p);
	int rc;

	if (p == NULL)
		return -ENOMEM;
	p->head.ops = &db_pg_ops;
	p->backoff_ms = PG_BACKOFF_MIN_MS;
	rc = pg_connect(p, where);
	if (rc < 0) {
		PQfinish(p->conn);
		free(p);
		return rc;
	}
	*out = &p->head;
	return 0;
}

static void
pg_close(struct db *db)
{
	struct pg *p = pg_of(db);

	PQfinish(p->conn);
	free(p);
}

/* Is the connection usable?  When it is down, reconnect once the backoff
 * allows (a transaction open before is gone with it). */
static bool
pg_ready(struct pg *p)
{
	int64_t now;

	if (PQstatus(p->conn) == CONNECTION_OK)
		return true;
	if (!p->down) {
		log_error("store: the connection to PostgreSQL is lost; reconnecting");
		p->down = true;
	}
	now = now_ms();
	if (now < p->retry_ms)
		return false;
	PQreset(p->conn);
	if (PQstatus(p->conn) != CONNECTION_OK || pg_session(p->conn) != 0) {
		p->retry_ms = now + p->backoff_ms;
		p->backoff_ms = MIN(p->backoff_ms * 2, PG_BACKOFF_MAX_MS);
		return false;
	}
	log_info("store: reconnected to PostgreSQL");
	p->down = false;
	p->backoff_ms = PG_BACKOFF_MIN_MS;
	p->gen++;
	return true;
}

/* The result's status as 0, -EEXIST (an integrity constraint: SQLSTATE
 * class 23, not logged) or -EIO (logged). */
static int
pg_result_rc(const PGresult *r, const char *what)
{
	ExecStatusType st = PQresultStatus(r);
	const char *state;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (state != NULL && strncmp(state, "23", 2) == 0)
		return -EEXIST;
	pg_log_error(what, r != NULL ? PQresultErrorMessage(r) : "no result");
	return -EIO;
}

static int
pg_exec(struct db *db, const char *sql)
{
	struct pg *p = pg_of(db);
	char *text = db_render(DB_POSTGRESQL, sql);
	PGresult *r;
	int rc;

	if (text == NULL)
		return -ENOMEM;
	if (!pg_ready(p)) {
		free(text);
		return -EIO;
	}
	r = PQexec(p->conn, text);
	rc = pg_result_rc(r, text);
	PQclear(r);
	free(text);
	return rc == -EEXIST ? -EIO : rc;
}

static int
pg_begin(struct db *db)
{
	return pg_exec(db, "BEGIN");
}

static int
pg_commit(struct db *db)
{
	return pg_exec(db, "COMMIT");
}

/* Servers starting at once migrate one after the other; the wait and the
 * migration (this transaction) have no time limit. */
static int
pg_lock_schema(struct db *db)
{
	return pg_exec(db, "SET LOCAL statement_timeout = 0; "
	    "SELECT pg_advisory_xact_lock(" PG_SCHEMA_LOCK ")");
}

static bool
pg_tx_usable(struct db *db)
{
	return PQtransactionStatus(pg_of(db)->conn) == PQTRANS_INTRANS;
}

static bool
pg_tx_open(struct db *db)
{
	PGTransactionStatusType t = PQtransactionStatus(pg_of(db)->conn);

	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

static bool
pg_connected(struct db *db)
{
	return PQstatus(pg_of(db)->conn) == CONNECTION_OK;
}

/* The highest $N of a statement. */
static int
count_params(const char *sql)
{
	int n = 0;

	for (const char *p = strchr(sql, '$'); p != NULL; p = strchr(p + 1, '$')) {
		int v = 0;
		/* at most three digits: $1 .. $999, no overflow */
		for (int i = 1; i <= 3 && isdigit((unsigned char)p[i]); i++)
			v = v * 10 + (p[i] - '0');
		n = v > n ? v : n;
	}
	return n;
}

static struct db_stmt *
pg_prepare(struct db *db, const char *sql, bool keep)
{
	struct pg *p = pg_of(db);
	struct pg_stmt *s = calloc(1, sizeof *s);

	if (s == NULL || (s->sql = db_render(DB_POSTGRESQL, sql)) == NULL) {
		free(s);
		return NULL;
	}
	s->head.ops = &db_pg_ops;
	s->pg = p;
	s->keep = keep;
	s->row = -1;
	s->nparams = count_params(s->sql);
	if (s->nparams > PG_PARAMS_MAX) {
		log_error("store: too many parameters: %s", s->sql);
		free(s->sql);
		free(s);
		return NULL;
	}
	if (keep)
		snprintf(s->name, sizeof s->name, "pxed%u", ++p->names);
	return &s->head;
}

/* Parameter types as bound (pg_type.h's OIDs): every parameter of a
 * statement has one, even one its text does not use (a count shares the
 * numbering of its list). */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25

static void
param_set(struct pg_stmt *s, int i, char *v, int len, int fmt, Oid type)
{
	if (i < 1 || i > s->nparams) {
		free(v);
		return;
	}
	free(s->val[i - 1]);
	s->val[i - 1] = v;
	s->len[i - 1] = len;
	s->fmt[i - 1] = fmt;
	s->type[i - 1] = type;
}

static void
pg_bind_int64(struct db_stmt *s, int i, int64_t v)
{
	char text[24];

	snprintf(text, sizeof text, "%lld", (long long)v);
	param_set(stmt_of(s), i, strdup(text), 0, 0, OID_INT8);
}

/* Text must be valid UTF-8 for PostgreSQL: a byte that is not is sent as
 * '?' (SQLite kept it as it was). */
static void
pg_bind_text(struct db_stmt *s, int i, const char *v)
{
	size_t n = strlen(v);
	char *copy = strdup(v);
	const uint8_t *bad;

	if (copy != NULL) {
		for (size_t o = 0; o < n && (bad = u8_check((uint8_t *)copy + o, n - o)) != NULL;) {
			o = (size_t)((const char *)bad - copy);
			copy[o++] = '?';
		}
	}
	param_set(stmt_of(s), i, copy, 0, 0, OID_TEXT);
}

static void
pg_bind_blob(struct db_stmt *s, int i, const void *p, size_t n)
{
	char *copy = malloc(n > 0 ? n : 1);

	if (copy != NULL && n > 0)
		memcpy(copy, p, n);
	param_set(stmt_of(s), i, copy, (int)n, 1, OID_BYTEA);
}

static PGresult *
pg_run(struct pg_stmt *s)
{
	struct pg *p = s->pg;
	const char *const *vals = (const char *const *)s->val;

	if (!s->keep)
		return PQexecParams(p->conn, s->sql, s->nparams, s->type, vals, s->len, s->fmt,
		    0);
	if (s->gen != p->gen) {
		PGresult *r = PQprepare(p->conn, s->name, s->sql, s->nparams, s->type);
		int rc = pg_result_rc(r, s->sql);
		if (rc < 0)
			return r;
		PQclear(r);
		s->gen = p->gen;
	}
	return PQexecPrepared(p->conn, s->name, s->nparams, vals, s->len, s->fmt, 0);
}

static int
pg_step(struct db_stmt *st)
{
	struct pg_stmt *s = stmt_of(st);
	int rc;

	if (s->row < 0) {
		if (!pg_ready(s->pg))
			return -EIO;
		s->res = pg_run(s);
		rc = pg_result_rc(s->res, s->sql);
		if (rc < 0) {
			PQclear(s->res);
			s->res = NULL;
			return rc;
		}
		s->changes = atoll(PQcmdTuples(s->res));
	}
	s->row++;
	return s->row < PQntuples(s->res) ? 1 : 0;
}

static bool
pg_is_null(struct pg_stmt *s, int i)
{
	return s->res == NULL || s->row < 0 || s->row >= PQntuples(s->res) ||
	    i >= PQnfields(s->res) || PQgetisnull(s->res, s->row, i);
}

static int64_t
pg_col_int64(struct db_stmt *st, int i)
{
	struct pg_stmt *s = stmt_of(st);

	return pg_is_null(s, i) ? 0 : strtoll(PQgetvalue(s->res, s->row, i), NULL, 10);
}

static const char *
pg_col_text(struct db_stmt *st, int i)
{
	struct pg_stmt *s = stmt_of(st);

	return pg_is_null(s, i) ? NULL : PQgetvalue(s->res, s->row, i);
}

/* bytea in its text form: "\x" and two hex digits a byte. */
static int
pg_col_blob(struct db_stmt *st, int i, void *out, size_t max)
{
	struct pg_stmt *s = stmt_of(st);
	const char *v;
	size_t n;

	if (pg_is_null(s, i))
		return 0;
	v = PQgetvalue(s->res, s->row, i);
	n = strlen(v);
	if (n < 2 || v[0] != '\\' || v[1] != 'x' || n % 2 != 0 || (n - 2) / 2 > max)
		return -EINVAL;
	for (size_t k = 0; k < (n - 2) / 2; k++) {
		int hi = hex_digit((unsigned char)v[2 + 2 * k]);
		int lo = hex_digit((unsigned char)v[3 + 2 * k]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		((uint8_t *)out)[k] = (uint8_t)(hi << 4 | lo);
	}
	return (int)((n - 2) / 2);
}

static int64_t
pg_changes(struct db_stmt *s)
{
	return stmt_of(s)->changes;
}

/* The first column of the first row (RETURNING id), whichever row the
 * statement is on. */
static int64_t
pg_last_id(struct db_stmt *st)
{
	struct pg_stmt *s = stmt_of(st);

	if (s->res == NULL || PQntuples(s->res) < 1 || PQnfields(s->res) < 1 ||
	    PQgetisnull(s->res, 0, 0))
		return 0;
	return strtoll(PQgetvalue(s->res, 0, 0), NULL, 10);
}

static void
pg_reset(struct db_stmt *st)
{
	struct pg_stmt *s = stmt_of(st);

	PQclear(s->res);
	s->res = NULL;
	s->row = -1;
	for (int i = 0; i < s->nparams; i++) {
		free(s->val[i]);
		s->val[i] = NULL;
		s->len[i] = 0;
		s->fmt[i] = 0;
		s->type[i] = 0;
	}
}

static void
pg_finalize(struct db_stmt *st)
{
	struct pg_stmt *s = stmt_of(st);

	pg_reset(st);
	free(s->sql);
	free(s);
}

const struct db_ops db_pg_ops = {
	.kind = DB_POSTGRESQL,
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.begin = pg_begin,
	.commit = pg_commit,
	.lock_schema = pg_lock_schema,
	.tx_usable = pg_tx_usable,
	.tx_open = pg_tx_open,
	.connected = pg_connected,
	.prepare = pg_prepare,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.step = pg_step,
	.col_int64 = pg_col_int64,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.changes = pg_changes,
	.last_id = pg_last_id,
	.reset = pg_reset,
	.finalize = pg_finalize,
};
