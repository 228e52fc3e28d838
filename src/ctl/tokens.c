/* pxectl token: the API's tokens (docs/API.md, "Credentials"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"

static void
when(json_int_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0) {
		snprintf(out, size, "never");
		return;
	}
	localtime_r(&tt, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M", &tm);
}

static void
show_tokens(json_t *a)
{
	char created[32], used[32];
	size_t i;
	json_t *t;

	printf("%-5s  %-24s  %-6s  %-16s  %s\n", "ID", "NAME", "SCOPE", "CREATED", "LAST USED");
	json_array_foreach(json_object_get(a, "tokens"), i, t) {
		when(json_integer_value(json_object_get(t, "created")), created, sizeof created);
		when(json_integer_value(json_object_get(t, "last_used")), used, sizeof used);
		printf("%-5" JSON_INTEGER_FORMAT "  %-24s  %-6s  %-16s  %s\n",
		    json_integer_value(json_object_get(t, "id")),
		    ctl_text(json_object_get(t, "name"), false),
		    ctl_text(json_object_get(t, "scope"), false), created, used);
	}
}

/* The new token goes to stdout alone (a script can keep it), the rest to
 * stderr: it is shown this once. */
static void
show_created(json_t *t)
{
	fprintf(stderr, "token %s (%s) created; it is shown once:\n",
	    ctl_text(json_object_get(t, "name"), false), ctl_text(json_object_get(t, "scope"),
	    false));
	printf("%s\n", ctl_text(json_object_get(t, "token"), false));
}

static int
run(const struct ctl *c, const char *method, const char *path, json_t *body, const char *what,
    void (*show)(json_t *))
{
	json_t *answer = NULL;
	long status = ctl_request(c, method, path, body, &answer);
	int rc = 0;

	json_decref(body);
	if (status < 200 || status > 299) {
		ctl_print_error(what, status, answer);
		rc = 1;
	} else if (c->json && answer != NULL) {
		ctl_print_json(answer);
	} else if (show != NULL) {
		show(answer);
	}
	json_decref(answer);
	return rc;
}

int
ctl_token(const struct ctl *c, int argc, char **argv)
{
	char path[200];

	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return run(c, "GET", "/api/v1/tokens", NULL, "token list", show_tokens);
	if (argc == 2 && strcmp(argv[0], "create") == 0)
		return run(c, "POST", "/api/v1/tokens", json_pack("{s:s,s:s}", "name", argv[1],
		    "scope", c->scope != NULL ? c->scope : "read"), "token create", show_created);
	if (argc == 2 && strcmp(argv[0], "revoke") == 0 &&
	    strspn(argv[1], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	    strlen(argv[1]) && strlen(argv[1]) < 100) {
		snprintf(path, sizeof path, "/api/v1/tokens/%s", argv[1]);
		return run(c, "DELETE", path, NULL, "token revoke", NULL);
	}
	fprintf(stderr, "pxectl: token list | create NAME [--scope read|admin] | revoke ID|NAME\n");
	return 2;
}
