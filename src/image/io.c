/* Reading whole ranges of a file: the one loop every part of image/ and
 * its users need. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "image/disk.h"

int
image_pread(int fd, void *buf, size_t len, uint64_t offset)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}
