/* Wipe: discard the whole disk (when the device supports it), then zero
 * its first and last MiB, which hold the MBR, the GPT and its backup. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/journal.h"

#define WIPE_EDGE (1u << 20)

static void
wipe_discard(struct agent *ag)
{
	uint64_t range[2] = { 0, ag->disk_size };

	if (ioctl(ag->fd, BLKDISCARD, range) < 0)
		journal_info("%s: no discard (%s), zeroing the tables only", ag->disk,
		    strerror(errno));
	else
		journal_info("%s: discarded %" PRIu64 " bytes", ag->disk, ag->disk_size);
}

static int
wipe_zero(struct agent *ag, uint64_t offset, size_t len)
{
	void *zero = calloc(1, len ? len : 1);
	int rc;

	if (zero == NULL)
		return agent_fail(ag, "out of memory");
	rc = pwrite_full(ag->fd, zero, len, offset);
	free(zero);
	if (rc < 0)
		return agent_fail(ag, "%s: write at %" PRIu64 ": %s", ag->disk, offset,
		    strerror(-rc));
	return 0;
}

int
wipe_run(struct agent *ag)
{
	size_t edge;
	struct progress p;

	if (disk_open(ag, O_RDWR) < 0)
		return -EIO;
	edge = ag->disk_size < WIPE_EDGE ? (size_t)ag->disk_size : WIPE_EDGE;
	progress_start(&p, "wipe", 2 * (uint64_t)edge, 0);
	progress_report(ag, &p, 0, 0, false);
	if (atomic_load(&ag->stop))
		return -EIO;
	wipe_discard(ag);
	if (wipe_zero(ag, 0, edge) < 0 || wipe_zero(ag, ag->disk_size - edge, edge) < 0)
		return -EIO;
	if (fdatasync(ag->fd) < 0)
		return agent_fail(ag, "%s: sync: %s", ag->disk, strerror(errno));
	progress_report(ag, &p, 2 * (uint64_t)edge, 0, true);
	if (atomic_load(&ag->stop))
		return -EIO;
	journal_info("wipe done: %s", ag->disk);
	return 0;
}
