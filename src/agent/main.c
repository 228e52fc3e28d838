/* pxe-agent: runs in the imaging environment, carries out the task the
 * server assigned to this machine (deploy, capture, wipe, shell) and
 * reports progress and the result.  See docs/ARCHITECTURE.md.
 *
 * Exit status: 0 done, 1 the task failed (or was cancelled), 2 usage. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/diag.h"
#include "agent/journal.h"
#include "agent/parts.h"
#include "agent/scan.h"
#include "agent/sysinfo.h"
#include "core/util.h"
#include "core/version.h"
#include "image/sources.h"

#define TASK_ANSWER_MAX (IMAGE_MANIFEST_MAX + (1u << 20))

struct options {
	char server[API_URL_MAX];
	char token[API_TOKEN_MAX + 1];
	char task[32];
	char disk[TASK_DISK_MAX];
	char chunk_url[CHUNK_SOURCE_URL_MAX];   /* --chunk-url: a mirror tried first */
	char pin[API_PIN_MAX];                  /* --pin: the server's key (HTTPS) */
	unsigned parallel;
	unsigned retry_for;
	bool quiet;
};

static void
usage(void)
{
	fprintf(stderr, "usage: pxe-agent --server URL --token TOKEN --task ID [--disk PATH]\n"
	    "                 [--parallel N] [--retry-for SECONDS] [--chunk-url URL]\n"
	    "                 [--pin sha256//BASE64] [--quiet]\n"
	    "       pxe-agent --version\n"
	    "Missing --server, --token, --task and --pin come from /proc/cmdline\n"
	    "(pxed.server=, pxed.token=, pxed.task=, pxed.pin=).\n");
}

int
agent_fail(struct agent *ag, const char *fmt, ...)
{
	char msg[AGENT_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&ag->lock);
	if (ag->err[0] == '\0')
		str_copy(ag->err, msg, sizeof ag->err);
	pthread_mutex_unlock(&ag->lock);
	atomic_store(&ag->stop, true);
	journal_error("%s", msg);
	return -EIO;
}

/* ---- arguments ---- */

static int
option_copy(char *dst, const char *src, size_t size, const char *name)
{
	if (str_copy(dst, src, size) >= size) {
		fprintf(stderr, "pxe-agent: --%s too long\n", name);
		return -1;
	}
	return 0;
}

static int
option_number(const char *s, uint64_t min, uint64_t max, unsigned *out, const char *name)
{
	uint64_t v;

	if (parse_u64(s, strlen(s), min, max, &v) < 0) {
		fprintf(stderr, "pxe-agent: --%s wants a number in %" PRIu64 "..%" PRIu64 "\n",
		    name, min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* Fills what the flags left empty from the kernel command line. */
static void
options_from_cmdline(struct options *o)
{
	char cmdline[SYSINFO_CMDLINE_MAX];

	if (o->server[0] != '\0' && o->token[0] != '\0' && o->task[0] != '\0' &&
	    o->pin[0] != '\0')
		return;
	if (sysinfo_cmdline_read("", cmdline, sizeof cmdline) < 0)
		return;
	if (o->server[0] == '\0')
		sysinfo_cmdline_get(cmdline, "pxed.server", o->server, sizeof o->server);
	if (o->token[0] == '\0')
		sysinfo_cmdline_get(cmdline, "pxed.token", o->token, sizeof o->token);
	if (o->task[0] == '\0')
		sysinfo_cmdline_get(cmdline, "pxed.task", o->task, sizeof o->task);
	if (o->pin[0] == '\0')
		sysinfo_cmdline_get(cmdline, "pxed.pin", o->pin, sizeof o->pin);
}

static int
option_set(struct options *o, int ch, const char *arg)
{
	switch (ch) {
	case 's': return option_copy(o->server, arg, sizeof o->server, "server");
	case 't': return option_copy(o->token, arg, sizeof o->token, "token");
	case 'k': return option_copy(o->task, arg, sizeof o->task, "task");
	case 'd': return option_copy(o->disk, arg, sizeof o->disk, "disk");
	case 'c': return option_copy(o->chunk_url, arg, sizeof o->chunk_url, "chunk-url");
	case 'P': return option_copy(o->pin, arg, sizeof o->pin, "pin");
	case 'p': return option_number(arg, 1, AGENT_PARALLEL_MAX, &o->parallel, "parallel");
	case 'r': return option_number(arg, 0, 86400 * 7, &o->retry_for, "retry-for");
	case 'q': o->quiet = true; return 0;
	default: return -1;
	}
}

/* 0 to run, 1 after --version, -1 on a usage error. */
static int
options_parse(struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "token", required_argument, NULL, 't' },
		{ "task", required_argument, NULL, 'k' },
		{ "disk", required_argument, NULL, 'd' },
		{ "chunk-url", required_argument, NULL, 'c' },
		{ "pin", required_argument, NULL, 'P' },
		{ "parallel", required_argument, NULL, 'p' },
		{ "retry-for", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t id;
	int ch;

	*o = (struct options){ .parallel = 4, .retry_for = 600 };
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'V') {
			printf("pxe-agent %s\n", PXED_VERSION);
			return 1;
		}
		if (option_set(o, ch, optarg) < 0)
			return -1;
	}
	if (optind != argc)
		return -1;
	options_from_cmdline(o);
	if (o->server[0] == '\0' || o->token[0] == '\0' || o->task[0] == '\0') {
		fprintf(stderr, "pxe-agent: --server, --token and --task are needed "
		    "(or pxed.server=, pxed.token=, pxed.task= on the kernel command line)\n");
		return -1;
	}
	if (parse_u64(o->task, strlen(o->task), 0, INT64_MAX, &id) < 0) {
		fprintf(stderr, "pxe-agent: task id \"%s\" is not a number\n", o->task);
		return -1;
	}
	return 0;
}

/* ---- the run ---- */

static void
send_inventory(struct agent *ag)
{
	json_t *inv = sysinfo_inventory("");
	char err[API_ERR_MAX] = "out of memory";
	int rc = inv != NULL ? api_send_json(&ag->conn, "POST", "/api/v1/agent/inventory",
	    inv, NULL, err, sizeof err) : -ENOMEM;

	if (rc != 204 && rc != 200)
		journal_error("inventory not sent: %s", err);
	json_decref(inv);
}

/* The task could not start: no result can be sent for it either. */
static int
agent_fail_ended(struct agent *ag, int status, const char *want_id, const char *err)
{
	ag->cancelled = true;
	if (status == 409)
		return agent_fail(ag, "task %s is not runnable: %s", want_id, err);
	return agent_fail(ag, "task %s: the server refused the task token: %s", want_id, err);
}

static int
fetch_task(struct agent *ag, const char *want_id)
{
	struct api_buf resp = { .max = TASK_ANSWER_MAX };
	char err[API_ERR_MAX];
	char id[32];
	int rc;

	rc = api_request(&ag->conn, "GET", "/api/v1/agent/task", NULL, 0, NULL, &resp,
	    err, sizeof err);
	if (rc == 200)
		rc = task_parse(resp.data, resp.len, &ag->task, err, sizeof err) < 0 ?
		    agent_fail(ag, "%s", err) : 0;
	else if (agent_status_ended(rc))
		rc = agent_fail_ended(ag, rc, want_id, err);
	else
		rc = agent_fail(ag, "task %s: %s", want_id, err);
	api_buf_free(&resp);
	if (rc < 0)
		return rc;
	snprintf(id, sizeof id, "%" PRId64, ag->task.id);
	if (strcmp(id, want_id) != 0)
		return agent_fail(ag, "the server sent task %s, expected task %s", id, want_id);
	return 0;
}

/* The task's disk, else --disk, else the first disk in /sys/block. */
static int
choose_disk(struct agent *ag, const struct options *o)
{
	int rc;

	if (ag->task.disk[0] != '\0')
		str_copy(ag->disk, ag->task.disk, sizeof ag->disk);
	else if (o->disk[0] != '\0')
		str_copy(ag->disk, o->disk, sizeof ag->disk);
	else if ((rc = sysinfo_disk_choose("", ag->disk, sizeof ag->disk)) < 0)
		return agent_fail(ag, "no disk found in /sys/block: %s", strerror(-rc));
	else
		journal_info("using disk %s (the first disk in /sys/block)", ag->disk);
	return 0;
}

/* --chunk-url: a mirror of the chunks, tried before the caches the task
 * lists and the server (which stays the last resort: the mirror is a
 * source like a cache, without the token). */
static int
mirror_first(struct agent *ag, const char *url)
{
	struct chunk_sources *s = &ag->task.sources;
	char one[CHUNK_SOURCE_URL_MAX], err[160];

	if (chunk_source_url_parse(url, strlen(url), one, err, sizeof err) < 0)
		return agent_fail(ag, "--chunk-url: %s", err);
	if (s->count == CHUNK_SOURCES_MAX)
		journal_info("chunk source %s left out: --chunk-url comes first", s->url[--s->count]);
	memmove(s->url[1], s->url[0], s->count * sizeof s->url[0]);
	memcpy(s->url[0], one, sizeof one);
	s->count++;
	return 0;
}

static int
run_task(struct agent *ag, const struct options *o, char *done, size_t size)
{
	const struct agent_task *t = &ag->task;

	send_inventory(ag);
	if (fetch_task(ag, o->task) < 0)
		return -EIO;
	if (o->chunk_url[0] != '\0' && t->type == TASK_DEPLOY &&
	    mirror_first(ag, o->chunk_url) < 0)
		return -EIO;
	journal_info("task %" PRId64 ": %s", t->id, task_type_name(t->type));
	if (t->type == TASK_SHELL) {
		str_copy(done, "shell", size);
		return 0;
	}
	if (t->type == TASK_DIAGNOSE) {         /* every disk unless --disk */
		str_copy(done, "diagnose: no test failed", size);
		return diag_run(ag, o->disk);
	}
	switch (t->type) {
	case TASK_RESET_PASSWORD:
		return parts_disks(ag, o->disk) < 0 ? -EIO : winpass_run(ag, done, size);
	case TASK_SCAN:
		return parts_disks(ag, o->disk) < 0 ? -EIO : scan_run(ag, done, size);
	case TASK_RESTORE:
		return parts_disks(ag, o->disk) < 0 ? -EIO : restore_run(ag, done, size);
	default:
		break;
	}
	if (choose_disk(ag, o) < 0)
		return -EIO;
	switch (t->type) {
	case TASK_DEPLOY:
		snprintf(done, size, "deployed image %s to %s", t->manifest.name, ag->disk);
		return deploy_run(ag);
	case TASK_CAPTURE:
		snprintf(done, size, "captured %s as image %s", ag->disk, t->image);
		return capture_run(ag);
	case TASK_WIPE:
		snprintf(done, size, "wiped %s", ag->disk);
		return wipe_run(ag);
	default:
		return agent_fail(ag, "task type unknown");
	}
}

/* The result goes out whatever happened, with the log's tail. */
static void
send_result(struct agent *ag, bool ok, const char *message)
{
	char tail[JOURNAL_TAIL_MAX + 1], err[API_ERR_MAX];
	json_t *body;
	int rc;

	if (ag->cancelled) {
		journal_info("no result sent: the task has ended on the server");
		return;
	}
	atomic_store(&ag->stop, false);         /* retries again allowed */
	journal_tail(tail, sizeof tail);
	body = json_pack("{s:b,s:s,s:s}", "ok", ok, "message", message, "log", tail);
	if (body == NULL)
		return;
	if (ag->report != NULL) {
		task_report_bound(ag->report, TASK_REPORT_SEND_MAX);
		json_object_set(body, "report", ag->report);
	}
	rc = api_send_json(&ag->conn, "POST", "/api/v1/agent/result", body, NULL, err, sizeof err);
	json_decref(body);
	if (rc != 204 && rc != 200)
		journal_error("result not sent: %s", err);
}

static int
agent_start(struct agent *ag, const struct options *o)
{
	memset(ag, 0, sizeof *ag);
	ag->fd = -1;
	ag->parallel = o->parallel;
	pthread_mutex_init(&ag->lock, NULL);
	if (api_init(&ag->api, o->server, o->token, o->retry_for, &ag->stop) < 0) {
		fprintf(stderr, "pxe-agent: bad --server or --token\n");
		return -1;
	}
	if (o->pin[0] != '\0' && api_pin(&ag->api, o->pin) < 0) {
		fprintf(stderr, "pxe-agent: bad --pin (pxed.pin=): not sha256// and a SHA-256 in"
		    " base64\n");
		return -1;
	}
	if (api_conn_open(&ag->conn, &ag->api) < 0) {
		fprintf(stderr, "pxe-agent: out of memory\n");
		return -1;
	}
	return 0;
}

static void
agent_end(struct agent *ag)
{
	for (unsigned i = 0; i < AGENT_PARALLEL_MAX; i++)
		api_conn_close(&ag->worker[i]);
	api_conn_close(&ag->conn);
	task_free(&ag->task);
	json_decref(ag->report);
	if (ag->fd >= 0)
		close(ag->fd);
	pthread_mutex_destroy(&ag->lock);
}

int
main(int argc, char **argv)
{
	static struct agent ag;
	struct options o;
	char done[AGENT_ERR_MAX] = "";
	int rc;

	if ((rc = options_parse(&o, argc, argv)) != 0) {
		if (rc < 0)
			usage();
		return rc < 0 ? 2 : 0;
	}
	signal(SIGPIPE, SIG_IGN);
	journal_init(o.quiet);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || agent_start(&ag, &o) < 0)
		return 1;
	rc = run_task(&ag, &o, done, sizeof done);
	if (rc == 0)
		journal_info("%s", done);
	send_result(&ag, rc == 0, rc == 0 ? done : ag.err);
	agent_end(&ag);
	curl_global_cleanup();
	return rc == 0 ? 0 : 1;
}
