/* pxe-agent's shared state and the parts main.c orchestrates: the worker
 * pool, progress reports, disk helpers, and the task types. */
#ifndef PXED_AGENT_AGENT_H
#define PXED_AGENT_AGENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/api.h"
#include "agent/task.h"

#define AGENT_PARALLEL_MAX 64
#define AGENT_DISKS_MAX 16
#define AGENT_ERR_MAX 512

struct agent {
	struct api api;
	struct api_conn conn;                   /* the main thread's */
	struct api_conn worker[AGENT_PARALLEL_MAX];
	unsigned parallel;
	struct agent_task task;
	char disk[TASK_DISK_MAX];
	int fd;
	char disks[AGENT_DISKS_MAX][TASK_DISK_MAX];     /* scan, reset-password, restore */
	size_t ndisks;
	json_t *report;                         /* sent with the result when set */
	uint64_t disk_size;
	atomic_bool stop;                       /* a failure or a cancel: workers end */
	bool cancelled;                         /* the server ended the task (409, 403) */
	pthread_mutex_t lock;                   /* guards err */
	char err[AGENT_ERR_MAX];                /* the first failure */
};

/* Records the first failure (later ones are only logged) and stops the
 * workers.  Returns -EIO for convenience. */
int agent_fail(struct agent *ag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the worker pool (pool.c) ---- */

/* work runs in ag->parallel threads, each with its own connection; it
 * takes its items from a shared counter in arg until none are left or
 * ag->stop is set.  tick runs on the calling thread about once a second
 * until they all return. */
typedef void pool_work_fn(void *arg, struct api_conn *conn);
typedef void pool_tick_fn(void *arg);
int pool_run(struct agent *ag, pool_work_fn *work, pool_tick_fn *tick, void *arg);

/* ---- progress reports (progress.c) ---- */

struct progress {
	const char *phase;
	uint64_t total;
	uint64_t start_us;
	uint64_t start_bytes;
	uint64_t last_us;                       /* of the last report */
	unsigned failed;                        /* reports failed in a row */
	bool count_files;                       /* a scan: files goes out too */
	atomic_uint_fast64_t files;
};

void progress_start(struct progress *p, const char *phase, uint64_t total, uint64_t bytes);
/* POST progress unless one went out less than a second ago (final: always).
 * A 409 (task no longer running), 403 or 401 (token refused) answer ends
 * the run through agent_ended. */
void progress_report(struct agent *ag, struct progress *p, uint64_t bytes,
    uint64_t resume_offset, bool final);
/* The same on another thread's connection (progress_report uses the main
 * thread's, ag->conn). */
void progress_report_on(struct agent *ag, struct api_conn *conn, struct progress *p,
    uint64_t bytes, uint64_t resume_offset, bool final);
/* The server answered status (409, 403 or 401; err its message) to a task
 * request: the task was cancelled or has ended there.  Sets ag->cancelled
 * (no result is sent) and fails the run, which stops the workers and
 * aborts their transfers.  The log line starts with "cancelled:" (409) or
 * "stopped:" (403, 401). */
void agent_ended(struct agent *ag, int status, const char *err);
/* Does this answer to a task request mean the task has ended there? */
static inline bool
agent_status_ended(int status)
{
	return status == 409 || status == 403 || status == 401;
}

/* ---- disk helpers (diskio.c) ---- */

int disk_open(struct agent *ag, int flags);
int pread_full(int fd, void *buf, size_t len, uint64_t offset);
int pwrite_full(int fd, const void *buf, size_t len, uint64_t offset);
/* The same, and the range's writeback started (sync_file_range). */
int pwrite_start(int fd, const void *buf, size_t len, uint64_t offset);

/* ---- the tasks ---- */
int deploy_run(struct agent *ag);
int capture_run(struct agent *ag);
int wipe_run(struct agent *ag);
/* After a deploy: the last partition and its filesystem grown to the end
 * of the disk (grow.c). */
int grow_run(struct agent *ag, const struct manifest *m);
/* After a deploy (and the grow): name (a valid host name) written into
 * each Linux and Windows system on the disk (identity.c).  A failed write
 * fails the task; a hibernated Windows is logged and left alone. */
int identity_run(struct agent *ag, const struct manifest *m, const char *name);
/* reset-password (winpass.c): the task's account blanked, or (list) the
 * accounts reported; done gets the result's message. */
int winpass_run(struct agent *ag, char *done, size_t size);

#endif
