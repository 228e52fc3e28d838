/* The disk: open (device or image file), its size, whole reads and writes. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "image/disk.h"

static int
disk_size_get(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	if (!S_ISREG(st.st_mode))
		return -ENOTBLK;
	*size = (uint64_t)st.st_size;
	return 0;
}

int
disk_open(struct agent *ag, int flags)
{
	int rc;

	ag->fd = open(ag->disk, flags | O_CLOEXEC);
	if (ag->fd < 0)
		return agent_fail(ag, "%s: %s", ag->disk, strerror(errno));
	if ((rc = disk_size_get(ag->fd, &ag->disk_size)) < 0)
		return agent_fail(ag, "%s: size unknown: %s", ag->disk, strerror(-rc));
	return 0;
}

int
pread_full(int fd, void *buf, size_t len, uint64_t offset)
{
	return image_pread(fd, buf, len, offset);
}

/* pwrite_full, then start the range's writeback at once (not waiting for
 * it): the disk works while the next chunks are fetched and unpacked, so
 * the sync at the end (and the once-a-second syncs for the resume point)
 * find little left to write. */
int
pwrite_start(int fd, const void *buf, size_t len, uint64_t offset)
{
	int rc = pwrite_full(fd, buf, len, offset);

	if (rc == 0)
		(void)sync_file_range(fd, (off_t)offset, (off_t)len, SYNC_FILE_RANGE_WRITE);
	return rc;
}

int
pwrite_full(int fd, const void *buf, size_t len, uint64_t offset)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}
