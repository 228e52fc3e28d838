/* The image catalogue in the store's database.  See images.h. */
#include "store/images.h"
#include "store/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_COLS "name, created, disk_size, used, stored, chunks, partitions," \
	" table_kind, task, manifest_mtime_ns, manifest_size"

static void
row_image(struct db_stmt *s, struct store_image *im)
{
	memset(im, 0, sizeof *im);
	db_col_str(s, 0, im->name, sizeof im->name);
	im->created = db_col_int64(s, 1);
	im->disk_size = (uint64_t)db_col_int64(s, 2);
	im->used = (uint64_t)db_col_int64(s, 3);
	im->stored = (uint64_t)db_col_int64(s, 4);
	im->chunks = (uint64_t)db_col_int64(s, 5);
	im->partitions = (uint64_t)db_col_int64(s, 6);
	db_col_str(s, 7, im->table, sizeof im->table);
	im->task = db_col_int64(s, 8);
	im->stamp.mtime_ns = db_col_int64(s, 9);
	im->stamp.size = (uint64_t)db_col_int64(s, 10);
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
	struct db_stmt *s = db_prepare(store_db(st), "INSERT INTO images (" IMAGE_COLS
	    ", partition_list) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
	    " ON CONFLICT (name) DO UPDATE SET created = excluded.created,"
	    " disk_size = excluded.disk_size, used = excluded.used, stored = excluded.stored,"
	    " chunks = excluded.chunks, partitions = excluded.partitions,"
	    " table_kind = excluded.table_kind, task = excluded.task,"
	    " manifest_mtime_ns = excluded.manifest_mtime_ns,"
	    " manifest_size = excluded.manifest_size, partition_list = excluded.partition_list", false);
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, im->name);
	db_bind_int64(s, 2, im->created);
	db_bind_int64(s, 3, (int64_t)im->disk_size);
	db_bind_int64(s, 4, (int64_t)im->used);
	db_bind_int64(s, 5, (int64_t)im->stored);
	db_bind_int64(s, 6, (int64_t)im->chunks);
	db_bind_int64(s, 7, (int64_t)im->partitions);
	db_bind_text(s, 8, im->table);
	db_bind_int64(s, 9, im->task);
	db_bind_int64(s, 10, im->stamp.mtime_ns);
	db_bind_int64(s, 11, (int64_t)im->stamp.size);
	db_bind_text(s, 12, im->partition_list != NULL ? im->partition_list : "[]");
	rc = db_run(s);
	return rc < 0 ? -EIO : 0;
}

int
store_image_get(struct store *st, const char *name, struct store_image *out)
{
	struct db_stmt *s = db_prepare(store_db(st), "SELECT " IMAGE_COLS ", partition_list"
	    " FROM images WHERE name = ?1", false);
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, name);
	rc = db_step(s);
	if (rc == 1) {
		const char *parts = db_col_text(s, 11);
		row_image(s, out);
		out->partition_list = strdup(parts != NULL ? parts : "[]");
		if (out->partition_list == NULL)
			rc = -ENOMEM;
	}
	db_finalize(s);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc == -ENOMEM ?
	    -ENOMEM : -EIO;
}

int
store_image_list(struct store *st, const char *after, struct store_image *out, size_t max)
{
	struct db_stmt *s = db_prepare(store_db(st), "SELECT " IMAGE_COLS " FROM images"
	    " WHERE name > ?2 ORDER BY name LIMIT ?1", false);
	size_t n = 0;
	int rc = 0;

	if (s == NULL)
		return -EIO;
	db_bind_int64(s, 1, (int64_t)max);
	db_bind_text(s, 2, after);
	while (n < max && (rc = db_step(s)) == 1)
		row_image(s, &out[n++]);
	db_finalize(s);
	return rc == 1 || rc == 0 ? (int)n : -EIO;
}

int
store_image_remove(struct store *st, const char *name)
{
	struct db_stmt *s = db_prepare(store_db(st), "DELETE FROM images WHERE name = ?1", false);
	int rc;

	if (s == NULL)
		return -EIO;
	db_bind_text(s, 1, name);
	rc = db_run(s);
	return rc < 0 ? rc : rc == 0 ? -ENOENT : 0;
}

int
store_captures_active(struct store *st)
{
	struct db_stmt *s = db_prepare(store_db(st), "SELECT count(*) FROM tasks WHERE"
	    " type = 'capture' AND state IN ('pending', 'booting', 'running')", false);
	int rc, n = 0;

	if (s == NULL)
		return -EIO;
	rc = db_step(s);
	if (rc == 1)
		n = db_col_int64(s, 0);
	db_finalize(s);
	return rc == 1 ? n : -EIO;
}
