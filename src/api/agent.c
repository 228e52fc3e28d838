/* The agent's side of the API.
 *
 * The agent holds its task's token (issued with the boot script, boot.c).
 * Every agent request carries it as "Authorization: Bearer TOKEN" and may
 * touch only its own task; once the task has ended it authorizes nothing
 * (409, saying why).  The router checks all of that before a byte of the
 * body is read.  Everything an agent sends is text from the network:
 * bounded by its route, cut on character boundaries, escaped in the log.
 * docs/API.md lists the endpoints, docs/IMAGING.md the trust model. */
#include "api/diag.h"
#include "api/internal.h"
#include "api/task_options.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/log.h"
#include "core/util.h"
#include "image/chunk.h"

#define MISSING_MAX 4096        /* hashes in one chunks/missing question */
#define MESSAGE_MAX 256         /* a result's message as stored (with its NUL) */

/* The task's JSON text with the image's manifest (our own, checked when
 * it was published) spliced in as "manifest": no tree of it is built. */
static char *
task_text_with_manifest(json_t *o, const char *manifest, size_t mlen, size_t *len)
{
	static const char key[] = ",\"manifest\":";
	char *head = json_text(o, JSON_COMPACT, NULL), *text;
	size_t hlen = head != NULL ? strlen(head) : 0;

	if (hlen < 2) {
		free(head);
		return NULL;
	}
	text = malloc(hlen + sizeof key + mlen + 1);
	if (text != NULL) {
		memcpy(text, head, hlen - 1);                   /* without its '}' */
		*len = hlen - 1;
		memcpy(text + *len, key, sizeof key - 1);
		*len += sizeof key - 1;
		memcpy(text + *len, manifest, mlen);
		*len += mlen;
		text[(*len)++] = '}';
		text[*len] = '\0';
	}
	free(head);
	return text;
}

static json_t *
task_object(struct api_call *c, const struct store_task *t)
{
	char base[256], chunks[300];

	api_server_base(c, base, sizeof base);
	snprintf(chunks, sizeof chunks, "%s/images/chunks/", base);
	return json_pack("{s:I,s:s,s:s,s:n,s:b,s:I,s:s,s:I,s:i}", "id", (json_int_t)t->id,
	    "type", task_type_name(t->type), "image", t->image, "disk", "verify", t->verify,
	    "resume_offset", (json_int_t)t->resume_offset, "chunk_url", chunks,
	    "chunk_size", (json_int_t)c->api->cfg.chunk_mb << 20,
	    "level", (int)c->api->cfg.level);
}

/* A deploy's chunk sources: the caches of the agent's subnet (the server,
 * chunk_url, comes after them). */
static void
task_add_sources(struct api_call *c, json_t *o)
{
	char where[160];
	json_t *list = api_chunk_sources_json(c->api, c->peer4, where, sizeof where);

	if (list == NULL)
		return;
	if (json_array_size(list) > 0)
		log_info_peer(c->peer, c->task.mac, "api: task %" PRId64 ": chunk sources for %s:"
		    " %zu before this server", c->task.id, where, json_array_size(list));
	json_object_set_new(o, "chunk_sources", list);
}

/* A capture on a server that does not hold the repository: the task
 * fails, saying where captures go.  0 when this server holds it. */
static int
agent_capture_elsewhere(struct api_call *c)
{
	const struct store_task *t = &c->task;
	char msg[400];

	if (t->type != TASK_CAPTURE || api_repo_local(c->api))
		return 0;
	snprintf(msg, sizeof msg, "this server holds a read-only mirror of the image "
	    "repository: captures go to %s", c->api->cfg.image_repo);
	store_task_finish(c->st, t->id, TASK_FAILED, msg, "", api_now());
	api_publish_task(c->st, t->id);
	log_warn_peer(c->peer, t->mac, "api: task %" PRId64 ": capture refused: %s", t->id, msg);
	api_reply_error(c->rs, 409, "%s", msg);
	return -EROFS;
}

static void
agent_task(struct api_call *c)
{
	struct store_task *t = &c->task;
	char *manifest = NULL, *text;
	size_t mlen = 0, len = 0;
	json_t *o;

	if (agent_capture_elsewhere(c) < 0)
		return;
	if (t->type == TASK_DEPLOY &&
	    (manifest = repo_manifest_text(&c->api->repo, t->image, &mlen)) == NULL) {
		store_task_finish(c->st, t->id, TASK_FAILED, "image is gone", "", api_now());
		api_publish_task(c->st, t->id);
		api_reply_error(c->rs, 409, "image %s is not on the server", t->image);
		return;
	}
	if (store_task_start(c->st, t->id, api_now()) < 0) {
		free(manifest);
		api_reply_error(c->rs, 409, "task %" PRId64 " is not runnable", t->id);
		return;
	}
	o = task_object(c, t);
	api_agent_task_extras(c, t, o);
	if (o != NULL && api_agent_task_extra(c->st, o, t) < 0) {
		json_decref(o);
		o = NULL;
	}
	if (o != NULL && t->type == TASK_DEPLOY)
		task_add_sources(c, o);
	if (o != NULL && t->type == TASK_DEPLOY && t->mcast[0] != '\0') {
		json_t *mc = api_mcast_join(c, t->mcast, t->id);
		if (mc != NULL)
			json_object_set_new(o, "multicast", mc);
		else
			log_info("api: task %" PRId64 ": session %s is over: unicast deploy", t->id,
			    t->mcast);
	}
	log_info_peer(NULL, t->mac, "api: task %" PRId64 " started by the agent on %s", t->id,
	    t->mac);
	api_publish_task(c->st, t->id);
	api_event(c->st, t->mac, "task-start", "task %" PRId64 ": %s %s", t->id,
	    task_type_name(t->type), t->image);
	if (manifest == NULL) {
		api_reply_json(c->rs, 200, o);
		return;
	}
	text = o != NULL ? task_text_with_manifest(o, manifest, mlen, &len) : NULL;
	json_decref(o);
	free(manifest);
	api_reply_text(c->rs, text != NULL ? 200 : 500, "application/json", text, len);
}

static void
agent_progress(struct api_call *c)
{
	json_t *body = api_body_json(c);
	const char *phase = "";
	json_int_t bytes = 0, total = 0, rate = 0, resume = 0, files = 0;

	if (body == NULL)
		return;
	if (json_unpack(body, "{s:s,s:I,s:I,s?I,s?I,s?I}", "phase", &phase, "bytes", &bytes,
	    "total", &total, "rate", &rate, "resume_offset", &resume, "files", &files) < 0 ||
	    bytes < 0 || total < 0 || rate < 0 || resume < 0 || files < 0 ||
	    strlen(phase) > 15) {
		json_decref(body);
		api_reply_error(c->rs, 400, "expected {\"phase\", \"bytes\", \"total\", \"rate\","
		    " \"resume_offset\"}");
		return;
	}
	if (store_task_progress_files(c->st, c->task.id, phase, (uint64_t)bytes, (uint64_t)total,
	    (uint64_t)rate, (uint64_t)resume, (uint64_t)files) < 0) {
		api_reply_error(c->rs, 409, "task %" PRId64 " is not running", c->task.id);
	} else {
		api_publish_task(c->st, c->task.id);
		api_reply_json(c->rs, 204, NULL);
	}
	json_decref(body);
}

static void
agent_inventory(struct api_call *c)
{
	json_t *body = api_body_json(c);
	char *text;

	if (body == NULL)
		return;
	if (!json_is_object(body)) {
		json_decref(body);
		api_reply_error(c->rs, 400, "inventory is a JSON object");
		return;
	}
	text = json_text(body, JSON_COMPACT, NULL);
	json_decref(body);
	if (text == NULL || store_host_set_inventory(c->st, c->task.mac, text) < 0)
		api_reply_error(c->rs, 500, "cannot store the inventory");
	else
		api_reply_json(c->rs, 204, NULL);
	free(text);
}

static void
agent_result(struct api_call *c)
{
	const struct store_task *t = &c->task;
	json_t *body = api_body_json(c);
	const char *message = "", *log_tail = "";
	char msg[MESSAGE_MAX], tail[STORE_TASK_LOG_MAX], shown[4 * 64];
	int ok = 0;
	size_t n;

	if (body == NULL)
		return;
	if (json_unpack(body, "{s:b,s?s,s?s}", "ok", &ok, "message", &message,
	    "log", &log_tail) < 0) {
		json_decref(body);
		api_reply_error(c->rs, 400, "expected {\"ok\": bool, \"message\", \"log\"}");
		return;
	}
	if (api_agent_report(c->st, t, body, c->rs) < 0) {
		json_decref(body);
		return;
	}
	/* cut on character boundaries: what is stored is valid UTF-8 */
	utf8_sanitize(msg, sizeof msg, message, strlen(message));
	n = strlen(log_tail);
	utf8_sanitize(tail, sizeof tail, log_tail + utf8_tail(log_tail, n, sizeof tail - 1),
	    n - utf8_tail(log_tail, n, sizeof tail - 1));
	json_decref(body);
	if (api_task_end(c->api, c->st, t, ok ? TASK_DONE : TASK_FAILED, msg, tail) < 0) {
		api_reply_error(c->rs, 409, "task %" PRId64 " has ended already", t->id);
		return;
	}
	log_info_peer(NULL, t->mac, "api: task %" PRId64 " on %s %s: %s", t->id, t->mac,
	    ok ? "done" : "failed", log_printable(msg, strlen(msg), shown, sizeof shown));
	api_event(c->st, t->mac, ok ? "task-done" : "task-failed", "task %" PRId64 ": %s", t->id,
	    msg);
	api_reply_json(c->rs, 204, NULL);
}

static void
agent_missing(struct api_call *c)
{
	json_t *body = api_body_json(c), *out, *v;
	uint8_t sha[SHA256_LEN];
	size_t i;

	if (body == NULL)
		return;
	if (!json_is_array(body) || json_array_size(body) > MISSING_MAX) {
		json_decref(body);
		api_reply_error(c->rs, 400, "expected an array of at most %d sha256 strings",
		    MISSING_MAX);
		return;
	}
	out = json_array();
	json_array_foreach(body, i, v) {
		if (!json_is_string(v) ||
		    sha256_parse(json_string_value(v), json_string_length(v), sha) < 0) {
			json_decref(out);
			json_decref(body);
			api_reply_error(c->rs, 400, "item %zu is not a sha256", i);
			return;
		}
		if (!repo_has_chunk(&c->api->repo, sha))
			json_array_append(out, v);
	}
	json_decref(body);
	api_reply_json(c->rs, 200, out);
}

static void
agent_put_chunk(struct api_call *c)
{
	const char *hex = c->arg[0];
	uint8_t sha[SHA256_LEN];
	int rc;

	if (sha256_parse(hex, strlen(hex), sha) < 0) {
		api_reply_error(c->rs, 404, "expected agent/chunks/SHA256");
		return;
	}
	rc = repo_put_chunk(&c->api->repo, sha, c->body, c->body_len);
	if (rc == -EBADMSG)
		api_reply_error(c->rs, 400, "chunk %s: not one zstd frame with its size", hex);
	else if (rc == -EILSEQ)
		api_reply_error(c->rs, 422, "chunk %s: content does not match its sha256", hex);
	else if (rc == -ENOSPC || rc == -EDQUOT)
		api_reply_error(c->rs, 507, "chunk %s: no space left on the server", hex);
	else if (rc < 0)
		api_reply_error(c->rs, 500, "chunk %s: %s", hex, strerror(-rc));
	else
		api_reply_json(c->rs, rc == 1 ? 201 : 200, json_pack("{s:s}", "sha256", hex));
	if (rc < 0)
		log_warn_peer(c->peer, NULL, "api: %s: chunk %.16s...: %s", c->peer, hex,
		    strerror(-rc));
}

/* ---- the manifest upload: read as it arrives (manifest_read.c) ---- */

struct manifest_upload {
	struct repo_upload repo;
	char err[512];
	int rc;                         /* the first error */
};

static unsigned
upload_status(int rc)
{
	switch (rc) {
	case -ENOENT: return 409;       /* a chunk is not on the server */
	case -ENOSPC: case -EDQUOT: return 507;
	case -EFBIG: return 413;
	case -EINVAL: return 400;
	default: return 500;
	}
}

static int
manifest_begin(struct api_call *c)
{
	struct manifest_upload *u = calloc(1, sizeof *u);
	int rc = u != NULL ? repo_upload_begin(&u->repo, &c->api->repo) : -ENOMEM;

	if (rc < 0) {
		free(u);
		api_reply_error(c->rs, rc == -ENOSPC ? 507 : 500, "cannot take the manifest: %s",
		    strerror(-rc));
		return rc;
	}
	c->stream = u;
	return 0;
}

static int
manifest_feed(struct api_call *c, const char *data, size_t len)
{
	struct manifest_upload *u = c->stream;

	if (u->rc == 0)
		u->rc = repo_upload_write(&u->repo, data, len, u->err, sizeof u->err);
	if (u->rc == 0)
		return 0;
	api_reply_error(c->rs, upload_status(u->rc), "manifest: %s", u->err);
	return u->rc;
}

static void
manifest_abort(struct api_call *c)
{
	struct manifest_upload *u = c->stream;

	repo_upload_abort(&u->repo);
	free(u);
	c->stream = NULL;
}

static void
agent_put_manifest(struct api_call *c)
{
	struct manifest_upload *u = c->stream;
	const struct store_task *t = &c->task;
	int rc = u->rc != 0 ? u->rc : repo_upload_finish(&u->repo, u->err, sizeof u->err);

	if (rc == 0 && strcmp(u->repo.scan.head.name, t->image) != 0) {
		api_reply_error(c->rs, 403, "this task captures image %s", t->image);
		return;
	}
	if (rc == 0)
		rc = api_image_publish(c->api, c->st, t, &u->repo, u->err, sizeof u->err);
	if (rc == -ECANCELED || rc == -EEXIST)
		api_reply_error(c->rs, 409, "%s", u->err);
	else if (rc < 0)
		api_reply_error(c->rs, upload_status(rc), "manifest: %s", u->err);
	else {
		log_info("api: image %s published by task %" PRId64, t->image, t->id);
		api_reply_json(c->rs, 201, json_pack("{s:s}", "image", t->image));
	}
}

static const struct api_stream_ops manifest_stream = {
	manifest_begin, manifest_feed, manifest_abort,
};

#define CAPTURE API_TASK_TYPE(TASK_CAPTURE)
#define CHUNK_BODY_MAX (IMAGE_CHUNK_MAX + (IMAGE_CHUNK_MAX >> 7) + 4096)

const struct api_route api_agent_routes[] = {
	{ "GET", "api/v1/agent/task", API_TASK, .handler = agent_task, .statuses = "200",
	    .summary = "the task, its image's manifest for a deploy (starts it)" },
	{ "POST", "api/v1/agent/inventory", API_TASK, .body_max = 64 << 10, .json_max = 4096,
	    .handler = agent_inventory,
	    .statuses = "204", .summary = "the machine's hardware, kept with the host" },
	{ "POST", "api/v1/agent/progress", API_TASK, .running = true, .body_max = 1024,
	    .json_max = 16, .handler = agent_progress,
	    .statuses = "204", .summary = "progress of a running task" },
	{ "POST", "api/v1/agent/result", API_TASK, .running = true,
	    .body_max = STORE_TASK_REPORT_MAX + (64 << 10), .json_max = 16 + 8 * 4096 + 64,
	    .handler = agent_result, .statuses = "204",
	    .summary = "the end: ok, message, log, report" },
	{ "POST", "api/v1/agent/chunks/missing", API_TASK, CAPTURE, .running = true,
	    .body_max = MISSING_MAX * 70 + 64, .json_max = MISSING_MAX + 1,
	    .handler = agent_missing,
	    .statuses = "200", .summary = "which of these chunks the server lacks" },
	{ "PUT", "api/v1/agent/chunks/{sha256}", API_TASK, CAPTURE, .running = true,
	    .body_max = CHUNK_BODY_MAX, .handler = agent_put_chunk,
	    .statuses = "200 201 400 404 422 507",
	    .summary = "one chunk: a zstd frame, checked against its hash" },
	{ "PUT", "api/v1/agent/manifest", API_TASK, CAPTURE, .running = true,
	    .body_max = 64u << 20, .handler = agent_put_manifest,
	    .statuses = "201 400 409 507", .stream = &manifest_stream,
	    .summary = "the capture's manifest: the image is published" },
	{ NULL },
};
