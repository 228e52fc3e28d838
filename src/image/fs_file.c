/* Files inside a partition's filesystem, read and written through the
 * filesystem's own library (libext2fs, libntfs-3g) on the disk's
 * descriptor at the partition's offset: no mount, no loop device, the same
 * on a disk file and on a block device.  FAT is not written (no library
 * here writes it; see docs/IMAGING.md). */
#include "image/fsfile.h"

#include <errno.h>
#include <stdlib.h>

#include "image/fs.h"

struct fs_volume {
	enum fs_kind kind;
	void *h;                /* ext2_filsys or the NTFS handle */
	bool hibernated;
};

int
fs_volume_open(int fd, uint64_t offset, uint64_t length, enum fs_kind kind, bool write,
    struct fs_volume **out, char *err, size_t errlen)
{
	struct fs_volume *v = calloc(1, sizeof *v);
	int rc;

	*out = NULL;
	if (v == NULL)
		return -ENOMEM;
	v->kind = kind;
	switch (kind) {
	case FS_EXT:
		rc = fs_ext_open(fd, offset, write, &v->h, err, errlen);
		break;
	case FS_NTFS:
		rc = fs_ntfs_open(fd, offset, length, write, &v->h, &v->hibernated, err, errlen);
		break;
	default:
		image_error(err, errlen, "%s: files are not %s here", fs_kind_name(kind),
		    write ? "written" : "read");
		rc = -ENOTSUP;
		break;
	}
	if (rc < 0)
		free(v);
	else
		*out = v;
	return rc;
}

int
fs_volume_close(struct fs_volume *v)
{
	int rc = 0;

	if (v == NULL)
		return 0;
	if (v->kind == FS_EXT)
		rc = fs_ext_close(v->h);
	else if (v->kind == FS_NTFS)
		rc = fs_ntfs_close(v->h);
	free(v);
	return rc;
}

bool
fs_volume_hibernated(const struct fs_volume *v)
{
	return v->hibernated;
}

int
fs_file_read(struct fs_volume *v, const char *path, size_t max, uint8_t **data,
    size_t *len, char *err, size_t errlen)
{
	if (v->kind == FS_EXT)
		return fs_ext_read(v->h, path, max, data, len, err, errlen);
	return fs_ntfs_read(v->h, path, max, data, len, err, errlen);
}

int
fs_file_write(struct fs_volume *v, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen)
{
	if (v->kind == FS_EXT)
		return fs_ext_write(v->h, path, data, len, err, errlen);
	return fs_ntfs_write(v->h, path, data, len, err, errlen);
}

int
fs_file_create(struct fs_volume *v, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen)
{
	if (v->kind == FS_NTFS)
		return fs_ntfs_create(v->h, path, data, len, err, errlen);
	image_error(err, errlen, "%s: files are not created here", fs_kind_name(v->kind));
	return -ENOTSUP;
}
