/* REST API for hosts, images and tasks (docs/API.md).
 *
 * Reads are open; writes need the administrator's token
 * ("Authorization: Bearer TOKEN", the token in api-token-file).  The
 * agent's endpoints (agent.c) take a task token instead. */
#include "http/mgmt_internal.h"
#include "http/task_options.h"
#include "http/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "image/chunk.h"

int64_t
mgmt_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- responses ---- */

void
mgmt_reply_text(struct mgmt_response *rs, unsigned status, const char *type, char *text,
    size_t len)
{
	rs->status = text != NULL || status == 204 ? status : 500;
	rs->body = text;
	rs->len = text != NULL ? len : 0;
	rs->type = type;
}

void
mgmt_reply_json(struct mgmt_response *rs, unsigned status, json_t *body)
{
	char *text = NULL;

	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
	}
	if (text == NULL && status != 204) {
		mgmt_reply_text(rs, 500, "application/json", NULL, 0);
		return;
	}
	mgmt_reply_text(rs, status, "application/json", text, text != NULL ? strlen(text) : 0);
}

void
mgmt_reply_error(struct mgmt_response *rs, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	mgmt_reply_json(rs, status, json_pack("{s:s}", "error", msg));
}

void
mgmt_reply_list(struct mgmt_response *rs, const char *key, json_t *arr, int n)
{
	if (n < 0) {
		json_decref(arr);
		mgmt_reply_error(rs, 500, "cannot list %s", key);
		return;
	}
	mgmt_reply_json(rs, 200, json_pack("{s:o}", key, arr));
}

json_t *
mgmt_body_json(const struct mgmt_request *rq, struct mgmt_response *rs)
{
	json_error_t err;
	json_t *v = json_loadb(rq->body != NULL ? rq->body : "", rq->body_len,
	    JSON_REJECT_DUPLICATES, &err);

	if (v == NULL)
		mgmt_reply_error(rs, 400, "body is not JSON: %s", err.text);
	return v;
}

struct store *
mgmt_store(const struct mgmt *m, struct mgmt_response *rs)
{
	struct store *st = http_store(m->state_dir);

	if (st == NULL)
		mgmt_reply_error(rs, 503, "state store unavailable");
	return st;
}

/* An event in the boot timeline of the host with MAC text mac, written at
 * once (the loop's store batches its own; this connection is the thread's). */
void
mgmt_event(struct store *st, const char *mac, const char *kind, const char *fmt, ...)
{
	uint8_t raw[6];
	char detail[256];
	struct timespec ts;
	va_list ap;

	if (config_parse_mac(mac, raw) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	if (store_event_add(st, raw, sizeof raw, kind, detail,
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) == 0)
		(void)store_events_flush(st);
}

/* ---- tokens ---- */

bool
mgmt_bearer_hash(const struct mgmt_request *rq, uint8_t hash[32])
{
	const char *a = rq->authorization;
	size_t n;

	if (a == NULL || strncasecmp(a, "Bearer ", 7) != 0)
		return false;
	a += 7;
	while (*a == ' ')
		a++;
	n = strcspn(a, " \t");
	if (n < 16 || n > 256)
		return false;
	chunk_sha256(a, n, hash);
	return true;
}

bool
mgmt_is_admin(const struct mgmt *m, const struct mgmt_request *rq)
{
	uint8_t h[32];

	return mgmt_bearer_hash(rq, h) && CRYPTO_memcmp(h, m->admin_hash, 32) == 0;
}

/* Read the token file, or create it with a new random token (0600). */
static int
load_token(struct mgmt *m, const char *path)
{
	char text[TOKEN_HEX + 2];
	uint8_t raw[TOKEN_BYTES];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 && errno == ENOENT) {
		if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
			return -EIO;
		sha256_hex(raw, text);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write(fd, text, TOKEN_HEX) != TOKEN_HEX || write(fd, "\n", 1) != 1) {
			int err = errno;
			if (fd >= 0)
				close(fd);
			return -err;
		}
		close(fd);
		log_info("api: created a new API token in %s", path);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		n--;
	if (n < 16) {
		log_error("api: %s holds no token (16 characters at least)", path);
		return -EINVAL;
	}
	chunk_sha256(text, (size_t)n, m->admin_hash);
	return 0;
}

int
mgmt_open(struct mgmt **out, const struct mgmt_config *cfg)
{
	struct mgmt *m = calloc(1, sizeof *m);
	char path[1100];
	int rc;

	*out = NULL;
	if (m == NULL)
		return -ENOMEM;
	m->cfg = *cfg;
	pthread_mutex_init(&m->mcast_lock, NULL);
	pthread_mutex_init(&m->repo_lock, NULL);
	str_copy(m->state_dir, cfg->state_dir, sizeof m->state_dir);
	str_copy(m->bootenv_url, cfg->bootenv_url != NULL ? cfg->bootenv_url : "",
	    sizeof m->bootenv_url);
	str_copy(m->bootenv_args, cfg->bootenv_args != NULL ? cfg->bootenv_args : "",
	    sizeof m->bootenv_args);
	if (cfg->image_dir != NULL && cfg->image_dir[0] != '\0')
		str_copy(path, cfg->image_dir, sizeof path);
	else
		snprintf(path, sizeof path, "%s/images", cfg->state_dir);
	rc = repo_open(&m->repo, path);
	if (rc < 0) {
		log_error("api: image-dir %s: %s", path, strerror(-rc));
		free(m);
		return rc;
	}
	if (cfg->token_file != NULL && cfg->token_file[0] != '\0')
		str_copy(path, cfg->token_file, sizeof path);
	else
		snprintf(path, sizeof path, "%s/api-token", cfg->state_dir);
	rc = load_token(m, path);
	if (rc < 0) {
		log_error("api: token file %s: %s", path, strerror(-rc));
		mgmt_close(m);
		return rc;
	}
	mgmt_images_reconcile(m);
	*out = m;
	return 0;
}

void
mgmt_close(struct mgmt *m)
{
	if (m == NULL)
		return;
	mgmt_mcast_close(m);
	pthread_mutex_destroy(&m->mcast_lock);
	pthread_mutex_destroy(&m->repo_lock);
	repo_close(&m->repo);
	free(m);
}

int
mgmt_image_dirfd(const struct mgmt *m)
{
	return m->repo.dirfd;
}

bool
mgmt_owns(const char *path)
{
	static const char *const prefixes[] = {
		"api/v1/hosts", "api/v1/images", "api/v1/tasks", "api/v1/agent/",
		"api/v1/boot/", "api/v1/mcast", "api/v1/groups",
	};

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t n = strlen(prefixes[i]);
		if (strncmp(path, prefixes[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '/' || prefixes[i][n - 1] == '/'))
			return true;
	}
	return false;
}

size_t
mgmt_body_limit(const char *method, const char *path)
{
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	    strcmp(method, "DELETE") == 0)
		return 0;
	if (strncmp(path, "api/v1/agent/chunks/", 20) == 0 && strcmp(method, "PUT") == 0)
		return MGMT_CHUNK_BODY_MAX;
	if (strcmp(path, "api/v1/agent/manifest") == 0)
		return MGMT_MANIFEST_BODY_MAX;
	return MGMT_JSON_BODY_MAX;
}

/* ---- JSON of rows ---- */

json_t *
mgmt_host_json(const struct store_host *h)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:b}", "mac", h->mac, "name", h->name,
	    "arch", h->arch, "uuid", h->uuid, "first_seen", (json_int_t)h->first_seen,
	    "last_seen", (json_int_t)h->last_seen, "approved", h->approved);

	if (o != NULL)
		json_object_set_new(o, "hostname", json_string(h->hostname));
	json_t *inv = h->inventory != NULL ? json_loads(h->inventory, 0, NULL) : NULL;

	if (o != NULL)
		json_object_set_new(o, "inventory", inv != NULL ? inv : json_null());
	else
		json_decref(inv);
	return o;
}

json_t *
mgmt_task_json(const struct store_task *t)
{
	json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:I,s:I,s:I,s:s,s:I,s:I,s:I,s:I,s:s,"
	    "s:s}", "id", (json_int_t)t->id, "host", t->mac, "type", task_type_name(t->type),
	    "image", t->image, "state", task_state_name(t->state), "verify", t->verify,
	    "replace", t->replace, "after", task_after_name(t->after),
	    "created", (json_int_t)t->created, "started", (json_int_t)t->started,
	    "finished", (json_int_t)t->finished, "phase", t->phase,
	    "bytes", (json_int_t)t->bytes, "total", (json_int_t)t->total,
	    "rate", (json_int_t)t->rate, "resume_offset", (json_int_t)t->resume_offset,
	    "message", t->message, "log", t->log_tail);

	mgmt_task_json_extra(o, t);
	return o;
}

/* ---- hosts ---- */

/* A host argument: a MAC, or the name of a known host. */
int
mgmt_resolve_host(struct store *st, const char *arg, char mac[STORE_MAC_TEXT])
{
	if (mac_text_canon(arg, mac) == 0)
		return 0;
	return store_host_by_name(st, arg, mac);
}

static void
hosts_list(struct store *st, struct mgmt_response *rs)
{
	struct store_host *list = calloc(MGMT_LIST_MAX, sizeof *list);
	json_t *arr = json_array();
	int n = list != NULL ? store_host_list(st, list, MGMT_LIST_MAX) : -ENOMEM;

	for (int i = 0; i < n; i++) {
		json_array_append_new(arr, mgmt_host_json(&list[i]));
		store_host_free(&list[i]);
	}
	free(list);
	mgmt_reply_list(rs, "hosts", arr, n);
}

static void
host_show(struct store *st, const char *arg, struct mgmt_response *rs)
{
	char mac[STORE_MAC_TEXT];
	struct store_host h;
	struct store_task t;
	json_t *o;

	if (mgmt_resolve_host(st, arg, mac) < 0 || store_host_get(st, mac, &h) < 0) {
		mgmt_reply_error(rs, 404, "no host %s", arg);
		return;
	}
	o = mgmt_host_json(&h);
	store_host_free(&h);
	json_object_set_new(o, "groups", mgmt_host_groups_json(st, mac));
	json_object_set_new(o, "task", store_task_active(st, mac, &t) == 0 ?
	    mgmt_task_json(&t) : json_null());
	mgmt_reply_json(rs, 200, o);
}

static void
host_add(struct store *st, const struct mgmt_request *rq, struct mgmt_response *rs)
{
	json_t *body = mgmt_body_json(rq, rs);
	const char *mac_arg = NULL, *name = "";
	char mac[STORE_MAC_TEXT];
	int rc;

	if (body == NULL)
		return;
	if (json_unpack(body, "{s:s,s?s}", "mac", &mac_arg, "name", &name) < 0 ||
	    mac_text_canon(mac_arg, mac) < 0 || strlen(name) > 63) {
		json_decref(body);
		mgmt_reply_error(rs, 400, "expected {\"mac\": \"aa:bb:cc:dd:ee:ff\", \"name\": \"...\"}");
		return;
	}
	rc = store_host_add(st, mac, name, mgmt_now());
	json_decref(body);
	if (rc < 0 && rc != -EEXIST) {
		mgmt_reply_error(rs, 500, "cannot add the host");
		return;
	}
	log_info("api: host %s %s", mac, rc == -EEXIST ? "updated" : "added");
	host_show(st, mac, rs);
	if (rs->status == 200 && rc == 0)
		rs->status = 201;
}

/* A host is removed with its tasks: an active capture among them ends. */
static void
host_remove(struct mgmt *m, struct store *st, const char *mac, const char *arg,
    struct mgmt_response *rs)
{
	struct store_task t;
	bool capture = store_task_active(st, mac, &t) == 0 && t.type == TASK_CAPTURE;

	if (store_host_remove(st, mac) < 0) {
		mgmt_reply_error(rs, 404, "no host %s", arg);
		return;
	}
	if (capture)
		mgmt_capture_ended(m, st, &t, TASK_CANCELLED);
	mgmt_reply_json(rs, 204, NULL);
}

static void
route_hosts(struct mgmt *m, struct store *st, const struct mgmt_request *rq,
    const char *rest, struct mgmt_response *rs)
{
	bool get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	char mac[STORE_MAC_TEXT];
	const char *slash;

	if (*rest == '\0') {
		if (get)
			hosts_list(st, rs);
		else if (strcmp(rq->method, "POST") != 0)
			mgmt_reply_error(rs, 405, "not allowed");
		else if (!mgmt_is_admin(m, rq))
			mgmt_reply_error(rs, 401, "a valid API token is required");
		else
			host_add(st, rq, rs);
		return;
	}
	if (get) {
		host_show(st, rest, rs);
		return;
	}
	if (!mgmt_is_admin(m, rq)) {
		mgmt_reply_error(rs, 401, "a valid API token is required");
		return;
	}
	slash = strchr(rest, '/');
	char arg[128];
	str_copy(arg, rest, MIN(sizeof arg, slash != NULL ? (size_t)(slash - rest) + 1 : sizeof arg));
	if (mgmt_resolve_host(st, arg, mac) < 0) {
		mgmt_reply_error(rs, 404, "no host %s", arg);
		return;
	}
	if (slash == NULL && strcmp(rq->method, "DELETE") == 0) {
		host_remove(m, st, mac, arg, rs);
		return;
	}
	if (slash == NULL && strcmp(rq->method, "PATCH") == 0) {
		mgmt_host_patch(st, rq, mac, rs);
		return;
	}
	if (slash != NULL && strcmp(rq->method, "POST") == 0 &&
	    (strcmp(slash, "/approve") == 0 || strcmp(slash, "/deny") == 0)) {
		if (store_host_approve(st, mac, slash[1] == 'a') < 0)
			mgmt_reply_error(rs, 404, "no host %s", arg);
		else
			host_show(st, mac, rs);
		return;
	}
	mgmt_reply_error(rs, 405, "not allowed");
}

/* ---- tasks ---- */

static void
tasks_list(struct store *st, struct mgmt_response *rs)
{
	struct store_task *list = calloc(MGMT_LIST_MAX, sizeof *list);
	json_t *arr = json_array();
	int n = list != NULL ? store_task_list(st, list, MGMT_LIST_MAX) : -ENOMEM;

	for (int i = 0; i < n; i++)
		json_array_append_new(arr, mgmt_task_json(&list[i]));
	free(list);
	mgmt_reply_json(rs, 200, json_pack("{s:o}", "tasks", arr));
}

/* The body names a host or a group (not both), a task type, and for a
 * deploy an image that exists: 0, or the reply made (400, 404). */
static int
task_check(struct mgmt *m, const char *host, const char *group, int type, const char *image,
    bool replace, struct mgmt_response *rs)
{
	if (type < 0 || (host == NULL) == (group == NULL)) {
		mgmt_reply_error(rs, 400, "expected {\"host\" or \"group\", \"type\":"
		    " deploy|capture|shell|wipe|local|scan|reset-password|restore, \"image\","
		    " \"verify\", \"replace\", \"after\", and the type's options}");
		return -EINVAL;
	}
	if (group != NULL && type == TASK_CAPTURE) {
		mgmt_reply_error(rs, 400, "a capture is of one host, not a group");
		return -EINVAL;
	}
	if ((type == TASK_DEPLOY || type == TASK_CAPTURE) && !image_name_valid(image)) {
		mgmt_reply_error(rs, 400, "a %s task needs a valid image name",
		    task_type_name((enum task_type)type));
		return -EINVAL;
	}
	if (type == TASK_DEPLOY && repo_info(&m->repo, image, &(struct image_info){ 0 }) < 0) {
		mgmt_reply_error(rs, 404, "no image %s", image);
		return -ENOENT;
	}
	if (type == TASK_CAPTURE && !replace &&
	    repo_info(&m->repo, image, &(struct image_info){ 0 }) == 0) {
		mgmt_reply_error(rs, 409, "image %s exists (capture with \"replace\": true to"
		    " overwrite it)", image);
		return -EEXIST;
	}
	return 0;
}

int
mgmt_task_after(enum task_type type, const char *text, enum task_after *out,
    struct mgmt_response *rs)
{
	int after = text != NULL ? task_after_parse(text) :
	    type == TASK_SHELL ? TASK_AFTER_SHELL : TASK_AFTER_REBOOT;

	if (after < 0) {
		mgmt_reply_error(rs, 400, "after: '%.32s' is not reboot, poweroff or shell", text);
		return -EINVAL;
	}
	if (type == TASK_SHELL && after != TASK_AFTER_SHELL) {
		mgmt_reply_error(rs, 400, "a shell task stays at the shell (after: shell)");
		return -EINVAL;
	}
	if (type == TASK_LOCAL && text != NULL) {
		mgmt_reply_error(rs, 400, "a local task boots the local disk: it has no \"after\"");
		return -EINVAL;
	}
	*out = (enum task_after)after;
	return 0;
}

static void
task_add_one(struct store *st, const char *host, const struct store_task_spec *spec,
    struct mgmt_response *rs)
{
	char mac[STORE_MAC_TEXT];
	struct store_task t;
	int64_t id;

	if (mgmt_resolve_host(st, host, mac) < 0) {
		mgmt_reply_error(rs, 404, "no host %s", host);
		return;
	}
	if (spec->type == TASK_RESTORE &&
	    mgmt_task_restore_check(st, mac, spec->options, rs) < 0)
		return;
	id = store_task_add(st, mac, spec, mgmt_now());
	if (id == -ENOENT) {
		mgmt_reply_error(rs, 404, "no host %s (add it first)", host);
	} else if (id == -EBUSY) {
		mgmt_reply_error(rs, 409, "host %s has a task already (cancel it first)", mac);
	} else if (id < 0 || store_task_get(st, id, &t) < 0) {
		mgmt_reply_error(rs, 500, "cannot create the task");
	} else {
		log_info("api: task %lld: %s %s %s", (long long)id, task_type_name(spec->type), mac,
		    spec->image);
		mgmt_reply_json(rs, 201, mgmt_task_json(&t));
	}
}

static void
task_add(struct mgmt *m, struct store *st, const struct mgmt_request *rq,
    struct mgmt_response *rs)
{
	json_t *body = mgmt_body_json(rq, rs);
	const char *host = NULL, *group = NULL, *type_text = "", *image = "", *after = NULL;
	int verify = 1, replace = 0, type;
	struct store_task_spec spec = { .mcast = "" };
	struct mgmt_task_extra x = { 0 };

	if (body == NULL)
		return;
	if (json_unpack(body, "{s?s,s?s,s:s,s?s,s?b,s?b,s?s}", "host", &host, "group", &group,
	    "type", &type_text, "image", &image, "verify", &verify, "replace", &replace,
	    "after", &after) < 0)
		host = group = NULL;            /* answered as a bad body */
	type = task_type_parse(type_text);
	x.type = (enum task_type)type;
	x.group = group != NULL;
	if (task_check(m, host, group, type, image, replace, rs) < 0 ||
	    mgmt_task_after((enum task_type)type, after, &spec.after, rs) < 0 ||
	    mgmt_task_options(body, &x, rs) < 0)
		goto out;
	spec.options = x.options;
	spec.type = (enum task_type)type;
	spec.image = type == TASK_DEPLOY || type == TASK_CAPTURE ? image : "";
	spec.verify = verify;
	spec.replace = type == TASK_CAPTURE && replace;
	if (group != NULL)
		mgmt_group_tasks(st, group, &spec, rs);
	else if (type != TASK_CAPTURE)
		task_add_one(st, host, &spec, rs);
	else {
		/* no chunk collection runs while a capture is being created */
		pthread_mutex_lock(&m->repo_lock);
		task_add_one(st, host, &spec, rs);
		pthread_mutex_unlock(&m->repo_lock);
	}
out:
	json_decref(body);
}

static void
route_tasks(struct mgmt *m, struct store *st, const struct mgmt_request *rq,
    const char *rest, struct mgmt_response *rs)
{
	bool get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	struct store_task t;
	uint64_t id;
	const char *slash = strchr(rest, '/');
	size_t idlen = slash != NULL ? (size_t)(slash - rest) : strlen(rest);

	if (*rest == '\0') {
		if (get)
			tasks_list(st, rs);
		else if (strcmp(rq->method, "POST") != 0)
			mgmt_reply_error(rs, 405, "not allowed");
		else if (!mgmt_is_admin(m, rq))
			mgmt_reply_error(rs, 401, "a valid API token is required");
		else
			task_add(m, st, rq, rs);
		return;
	}
	if (parse_u64(rest, idlen, 1, INT64_MAX, &id) < 0 || store_task_get(st, (int64_t)id, &t) < 0) {
		mgmt_reply_error(rs, 404, "no task %.*s", (int)MIN(idlen, 32u), rest);
		return;
	}
	if (get && slash == NULL) {
		json_t *o = mgmt_task_json(&t);
		mgmt_task_json_report(st, o, t.id);
		mgmt_reply_json(rs, 200, o);
	} else if (!mgmt_is_admin(m, rq)) {
		mgmt_reply_error(rs, 401, "a valid API token is required");
	} else if ((slash != NULL && strcmp(slash, "/cancel") == 0 &&
	    strcmp(rq->method, "POST") == 0) || (slash == NULL &&
	    strcmp(rq->method, "DELETE") == 0)) {
		if (store_task_finish(st, t.id, TASK_CANCELLED, "cancelled by the administrator",
		    t.log_tail, mgmt_now()) < 0) {
			mgmt_reply_error(rs, 409, "task %lld has ended already", (long long)t.id);
			return;
		}
		log_info("api: task %lld cancelled", (long long)t.id);
		mgmt_capture_ended(m, st, &t, TASK_CANCELLED);
		store_task_get(st, t.id, &t);
		mgmt_reply_json(rs, 200, mgmt_task_json(&t));
	} else {
		mgmt_reply_error(rs, 405, "not allowed");
	}
}

/* ---- routing ---- */

static const char *
after(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return path + n;
	return path[n] == '/' ? path + n + 1 : NULL;
}

void
mgmt_answer(struct mgmt *m, const struct mgmt_request *rq, struct mgmt_response *rs)
{
	struct store *st;
	const char *rest;

	memset(rs, 0, sizeof *rs);
	if ((rest = after(rq->path, "api/v1/boot")) != NULL) {
		mgmt_boot_script(m, rq, rest, rs);
		return;
	}
	if ((rest = after(rq->path, "api/v1/agent")) != NULL) {
		mgmt_agent(m, rq, rest, rs);
		return;
	}
	st = mgmt_store(m, rs);
	if (st == NULL)
		return;
	if ((rest = after(rq->path, "api/v1/images")) != NULL)
		mgmt_images(m, st, rq, rest, rs);
	else if ((rest = after(rq->path, "api/v1/hosts")) != NULL)
		route_hosts(m, st, rq, rest, rs);
	else if ((rest = after(rq->path, "api/v1/tasks")) != NULL)
		route_tasks(m, st, rq, rest, rs);
	else if ((rest = after(rq->path, "api/v1/mcast")) != NULL)
		mgmt_mcast(m, st, rq, rest, rs);
	else if ((rest = after(rq->path, "api/v1/groups")) != NULL)
		mgmt_groups(m, st, rq, rest, rs);
	else
		mgmt_reply_error(rs, 404, "not found");
}
