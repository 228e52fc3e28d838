/* The diagnose task: hardware tests, each built on a Debian tool and
 * bounded in time, each reported to pxed as a structured result (POST
 * /api/v1/agent/diag) as soon as it ends.  docs/DIAGNOSTICS.md. */
#ifndef PXED_AGENT_DIAG_H
#define PXED_AGENT_DIAG_H

#include <jansson.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/command.h"
#include "agent/sysinfo.h"
#include "core/diag_names.h"

#define DIAG_DISKS_MAX 64

enum diag_status { DIAG_PASS, DIAG_FAIL, DIAG_SKIPPED, DIAG_ERROR };

struct diag_result {
	enum diag_test test;
	enum diag_status status;
	int64_t started;                /* Unix seconds */
	uint64_t duration_ms;
	char summary[256];
	json_t *details;                /* an object (owned) */
};

/* The run's shared state. */
struct diag_run {
	struct agent *ag;
	const struct task_params *params;
	char disks[DIAG_DISKS_MAX][SYSINFO_PATH_MAX];   /* "/dev/sda" or a file */
	size_t ndisks;
	struct progress progress;
};

const char *diag_status_name(enum diag_status s);
/* Set the status and the one-line summary. */
void diag_set(struct diag_result *r, enum diag_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for a tool that is not there (the diag layer not loaded?). */
bool diag_tool_missing(struct diag_result *r, const char *tool);
/* Run a tool (argv NULL-terminated) bounded by timeout_s; 0 or -errno. */
int diag_command(struct diag_run *d, const char *const *argv, unsigned timeout_s,
    struct command_result *out);
/* A disk's name for summaries: "sda" of "/dev/sda", a file's base name. */
const char *diag_disk_short(const char *path);

/* The tests (diag_disk.c, diag_sys.c). */
void diag_smart(struct diag_run *d, struct diag_result *r);
void diag_disk_read(struct diag_run *d, struct diag_result *r);
void diag_disk_write(struct diag_run *d, struct diag_result *r);
void diag_inventory(struct diag_run *d, struct diag_result *r);
void diag_memory(struct diag_run *d, struct diag_result *r);
void diag_cpu(struct diag_run *d, struct diag_result *r);
void diag_network(struct diag_run *d, struct diag_result *r);

/* The diagnose task: disk is --disk ("" for every disk of the machine). */
int diag_run(struct agent *ag, const char *disk);

#endif
