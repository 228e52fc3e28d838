/* pxectl: talk to a running pxed over its HTTP API.
 *
 *   pxectl [--server URL] [--json] status
 *   pxectl [--server URL] metrics
 *
 * Speaks only the REST API (docs/API.md), never pxed's files. */
#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/version.h"

#define RESPONSE_MAX (4u << 20)

struct response {
	char *data;
	size_t len;
};

static size_t
collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct response *r = userdata;
	size_t n = size * nmemb;

	if (r->len + n > RESPONSE_MAX)
		return 0;
	char *grown = realloc(r->data, r->len + n + 1);
	if (grown == NULL)
		return 0;
	memcpy(grown + r->len, ptr, n);
	r->data = grown;
	r->len += n;
	r->data[r->len] = '\0';
	return n;
}

/* GET server + path; returns 0 with the body in *r, or prints why. */
static int
api_get(const char *server, const char *path, struct response *r)
{
	char url[1024], err[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURL *curl = curl_easy_init();

	if (curl == NULL)
		return -1;
	snprintf(url, sizeof url, "%s%s", server, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "pxectl/" PXED_VERSION);
	CURLcode rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "pxectl: %s: %s\n", url, err[0] ? err : curl_easy_strerror(rc));
		return -1;
	}
	if (status != 200) {
		fprintf(stderr, "pxectl: %s: HTTP %ld\n", url, status);
		return -1;
	}
	return 0;
}

static void
print_group(json_t *root, const char *group)
{
	const char *key;
	json_t *value;
	json_t *obj = json_object_get(root, group);

	json_object_foreach(obj, key, value) {
		printf("  %-22s %" JSON_INTEGER_FORMAT "\n", key, json_integer_value(value));
	}
}

static int
cmd_status(const char *server, int as_json)
{
	struct response r = { NULL, 0 };
	json_error_t jerr;

	if (api_get(server, "/api/v1/status", &r) != 0) {
		free(r.data);
		return 1;
	}
	if (as_json) {
		printf("%s\n", r.data);
		free(r.data);
		return 0;
	}
	json_t *root = json_loadb(r.data, r.len, 0, &jerr);
	free(r.data);
	if (root == NULL) {
		fprintf(stderr, "pxectl: bad answer from server: %s\n", jerr.text);
		return 1;
	}
	printf("pxed %s, up %" JSON_INTEGER_FORMAT " s\n",
	    json_string_value(json_object_get(root, "version")),
	    json_integer_value(json_object_get(root, "uptime_s")));
	printf("tftp:\n");
	print_group(root, "tftp");
	printf("http:\n");
	print_group(root, "http");
	json_decref(root);
	return 0;
}

static int
cmd_metrics(const char *server)
{
	struct response r = { NULL, 0 };
	int rc = api_get(server, "/metrics", &r);

	if (rc == 0)
		fputs(r.data, stdout);
	free(r.data);
	return rc == 0 ? 0 : 1;
}

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: pxectl [--server URL] [--json] status\n"
	    "       pxectl [--server URL] metrics\n"
	    "       pxectl --version\n\n"
	    "  --server URL   pxed's HTTP address (default $PXED_SERVER or http://127.0.0.1)\n"
	    "  --json         print the server's JSON as it is\n");
}

int
main(int argc, char **argv)
{
	const char *server = getenv("PXED_SERVER");
	const char *cmd = NULL;
	int as_json = 0, rc = 2;

	if (server == NULL)
		server = "http://127.0.0.1";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
			server = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			as_json = 1;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("pxectl %s\n", PXED_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (cmd == NULL && argv[i][0] != '-') {
			cmd = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cmd != NULL && strcmp(cmd, "status") == 0)
		rc = cmd_status(server, as_json);
	else if (cmd != NULL && strcmp(cmd, "metrics") == 0)
		rc = cmd_metrics(server);
	else
		usage(stderr);
	curl_global_cleanup();
	return rc;
}
