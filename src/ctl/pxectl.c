/* pxectl: talk to a running pxed over its HTTP API.
 *
 *   pxectl [--server URL] [--json] status
 *   pxectl [--server URL] [--json] clients
 *   pxectl [--server URL] [--json] client MAC
 *   pxectl [--server URL] metrics
 *   pxectl [--server URL] [--token T] [--json] host|group|image|task|mcast ...
 *                                                               (imaging.c)
 *   pxectl [--server URL] [--token T] [--json] subnet ... | reload  (subnets.c)
 *   pxectl [--server URL] [--token T] [--json] config | transfers
 *                                               | stats boots [HOURS]  (views.c)
 *
 * Speaks only the REST API (docs/API.md), never pxed's files. */
#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "core/version.h"
#include "ctl/ctl.h"

#define RESPONSE_MAX (4u << 20)

static const char *read_token;          /* for the plain GETs below */
static const char *ca_file;             /* --cacert, for https:// servers */

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

/* GET server + path; returns 0 with the body in *r, or prints why.
 * With quiet_404 a 404 returns 1 without a message. */
static int
api_get_status(const char *server, const char *path, struct response *r, bool quiet_404)
{
	char url[1024], err[CURL_ERROR_SIZE] = "", auth[600];
	struct curl_slist *hdrs = NULL;
	long status = 0;
	CURL *curl = curl_easy_init();

	if (curl == NULL)
		return -1;
	if (read_token != NULL) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", read_token);
		hdrs = curl_slist_append(hdrs, auth);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	}
	snprintf(url, sizeof url, "%s%s", server, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	if (ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "pxectl/" PXED_VERSION);
	CURLcode rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK) {
		fprintf(stderr, "pxectl: %s: %s\n", url, err[0] ? err : curl_easy_strerror(rc));
		return -1;
	}
	if (status == 401) {
		fprintf(stderr, "pxectl: %s: a valid API token is required (--token, $PXED_TOKEN"
		    " or --token-file)\n", url);
		return -1;
	}
	if (status == 404 && quiet_404)
		return 1;
	if (status != 200) {
		fprintf(stderr, "pxectl: %s: HTTP %ld%s\n", url, status,
		    status == 404 ? " (not found)" : "");
		return -1;
	}
	return 0;
}

static int
api_get(const char *server, const char *path, struct response *r)
{
	return api_get_status(server, path, r, false);
}

static json_t *
api_get_json(const char *server, const char *path, bool quiet_404, int *rc)
{
	struct response r = { NULL, 0 };
	json_error_t jerr;
	json_t *root = NULL;

	*rc = api_get_status(server, path, &r, quiet_404);
	if (*rc == 0) {
		root = json_loadb(r.data, r.len, 0, &jerr);
		if (root == NULL) {
			fprintf(stderr, "pxectl: bad answer from server: %s\n", jerr.text);
			*rc = -1;
		}
	}
	free(r.data);
	return root;
}

static size_t
read_request_body(char *dst, size_t size, size_t nitems, void *userdata)
{
	struct response *r = userdata;      /* data + len = what is left */
	size_t n = size * nitems < r->len ? size * nitems : r->len;

	memcpy(dst, r->data, n);
	r->data += n;
	r->len -= n;
	return n;
}

long
ctl_request(const struct ctl *c, const char *method, const char *path, json_t *body,
    json_t **out)
{
	char url[1024], auth[600], err[CURL_ERROR_SIZE] = "";
	struct response r = { NULL, 0 }, up = { NULL, 0 };
	struct curl_slist *hdrs = NULL;
	char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	CURL *curl = curl_easy_init();
	long status = 0;
	CURLcode rc;

	*out = NULL;
	if (curl == NULL) {
		free(text);
		return 0;
	}
	snprintf(url, sizeof url, "%s%s", c->server, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	if (c->cacert != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->cacert);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 600L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "pxectl/" PXED_VERSION);
	if (c->token != NULL) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (text != NULL) {
		up.data = text;
		up.len = strlen(text);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_request_body);
		curl_easy_setopt(curl, CURLOPT_READDATA, &up);
		curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(hdrs);
	free(text);
	if (rc != CURLE_OK) {
		fprintf(stderr, "pxectl: %s: %s\n", url, err[0] ? err : curl_easy_strerror(rc));
		free(r.data);
		return 0;
	}
	if (r.len > 0)
		*out = json_loadb(r.data, r.len, 0, NULL);
	free(r.data);
	return status;
}

#define TEXT_SLOTS 8             /* ctl_text() results alive at once */

const char *
ctl_text(json_t *v, bool lines)
{
	static char slots[TEXT_SLOTS][4 * 4096 + 1];
	static unsigned next;
	const char *s = json_string_value(v);
	char *out = slots[next++ % TEXT_SLOTS];

	text_escape_controls(out, sizeof slots[0], s != NULL ? s : "", lines);
	return out;
}

void
ctl_print_error(const char *what, long status, json_t *answer)
{
	json_t *err = json_object_get(answer, "error");
	const char *msg = json_is_string(err) ? ctl_text(err, false) : NULL;

	if (status == 0)
		return;                 /* ctl_request said why */
	fprintf(stderr, "pxectl: %s: %s (HTTP %ld)\n", what, msg != NULL ? msg :
	    status == 401 ? "a valid API token is required (--token or $PXED_TOKEN)" :
	    "failed", status);
}

void
ctl_print_json(json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT);

	printf("%s\n", text != NULL ? text : "null");
	free(text);
}

static void
print_event(json_t *e, bool with_mac)
{
	char when[32];
	time_t t = (time_t)(json_integer_value(json_object_get(e, "time_ms")) / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	if (with_mac)
		printf("  %-17s  %s  %-16s %s\n", ctl_text(json_object_get(e, "mac"), false),
		    when, ctl_text(json_object_get(e, "kind"), false),
		    ctl_text(json_object_get(e, "detail"), false));
	else
		printf("  %s  %-16s %s\n", when, ctl_text(json_object_get(e, "kind"), false),
		    ctl_text(json_object_get(e, "detail"), false));
}

/* The clients seen, newest first, with their last event. */
static int
cmd_clients(const char *server, int as_json, bool quiet_404)
{
	int rc;
	json_t *root = api_get_json(server, "/api/v1/clients", quiet_404, &rc);
	size_t i;
	json_t *e;

	if (root == NULL)
		return rc > 0 ? 0 : 1;
	if (as_json) {
		char *text = json_dumps(root, JSON_COMPACT);
		printf("%s\n", text != NULL ? text : "");
		free(text);
	} else {
		json_t *arr = json_object_get(root, "clients");
		printf("clients (%zu), newest first:\n", json_array_size(arr));
		json_array_foreach(arr, i, e)
			print_event(e, true);
	}
	json_decref(root);
	return 0;
}

/* One machine's boot timeline. */
static int
cmd_client(const char *server, const char *mac, int as_json)
{
	char path[128];
	int rc;
	size_t i;
	json_t *e;

	snprintf(path, sizeof path, "/api/v1/clients/%s", mac);
	json_t *root = api_get_json(server, path, false, &rc);
	if (root == NULL)
		return 1;
	if (as_json) {
		char *text = json_dumps(root, JSON_COMPACT);
		printf("%s\n", text != NULL ? text : "");
		free(text);
	} else {
		printf("boot timeline of %s:\n", mac);
		json_array_foreach(json_object_get(root, "events"), i, e)
			print_event(e, false);
	}
	json_decref(root);
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
	printf("api:\n");
	print_group(root, "api");
	json_decref(root);
	return cmd_clients(server, 0, true);     /* when DHCP is on */
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
	    "       pxectl [--server URL] [--json] clients\n"
	    "       pxectl [--server URL] [--json] client MAC\n"
	    "       pxectl [--server URL] metrics\n"
	    "       pxectl [options] host list | add MAC [NAME] | show HOST | rm HOST\n"
	    "                             | approve HOST | deny HOST\n"
	    "       pxectl [options] group list | show NAME | add NAME HOST... | rm NAME HOST...\n"
	    "                             | delete NAME\n"
	    "       pxectl [options] image list | show NAME | rm NAME | verify NAME\n"
	    "       pxectl [options] task list | show ID | cancel ID\n"
	    "                             | deploy HOST IMAGE [--no-verify]\n"
	    "                             | capture [--replace] HOST IMAGE\n"
	    "                             | shell HOST | wipe HOST | local HOST\n"
	    "       pxectl [options] task deploy --group GROUP IMAGE [--no-verify]\n"
	    "       pxectl [options] task deploy --multicast NAME [--group GROUP]\n"
	    "                             [--min-receivers N] [--start-after S] [--rate-mbit R]\n"
	    "                             [--fec off|K,M] IMAGE [HOST...]\n"
	    "       pxectl [options] mcast list | show NAME | start NAME | cancel NAME\n"
	    "       pxectl [options] token list | create NAME [--scope read|admin] | revoke ID|NAME\n"
	    "       pxectl [options] subnet list | show CIDR | enable CIDR [--proxy]\n"
	    "                             | disable CIDR\n"
	    "       pxectl [options] reload\n"
	    "       pxectl [options] config | transfers | stats boots [HOURS]\n"
	    "       pxectl [options] watch [N]\n"
	    "       pxectl --version\n\n"
	    "  --server URL       pxed's HTTP address (default $PXED_SERVER or http://127.0.0.1)\n"
	    "  --token TOKEN      API token for changes (default $PXED_TOKEN, else read\n"
	    "                     from --token-file)\n"
	    "  --token-file PATH  file holding the token (default /var/lib/pxed/api-token)\n"
	    "  --cacert FILE      the CA of an https:// server (or $PXED_CACERT)\n"
	    "  --json             print the server's JSON as it is\n"
	    "  --after ACTION     task deploy, capture, wipe: reboot (default), poweroff or\n"
	    "                     shell once the task succeeded\n"
	    "HOST is a MAC address or a host's name.\n");
}

/* The token: --token, $PXED_TOKEN, or the first line of the token file. */
static const char *
load_token(const char *given, const char *file, char *buf, size_t size)
{
	FILE *f;

	if (given != NULL)
		return given;
	if (getenv("PXED_TOKEN") != NULL)
		return getenv("PXED_TOKEN");
	f = fopen(file, "r");
	if (f == NULL)
		return NULL;
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] != '\0' ? buf : NULL;
}

static int
dispatch(const struct ctl *c, int n, char **pos)
{
	const char *cmd = pos[0];

	if (strcmp(cmd, "status") == 0 && n == 1) {
		int rc = cmd_status(c->server, c->json);
		if (rc == 0 && !c->json)
			ctl_status_transfers(c);        /* with a read token */
		return rc;
	}
	if (strcmp(cmd, "config") == 0 && n == 1)
		return ctl_config(c);
	if (strcmp(cmd, "transfers") == 0 && n == 1)
		return ctl_transfers(c);
	if (strcmp(cmd, "stats") == 0)
		return ctl_stats(c, n - 1, pos + 1);
	if (strcmp(cmd, "metrics") == 0 && n == 1)
		return cmd_metrics(c->server);
	if (strcmp(cmd, "clients") == 0 && n == 1)
		return cmd_clients(c->server, c->json, false);
	if (strcmp(cmd, "client") == 0 && n == 2)
		return cmd_client(c->server, pos[1], c->json);
	if (strcmp(cmd, "host") == 0 || strcmp(cmd, "hosts") == 0)
		return ctl_host(c, n - 1, pos + 1);
	if (strcmp(cmd, "group") == 0 || strcmp(cmd, "groups") == 0)
		return ctl_group(c, n - 1, pos + 1);
	if (strcmp(cmd, "image") == 0 || strcmp(cmd, "images") == 0)
		return ctl_image(c, n - 1, pos + 1);
	if (strcmp(cmd, "task") == 0 || strcmp(cmd, "tasks") == 0)
		return ctl_task(c, n - 1, pos + 1);
	if (strcmp(cmd, "mcast") == 0)
		return ctl_mcast(c, n - 1, pos + 1);
	if (strcmp(cmd, "token") == 0 || strcmp(cmd, "tokens") == 0)
		return ctl_token(c, n - 1, pos + 1);
	if (strcmp(cmd, "subnet") == 0 || strcmp(cmd, "subnets") == 0)
		return ctl_subnet(c, n - 1, pos + 1);
	if (strcmp(cmd, "reload") == 0 && n == 1)
		return ctl_reload(c);
	if (strcmp(cmd, "watch") == 0)
		return ctl_watch(c, n - 1, pos + 1);
	usage(stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	struct ctl c = { .server = getenv("PXED_SERVER"), .min_receivers = -1,
		.start_after = -1, .rate_mbit = -1 };
	const char *token = NULL, *token_file = "/var/lib/pxed/api-token";
	char token_buf[512], *pos[300];
	int n = 0, rc;

	if (c.server == NULL)
		c.server = "http://127.0.0.1";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
			c.server = argv[++i];
		} else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc) {
			token = argv[++i];
		} else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
			token_file = argv[++i];
		} else if (strcmp(argv[i], "--cacert") == 0 && i + 1 < argc) {
			c.cacert = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			c.json = true;
		} else if (strcmp(argv[i], "--proxy") == 0) {
			c.proxy = true;
		} else if (strcmp(argv[i], "--replace") == 0) {
			c.replace = true;
		} else if (strcmp(argv[i], "--multicast") == 0 && i + 1 < argc) {
			c.mcast = argv[++i];
		} else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc) {
			c.group = argv[++i];
		} else if (strcmp(argv[i], "--fec") == 0 && i + 1 < argc) {
			c.fec = argv[++i];
		} else if (strcmp(argv[i], "--after") == 0 && i + 1 < argc) {
			c.after = argv[++i];
		} else if (strcmp(argv[i], "--scope") == 0 && i + 1 < argc) {
			c.scope = argv[++i];
		} else if ((strcmp(argv[i], "--min-receivers") == 0 ||
		    strcmp(argv[i], "--start-after") == 0 || strcmp(argv[i], "--rate-mbit") == 0) &&
		    i + 1 < argc) {
			char *end;
			long v = strtol(argv[i + 1], &end, 10);
			if (*end != '\0' || v < 0 || v > 1000000) {
				usage(stderr);
				return 2;
			}
			if (argv[i][2] == 'm')
				c.min_receivers = v;
			else if (argv[i][2] == 's')
				c.start_after = v;
			else
				c.rate_mbit = v;
			i++;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("pxectl %s\n", PXED_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if ((argv[i][0] != '-' || strcmp(argv[i], "--no-verify") == 0) &&
		    n < (int)(sizeof pos / sizeof pos[0])) {
			pos[n++] = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (n == 0) {
		usage(stderr);
		return 2;
	}
	c.token = load_token(token, token_file, token_buf, sizeof token_buf);
	read_token = c.token;
	if (c.cacert == NULL)
		c.cacert = getenv("PXED_CACERT");
	ca_file = c.cacert;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = dispatch(&c, n, pos);
	curl_global_cleanup();
	return rc;
}
