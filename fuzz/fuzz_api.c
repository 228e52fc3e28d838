/* libFuzzer harness: HTTP requests through the REST API, handed over as
 * http/server.c hands them: the target resolved (http_path_resolve), its
 * query split at '&' and '=' and each value decoded once
 * (http_query_value_decode), api_call_begin (route, credentials, declared
 * length), the body buffered within the route's limit or fed to a
 * streaming route in three pieces, api_call_answer, a few reads of a
 * streamed answer, api_call_end.
 *
 * The API is a real one (api_open) on a state directory in /dev/shm that
 * holds an approved host with a running capture task, whose token the
 * input may use, and a read token beside the administrator's.  Requests
 * change that state; every EPOCH inputs it is thrown away and made again,
 * so a run stays bounded in disk and time (and a task the input cancelled
 * comes back).
 *
 * What must hold: a refusal before the body has one of the router's
 * statuses; an admitted call answers one its route declares (or 5XX); a
 * JSON answer is JSON; nothing crashes, leaks or reads out of bounds.
 *
 * Input: byte 0 the method, byte 1 the credentials (low 3 bits: none,
 * admin, read, the task's, "Bearer <line>", Basic, a wrong admin token,
 * "Bearer") and flags (0x08 secure, 0x10 Content-Length as a line, else
 * the body's length or, with 0x20, none); then lines: the target, Host,
 * Last-Event-ID, [Content-Length], [the bearer text]; the rest is the
 * body. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "api/internal.h"
#include "lab.h"
#include "core/log.h"
#include "core/util.h"
#include "http/internal.h"
#include "http/server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EPOCH 4000                      /* inputs before the state is made again */
#define BODY_BUFFER_MAX (4u << 20)      /* the server's body memory, in the harness */
#define HOST_MAC "52:54:00:12:34:56"

static const char *const methods[] = {
	"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "get",
};

static struct {
	char dir[64];                   /* /dev/shm/fuzz_api.XXXXXX */
	char state[128], images[128], token_file[160];
	struct api *api;
	char admin[80], read[80], task[80];
	unsigned epoch_left;
} fz;

struct fuzz_request {
	const char *method;
	const char *target;             /* NUL-terminated copies */
	const char *host, *last_event_id, *authorization;
	bool secure;
	bool has_length;
	uint64_t length;
	const char *body;
	size_t body_len;
};

/* The query of target (after '?') as MHD hands it to server.c. */
static int
query_split(char *query, struct api_request *rq)
{
	char *save = NULL;

	for (char *kv = strtok_r(query, "&", &save); kv != NULL; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		struct api_query_arg *q;
		if (eq != NULL)
			*eq = '\0';
		if (rq->nquery == API_QUERY_MAX || strlen(kv) >= sizeof q->key)
			continue;
		q = &rq->query[rq->nquery];
		str_copy(q->key, kv, sizeof q->key);
		if (http_query_value_decode(eq != NULL ? eq + 1 : "", q->value, sizeof q->value) < 0)
			return -EINVAL;
		rq->nquery++;
	}
	return 0;
}

static void
check_json(const struct api_response *rs)
{
	json_error_t err;
	json_t *v;

	if (rs->body == NULL || rs->type == NULL || strcmp(rs->type, "application/json") != 0)
		return;
	v = json_loadb(rs->body, rs->len, 0, &err);
	if (v == NULL) {
		fprintf(stderr, "status %u: not JSON: %.*s\n", rs->status, (int)MIN(rs->len, 200u),
		    rs->body);
		abort();
	}
	json_decref(v);
}

static bool
status_declared(const struct api_route *r, unsigned status)
{
	unsigned list[32];
	size_t n = api_route_all_statuses(r, list, 32);

	if (status >= 500)
		return true;
	for (size_t i = 0; i < n; i++)
		if (list[i] == status)
			return true;
	return false;
}

static void
stream_drain(struct api_response *rs)
{
	char buf[4096];

	for (int i = 0; i < 3 && rs->stream.read(rs->stream.ctx, buf, sizeof buf) > 0; i++)
		;
	rs->stream.done(rs->stream.ctx);
}

/* The body of an admitted call as server.c takes it: 0 with the buffered
 * copy (or the fed pieces), else the status the server answers. */
static unsigned
body_take(struct api_call *c, const struct fuzz_request *q, struct api_response *early,
    char **copy)
{
	size_t limit = api_call_body_max(c);
	uint64_t want = q->has_length ? q->length : limit;

	*copy = NULL;
	if (q->body_len > limit)
		return 413;
	if (api_call_streams(c)) {
		size_t third = q->body_len / 3;
		size_t cut[4] = { 0, third, 2 * third, q->body_len };
		for (int i = 0; i < 3; i++)
			if (cut[i + 1] > cut[i] && api_call_feed(c, q->body + cut[i],
			    cut[i + 1] - cut[i], early) < 0)
				return 1;       /* early holds the answer */
		return 0;
	}
	if (limit == 0)
		return 0;
	if (want > BODY_BUFFER_MAX)
		return 503;
	if (q->body_len > want)
		return 413;
	*copy = malloc(q->body_len > 0 ? q->body_len : 1);
	if (*copy == NULL)
		return 503;
	memcpy(*copy, q->body, q->body_len);
	return 0;
}

static void
answer_check(const struct api_route *route, struct api_response *rs)
{
	if (route != NULL && !status_declared(route, rs->status)) {
		fprintf(stderr, "%s %s answered %u, not declared\n", route->method, route->path,
		    rs->status);
		abort();
	}
	check_json(rs);
	if (rs->stream.read != NULL)
		stream_drain(rs);
	free(rs->body);
}

/* One request, end to end; its status (0: refused by the server before
 * the API), and the answer's body in *out when out is not NULL. */
static unsigned
request_run(const struct fuzz_request *q, char **out)
{
	char path[FILES_PATH_MAX], target[HTTP_TARGET_MAX];
	struct api_request rq = { 0 };
	struct api_response rs, early = { 0 };
	struct api_call *c = NULL;
	char *query, *copy = NULL;
	unsigned status;

	str_copy(target, q->target, sizeof target);
	query = strchr(target, '?');
	if (query != NULL)
		*query++ = '\0';
	if (http_path_resolve(target, strlen(target), "/srv/tftp", path, sizeof path) < 0 ||
	    !api_owns(path))
		return 0;
	rq.method = q->method;
	rq.path = path;
	rq.authorization = q->authorization;
	rq.host = q->host[0] != '\0' ? q->host : NULL;
	rq.last_event_id = q->last_event_id[0] != '\0' ? q->last_event_id : NULL;
	rq.peer = "192.0.2.2:40000";
	rq.peer4.s_addr = htonl(0xc0000202);
	rq.local4.s_addr = htonl(0xc0000201);
	rq.secure = q->secure;
	rq.has_length = q->has_length;
	rq.length = q->length;
	if (query != NULL && query_split(query, &rq) < 0)
		return 400;
	if (api_call_begin(fz.api, &rq, &c, &rs) < 0) {
		static const unsigned refusals[] = { 400, 401, 403, 404, 405, 409, 413, 503 };
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(refusals); i++)
			known |= rs.status == refusals[i];
		if (!known) {
			fprintf(stderr, "refused with %u\n", rs.status);
			abort();
		}
		status = rs.status;
		answer_check(NULL, &rs);
		return status;
	}
	status = body_take(c, q, &early, &copy);
	if (status == 1) {
		status = early.status;
		answer_check(c->route, &early);
	} else if (status == 0) {
		api_call_answer(c, copy, copy != NULL ? q->body_len : 0, &rs);
		status = rs.status;
		if (out != NULL && rs.body != NULL) {
			*out = strndup(rs.body, rs.len);
		}
		answer_check(c->route, &rs);
	}
	free(copy);
	api_call_end(c);
	return status;
}

/* A request of the set-up, with the administrator's token. */
static unsigned
setup_request(const char *method, const char *target, const char *auth, const char *body,
    char **out)
{
	struct fuzz_request q = {
		.method = method, .target = target, .host = "192.0.2.1",
		.last_event_id = "", .authorization = auth, .secure = true,
		.has_length = true, .length = body != NULL ? strlen(body) : 0,
		.body = body, .body_len = body != NULL ? strlen(body) : 0,
	};

	if (out != NULL)
		*out = NULL;
	return request_run(&q, out);
}

/* The value after key in text ("pxed.token=HEX ..." or "\"token\":\"HEX\""). */
static void
value_after(const char *text, const char *key, char *out, size_t size)
{
	const char *p = text != NULL ? strstr(text, key) : NULL;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(key);
	size_t n = strspn(p, "0123456789abcdefABCDEF");
	snprintf(out, size, "Bearer %.*s", (int)MIN(n, 70u), p);
}

/* A fresh state: the API, a host with a running capture task, a read
 * token. */
static void
state_make(void)
{
	struct api_config cfg = {
		.state_dir = fz.state, .image_dir = fz.images, .token_file = fz.token_file,
		.bootenv_url = "bootenv", .bootenv_args = "quiet", .chunk_mb = 4, .level = 3,
		.mcast_port = 9000, .mcast_ttl = 1, .mcast_slice = 1400, .mcast_rate_mbit = 100,
		.mcast_fec = "off", .timeline = true, .hosts_max = 64, .host_register_rate = 30,
	};
	char token[TOKEN_HEX + 1], *text;
	FILE *f;

	cfg.mcast_group.s_addr = htonl(0xefff0a01);
	lab_dir_fresh(fz.dir, (const char *const[]){ fz.state, fz.images, NULL });
	for (size_t i = 0; i < TOKEN_HEX; i++)
		token[i] = "0123456789abcdef"[i % 16];
	token[TOKEN_HEX] = '\0';
	f = fopen(fz.token_file, "w");
	if (f == NULL || fprintf(f, "%s\n", token) < 0 || fclose(f) != 0)
		abort();
	chmod(fz.token_file, 0600);
	snprintf(fz.admin, sizeof fz.admin, "Bearer %s", token);
	if (api_open(&fz.api, &cfg) != 0)
		abort();
	if (setup_request("POST", "/api/v1/hosts", fz.admin,
	    "{\"mac\":\"" HOST_MAC "\",\"name\":\"fuzz\"}", NULL) / 100 != 2 ||
	    setup_request("POST", "/api/v1/tasks", fz.admin,
	    "{\"host\":\"" HOST_MAC "\",\"type\":\"capture\",\"image\":\"fuzzed\"}", NULL) != 201)
		abort();
	setup_request("GET", "/api/v1/boot/52-54-00-12-34-56.ipxe", NULL, NULL, &text);
	value_after(text, "pxed.token=", fz.task, sizeof fz.task);
	free(text);
	if (setup_request("GET", "/api/v1/agent/task", fz.task, NULL, NULL) != 200)
		abort();
	setup_request("POST", "/api/v1/tokens", fz.admin,
	    "{\"name\":\"reader\",\"scope\":\"read\"}", &text);
	value_after(text, "\"token\":\"", fz.read, sizeof fz.read);
	free(text);
	if (fz.read[0] == '\0')
		abort();
	fz.epoch_left = EPOCH;
}

static void
state_drop(void)
{
	api_close(fz.api);
	fz.api = NULL;
	api_thread_store_drop();
}

static void
at_exit(void)
{
	if (fz.api != NULL)
		state_drop();
	lab_dir_remove(fz.dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_api", true, LOG_LEVEL_ERROR);
	log_set_level(LOG_LEVEL_ERROR);
	lab_dir_make(fz.dir, sizeof fz.dir, "fuzz_api");
	snprintf(fz.state, sizeof fz.state, "%s/state", fz.dir);
	snprintf(fz.images, sizeof fz.images, "%s/images", fz.dir);
	snprintf(fz.token_file, sizeof fz.token_file, "%s/state/api-token", fz.dir);
	state_make();
	atexit(at_exit);
	return 0;
}

/* The next line of the input (NUL-terminated copy in out). */
static void
line_take(const uint8_t **p, size_t *left, char *out, size_t size)
{
	const uint8_t *nl = memchr(*p, '\n', *left);
	size_t n = nl != NULL ? (size_t)(nl - *p) : *left;

	snprintf(out, size, "%.*s", (int)MIN(n, size - 1), (const char *)*p);
	*p += n + (nl != NULL);
	*left -= n + (nl != NULL);
}

static const char *
credentials(unsigned mode, const char *text, char *buf, size_t size)
{
	switch (mode) {
	case 1: return fz.admin;
	case 2: return fz.read;
	case 3: return fz.task;
	case 4: snprintf(buf, size, "Bearer %s", text); return buf;
	case 5: return "Basic YWRtaW46YWRtaW4=";
	case 6:
		str_copy(buf, fz.admin, size);
		buf[10] ^= 1;
		return buf;
	case 7: return "Bearer";
	default: return NULL;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char target[HTTP_TARGET_MAX], host[300], leid[40], length[40], bearer[200];
	char auth[300];
	struct fuzz_request q = { 0 };

	if (size < 2)
		return 0;
	if (fz.epoch_left-- == 0) {
		state_drop();
		state_make();
	}
	q.method = methods[data[0] % ARRAY_SIZE(methods)];
	unsigned mode = data[1] & 7;
	q.secure = (data[1] & 0x08) != 0;
	const uint8_t *p = data + 2;
	size_t left = size - 2;
	line_take(&p, &left, target, sizeof target);
	line_take(&p, &left, host, sizeof host);
	line_take(&p, &left, leid, sizeof leid);
	length[0] = '\0';
	if (data[1] & 0x10)
		line_take(&p, &left, length, sizeof length);
	bearer[0] = '\0';
	if (mode == 4)
		line_take(&p, &left, bearer, sizeof bearer);
	q.target = target;
	q.host = host;
	q.last_event_id = leid;
	q.authorization = credentials(mode, bearer, auth, sizeof auth);
	q.body = (const char *)p;
	q.body_len = left;
	if (data[1] & 0x10) {
		q.has_length = length[0] != '\0';
		if (q.has_length && parse_u64(length, strlen(length), 0, UINT64_MAX, &q.length) < 0)
			return 0;               /* the server answers 400 */
	} else if ((data[1] & 0x20) == 0) {
		q.has_length = true;
		q.length = left;
	}
	unsigned status = request_run(&q, NULL);
	if (getenv("FUZZ_API_TRACE") != NULL)   /* what each input got */
		fprintf(stderr, "%s %s: %u\n", q.method, target, status);
	return 0;
}
