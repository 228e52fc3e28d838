/* Windows registry hives edited with libhivex, in memory: the hive's bytes
 * (read from NTFS by image/fsfile.h) go into a memfd that hivex opens, and
 * a commit goes into another memfd whose bytes are written back.  No file
 * on any disk of the imaging environment holds a hive. */
#include "agent/hive.h"

#include <errno.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>


struct hive {
	hive_h *h;
	int fd;                         /* the memfd hivex opened */
};

static int
memfd_with(const uint8_t *data, size_t len, int *out)
{
	int fd = memfd_create("pxed-hive", MFD_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	*out = fd;
	return 0;
}

int
hive_open(const uint8_t *data, size_t len, bool write, struct hive **out)
{
	struct hive *hv = calloc(1, sizeof *hv);
	char path[40];
	int rc;

	*out = NULL;
	if (hv == NULL)
		return -ENOMEM;
	rc = memfd_with(data, len, &hv->fd);
	if (rc < 0) {
		free(hv);
		return rc;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", hv->fd);
	hv->h = hivex_open(path, write ? HIVEX_OPEN_WRITE : 0);
	if (hv->h == NULL) {
		rc = errno != 0 ? -errno : -EINVAL;
		close(hv->fd);
		free(hv);
		return rc;
	}
	*out = hv;
	return 0;
}

void
hive_close(struct hive *hv)
{
	if (hv == NULL)
		return;
	hivex_close(hv->h);
	close(hv->fd);
	free(hv);
}

hive_node_h
hive_find(struct hive *hv, const char *const *path, size_t n)
{
	hive_node_h node = hivex_root(hv->h);

	for (size_t i = 0; i < n && node != 0; i++)
		node = hivex_node_get_child(hv->h, node, path[i]);
	return node;
}

hive_h *
hive_handle(struct hive *hv)
{
	return hv->h;
}

int
hive_value_bytes(struct hive *hv, hive_node_h node, const char *key, size_t max,
    uint8_t **data, size_t *len, hive_type *type)
{
	hive_value_h v = hivex_node_get_value(hv->h, node, key);
	char *bytes;

	*data = NULL;
	*len = 0;
	if (v == 0)
		return -ENOENT;
	bytes = hivex_value_value(hv->h, v, type, len);
	if (bytes == NULL)
		return -EINVAL;
	if (*len > max) {
		free(bytes);
		return -EFBIG;
	}
	*data = (uint8_t *)bytes;
	return 0;
}

int
hive_set_bytes(struct hive *hv, hive_node_h node, const char *key, hive_type type,
    const void *data, size_t len)
{
	hive_set_value v = { .key = (char *)(uintptr_t)key, .t = type, .len = len,
		.value = (char *)(uintptr_t)data };

	return hivex_node_set_value(hv->h, node, &v, 0) == 0 ? 0 : -EIO;
}

int
hive_set_string(struct hive *hv, hive_node_h node, const char *key, const char *ascii)
{
	size_t n = strlen(ascii);
	uint8_t *utf16 = calloc(n + 1, 2);
	int rc;

	if (utf16 == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		utf16[2 * i] = (uint8_t)ascii[i];       /* ASCII only: checked by callers */
	rc = hive_set_bytes(hv, node, key, hive_t_REG_SZ, utf16, 2 * (n + 1));
	free(utf16);
	return rc;
}

int
hive_commit(struct hive *hv, uint8_t **data, size_t *len)
{
	char path[40];
	struct stat st;
	int fd = memfd_create("pxed-hive-out", MFD_CLOEXEC), rc = 0;

	*data = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if (hivex_commit(hv->h, path, 0) != 0)
		rc = errno != 0 ? -errno : -EIO;
	else if (fstat(fd, &st) < 0)
		rc = -errno;
	else if ((*data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1)) == NULL)
		rc = -ENOMEM;
	else if (pread(fd, *data, (size_t)st.st_size, 0) != st.st_size)
		rc = -EIO;
	else
		*len = (size_t)st.st_size;
	if (rc < 0) {
		free(*data);
		*data = NULL;
	}
	close(fd);
	return rc;
}
