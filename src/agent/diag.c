/* The diagnose task: runs the tests the task names in a fixed order
 * (inventory first, so the host record says which machine this is before
 * anything may hang; the destructive disk-write last), sends each result
 * as it ends, and ends the task failed, naming the tests that failed or
 * could not run, when any did; the others still run. */
#include "agent/diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/journal.h"
#include "core/util.h"

static const char *const status_names[] = {
	[DIAG_PASS] = "pass", [DIAG_FAIL] = "fail", [DIAG_SKIPPED] = "skipped",
	[DIAG_ERROR] = "error",
};

typedef void diag_test_fn(struct diag_run *d, struct diag_result *r);

static const struct {
	enum diag_test test;
	diag_test_fn *run;
} order[] = {
	{ DIAG_INVENTORY, diag_inventory }, { DIAG_SMART, diag_smart },
	{ DIAG_NETWORK, diag_network }, { DIAG_CPU, diag_cpu }, { DIAG_MEMORY, diag_memory },
	{ DIAG_DISK_READ, diag_disk_read }, { DIAG_DISK_WRITE, diag_disk_write },
};

const char *
diag_status_name(enum diag_status s)
{
	return (size_t)s < ARRAY_SIZE(status_names) ? status_names[s] : "error";
}

void
diag_set(struct diag_result *r, enum diag_status s, const char *fmt, ...)
{
	va_list ap;

	r->status = s;
	va_start(ap, fmt);
	vsnprintf(r->summary, sizeof r->summary, fmt, ap);
	va_end(ap);
}

bool
diag_tool_missing(struct diag_result *r, const char *tool)
{
	if (command_exists(tool))
		return false;
	diag_set(r, DIAG_ERROR, "%s is not installed (the diag layer of the imaging"
	    " environment was not loaded?)", tool);
	return true;
}

int
diag_command(struct diag_run *d, const char *const *argv, unsigned timeout_s,
    struct command_result *out)
{
	struct command cmd = { .argv = argv, .timeout_s = timeout_s, .stop = &d->ag->stop };

	return command_run(&cmd, out);
}

const char *
diag_disk_short(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* Every disk of the machine, or the one --disk named. */
static int
disks_find(struct diag_run *d, const char *disk)
{
	char paths[DIAG_DISKS_MAX][SYSINFO_DISK_PATH];
	int n;

	if (disk[0] != '\0') {
		str_copy(d->disks[0], disk, sizeof d->disks[0]);
		d->ndisks = 1;
		return 0;
	}
	n = sysinfo_disk_list("", paths, DIAG_DISKS_MAX);
	for (int i = 0; i < n; i++)
		if (str_copy(d->disks[d->ndisks], paths[i], sizeof d->disks[0]) <
		    sizeof d->disks[0])
			d->ndisks++;
	if (n < 0)
		journal_error("no disks: /sys/block: %s", strerror(-n));
	return 0;
}

static void
result_send(struct diag_run *d, const struct diag_result *r)
{
	char err[API_ERR_MAX];
	json_t *body = json_pack("{s:s,s:s,s:I,s:I,s:s,s:O}", "test", diag_test_name(r->test),
	    "status", diag_status_name(r->status), "started", (json_int_t)r->started,
	    "duration_ms", (json_int_t)r->duration_ms, "summary", r->summary,
	    "details", r->details);
	int rc = body != NULL ? api_send_json(&d->ag->conn, "POST", "/api/v1/agent/diag", body,
	    NULL, err, sizeof err) : -ENOMEM;

	json_decref(body);
	if (agent_status_ended(rc))
		agent_ended(d->ag, rc, err);
	else if (rc != 204 && rc != 200)
		journal_error("%s: result not sent: %s", diag_test_name(r->test),
		    rc == -ENOMEM ? "out of memory" : err);
}

/* One test: run, time, log, send. */
static void
test_one(struct diag_run *d, enum diag_test t, diag_test_fn *run, struct diag_result *r)
{
	uint64_t t0 = clock_now_us();

	*r = (struct diag_result){ .test = t, .started = (int64_t)time(NULL),
		.details = json_object() };
	journal_info("%s: running", diag_test_name(t));
	progress_start(&d->progress, diag_test_name(t), 0, 0);
	progress_report(d->ag, &d->progress, 0, 0, false);
	if (!atomic_load(&d->ag->stop))
		run(d, r);
	if (atomic_load(&d->ag->stop) && r->summary[0] == '\0')
		diag_set(r, DIAG_ERROR, "stopped");
	r->duration_ms = (clock_now_us() - t0) / 1000;
	journal_info("%s: %s: %s (%.1f s)", diag_test_name(t), diag_status_name(r->status),
	    r->summary, (double)r->duration_ms / 1000);
	if (!d->ag->cancelled)
		result_send(d, r);
	json_decref(r->details);
	r->details = NULL;
}

/* "failed: disk-read, smart; could not run: cpu" of the tests that did. */
static void
verdict_text(const enum diag_status *st, char *out, size_t size)
{
	static const struct { enum diag_status s; const char *label; } groups[] = {
		{ DIAG_FAIL, "failed" }, { DIAG_ERROR, "could not run" },
	};
	size_t n = 0;

	out[0] = '\0';
	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		bool first = true;
		for (size_t i = 0; i < ARRAY_SIZE(order) && n < size; i++) {
			if (st[i] != groups[g].s)
				continue;
			n += (size_t)snprintf(out + n, size - n, "%s%s%s%s",
			    first ? (n > 0 ? "; " : "") : ", ", first ? groups[g].label : "",
			    first ? ": " : "", diag_test_name(order[i].test));
			first = false;
		}
	}
}

int
diag_run(struct agent *ag, const char *disk)
{
	struct diag_run d = { .ag = ag, .params = &ag->task.params };
	enum diag_status st[ARRAY_SIZE(order)];
	struct diag_result r;
	char why[AGENT_ERR_MAX];
	unsigned ran = 0;

	disks_find(&d, disk);
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		st[i] = DIAG_PASS;
		if ((d.params->tests & DIAG_TEST_BIT(order[i].test)) == 0)
			continue;
		if (atomic_load(&ag->stop))
			return -EIO;
		test_one(&d, order[i].test, order[i].run, &r);
		st[i] = r.status;
		ran++;
	}
	if (atomic_load(&ag->stop))
		return -EIO;
	verdict_text(st, why, sizeof why);
	if (why[0] != '\0')
		return agent_fail(ag, "diagnose: %s", why);
	journal_info("diagnose: %u tests, none failed", ran);
	return 0;
}
