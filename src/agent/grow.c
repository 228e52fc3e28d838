/* After a deploy onto a larger disk: the last partition grows to the end
 * of the disk (ptable_grow_last) and its filesystem with it -- ext2/3/4
 * by resize2fs, NTFS by ntfsresize, each run on a loop device over the
 * partition -- and the result is checked (e2fsck -fn, ntfsresize
 * --check).  Other filesystems, a logical last partition or a task with
 * no_grow leave the disk as the image had it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/journal.h"
#include "agent/tool.h"
#include "core/util.h"

#define GROW_TOOL_TIMEOUT       (4 * 3600u)     /* a resize of a huge disk */

static enum fs_kind
grow_fs_of(const struct manifest *m, unsigned index)
{
	for (size_t i = 0; i < m->nparts; i++)
		if (m->part[i].index == index)
			return m->part[i].fs;
	return FS_UNKNOWN;
}

/* Runs a tool; its exit status must be at most ok_max. */
static int
grow_tool(struct agent *ag, const char *const argv[], int ok_max)
{
	char last[256];
	int status, rc = tool_run(argv, GROW_TOOL_TIMEOUT, &status, last, sizeof last);

	if (rc < 0)
		return agent_fail(ag, "%s: %s", argv[0], strerror(-rc));
	if (status > ok_max)
		return agent_fail(ag, "%s %s: exit %d%s%s", argv[0], argv[1], status,
		    last[0] ? ": " : "", last);
	return 0;
}

static int
grow_ext(struct agent *ag, const char *dev)
{
	/* resize2fs wants a freshly checked filesystem: 1 is "errors fixed" */
	if (grow_tool(ag, (const char *const[]){ "e2fsck", "-f", "-p", dev, NULL }, 1) < 0 ||
	    grow_tool(ag, (const char *const[]){ "resize2fs", dev, NULL }, 0) < 0 ||
	    grow_tool(ag, (const char *const[]){ "e2fsck", "-f", "-n", dev, NULL }, 0) < 0)
		return -EIO;
	return 0;
}

static int
grow_ntfs(struct agent *ag, const char *dev)
{
	/* -f: no question; the volume is marked for a check by Windows after */
	if (grow_tool(ag, (const char *const[]){ "ntfsresize", "--force",
	    "--no-progress-bar", dev, NULL }, 0) < 0 ||
	    grow_tool(ag, (const char *const[]){ "ntfsresize", "--check", "--force", dev,
	    NULL }, 0) < 0)
		return -EIO;
	return 0;
}

/* The grown table onto the disk: the GPT's backup first, then the head. */
static int
grow_write_table(struct agent *ag, const uint8_t *head, size_t len,
    const struct ptable_growth *g)
{
	int rc = 0;

	if (g->gpt.tail != NULL)
		rc = pwrite_full(ag->fd, g->gpt.tail, g->gpt.tail_len, g->gpt.tail_offset);
	if (rc == 0)
		rc = pwrite_full(ag->fd, head, len, 0);
	if (rc == 0 && fdatasync(ag->fd) < 0)
		rc = -errno;
	if (rc < 0)
		return agent_fail(ag, "%s: writing the grown partition table: %s", ag->disk,
		    strerror(-rc));
	return 0;
}

static int
grow_filesystem(struct agent *ag, enum fs_kind fs, const struct ptable_growth *g)
{
	struct loop_dev loop;
	int rc = loop_attach(ag->fd, g->offset, g->new_length, &loop);

	if (rc < 0)
		return agent_fail(ag, "partition %u: no loop device for the resize: %s",
		    g->index, strerror(-rc));
	rc = fs == FS_EXT ? grow_ext(ag, loop.path) : grow_ntfs(ag, loop.path);
	loop_detach(&loop);
	return rc;
}

/* The table as it is on the disk: its head grown in memory. */
static int
grow_plan(struct agent *ag, struct disk_layout *l, uint8_t **head, size_t *len,
    struct ptable_growth *g, bool *skip)
{
	char err[AGENT_ERR_MAX];
	int rc = disk_read_layout(ag->fd, l, err, sizeof err);

	*skip = true;
	if (rc < 0)
		return agent_fail(ag, "%s: reading the table back: %s", ag->disk, err);
	if (l->kind == PTABLE_NONE || l->ntable == 0 || l->table[0].offset != 0) {
		journal_info("grow: no partition table: nothing grown");
		return 0;
	}
	*len = (size_t)l->table[0].length;
	*head = malloc(*len);
	if (*head == NULL)
		return agent_fail(ag, "out of memory for the partition table");
	rc = pread_full(ag->fd, *head, *len, 0);
	if (rc < 0)
		return agent_fail(ag, "%s: read at 0: %s", ag->disk, strerror(-rc));
	rc = ptable_grow_last(*head, *len, l->kind, ag->disk_size, l->sector_size, g, err,
	    sizeof err);
	if (rc == -ENOENT || rc == -ENOTSUP) {
		journal_info("grow: %s: nothing grown", err);
		return 0;
	}
	if (rc < 0)
		return agent_fail(ag, "%s: growing the last partition: %s", ag->disk, err);
	*skip = false;
	return 0;
}

int
grow_run(struct agent *ag, const struct manifest *m)
{
	struct disk_layout *l = calloc(1, sizeof *l);
	struct ptable_growth g = { 0 };
	uint8_t *head = NULL;
	size_t len = 0;
	bool skip = true;
	enum fs_kind fs;
	int rc;

	if (l == NULL)
		return agent_fail(ag, "out of memory");
	rc = grow_plan(ag, l, &head, &len, &g, &skip);
	fs = grow_fs_of(m, g.index);
	if (rc == 0 && !skip && g.new_length == g.old_length)
		journal_info("grow: partition %u already reaches the end of the disk", g.index);
	else if (rc == 0 && !skip && fs != FS_EXT && fs != FS_NTFS)
		journal_info("grow: partition %u holds %s: neither it nor its filesystem grown",
		    g.index, fs_kind_name(fs));
	else if (rc == 0 && !skip) {
		journal_info("grow: partition %u (%s) from %" PRIu64 " to %" PRIu64 " bytes",
		    g.index, fs_kind_name(fs), g.old_length, g.new_length);
		rc = grow_write_table(ag, head, len, &g);
		if (rc == 0)
			rc = grow_filesystem(ag, fs, &g);
		if (rc == 0)
			journal_info("grow: partition %u and its filesystem fill the disk; "
			    "checked", g.index);
	}
	ptable_growth_free(&g);
	free(head);
	free(l);
	return rc;
}
