/* Hosts and tasks in the store's database.  See mgmt.h. */
#include "store/mgmt.h"
#include "store/internal.h"
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

static const char *const type_names[TASK_TYPE_COUNT] = {
	[TASK_DEPLOY] = "deploy", [TASK_CAPTURE] = "capture",
	[TASK_SHELL] = "shell", [TASK_WIPE] = "wipe", [TASK_LOCAL] = "local",
	[TASK_DIAGNOSE] = "diagnose", [TASK_BOOT] = "boot",
	[TASK_SCAN] = "scan", [TASK_RESET_PASSWORD] = "reset-password",
	[TASK_RESTORE] = "restore",
};

static const char *const after_names[TASK_AFTER_COUNT] = {
	[TASK_AFTER_REBOOT] = "reboot", [TASK_AFTER_POWEROFF] = "poweroff",
	[TASK_AFTER_SHELL] = "shell",
};

static const char *const state_names[TASK_STATE_COUNT] = {
	[TASK_PENDING] = "pending", [TASK_BOOTING] = "booting",
	[TASK_RUNNING] = "running", [TASK_DONE] = "done",
	[TASK_FAILED] = "failed", [TASK_CANCELLED] = "cancelled",
};

const char *
task_type_name(enum task_type t)
{
	return (unsigned)t < TASK_TYPE_COUNT ? type_names[t] : "?";
}

/* The index of s in names[0..count), or -EINVAL. */
static int
name_index(const char *const *names, int count, const char *s)
{
	for (int i = 0; i < count; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -EINVAL;
}

int
task_type_parse(const char *s)
{
	return name_index(type_names, TASK_TYPE_COUNT, s);
}

const char *
task_state_name(enum task_state s)
{
	return (unsigned)s < TASK_STATE_COUNT ? state_names[s] : "?";
}

const char *
task_after_name(enum task_after a)
{
	return (unsigned)a < TASK_AFTER_COUNT ? after_names[a] : "?";
}

int
task_after_parse(const char *s)
{
	return name_index(after_names, TASK_AFTER_COUNT, s);
}

static int
task_state_parse(const char *s)
{
	int i = name_index(state_names, TASK_STATE_COUNT, s);

	return i < 0 ? TASK_FAILED : i;
}

bool
task_state_active(enum task_state s)
{
	return s == TASK_PENDING || s == TASK_BOOTING || s == TASK_RUNNING;
}

int
mac_text_canon(const char *in, char out[STORE_MAC_TEXT])
{
	size_t o = 0, digits = 0;

	for (const char *p = in; *p != '\0'; p++) {
		int v = hex_digit((unsigned char)*p);
		if (v < 0) {
			if ((*p == ':' || *p == '-' || *p == '.') && digits % 2 == 0)
				continue;
			return -EINVAL;
		}
		if (digits == 12)
			return -EINVAL;
		if (digits > 0 && digits % 2 == 0)
			out[o++] = ':';
		out[o++] = "0123456789abcdef"[v];
		digits++;
	}
	out[o] = '\0';
	return digits == 12 ? 0 : -EINVAL;
}

/* ---- statement helpers: one statement per call ---- */

/* run() of a statement with two text parameters, ?1 and ?2. */
static int
run_text2(struct store *st, const char *sql, const char *text1, const char *text2)
{
	struct db_stmt *s = store_prep(st, sql);

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, text1);
	db_bind_text(s, 2, text2);
	return db_run(s);
}

/* ---- hosts ---- */

#define HOST_COLS "mac, name, arch, uuid, first_seen, last_seen, approved, inventory," \
	" hostname"

static void
row_host(struct db_stmt *s, struct store_host *h)
{
	const char *inv = db_col_text(s, 7);

	memset(h, 0, sizeof *h);
	db_col_str(s, 0, h->mac, sizeof h->mac);
	db_col_str(s, 1, h->name, sizeof h->name);
	db_col_str(s, 2, h->arch, sizeof h->arch);
	db_col_str(s, 3, h->uuid, sizeof h->uuid);
	h->first_seen = db_col_int64(s, 4);
	h->last_seen = db_col_int64(s, 5);
	h->approved = db_col_int64(s, 6) != 0;
	h->inventory = inv != NULL ? strdup(inv) : NULL;
	db_col_str(s, 8, h->hostname, sizeof h->hostname);
}

void
store_host_free(struct store_host *h)
{
	free(h->inventory);
	h->inventory = NULL;
}

int
store_host_seen(struct store *st, const char *mac, const char *arch, const char *uuid,
    bool auto_approve, int64_t now)
{
	struct db_stmt *s = store_prep(st, "INSERT INTO hosts (mac, arch, uuid, first_seen,"
	    " last_seen, approved) VALUES (?1, ?2, ?3, ?4, ?4, ?5)"
	    " ON CONFLICT (mac) DO NOTHING");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	db_bind_text(s, 2, arch);
	db_bind_text(s, 3, uuid);
	db_bind_int64(s, 4, now);
	db_bind_int64(s, 5, auto_approve);
	rc = db_run(s);
	if (rc != 0)
		return rc < 0 ? rc : 1;
	s = store_prep(st, "UPDATE hosts SET last_seen = ?2,"
	    " arch = CASE WHEN ?3 = '' THEN arch ELSE ?3 END,"
	    " uuid = CASE WHEN ?4 = '' THEN uuid ELSE ?4 END WHERE mac = ?1");
	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	db_bind_int64(s, 2, now);
	db_bind_text(s, 3, arch);
	db_bind_text(s, 4, uuid);
	rc = db_run(s);
	return rc < 0 ? rc : 0;
}

int
store_host_add(struct store *st, const char *mac, const char *name, int64_t now)
{
	struct db_stmt *s = store_prep(st, "INSERT INTO hosts (mac, name, first_seen, last_seen,"
	    " approved) VALUES (?1, ?2, ?3, 0, 1)");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	db_bind_text(s, 2, name);
	db_bind_int64(s, 3, now);
	rc = db_run(s);
	if (rc != -EEXIST)
		return rc < 0 ? rc : 0;
	s = store_prep(st, "UPDATE hosts SET approved = 1,"
	    " name = CASE WHEN ?2 = '' THEN name ELSE ?2 END WHERE mac = ?1");
	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	db_bind_text(s, 2, name);
	rc = db_run(s);
	return rc < 0 ? rc : -EEXIST;
}

int
store_host_approve(struct store *st, const char *mac, bool approved)
{
	struct db_stmt *s = store_prep(st, "UPDATE hosts SET approved = ?2 WHERE mac = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	db_bind_int64(s, 2, approved);
	rc = db_run(s);
	return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}

int
store_host_get(struct store *st, const char *mac, struct store_host *out)
{
	struct db_stmt *s = store_prep(st, "SELECT " HOST_COLS " FROM hosts WHERE mac = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	rc = db_step(s);
	if (rc == 1)
		row_host(s, out);
	db_finalize(s);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : -EIO;
}

int
store_host_by_name(struct store *st, const char *name, char mac[STORE_MAC_TEXT])
{
	struct db_stmt *s = store_prep(st, "SELECT mac FROM hosts WHERE name = ?1 AND name != ''"
	    " ORDER BY mac LIMIT 1");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, name);
	rc = db_step(s);
	if (rc == 1)
		db_col_str(s, 0, mac, STORE_MAC_TEXT);
	db_finalize(s);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : -EIO;
}

/* Up to max hosts from a prepared SELECT of HOST_COLS (bound, LIMIT
 * included); finalizes it.  The count, or -EIO (rows read are freed). */
static int
host_rows(struct db_stmt *s, struct store_host *out, size_t max)
{
	size_t n = 0;
	int rc = 0;

	if (s == NULL)
		return -EIO;
	while (n < max && (rc = db_step(s)) == 1)
		row_host(s, &out[n++]);
	db_finalize(s);
	if (rc == 1 || rc == 0)
		return (int)n;
	while (n > 0)
		store_host_free(&out[--n]);
	return -EIO;
}

#define HOST_MATCH " (?3 = '' OR {instr}(mac, lower(?3)) > 0 OR" \
	" {instr}(lower(name), lower(?3)) > 0)"

int
store_host_list(struct store *st, const char *after, const char *q, struct store_host *out,
    size_t max)
{
	struct db_stmt *s = store_prep(st, "SELECT " HOST_COLS " FROM hosts WHERE mac > ?2 AND"
	    HOST_MATCH " ORDER BY mac LIMIT ?1");

	if (s != NULL) {
		db_bind_int64(s, 1, (int64_t)max);
		db_bind_text(s, 2, after);
		db_bind_text(s, 3, q);
	}
	return host_rows(s, out, max);
}

int64_t
store_host_count(struct store *st, const char *q)
{
	struct db_stmt *s = store_prep(st, "SELECT count(*) FROM hosts WHERE" HOST_MATCH);

	if (s != NULL) {
		db_bind_int64(s, 1, 0);         /* the list's, unused here */
		db_bind_text(s, 2, "");
		db_bind_text(s, 3, q != NULL ? q : "");
	}
	return db_one_int64(s);
}

int
store_host_remove(struct store *st, const char *mac)
{
	struct db_stmt *s = store_prep(st, "DELETE FROM hosts WHERE mac = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	rc = db_run(s);
	return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}

int
store_host_set_inventory(struct store *st, const char *mac, const char *json)
{
	int rc = run_text2(st, "UPDATE hosts SET inventory = ?2 WHERE mac = ?1", mac, json);

	return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}

/* ---- host groups ---- */

static bool
group_char_valid(unsigned char ch, bool first)
{
	bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');

	return alnum || (!first && (ch == '.' || ch == '_' || ch == '-'));
}

bool
group_name_valid(const char *name)
{
	size_t n = strnlen(name, STORE_GROUP_NAME);

	if (n == 0 || n == STORE_GROUP_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!group_char_valid((unsigned char)name[i], i == 0))
			return false;
	return true;
}

int
store_group_add(struct store *st, const char *group, const char *mac)
{
	int rc;

	if (!group_name_valid(group))
		return -EINVAL;
	rc = run_text2(st, "INSERT INTO host_groups (name, mac) VALUES (?1, ?2)"
	    " ON CONFLICT (name, mac) DO NOTHING", group, mac);
	/* the only constraint left to fail is the host's foreign key */
	return rc == -EEXIST ? -ENOENT : rc;
}

int
store_group_has(struct store *st, const char *group, const char *mac)
{
	struct db_stmt *s = store_prep(st, "SELECT 1 FROM host_groups WHERE name = ?1 AND mac = ?2");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, group);
	db_bind_text(s, 2, mac);
	rc = db_step(s);
	db_finalize(s);
	return rc == 1 ? 1 : rc == 0 ? 0 : -EIO;
}

int
store_group_remove(struct store *st, const char *group, const char *mac)
{
	int rc = run_text2(st, "DELETE FROM host_groups WHERE name = ?1 AND mac = ?2",
	    group, mac);

	return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}

int
store_group_delete(struct store *st, const char *group)
{
	struct db_stmt *s = store_prep(st, "DELETE FROM host_groups WHERE name = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, group);
	rc = db_run(s);
	return rc == 0 ? -ENOENT : rc;
}

/* Up to max groups from a prepared SELECT of name and member count (bound,
 * LIMIT included); finalizes it.  The count or -EIO. */
static int
group_rows(struct db_stmt *s, struct store_group *out, size_t max)
{
	size_t n = 0;
	int rc = 0;

	if (s == NULL)
		return -EIO;
	while (n < max && (rc = db_step(s)) == 1) {
		db_col_str(s, 0, out[n].name, sizeof out[n].name);
		out[n++].members = (unsigned)db_col_int64(s, 1);
	}
	db_finalize(s);
	return rc == 1 || rc == 0 ? (int)n : -EIO;
}

int
store_group_list(struct store *st, struct store_group *out, size_t max)
{
	struct db_stmt *s = store_prep(st, "SELECT name, count(*) FROM host_groups"
	    " GROUP BY name ORDER BY name LIMIT ?1");

	if (s != NULL)
		db_bind_int64(s, 1, (int64_t)max);
	return group_rows(s, out, max);
}

int
store_group_members(struct store *st, const char *group, struct store_host *out, size_t max)
{
	struct db_stmt *s = store_prep(st, "SELECT " HOST_COLS " FROM hosts WHERE mac IN"
	    " (SELECT mac FROM host_groups WHERE name = ?1) ORDER BY mac LIMIT ?2");

	if (s != NULL) {
		db_bind_text(s, 1, group);
		db_bind_int64(s, 2, (int64_t)max);
	}
	return host_rows(s, out, max);
}

int
store_host_groups(struct store *st, const char *mac, struct store_group *out, size_t max)
{
	struct db_stmt *s = store_prep(st, "SELECT g.name, (SELECT count(*) FROM host_groups"
	    " WHERE name = g.name) FROM host_groups g WHERE g.mac = ?1 ORDER BY g.name"
	    " LIMIT ?2");

	if (s != NULL) {
		db_bind_text(s, 1, mac);
		db_bind_int64(s, 2, (int64_t)max);
	}
	return group_rows(s, out, max);
}

/* ---- tasks ---- */

#define TASK_COLS "id, mac, type, image, state, verify, created, started, finished," \
	" phase, bytes, total, rate, resume_offset, message, log_tail, mcast, replace_image," \
	" after_action, options, files, params, token_addr"

static void
row_task(struct db_stmt *s, struct store_task *t)
{
	char text[32];
	int type;

	memset(t, 0, sizeof *t);
	t->id = db_col_int64(s, 0);
	db_col_str(s, 1, t->mac, sizeof t->mac);
	db_col_str(s, 2, text, sizeof text);
	type = task_type_parse(text);
	t->type = type < 0 ? TASK_SHELL : (enum task_type)type;
	db_col_str(s, 3, t->image, sizeof t->image);
	db_col_str(s, 4, text, sizeof text);
	t->state = (enum task_state)task_state_parse(text);
	t->verify = db_col_int64(s, 5) != 0;
	t->created = db_col_int64(s, 6);
	t->started = db_col_int64(s, 7);
	t->finished = db_col_int64(s, 8);
	db_col_str(s, 9, t->phase, sizeof t->phase);
	t->bytes = (uint64_t)db_col_int64(s, 10);
	t->total = (uint64_t)db_col_int64(s, 11);
	t->rate = (uint64_t)db_col_int64(s, 12);
	t->resume_offset = (uint64_t)db_col_int64(s, 13);
	db_col_str(s, 14, t->message, sizeof t->message);
	db_col_str(s, 15, t->log_tail, sizeof t->log_tail);
	db_col_str(s, 16, t->mcast, sizeof t->mcast);
	t->replace = db_col_int64(s, 17) != 0;
	db_col_str(s, 18, text, sizeof text);
	type = task_after_parse(text);
	t->after = type < 0 ? TASK_AFTER_REBOOT : (enum task_after)type;
	db_col_str(s, 19, t->options, sizeof t->options);
	t->files = (uint64_t)db_col_int64(s, 20);
	db_col_str(s, 21, t->params, sizeof t->params);
	db_col_str(s, 22, t->token_addr, sizeof t->token_addr);
}

static int
task_one(struct store *st, struct db_stmt *s, struct store_task *out)
{
	int rc;

	if (s == NULL)
		return -EIO;
	rc = db_step(s);
	if (rc == 1)
		row_task(s, out);
	db_finalize(s);
	(void)st;
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : -EIO;
}

#define ACTIVE "state IN ('pending', 'booting', 'running')"

int64_t
store_task_add(struct store *st, const char *mac, const struct store_task_spec *spec,
    int64_t now)
{
	struct store_task cur;
	struct store_host h;
	struct db_stmt *s;

	if (store_host_get(st, mac, &h) < 0)
		return -ENOENT;
	store_host_free(&h);
	if (store_task_active(st, mac, &cur) == 0)
		return -EBUSY;
	s = store_prep(st, "INSERT INTO tasks (mac, type, image, state, verify, created, mcast,"
	    " replace_image, after_action, options, params)"
	    " VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id");
	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	db_bind_text(s, 2, task_type_name(spec->type));
	db_bind_text(s, 3, spec->image);
	db_bind_int64(s, 4, spec->verify);
	db_bind_int64(s, 5, now);
	db_bind_text(s, 6, spec->mcast);
	db_bind_int64(s, 7, spec->replace);
	db_bind_text(s, 8, task_after_name(spec->after));
	db_bind_text(s, 9, spec->options != NULL && spec->options[0] != '\0' ? spec->options : "{}");
	db_bind_text(s, 10, spec->params);
	return db_one_int64(s);
}

int
store_task_get(struct store *st, int64_t id, struct store_task *out)
{
	struct db_stmt *s = store_prep(st, "SELECT " TASK_COLS " FROM tasks WHERE id = ?1");

	if (s != NULL)
		db_bind_int64(s, 1, id);
	return task_one(st, s, out);
}

int
store_task_active(struct store *st, const char *mac, struct store_task *out)
{
	struct db_stmt *s = store_prep(st, "SELECT " TASK_COLS " FROM tasks WHERE mac = ?1"
	    " AND " ACTIVE " ORDER BY id DESC LIMIT 1");

	if (s != NULL)
		db_bind_text(s, 1, mac);
	return task_one(st, s, out);
}

int
store_task_by_token(struct store *st, const uint8_t hash[32], struct store_task *out)
{
	struct db_stmt *s = store_prep(st, "SELECT " TASK_COLS " FROM tasks WHERE token_hash = ?1");

	if (s != NULL)
		db_bind_blob(s, 1, hash, 32);
	return task_one(st, s, out);
}

#define TASK_MATCH " (?3 = '' OR mac = ?3) AND (?4 = '' OR state = ?4 OR" \
	" (?4 = 'active' AND " ACTIVE ")) AND" \
	" (?5 = '' OR type = ?5) AND (?6 = '' OR image = ?6)"

static void
bind_task_filter(struct db_stmt *s, const struct store_task_filter *f)
{
	static const struct store_task_filter all = { "", "", "", "" };

	if (f == NULL)
		f = &all;
	db_bind_text(s, 3, f->mac != NULL ? f->mac : "");
	db_bind_text(s, 4, f->state != NULL ? f->state : "");
	db_bind_text(s, 5, f->type != NULL ? f->type : "");
	db_bind_text(s, 6, f->image != NULL ? f->image : "");
}

int
store_task_list(struct store *st, int64_t before, const struct store_task_filter *f,
    struct store_task *out, size_t max)
{
	struct db_stmt *s = store_prep(st, "SELECT " TASK_COLS " FROM tasks WHERE id < ?2 AND"
	    TASK_MATCH " ORDER BY id DESC LIMIT ?1");
	size_t n = 0;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, (int64_t)max);
	db_bind_int64(s, 2, before > 0 ? before : INT64_MAX);
	bind_task_filter(s, f);
	while (n < max && db_step(s) == 1)
		row_task(s, &out[n++]);
	db_finalize(s);
	return (int)n;
}

int64_t
store_task_count(struct store *st, const struct store_task_filter *f)
{
	struct db_stmt *s = store_prep(st, "SELECT count(*) FROM tasks WHERE" TASK_MATCH);

	if (s != NULL) {
		db_bind_int64(s, 1, 0);         /* the list's, unused here */
		db_bind_int64(s, 2, 0);
		bind_task_filter(s, f);
	}
	return db_one_int64(s);
}

/* The token already issued for an active task: 0, -ENOENT (none yet),
 * -ESRCH (not active). */
static int
task_token_get(struct store *st, int64_t id, struct store_token *out)
{
	struct db_stmt *s = store_prep(st, "SELECT token_salt, token_hash FROM tasks"
	    " WHERE id = ?1 AND " ACTIVE);
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, id);
	rc = db_step(s);
	if (rc == 1) {
		rc = db_col_blob(s, 0, out->salt, STORE_TOKEN_LEN) == STORE_TOKEN_LEN &&
		    db_col_blob(s, 1, out->hash, STORE_TOKEN_LEN) == STORE_TOKEN_LEN ? 0 : -ENOENT;
	} else {
		rc = rc == 0 ? -ESRCH : -EIO;
	}
	db_finalize(s);
	return rc;
}

int
store_task_boot(struct store *st, int64_t id, const struct store_token *fresh,
    struct store_token *out)
{
	struct db_stmt *s = store_prep(st, "UPDATE tasks SET token_salt = ?2, token_hash = ?3,"
	    " state = CASE WHEN state = 'running' THEN 'running' ELSE 'booting' END"
	    " WHERE id = ?1 AND " ACTIVE " AND token_salt IS NULL");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, id);
	db_bind_blob(s, 2, fresh->salt, STORE_TOKEN_LEN);
	db_bind_blob(s, 3, fresh->hash, STORE_TOKEN_LEN);
	rc = db_run(s);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		*out = *fresh;
		return 1;
	}
	/* issued before (or by a concurrent fetch a moment ago) */
	rc = task_token_get(st, id, out);
	return rc == -ENOENT ? -EIO : rc;
}

int
store_task_bind(struct store *st, int64_t id, const char *addr, char bound[STORE_ADDR_TEXT])
{
	struct db_stmt *s = store_prep(st, "UPDATE tasks SET token_addr = ?2"
	    " WHERE id = ?1 AND " ACTIVE " AND token_addr = ''");
	struct store_task t;
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, addr);
	rc = db_run(s);
	if (rc < 0)
		return rc;
	rc = store_task_get(st, id, &t);
	if (rc < 0)
		return rc == -ENOENT ? -ESRCH : rc;
	if (!task_state_active(t.state))
		return -ESRCH;
	str_copy(bound, t.token_addr, STORE_ADDR_TEXT);
	return strcmp(t.token_addr, addr) == 0 ? 0 : -EPERM;
}

int
store_task_start(struct store *st, int64_t id, int64_t now)
{
	struct db_stmt *s = store_prep(st, "UPDATE tasks SET state = 'running',"
	    " started = CASE WHEN started = 0 THEN ?2 ELSE started END"
	    " WHERE id = ?1 AND state IN ('booting', 'running')");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, id);
	db_bind_int64(s, 2, now);
	rc = db_run(s);
	return rc < 0 ? rc : rc == 0 ? -ESRCH : 0;
}

int
store_task_progress(struct store *st, int64_t id, const char *phase, uint64_t bytes,
    uint64_t total, uint64_t rate, uint64_t resume_offset)
{
	return store_task_progress_files(st, id, phase, bytes, total, rate, resume_offset, 0);
}

int
store_task_progress_files(struct store *st, int64_t id, const char *phase, uint64_t bytes,
    uint64_t total, uint64_t rate, uint64_t resume_offset, uint64_t files)
{
	struct db_stmt *s = store_prep(st, "UPDATE tasks SET phase = ?2, bytes = ?3, total = ?4,"
	    " rate = ?5, resume_offset = {greatest}(resume_offset, ?6), files = ?7"
	    " WHERE id = ?1 AND state = 'running'");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, phase);
	db_bind_int64(s, 3, (int64_t)bytes);
	db_bind_int64(s, 4, (int64_t)total);
	db_bind_int64(s, 5, (int64_t)rate);
	db_bind_int64(s, 6, (int64_t)resume_offset);
	db_bind_int64(s, 7, (int64_t)files);
	rc = db_run(s);
	return rc < 0 ? rc : rc == 0 ? -ESRCH : 0;
}

int
store_task_finish(struct store *st, int64_t id, enum task_state state, const char *message,
    const char *log_tail, int64_t now)
{
	/* the token hash stays: the agent's next request learns why it ended */
	struct db_stmt *s = store_prep(st, state == TASK_CANCELLED ?
	    "UPDATE tasks SET state = ?2, message = ?3, log_tail = ?4, finished = ?5"
	    " WHERE id = ?1 AND " ACTIVE :
	    "UPDATE tasks SET state = ?2, message = ?3, log_tail = ?4, finished = ?5"
	    " WHERE id = ?1 AND state IN ('booting', 'running')");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, task_state_name(state));
	db_bind_text(s, 3, message);
	db_bind_text(s, 4, log_tail);
	db_bind_int64(s, 5, now);
	rc = db_run(s);
	return rc < 0 ? rc : rc == 0 ? -ESRCH : 0;
}

int
store_task_served(struct store *st, int64_t id, const char *message, int64_t now)
{
	struct db_stmt *s = store_prep(st, "UPDATE tasks SET state = 'done', message = ?2,"
	    " started = ?3, finished = ?3 WHERE id = ?1 AND state = 'pending'");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, message);
	db_bind_int64(s, 3, now);
	rc = db_run(s);
	return rc < 0 ? rc : rc == 0 ? -ESRCH : 0;
}

/* ---- what a task's agent reported; a host's name for deploys ---- */

int
store_task_set_report(struct store *st, int64_t id, const char *json)
{
	struct db_stmt *s = store_prep(st, "UPDATE tasks SET report = ?2 WHERE id = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, id);
	db_bind_text(s, 2, json);
	rc = db_run(s);
	return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}

int
store_task_report(struct store *st, int64_t id, char **out)
{
	struct db_stmt *s = store_prep(st, "SELECT report FROM tasks WHERE id = ?1");
	const char *text;
	int rc;

	*out = NULL;
	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, id);
	rc = db_step(s);
	if (rc == 1 && (text = db_col_text(s, 0)) != NULL &&
	    (*out = strdup(text)) == NULL)
		rc = -ENOMEM;
	db_finalize(s);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc == -ENOMEM ? -ENOMEM : -EIO;
}

int
store_host_set_hostname(struct store *st, const char *mac, const char *hostname)
{
	struct db_stmt *s = store_prep(st, "UPDATE hosts SET hostname = ?2 WHERE mac = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, mac);
	db_bind_text(s, 2, hostname);
	rc = db_run(s);
	return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}
