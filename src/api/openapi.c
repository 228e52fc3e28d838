/* GET /api/v1/openapi.json: the API described (OpenAPI 3.1), made from the
 * route tables themselves, so it cannot list a route the server does not
 * serve nor miss one it does.  The statuses of each operation are its
 * handler's (the table's "statuses") and those of the checks the router
 * makes before it: credentials, the task behind an agent's token, the
 * body's size and shape.  tests/integration/api_contract.sh checks each
 * one against what the server answers. */
#include "api/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/version.h"

static const struct {
	unsigned status;
	const char *text;
} reasons[] = {
	{ 200, "OK" }, { 201, "Created" }, { 204, "Done, no body" },
	{ 400, "Bad request: the body, a query argument or a path argument" },
	{ 401, "No token, or not a valid one" },
	{ 403, "The token may not do this (its scope, or its task)" },
	{ 404, "Not found" }, { 409, "In conflict with the state of the object" },
	{ 413, "The body is larger than this operation takes" },
	{ 422, "The content does not match its name" }, { 507, "No space left on the server" },
};

static void
status_add(bool set[600], const char *list)
{
	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t n = strspn(p, "0123456789");
		uint64_t v;
		if (n > 0 && parse_u64(p, n, 100, 599, &v) == 0)
			set[v] = true;
		p += n;
		p += strspn(p, " ");
		if (n == 0 && *p != '\0')
			p++;            /* not a number: skipped */
	}
}

size_t
api_route_all_statuses(const struct api_route *r, unsigned *out, size_t max)
{
	bool set[600] = { false };
	size_t n = 0;

	status_add(set, r->statuses);
	if (r->auth == API_READ || r->auth == API_ADMIN || r->auth == API_COUNTERS ||
	    r->auth == API_TASK)
		set[401] = true;
	if (r->auth == API_READ || r->auth == API_ADMIN || r->auth == API_TASK)
		set[403] = true;        /* READ: over plain HTTP when HTTPS is on */
	if (r->auth == API_TASK)
		set[409] = true;
	if (r->body_max > 0)
		set[413] = true;
	if (r->json_max > 0)
		set[400] = true;
	for (unsigned s = 100; s < 600 && n < max; s++)
		if (set[s])
			out[n++] = s;
	return n;
}

static const char *
reason(unsigned status)
{
	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "";
}

static const char *
access_name(enum api_auth a)
{
	static const char *const names[] = {
		[API_OPEN] = "open", [API_COUNTERS] = "counters", [API_READ] = "read",
		[API_ADMIN] = "admin", [API_TASK] = "task",
	};
	return (size_t)a < ARRAY_SIZE(names) ? names[a] : "?";
}

/* "/api/v1/boot/{file}" from "api/v1/boot/{file*}", and its parameters. */
static void
path_of(const char *pattern, char *out, size_t size, json_t *params)
{
	size_t o = str_copy(out, "/", size);

	for (const char *p = pattern; *p != '\0' && o + 1 < size; p++) {
		if (*p == '{') {
			size_t n = strcspn(p + 1, "*}");
			char name[API_ARG_MAX];
			snprintf(name, sizeof name, "%.*s", (int)n, p + 1);
			json_array_append_new(params, json_pack("{s:s,s:s,s:b,s:{s:s},s:s}", "name",
			    name, "in", "path", "required", 1, "schema", "type", "string",
			    "description", p[1 + n] == '*' ? "the rest of the path, slashes included" :
			    "one path segment"));
		}
		if (*p != '*')
			out[o++] = *p;
	}
	out[o] = '\0';
}

static void
query_params(const char *query, json_t *params)
{
	char name[32];

	for (const char *p = query; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, " ");
		snprintf(name, sizeof name, "%.*s", (int)n, p);
		json_array_append_new(params, json_pack("{s:s,s:s,s:b,s:{s:s}}", "name", name, "in",
		    "query", "required", 0, "schema", "type", "string"));
		p += n;
		while (*p == ' ')
			p++;
	}
}

/* Every error answer: {"error": message, "code": stable name}. */
static json_t *
error_content(void)
{
	return json_pack("{s:{s:{s:s}}}", "application/json", "schema", "$ref",
	    "#/components/schemas/Error");
}

static json_t *
error_schema(void)
{
	return json_pack("{s:s,s:[s,s],s:{s:{s:s,s:s},s:{s:s,s:s}}}", "type", "object",
	    "required", "error", "code", "properties",
	    "error", "type", "string", "description", "what went wrong, for a person",
	    "code", "type", "string", "description", "stable, for a program: bad_request, "
	    "unauthorized, forbidden, not_found, method_not_allowed, conflict, task_ended, "
	    "too_large, content_mismatch, too_many_requests, unavailable, no_space, server_error");
}

static json_t *
responses(const struct api_route *r)
{
	unsigned list[32];
	size_t n = api_route_all_statuses(r, list, ARRAY_SIZE(list));
	json_t *o = json_object();
	char key[8];

	for (size_t i = 0; i < n; i++) {
		json_t *resp = json_pack("{s:s}", "description", reason(list[i]));
		snprintf(key, sizeof key, "%u", list[i]);
		if (list[i] >= 400)
			json_object_set_new(resp, "content", error_content());
		json_object_set_new(o, key, resp);
	}
	json_object_set_new(o, "5XX", json_pack("{s:s,s:o}", "description",
	    "The server cannot answer now (its state store, memory)", "content",
	    error_content()));
	return o;
}

static json_t *
operation(const struct api_route *r, json_t *params)
{
	json_t *op = json_pack("{s:s,s:s,s:o,s:o}", "summary", r->summary != NULL ? r->summary :
	    "", "x-pxed-access", access_name(r->auth), "parameters", params,
	    "responses", responses(r));

	if (r->auth != API_OPEN)
		json_object_set_new(op, "security", json_pack("[{s:[]}]", "bearer"));
	if (r->body_max > 0)
		json_object_set_new(op, "requestBody", json_pack("{s:{s:{}},s:I}", "content",
		    r->json_max > 0 || r->stream != NULL ? "application/json" :
		    "application/octet-stream", "x-pxed-max-bytes", (json_int_t)r->body_max));
	return op;
}

static json_t *
document(void)
{
	json_t *paths = json_object();
	char path[256], method[8];

	for (size_t t = 0; t < api_route_table_count; t++)
		for (const struct api_route *r = api_route_tables[t]; r->method != NULL; r++) {
			json_t *params = json_array(), *item;
			path_of(r->path, path, sizeof path, params);
			query_params(r->query, params);
			item = json_object_get(paths, path);
			if (item == NULL)
				json_object_set_new(paths, path, item = json_object());
			for (size_t i = 0; r->method[i] != '\0' && i + 1 < sizeof method; i++)
				method[i] = (char)(r->method[i] | 0x20), method[i + 1] = '\0';
			json_object_set_new(item, method, operation(r, params));
		}
	return json_pack("{s:s,s:{s:s,s:s,s:s},s:{s:{s:{s:s,s:s}},s:{s:o}},s:o}", "openapi", "3.1.0",
	    "info", "title", "pxed", "version", PXED_VERSION, "description",
	    "The network boot and imaging server's API (docs/API.md). x-pxed-access: who may"
	    " call: open, counters (open unless metrics-auth = read), read, admin (token"
	    " scopes), task (the agent's task token).", "components", "securitySchemes",
	    "bearer", "type", "http", "scheme", "bearer", "schemas", "Error", error_schema(),
	    "paths", paths);
}

static void
openapi_get(struct api_call *c)
{
	api_reply_json(c->rs, 200, document());
}

const struct api_route api_openapi_routes[] = {
	{ "GET", "api/v1/openapi.json", API_OPEN, .handler = openapi_get, .statuses = "200",
	    .summary = "this API described (OpenAPI 3.1), made from the server's route tables" },
	{ NULL },
};
