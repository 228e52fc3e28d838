/* The store's unit tests run once on SQLite and once on PostgreSQL: this
 * header (included by one test file) runs a cmocka group on each and
 * gives every test a fresh place for its store (tb_where_new):
 *   SQLite      a directory from mkdtemp (its pxed.db)
 *   PostgreSQL  a schema of its own in the pxed database of a server from
 *               tests/lib/pg.sh: the one named by PXED_TEST_PG (a socket
 *               directory; tests/run-all.sh starts one for all), else one
 *               this program starts and stops
 * and reads the database straight (sqlite3, libpq), not through the
 * store, for what the store's API does not show. */
#ifndef PXED_TESTS_STORE_BACKENDS_H
#define PXED_TESTS_STORE_BACKENDS_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"

#define TB_WHERE_MAX 512

enum tb_kind { TB_SQLITE, TB_POSTGRESQL };
static enum tb_kind tb_kind;
static char tb_pg_dir[256];             /* the server's socket directory */
static unsigned tb_schemas;             /* made so far (names) */

static inline bool
tb_pg(void)
{
	return tb_kind == TB_POSTGRESQL;
}

static inline void
tb_pg_quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* libpq on the test database (the pxed database, search_path given by
 * where's options). */
static inline PGconn *
tb_pg_connect(const char *where)
{
	PGconn *c = PQconnectdb(where);

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "tb: %s: %s", where, PQerrorMessage(c));
		abort();
	}
	PQsetNoticeProcessor(c, tb_pg_quiet, NULL);
	return c;
}

static inline void
tb_pg_must(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "tb: %s: %s", sql, PQresultErrorMessage(r));
		abort();
	}
	PQclear(r);
}

/* The server's base URL (the pxed database). */
static inline void
tb_pg_base(char *out, size_t size)
{
	snprintf(out, size, "postgresql://pxed@/pxed?host=%s", tb_pg_dir);
}

/* A fresh place for a store: a directory, or a URL with a new schema. */
static inline void
tb_where_new(char *where, size_t size, const char *name)
{
	char base[400], sql[128];
	PGconn *c;

	if (!tb_pg()) {
		snprintf(where, size, "/tmp/pxed-test-%s.XXXXXX", name);
		if (mkdtemp(where) == NULL)
			abort();
		return;
	}
	tb_pg_base(base, sizeof base);
	snprintf(sql, sizeof sql, "CREATE SCHEMA t%d_%u", (int)getpid(), ++tb_schemas);
	c = tb_pg_connect(base);
	tb_pg_must(c, sql);
	PQfinish(c);
	snprintf(where, size, "%s&options=-csearch_path%%3Dt%d_%u", base, (int)getpid(),
	    tb_schemas);
}

/* Remove it: the directory's files (names), or the schema. */
static inline void
tb_where_drop(const char *where, const char *const *names, size_t count)
{
	char path[TB_WHERE_MAX + 64];
	const char *schema;
	PGconn *c;

	if (!tb_pg()) {
		for (size_t i = 0; i < count; i++) {
			snprintf(path, sizeof path, "%s/%s", where, names[i]);
			unlink(path);
		}
		if (rmdir(where) != 0)
			abort();
		return;
	}
	schema = strstr(where, "%3D");
	c = tb_pg_connect(where);
	snprintf(path, sizeof path, "DROP SCHEMA %s CASCADE", schema + 3);
	tb_pg_must(c, path);
	PQfinish(c);
}

/* Empty it: no pxed.db, or an empty schema. */
static inline void
tb_where_clear(const char *where)
{
	static const char *const files[] = { "pxed.db", "pxed.db-wal", "pxed.db-shm" };
	char path[TB_WHERE_MAX + 64];
	const char *schema;
	PGconn *c;

	if (!tb_pg()) {
		for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
			snprintf(path, sizeof path, "%s/%s", where, files[i]);
			unlink(path);
		}
		return;
	}
	schema = strstr(where, "%3D") + 3;
	c = tb_pg_connect(where);
	snprintf(path, sizeof path, "DROP SCHEMA %s CASCADE; CREATE SCHEMA %s", schema, schema);
	tb_pg_must(c, path);
	PQfinish(c);
}

/* Statements (several; written in the store's dialect, store/db.h) run
 * straight on the database. */
static inline void
tb_exec(const char *where, const char *sql)
{
	char *text = db_render(tb_pg() ? DB_POSTGRESQL : DB_SQLITE, sql);
	char path[TB_WHERE_MAX + 16];
	sqlite3 *db;

	if (text == NULL)
		abort();
	if (tb_pg()) {
		PGconn *c = tb_pg_connect(where);
		tb_pg_must(c, text);
		PQfinish(c);
	} else {
		snprintf(path, sizeof path, "%s/pxed.db", where);
		if (sqlite3_open(path, &db) != SQLITE_OK ||
		    sqlite3_exec(db, text, NULL, NULL, NULL) != SQLITE_OK) {
			fprintf(stderr, "tb: %s: %s\n", text, sqlite3_errmsg(db));
			abort();
		}
		sqlite3_close(db);
	}
	free(text);
}

/* One query answering an integer, straight on the database. */
static inline int64_t
tb_query_int(const char *where, const char *sql)
{
	char path[TB_WHERE_MAX + 16];
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (tb_pg()) {
		PGconn *c = tb_pg_connect(where);
		PGresult *r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		else
			fprintf(stderr, "tb: %s: %s", sql, PQresultErrorMessage(r));
		PQclear(r);
		PQfinish(c);
		return v;
	}
	snprintf(path, sizeof path, "%s/pxed.db", where);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* How many tables (kind "table") or indexes ("index") of the store's
 * schema have one of the names ("'a', 'b'"). */
static inline int64_t
tb_catalog_count(const char *where, const char *kind, const char *names)
{
	char sql[512];

	if (!tb_pg())
		snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_schema WHERE type = '%s'"
		    " AND name IN (%s)", kind, names);
	else if (strcmp(kind, "table") == 0)
		snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_tables WHERE"
		    " schemaname = current_schema() AND tablename IN (%s)", names);
	else
		snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_indexes WHERE"
		    " schemaname = current_schema() AND indexname IN (%s)", names);
	return tb_query_int(where, sql);
}

/* The PostgreSQL server: PXED_TEST_PG's, else one started here (1). */
static inline int
tb_pg_up(void)
{
	const char *dir = getenv("PXED_TEST_PG");
	FILE *p;

	if (dir != NULL && dir[0] != '\0') {
		snprintf(tb_pg_dir, sizeof tb_pg_dir, "%s", dir);
		return 0;
	}
	p = popen("bash tests/lib/pg.sh start", "r");
	if (p == NULL || fgets(tb_pg_dir, sizeof tb_pg_dir, p) == NULL) {
		fprintf(stderr, "tb: could not start PostgreSQL (tests/lib/pg.sh)\n");
		if (p != NULL)
			pclose(p);
		return -1;
	}
	tb_pg_dir[strcspn(tb_pg_dir, "\n")] = '\0';
	return pclose(p) == 0 ? 1 : -1;
}

static inline void
tb_pg_down(void)
{
	char cmd[320];

	snprintf(cmd, sizeof cmd, "bash tests/lib/pg.sh stop '%s'", tb_pg_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "tb: %s failed\n", cmd);
}

/* Run the tests on SQLite, then on PostgreSQL: the failures of both. */
static inline int
tb_run_both(const char *name, const struct CMUnitTest *tests, size_t count)
{
	char group[64];
	int failed, started;

	tb_kind = TB_SQLITE;
	snprintf(group, sizeof group, "%s on sqlite", name);
	failed = _cmocka_run_group_tests(group, tests, count, NULL, NULL);
	started = tb_pg_up();
	if (started < 0)
		return failed + 1;
	tb_kind = TB_POSTGRESQL;
	snprintf(group, sizeof group, "%s on postgresql", name);
	failed += _cmocka_run_group_tests(group, tests, count, NULL, NULL);
	if (started == 1)
		tb_pg_down();
	return failed;
}

#endif
