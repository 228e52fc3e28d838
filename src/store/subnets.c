/* Subnet changes in the store's database.  See subnets.h. */
#include "store/subnets.h"
#include "store/internal.h"

#include <errno.h>
#include <string.h>

int
store_subnet_set(struct store *st, const char *cidr, const char *mode, int64_t changed_ms)
{
	struct db_stmt *s = db_prepare(store_db(st), "INSERT INTO subnets (cidr, mode, changed)"
	    " VALUES (?1, ?2, ?3) ON CONFLICT (cidr) DO UPDATE SET mode = excluded.mode,"
	    " changed = excluded.changed", false);

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, cidr);
	db_bind_text(s, 2, mode);
	db_bind_int64(s, 3, changed_ms);
	return db_run(s) < 0 ? -EIO : 0;
}

int
store_subnet_list(struct store *st, struct store_subnet *out, size_t max)
{
	struct db_stmt *s = db_prepare(store_db(st), "SELECT cidr, mode, changed FROM subnets"
	    " ORDER BY changed, cidr LIMIT ?1", false);
	size_t n = 0;
	int rc = 0;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, (int64_t)max);
	while (n < max && (rc = db_step(s)) == 1) {
		memset(&out[n], 0, sizeof out[n]);
		db_col_str(s, 0, out[n].cidr, sizeof out[n].cidr);
		db_col_str(s, 1, out[n].mode, sizeof out[n].mode);
		out[n].changed_ms = db_col_int64(s, 2);
		n++;
	}
	db_finalize(s);
	return rc == 1 || rc == 0 ? (int)n : -EIO;
}

int
store_subnet_delete(struct store *st, const char *cidr)
{
	struct db_stmt *s = db_prepare(store_db(st), "DELETE FROM subnets WHERE cidr = ?1", false);
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, cidr);
	rc = db_run(s);
	return rc < 0 ? -EIO : rc == 0 ? -ENOENT : 0;
}

int
store_subnet_get(struct store *st, const char *cidr, struct store_subnet *out)
{
	struct db_stmt *s = db_prepare(store_db(st), "SELECT cidr, mode, changed FROM subnets"
	    " WHERE cidr = ?1", false);
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, cidr);
	rc = db_step(s);
	if (rc == 1) {
		memset(out, 0, sizeof *out);
		db_col_str(s, 0, out->cidr, sizeof out->cidr);
		db_col_str(s, 1, out->mode, sizeof out->mode);
		out->changed_ms = db_col_int64(s, 2);
	}
	db_finalize(s);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : -EIO;
}
