/* The route table: which handler answers a request, and what it may be
 * sent.
 *
 * Everything a route needs to refuse a request is decided here from the
 * request line and the headers, before the server reads a byte of body:
 * the path and method (404, 405 with Allow), the credentials (401, 403;
 * for the agent's routes the task its token names, 409 once it has
 * ended), and the declared length against the route's limit (413). */
#include "api/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

const struct api_route *const api_route_tables[] = {
	api_hosts_routes, api_tasks_routes, api_groups_routes, api_images_routes,
	api_mcast_routes, api_agent_routes, api_boot_routes, api_clients_routes,
	api_status_routes, api_tokens_routes, api_subnets_routes, api_events_routes,
	api_leases_routes, api_openapi_routes, api_transfers_routes, api_config_routes,
	api_stats_routes, api_scan_routes, api_envs_routes, api_diag_routes, api_wake_routes,
};
const size_t api_route_table_count = ARRAY_SIZE(api_route_tables);

bool
api_owns(const char *path)
{
	return strcmp(path, "metrics") == 0 || strcmp(path, "api") == 0 ||
	    strncmp(path, "api/", 4) == 0;
}

/* One segment of a pattern against the path at *p: a literal, "{x}" (one
 * segment, kept in arg) or "{x*}" (the rest, kept in arg).  Advances *p. */
static bool
segment_match(const char *pat, size_t plen, const char **p, char *arg, bool *took)
{
	size_t n = strcspn(*p, "/");

	*took = false;
	if (plen >= 2 && pat[0] == '{' && pat[plen - 1] == '}') {
		if (pat[plen - 2] == '*')
			n = strlen(*p);
		if (n == 0 || n >= API_ARG_MAX)
			return false;
		memcpy(arg, *p, n);
		arg[n] = '\0';
		*took = true;
	} else if (n != plen || memcmp(pat, *p, n) != 0) {
		return false;
	}
	*p += n;
	return true;
}

/* Does path match the route's pattern?  The {…} segments go to args. */
static bool
path_match(const char *pattern, const char *path, char args[API_ARGS_MAX][API_ARG_MAX])
{
	const char *p = path, *q = pattern;
	size_t nargs = 0;

	for (;;) {
		size_t plen = strcspn(q, "/");
		bool took;
		if (!segment_match(q, plen, &p, args[nargs < API_ARGS_MAX ? nargs :
		    API_ARGS_MAX - 1], &took))
			return false;
		nargs += took;
		q += plen;
		if (*q == '\0' || *p == '\0')
			return *q == '\0' && *p == '\0';
		q++;                    /* both at a '/' */
		p++;
	}
}

static bool
method_is(const char *route_method, const char *method)
{
	return strcmp(route_method, method) == 0 ||
	    (strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static void
allow_add(char *allow, size_t size, const char *method)
{
	size_t len = strlen(allow);

	if (strstr(allow, method) != NULL)
		return;
	snprintf(allow + len, size - len, "%s%s%s", len > 0 ? ", " : "", method,
	    strcmp(method, "GET") == 0 ? ", HEAD" : "");
}

/* The route for the call's method and path, with its arguments in c->arg;
 * NULL with 404 or 405 made. */
static const struct api_route *
route_find(struct api_call *c, struct api_response *rs)
{
	char args[API_ARGS_MAX][API_ARG_MAX];

	rs->allow[0] = '\0';
	for (size_t t = 0; t < api_route_table_count; t++)
		for (const struct api_route *r = api_route_tables[t]; r->method != NULL; r++) {
			if (!path_match(r->path, c->path, args))
				continue;
			if (method_is(r->method, c->method)) {
				memcpy(c->arg, args, sizeof c->arg);
				return r;
			}
			allow_add(rs->allow, sizeof rs->allow, r->method);
		}
	if (rs->allow[0] != '\0')
		api_reply_error(rs, 405, "%s is not allowed here (allowed: %s)", c->method,
		    rs->allow);
	else
		api_reply_error(rs, 404, "not found");
	return NULL;
}

/* The token's task has ended: 409, saying how, for every request (the
 * agent stops at this answer to its progress report). */
static void
task_ended(const struct store_task *t, struct api_response *rs)
{
	const char *how = t->state == TASK_CANCELLED ? "was cancelled" : "has ended";
	json_t *o = json_pack("{s:s,s:o}", "state", task_state_name(t->state), "message",
	    api_json_text(t->message));
	char text[400];

	snprintf(text, sizeof text, "task %" PRId64 " %s (%s): %s", t->id, how,
	    task_state_name(t->state), t->message);
	if (o != NULL) {
		json_object_set_new(o, "error", api_json_text(text));
		json_object_set_new(o, "code", json_string("task_ended"));
	}
	api_reply_json(rs, 409, o);
}

/* An agent's route: the task its token names, of a type the route
 * serves, still active (and fetched, where the route needs it). */
static int
admit_task(struct api_call *c, const char *authorization, struct api_response *rs)
{
	const struct api_route *r = c->route;
	uint8_t hash[32];

	if (!api_bearer_hash(authorization, hash)) {
		api_reply_error(rs, 401, "a task token is required");
		return -EACCES;
	}
	if (store_task_by_token(c->st, hash, &c->task) < 0) {
		log_warn_peer(c->peer, NULL, "api: %s: agent request with an unknown task token",
		    c->peer);
		api_reply_error(rs, 403, "unknown task token");
		return -EACCES;
	}
	if (!task_state_active(c->task.state)) {
		task_ended(&c->task, rs);
		return -EALREADY;
	}
	if (r->task_types != 0 && (r->task_types & API_TASK_TYPE(c->task.type)) == 0) {
		api_reply_error(rs, 403, "not an agent endpoint for a %s task",
		    task_type_name(c->task.type));
		return -EACCES;
	}
	if (r->running && c->task.state != TASK_RUNNING) {
		api_reply_error(rs, 409, "fetch the task first");
		return -EAGAIN;
	}
	c->rs = rs;
	int rc = api_task_token_bind(c, &c->task, "agent request");
	if (rc == -ESRCH && store_task_get(c->st, c->task.id, &c->task) == 0)
		task_ended(&c->task, rs);
	else if (rc == -ESRCH)
		api_reply_error(rs, 403, "unknown task token");
	return rc < 0 ? -EACCES : 0;
}

/* A read or a change: a token whose scope allows it. */
static int
admit_scope(struct api_call *c, enum token_scope need, const char *authorization,
    struct api_response *rs)
{
	int scope = api_scope(c->api, c->st, authorization);

	if (scope < 0) {
		api_reply_error(rs, 401, "a valid API token is required (scope %s)",
		    token_scope_name(need));
		return -EACCES;
	}
	if (need == TOKEN_ADMIN && scope != TOKEN_ADMIN) {
		api_reply_error(rs, 403, "this token may only read: %s %s needs the admin scope",
		    c->method, c->route->path);
		return -EACCES;
	}
	return 0;
}

static int
admit(struct api_call *c, const struct api_request *rq, struct api_response *rs)
{
	const struct api_route *r = c->route;
	bool read = r->auth == API_READ || (r->auth == API_COUNTERS &&
	    c->api->cfg.counters_need_read);

	if ((r->auth == API_READ || r->auth == API_ADMIN) && c->api->cfg.https_port != 0 &&
	    !rq->secure) {
		api_reply_error(rs, 403, "this is served over HTTPS only (port %u)",
		    c->api->cfg.https_port);
		return -EACCES;
	}
	if ((read || r->auth == API_ADMIN) && admit_scope(c, read ? TOKEN_READ : TOKEN_ADMIN,
	    rq->authorization, rs) < 0)
		return -EACCES;
	if (r->auth == API_TASK && admit_task(c, rq->authorization, rs) < 0)
		return -EACCES;
	if (rq->has_length && rq->length > r->body_max) {
		if (r->body_max == 0)
			api_reply_error(rs, 413, "%s %s takes no body", c->method, r->path);
		else
			api_reply_error(rs, 413, "a body of %" PRIu64 " bytes is over this"
			    " request's limit of %zu", rq->length, r->body_max);
		return -EFBIG;
	}
	if (r->stream != NULL && r->stream->begin(c) < 0)
		return -EIO;
	return 0;
}

static void
call_copy(struct api_call *c, const struct api_request *rq)
{
	str_copy(c->method, rq->method, sizeof c->method);
	str_copy(c->path, rq->path, sizeof c->path);
	str_copy(c->host, rq->host != NULL ? rq->host : "", sizeof c->host);
	str_copy(c->last_event_id, rq->last_event_id != NULL ? rq->last_event_id : "",
	    sizeof c->last_event_id);
	str_copy(c->peer, rq->peer != NULL ? rq->peer : "", sizeof c->peer);
	c->local4 = rq->local4;
	c->peer4 = rq->peer4;
	c->nquery = MIN(rq->nquery, (size_t)API_QUERY_MAX);
	memcpy(c->query, rq->query, c->nquery * sizeof c->query[0]);
}

int
api_call_begin(struct api *a, const struct api_request *rq, struct api_call **out,
    struct api_response *rs)
{
	struct api_call *c = calloc(1, sizeof *c);

	memset(rs, 0, sizeof *rs);
	*out = NULL;
	if (c == NULL) {
		api_reply_error(rs, 503, "out of memory");
		return -ENOMEM;
	}
	c->api = a;
	call_copy(c, rq);
	c->route = route_find(c, rs);
	if (c->route == NULL)
		goto refused;
	c->st = api_thread_store(a->state);
	if (c->st == NULL && !c->route->no_store) {
		api_reply_error(rs, 503, "state store unavailable");
		goto refused;
	}
	c->rs = rs;
	if (admit(c, rq, rs) < 0)
		goto refused;
	c->rs = NULL;
	*out = c;
	return 0;
refused:
	free(c);
	return -EACCES;
}

size_t
api_call_body_max(const struct api_call *c)
{
	return c->route->body_max;
}

bool
api_call_streams(const struct api_call *c)
{
	return c->route->stream != NULL;
}

int
api_call_feed(struct api_call *c, const char *data, size_t len, struct api_response *rs)
{
	int rc;

	c->rs = rs;
	rc = c->route->stream->feed(c, data, len);
	c->rs = NULL;
	return rc;
}

void
api_call_answer(struct api_call *c, const char *body, size_t len, struct api_response *rs)
{
	memset(rs, 0, sizeof *rs);
	c->rs = rs;
	c->body = body;
	c->body_len = len;
	c->route->handler(c);
	c->body = NULL;
	if (rs->status == 0)
		api_reply_error(rs, 500, "no answer");
	c->rs = NULL;
}

void
api_call_end(struct api_call *c)
{
	if (c == NULL)
		return;
	if (c->stream != NULL && c->route->stream != NULL)
		c->route->stream->abort(c);
	free(c);
}
