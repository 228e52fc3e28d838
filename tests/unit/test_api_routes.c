/* Unit test of the API's route tables (src/api/): every route well formed
 * (a known method, a path of segments with at most API_ARGS_MAX {args}, a
 * summary, statuses that are HTTP statuses), no (method, path) twice, and
 * the statuses the API document derives for each route. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/internal.h"

static void
check_route(const struct api_route *r)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE" };
	unsigned list[32];
	size_t nargs = 0, n;
	bool known = false;

	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		known = known || strcmp(r->method, methods[i]) == 0;
	if (!known)
		fail_msg("%s %s: unknown method", r->method, r->path);
	if (r->path[0] == '/' || strstr(r->path, "//") != NULL || r->path[strlen(r->path) - 1] == '/')
		fail_msg("%s: a path is relative, without empty segments", r->path);
	for (const char *p = r->path; (p = strchr(p, '{')) != NULL; p++)
		nargs++;
	if (nargs > API_ARGS_MAX)
		fail_msg("%s: more than %d arguments", r->path, API_ARGS_MAX);
	if (r->summary == NULL || r->summary[0] == '\0' || r->statuses == NULL)
		fail_msg("%s %s: no summary or statuses", r->method, r->path);
	n = api_route_all_statuses(r, list, 32);
	if (n == 0)
		fail_msg("%s %s: no status", r->method, r->path);
	for (size_t i = 0; i < n; i++)
		if (list[i] < 200 || list[i] > 599)
			fail_msg("%s %s: status %u", r->method, r->path, list[i]);
	if ((r->json_max > 0 || r->stream != NULL) && r->body_max == 0)
		fail_msg("%s %s: a JSON or streamed body with no body limit", r->method, r->path);
}

static void
test_tables(void **state)
{
	const struct api_route *seen[256];
	size_t nseen = 0;

	(void)state;
	for (size_t t = 0; t < api_route_table_count; t++)
		for (const struct api_route *r = api_route_tables[t]; r->method != NULL; r++) {
			check_route(r);
			for (size_t i = 0; i < nseen; i++)
				if (strcmp(seen[i]->method, r->method) == 0 &&
				    strcmp(seen[i]->path, r->path) == 0)
					fail_msg("%s %s twice", r->method, r->path);
			assert_true(nseen < 256);
			seen[nseen++] = r;
		}
	assert_true(nseen > 40);
}

static void
test_derived_statuses(void **state)
{
	struct api_route admin_json = { "POST", "api/v1/x", API_ADMIN, .body_max = 10,
	    .json_max = 4, .statuses = "201 409" };
	struct api_route agent = { "GET", "api/v1/x", API_TASK, .statuses = "200" };
	struct api_route open = { "GET", "api/v1/x", API_OPEN, .statuses = "200 404" };
	unsigned l[16];

	(void)state;
	assert_int_equal(api_route_all_statuses(&admin_json, l, 16), 6);
	assert_int_equal(l[0], 201);
	assert_int_equal(l[1], 400);            /* the JSON body */
	assert_int_equal(l[2], 401);
	assert_int_equal(l[3], 403);            /* a read token */
	assert_int_equal(l[4], 409);
	assert_int_equal(l[5], 413);            /* the body's size */
	assert_int_equal(api_route_all_statuses(&agent, l, 16), 4);  /* 200 401 403 409 */
	assert_int_equal(l[3], 409);            /* an ended task */
	assert_int_equal(api_route_all_statuses(&open, l, 16), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_derived_statuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
