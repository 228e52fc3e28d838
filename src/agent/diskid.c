/* A disk's model and serial, for wipe certificates.  See wipe.h. */
#include "agent/wipe.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/sysinfo.h"
#include "core/util.h"

void
vpd80_serial(const uint8_t *page, size_t len, char *out, size_t size)
{
	size_t n, start = 4;

	out[0] = '\0';
	if (len < 4 || page[1] != 0x80)
		return;
	n = MIN((size_t)(page[2] << 8 | page[3]), len - 4);
	while (n > 0 && (page[start] == ' ' || page[start] == '\0')) {
		start++;
		n--;
	}
	while (n > 0 && (page[start + n - 1] == ' ' || page[start + n - 1] == '\0'))
		n--;
	utf8_sanitize(out, size, (const char *)page + start, MIN(n, size - 1));
}

/* The bytes of a /sys file (binary), up to size; the count or -1. */
static ssize_t
sys_bytes(const char *path, uint8_t *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size);
	close(fd);
	return n;
}

void
disk_identity(const char *disk, char *model, size_t msize, char *serial, size_t ssize)
{
	const char *name = strncmp(disk, "/dev/", 5) == 0 ? disk + 5 : NULL;
	char path[SYSINFO_PATH_MAX], text[128];
	uint8_t page[256];
	ssize_t n;

	model[0] = serial[0] = '\0';
	if (name == NULL || strchr(name, '/') != NULL)
		return;                 /* a file: nothing to say */
	snprintf(path, sizeof path, "/sys/block/%.64s/device/model", name);
	if (sysinfo_read("", path, text, sizeof text) == 0)
		utf8_sanitize(model, msize, text, MIN(strlen(text), msize - 1));
	snprintf(path, sizeof path, "/sys/block/%.64s/serial", name);
	if (sysinfo_read("", path, text, sizeof text) == 0 && text[0] != '\0') {
		utf8_sanitize(serial, ssize, text, MIN(strlen(text), ssize - 1));
		return;
	}
	snprintf(path, sizeof path, "/sys/block/%.64s/device/serial", name);
	if (sysinfo_read("", path, text, sizeof text) == 0 && text[0] != '\0') {
		utf8_sanitize(serial, ssize, text, MIN(strlen(text), ssize - 1));
		return;
	}
	snprintf(path, sizeof path, "/sys/block/%.64s/device/vpd_pg80", name);
	if ((n = sys_bytes(path, page, sizeof page)) > 0)
		vpd80_serial(page, (size_t)n, serial, ssize);
}
