/* pxectl watch [N]: the server's events as they happen (GET
 * /api/v1/events, Server-Sent Events), one line each, until interrupted
 * or N events were printed.  --json prints each event's JSON. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json_text.h"
#include "core/sse.h"
#include "core/util.h"
#include "core/version.h"
#include "ctl/ctl.h"

struct watch {
	const struct ctl *c;
	long left;                      /* events still to print; < 0: no end */
	struct sse_reader sse;          /* core/sse.h */
};

static void
print_human(const char *kind, json_t *d)
{
	char when[16];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(when, sizeof when, "%H:%M:%S", &tm);
	if (strcmp(kind, "boot") == 0)
		printf("%s  boot   %s  %-16s %s\n", when, ctl_text(json_object_get(d, "mac"), false),
		    ctl_text(json_object_get(d, "kind"), false),
		    ctl_text(json_object_get(d, "detail"), false));
	else if (strcmp(kind, "task") == 0)
		printf("%s  task   %" JSON_INTEGER_FORMAT " %s %s %s %s %" JSON_INTEGER_FORMAT "/%"
		    JSON_INTEGER_FORMAT "  %s\n", when,
		    json_integer_value(json_object_get(d, "id")),
		    ctl_text(json_object_get(d, "host"), false),
		    ctl_text(json_object_get(d, "type"), false),
		    ctl_text(json_object_get(d, "state"), false),
		    ctl_text(json_object_get(d, "phase"), false),
		    json_integer_value(json_object_get(d, "bytes")),
		    json_integer_value(json_object_get(d, "total")),
		    ctl_text(json_object_get(d, "message"), false));
	else if (strcmp(kind, "mcast") == 0)
		printf("%s  mcast  %s %s pass %" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT
		    " bytes sent\n", when, ctl_text(json_object_get(d, "name"), false),
		    ctl_text(json_object_get(d, "state"), false),
		    json_integer_value(json_object_get(d, "pass")),
		    json_integer_value(json_object_get(d, "bytes_sent")));
	else if (strcmp(kind, "host") == 0)
		printf("%s  host   %s %s\n", when, ctl_text(json_object_get(d, "mac"), false),
		    ctl_text(json_object_get(d, "change"), false));
	else
		printf("%s  %-6s %s\n", when, kind, ctl_text(json_object_get(d, "lost"), false));
}

/* text from the server as a JSON string: valid UTF-8 whatever it holds */
static json_t *
json_from_text(const char *text, size_t len)
{
	char *buf = malloc(3 * len + 1);
	json_t *v;

	if (buf == NULL)
		return json_string("");
	utf8_sanitize(buf, 3 * len + 1, text, len);
	v = json_string(buf);
	free(buf);
	return v;
}

/* --json: one JSON object a line whatever the server sent (its data as a
 * string when it is not JSON). */
static void
print_json(const struct sse_event *e, json_t *d)
{
	json_t *o = json_object();
	char *line;

	json_object_set_new(o, "event", json_from_text(e->kind, strlen(e->kind)));
	json_object_set_new(o, "data", d != NULL ? json_incref(d) : json_from_text(e->data, e->len));
	line = json_text(o, JSON_COMPACT, NULL);
	json_decref(o);
	if (line != NULL)
		printf("%s\n", line);
	free(line);
}

/* One event: printed; false once N were. */
static bool
on_event(void *arg, const struct sse_event *e)
{
	struct watch *w = arg;
	json_t *d = json_loadb(e->data, e->len, 0, NULL);

	if (w->c->json)
		print_json(e, d);
	else if (d != NULL)
		print_human(e->kind, d);
	json_decref(d);
	fflush(stdout);
	if (w->left > 0)
		w->left--;
	return w->left != 0;
}

static size_t
on_bytes(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct watch *w = userdata;
	size_t n = size * nmemb;

	/* 0 ends the transfer: N events printed */
	return sse_feed(&w->sse, ptr, n) ? n : 0;
}

int
ctl_watch(const struct ctl *c, int argc, char **argv)
{
	struct watch *w = calloc(1, sizeof *w);
	struct curl_slist *hdrs = NULL;
	char url[1024], auth[600];
	long status = 0;
	CURL *curl;
	CURLcode rc;

	if (w == NULL || argc > 1 || (argc == 1 && (w->left = strtol(argv[0], NULL, 10)) <= 0)) {
		free(w);
		fprintf(stderr, "pxectl: watch [N]\n");
		return 2;
	}
	if (argc == 0)
		w->left = -1;
	w->c = c;
	sse_reader_init(&w->sse, on_event, w);
	curl = curl_easy_init();
	snprintf(url, sizeof url, "%s/api/v1/events", c->server);
	if (c->token != NULL) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	if (c->cacert != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->cacert);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_bytes);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "pxectl/" PXED_VERSION);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(hdrs);
	if (w->left != 0 && (rc != CURLE_OK || status != 200)) {
		fprintf(stderr, "pxectl: watch: %s\n", status == 401 ?
		    "a valid API token is required" : rc != CURLE_OK ? curl_easy_strerror(rc) :
		    "the server refused");
		free(w);
		return 1;
	}
	free(w);
	return 0;
}
