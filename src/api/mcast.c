/* /api/v1/mcast: multicast deploy sessions (docs/API.md).
 *
 * POST creates a session and a deploy task for each of its hosts (a list,
 * the members of a group, or both: groups_api.c); a host's agent joins the
 * session when it fetches its task and gets the group, port, session id
 * and its receiver id with it.  Sessions live in memory:
 * after a restart of pxed their tasks deploy over HTTP. */
#include "api/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "mcast/fec.h"

static bool
name_valid(const char *name)
{
	return image_name_valid(name) && strlen(name) <= MCAST_NAME_MAX;
}

/* The session called name (the lock is held). */
static struct mcast_session *
find(struct api *m, const char *name, size_t *slot)
{
	for (size_t i = 0; i < API_MCAST_MAX; i++)
		if (m->mcast[i] != NULL && strcmp(mcast_session_config(m->mcast[i])->name, name) == 0) {
			if (slot != NULL)
				*slot = i;
			return m->mcast[i];
		}
	return NULL;
}

static json_t *
session_json(struct mcast_session *s)
{
	const struct mcast_session_config *c = mcast_session_config(s);
	struct mcast_session_info *in = malloc(sizeof *in);
	char group[INET_ADDRSTRLEN], fec[16];
	json_t *o, *rx = json_array();

	if (in == NULL)
		return NULL;
	mcast_session_info(s, in);
	inet_ntop(AF_INET, &c->group, group, sizeof group);
	for (size_t i = 0; i < in->nrx; i++)
		json_array_append_new(rx, json_pack("{s:s,s:I,s:I,s:s}", "id", "",
		    "done", (json_int_t)in->rx[i].done, "total", (json_int_t)in->rx[i].total,
		    "state", in->rx[i].state));
	o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:I,s:I,s:I,s:I,s:i,s:I,s:I,s:I,s:o}",
	    "name", c->name, "image", c->image, "state", mcast_session_state_name(in->state),
	    "group", group, "port", (int)c->port, "pass", (int)in->pass,
	    "rate", (json_int_t)in->rate, "bytes_sent", (json_int_t)in->bytes_sent,
	    "image_bytes", (json_int_t)in->image_bytes, "chunks", (json_int_t)in->chunks,
	    "min_receivers", (int)c->min_receivers, "created", (json_int_t)in->created,
	    "started", (json_int_t)in->started, "finished", (json_int_t)in->finished,
	    "receivers", rx);
	if (o != NULL) {
		json_object_set_new(o, "fec", json_string(mcast_fec_text(c->fec_k, c->fec_m, fec,
		    sizeof fec)));
		json_object_set_new(o, "parity_sent", json_integer((json_int_t)in->parity_sent));
	}
	if (o != NULL && in->error[0] != '\0')
		json_object_set_new(o, "error", json_string(in->error));
	free(in);
	return o;
}

/* The session's thread tells of a start, progress or its end: the
 * listeners of /api/v1/events hear it. */
static void
session_published(struct mcast_session *s, void *arg)
{
	(void)arg;
	api_publish("mcast", session_json(s));
}

/* A free slot, dropping the oldest ended session when full (lock held). */
static int
free_slot(struct api *m)
{
	int oldest = -1;
	struct mcast_session_info in;

	for (int i = 0; i < API_MCAST_MAX; i++) {
		if (m->mcast[i] == NULL)
			return i;
		mcast_session_info(m->mcast[i], &in);
		if (in.state != MCAST_WAITING && in.state != MCAST_SENDING && oldest < 0)
			oldest = i;
	}
	if (oldest >= 0) {
		mcast_session_destroy(m->mcast[oldest]);
		m->mcast[oldest] = NULL;
	}
	return oldest;
}

struct create_args {
	const char *name, *image, *group;
	json_t *hosts;
	json_int_t min_receivers, start_after, rate_mbit;
	int verify;
	struct api_targets targets;    /* the hosts and the group's members */
	const char *fec;                /* "off", "K,M", or NULL: mcast-fec */
	unsigned fec_k, fec_m;
	const char *after;              /* the tasks' after action, or NULL: reboot */
	enum task_after after_action;
};

static int
create_session(struct api *m, const struct create_args *a, char *err, size_t errlen)
{
	struct mcast_session_config c = {
		.repo = &m->repo, .port = (uint16_t)m->cfg.mcast_port, .ttl = m->cfg.mcast_ttl,
		.slice = m->cfg.mcast_slice,
		.rate_max = (uint64_t)(a->rate_mbit > 0 ? (unsigned)a->rate_mbit :
		    m->cfg.mcast_rate_mbit) * 125000u,
		.rate_min = (uint64_t)m->cfg.mcast_min_rate_mbit * 125000u,
		.min_receivers = a->min_receivers > 0 ? (unsigned)a->min_receivers :
		    (unsigned)a->targets.n,
		.hosts = (unsigned)a->targets.n,
		.start_after_s = a->start_after >= 0 ? (unsigned)a->start_after :
		    m->cfg.mcast_start_after,
		.fec_k = a->fec_k, .fec_m = a->fec_m,
		.on_change = session_published,
	};
	struct mcast_session *s;
	size_t old;
	int slot, rc;

	str_copy(c.name, a->name, sizeof c.name);
	str_copy(c.image, a->image, sizeof c.image);
	if (c.rate_min > c.rate_max)
		c.rate_min = c.rate_max;
	pthread_mutex_lock(&m->mcast_lock);
	if (find(m, a->name, &old) != NULL) {
		struct mcast_session_info in;
		mcast_session_info(m->mcast[old], &in);
		if (in.state == MCAST_WAITING || in.state == MCAST_SENDING) {
			pthread_mutex_unlock(&m->mcast_lock);
			snprintf(err, errlen, "session %s is running", a->name);
			return -EEXIST;
		}
		mcast_session_destroy(m->mcast[old]);
		m->mcast[old] = NULL;
	}
	slot = free_slot(m);
	c.group.s_addr = htonl(ntohl(m->cfg.mcast_group.s_addr) + m->mcast_seq % 64);
	rc = slot < 0 ? -ENOSPC : mcast_session_create(&s, &c, err, errlen);
	if (slot < 0)
		snprintf(err, errlen, "%d sessions are running", API_MCAST_MAX);
	if (rc == 0) {
		m->mcast[slot] = s;
		m->mcast_seq++;
	}
	pthread_mutex_unlock(&m->mcast_lock);
	return rc;
}

static void
session_drop(struct api *m, const char *name)
{
	size_t slot;

	pthread_mutex_lock(&m->mcast_lock);
	if (find(m, name, &slot) != NULL) {
		mcast_session_destroy(m->mcast[slot]);
		m->mcast[slot] = NULL;
	}
	pthread_mutex_unlock(&m->mcast_lock);
}

/* The body's fields; 0, or the reply made (400). */
static int
session_args(json_t *body, const char *fec_default, struct create_args *a,
    struct api_response *rs)
{
	char err[128];

	if (json_unpack(body, "{s:s,s:s,s?o,s?s,s?I,s?I,s?I,s?b,s?s,s?s}", "name", &a->name,
	    "image", &a->image, "hosts", &a->hosts, "group", &a->group, "min_receivers",
	    &a->min_receivers, "start_after", &a->start_after, "rate_mbit", &a->rate_mbit,
	    "verify", &a->verify, "fec", &a->fec, "after", &a->after) < 0 ||
	    !name_valid(a->name)) {
		api_reply_error(rs, 400, "expected {\"name\", \"image\", \"hosts\": [...],"
		    " \"group\", \"min_receivers\", \"start_after\", \"rate_mbit\","
		    " \"verify\", \"fec\", \"after\"}");
		return -EINVAL;
	}
	if (api_task_after(TASK_DEPLOY, a->after, &a->after_action, rs) < 0)
		return -EINVAL;
	if (mcast_fec_parse(a->fec != NULL ? a->fec : fec_default, &a->fec_k, &a->fec_m, err,
	    sizeof err) < 0) {
		api_reply_error(rs, 400, "fec: %s", err);
		return -EINVAL;
	}
	return 0;
}

static void
session_add(struct api_call *c)
{
	struct api *m = c->api;
	struct store *st = c->st;
	struct api_response *rs = c->rs;
	json_t *body = api_body_json(c);
	struct create_args *a = calloc(1, sizeof *a);
	char err[256];
	int rc;

	if (body == NULL || a == NULL) {
		if (a == NULL)
			api_reply_error(rs, 500, "out of memory");
		goto out;
	}
	a->start_after = -1;
	a->verify = 1;
	if (session_args(body, m->cfg.mcast_fec[0] != '\0' ? m->cfg.mcast_fec : "off", a,
	    rs) < 0)
		goto out;
	if (!image_name_valid(a->image) ||
	    repo_info(&m->repo, a->image, &(struct image_info){ 0 }) < 0) {
		api_reply_error(rs, 404, "no image %s", a->image);
		goto out;
	}
	if (api_targets_resolve(st, a->hosts, a->group, &a->targets, rs) < 0)
		goto out;
	if ((rc = create_session(m, a, err, sizeof err)) < 0) {
		api_reply_error(rs, rc == -EEXIST ? 409 : 500, "%s", err);
		goto out;
	}
	if (api_targets_tasks(st, &a->targets, &(struct store_task_spec){ .type = TASK_DEPLOY,
	    .image = a->image, .verify = a->verify, .mcast = a->name, .after = a->after_action },
	    NULL, rs) < 0) {
		session_drop(m, a->name);
		goto out;
	}
	log_info("api: multicast session %s: image %s to %zu hosts%s%s", a->name, a->image,
	    a->targets.n, a->group != NULL ? " of group " : "", a->group != NULL ? a->group : "");
	pthread_mutex_lock(&m->mcast_lock);
	api_publish("mcast", session_json(find(m, a->name, NULL)));
	api_reply_json(rs, 201, session_json(find(m, a->name, NULL)));
	pthread_mutex_unlock(&m->mcast_lock);
out:
	json_decref(body);
	free(a);
}

json_t *
api_mcast_sessions_json(struct api *m)
{
	json_t *arr = json_array();

	pthread_mutex_lock(&m->mcast_lock);
	for (size_t i = 0; i < API_MCAST_MAX; i++)
		if (m->mcast[i] != NULL)
			json_array_append_new(arr, session_json(m->mcast[i]));
	pthread_mutex_unlock(&m->mcast_lock);
	return arr;
}

/* This server's sessions, then those the other live servers run. */
static void
route_sessions_list(struct api_call *c)
{
	json_t *arr = api_mcast_sessions_json(c->api);

	(void)api_running_merge(c, "mcast", arr, API_RUNNING_MAX);
	api_reply_json(c->rs, 200, json_pack("{s:o}", "sessions", arr));
}

/* A session this server does not have: another live server's (shown by
 * GET, its actions refused with 409 naming that server), else 404. */
static void
session_elsewhere(struct api_call *c, bool act)
{
	char server[STORE_SERVER_NAME_MAX];
	json_t *o = api_running_find(c, "mcast", c->arg[0], server, sizeof server);

	if (o == NULL)
		api_reply_error(c->rs, 404, "no multicast session %s", c->arg[0]);
	else if (act)
		api_reply_error(c->rs, 409, "multicast session %s runs on server %s: ask its API",
		    c->arg[0], server);
	else
		api_reply_json(c->rs, 200, json_incref(o));
	json_decref(o);
}

/* One session's action, under the sessions' lock. */
static void
session_act(struct api_call *c, void (*act)(struct mcast_session *))
{
	struct mcast_session *s;

	pthread_mutex_lock(&c->api->mcast_lock);
	s = find(c->api, c->arg[0], NULL);
	if (s != NULL) {
		if (act != NULL)
			act(s);
		json_t *o = session_json(s);
		api_running_mark(c, o);
		api_reply_json(c->rs, 200, o);
	}
	pthread_mutex_unlock(&c->api->mcast_lock);
	if (s == NULL)
		session_elsewhere(c, act != NULL);
}

static void
route_session_show(struct api_call *c)
{
	session_act(c, NULL);
}

static void
route_session_start(struct api_call *c)
{
	session_act(c, mcast_session_start_now);
}

static void
route_session_cancel(struct api_call *c)
{
	session_act(c, mcast_session_cancel);
}

/* a session names at most API_TARGETS_MAX hosts of at most 63 characters */
#define SESSION_BODY_MAX (API_TARGETS_MAX * 72 + 1024)

const struct api_route api_mcast_routes[] = {
	{ "GET", "api/v1/mcast", API_READ, .handler = route_sessions_list,
	    .statuses = "200",
	    .summary = "multicast sessions and their receivers" },
	{ "POST", "api/v1/mcast", API_ADMIN, .body_max = SESSION_BODY_MAX,
	    .json_max = API_TARGETS_MAX + 32, .handler = session_add,
	    .statuses = "201 404 409",
	    .summary = "a multicast deploy of an image to hosts or a group" },
	{ "GET", "api/v1/mcast/{name}", API_READ, .handler = route_session_show,
	    .statuses = "200 404",
	    .summary = "one session" },
	{ "POST", "api/v1/mcast/{name}/start", API_ADMIN, .handler = route_session_start,
	    .statuses = "200 404 409",
	    .summary = "start now with the receivers that joined" },
	{ "POST", "api/v1/mcast/{name}/cancel", API_ADMIN, .handler = route_session_cancel,
	    .statuses = "200 404 409",
	    .summary = "cancel a session" },
	{ "DELETE", "api/v1/mcast/{name}", API_ADMIN, .handler = route_session_cancel,
	    .statuses = "200 404 409",
	    .summary = "cancel a session" },
	{ NULL },
};

void
api_mcast_leave(struct api *m, const char *name, int64_t task)
{
	struct mcast_session *s;

	pthread_mutex_lock(&m->mcast_lock);
	s = find(m, name, NULL);
	if (s != NULL)
		mcast_session_leave(s, (uint64_t)task);
	pthread_mutex_unlock(&m->mcast_lock);
}

json_t *
api_mcast_join(struct api_call *call, const char *name, int64_t task)
{
	struct api *m = call->api;
	struct mcast_session_info *in;
	struct mcast_session *s;
	char group[INET_ADDRSTRLEN], local[INET_ADDRSTRLEN], sid[17], rid[17];
	json_t *o = NULL;
	uint64_t id;

	if (name[0] == '\0' || (in = malloc(sizeof *in)) == NULL)
		return NULL;
	pthread_mutex_lock(&m->mcast_lock);
	s = find(m, name, NULL);
	id = s != NULL ? mcast_session_join(s, call->local4, (uint64_t)task) : 0;
	if (id != 0) {
		const struct mcast_session_config *c = mcast_session_config(s);
		mcast_session_info(s, in);
		inet_ntop(AF_INET, &c->group, group, sizeof group);
		inet_ntop(AF_INET, &call->local4, local, sizeof local);
		snprintf(sid, sizeof sid, "%016" PRIx64, in->session_id);
		snprintf(rid, sizeof rid, "%016" PRIx64, id);
		o = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:i,s:I,s:i}", "name", c->name,
		    "group", group, "port", (int)c->port, "session", sid, "receiver", rid,
		    "control", local, "control_port", (int)in->control_port,
		    "chunks", (json_int_t)in->chunks, "slice", (int)c->slice);
		json_object_set_new(o, "fec_k", json_integer(c->fec_k));
		json_object_set_new(o, "fec_m", json_integer(c->fec_m));
		uint32_t nf;
		const uint32_t *frames = mcast_session_frames(s, &nf);
		json_t *arr = json_array();
		for (uint32_t i = 0; i < nf; i++)
			json_array_append_new(arr, json_integer(frames[i]));
		json_object_set_new(o, "frames", arr);
	}
	pthread_mutex_unlock(&m->mcast_lock);
	free(in);
	return o;
}

void
api_mcast_close(struct api *m)
{
	pthread_mutex_lock(&m->mcast_lock);
	for (size_t i = 0; i < API_MCAST_MAX; i++) {
		mcast_session_destroy(m->mcast[i]);
		m->mcast[i] = NULL;
	}
	pthread_mutex_unlock(&m->mcast_lock);
}
