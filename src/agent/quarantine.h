/* A scan's findings, and with quarantine their move into
 * /pxed-quarantine/TASK/ on their own filesystem (quarantine.c). */
#ifndef PXED_AGENT_QUARANTINE_H
#define PXED_AGENT_QUARANTINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"
#include "image/disk.h"
#include "image/fsfile.h"

struct quarantine_item {
	char disk[TASK_DISK_MAX];
	struct partition part;
	enum fs_kind kind;
	char *path;                     /* malloc'd */
	char signature[256];
	char sha256[65];                /* "" when the file could not be read again */
	uint64_t size;
	char moved[64];                 /* where it went, "" if it was not moved */
	char why[160];                  /* why it was not moved */
};

struct quarantine {
	int64_t task;
	struct quarantine_item *v;
	size_t n, cap;
	unsigned moved, kept;
	char summary[96];
};

void quarantine_init(struct quarantine *q, int64_t task);
void quarantine_free(struct quarantine *q);
/* A finding (the caller holds the scan's lock). */
void quarantine_note(struct quarantine *q, const char *disk, const struct partition *part,
    enum fs_kind kind, const struct fs_entry *e, const char *signature, const char *sha256,
    uint64_t size);
/* The findings as the report lists them (at most 1000; a new reference). */
json_t *quarantine_findings(const struct quarantine *q);
/* Every finding moved where its filesystem allows it, a manifest written
 * beside them.  0, or the task failed. */
int quarantine_run(struct agent *ag, struct quarantine *q);
/* ", N quarantined" (and ", N left in place") for the message. */
const char *quarantine_summary(struct quarantine *q);

#endif
