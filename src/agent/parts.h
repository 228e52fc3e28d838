/* The partitions of the disks a task works on (src/agent/parts.c). */
#ifndef PXED_AGENT_PARTS_H
#define PXED_AGENT_PARTS_H

#include <stdbool.h>

#include "agent/agent.h"
#include "image/disk.h"

/* Called for each partition (kind from its first bytes; fd open as asked):
 * 0 goes on, < 0 stops the walk with that value. */
typedef int parts_fn(void *arg, const char *disk, int fd, const struct partition *p,
    enum fs_kind kind);

/* ag->disks: the task's disk, or option_disk (--disk), or every disk. */
int parts_disks(struct agent *ag, const char *option_disk);
/* fn for every partition of every disk of ag->disks. */
int parts_each(struct agent *ag, bool write, parts_fn *fn, void *arg);

#endif
