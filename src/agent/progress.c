/* Progress reports: at most one a second, and one at the end of a phase.
 * The answer is how the agent learns that the server no longer runs its
 * task (cancelled: 409; token refused: 403): it then stops at once. */
#include <errno.h>

#include "agent/agent.h"
#include "agent/journal.h"
#include "core/util.h"

#define PROGRESS_INTERVAL_US 1000000u
#define FAILED_LOG_EVERY 30             /* failed reports in a row: one line per this many */

void
progress_start(struct progress *p, const char *phase, uint64_t total, uint64_t bytes)
{
	p->phase = phase;
	p->total = total;
	p->start_us = clock_now_us();
	p->start_bytes = bytes;
	p->last_us = 0;
	p->failed = 0;
	p->count_files = false;
	atomic_store(&p->files, 0);
}

static uint64_t
progress_rate(const struct progress *p, uint64_t bytes, uint64_t now)
{
	uint64_t elapsed = now - p->start_us;

	if (elapsed == 0 || bytes < p->start_bytes)
		return 0;
	return (uint64_t)((double)(bytes - p->start_bytes) * 1e6 / (double)elapsed);
}

void
progress_report(struct agent *ag, struct progress *p, uint64_t bytes,
    uint64_t resume_offset, bool final)
{
	progress_report_on(ag, &ag->conn, p, bytes, resume_offset, final);
}

void
progress_report_on(struct agent *ag, struct api_conn *conn, struct progress *p,
    uint64_t bytes, uint64_t resume_offset, bool final)
{
	uint64_t now = clock_now_us();
	char err[API_ERR_MAX];
	json_t *body;
	int rc;

	if (!final && p->last_us != 0 && now - p->last_us < PROGRESS_INTERVAL_US)
		return;
	p->last_us = now;
	body = json_pack("{s:s,s:I,s:I,s:I,s:I}", "phase", p->phase,
	    "bytes", (json_int_t)bytes, "total", (json_int_t)p->total,
	    "rate", (json_int_t)progress_rate(p, bytes, now),
	    "resume_offset", (json_int_t)resume_offset);
	if (body == NULL)
		return;
	if (p->count_files)
		json_object_set_new(body, "files", json_integer((json_int_t)atomic_load(&p->files)));
	rc = api_send_json(conn, "POST", "/api/v1/agent/progress", body, NULL,
	    err, sizeof err);
	json_decref(body);
	if (agent_status_ended(rc)) {
		agent_ended(ag, rc, err);
	} else if (rc != 204 && rc != 200 && rc != -ECANCELED) {
		/* a link down: one line, not one a second */
		if (p->failed++ % FAILED_LOG_EVERY == 0)
			journal_error("progress report failed (%u in a row): %s", p->failed, err);
	} else if ((rc == 204 || rc == 200) && p->failed > 0) {
		journal_info("progress reports go through again after %u failed", p->failed);
		p->failed = 0;
	}
	if (final || (ag->task.type != TASK_DEPLOY && ag->task.type != TASK_DIAGNOSE))
		journal_info("%s: %llu of %llu bytes", p->phase, (unsigned long long)bytes,
		    (unsigned long long)p->total);
}

void
agent_ended(struct agent *ag, int status, const char *err)
{
	ag->cancelled = true;
	if (status == 409)
		agent_fail(ag, "cancelled: the server no longer runs this task (%s)", err);
	else
		agent_fail(ag, "stopped: the server refused the task token (%s)", err);
}
