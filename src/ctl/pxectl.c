/* pxectl: talk to a running pxed over its HTTP API.
 *
 *   pxectl [--server URL] [--json] status
 *   pxectl [--server URL] [--json] clients
 *   pxectl [--server URL] [--json] client MAC
 *   pxectl [--server URL] [--json] metrics
 *   pxectl [--server URL] [--token T] [--json] host|group|image|task|mcast ...
 *                                                               (imaging.c)
 *   pxectl [--server URL] [--token T] [--json] subnet ... | reload  (subnets.c)
 *   pxectl [--server URL] [--token T] [--json] config | transfers
 *                                               | stats boots [HOURS]  (views.c)
 *
 * Speaks only the REST API (docs/API.md).  With no --server it finds the
 * local pxed from pxed's config file (local.c), and reads the API token
 * from the file that config names when it may. */
#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/json_text.h"
#include "core/util.h"
#include "core/version.h"
#include "ctl/ctl.h"

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

/* method server+path with an optional body and the token; the answer's
 * bytes in *r.  Returns the HTTP status, 0 when there was none (said why). */
static long
http_request(const struct ctl *c, const char *method, const char *path, char *text,
    struct response *r)
{
	char url[1024], auth[600], err[CURL_ERROR_SIZE] = "";
	struct response up = { NULL, 0 };
	struct curl_slist *hdrs = NULL;
	CURL *curl = curl_easy_init();
	long status = 0;
	CURLcode rc;

	if (curl == NULL)
		return 0;
	snprintf(url, sizeof url, "%s%s", c->server, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	if (c->cacert != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->cacert);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
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
	if (rc != CURLE_OK) {
		fprintf(stderr, "pxectl: %s: %s\n", url, err[0] ? err : curl_easy_strerror(rc));
		return 0;
	}
	return status;
}

long
ctl_request(const struct ctl *c, const char *method, const char *path, json_t *body,
    json_t **out)
{
	struct response r = { NULL, 0 };
	char *text = body != NULL ? json_text(body, JSON_COMPACT, NULL) : NULL;
	long status = http_request(c, method, path, text, &r);

	*out = NULL;
	if (status != 0 && r.len > 0)
		*out = json_loadb(r.data, r.len, 0, NULL);
	free(text);
	free(r.data);
	return status;
}

long
ctl_request_text(const struct ctl *c, const char *path, char **out)
{
	struct response r = { NULL, 0 };
	long status = http_request(c, "GET", path, NULL, &r);

	*out = r.data != NULL ? r.data : strdup("");
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
	    status == 401 ? "a valid API token is required (--token, $PXED_TOKEN or --token-file)" :
	    "failed", status);
}

void
ctl_print_json(json_t *v)
{
	char *text = json_text(v, JSON_COMPACT, NULL);

	printf("%s\n", text != NULL ? text : "null");
	free(text);
}

/* The events of {"clients": [...]} or {"events": [...]}, one row each. */
static void
show_events(json_t *events, bool with_mac, const char *indent)
{
	static const char *const heads_mac[] = { "MAC", "TIME", "EVENT", "DETAIL" };
	static const char *const heads[] = { "TIME", "EVENT", "DETAIL" };
	struct ctl_table t;
	size_t i;
	json_t *e;

	ctl_table_begin(&t, with_mac ? 4 : 3, with_mac ? heads_mac : heads);
	json_array_foreach(events, i, e) {
		char when[32];
		ctl_when(json_integer_value(json_object_get(e, "time_ms")) / 1000, when, sizeof when);
		const char *kind = ctl_text(json_object_get(e, "kind"), false);
		const char *detail = ctl_text(json_object_get(e, "detail"), false);
		if (with_mac)
			ctl_table_add(&t, (const char *[]){ ctl_text(json_object_get(e, "mac"), false),
			    when, kind, detail });
		else
			ctl_table_add(&t, (const char *[]){ when, kind, detail });
	}
	ctl_table_print(&t, indent);
}

/* GET path and show (or print as JSON) the answer; 0, or 1 (said why). */
static int
get_show(const struct ctl *c, const char *path, const char *what, void (*show)(json_t *))
{
	json_t *answer = NULL;
	long status = ctl_request(c, "GET", path, NULL, &answer);
	int rc = 0;

	if (status != 200 || answer == NULL) {
		if (status == 200)
			fprintf(stderr, "pxectl: %s: the answer is not JSON\n", what);
		else
			ctl_print_error(what, status, answer);
		rc = 1;
	} else if (c->json) {
		ctl_print_json(answer);
	} else {
		show(answer);
	}
	json_decref(answer);
	return rc;
}

static void
show_clients(json_t *a)
{
	json_t *arr = json_object_get(a, "clients");

	printf("clients (%zu), newest first:\n", json_array_size(arr));
	show_events(arr, true, "  ");
}

static void
show_timeline(json_t *a)
{
	printf("boot timeline of %s:\n", ctl_text(json_object_get(a, "mac"), false));
	show_events(json_object_get(a, "events"), false, "  ");
}

static int
cmd_client(const struct ctl *c, const char *mac)
{
	char path[128];

	if (strlen(mac) > 64 || strspn(mac, "0123456789abcdefABCDEF:-") != strlen(mac)) {
		fprintf(stderr, "pxectl: client MAC: %s is not a MAC address\n", mac);
		return 2;
	}
	snprintf(path, sizeof path, "/api/v1/clients/%s", mac);
	return get_show(c, path, "client", show_timeline);
}

/* ---- status: a section per part of pxed ---- */

/* "0.0.0.0:69, [::]:69" */
static void
join_strings(json_t *arr, char *out, size_t size)
{
	size_t i, o = 0;
	json_t *v;

	out[0] = '\0';
	json_array_foreach(arr, i, v) {
		int n = snprintf(out + o, size - o, "%s%s", i > 0 ? ", " : "", ctl_text(v, false));
		if (n < 0 || (size_t)n >= size - o)
			break;
		o += (size_t)n;
	}
}

/* What the counters say about one service. */
static void
service_activity(json_t *st, const char *name, char *out, size_t size)
{
	json_t *g = json_object_get(st, name);
	char bytes[32];

	out[0] = '\0';
	if (strcmp(name, "tftp") == 0)
		snprintf(out, size, "in flight %" JSON_INTEGER_FORMAT ", requests %"
		    JSON_INTEGER_FORMAT ", sent %s", json_integer_value(json_object_get(g, "sessions_active")),
		    json_integer_value(json_object_get(g, "requests")),
		    ctl_size(json_integer_value(json_object_get(g, "bytes_sent")), bytes,
		    sizeof bytes));
	else if (strcmp(name, "http") == 0)
		snprintf(out, size, "connections %" JSON_INTEGER_FORMAT ", requests %"
		    JSON_INTEGER_FORMAT ", sent %s",
		    json_integer_value(json_object_get(g, "connections_active")),
		    json_integer_value(json_object_get(g, "requests")),
		    ctl_size(json_integer_value(json_object_get(g, "bytes_sent")), bytes,
		    sizeof bytes));
}

static void
show_services(json_t *st)
{
	static const char *const heads[] = { "SERVICE", "MODE", "LISTEN", "ACTIVITY" };
	struct ctl_table t;
	char up[48], listen[1024], activity[160];
	size_t i;
	json_t *sv;

	printf("pxed %s, up %s\n", ctl_text(json_object_get(st, "version"), false),
	    ctl_duration(json_integer_value(json_object_get(st, "uptime_s")) * 1000, up,
	    sizeof up));
	if (json_object_get(json_object_get(st, "state"), "engine") != NULL)
		printf("state store: %s, %s\n",
		    ctl_text(json_object_get(json_object_get(st, "state"), "engine"), false),
		    json_is_true(json_object_get(json_object_get(st, "state"), "reachable")) ?
		    "reachable" : "NOT REACHABLE");
	ctl_table_begin(&t, 4, heads);
	json_array_foreach(json_object_get(st, "services"), i, sv) {
		const char *name = ctl_text(json_object_get(sv, "name"), false);
		join_strings(json_object_get(sv, "listen"), listen, sizeof listen);
		service_activity(st, name, activity, sizeof activity);
		ctl_table_add(&t, (const char *[]){ name,
		    ctl_text(json_object_get(sv, "mode"), false), listen, activity });
	}
	ctl_table_print(&t, "");
}

static void
show_mcast(json_t *a)
{
	size_t i, running = 0;
	json_t *s;

	json_array_foreach(json_object_get(a, "sessions"), i, s) {
		const char *state = json_string_value(json_object_get(s, "state"));
		running += state != NULL && strcmp(state, "done") != 0 &&
		    strcmp(state, "failed") != 0 && strcmp(state, "cancelled") != 0;
	}
	printf("\nmulticast sessions running: %zu\n", running);
	if (running > 0)
		ctl_show_sessions_running(a);
}

static void
show_tasks_active(json_t *a)
{
	printf("\ntasks pending or running: %" JSON_INTEGER_FORMAT "%s\n",
	    json_integer_value(json_object_get(a, "total")),
	    json_is_string(json_object_get(a, "next")) ? " (the newest listed)" : "");
	if (json_array_size(json_object_get(a, "tasks")) > 0)
		ctl_show_tasks(a);
}

#define STATUS_CLIENTS_SHOWN 10

static void
show_clients_recent(json_t *a)
{
	json_t *arr = json_object_get(a, "clients"), *first = json_array();
	size_t n = json_array_size(arr);

	printf("\nclients seen: %zu%s\n", n, n > STATUS_CLIENTS_SHOWN ? ", the newest:" : "");
	for (size_t i = 0; i < n && i < STATUS_CLIENTS_SHOWN; i++)
		json_array_append(first, json_array_get(arr, i));
	if (n > 0)
		show_events(first, true, "");
	json_decref(first);
}

/* pxectl status: one section per part of pxed, each the answer of one GET
 * (its member in --json's object).  A section pxed does not have (404 or
 * 409: e.g. clients and subnets without DHCP) is left out; "status" must
 * answer. */
struct status_section {
	const char *key;
	const char *path;
	void (*show)(json_t *answer);
};

static void
show_subnets_status(json_t *a)
{
	printf("\nsubnets:\n");
	ctl_show_subnets(a);
}

static const struct status_section status_sections[] = {
	{ "status", "/api/v1/status", show_services },
	{ "subnets", "/api/v1/subnets", show_subnets_status },
	{ "transfers", "/api/v1/transfers", ctl_show_transfers },
	{ "mcast", "/api/v1/mcast", show_mcast },
	{ "tasks", "/api/v1/tasks?state=active&limit=50", show_tasks_active },
	{ "clients", "/api/v1/clients", show_clients_recent },
};

static int
cmd_status(const struct ctl *c)
{
	json_t *all = json_object();
	int rc = 0;

	for (size_t i = 0; i < sizeof status_sections / sizeof status_sections[0]; i++) {
		const struct status_section *sec = &status_sections[i];
		json_t *answer = NULL;
		long status = ctl_request(c, "GET", sec->path, NULL, &answer);
		if ((status == 404 || status == 409) && i > 0) {
			json_decref(answer);
			continue;
		}
		if (status != 200 || answer == NULL) {
			ctl_print_error(sec->key, status, answer);
			json_decref(answer);
			rc = 1;
			if (i == 0)
				break;
			continue;
		}
		if (c->json)
			json_object_set_new(all, sec->key, answer);
		else {
			sec->show(answer);
			json_decref(answer);
		}
	}
	if (c->json && rc == 0)
		ctl_print_json(all);
	json_decref(all);
	return rc;
}

/* /metrics as it is, or with --json {"name": value, ...} */
static int
cmd_metrics(const struct ctl *c)
{
	char *text = NULL;
	long status = ctl_request_text(c, "/metrics", &text);
	json_t *obj;

	if (status != 200) {
		ctl_print_error("metrics", status, NULL);
		free(text);
		return 1;
	}
	if (!c->json) {
		fputs(text, stdout);
		free(text);
		return 0;
	}
	obj = json_object();
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' '), *end;
		if (line[0] == '#' || sp == NULL)
			continue;
		*sp = '\0';
		long long v = strtoll(sp + 1, &end, 10);
		if (*end == '\0')
			json_object_set_new(obj, line, json_integer(v));
	}
	ctl_print_json(obj);
	json_decref(obj);
	free(text);
	return 0;
}

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: pxectl [options] status\n"
	    "       pxectl [options] clients | client MAC\n"
	    "       pxectl [options] metrics\n"
	    "       pxectl [options] host list | add MAC [NAME] | show HOST | rm HOST\n"
	    "                             | approve HOST | deny HOST | set HOST hostname=NAME\n"
	    "       pxectl [options] group list | show NAME | add NAME HOST... | rm NAME HOST...\n"
	    "                             | delete NAME\n"
	    "       pxectl [options] image list | show NAME | rm NAME | verify NAME\n"
	    "       pxectl [options] task list | show ID | cancel ID\n"
	    "                             | deploy HOST IMAGE [--no-verify] [--no-grow]\n"
	    "                             | capture [--replace] HOST IMAGE [--outside-partitions]\n"
	    "                               [--raw-encrypted]\n"
	    "                             | shell HOST | wipe HOST | local HOST\n"
	    "                             | scan HOST [--quarantine] | restore TASK\n"
	    "                             | reset-password HOST --user NAME [--unlock] [--enable]\n"
	    "                               [--windows PATH] | reset-password HOST --list\n"
	    "       pxectl [options] task scan --group GROUP [--quarantine]\n"
	    "       pxectl [options] task deploy --group GROUP IMAGE [--no-verify]\n"
	    "       pxectl [options] task deploy --multicast NAME [--group GROUP]\n"
	    "                             [--min-receivers N] [--start-after S] [--rate-mbit R]\n"
	    "                             [--fec off|K,M] IMAGE [HOST...]\n"
	    "       pxectl [options] mcast list | show NAME | start NAME | cancel NAME\n"
	    "       pxectl [options] task diagnose HOST|--group GROUP [--tests LIST]\n"
	    "                             [--destructive] [--duration S] [--memory-mb N]\n"
	    "                             | memtest HOST | boot HOST ENV\n"
	    "                             | wipe HOST [--level fast|zero|random|sanitize] [--verify]\n"
	    "       pxectl [options] wake HOST | wake --group GROUP\n"
	    "       pxectl [options] host wol HOST PASSWORD|none\n"
	    "       pxectl [options] env list | show NAME | rm NAME | set NAME KEY=VALUE...\n"
	    "       pxectl [options] token list | create NAME [--scope read|admin] | revoke ID|NAME\n"
	    "       pxectl [options] subnet list | show CIDR | enable CIDR [--proxy]\n"
	    "                             | disable CIDR\n"
	    "       pxectl [options] reload\n"
	    "       pxectl [options] config | transfers | stats boots [HOURS]\n"
	    "       pxectl [options] watch [N]\n"
	    "       pxectl --version\n\n"
	    "  --server URL       pxed's HTTP address (default $PXED_SERVER, else where the\n"
	    "                     config file says pxed listens, else http://127.0.0.1)\n"
	    "  --config FILE      pxed's config file (default " CTL_CONFIG_DEFAULT "):\n"
	    "                     its listen, interface, http-port and api-token-file\n"
	    "  --token TOKEN      API token for changes (default $PXED_TOKEN, else read\n"
	    "                     from --token-file)\n"
	    "  --token-file PATH  file holding the token (default: the config's\n"
	    "                     api-token-file, /var/lib/pxed/api-token)\n"
	    "  --cacert FILE      the CA of an https:// server (or $PXED_CACERT)\n"
	    "  --json             print the server's JSON (every command)\n"
	    "  --after ACTION     task deploy, capture, wipe, diagnose: reboot (default),\n"
	    "                     poweroff or shell once the task succeeded\n"
	    "  --tests LIST       task diagnose: inventory,smart,disk-read,disk-write,memory,\n"
	    "                     cpu,network (default: all but disk-write)\n"
	    "  --destructive      task diagnose: allow disk-write (it overwrites every disk)\n"
	    "  --duration S       task diagnose: seconds of memory, cpu, network (default 60)\n"
	    "  --memory-mb N      task diagnose: test at most N MiB (default: most of the free)\n"
	    "  --level L          task wipe: fast (default), zero, random or sanitize\n"
	    "  --verify           task wipe: read everything back and check it\n"
	    "  --wake             any task: wake the host(s) (Wake-on-LAN) once it is made\n"
	    "HOST is a MAC address or a host's name.\n");
}

/* The token: --token, $PXED_TOKEN, or the first line of the token file
 * (when this user may read it). */
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

	if (strcmp(cmd, "status") == 0 && n == 1)
		return cmd_status(c);
	if (strcmp(cmd, "config") == 0 && n == 1)
		return ctl_config(c);
	if (strcmp(cmd, "transfers") == 0 && n == 1)
		return ctl_transfers(c);
	if (strcmp(cmd, "stats") == 0)
		return ctl_stats(c, n - 1, pos + 1);
	if (strcmp(cmd, "metrics") == 0 && n == 1)
		return cmd_metrics(c);
	if (strcmp(cmd, "clients") == 0 && n == 1)
		return get_show(c, "/api/v1/clients", "clients", show_clients);
	if (strcmp(cmd, "client") == 0 && n == 2)
		return cmd_client(c, pos[1]);
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
	if (strcmp(cmd, "wake") == 0)
		return ctl_wake(c, n - 1, pos + 1);
	if (strcmp(cmd, "env") == 0 || strcmp(cmd, "envs") == 0)
		return ctl_env(c, n - 1, pos + 1);
	usage(stderr);
	return 2;
}

/* Options that take a number; -1 when not given.  0, or 2 (usage). */
static int
number_option(struct ctl *c, const char *name, const char *value)
{
	bool duration = strcmp(name, "--duration") == 0, memory = strcmp(name, "--memory-mb") == 0;
	long max = duration ? 86400 : memory ? 1L << 30 : 1000000;
	char *end;
	long v = strtol(value, &end, 10);

	if (*end != '\0' || v < (duration || memory ? 1 : 0) || v > max) {
		if (duration || memory)
			fprintf(stderr, "pxectl: %s: a positive number (--duration: at most"
			    " 86400 seconds)\n", name);
		return 2;
	}
	if (strcmp(name, "--min-receivers") == 0)
		c->min_receivers = v;
	else if (strcmp(name, "--start-after") == 0)
		c->start_after = v;
	else if (duration)
		c->duration = v;
	else if (memory)
		c->memory_mb = v;
	else
		c->rate_mbit = v;
	return 0;
}

static bool
number_option_name(const char *a)
{
	static const char *const names[] = { "--min-receivers", "--start-after", "--rate-mbit",
		"--duration", "--memory-mb" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(a, names[i]) == 0)
			return true;
	return false;
}

struct options {
	const char *server, *token, *token_file, *config;
	int n;
	char *pos[300];
};

/* argv into c and o; -1 to go on, else the exit code. */
static int
parse_options(int argc, char **argv, struct ctl *c, struct options *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **str_opt = strcmp(a, "--server") == 0 ? &o->server :
		    strcmp(a, "--token") == 0 ? &o->token :
		    strcmp(a, "--token-file") == 0 ? &o->token_file :
		    strcmp(a, "--config") == 0 ? &o->config :
		    strcmp(a, "--multicast") == 0 ? &c->mcast :
		    strcmp(a, "--group") == 0 ? &c->group :
		    strcmp(a, "--fec") == 0 ? &c->fec :
		    strcmp(a, "--after") == 0 ? &c->after :
		    strcmp(a, "--cacert") == 0 ? &c->cacert :
		    strcmp(a, "--scope") == 0 ? &c->scope :
		    strcmp(a, "--tests") == 0 ? &c->tests :
		    strcmp(a, "--level") == 0 ? &c->level :
		    strcmp(a, "--user") == 0 ? &c->user :
		    strcmp(a, "--windows") == 0 ? &c->windows : NULL;

		if (str_opt != NULL && v != NULL) {
			*str_opt = v;
			i++;
		} else if (number_option_name(a) && v != NULL) {
			if (number_option(c, a, v) != 0) {
				o->n = 0;
				break;
			}
			i++;
		} else if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (strcmp(a, "--replace") == 0) {
			c->replace = true;
		} else if (strcmp(a, "--proxy") == 0) {
			c->proxy = true;
		} else if (strcmp(a, "--destructive") == 0) {
			c->destructive = true;
		} else if (strcmp(a, "--verify") == 0) {
			c->verify = true;
		} else if (strcmp(a, "--wake") == 0) {
			c->wake = true;
		} else if (ctl_task_flag(a) != 0) {
			c->task_flags |= ctl_task_flag(a);
		} else if (strcmp(a, "--version") == 0) {
			printf("pxectl %s\n", PXED_VERSION);
			return 0;
		} else if (strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if ((a[0] != '-' || strcmp(a, "--no-verify") == 0) &&
		    o->n < (int)(sizeof o->pos / sizeof o->pos[0])) {
			o->pos[o->n++] = argv[i];
		} else {
			o->n = 0;
			break;
		}
	}
	if (o->n == 0) {
		usage(stderr);
		return 2;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct ctl c = { .min_receivers = -1, .start_after = -1, .rate_mbit = -1,
		.duration = -1, .memory_mb = -1 };
	struct options o = { .config = NULL };
	static char server[600], token_file[1024], token_buf[512];
	int rc = parse_options(argc, argv, &c, &o);

	if (rc >= 0)
		return rc;
	snprintf(server, sizeof server, "http://127.0.0.1");
	snprintf(token_file, sizeof token_file, "/var/lib/pxed/api-token");
	/* the config file says where the local pxed is, unless told */
	if ((o.server == NULL && getenv("PXED_SERVER") == NULL) || o.config != NULL) {
		if (ctl_local_defaults(o.config != NULL ? o.config : CTL_CONFIG_DEFAULT,
		    o.config != NULL, server, sizeof server, token_file, sizeof token_file) < 0)
			return 2;
	}
	c.server = o.server != NULL ? o.server : getenv("PXED_SERVER") != NULL ?
	    getenv("PXED_SERVER") : server;
	c.token = load_token(o.token, o.token_file != NULL ? o.token_file : token_file, token_buf,
	    sizeof token_buf);
	c.cacert = c.cacert != NULL ? c.cacert : getenv("PXED_CACERT");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = dispatch(&c, o.n, o.pos);
	curl_global_cleanup();
	return rc;
}
