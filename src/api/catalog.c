/* The image catalogue: store rows made from the repository's manifests.
 * See catalog.h. */
#include "api/catalog.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/log.h"
#include "core/util.h"

#define RECONCILE_PAGE 64       /* rows read at once when looking for stale ones */
#define RECONCILE_PAGES 16384   /* bounds the walk: 1 Mi rows */

/* The partition list of a manifest as the API shows it, as JSON text
 * (malloc'd), or NULL when out of memory. */
static char *
partitions_text(const struct manifest *m)
{
	json_t *parts = json_array();
	char *text;

	for (size_t i = 0; parts != NULL && i < m->nparts; i++) {
		const struct image_part *p = &m->part[i];
		json_array_append_new(parts, json_pack("{s:I,s:I,s:I,s:I,s:s}",
		    "index", (json_int_t)p->index, "offset", (json_int_t)p->offset,
		    "length", (json_int_t)p->length, "used", (json_int_t)p->used,
		    "fs", image_fs_name(p->fs)));
	}
	text = parts != NULL ? json_text(parts, JSON_COMPACT, NULL) : NULL;
	json_decref(parts);
	return text;
}

int
catalog_row_make(const struct image_repo *r, const char *name, int64_t task,
    struct store_image *out)
{
	struct image_info info;
	struct manifest m;
	char err[256];
	int rc;

	memset(out, 0, sizeof *out);
	/* the stamp first: a manifest replaced meanwhile looks changed later */
	rc = repo_manifest_stamp(r, name, &out->stamp.mtime_ns, &out->stamp.size);
	if (rc == 0)
		rc = repo_scan(r, name, &m, &info, err, sizeof err);
	if (rc < 0)
		return rc;
	str_copy(out->name, name, sizeof out->name);
	out->created = info.created;
	out->disk_size = info.disk_size;
	out->used = info.used;
	out->stored = info.stored;
	out->chunks = info.nchunks;
	out->partitions = info.nparts;
	str_copy(out->table, ptable_kind_name(m.table), sizeof out->table);
	out->task = task;
	out->partition_list = partitions_text(&m);
	return out->partition_list != NULL ? 0 : -ENOMEM;
}

int
catalog_record(const struct image_repo *r, struct store *st, const char *name, int64_t task)
{
	struct store_image im;
	int rc = catalog_row_make(r, name, task, &im);

	if (rc == 0)
		rc = store_image_put(st, &im);
	store_image_free(&im);
	return rc;
}

static bool
stamp_equal(const struct store_image_stamp *a, const struct store_image_stamp *b)
{
	return a->mtime_ns == b->mtime_ns && a->size == b->size;
}

/* A manifest that cannot be read or parsed: no row for it. */
static void
reconcile_unreadable(struct store *st, const char *name, bool had_row, int err,
    struct catalog_report *out)
{
	log_warn("images: the manifest of %s cannot be read (%s): not in the catalogue",
	    name, strerror(-err));
	if (had_row && store_image_remove(st, name) == 0)
		out->removed++;
}

/* One published manifest: its row kept, added, or made again. */
static void
reconcile_manifest(const struct image_repo *r, struct store *st, const char *name,
    struct catalog_report *out)
{
	struct store_image row = { 0 };
	struct store_image_stamp now;
	int had = store_image_get(st, name, &row), rc;

	store_image_free(&row);
	if (had < 0 && had != -ENOENT) {
		out->failed++;
		return;
	}
	rc = repo_manifest_stamp(r, name, &now.mtime_ns, &now.size);
	if (had == 0 && rc == 0 && stamp_equal(&now, &row.stamp)) {
		out->kept++;
		return;
	}
	/* a changed manifest: which capture made it is not known */
	rc = rc < 0 ? rc : catalog_record(r, st, name, 0);
	if (rc == -ENOENT || rc == -EINVAL) {
		reconcile_unreadable(st, name, had == 0, rc, out);
	} else if (rc < 0) {
		log_error("images: %s: cannot write its catalogue row: %s", name, strerror(-rc));
		out->failed++;
	} else if (had == 0) {
		log_info("images: %s: its manifest changed since its row was written: row made"
		    " again", name);
		out->updated++;
	} else {
		log_info("images: %s: a published manifest without a catalogue row: row added",
		    name);
		out->added++;
	}
}

/* Rows (from after, at most RECONCILE_PAGE) whose manifest is gone are
 * removed.  The number of rows read, or a negative errno; *last gets the
 * last name read. */
static int
reconcile_rows_page(const struct image_repo *r, struct store *st, const char *after,
    char last[STORE_IMAGE_NAME], struct catalog_report *out)
{
	struct store_image rows[RECONCILE_PAGE];
	int64_t mtime;
	uint64_t size;
	int n = store_image_list(st, after, rows, RECONCILE_PAGE);

	for (int i = 0; i < n; i++) {
		if (repo_manifest_stamp(r, rows[i].name, &mtime, &size) != -ENOENT)
			continue;
		if (store_image_remove(st, rows[i].name) < 0) {
			out->failed++;
			continue;
		}
		log_info("images: %s: its manifest is gone: catalogue row removed",
		    rows[i].name);
		out->removed++;
	}
	if (n > 0)
		str_copy(last, rows[n - 1].name, STORE_IMAGE_NAME);
	return n;
}

int
catalog_reconcile(const struct image_repo *r, struct store *st, struct catalog_report *out)
{
	char (*names)[IMAGE_NAME_MAX + 1];
	char after[STORE_IMAGE_NAME] = "";
	int n = repo_list(r, &names), got = RECONCILE_PAGE;

	memset(out, 0, sizeof *out);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		reconcile_manifest(r, st, names[i], out);
	free(names);
	for (unsigned page = 0; got == RECONCILE_PAGE && page < RECONCILE_PAGES; page++) {
		/* after is copied when bound, then overwritten with the page's last */
		got = reconcile_rows_page(r, st, after, after, out);
		if (got < 0)
			return got;
	}
	return 0;
}
