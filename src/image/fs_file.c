/* Files inside a partition's filesystem, read and written through the
 * filesystem's own library (libext2fs, libntfs-3g) on the disk's
 * descriptor at the partition's offset: no mount, no loop device, the same
 * on a disk file and on a block device.  FAT is not written (no library
 * here writes it; see docs/IMAGING.md). */
#include "image/fsfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	case FS_FAT:
		/* read only: no FAT writer here (docs/IMAGING.md) */
		if (write) {
			image_error(err, errlen, "fat: not written by pxe-agent");
			rc = -ENOTSUP;
		} else {
			rc = fs_fat_open(fd, offset, length, &v->h, err, errlen);
		}
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
	else if (v->kind == FS_FAT)
		fs_fat_close(v->h);
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
	if (v->kind == FS_FAT) {
		image_error(err, errlen, "fat: files are read by walking it");
		return -ENOTSUP;
	}
	if (v->kind == FS_EXT)
		return fs_ext_read(v->h, path, max, data, len, err, errlen);
	return fs_ntfs_read(v->h, path, max, data, len, err, errlen);
}

int
fs_file_write(struct fs_volume *v, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen)
{
	if (v->kind == FS_FAT)
		return -ENOTSUP;                /* never opened for writing */
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
	if (v->kind == FS_EXT)
		return fs_ext_create(v->h, path, data, len, err, errlen);
	image_error(err, errlen, "%s: files are not created here", fs_kind_name(v->kind));
	return -ENOTSUP;
}

int
fs_mkdir(struct fs_volume *v, const char *path, char *err, size_t errlen)
{
	if (v->kind == FS_NTFS)
		return fs_ntfs_mkdir(v->h, path, err, errlen);
	if (v->kind == FS_EXT)
		return fs_ext_mkdir(v->h, path, err, errlen);
	image_error(err, errlen, "%s: directories are not made here", fs_kind_name(v->kind));
	return -ENOTSUP;
}

int
fs_rename(struct fs_volume *v, const char *from, const char *to, char *err, size_t errlen)
{
	if (v->kind == FS_NTFS)
		return fs_ntfs_rename(v->h, from, to, err, errlen);
	if (v->kind == FS_EXT)
		return fs_ext_rename(v->h, from, to, err, errlen);
	image_error(err, errlen, "%s: files are not moved here", fs_kind_name(v->kind));
	return -ENOTSUP;
}

/* ---- walks and readers ---- */

int
fs_entries_add(struct fs_entries *l, const char *path, uint64_t id, uint64_t size)
{
	char *copy;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct fs_entry *v = reallocarray(l->v, cap, sizeof *v);
		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if ((copy = strdup(path)) == NULL)
		return -ENOMEM;
	l->v[l->n++] = (struct fs_entry){ copy, id, size };
	return 0;
}

void
fs_entries_free(struct fs_entries *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	*l = (struct fs_entries){ 0 };
}

int
fs_walk(struct fs_volume *v, size_t max, struct fs_entries *out, char *err, size_t errlen)
{
	if (v->kind == FS_EXT)
		return fs_ext_walk(v->h, max, out, err, errlen);
	if (v->kind == FS_FAT)
		return fs_fat_walk(v->h, max, out, err, errlen);
	return fs_ntfs_walk(v->h, max, out, err, errlen);
}

struct fs_reader {
	enum fs_kind kind;
	void *r;
};

int
fs_reader_open(struct fs_volume *v, uint64_t id, struct fs_reader **out, uint64_t *size)
{
	struct fs_reader *r = calloc(1, sizeof *r);
	int rc;

	*out = NULL;
	if (r == NULL)
		return -ENOMEM;
	r->kind = v->kind;
	rc = v->kind == FS_EXT ? fs_ext_reader_open(v->h, id, &r->r, size) :
	    v->kind == FS_FAT ? fs_fat_reader_open(v->h, id, &r->r, size) :
	    fs_ntfs_reader_open(v->h, id, &r->r, size);
	if (rc < 0)
		free(r);
	else
		*out = r;
	return rc;
}

ssize_t
fs_reader_pread(struct fs_reader *r, void *buf, size_t n, uint64_t off)
{
	return r->kind == FS_EXT ? fs_ext_reader_pread(r->r, buf, n, off) :
	    r->kind == FS_FAT ? fs_fat_reader_pread(r->r, buf, n, off) :
	    fs_ntfs_reader_pread(r->r, buf, n, off);
}

void
fs_reader_close(struct fs_reader *r)
{
	if (r == NULL)
		return;
	if (r->kind == FS_EXT)
		fs_ext_reader_close(r->r);
	else if (r->kind == FS_FAT)
		fs_fat_reader_close(r->r);
	else
		fs_ntfs_reader_close(r->r);
	free(r);
}
