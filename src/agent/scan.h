/* The malware scan (scan.c) and its database (scandb.c). */
#ifndef PXED_AGENT_SCAN_H
#define PXED_AGENT_SCAN_H

#include "agent/agent.h"

/* The server's ClamAV database copied into dir (made when missing) and
 * checked: *nfiles signature files.  0, or the task failed (an empty or
 * damaged database among the reasons). */
int scandb_fetch(struct agent *ag, const char *dir, unsigned *nfiles);

/* scan: every filesystem of every disk, read-only, with libclamav; with
 * the task's quarantine, infected files moved into /pxed-quarantine/TASK/.
 * done gets the result's message ("clean: ..." or "N infected: ..."). */
int scan_run(struct agent *ag, char *done, size_t size);

/* restore: the files scan task "of" quarantined, put back. */
int restore_run(struct agent *ag, char *done, size_t size);

#endif
