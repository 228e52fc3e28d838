/* Servers sharing one database: heartbeats and the leases of the others
 * (store/servers.h). */
#include "store/servers.h"
#include "store/internal.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

int64_t
store_now_ms(struct store *st)
{
	int64_t v = db_one_int64(store_prep(st, "SELECT {now_ms}"));

	return v < 0 ? 0 : v;
}

int
store_server_beat(struct store *st, const char *name, const char *running,
    const char *subnets)
{
	struct db_stmt *s = store_prep(st, "INSERT INTO servers (name, heartbeat, started,"
	    " running, subnets) VALUES (?1, {now_ms}, {now_ms}, ?2, ?3) ON CONFLICT (name)"
	    " DO UPDATE SET heartbeat = excluded.heartbeat, running = excluded.running,"
	    " subnets = excluded.subnets");

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, name);
	db_bind_text(s, 2, running != NULL ? running : "");
	db_bind_text(s, 3, subnets != NULL ? subnets : "");
	return db_run(s) < 0 ? -EIO : 0;
}

int
store_servers_running(struct store *st, int64_t within_ms, const char *self,
    void (*fn)(const char *name, const char *running, void *arg), void *arg)
{
	struct db_stmt *s = store_prep(st, "SELECT name, running FROM servers"
	    " WHERE heartbeat > {now_ms} - ?1 AND name <> ?2 AND running <> ''"
	    " ORDER BY name LIMIT ?3");
	char name[STORE_SERVER_NAME_MAX];
	size_t n = 0;
	int rc = 0;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, within_ms);
	db_bind_text(s, 2, self);
	db_bind_int64(s, 3, STORE_SERVERS_RUNNING_MAX);
	while (n < STORE_SERVERS_RUNNING_MAX && (rc = db_step(s)) == 1) {
		n++;
		db_col_str(s, 0, name, sizeof name);
		const char *running = db_col_text(s, 1);
		fn(name, running != NULL ? running : "", arg);
	}
	db_finalize(s);
	return rc < 0 ? -EIO : (int)n;
}

int
store_servers_live(struct store *st, int64_t within_ms,
    char (*names)[STORE_SERVER_NAME_MAX], char (*subnets)[STORE_SERVER_SUBNETS_MAX],
    size_t max)
{
	struct db_stmt *s = store_prep(st, "SELECT name, subnets FROM servers"
	    " WHERE heartbeat > {now_ms} - ?1 ORDER BY name LIMIT ?2");
	size_t n = 0;
	int rc = 0;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, within_ms);
	db_bind_int64(s, 2, (int64_t)max);
	while (n < max && (rc = db_step(s)) == 1) {
		if (subnets != NULL)
			db_col_str(s, 1, subnets[n], STORE_SERVER_SUBNETS_MAX);
		db_col_str(s, 0, names[n++], STORE_SERVER_NAME_MAX);
	}
	db_finalize(s);
	return rc < 0 ? -EIO : (int)n;
}

int
store_lease_changes(struct store *st, const char *self, int64_t after, size_t max,
    void (*fn)(const struct store_lease *l, void *arg), void *arg, int64_t *last)
{
	struct db_stmt *s = store_prep(st, "SELECT address, mac, client_id, state, starts,"
	    " expires, hostname, updated FROM leases WHERE updated > ?1 AND server <> ?2"
	    " ORDER BY updated LIMIT ?3");
	struct store_lease l;
	size_t n = 0;
	int rc = 0;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, after);
	db_bind_text(s, 2, self);
	db_bind_int64(s, 3, (int64_t)max);
	while (n < max && (rc = db_step(s)) == 1) {
		n++;
		*last = db_col_int64(s, 7);
		if (store_row_lease(s, &l) == 0)
			fn(&l, arg);
	}
	db_finalize(s);
	return rc < 0 ? -EIO : (int)n;
}
