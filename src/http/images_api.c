/* REST API for images (docs/API.md), and what keeps the repository and
 * its catalogue together: publishing a capture's manifest, removing an
 * image, collecting the chunks of a capture that ended without one.
 *
 * The manifests are the images' truth; lists and details come from the
 * catalogue in the store (http/catalog.h), written in the same step as a
 * publish or a removal.  m->repo_lock serialises the repository's
 * changes: publish, removal, garbage collection, and the creation of
 * capture tasks.  A collection runs only while no capture task is active,
 * checked under the lock, so it can never delete a chunk a running
 * capture uploaded (such chunks are named by no manifest yet). */
#include "http/mgmt_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "http/catalog.h"

#define IMAGES_PAGE 64          /* catalogue rows read at once for a list */
#define IMAGES_PAGES 1600       /* bounds a list: 100 Ki images */

static json_t *
image_json(const struct store_image *im)
{
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "name", im->name,
	    "created", (json_int_t)im->created, "disk_size", (json_int_t)im->disk_size,
	    "used", (json_int_t)im->used, "stored", (json_int_t)im->stored,
	    "chunks", (json_int_t)im->chunks, "partitions", (json_int_t)im->partitions,
	    "task", (json_int_t)im->task);
}

/* Append the rows after after (at most IMAGES_PAGE) to arr: the count
 * read, or -EIO; *after becomes the last name. */
static int
images_page(struct store *st, char after[STORE_IMAGE_NAME], json_t *arr)
{
	struct store_image rows[IMAGES_PAGE];
	int n = store_image_list(st, after, rows, IMAGES_PAGE);

	for (int i = 0; i < n; i++)
		json_array_append_new(arr, image_json(&rows[i]));
	if (n > 0)
		str_copy(after, rows[n - 1].name, STORE_IMAGE_NAME);
	return n;
}

static void
images_list(struct store *st, struct mgmt_response *rs)
{
	char after[STORE_IMAGE_NAME] = "";
	json_t *arr = json_array();
	int got = IMAGES_PAGE;

	for (unsigned page = 0; got == IMAGES_PAGE && page < IMAGES_PAGES; page++)
		got = images_page(st, after, arr);
	mgmt_reply_list(rs, "images", arr, got);
}

static void
image_show(struct store *st, const char *name, struct mgmt_response *rs)
{
	struct store_image im;
	json_t *o, *parts;
	int rc = store_image_get(st, name, &im);

	if (rc < 0) {
		if (rc == -ENOENT)
			mgmt_reply_error(rs, 404, "no image %s", name);
		else
			mgmt_reply_error(rs, 500, "cannot read the image catalogue");
		return;
	}
	o = image_json(&im);
	parts = json_loads(im.partition_list, 0, NULL);
	json_object_set_new(o, "table", json_string(im.table));
	json_object_set_new(o, "partition_list", parts != NULL ? parts : json_array());
	store_image_free(&im);
	mgmt_reply_json(rs, 200, o);
}

/* Delete the chunks no manifest names, unless a capture is active (its
 * chunks are named by none yet).  Called with m->repo_lock held.  The
 * chunks deleted (0 when skipped), or a negative errno; *freed gets their
 * bytes, *busy the active captures. */
static int
collect_locked(struct mgmt *m, struct store *st, uint64_t *freed, int *busy)
{
	*freed = 0;
	*busy = store_captures_active(st);
	if (*busy != 0)
		return *busy < 0 ? *busy : 0;
	return repo_gc(&m->repo, 0, freed);
}

void
mgmt_capture_ended(struct mgmt *m, struct store *st, const struct store_task *t,
    enum task_state how)
{
	uint64_t freed;
	int removed, busy;

	if (t->type != TASK_CAPTURE || how == TASK_DONE)
		return;
	pthread_mutex_lock(&m->repo_lock);
	removed = collect_locked(m, st, &freed, &busy);
	pthread_mutex_unlock(&m->repo_lock);
	if (busy > 0)
		log_info("images: capture task %" PRId64 " %s; its chunks are kept while %d"
		    " other capture(s) run", t->id, task_state_name(how), busy);
	else if (removed < 0)
		log_warn("images: capture task %" PRId64 " %s; its chunks were not collected: %s",
		    t->id, task_state_name(how), strerror(-removed));
	else
		log_info("images: capture task %" PRId64 " %s: %d chunk(s) no image uses"
		    " deleted, %" PRIu64 " bytes freed", t->id, task_state_name(how), removed,
		    freed);
}

int
mgmt_image_publish(struct mgmt *m, struct store *st, const struct store_task *t,
    const char *text, size_t len, char *err, size_t errlen)
{
	int rc, row;

	pthread_mutex_lock(&m->repo_lock);
	rc = repo_publish(&m->repo, text, len, t->replace, err, errlen);
	row = rc == 0 ? catalog_record(&m->repo, st, t->image, t->id) : 0;
	pthread_mutex_unlock(&m->repo_lock);
	if (row < 0)
		log_warn("images: %s was published, but its catalogue row could not be written"
		    " (%s): it is made at the next start", t->image, strerror(-row));
	return rc;
}

static void
image_remove(struct mgmt *m, struct store *st, const char *name, struct mgmt_response *rs)
{
	uint64_t freed = 0;
	int removed, busy = 0, gone, row;

	pthread_mutex_lock(&m->repo_lock);
	gone = repo_remove(&m->repo, name);
	row = store_image_remove(st, name);
	removed = gone == 0 ? collect_locked(m, st, &freed, &busy) : 0;
	pthread_mutex_unlock(&m->repo_lock);
	if (gone < 0) {
		if (row == 0)
			log_info("images: %s had a catalogue row but no manifest: row removed", name);
		mgmt_reply_error(rs, 404, "no image %s", name);
		return;
	}
	if (row < 0 && row != -ENOENT)
		log_warn("images: %s: its catalogue row could not be removed (%s): it goes at the"
		    " next start", name, strerror(-row));
	removed = MAX(removed, 0);
	log_info("api: image %s removed; %d unused chunks (%" PRIu64 " bytes) deleted%s", name,
	    removed, freed, busy > 0 ? " (none while a capture runs)" : "");
	mgmt_reply_json(rs, 200, json_pack("{s:s,s:i,s:I}", "removed", name,
	    "chunks_deleted", removed, "bytes_freed", (json_int_t)freed));
}

static void
image_verify(struct mgmt *m, const char *name, struct mgmt_response *rs)
{
	char err[512] = "";
	int bad = repo_verify(&m->repo, name, err, sizeof err);

	if (bad < 0) {
		mgmt_reply_error(rs, 404, "no image %s", name);
		return;
	}
	log_info("api: image %s verified: %d bad chunk(s)%s%s", name, bad, bad ? ": " : "", err);
	mgmt_reply_json(rs, 200, json_pack("{s:s,s:b,s:i,s:s}", "name", name, "ok", bad == 0,
	    "bad_chunks", bad, "error", err));
}

/* What an administrator may do to one image (the token checked). */
static void
image_admin(struct mgmt *m, struct store *st, const struct mgmt_request *rq,
    const char *name, const char *slash, struct mgmt_response *rs)
{
	bool get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;

	if (get && slash != NULL && strcmp(slash, "/manifest") == 0) {
		size_t len = 0;
		char *text = repo_manifest_text(&m->repo, name, &len);
		if (text == NULL)
			mgmt_reply_error(rs, 404, "no image %s", name);
		else
			mgmt_reply_text(rs, 200, "application/json", text, len);
	} else if (slash == NULL && strcmp(rq->method, "DELETE") == 0) {
		image_remove(m, st, name, rs);
	} else if (slash != NULL && strcmp(slash, "/verify") == 0 &&
	    strcmp(rq->method, "POST") == 0) {
		image_verify(m, name, rs);
	} else {
		mgmt_reply_error(rs, 405, "not allowed");
	}
}

void
mgmt_images(struct mgmt *m, struct store *st, const struct mgmt_request *rq,
    const char *rest, struct mgmt_response *rs)
{
	bool get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	char name[IMAGE_NAME_MAX + 1];
	const char *slash = strchr(rest, '/');

	if (*rest == '\0') {
		if (get)
			images_list(st, rs);
		else
			mgmt_reply_error(rs, 405, "not allowed");
		return;
	}
	str_copy(name, rest, MIN(sizeof name, slash != NULL ? (size_t)(slash - rest) + 1 : sizeof name));
	if (get && slash == NULL)
		image_show(st, name, rs);
	else if (!mgmt_is_admin(m, rq))
		mgmt_reply_error(rs, 401, "a valid API token is required");
	else
		image_admin(m, st, rq, name, slash, rs);
}

void
mgmt_images_reconcile(struct mgmt *m)
{
	struct catalog_report rep;
	struct store *st;
	int rc = store_open(&st, m->state_dir);

	if (rc < 0) {
		log_error("images: catalogue not reconciled: state store: %s", strerror(-rc));
		return;
	}
	rc = catalog_reconcile(&m->repo, st, &rep);
	store_close(st);
	if (rc < 0) {
		log_error("images: catalogue not reconciled with %s: %s", m->repo.path,
		    strerror(-rc));
		return;
	}
	log_info("images: catalogue reconciled with %s: %u image(s) as recorded, %u added,"
	    " %u updated, %u removed%s", m->repo.path, rep.kept, rep.added, rep.updated,
	    rep.removed, rep.failed > 0 ? " (some rows could not be written: see above)" : "");
}
