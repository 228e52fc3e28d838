/* Every partition of every disk the task works on (the task's or --disk's,
 * else every disk in /sys/block), with what it holds, for the tasks that
 * work inside filesystems (scan, reset-password, restore).  A disk
 * without a table is one filesystem: partition 0, the whole disk. */
#include "agent/parts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/journal.h"
#include "agent/sysinfo.h"
#include "core/util.h"

int
parts_disks(struct agent *ag, const char *option_disk)
{
	int n;

	ag->ndisks = 0;
	if (ag->task.disk[0] != '\0' || option_disk[0] != '\0') {
		str_copy(ag->disks[0], ag->task.disk[0] ? ag->task.disk : option_disk,
		    sizeof ag->disks[0]);
		ag->ndisks = 1;
		return 0;
	}
	n = sysinfo_disk_list("", ag->disks, AGENT_DISKS_MAX);
	if (n <= 0)
		return agent_fail(ag, "no disk found in /sys/block%s%s", n < 0 ? ": " : "",
		    n < 0 ? strerror(-n) : "");
	ag->ndisks = (size_t)n;
	return 0;
}

static int
parts_of_disk(struct agent *ag, const char *disk, int fd, parts_fn *fn, void *arg)
{
	struct disk_layout *l = calloc(1, sizeof *l);
	char err[AGENT_ERR_MAX];
	int rc = 0;

	if (l == NULL)
		return agent_fail(ag, "out of memory");
	if (disk_read_layout(fd, l, err, sizeof err) < 0) {
		journal_error("%s: %s: its partitions are not searched", disk, err);
		free(l);
		return 0;
	}
	if (l->kind == PTABLE_NONE) {
		l->part[0] = (struct partition){ .index = 0, .offset = 0, .length = l->disk_size };
		l->nparts = 1;
	}
	for (size_t i = 0; i < l->nparts && rc == 0 && !atomic_load(&ag->stop); i++) {
		enum fs_kind kind = FS_UNKNOWN;
		if (fs_probe_kind(fd, l->part[i].offset, l->part[i].length, &kind, err,
		    sizeof err) < 0)
			journal_error("%s partition %u: %s", disk, l->part[i].index, err);
		rc = fn(arg, disk, fd, &l->part[i], kind);
	}
	free(l);
	return rc;
}

int
parts_each(struct agent *ag, bool write, parts_fn *fn, void *arg)
{
	int rc = 0;

	for (size_t d = 0; d < ag->ndisks && rc == 0; d++) {
		int fd = open(ag->disks[d], (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		if (fd < 0)
			return agent_fail(ag, "%s: %s", ag->disks[d], strerror(errno));
		rc = parts_of_disk(ag, ag->disks[d], fd, fn, arg);
		if (write && rc == 0 && fdatasync(fd) < 0)
			rc = agent_fail(ag, "%s: sync: %s", ag->disks[d], strerror(errno));
		close(fd);
	}
	return rc;
}
