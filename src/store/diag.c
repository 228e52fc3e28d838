/* Diagnose and repair in SQLite.  See diag.h. */
#include "store/diag.h"
#include "store/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/util.h"

/* ---- diagnostic results ---- */

#define DIAG_COLS "id, task, mac, name, status, started, duration_ms, summary, details"

static void
row_diag(sqlite3_stmt *s, struct store_diag_result *r)
{
	const unsigned char *details = sqlite3_column_text(s, 8);

	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(s, 0);
	r->task = sqlite3_column_int64(s, 1);
	store_col_text(s, 2, r->mac, sizeof r->mac);
	store_col_text(s, 3, r->name, sizeof r->name);
	store_col_text(s, 4, r->status, sizeof r->status);
	r->started = sqlite3_column_int64(s, 5);
	r->duration_ms = sqlite3_column_int64(s, 6);
	store_col_text(s, 7, r->summary, sizeof r->summary);
	r->details = strdup(details != NULL ? (const char *)details : "{}");
}

void
store_diag_free(struct store_diag_result *r)
{
	free(r->details);
	r->details = NULL;
}

/* Only the host's newest STORE_DIAG_REPORTS_KEPT reports stay. */
static int
diag_prune(struct store *st, const char *mac)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "DELETE FROM diag_results WHERE mac = ?1"
	    " AND task NOT IN (SELECT DISTINCT task FROM diag_results WHERE mac = ?1"
	    " ORDER BY task DESC LIMIT ?2)");

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, mac);
	sqlite3_bind_int(s, 2, STORE_DIAG_REPORTS_KEPT);
	return store_stmt_run(st, s) < 0 ? -EIO : 0;
}

int
store_diag_put(struct store *st, const struct store_diag_result *r)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "INSERT INTO diag_results (task, mac, name,"
	    " status, started, duration_ms, summary, details)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (task, name) DO UPDATE"
	    " SET status = ?4, started = ?5, duration_ms = ?6, summary = ?7, details = ?8");
	int rc;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_int64(s, 1, r->task);
	store_bind_text(s, 2, r->mac);
	store_bind_text(s, 3, r->name);
	store_bind_text(s, 4, r->status);
	sqlite3_bind_int64(s, 5, r->started);
	sqlite3_bind_int64(s, 6, r->duration_ms);
	store_bind_text(s, 7, r->summary);
	store_bind_text(s, 8, r->details != NULL ? r->details : "{}");
	rc = store_stmt_run(st, s);
	if (rc == -EEXIST)
		return -ENOENT;         /* the host's foreign key */
	return rc < 0 ? rc : diag_prune(st, r->mac);
}

/* Up to max rows of a prepared, bound SELECT of DIAG_COLS; finalizes it. */
static int
diag_rows(sqlite3_stmt *s, struct store_diag_result *out, size_t max)
{
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (s == NULL)
		return -EIO;
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		row_diag(s, &out[n++]);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return (int)n;
	while (n > 0)
		store_diag_free(&out[--n]);
	return -EIO;
}

int
store_diag_of_task(struct store *st, int64_t task, struct store_diag_result *out, size_t max)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT " DIAG_COLS " FROM diag_results"
	    " WHERE task = ?1 ORDER BY id LIMIT ?2");

	if (s != NULL) {
		sqlite3_bind_int64(s, 1, task);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	}
	return diag_rows(s, out, max);
}

int
store_diag_latest(struct store *st, const char *mac, struct store_diag_result *out,
    size_t max)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT " DIAG_COLS " FROM diag_results"
	    " WHERE id IN (SELECT max(id) FROM diag_results WHERE mac = ?1 GROUP BY name)"
	    " ORDER BY name LIMIT ?2");

	if (s != NULL) {
		store_bind_text(s, 1, mac);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	}
	return diag_rows(s, out, max);
}

int
store_diag_reports(struct store *st, const char *mac, int64_t *out, size_t max)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT DISTINCT task FROM diag_results"
	    " WHERE mac = ?1 ORDER BY task DESC LIMIT ?2");
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, mac);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		out[n++] = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? (int)n : -EIO;
}

/* ---- wipe certificates ---- */

#define WIPE_COLS "id, task, mac, disk, model, serial, size, method, started, finished," \
	" bytes_written, verify, bytes_verified, ok, message, write_ms"

int
store_wipe_put(struct store *st, const struct store_wipe_cert *c)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "INSERT OR REPLACE INTO wipe_certificates"
	    " (task, mac, disk, model, serial, size, method, started, finished, bytes_written,"
	    " verify, bytes_verified, ok, message, write_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");

	if (s == NULL)
		return -EIO;
	sqlite3_bind_int64(s, 1, c->task);
	store_bind_text(s, 2, c->mac);
	store_bind_text(s, 3, c->disk);
	store_bind_text(s, 4, c->model);
	store_bind_text(s, 5, c->serial);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)c->size);
	store_bind_text(s, 7, c->method);
	sqlite3_bind_int64(s, 8, c->started);
	sqlite3_bind_int64(s, 9, c->finished);
	sqlite3_bind_int64(s, 10, (sqlite3_int64)c->bytes_written);
	store_bind_text(s, 11, c->verify);
	sqlite3_bind_int64(s, 12, (sqlite3_int64)c->bytes_verified);
	sqlite3_bind_int(s, 13, c->ok);
	store_bind_text(s, 14, c->message);
	sqlite3_bind_int64(s, 15, (sqlite3_int64)c->write_ms);
	return store_stmt_run(st, s) < 0 ? -EIO : 0;
}

static void
row_wipe(sqlite3_stmt *s, struct store_wipe_cert *c)
{
	memset(c, 0, sizeof *c);
	c->id = sqlite3_column_int64(s, 0);
	c->task = sqlite3_column_int64(s, 1);
	store_col_text(s, 2, c->mac, sizeof c->mac);
	store_col_text(s, 3, c->disk, sizeof c->disk);
	store_col_text(s, 4, c->model, sizeof c->model);
	store_col_text(s, 5, c->serial, sizeof c->serial);
	c->size = (uint64_t)sqlite3_column_int64(s, 6);
	store_col_text(s, 7, c->method, sizeof c->method);
	c->started = sqlite3_column_int64(s, 8);
	c->finished = sqlite3_column_int64(s, 9);
	c->bytes_written = (uint64_t)sqlite3_column_int64(s, 10);
	store_col_text(s, 11, c->verify, sizeof c->verify);
	c->bytes_verified = (uint64_t)sqlite3_column_int64(s, 12);
	c->ok = sqlite3_column_int(s, 13) != 0;
	store_col_text(s, 14, c->message, sizeof c->message);
	c->write_ms = (uint64_t)sqlite3_column_int64(s, 15);
}

int
store_wipe_list(struct store *st, const char *mac, int64_t before, struct store_wipe_cert *out,
    size_t max)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT " WIPE_COLS " FROM wipe_certificates"
	    " WHERE (?1 = '' OR mac = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3");
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, mac);
	sqlite3_bind_int64(s, 2, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		row_wipe(s, &out[n++]);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? (int)n : -EIO;
}

int64_t
store_wipe_count(struct store *st, const char *mac)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT count(*) FROM wipe_certificates"
	    " WHERE ?1 = '' OR mac = ?1");
	int64_t n;

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, mac);
	n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -EIO;
	sqlite3_finalize(s);
	return n;
}

/* ---- boot environments ---- */

int
store_env_put(struct store *st, const char *name, const char *json, int64_t now)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "INSERT OR REPLACE INTO environments"
	    " (name, definition, created) VALUES (?1, ?2, ?3)");

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, json);
	sqlite3_bind_int64(s, 3, now);
	return store_stmt_run(st, s) < 0 ? -EIO : 0;
}

int
store_env_get(struct store *st, const char *name, char **json)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT definition FROM environments"
	    " WHERE name = ?1");
	int rc;

	*json = NULL;
	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(s, 0);
		*json = strdup(v != NULL ? (const char *)v : "{}");
		if (*json == NULL)
			rc = SQLITE_NOMEM;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int
store_env_names(struct store *st, char (*out)[STORE_ENV_NAME], size_t max)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT name FROM environments"
	    " ORDER BY name LIMIT ?1");
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		store_col_text(s, 0, out[n++], STORE_ENV_NAME);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? (int)n : -EIO;
}

int
store_env_remove(struct store *st, const char *name)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "DELETE FROM environments WHERE name = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, name);
	rc = store_stmt_run(st, s);
	return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}

/* ---- hosts: where they are ---- */

/* UPDATE hosts SET column = text WHERE mac: 0, -ENOENT or -EIO. */
static int
host_set_text(struct store *st, const char *sql, const char *mac, const char *text)
{
	sqlite3_stmt *s = store_stmt_prepare(st, sql);
	int rc;

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, mac);
	store_bind_text(s, 2, text);
	rc = store_stmt_run(st, s);
	return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}

int
store_host_seen_at(struct store *st, const char *mac, struct in_addr addr)
{
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, text, sizeof text);
	return host_set_text(st, "UPDATE hosts SET last_addr = ?2 WHERE mac = ?1", mac, text);
}

int
store_host_set_wol_password(struct store *st, const char *mac, const char *password)
{
	return host_set_text(st, "UPDATE hosts SET wol_password = ?2 WHERE mac = ?1", mac,
	    password);
}

/* The newest lease of the MAC (its raw bytes) into out; 0 when none. */
static int
lease_of_mac(struct store *st, const char *mac, struct in_addr *out)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT address FROM leases WHERE mac = ?1"
	    " ORDER BY starts DESC LIMIT 1");
	uint8_t raw[6];
	int rc;

	out->s_addr = 0;
	if (s == NULL)
		return -EIO;
	if (config_parse_mac(mac, raw) == 0)
		sqlite3_bind_blob(s, 1, raw, sizeof raw, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		out->s_addr = htonl((uint32_t)sqlite3_column_int64(s, 0));
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int
store_host_where(struct store *st, const char *mac, struct store_host_where *out)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT last_addr, wol_password FROM hosts"
	    " WHERE mac = ?1");
	char addr[INET_ADDRSTRLEN];
	int rc;

	memset(out, 0, sizeof *out);
	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, mac);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		store_col_text(s, 0, addr, sizeof addr);
		store_col_text(s, 1, out->wol_password, sizeof out->wol_password);
		if (inet_pton(AF_INET, addr, &out->last_addr) != 1)
			out->last_addr.s_addr = 0;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? -ENOENT : -EIO;
	return lease_of_mac(st, mac, &out->lease_addr);
}

/* ---- tasks no agent runs ---- */

/* UPDATE of one task by id with a message: 0, -ESRCH (no row changed),
 * -EIO. */
static int
task_update(struct store *st, const char *sql, int64_t id, const char *message, int64_t now)
{
	sqlite3_stmt *s = store_stmt_prepare(st, sql);
	int rc;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, message);
	sqlite3_bind_int64(s, 3, now);
	rc = store_stmt_run(st, s);
	return rc < 0 ? rc : rc == 0 ? -ESRCH : 0;
}

int
store_task_booted(struct store *st, int64_t id, int64_t now)
{
	return task_update(st, "UPDATE tasks SET state = 'booting',"
	    " started = CASE WHEN started = 0 THEN ?3 ELSE started END, message = ?2"
	    " WHERE id = ?1 AND state IN ('pending', 'booting')", id, "boot script served", now);
}

int
store_task_served_done(struct store *st, int64_t id, const char *message, int64_t now)
{
	return task_update(st, "UPDATE tasks SET state = 'done', message = ?2, finished = ?3"
	    " WHERE id = ?1 AND state = 'booting'", id, message, now);
}
