/* A task's own options and its agent's report.
 *
 * Options: what a task type takes beyond image/verify/after (deploy:
 * no_grow; capture: outside_partitions, raw_encrypted; scan: quarantine;
 * reset-password: user, unlock, enable, list, windows; restore: of), taken
 * from POST /api/v1/tasks, checked, kept as a JSON object in the store
 * (schema 12) and handed to the agent inside its task.
 *
 * Report: what an agent sends with its result (a scan's findings, a
 * password task's accounts).  Untrusted: bounded in size, count and
 * string length; jansson has refused invalid UTF-8; pxectl escapes it
 * before a terminal. */
#include "api/task_options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_text.h"
#include "core/log.h"
#include "core/util.h"
#include "api/internal.h"

#define OPTION_TEXT_MAX 255
#define REPORT_ITEMS_MAX 4096
#define REPORT_STRING_MAX 4096
#define REPORT_DEPTH_MAX 4

struct option_rule {
	enum task_type type;
	const char *key;
	json_type kind;                 /* JSON_TRUE: a boolean */
};

static const struct option_rule rules[] = {
	{ TASK_DEPLOY, "no_grow", JSON_TRUE },
	{ TASK_CAPTURE, "outside_partitions", JSON_TRUE },
	{ TASK_CAPTURE, "raw_encrypted", JSON_TRUE },
	{ TASK_SCAN, "quarantine", JSON_TRUE },
	{ TASK_RESET_PASSWORD, "user", JSON_STRING },
	{ TASK_RESET_PASSWORD, "unlock", JSON_TRUE },
	{ TASK_RESET_PASSWORD, "enable", JSON_TRUE },
	{ TASK_RESET_PASSWORD, "list", JSON_TRUE },
	{ TASK_RESET_PASSWORD, "windows", JSON_STRING },
	{ TASK_RESTORE, "of", JSON_INTEGER },
};

/* Printable text: no control characters (UTF-8 beyond ASCII is kept). */
static bool
option_text_ok(const char *s, size_t len)
{
	if (len == 0 || len > OPTION_TEXT_MAX || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static int
option_take(const struct option_rule *r, json_t *v, json_t *out, char *err, size_t errlen)
{
	bool ok;

	if (r->kind == JSON_TRUE)
		ok = json_is_boolean(v);
	else if (r->kind == JSON_STRING)
		ok = json_is_string(v) && option_text_ok(json_string_value(v),
		    json_string_length(v));
	else
		ok = json_is_integer(v) && json_integer_value(v) > 0;
	if (!ok) {
		snprintf(err, errlen, "\"%s\" is not %s", r->key, r->kind == JSON_TRUE ?
		    "a boolean" : r->kind == JSON_STRING ? "printable text of 1-255 bytes" :
		    "a task id");
		return -EINVAL;
	}
	if (r->kind == JSON_TRUE && !json_is_true(v))
		return 0;                       /* false is the default: not kept */
	return json_object_set(out, r->key, v) == 0 ? 0 : -ENOMEM;
}

static int
options_required(enum task_type type, json_t *o, char *err, size_t errlen)
{
	if (type == TASK_RESET_PASSWORD && json_object_get(o, "user") == NULL &&
	    json_object_get(o, "list") == NULL) {
		snprintf(err, errlen, "a reset-password task needs \"user\" (or \"list\": true)");
		return -EINVAL;
	}
	if (type == TASK_RESTORE && json_object_get(o, "of") == NULL) {
		snprintf(err, errlen, "a restore task needs \"of\": the scan task whose "
		    "quarantine it puts back");
		return -EINVAL;
	}
	return 0;
}

int
task_options_parse(enum task_type type, json_t *body, char *out, size_t size,
    char *err, size_t errlen)
{
	json_t *o = json_object();
	char *text = NULL;
	int rc = o != NULL ? 0 : -ENOMEM;

	for (size_t i = 0; rc == 0 && i < ARRAY_SIZE(rules); i++) {
		json_t *v = json_object_get(body, rules[i].key);
		if (v == NULL || json_is_null(v))
			continue;
		if (rules[i].type != type) {
			snprintf(err, errlen, "\"%s\" is not an option of a %s task",
			    rules[i].key, task_type_name(type));
			rc = -EINVAL;
		} else {
			rc = option_take(&rules[i], v, o, err, errlen);
		}
	}
	if (rc == 0)
		rc = options_required(type, o, err, errlen);
	if (rc == 0 && (text = json_text(o, JSON_COMPACT | JSON_SORT_KEYS, NULL)) == NULL)
		rc = -ENOMEM;
	if (rc == 0 && str_copy(out, text, size) >= size) {
		snprintf(err, errlen, "options too long");
		rc = -EINVAL;
	}
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	free(text);
	json_decref(o);
	return rc;
}

json_t *
task_options_json(const char *text)
{
	json_t *o = json_loads(text != NULL ? text : "{}", 0, NULL);

	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	return o;
}

/* RFC 1123 host name labels: letters, digits and inner hyphens. */
bool
task_hostname_valid(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');
		if (!alnum && c != '-')
			return false;
		if (c == '-' && (label == 0 || i + 1 == len))
			return false;
		label++;
	}
	return true;
}

/* Every string bounded, every array and object bounded, nesting too. */
static bool
report_walk(json_t *v, int depth, size_t *items)
{
	const char *key;
	json_t *x;
	size_t i;

	if (depth > REPORT_DEPTH_MAX || ++*items > REPORT_ITEMS_MAX * 8)
		return false;
	if (json_is_string(v))
		return json_string_length(v) <= REPORT_STRING_MAX &&
		    strlen(json_string_value(v)) == json_string_length(v);
	if (json_is_array(v)) {
		if (json_array_size(v) > REPORT_ITEMS_MAX)
			return false;
		json_array_foreach(v, i, x)
			if (!report_walk(x, depth + 1, items))
				return false;
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, x)
			if (strlen(key) > 64 || !report_walk(x, depth + 1, items))
				return false;
	}
	return true;
}

int
task_report_text(json_t *report, char **out)
{
	size_t items = 0;

	*out = NULL;
	if (!json_is_object(report) || !report_walk(report, 0, &items))
		return -EINVAL;
	*out = json_text(report, JSON_COMPACT, NULL);
	if (*out == NULL)
		return -ENOMEM;
	if (strlen(*out) > STORE_TASK_REPORT_MAX) {
		free(*out);
		*out = NULL;
		return -E2BIG;
	}
	return 0;
}

/* ---- the API's glue (tasks.c, hosts.c, agent.c, api.c call these) ---- */

int
api_task_options(json_t *body, enum task_type type, bool group, char *out, size_t size,
    struct api_response *rs)
{
	char err[160];

	if (task_options_parse(type, body, out, size, err, sizeof err) < 0) {
		api_reply_error(rs, 400, "%s", err);
		return -EINVAL;
	}
	if (group && (type == TASK_RESET_PASSWORD || type == TASK_RESTORE)) {
		api_reply_error(rs, 400, "a %s task is for one host, not a group",
		    task_type_name(type));
		return -EINVAL;
	}
	return 0;
}

/* A restore puts back the quarantine of a scan task of the same host that
 * ended done with "quarantine". */
int
api_task_restore_check(struct store *st, const char *mac, const char *options,
    struct api_response *rs)
{
	json_t *o = task_options_json(options);
	json_int_t of = json_integer_value(json_object_get(o, "of"));
	struct store_task scan;
	int rc = 0;

	json_decref(o);
	if (store_task_get(st, of, &scan) < 0 || scan.type != TASK_SCAN ||
	    strcmp(scan.mac, mac) != 0) {
		api_reply_error(rs, 404, "no scan task %lld of host %s", (long long)of, mac);
		return -ENOENT;
	}
	o = task_options_json(scan.options);
	if (!json_is_true(json_object_get(o, "quarantine")) || scan.state != TASK_DONE) {
		api_reply_error(rs, 409, "task %lld is not a finished scan with quarantine",
		    (long long)of);
		rc = -EINVAL;
	}
	json_decref(o);
	return rc;
}

void
api_task_json_report(struct store *st, json_t *o, int64_t id)
{
	char *text = NULL;
	json_t *r = NULL;

	if (o == NULL)
		return;
	if (store_task_report(st, id, &text) == 0 && text != NULL)
		r = json_loads(text, 0, NULL);
	free(text);
	json_object_set_new(o, "report", r != NULL ? r : json_null());
}

int
api_agent_task_extra(struct store *st, json_t *o, const struct store_task *t)
{
	json_t *opts = task_options_json(t->options);
	struct store_host h;
	int rc = json_object_update(o, opts) == 0 ? 0 : -ENOMEM;

	json_decref(opts);
	if (rc == 0 && t->type == TASK_DEPLOY && store_host_get(st, t->mac, &h) == 0) {
		const char *name = h.hostname[0] != '\0' ? h.hostname : h.name;
		if (task_hostname_valid(name))
			rc = json_object_set_new(o, "hostname", json_string(name)) == 0 ? 0 :
			    -ENOMEM;
		store_host_free(&h);
	}
	return rc;
}

int
api_agent_report(struct store *st, const struct store_task *t, json_t *body,
    struct api_response *rs)
{
	json_t *report = json_object_get(body, "report");
	char *text = NULL;
	int rc;

	if (report == NULL || json_is_null(report))
		return 0;
	rc = task_report_text(report, &text);
	if (rc < 0) {
		api_reply_error(rs, rc == -E2BIG ? 413 : 400, "\"report\": %s", rc == -E2BIG ?
		    "too large" : rc == -ENOMEM ? "out of memory" :
		    "not an object of bounded strings and lists");
		return rc;
	}
	rc = store_task_set_report(st, t->id, text);
	free(text);
	if (rc < 0)
		api_reply_error(rs, 500, "cannot store the report");
	return rc;
}

void
api_host_hostname(struct api_call *c)
{
	json_t *body = api_body_json(c);
	const char *hostname = NULL;
	char mac[STORE_MAC_TEXT];
	struct store_host h;

	if (body == NULL)
		return;
	if (json_unpack(body, "{s:s}", "hostname", &hostname) < 0 ||
	    (hostname[0] != '\0' && !task_hostname_valid(hostname)))
		api_reply_error(c->rs, 400, "expected {\"hostname\": \"...\"}: 1-63 letters, "
		    "digits and inner hyphens, or \"\" for the host's name");
	else if (api_resolve_host(c->st, c->arg[0], mac) < 0 ||
	    store_host_set_hostname(c->st, mac, hostname) < 0 ||
	    store_host_get(c->st, mac, &h) < 0)
		api_reply_error(c->rs, 404, "no host %.64s", c->arg[0]);
	else {
		log_info("api: host %s: hostname %s", mac, hostname[0] ? hostname : "(its name)");
		api_reply_json(c->rs, 200, api_host_json(&h));
		store_host_free(&h);
	}
	json_decref(body);
}
