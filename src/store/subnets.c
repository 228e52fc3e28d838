/* Subnet changes in SQLite.  See subnets.h. */
#include "store/subnets.h"
#include "store/internal.h"

#include <errno.h>
#include <string.h>

int
store_subnet_set(struct store *st, const char *cidr, const char *mode, int64_t changed_ms)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "INSERT OR REPLACE INTO subnets (cidr, mode,"
	    " changed) VALUES (?1, ?2, ?3)");

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, cidr);
	store_bind_text(s, 2, mode);
	sqlite3_bind_int64(s, 3, changed_ms);
	return store_stmt_run(st, s) < 0 ? -EIO : 0;
}

int
store_subnet_list(struct store *st, struct store_subnet *out, size_t max)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT cidr, mode, changed FROM subnets"
	    " ORDER BY changed, cidr LIMIT ?1");
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&out[n], 0, sizeof out[n]);
		store_col_text(s, 0, out[n].cidr, sizeof out[n].cidr);
		store_col_text(s, 1, out[n].mode, sizeof out[n].mode);
		out[n].changed_ms = sqlite3_column_int64(s, 2);
		n++;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? (int)n : -EIO;
}

int
store_subnet_delete(struct store *st, const char *cidr)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "DELETE FROM subnets WHERE cidr = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, cidr);
	rc = store_stmt_run(st, s);
	return rc < 0 ? -EIO : rc == 0 ? -ENOENT : 0;
}

int
store_subnet_get(struct store *st, const char *cidr, struct store_subnet *out)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT cidr, mode, changed FROM subnets"
	    " WHERE cidr = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, cidr);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		store_col_text(s, 0, out->cidr, sizeof out->cidr);
		store_col_text(s, 1, out->mode, sizeof out->mode);
		out->changed_ms = sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}
