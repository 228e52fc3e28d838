/* /api/v1/tasks: what a host does at its next network boot (docs/API.md),
 * and how a task ends. */
#include "api/diag.h"
#include "api/internal.h"
#include "api/task_options.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

/* ?host=, ?state=, ?type=, ?image=: false with 400 made. */
static bool
task_filter(struct api_call *c, struct store_task_filter *f, char mac[STORE_MAC_TEXT])
{
	const char *host = api_query(c, "host");

	f->state = api_query(c, "state");
	f->type = api_query(c, "type");
	f->image = api_query(c, "image");
	f->mac = NULL;
	if (host != NULL && api_resolve_host(c->st, host, mac) < 0) {
		api_reply_error(c->rs, 404, "no host %s", host);
		return false;
	}
	if (host != NULL)
		f->mac = mac;
	return true;
}

static void
tasks_list(struct api_call *c)
{
	struct store_task_filter f;
	struct store_task *list;
	const char *after;
	char mac[STORE_MAC_TEXT];
	unsigned limit;
	uint64_t before = 0;
	char last[24];
	json_t *arr;
	int n;

	if (api_page(c, &limit, &after) < 0 || !task_filter(c, &f, mac))
		return;
	if (after[0] != '\0' && parse_u64(after, strlen(after), 1, INT64_MAX, &before) < 0) {
		api_reply_error(c->rs, 400, "after: a task id");
		return;
	}
	list = calloc(limit, sizeof *list);
	n = list != NULL ? store_task_list(c->st, (int64_t)before, &f, list, limit) : -ENOMEM;
	if (n < 0) {
		free(list);
		api_reply_error(c->rs, 500, "cannot list tasks");
		return;
	}
	arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, api_task_json(&list[i]));
	snprintf(last, sizeof last, "%" PRId64, n > 0 ? list[n - 1].id : 0);
	api_reply_page(c, "tasks", arr, store_task_count(c->st, &f), limit, n > 0 ? last : NULL);
	free(list);
}

/* The body names a host or a group (not both), a task type, and for a
 * deploy an image that exists: 0, or the reply made (400, 404). */
static int
task_check(struct api *m, const char *host, const char *group, int type, const char *image,
    bool replace, struct api_response *rs)
{
	if (type < 0 || (host == NULL) == (group == NULL)) {
		api_reply_error(rs, 400, "expected {\"host\" or \"group\", \"type\":"
		    " deploy|capture|shell|wipe|local|diagnose|boot|scan|reset-password|restore,"
		    " \"image\", \"verify\", \"replace\", \"after\", \"wake\", and the type's options}");
		return -EINVAL;
	}
	if (group != NULL && type == TASK_CAPTURE) {
		api_reply_error(rs, 400, "a capture is of one host, not a group");
		return -EINVAL;
	}
	if ((type == TASK_DEPLOY || type == TASK_CAPTURE) && !image_name_valid(image)) {
		api_reply_error(rs, 400, "a %s task needs a valid image name",
		    task_type_name((enum task_type)type));
		return -EINVAL;
	}
	if (type == TASK_DEPLOY && repo_info(&m->repo, image, &(struct image_info){ 0 }) < 0) {
		api_reply_error(rs, 404, "no image %s", image);
		return -ENOENT;
	}
	if (type == TASK_CAPTURE && !api_repo_local(m)) {
		api_reply_error(rs, 409, "this server holds a read-only mirror of the image "
		    "repository: captures go to %s", m->cfg.image_repo);
		return -EROFS;
	}
	if (type == TASK_CAPTURE && !replace &&
	    repo_info(&m->repo, image, &(struct image_info){ 0 }) == 0) {
		api_reply_error(rs, 409, "image %s exists (capture with \"replace\": true to"
		    " overwrite it)", image);
		return -EEXIST;
	}
	return 0;
}

int
api_task_after(enum task_type type, const char *text, enum task_after *out,
    struct api_response *rs)
{
	int after = text != NULL ? task_after_parse(text) :
	    type == TASK_SHELL ? TASK_AFTER_SHELL : TASK_AFTER_REBOOT;

	if (after < 0) {
		api_reply_error(rs, 400, "after: '%.32s' is not reboot, poweroff or shell", text);
		return -EINVAL;
	}
	if (type == TASK_SHELL && after != TASK_AFTER_SHELL) {
		api_reply_error(rs, 400, "a shell task stays at the shell (after: shell)");
		return -EINVAL;
	}
	if (type == TASK_LOCAL && text != NULL) {
		api_reply_error(rs, 400, "a local task boots the local disk: it has no \"after\"");
		return -EINVAL;
	}
	*out = (enum task_after)after;
	return 0;
}

static void
task_add_one(struct store *st, const char *host, const struct store_task_spec *spec,
    struct api_response *rs)
{
	char mac[STORE_MAC_TEXT], where[48];
	struct store_task t;
	int64_t id;

	if (api_resolve_host(st, host, mac) < 0) {
		api_reply_error(rs, 404, "no host %s", host);
		return;
	}
	if (spec->type == TASK_RESTORE &&
	    api_task_restore_check(st, mac, spec->options, rs) < 0)
		return;
	id = store_task_add(st, mac, spec, api_now());
	if (id == -ENOENT) {
		api_reply_error(rs, 404, "no host %s (add it first)", host);
	} else if (id == -EBUSY) {
		api_reply_error(rs, 409, "host %s has a task already (cancel it first)", mac);
	} else if (id < 0) {
		api_reply_error(rs, 500, "cannot create the task");
	} else {
		log_info_peer(NULL, mac, "api: task %lld: %s %s %s", (long long)id,
		    task_type_name(spec->type), mac,
		    spec->image);
		api_publish_task(st, id);
		snprintf(where, sizeof where, "/api/v1/tasks/%lld", (long long)id);
		api_reply_stored(rs, 201, store_task_get(st, id, &t) == 0 ? api_task_json(&t) : NULL,
		    where);
	}
}

static void
task_add(struct api_call *c)
{
	struct api *m = c->api;
	struct store *st = c->st;
	struct api_response *rs = c->rs;
	json_t *body = api_body_json(c);
	const char *host = NULL, *group = NULL, *type_text = "", *image = "", *after = NULL;
	int verify = 1, replace = 0, type;
	struct store_task_spec spec = { .mcast = "" };
	char params[STORE_TASK_PARAMS_MAX];
	char options[STORE_TASK_OPTIONS_MAX];

	if (body == NULL)
		return;
	if (json_unpack(body, "{s?s,s?s,s:s,s?s,s?b,s?b,s?s}", "host", &host, "group", &group,
	    "type", &type_text, "image", &image, "verify", &verify, "replace", &replace,
	    "after", &after) < 0)
		host = group = NULL;            /* answered as a bad body */
	type = task_type_parse(type_text);
	if (task_check(m, host, group, type, image, replace, rs) < 0 ||
	    api_task_after((enum task_type)type, after, &spec.after, rs) < 0 ||
	    api_task_options(body, (enum task_type)type, group != NULL, options,
	    sizeof options, rs) < 0)
		goto out;
	spec.options = options;
	spec.type = (enum task_type)type;
	spec.image = type == TASK_DEPLOY || type == TASK_CAPTURE ? image : "";
	spec.verify = verify;
	spec.replace = type == TASK_CAPTURE && replace;
	if (api_task_params(c, type, body, &spec, params, sizeof params) < 0)
		goto out;
	if (group != NULL)
		api_group_tasks(st, group, &spec, rs);
	else if (type != TASK_CAPTURE)
		task_add_one(st, host, &spec, rs);
	else {
		/* no chunk collection runs while a capture is being created */
		pthread_mutex_lock(&m->repo_lock);
		task_add_one(st, host, &spec, rs);
		pthread_mutex_unlock(&m->repo_lock);
	}
	api_task_created(c, body);
out:
	json_decref(body);
}

int
api_task_end(struct api *a, struct store *st, const struct store_task *t, enum task_state how,
    const char *message, const char *log)
{
	int rc;

	/* a capture ends under repo_lock: a publish checks under it that
	 * its task still runs (api_image_publish) */
	if (t->type == TASK_CAPTURE)
		pthread_mutex_lock(&a->repo_lock);
	rc = store_task_finish(st, t->id, how, message, log != NULL ? log : t->log_tail,
	    api_now());
	if (t->type == TASK_CAPTURE)
		pthread_mutex_unlock(&a->repo_lock);
	if (rc < 0)
		return -EALREADY;
	api_publish_task(st, t->id);
	if (t->mcast[0] != '\0' && how != TASK_DONE)
		api_mcast_leave(a, t->mcast, t->id);    /* a done one stays: complete */
	api_capture_ended(a, st, t, how);
	return 0;
}

/* The task of the path's {id}, or NULL with 404 made. */
static bool
task_of_path(struct api_call *c, struct store_task *t)
{
	uint64_t id;

	if (parse_u64(c->arg[0], strlen(c->arg[0]), 1, INT64_MAX, &id) < 0 ||
	    store_task_get(c->st, (int64_t)id, t) < 0) {
		api_reply_error(c->rs, 404, "no task %.32s", c->arg[0]);
		return false;
	}
	return true;
}

static void
task_show(struct api_call *c)
{
	struct store_task t;

	json_t *o;

	if (!task_of_path(c, &t))
		return;
	o = api_task_json(&t);
	api_task_json_report(c->st, o, t.id);   /* what the agent reported... */
	api_task_extras(c, &t, o);              /* ... a diagnose task's from its results */
	api_reply_json(c->rs, 200, o);
}

static void
task_cancel(struct api_call *c)
{
	struct store_task t;

	if (!task_of_path(c, &t))
		return;
	if (api_task_end(c->api, c->st, &t, TASK_CANCELLED, "cancelled by the administrator",
	    NULL) < 0) {
		api_reply_error(c->rs, 409, "task %" PRId64 " has ended already", t.id);
		return;
	}
	log_info("api: task %" PRId64 " cancelled", t.id);
	store_task_get(c->st, t.id, &t);
	api_reply_json(c->rs, 200, api_task_json(&t));
}

const struct api_route api_tasks_routes[] = {
	{ "GET", "api/v1/tasks", API_READ, .handler = tasks_list,
	    .statuses = "200 400 404", .query = "limit after host state type image",
	    .summary = "tasks, newest first, a page at a time (?limit, ?after=ID);"
	    " ?host=, ?state= (a state, or active: pending, booting, running), ?type=, ?image=" },
	{ "POST", "api/v1/tasks", API_ADMIN, .body_max = 4096, .json_max = 32,
	    .handler = task_add,
	    .statuses = "201 404 409 422",
	    .summary = "a task for a host or each host of a group" },
	{ "GET", "api/v1/tasks/{id}", API_READ, .handler = task_show,
	    .statuses = "200 404", .summary = "one task" },
	{ "DELETE", "api/v1/tasks/{id}", API_ADMIN, .handler = task_cancel,
	    .statuses = "200 404 409",
	    .summary = "cancel a task" },
	{ "POST", "api/v1/tasks/{id}/cancel", API_ADMIN, .handler = task_cancel,
	    .statuses = "200 404 409",
	    .summary = "cancel a task" },
	{ NULL },
};
