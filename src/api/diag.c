/* Diagnose and repair in the API (docs/DIAGNOSTICS.md): the parameters
 * of diagnose, wipe and boot tasks; the agent's test results and wipe
 * certificates; a task's report, a host's health and history; the layers
 * of the imaging environment a task needs. */
#include "api/diag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag_names.h"
#include "core/json_text.h"
#include "core/log.h"
#include "core/util.h"
#include "store/diag.h"

#define HEALTH_MAX 32
#define WIPES_SHOWN 10
#define DETAILS_MAX (192u << 10)        /* bytes of a result's details as stored */

/* ---- task parameters ---- */

/* "inventory, smart, ..." for error messages. */
static void
test_names(char *out, size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (int t = 0; t < DIAG_TEST_COUNT && n < size; t++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", t > 0 ? ", " : "",
		    diag_test_name((enum diag_test)t));
}

/* "tests": a list of names (or one string of names split by commas). */
static int
params_tests(struct api_call *c, json_t *v, json_t *out, unsigned *bits)
{
	char names[128], one[32];
	size_t i;
	json_t *item, *list = json_is_string(v) ? json_array() : json_incref(v);

	*bits = 0;
	if (json_is_string(v))          /* "smart,disk-read" */
		for (const char *p = json_string_value(v); *p != '\0';) {
			size_t n = strcspn(p, ",");
			snprintf(one, sizeof one, "%.*s", (int)MIN(n, sizeof one - 1), p);
			json_array_append_new(list, json_string(one));
			p += n + (p[n] == ',');
		}
	test_names(names, sizeof names);
	if (!json_is_array(list) || json_array_size(list) > 4 * DIAG_TEST_COUNT) {
		json_decref(list);
		api_reply_error(c->rs, 400, "\"tests\": a list of tests (%s)", names);
		return -EINVAL;
	}
	json_array_foreach(list, i, item) {
		int t = json_is_string(item) ? diag_test_parse(json_string_value(item)) : -1;
		if (t < 0) {
			api_reply_error(c->rs, 400, "unknown test \"%.32s\" (the tests: %s)",
			    json_is_string(item) ? json_string_value(item) : "?", names);
			json_decref(list);
			return -EINVAL;
		}
		if ((*bits & DIAG_TEST_BIT(t)) == 0)
			json_array_append_new(out, json_string(diag_test_name((enum diag_test)t)));
		*bits |= DIAG_TEST_BIT(t);
	}
	json_decref(list);
	return 0;
}

static int
params_diagnose(struct api_call *c, json_t *body, json_t *p)
{
	json_t *tests = json_object_get(body, "tests"), *d = json_object_get(body, "destructive");
	json_t *dur = json_object_get(body, "duration"), *list = json_array();
	json_t *mem = json_object_get(body, "memory_mb");
	unsigned bits = DIAG_TESTS_DEFAULT;

	json_object_set_new(p, "tests", list);
	if (tests != NULL && !json_is_null(tests) && params_tests(c, tests, list, &bits) < 0)
		return -EINVAL;
	if (json_array_size(list) == 0)
		for (int t = 0; t < DIAG_TEST_COUNT; t++)
			if (DIAG_TESTS_DEFAULT & DIAG_TEST_BIT(t))
				json_array_append_new(list, json_string(diag_test_name((enum diag_test)t)));
	if ((d != NULL && !json_is_boolean(d)) || (dur != NULL && (!json_is_integer(dur) ||
	    json_integer_value(dur) < 1 || json_integer_value(dur) > DIAG_DURATION_MAX)) ||
	    (mem != NULL && (!json_is_integer(mem) || json_integer_value(mem) < 1))) {
		api_reply_error(c->rs, 400, "\"destructive\": a boolean; \"duration\": 1 to %d"
		    " seconds; \"memory_mb\": a positive number", DIAG_DURATION_MAX);
		return -EINVAL;
	}
	if (mem != NULL)
		json_object_set(p, "memory_mb", mem);
	if ((bits & DIAG_TESTS_DESTRUCTIVE) != 0 && !json_is_true(d)) {
		api_reply_error(c->rs, 400, "disk-write overwrites every disk of the machine:"
		    " refused without --destructive (\"destructive\": true)");
		return -EINVAL;
	}
	json_object_set_new(p, "destructive", json_boolean(json_is_true(d)));
	json_object_set_new(p, "duration", json_integer(dur != NULL ?
	    json_integer_value(dur) : DIAG_DURATION_DEFAULT));
	return 0;
}

static int
params_wipe(struct api_call *c, json_t *body, json_t *p)
{
	json_t *v = json_object_get(body, "level");
	int level = v == NULL || json_is_null(v) ? WIPE_FAST :
	    json_is_string(v) ? wipe_level_parse(json_string_value(v)) : -1;

	if (level < 0) {
		api_reply_error(c->rs, 400, "\"level\": fast, zero, random or sanitize");
		return -EINVAL;
	}
	json_object_set_new(p, "level", json_string(wipe_level_name((enum wipe_level)level)));
	return 0;
}

static int
params_boot(struct api_call *c, json_t *body, json_t *p, struct store_task_spec *spec)
{
	json_t *v = json_object_get(body, "environment");
	const char *name = json_string_value(v);
	char err[300];
	int rc;

	if (name == NULL) {
		api_reply_error(c->rs, 400, "a boot task names an \"environment\"");
		return -EINVAL;
	}
	rc = api_env_exists(c->api, c->st, name, err, sizeof err);
	if (rc < 0) {
		api_reply_error(c->rs, rc == -ENOENT ? 404 : rc == -EEXIST ? 422 : 500, "%s", err);
		return rc;
	}
	json_object_set_new(p, "environment", json_string(name));
	spec->image = name;             /* lives as long as body */
	return 0;
}

int
api_task_params(struct api_call *c, int type, json_t *body, struct store_task_spec *spec,
    char *params, size_t size)
{
	static const char *const only[] = { "tests", "destructive", "duration", "memory_mb",
		"level", "environment" };
	json_t *p = json_object();
	char *text;
	int rc = 0;

	params[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(only) && rc == 0; i++) {
		bool mine = i < 4 ? type == TASK_DIAGNOSE : i == 4 ? type == TASK_WIPE :
		    type == TASK_BOOT;
		if (!mine && json_object_get(body, only[i]) != NULL) {
			api_reply_error(c->rs, 400, "\"%s\" is not for a %s task", only[i],
			    task_type_name((enum task_type)type));
			rc = -EINVAL;
		}
	}
	if (rc == 0 && type == TASK_DIAGNOSE)
		rc = params_diagnose(c, body, p);
	else if (rc == 0 && type == TASK_WIPE)
		rc = params_wipe(c, body, p);
	else if (rc == 0 && type == TASK_BOOT)
		rc = params_boot(c, body, p, spec);
	if (rc == 0 && json_object_size(p) > 0) {
		text = json_text(p, JSON_COMPACT, NULL);
		if (text == NULL || strlen(text) >= size) {
			api_reply_error(c->rs, 400, "task parameters too long");
			rc = -EINVAL;
		} else {
			str_copy(params, text, size);
			spec->params = params;
		}
		free(text);
	}
	json_decref(p);
	return rc;
}

/* ---- the agent's results ---- */

static bool
status_valid(const char *s)
{
	return strcmp(s, "pass") == 0 || strcmp(s, "fail") == 0 || strcmp(s, "skipped") == 0 ||
	    strcmp(s, "error") == 0;
}

static void
agent_diag(struct api_call *c)
{
	json_t *body = api_body_json(c), *details = NULL;
	const char *test = "", *status = "", *summary = "";
	json_int_t started = 0, ms = 0;
	struct store_diag_result r = { .task = c->task.id };
	int rc;

	if (body == NULL)
		return;
	if (json_unpack(body, "{s:s,s:s,s:I,s:I,s:s,s?o}", "test", &test, "status", &status,
	    "started", &started, "duration_ms", &ms, "summary", &summary, "details",
	    &details) < 0 || diag_test_parse(test) < 0 || !status_valid(status) || ms < 0 ||
	    (details != NULL && !json_is_object(details))) {
		json_decref(body);
		api_reply_error(c->rs, 400, "expected {\"test\": a test, \"status\": pass|fail|"
		    "skipped|error, \"started\", \"duration_ms\", \"summary\", \"details\": {}}");
		return;
	}
	str_copy(r.mac, c->task.mac, sizeof r.mac);
	str_copy(r.name, test, sizeof r.name);
	str_copy(r.status, status, sizeof r.status);
	r.started = started;
	r.duration_ms = ms;
	utf8_sanitize(r.summary, sizeof r.summary, summary, strlen(summary));
	r.details = details != NULL ? json_text(details, JSON_COMPACT, NULL) : NULL;
	if (r.details != NULL && strlen(r.details) > DETAILS_MAX) {
		free(r.details);
		r.details = strdup("{\"cut\":true}");
	}
	rc = store_diag_put(c->st, &r);
	free(r.details);
	json_decref(body);
	if (rc < 0) {
		api_reply_error(c->rs, 500, "cannot store the result");
		return;
	}
	log_info_peer(c->peer, c->task.mac, "api: task %" PRId64 " on %s: %s %s", c->task.id,
	    c->task.mac, r.name, r.status);
	api_reply_json(c->rs, 204, NULL);
}

static void
agent_wipe(struct api_call *c)
{
	json_t *body = api_body_json(c);
	const char *disk = "", *model = "", *serial = "", *method = "", *verify = "",
	    *message = "";
	json_int_t size = 0, started = 0, finished = 0, written = 0, verified = 0, wms = 0;
	struct store_wipe_cert w = { .task = c->task.id };
	int ok = 0;

	if (body == NULL)
		return;
	if (json_unpack(body, "{s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:I,s:s,s:I,s:b,s:s,s?I}", "disk",
	    &disk, "model", &model, "serial", &serial, "size", &size, "method", &method,
	    "started", &started, "finished", &finished, "bytes_written", &written, "verify",
	    &verify, "bytes_verified", &verified, "ok", &ok, "message", &message, "write_ms",
	    &wms) < 0 || size < 0 || written < 0 || verified < 0 || wms < 0 ||
	    (strcmp(verify, "pass") != 0 &&
	    strcmp(verify, "fail") != 0 && strcmp(verify, "none") != 0)) {
		json_decref(body);
		api_reply_error(c->rs, 400, "expected a wipe certificate (docs/API.md)");
		return;
	}
	str_copy(w.mac, c->task.mac, sizeof w.mac);
	utf8_sanitize(w.disk, sizeof w.disk, disk, strlen(disk));
	utf8_sanitize(w.model, sizeof w.model, model, strlen(model));
	utf8_sanitize(w.serial, sizeof w.serial, serial, strlen(serial));
	utf8_sanitize(w.method, sizeof w.method, method, strlen(method));
	utf8_sanitize(w.message, sizeof w.message, message, strlen(message));
	str_copy(w.verify, verify, sizeof w.verify);
	w.size = (uint64_t)size;
	w.started = started;
	w.finished = finished;
	w.bytes_written = (uint64_t)written;
	w.bytes_verified = (uint64_t)verified;
	w.write_ms = (uint64_t)wms;
	w.ok = ok;
	json_decref(body);
	if (store_wipe_put(c->st, &w) < 0) {
		api_reply_error(c->rs, 500, "cannot store the certificate");
		return;
	}
	log_info_peer(c->peer, c->task.mac, "api: task %" PRId64 " on %s: wipe certificate:"
	    " %s %s, %" PRIu64 " bytes written, verify %s", c->task.id, c->task.mac, w.disk,
	    w.method, w.bytes_written, w.verify);
	api_reply_json(c->rs, 204, NULL);
}

/* ---- reports, health, certificates ---- */

static json_t *
result_json(const struct store_diag_result *r, bool details)
{
	json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:o}", "test", r->name, "status",
	    r->status, "task", (json_int_t)r->task, "started", (json_int_t)r->started,
	    "duration_ms", (json_int_t)r->duration_ms, "summary", api_json_text(r->summary));
	json_t *d = details && r->details != NULL ? json_loads(r->details, 0, NULL) : NULL;

	if (details)
		json_object_set_new(o, "details", d != NULL ? d : json_object());
	return o;
}

/* The results of a task, as an array. */
static json_t *
report_json(struct store *st, int64_t task)
{
	struct store_diag_result r[DIAG_TEST_COUNT * 2];
	int n = store_diag_of_task(st, task, r, ARRAY_SIZE(r));
	json_t *arr = json_array();

	for (int i = 0; i < n; i++) {
		json_array_append_new(arr, result_json(&r[i], true));
		store_diag_free(&r[i]);
	}
	return arr;
}

static json_t *
wipe_json(const struct store_wipe_cert *w)
{
	return json_pack("{s:I,s:I,s:s,s:o,s:o,s:o,s:I,s:o,s:I,s:I,s:I,s:I,s:s,s:I,s:b,s:o}",
	    "id", (json_int_t)w->id, "task", (json_int_t)w->task, "host", w->mac,
	    "disk", api_json_text(w->disk), "model", api_json_text(w->model),
	    "serial", api_json_text(w->serial), "size", (json_int_t)w->size,
	    "method", api_json_text(w->method), "started", (json_int_t)w->started,
	    "finished", (json_int_t)w->finished, "bytes_written", (json_int_t)w->bytes_written,
	    "write_ms", (json_int_t)w->write_ms,
	    "verify", w->verify, "bytes_verified", (json_int_t)w->bytes_verified, "ok", w->ok,
	    "message", api_json_text(w->message));
}

/* The certificates of the host (of one task when task > 0). */
static json_t *
wipes_json(struct store *st, const char *mac, int64_t task, size_t max)
{
	struct store_wipe_cert w[WIPES_SHOWN * 2];
	int n = store_wipe_list(st, mac, 0, w, ARRAY_SIZE(w));
	json_t *arr = json_array();

	for (int i = 0; i < n && json_array_size(arr) < max; i++)
		if (task == 0 || w[i].task == task)
			json_array_append_new(arr, wipe_json(&w[i]));
	return arr;
}

void
api_task_extras(struct api_call *c, const struct store_task *t, json_t *o)
{
	json_t *p = t->params[0] != '\0' ? json_loads(t->params, 0, NULL) : NULL;

	json_object_set_new(o, "params", p != NULL ? p : json_object());
	if (t->type == TASK_DIAGNOSE)
		json_object_set_new(o, "report", report_json(c->st, t->id));
	if (t->type == TASK_WIPE)
		json_object_set_new(o, "certificates", wipes_json(c->st, t->mac, t->id,
		    WIPES_SHOWN));
}

void
api_host_extras(struct api_call *c, const char *mac, json_t *o)
{
	struct store_diag_result r[HEALTH_MAX];
	int n = store_diag_latest(c->st, mac, r, ARRAY_SIZE(r));
	struct store_host_where w;
	json_t *health = json_array();
	char addr[INET_ADDRSTRLEN] = "";

	for (int i = 0; i < n; i++) {
		json_array_append_new(health, result_json(&r[i], false));
		store_diag_free(&r[i]);
	}
	json_object_set_new(o, "health", health);
	json_object_set_new(o, "wipes", wipes_json(c->st, mac, 0, WIPES_SHOWN));
	if (store_host_where(c->st, mac, &w) == 0) {
		if (w.last_addr.s_addr != 0)
			inet_ntop(AF_INET, &w.last_addr, addr, sizeof addr);
		json_object_set_new(o, "last_addr", json_string(addr));
		json_object_set_new(o, "wol_password", json_boolean(w.wol_password[0] != '\0'));
	}
}

/* GET /api/v1/hosts/{host}/diagnostics: the host's reports, newest first. */
static void
host_diagnostics(struct api_call *c)
{
	int64_t tasks[STORE_DIAG_REPORTS_KEPT];
	char mac[STORE_MAC_TEXT];
	json_t *arr;
	int n;

	if (api_resolve_host(c->st, c->arg[0], mac) < 0) {
		api_reply_error(c->rs, 404, "no host %s", c->arg[0]);
		return;
	}
	n = store_diag_reports(c->st, mac, tasks, ARRAY_SIZE(tasks));
	arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:I,s:o}", "task", (json_int_t)tasks[i],
		    "results", report_json(c->st, tasks[i])));
	api_reply_json(c->rs, 200, json_pack("{s:s,s:o}", "host", mac, "reports", arr));
}

/* GET /api/v1/wipes[?host=HOST]: certificates, newest first, by pages. */
static void
wipes_list(struct api_call *c)
{
	const char *host = api_query(c, "host"), *after;
	char mac[STORE_MAC_TEXT] = "", last[24];
	struct store_wipe_cert *list;
	uint64_t before = 0;
	unsigned limit;
	json_t *arr;
	int n;

	if (api_page(c, &limit, &after) < 0)
		return;
	if ((host != NULL && api_resolve_host(c->st, host, mac) < 0) || (after[0] != '\0' &&
	    parse_u64(after, strlen(after), 1, INT64_MAX, &before) < 0)) {
		api_reply_error(c->rs, host != NULL && mac[0] == '\0' ? 404 : 400,
		    "?host=a known host, ?after=a certificate id");
		return;
	}
	list = calloc(limit, sizeof *list);
	n = list != NULL ? store_wipe_list(c->st, mac, (int64_t)before, list, limit) : -ENOMEM;
	if (n < 0) {
		free(list);
		api_reply_error(c->rs, 500, "cannot list the certificates");
		return;
	}
	arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, wipe_json(&list[i]));
	snprintf(last, sizeof last, "%" PRId64, n > 0 ? list[n - 1].id : 0);
	api_reply_page(c, "certificates", arr, store_wipe_count(c->st, mac), limit,
	    n > 0 ? last : NULL);
	free(list);
}

/* ---- the agent's task, the boot script ---- */

void
api_agent_task_extras(struct api_call *c, const struct store_task *t, json_t *o)
{
	json_t *p = t->params[0] != '\0' ? json_loads(t->params, 0, NULL) : NULL;
	char base[256], url[800];

	if (p == NULL)
		return;
	if (t->type == TASK_DIAGNOSE) {
		api_server_base(c, base, sizeof base);
		if (strncmp(c->api->bootenv_url, "http://", 7) == 0 ||
		    strncmp(c->api->bootenv_url, "https://", 8) == 0)
			snprintf(url, sizeof url, "%s/initrd", c->api->bootenv_url);
		else
			snprintf(url, sizeof url, "%s/%s/initrd", base, c->api->bootenv_url);
		json_object_set_new(p, "network_url", json_string(url));
		json_object_set_new(p, "mac", json_string(t->mac));
	}
	json_object_set_new(o, "params", p);
}

size_t
api_task_layers(const struct store_task *t, const char **out, size_t max)
{
	bool sanitize = t->type == TASK_WIPE && strstr(t->params, "\"sanitize\"") != NULL;

	if (max == 0 || (t->type != TASK_DIAGNOSE && !sanitize))
		return 0;
	out[0] = "diag";
	return 1;
}

void
api_host_seen_from(const struct api_call *c, const char *mac)
{
	if (c->peer4.s_addr != 0)
		(void)store_host_seen_at(c->st, mac, c->peer4);
}

/* ---- task creation: wake the hosts ---- */

/* The MACs of the tasks an answer made: {"host"} or {"tasks": [{"host"}]}. */
static json_t *
answer_hosts(json_t *answer)
{
	json_t *macs = json_array(), *tasks = json_object_get(answer, "tasks"), *t;
	size_t i;

	if (json_is_string(json_object_get(answer, "host")))
		json_array_append(macs, json_object_get(answer, "host"));
	json_array_foreach(tasks, i, t)
		if (json_is_string(json_object_get(t, "host")))
			json_array_append(macs, json_object_get(t, "host"));
	return macs;
}

void
api_task_created(struct api_call *c, json_t *body)
{
	json_t *answer, *macs, *mac, *sent, *report;
	size_t i;

	if (!json_is_true(json_object_get(body, "wake")) || c->rs->status != 201 ||
	    c->rs->body == NULL)
		return;
	answer = json_loadb(c->rs->body, c->rs->len, 0, NULL);
	if (answer == NULL)
		return;
	macs = answer_hosts(answer);
	sent = json_array();
	json_array_foreach(macs, i, mac) {
		report = NULL;
		(void)api_wake_host(c->api, c->st, json_string_value(mac), &report);
		json_array_append_new(sent, report != NULL ? report : json_null());
	}
	json_object_set_new(answer, "wake", sent);
	json_decref(macs);
	free(c->rs->body);
	c->rs->body = json_text(answer, JSON_COMPACT, NULL);
	c->rs->len = c->rs->body != NULL ? strlen(c->rs->body) : 0;
	json_decref(answer);
}

#define DIAGNOSE API_TASK_TYPE(TASK_DIAGNOSE)
#define WIPE API_TASK_TYPE(TASK_WIPE)

const struct api_route api_diag_routes[] = {
	{ "GET", "api/v1/hosts/{host}/diagnostics", API_READ, .handler = host_diagnostics,
	    .statuses = "200 404",
	    .summary = "the host's diagnose reports (its last 20), newest first" },
	{ "GET", "api/v1/wipes", API_READ, .handler = wipes_list,
	    .statuses = "200 400 404", .query = "limit after host",
	    .summary = "wipe certificates, newest first, by pages (?host, ?limit, ?after=ID)" },
	{ "POST", "api/v1/agent/diag", API_TASK, DIAGNOSE, .running = true,
	    .body_max = 256u << 10, .json_max = 20000, .handler = agent_diag, .statuses = "204",
	    .summary = "one test's result: test, status, started, duration_ms, summary, details" },
	{ "POST", "api/v1/agent/wipe", API_TASK, WIPE, .running = true, .body_max = 4096,
	    .json_max = 32, .handler = agent_wipe, .statuses = "204",
	    .summary = "a wipe's certificate" },
	{ NULL },
};
