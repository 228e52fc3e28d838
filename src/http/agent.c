/* The agent's side of the API.
 *
 * The agent holds its task's token (issued with the boot script,
 * boot_script.c).  Every agent request carries it as "Authorization:
 * Bearer TOKEN" and may touch only its own task; once the task has ended
 * it authorizes nothing (409, saying why).  docs/API.md lists the
 * endpoints, docs/IMAGING.md the trust model. */
#include "http/mgmt_internal.h"
#include "http/task_options.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "image/chunk.h"

#define MISSING_MAX 4096        /* hashes in one chunks/missing question */

/* ---- agent endpoints ---- */

static void
agent_task(struct mgmt *m, struct store *st, const struct mgmt_request *rq,
    struct store_task *t, struct mgmt_response *rs)
{
	char base[256], chunks[300];
	json_t *o, *man = NULL;

	if (t->type == TASK_DEPLOY) {
		size_t len = 0;
		char *text = repo_manifest_text(&m->repo, t->image, &len);
		man = text != NULL ? json_loadb(text, len, 0, NULL) : NULL;
		free(text);
		if (man == NULL) {
			store_task_finish(st, t->id, TASK_FAILED, "image is gone", "", mgmt_now());
			mgmt_reply_error(rs, 409, "image %s is not on the server", t->image);
			return;
		}
	}
	if (store_task_start(st, t->id, mgmt_now()) < 0) {
		json_decref(man);
		mgmt_reply_error(rs, 409, "task %" PRId64 " is not runnable", t->id);
		return;
	}
	mgmt_server_base(rq, base, sizeof base);
	snprintf(chunks, sizeof chunks, "%s/images/chunks/", base);
	o = json_pack("{s:I,s:s,s:s,s:n,s:b,s:I,s:s,s:I,s:i}", "id", (json_int_t)t->id,
	    "type", task_type_name(t->type), "image", t->image, "disk", "verify", t->verify,
	    "resume_offset", (json_int_t)t->resume_offset, "chunk_url", chunks,
	    "chunk_size", (json_int_t)m->cfg.chunk_mb << 20, "level", (int)m->cfg.level);
	if (o != NULL && mgmt_agent_task_extra(st, o, t) < 0) {
		json_decref(o);
		o = NULL;
	}
	if (o != NULL && man != NULL)
		json_object_set_new(o, "manifest", man);
	else
		json_decref(man);
	if (o != NULL && t->type == TASK_DEPLOY && t->mcast[0] != '\0') {
		json_t *mc = mgmt_mcast_join(m, rq, t->mcast, t->id);
		if (mc != NULL)
			json_object_set_new(o, "multicast", mc);
		else
			log_info("api: task %" PRId64 ": session %s is over: unicast deploy", t->id,
			    t->mcast);
	}
	log_info("api: task %" PRId64 " started by the agent on %s", t->id, t->mac);
	mgmt_event(st, t->mac, "task-start", "task %" PRId64 ": %s %s", t->id,
	    task_type_name(t->type), t->image);
	mgmt_reply_json(rs, 200, o);
}

static void
agent_progress(struct store *st, const struct mgmt_request *rq, const struct store_task *t,
    struct mgmt_response *rs)
{
	json_t *body = mgmt_body_json(rq, rs);
	const char *phase = "";
	json_int_t bytes = 0, total = 0, rate = 0, resume = 0;

	if (body == NULL)
		return;
	if (json_unpack(body, "{s:s,s:I,s:I,s?I,s?I}", "phase", &phase, "bytes", &bytes,
	    "total", &total, "rate", &rate, "resume_offset", &resume) < 0 ||
	    bytes < 0 || total < 0 || rate < 0 || resume < 0 || strlen(phase) > 15) {
		json_decref(body);
		mgmt_reply_error(rs, 400, "expected {\"phase\", \"bytes\", \"total\", \"rate\","
		    " \"resume_offset\"}");
		return;
	}
	if (store_task_progress(st, t->id, phase, (uint64_t)bytes, (uint64_t)total,
	    (uint64_t)rate, (uint64_t)resume) < 0)
		mgmt_reply_error(rs, 409, "task %" PRId64 " is not running", t->id);
	else
		mgmt_reply_json(rs, 204, NULL);
	json_decref(body);
}

static void
agent_inventory(struct store *st, const struct mgmt_request *rq, const struct store_task *t,
    struct mgmt_response *rs)
{
	json_t *body = mgmt_body_json(rq, rs);
	char *text;

	if (body == NULL)
		return;
	if (!json_is_object(body)) {
		json_decref(body);
		mgmt_reply_error(rs, 400, "inventory is a JSON object");
		return;
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL || store_host_set_inventory(st, t->mac, text) < 0)
		mgmt_reply_error(rs, 500, "cannot store the inventory");
	else
		mgmt_reply_json(rs, 204, NULL);
	free(text);
}

static void
agent_result(struct mgmt *m, struct store *st, const struct mgmt_request *rq,
    const struct store_task *t, struct mgmt_response *rs)
{
	json_t *body = mgmt_body_json(rq, rs);
	const char *message = "", *log_tail = "";
	char tail[STORE_TASK_LOG_MAX];
	int ok = 0;
	size_t n;

	if (body == NULL)
		return;
	if (json_unpack(body, "{s:b,s?s,s?s}", "ok", &ok, "message", &message,
	    "log", &log_tail) < 0) {
		json_decref(body);
		mgmt_reply_error(rs, 400, "expected {\"ok\": bool, \"message\", \"log\"}");
		return;
	}
	if (mgmt_agent_report(st, t, body, rs) < 0) {
		json_decref(body);
		return;
	}
	n = strlen(log_tail);
	str_copy(tail, n >= sizeof tail ? log_tail + n - (sizeof tail - 1) : log_tail, sizeof tail);
	if (store_task_finish(st, t->id, ok ? TASK_DONE : TASK_FAILED, message, tail,
	    mgmt_now()) < 0) {
		mgmt_reply_error(rs, 409, "task %" PRId64 " has ended already", t->id);
	} else {
		log_info("api: task %" PRId64 " on %s %s: %s", t->id, t->mac,
		    ok ? "done" : "failed", message);
		mgmt_event(st, t->mac, ok ? "task-done" : "task-failed", "task %" PRId64 ": %s",
		    t->id, message);
		mgmt_capture_ended(m, st, t, ok ? TASK_DONE : TASK_FAILED);
		mgmt_reply_json(rs, 204, NULL);
	}
	json_decref(body);
}

static void
agent_missing(struct mgmt *m, const struct mgmt_request *rq, struct mgmt_response *rs)
{
	json_t *body = mgmt_body_json(rq, rs), *out, *v;
	uint8_t sha[SHA256_LEN];
	size_t i;

	if (body == NULL)
		return;
	if (!json_is_array(body) || json_array_size(body) > MISSING_MAX) {
		json_decref(body);
		mgmt_reply_error(rs, 400, "expected an array of at most %d sha256 strings",
		    MISSING_MAX);
		return;
	}
	out = json_array();
	json_array_foreach(body, i, v) {
		if (!json_is_string(v) ||
		    sha256_parse(json_string_value(v), json_string_length(v), sha) < 0) {
			json_decref(out);
			json_decref(body);
			mgmt_reply_error(rs, 400, "item %zu is not a sha256", i);
			return;
		}
		if (!repo_has_chunk(&m->repo, sha))
			json_array_append(out, v);
	}
	json_decref(body);
	mgmt_reply_json(rs, 200, out);
}

static void
agent_put_chunk(struct mgmt *m, const struct mgmt_request *rq, const char *hex,
    struct mgmt_response *rs)
{
	uint8_t sha[SHA256_LEN];
	int rc;

	if (sha256_parse(hex, strlen(hex), sha) < 0) {
		mgmt_reply_error(rs, 404, "expected agent/chunks/SHA256");
		return;
	}
	rc = repo_put_chunk(&m->repo, sha, rq->body, rq->body_len);
	if (rc == -EBADMSG)
		mgmt_reply_error(rs, 400, "chunk %s: not one zstd frame with its size", hex);
	else if (rc == -EILSEQ)
		mgmt_reply_error(rs, 422, "chunk %s: content does not match its sha256", hex);
	else if (rc == -ENOSPC || rc == -EDQUOT)
		mgmt_reply_error(rs, 507, "chunk %s: no space left on the server", hex);
	else if (rc < 0)
		mgmt_reply_error(rs, 500, "chunk %s: %s", hex, strerror(-rc));
	else
		mgmt_reply_json(rs, rc == 1 ? 201 : 200, json_pack("{s:s}", "sha256", hex));
	if (rc < 0)
		log_warn("api: %s: chunk %.16s...: %s", rq->peer, hex, strerror(-rc));
}

static void
agent_put_manifest(struct mgmt *m, struct store *st, const struct mgmt_request *rq,
    const struct store_task *t, struct mgmt_response *rs)
{
	struct manifest man;
	char err[512];
	int rc = manifest_parse(rq->body, rq->body_len, &man, err, sizeof err);

	if (rc < 0) {
		mgmt_reply_error(rs, 400, "manifest: %s", err);
		return;
	}
	rc = strcmp(man.name, t->image) == 0 ? 0 : -EPERM;
	manifest_free(&man);
	if (rc < 0) {
		mgmt_reply_error(rs, 403, "this task captures image %s", t->image);
		return;
	}
	rc = mgmt_image_publish(m, st, t, rq->body, rq->body_len, err, sizeof err);
	if (rc == -ENOENT || rc == -EEXIST)
		mgmt_reply_error(rs, 409, "%s", err);
	else if (rc == -ENOSPC || rc == -EDQUOT)
		mgmt_reply_error(rs, 507, "no space left on the server");
	else if (rc < 0)
		mgmt_reply_error(rs, 500, "%s", err);
	else {
		log_info("api: image %s published by task %" PRId64, t->image, t->id);
		mgmt_reply_json(rs, 201, json_pack("{s:s}", "image", t->image));
	}
}

/* The token's task has ended: 409, saying how, for every request (the
 * agent stops at this answer to its progress report). */
static void
agent_task_ended(const struct store_task *t, struct mgmt_response *rs)
{
	const char *how = t->state == TASK_CANCELLED ? "was cancelled" : "has ended";
	json_t *o = json_pack("{s:s,s:s}", "state", task_state_name(t->state), "message",
	    t->message);
	char text[400];

	snprintf(text, sizeof text, "task %" PRId64 " %s (%s): %s", t->id, how,
	    task_state_name(t->state), t->message);
	if (o != NULL)
		json_object_set_new(o, "error", json_string(text));
	mgmt_reply_json(rs, 409, o);
}

void
mgmt_agent(struct mgmt *m, const struct mgmt_request *rq, const char *sub,
    struct mgmt_response *rs)
{
	bool get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
	bool put = strcmp(rq->method, "PUT") == 0;
	bool capture;
	uint8_t hash[32];
	struct store_task t;
	struct store *st;

	if (!mgmt_bearer_hash(rq, hash)) {
		mgmt_reply_error(rs, 401, "a task token is required");
		return;
	}
	st = mgmt_store(m, rs);
	if (st == NULL)
		return;
	if (store_task_by_token(st, hash, &t) < 0) {
		log_warn("api: %s: agent request with an unknown task token", rq->peer);
		mgmt_reply_error(rs, 403, "unknown task token");
		return;
	}
	if (!task_state_active(t.state)) {
		agent_task_ended(&t, rs);
		return;
	}
	capture = t.type == TASK_CAPTURE;
	if (get && strcmp(sub, "task") == 0)
		agent_task(m, st, rq, &t, rs);
	else if (post && strcmp(sub, "inventory") == 0)
		agent_inventory(st, rq, &t, rs);
	else if (t.state != TASK_RUNNING)
		mgmt_reply_error(rs, 409, "fetch the task first");
	else if (post && strcmp(sub, "progress") == 0)
		agent_progress(st, rq, &t, rs);
	else if (post && strcmp(sub, "result") == 0)
		agent_result(m, st, rq, &t, rs);
	else if (capture && post && strcmp(sub, "chunks/missing") == 0)
		agent_missing(m, rq, rs);
	else if (capture && put && strncmp(sub, "chunks/", 7) == 0)
		agent_put_chunk(m, rq, sub + 7, rs);
	else if (capture && put && strcmp(sub, "manifest") == 0)
		agent_put_manifest(m, st, rq, &t, rs);
	else
		mgmt_reply_error(rs, capture || !(put || post) ? 404 : 403,
		    "not an agent endpoint for a %s task", task_type_name(t.type));
}
