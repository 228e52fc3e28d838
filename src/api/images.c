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
#include "api/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "api/catalog.h"

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
images_list(struct store *st, struct api_response *rs)
{
	char after[STORE_IMAGE_NAME] = "";
	json_t *arr = json_array();
	int got = IMAGES_PAGE;

	for (unsigned page = 0; got == IMAGES_PAGE && page < IMAGES_PAGES; page++)
		got = images_page(st, after, arr);
	if (got < 0) {
		json_decref(arr);
		api_reply_error(rs, 500, "cannot list images");
		return;
	}
	api_reply_json(rs, 200, json_pack("{s:o}", "images", arr));
}

static void
image_show(struct store *st, const char *name, struct api_response *rs)
{
	struct store_image im;
	json_t *o, *parts;
	int rc = store_image_get(st, name, &im);

	if (rc < 0) {
		if (rc == -ENOENT)
			api_reply_error(rs, 404, "no image %s", name);
		else
			api_reply_error(rs, 500, "cannot read the image catalogue");
		return;
	}
	o = image_json(&im);
	parts = json_loads(im.partition_list, 0, NULL);
	json_object_set_new(o, "table", json_string(im.table));
	json_object_set_new(o, "partition_list", parts != NULL ? parts : json_array());
	store_image_free(&im);
	api_reply_json(rs, 200, o);
}

/* Delete the chunks no manifest names, unless a capture is active (its
 * chunks are named by none yet).  Called with m->repo_lock held.  The
 * chunks deleted (0 when skipped), or a negative errno; *freed gets their
 * bytes, *busy the active captures. */
static int
collect_locked(struct api *m, struct store *st, uint64_t *freed, int *busy)
{
	*freed = 0;
	*busy = store_captures_active(st);
	if (*busy != 0)
		return *busy < 0 ? *busy : 0;
	return repo_gc(&m->repo, 0, freed);
}

void
api_capture_ended(struct api *m, struct store *st, const struct store_task *t,
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
api_image_publish(struct api *a, struct store *st, const struct store_task *t,
    struct repo_upload *u, char *err, size_t errlen)
{
	struct store_task now;
	int rc, row = 0;

	pthread_mutex_lock(&a->repo_lock);
	/* a cancel ends a capture under this lock (api_task_end): the task
	 * read here is either still running or has ended for good */
	if (store_task_get(st, t->id, &now) < 0 || now.state != TASK_RUNNING) {
		snprintf(err, errlen, "task %" PRId64 " %s: nothing published", t->id,
		    store_task_get(st, t->id, &now) < 0 ? "is gone" : task_state_name(now.state));
		rc = -ECANCELED;
	} else {
		rc = repo_upload_publish(u, t->replace, err, errlen);
	}
	if (rc == 0)
		row = catalog_record(&a->repo, st, t->image, t->id);
	pthread_mutex_unlock(&a->repo_lock);
	if (row < 0)
		log_warn("images: %s was published, but its catalogue row could not be written"
		    " (%s): it is made at the next start", t->image, strerror(-row));
	return rc;
}

static void
image_remove(struct api *m, struct store *st, const char *name, struct api_response *rs)
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
		api_reply_error(rs, 404, "no image %s", name);
		return;
	}
	if (row < 0 && row != -ENOENT)
		log_warn("images: %s: its catalogue row could not be removed (%s): it goes at the"
		    " next start", name, strerror(-row));
	removed = MAX(removed, 0);
	log_info("api: image %s removed; %d unused chunks (%" PRIu64 " bytes) deleted%s", name,
	    removed, freed, busy > 0 ? " (none while a capture runs)" : "");
	api_reply_json(rs, 200, json_pack("{s:s,s:i,s:I}", "removed", name,
	    "chunks_deleted", removed, "bytes_freed", (json_int_t)freed));
}

static void
image_verify(struct api *m, const char *name, struct api_response *rs)
{
	char err[512] = "";
	int bad = repo_verify(&m->repo, name, err, sizeof err);

	if (bad < 0) {
		api_reply_error(rs, 404, "no image %s", name);
		return;
	}
	log_info("api: image %s verified: %d bad chunk(s)%s%s", name, bad, bad ? ": " : "", err);
	api_reply_json(rs, 200, json_pack("{s:s,s:b,s:i,s:s}", "name", name, "ok", bad == 0,
	    "bad_chunks", bad, "error", err));
}

static void
route_images_list(struct api_call *c)
{
	images_list(c->st, c->rs);
}

static void
route_image_show(struct api_call *c)
{
	image_show(c->st, c->arg[0], c->rs);
}

static void
route_image_manifest(struct api_call *c)
{
	size_t len = 0;
	char *text = repo_manifest_text(&c->api->repo, c->arg[0], &len);

	if (text == NULL)
		api_reply_error(c->rs, 404, "no image %s", c->arg[0]);
	else
		api_reply_text(c->rs, 200, "application/json", text, len);
}

static void
route_image_remove(struct api_call *c)
{
	image_remove(c->api, c->st, c->arg[0], c->rs);
}

static void
route_image_verify(struct api_call *c)
{
	image_verify(c->api, c->arg[0], c->rs);
}

const struct api_route api_images_routes[] = {
	{ "GET", "api/v1/images", API_READ, .handler = route_images_list, .statuses = "200",
	    .summary = "published images from the catalogue" },
	{ "GET", "api/v1/images/{image}", API_READ, .handler = route_image_show,
	    .statuses = "200 404",
	    .summary = "one image: sizes, chunks, partitions" },
	{ "GET", "api/v1/images/{image}/manifest", API_ADMIN, .handler = route_image_manifest,
	    .statuses = "200 404",
	    .summary = "the image's manifest (it names every chunk)" },
	{ "DELETE", "api/v1/images/{image}", API_ADMIN, .handler = route_image_remove,
	    .statuses = "200 404",
	    .summary = "remove an image and the chunks no other image uses" },
	{ "POST", "api/v1/images/{image}/verify", API_ADMIN, .handler = route_image_verify,
	    .statuses = "200 404",
	    .summary = "re-hash every chunk of an image" },
	{ NULL },
};

void
api_images_reconcile(struct api *m)
{
	struct catalog_report rep;
	struct store *st;
	int rc = store_open(&st, m->state);

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
