/* The image catalogue in SQLite.  See images.h. */
#include "store/images.h"
#include "store/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_COLS "name, created, disk_size, used, stored, chunks, partitions," \
	" table_kind, task, manifest_mtime_ns, manifest_size"

static void
row_image(sqlite3_stmt *s, struct store_image *im)
{
	memset(im, 0, sizeof *im);
	store_col_text(s, 0, im->name, sizeof im->name);
	im->created = sqlite3_column_int64(s, 1);
	im->disk_size = (uint64_t)sqlite3_column_int64(s, 2);
	im->used = (uint64_t)sqlite3_column_int64(s, 3);
	im->stored = (uint64_t)sqlite3_column_int64(s, 4);
	im->chunks = (uint64_t)sqlite3_column_int64(s, 5);
	im->partitions = (uint64_t)sqlite3_column_int64(s, 6);
	store_col_text(s, 7, im->table, sizeof im->table);
	im->task = sqlite3_column_int64(s, 8);
	im->stamp.mtime_ns = sqlite3_column_int64(s, 9);
	im->stamp.size = (uint64_t)sqlite3_column_int64(s, 10);
}

void
store_image_free(struct store_image *im)
{
	free(im->partition_list);
	im->partition_list = NULL;
}

int
store_image_put(struct store *st, const struct store_image *im)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "INSERT OR REPLACE INTO images (" IMAGE_COLS
	    ", partition_list) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
	int rc;

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, im->name);
	sqlite3_bind_int64(s, 2, im->created);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)im->disk_size);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)im->used);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)im->stored);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)im->chunks);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)im->partitions);
	store_bind_text(s, 8, im->table);
	sqlite3_bind_int64(s, 9, im->task);
	sqlite3_bind_int64(s, 10, im->stamp.mtime_ns);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)im->stamp.size);
	store_bind_text(s, 12, im->partition_list != NULL ? im->partition_list : "[]");
	rc = store_stmt_run(st, s);
	return rc < 0 ? -EIO : 0;
}

int
store_image_get(struct store *st, const char *name, struct store_image *out)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT " IMAGE_COLS ", partition_list"
	    " FROM images WHERE name = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *parts = sqlite3_column_text(s, 11);
		row_image(s, out);
		out->partition_list = strdup(parts != NULL ? (const char *)parts : "[]");
		if (out->partition_list == NULL)
			rc = SQLITE_NOMEM;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : rc == SQLITE_NOMEM ?
	    -ENOMEM : -EIO;
}

int
store_image_list(struct store *st, const char *after, struct store_image *out, size_t max)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT " IMAGE_COLS " FROM images"
	    " WHERE name > ?2 ORDER BY name LIMIT ?1");
	size_t n = 0;
	int rc = SQLITE_DONE;

	if (s == NULL)
		return -EIO;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
	store_bind_text(s, 2, after);
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		row_image(s, &out[n++]);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? (int)n : -EIO;
}

int
store_image_remove(struct store *st, const char *name)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "DELETE FROM images WHERE name = ?1");
	int rc;

	if (s == NULL)
		return -EIO;
	store_bind_text(s, 1, name);
	rc = store_stmt_run(st, s);
	return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}

int
store_captures_active(struct store *st)
{
	sqlite3_stmt *s = store_stmt_prepare(st, "SELECT count(*) FROM tasks WHERE"
	    " type = 'capture' AND state IN ('pending', 'booting', 'running')");
	int rc, n = 0;

	if (s == NULL)
		return -EIO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? n : -EIO;
}
