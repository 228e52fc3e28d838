/* Diagnose and repair in the state store.  See diag.h. */
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
row_diag(struct db_stmt *s, struct store_diag_result *r)
{
	const char *details = db_col_text(s, 8);

	memset(r, 0, sizeof *r);
	r->id = db_col_int64(s, 0);
	r->task = db_col_int64(s, 1);
	db_col_str(s, 2, r->mac, sizeof r->mac);
	db_col_str(s, 3, r->name, sizeof r->name);
	db_col_str(s, 4, r->status, sizeof r->status);
	r->started = db_col_int64(s, 5);
	r->duration_ms = db_col_int64(s, 6);
	db_col_str(s, 7, r->summary, sizeof r->summary);
	r->details = strdup(details != NULL ? details : "{}");
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
	struct db_stmt *s = store_prep(st, "DELETE FROM diag_results WHERE mac = ?1"
	    " AND task NOT IN (SELECT DISTINCT task FROM diag_results WHERE mac = ?1"
	    " ORDER BY task DESC LIMIT ?2)");

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	db_bind_int64(s, 2, STORE_DIAG_REPORTS_KEPT);
	return db_run(s) < 0 ? -EIO : 0;
}

int
store_diag_put(struct store *st, const struct store_diag_result *r)
{
	struct db_stmt *s = store_prep(st, "INSERT INTO diag_results (task, mac, name,"
	    " status, started, duration_ms, summary, details)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (task, name) DO UPDATE"
	    " SET status = ?4, started = ?5, duration_ms = ?6, summary = ?7, details = ?8");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, r->task);
	db_bind_text(s, 2, r->mac);
	db_bind_text(s, 3, r->name);
	db_bind_text(s, 4, r->status);
	db_bind_int64(s, 5, r->started);
	db_bind_int64(s, 6, r->duration_ms);
	db_bind_text(s, 7, r->summary);
	db_bind_text(s, 8, r->details != NULL ? r->details : "{}");
	rc = db_run(s);
	if (rc == -EEXIST)
		return -ENOENT;         /* the host's foreign key */
	return rc < 0 ? rc : diag_prune(st, r->mac);
}

/* Up to max rows of a prepared, bound SELECT of DIAG_COLS; finalizes it. */
static int
diag_rows(struct db_stmt *s, struct store_diag_result *out, size_t max)
{
	size_t n = 0;
	int rc = 0;

	if (s == NULL)
		return -EIO;
	while (n < max && (rc = db_step(s)) == 1)
		row_diag(s, &out[n++]);
	db_finalize(s);
	if (rc >= 0)
		return (int)n;
	while (n > 0)
		store_diag_free(&out[--n]);
	return -EIO;
}

int
store_diag_of_task(struct store *st, int64_t task, struct store_diag_result *out, size_t max)
{
	struct db_stmt *s = store_prep(st, "SELECT " DIAG_COLS " FROM diag_results"
	    " WHERE task = ?1 ORDER BY id LIMIT ?2");

	if (s != NULL) {
		db_bind_int64(s, 1, task);
		db_bind_int64(s, 2, (int64_t)max);
	}
	return diag_rows(s, out, max);
}

int
store_diag_latest(struct store *st, const char *mac, struct store_diag_result *out,
    size_t max)
{
	struct db_stmt *s = store_prep(st, "SELECT " DIAG_COLS " FROM diag_results"
	    " WHERE id IN (SELECT max(id) FROM diag_results WHERE mac = ?1 GROUP BY name)"
	    " ORDER BY name LIMIT ?2");

	if (s != NULL) {
		db_bind_text(s, 1, mac);
		db_bind_int64(s, 2, (int64_t)max);
	}
	return diag_rows(s, out, max);
}

int
store_diag_reports(struct store *st, const char *mac, int64_t *out, size_t max)
{
	struct db_stmt *s = store_prep(st, "SELECT DISTINCT task FROM diag_results"
	    " WHERE mac = ?1 ORDER BY task DESC LIMIT ?2");
	size_t n = 0;
	int rc = 0;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	db_bind_int64(s, 2, (int64_t)max);
	while (n < max && (rc = db_step(s)) == 1)
		out[n++] = db_col_int64(s, 0);
	db_finalize(s);
	return rc >= 0 ? (int)n : -EIO;
}

/* ---- wipe certificates ---- */

#define WIPE_COLS "id, task, mac, disk, model, serial, size, method, started, finished," \
	" bytes_written, verify, bytes_verified, ok, message, write_ms"

int
store_wipe_put(struct store *st, const struct store_wipe_cert *c)
{
	struct db_stmt *s = store_prep(st, "INSERT INTO wipe_certificates"
	    " (task, mac, disk, model, serial, size, method, started, finished, bytes_written,"
	    " verify, bytes_verified, ok, message, write_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
	    " ON CONFLICT (task, disk) DO UPDATE SET mac = ?2, model = ?4, serial = ?5,"
	    " size = ?6, method = ?7, started = ?8, finished = ?9, bytes_written = ?10,"
	    " verify = ?11, bytes_verified = ?12, ok = ?13, message = ?14, write_ms = ?15");

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, c->task);
	db_bind_text(s, 2, c->mac);
	db_bind_text(s, 3, c->disk);
	db_bind_text(s, 4, c->model);
	db_bind_text(s, 5, c->serial);
	db_bind_int64(s, 6, (int64_t)c->size);
	db_bind_text(s, 7, c->method);
	db_bind_int64(s, 8, c->started);
	db_bind_int64(s, 9, c->finished);
	db_bind_int64(s, 10, (int64_t)c->bytes_written);
	db_bind_text(s, 11, c->verify);
	db_bind_int64(s, 12, (int64_t)c->bytes_verified);
	db_bind_int64(s, 13, c->ok);
	db_bind_text(s, 14, c->message);
	db_bind_int64(s, 15, (int64_t)c->write_ms);
	return db_run(s) < 0 ? -EIO : 0;
}

static void
row_wipe(struct db_stmt *s, struct store_wipe_cert *c)
{
	memset(c, 0, sizeof *c);
	c->id = db_col_int64(s, 0);
	c->task = db_col_int64(s, 1);
	db_col_str(s, 2, c->mac, sizeof c->mac);
	db_col_str(s, 3, c->disk, sizeof c->disk);
	db_col_str(s, 4, c->model, sizeof c->model);
	db_col_str(s, 5, c->serial, sizeof c->serial);
	c->size = (uint64_t)db_col_int64(s, 6);
	db_col_str(s, 7, c->method, sizeof c->method);
	c->started = db_col_int64(s, 8);
	c->finished = db_col_int64(s, 9);
	c->bytes_written = (uint64_t)db_col_int64(s, 10);
	db_col_str(s, 11, c->verify, sizeof c->verify);
	c->bytes_verified = (uint64_t)db_col_int64(s, 12);
	c->ok = db_col_int64(s, 13) != 0;
	db_col_str(s, 14, c->message, sizeof c->message);
	c->write_ms = (uint64_t)db_col_int64(s, 15);
}

int
store_wipe_list(struct store *st, const char *mac, int64_t before, struct store_wipe_cert *out,
    size_t max)
{
	struct db_stmt *s = store_prep(st, "SELECT " WIPE_COLS " FROM wipe_certificates"
	    " WHERE (?1 = '' OR mac = ?1) AND id < ?2 ORDER BY id DESC LIMIT ?3");
	size_t n = 0;
	int rc = 0;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	db_bind_int64(s, 2, before > 0 ? before : INT64_MAX);
	db_bind_int64(s, 3, (int64_t)max);
	while (n < max && (rc = db_step(s)) == 1)
		row_wipe(s, &out[n++]);
	db_finalize(s);
	return rc >= 0 ? (int)n : -EIO;
}

int64_t
store_wipe_count(struct store *st, const char *mac)
{
	struct db_stmt *s = store_prep(st, "SELECT count(*) FROM wipe_certificates"
	    " WHERE ?1 = '' OR mac = ?1");
	int64_t n;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	n = db_step(s) == 1 ? db_col_int64(s, 0) : -EIO;
	db_finalize(s);
	return n;
}

/* ---- boot environments ---- */

int
store_env_put(struct store *st, const char *name, const char *json, int64_t now)
{
	struct db_stmt *s = store_prep(st, "INSERT INTO environments"
	    " (name, definition, created) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (name) DO UPDATE SET definition = ?2, created = ?3");

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, name);
	db_bind_text(s, 2, json);
	db_bind_int64(s, 3, now);
	return db_run(s) < 0 ? -EIO : 0;
}

int
store_env_get(struct store *st, const char *name, char **json)
{
	struct db_stmt *s = store_prep(st, "SELECT definition FROM environments"
	    " WHERE name = ?1");
	int rc;

	*json = NULL;
	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, name);
	rc = db_step(s);
	if (rc == 1) {
		const char *v = db_col_text(s, 0);
		*json = strdup(v != NULL ? v : "{}");
		if (*json == NULL)
			rc = -ENOMEM;
	}
	db_finalize(s);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc == -ENOMEM ? -ENOMEM : -EIO;
}

int
store_env_names(struct store *st, char (*out)[STORE_ENV_NAME], size_t max)
{
	struct db_stmt *s = store_prep(st, "SELECT name FROM environments"
	    " ORDER BY name LIMIT ?1");
	size_t n = 0;
	int rc = 0;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, (int64_t)max);
	while (n < max && (rc = db_step(s)) == 1)
		db_col_str(s, 0, out[n++], STORE_ENV_NAME);
	db_finalize(s);
	return rc >= 0 ? (int)n : -EIO;
}

int
store_env_remove(struct store *st, const char *name)
{
	struct db_stmt *s = store_prep(st, "DELETE FROM environments WHERE name = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, name);
	rc = db_run(s);
	return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}

/* ---- hosts: where they are ---- */

/* UPDATE hosts SET column = text WHERE mac: 0, -ENOENT or -EIO. */
static int
host_set_text(struct store *st, const char *sql, const char *mac, const char *text)
{
	struct db_stmt *s = store_prep(st, sql);
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	db_bind_text(s, 2, text);
	rc = db_run(s);
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
	struct db_stmt *s = store_prep(st, "SELECT address FROM leases WHERE mac = ?1"
	    " ORDER BY starts DESC LIMIT 1");
	uint8_t raw[6];
	int rc;

	out->s_addr = 0;
	if (s == NULL)
		return -EIO;
	if (config_parse_mac(mac, raw) == 0)
		db_bind_blob(s, 1, raw, sizeof raw);
	rc = db_step(s);
	if (rc == 1)
		out->s_addr = htonl((uint32_t)db_col_int64(s, 0));
	db_finalize(s);
	return rc >= 0 ? 0 : -EIO;
}

int
store_host_where(struct store *st, const char *mac, struct store_host_where *out)
{
	struct db_stmt *s = store_prep(st, "SELECT last_addr, wol_password FROM hosts"
	    " WHERE mac = ?1");
	char addr[INET_ADDRSTRLEN];
	int rc;

	memset(out, 0, sizeof *out);
	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	rc = db_step(s);
	if (rc == 1) {
		db_col_str(s, 0, addr, sizeof addr);
		db_col_str(s, 1, out->wol_password, sizeof out->wol_password);
		if (inet_pton(AF_INET, addr, &out->last_addr) != 1)
			out->last_addr.s_addr = 0;
	}
	db_finalize(s);
	if (rc != 1)
		return rc == 0 ? -ENOENT : -EIO;
	return lease_of_mac(st, mac, &out->lease_addr);
}

/* ---- tasks no agent runs ---- */

/* UPDATE of one task by id with a message: 0, -ESRCH (no row changed),
 * -EIO. */
static int
task_update(struct store *st, const char *sql, int64_t id, const char *message, int64_t now)
{
	struct db_stmt *s = store_prep(st, sql);
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, message);
	db_bind_int64(s, 3, now);
	rc = db_run(s);
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
