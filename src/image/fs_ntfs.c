/* NTFS used bytes from libntfs-3g's cluster bitmap ($Bitmap).
 *
 * The volume is mounted read-only on a device of our own: its operations
 * read [offset, offset+length) of the caller's descriptor with pread and
 * refuse every write, so a partition inside a disk image or device is read
 * in place.  libntfs-3g's messages go to a handler that keeps the first
 * error for err instead of stderr.  The boot sector is cluster 0 (in the
 * bitmap); its backup, the sector just past the volume (normally the
 * partition's last sector), is added, and so is the partition's last sector. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/device.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/logging.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

#include "core/cursor.h"
#include "core/util.h"
#include "image/disk.h"
#include "image/fs.h"

#define NTFS_BITMAP_CHUNK       65536
#define NTFS_TOTAL_SECTORS_AT   0x28

/* ---- the device: a byte range of a descriptor, read-only ---- */

struct ntfs_span {
	int fd;
	uint64_t offset;
	uint64_t length;
	s64 pos;                        /* for seek + read */
	bool writable;                  /* fs_file_open(write): pwrite allowed */
};

static int
span_open(struct ntfs_device *dev, int flags)
{
	const struct ntfs_span *s = dev->d_private;

	if ((flags & O_ACCMODE) != O_RDONLY && !s->writable) {
		errno = EROFS;
		return -1;
	}
	NDevSetOpen(dev);
	if ((flags & O_ACCMODE) == O_RDONLY)
		NDevSetReadOnly(dev);
	return 0;
}

static int
span_close(struct ntfs_device *dev)
{
	NDevClearOpen(dev);
	return 0;
}

static s64
span_pread(struct ntfs_device *dev, void *buf, s64 count, s64 offset)
{
	const struct ntfs_span *s = dev->d_private;
	uint64_t n;
	int rc;

	if (count < 0 || offset < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)offset >= s->length)
		return 0;
	n = MIN((uint64_t)count, s->length - (uint64_t)offset);
	rc = image_pread(s->fd, buf, (size_t)n, s->offset + (uint64_t)offset);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return (s64)n;
}

static s64
span_seek(struct ntfs_device *dev, s64 offset, int whence)
{
	struct ntfs_span *s = dev->d_private;
	s64 to;

	switch (whence) {
	case SEEK_SET:
		to = offset;
		break;
	case SEEK_CUR:
		to = s->pos + offset;
		break;
	case SEEK_END:
		to = (s64)s->length + offset;
		break;
	default:
		to = -1;
		break;
	}
	if (to < 0) {
		errno = EINVAL;
		return -1;
	}
	s->pos = to;
	return to;
}

static s64
span_read(struct ntfs_device *dev, void *buf, s64 count)
{
	struct ntfs_span *s = dev->d_private;
	s64 n = span_pread(dev, buf, count, s->pos);

	if (n > 0)
		s->pos += n;
	return n;
}

static s64
span_pwrite(struct ntfs_device *dev, const void *buf, s64 count, s64 offset)
{
	const struct ntfs_span *s = dev->d_private;
	uint64_t n;
	ssize_t w;

	if (!s->writable || NDevReadOnly(dev)) {
		errno = EROFS;
		return -1;
	}
	if (count < 0 || offset < 0 || (uint64_t)offset > s->length) {
		errno = EINVAL;
		return -1;
	}
	n = MIN((uint64_t)count, s->length - (uint64_t)offset);
	if (n == 0 && count > 0) {
		errno = ENOSPC;
		return -1;
	}
	w = pwrite(s->fd, buf, (size_t)n, (off_t)(s->offset + (uint64_t)offset));
	return w < 0 ? -1 : (s64)w;
}

static s64
span_write(struct ntfs_device *dev, const void *buf, s64 count)
{
	struct ntfs_span *s = dev->d_private;
	s64 n = span_pwrite(dev, buf, count, s->pos);

	if (n > 0)
		s->pos += n;
	return n;
}

static int
span_sync(struct ntfs_device *dev)
{
	const struct ntfs_span *s = dev->d_private;

	return s->writable && !NDevReadOnly(dev) ? fdatasync(s->fd) : 0;
}

static int
span_stat(struct ntfs_device *dev, struct stat *st)
{
	const struct ntfs_span *s = dev->d_private;

	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0400;
	st->st_size = (off_t)s->length;
	return 0;
}

static int
span_ioctl(struct ntfs_device *dev, unsigned long request, void *argp)
{
	(void)dev;
	(void)request;
	(void)argp;
	errno = ENOTTY;
	return -1;
}

static struct ntfs_device_operations span_ops = {
	.open = span_open,
	.close = span_close,
	.seek = span_seek,
	.read = span_read,
	.write = span_write,
	.pread = span_pread,
	.pwrite = span_pwrite,
	.sync = span_sync,
	.stat = span_stat,
	.ioctl = span_ioctl,
};

/* ---- libntfs-3g's messages: keep the first error ---- */

static _Thread_local char ntfs_first_error[160];

__attribute__((format(printf, 6, 0)))
static int
ntfs_log_keep(const char *function, const char *file, int line, u32 level,
    void *data, const char *format, va_list args)
{
	size_t n;

	(void)function;
	(void)file;
	(void)line;
	(void)data;
	if (!(level & (NTFS_LOG_LEVEL_ERROR | NTFS_LOG_LEVEL_PERROR |
	    NTFS_LOG_LEVEL_CRITICAL)) || ntfs_first_error[0] != '\0')
		return 0;
	vsnprintf(ntfs_first_error, sizeof(ntfs_first_error), format, args);
	n = strcspn(ntfs_first_error, "\n");
	ntfs_first_error[n] = '\0';
	return 0;
}

/* ---- the bitmap ---- */

/* Adds the runs of set bits in bits[0..nbits) (cluster first + i for bit
 * i), carrying an open run across chunks in *run (-1: none). */
static int
ntfs_add_runs(const uint8_t *bits, uint64_t nbits, uint64_t first,
    int64_t *run, uint64_t cluster_bytes, uint64_t offset,
    struct extent_list *out)
{
	for (uint64_t i = 0; i < nbits; i++) {
		bool set = (bits[i / 8] >> (i % 8)) & 1;
		uint64_t cluster = first + i;
		int rc;

		if (set && *run < 0)
			*run = (int64_t)cluster;
		if (set || *run < 0)
			continue;
		rc = extent_list_add(out, offset + (uint64_t)*run * cluster_bytes,
		    (cluster - (uint64_t)*run) * cluster_bytes);
		if (rc < 0)
			return rc;
		*run = -1;
	}
	return 0;
}

static int
ntfs_walk_bitmap(ntfs_volume *vol, uint64_t offset, struct extent_list *out,
    char *err, size_t errlen)
{
	uint64_t clusters = (uint64_t)vol->nr_clusters;
	uint64_t cluster_bytes = vol->cluster_size;
	uint8_t *buf = malloc(NTFS_BITMAP_CHUNK);
	int64_t run = -1;
	int rc = 0;

	if (buf == NULL)
		return -ENOMEM;
	for (uint64_t first = 0; first < clusters && rc == 0;
	    first += NTFS_BITMAP_CHUNK * 8) {
		uint64_t nbits = MIN(clusters - first, NTFS_BITMAP_CHUNK * 8ull);
		s64 want = (s64)((nbits + 7) / 8);

		if (ntfs_attr_pread(vol->lcnbmp_na, (s64)(first / 8), want, buf)
		    != want) {
			image_error(err, errlen, "ntfs: reading $Bitmap failed");
			rc = -EIO;
			break;
		}
		rc = ntfs_add_runs(buf, nbits, first, &run, cluster_bytes, offset,
		    out);
	}
	if (rc == 0 && run >= 0)
		rc = extent_list_add(out, offset + (uint64_t)run * cluster_bytes,
		    (clusters - (uint64_t)run) * cluster_bytes);
	free(buf);
	return rc;
}

/* The backup boot sector: the sector after the volume's last one. */
static int
ntfs_add_backup_boot(const struct ntfs_span *s, uint32_t sector_size,
    struct extent_list *out, char *err, size_t errlen)
{
	uint8_t boot[512];
	struct cursor c = cursor_make(boot, sizeof(boot));
	uint64_t total, at;
	int rc;

	rc = image_pread(s->fd, boot, sizeof(boot), s->offset);
	if (rc < 0 || !cursor_skip(&c, NTFS_TOTAL_SECTORS_AT) ||
	    !cursor_le64(&c, &total)) {
		image_error(err, errlen, "ntfs: reading the boot sector failed");
		return rc < 0 ? rc : -EIO;
	}
	if (total >= s->length / sector_size) {
		image_error(err, errlen, "ntfs: volume (%llu sectors) does not "
		    "leave room for its backup boot sector in the partition",
		    (unsigned long long)total);
		return -EINVAL;
	}
	at = total * sector_size;
	rc = extent_list_add(out, s->offset + at, sector_size);
	if (rc == 0)
		rc = extent_list_add(out, s->offset + s->length - sector_size,
		    sector_size);
	return rc;
}

static ntfs_volume *
ntfs_mount_span_flags(struct ntfs_span *s, struct ntfs_device **dev,
    unsigned long flags, char *err, size_t errlen)
{
	ntfs_volume *vol;

	ntfs_first_error[0] = '\0';
	ntfs_log_set_handler(ntfs_log_keep);
	*dev = ntfs_device_alloc("pxed-partition", 0, &span_ops, s);
	if (*dev == NULL) {
		image_error(err, errlen, "ntfs: out of memory");
		return NULL;
	}
	vol = ntfs_device_mount(*dev, flags);
	if (vol == NULL) {
		image_error(err, errlen, "ntfs: mount failed: %s",
		    ntfs_first_error[0] ? ntfs_first_error : strerror(errno));
		ntfs_device_free(*dev);
		*dev = NULL;
	}
	return vol;
}

static ntfs_volume *
ntfs_mount_span(struct ntfs_span *s, struct ntfs_device **dev, char *err,
    size_t errlen)
{
	return ntfs_mount_span_flags(s, dev, NTFS_MNT_RDONLY, err, errlen);
}

int
fs_ntfs_used(int fd, uint64_t offset, uint64_t length, struct extent_list *out,
    char *err, size_t errlen)
{
	struct ntfs_span s = { fd, offset, length, 0, false };
	struct ntfs_device *dev;
	ntfs_volume *vol;
	int rc;

	vol = ntfs_mount_span(&s, &dev, err, errlen);
	if (vol == NULL)
		return -EINVAL;
	if ((uint64_t)vol->nr_clusters * vol->cluster_size > length) {
		image_error(err, errlen, "ntfs: volume larger than its partition");
		rc = -EINVAL;
	} else {
		rc = ntfs_walk_bitmap(vol, offset, out, err, errlen);
	}
	if (rc == 0)
		rc = ntfs_add_backup_boot(&s, vol->sector_size, out, err, errlen);
	ntfs_umount(vol, FALSE);        /* frees dev too */
	return rc;
}

/* ---- files inside the volume (fs_file.c) ---- */

struct ntfs_handle {
	struct ntfs_span span;
	ntfs_volume *vol;
};

/* Windows left the volume hibernated (or shut down with Fast Startup,
 * which hibernates the kernel): hiberfil.sys starts with "hibr". */
static bool
ntfs_is_hibernated(ntfs_volume *vol)
{
	ntfs_inode *ni = ntfs_pathname_to_inode(vol, NULL, "hiberfil.sys");
	ntfs_attr *na;
	char magic[4] = { 0 };
	bool hibernated = false;

	if (ni == NULL)
		return false;
	na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (na != NULL && ntfs_attr_pread(na, 0, sizeof magic, magic) == sizeof magic)
		hibernated = memcmp(magic, "hibr", 4) == 0 || memcmp(magic, "HIBR", 4) == 0;
	if (na != NULL)
		ntfs_attr_close(na);
	ntfs_inode_close(ni);
	return hibernated;
}

int
fs_ntfs_open(int fd, uint64_t offset, uint64_t length, bool write, void **out,
    bool *hibernated, char *err, size_t errlen)
{
	struct ntfs_handle *h = calloc(1, sizeof *h);
	struct ntfs_device *dev;

	*out = NULL;
	if (h == NULL)
		return -ENOMEM;
	h->span = (struct ntfs_span){ fd, offset, length, 0, false };
	h->vol = ntfs_mount_span(&h->span, &dev, err, errlen);
	if (h->vol == NULL) {
		free(h);
		return -EINVAL;
	}
	*hibernated = ntfs_is_hibernated(h->vol);
	if (write && *hibernated) {
		ntfs_umount(h->vol, FALSE);
		free(h);
		image_error(err, errlen, "ntfs: Windows is hibernated or was shut down with "
		    "Fast Startup (hiberfil.sys): nothing may be written");
		return -EROFS;
	}
	if (write) {
		ntfs_umount(h->vol, FALSE);
		h->span = (struct ntfs_span){ fd, offset, length, 0, true };
		h->vol = ntfs_mount_span_flags(&h->span, &dev, 0, err, errlen);
		if (h->vol == NULL) {
			free(h);
			return -EROFS;
		}
	}
	*out = h;
	return 0;
}

int
fs_ntfs_close(void *handle)
{
	struct ntfs_handle *h = handle;
	int rc;

	if (h == NULL)
		return 0;
	rc = ntfs_umount(h->vol, FALSE) == 0 ? 0 : -EIO;
	free(h);
	return rc;
}

/* The unnamed data attribute of a regular file at path. */
static int
ntfs_data_open(struct ntfs_handle *h, const char *path, ntfs_inode **ni,
    ntfs_attr **na, char *err, size_t errlen)
{
	ntfs_first_error[0] = '\0';
	*na = NULL;
	*ni = ntfs_pathname_to_inode(h->vol, NULL, path);
	if (*ni == NULL)
		return -ENOENT;
	if ((*ni)->mrec->flags & MFT_RECORD_IS_DIRECTORY) {
		ntfs_inode_close(*ni);
		image_error(err, errlen, "ntfs: %s is a directory", path);
		return -EISDIR;
	}
	*na = ntfs_attr_open(*ni, AT_DATA, AT_UNNAMED, 0);
	if (*na == NULL) {
		ntfs_inode_close(*ni);
		image_error(err, errlen, "ntfs: %s has no data", path);
		return -EINVAL;
	}
	return 0;
}

int
fs_ntfs_read(void *handle, const char *path, size_t max, uint8_t **data, size_t *len,
    char *err, size_t errlen)
{
	ntfs_inode *ni;
	ntfs_attr *na;
	int rc = ntfs_data_open(handle, path, &ni, &na, err, errlen);

	*data = NULL;
	*len = 0;
	if (rc < 0)
		return rc;
	if (na->data_size < 0 || (uint64_t)na->data_size > max) {
		image_error(err, errlen, "ntfs: %s is larger than %zu bytes", path, max);
		rc = -EFBIG;
	} else if ((*data = malloc(na->data_size > 0 ? (size_t)na->data_size : 1)) == NULL) {
		rc = -ENOMEM;
	} else if (ntfs_attr_pread(na, 0, na->data_size, *data) != na->data_size) {
		image_error(err, errlen, "ntfs: reading %s failed", path);
		rc = -EIO;
	} else {
		*len = (size_t)na->data_size;
	}
	if (rc < 0) {
		free(*data);
		*data = NULL;
	}
	ntfs_attr_close(na);
	ntfs_inode_close(ni);
	return rc;
}

int
fs_ntfs_write(void *handle, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen)
{
	ntfs_inode *ni;
	ntfs_attr *na;
	int rc = ntfs_data_open(handle, path, &ni, &na, err, errlen);

	if (rc < 0)
		return rc;
	if (ntfs_attr_truncate(na, (s64)len) != 0 ||
	    ntfs_attr_pwrite(na, 0, (s64)len, data) != (s64)len) {
		image_error(err, errlen, "ntfs: writing %s failed: %s", path,
		    ntfs_first_error[0] ? ntfs_first_error : strerror(errno));
		rc = -EIO;
	}
	ntfs_attr_close(na);
	if (ntfs_inode_close(ni) != 0 && rc == 0) {
		image_error(err, errlen, "ntfs: closing %s failed", path);
		rc = -EIO;
	}
	return rc;
}

/* The directory of path and its last name, split at the last '/'. */
static int
ntfs_split(const char *path, char *dir, size_t size, const char **name)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash[1] == '\0' || (size_t)(slash - path) >= size)
		return -EINVAL;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (dir[0] == '\0')
		memcpy(dir, "/", 2);
	*name = slash + 1;
	return 0;
}

int
fs_ntfs_create(void *handle, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen)
{
	struct ntfs_handle *h = handle;
	char dirpath[1024];
	const char *name;
	ntfschar *uname = NULL;
	ntfs_inode *dir, *ni = NULL;
	ntfs_attr *na;
	int n, rc = -EIO;

	if (ntfs_split(path, dirpath, sizeof dirpath, &name) < 0)
		return -EINVAL;
	ntfs_first_error[0] = '\0';
	dir = ntfs_pathname_to_inode(h->vol, NULL, dirpath);
	if (dir == NULL)
		return -ENOENT;
	n = ntfs_mbstoucs(name, &uname);
	if (n > 0 && n <= 255 && ntfs_inode_lookup_by_name(dir, uname, n) != (u64)-1)
		rc = -EEXIST;
	else if (n > 0 && n <= 255)
		ni = ntfs_create(dir, const_cpu_to_le32(0), uname, (u8)n, S_IFREG);
	/* the directory is closed before the file: closing the file updates its
	 * entry in the directory's index through an inode of its own */
	ntfs_inode_close(dir);
	if (ni != NULL) {
		na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
		rc = na != NULL && (len == 0 || ntfs_attr_pwrite(na, 0, (s64)len, data) ==
		    (s64)len) ? 0 : -EIO;
		if (na != NULL)
			ntfs_attr_close(na);
		if (ntfs_inode_close(ni) != 0)
			rc = -EIO;
	}
	free(uname);
	if (rc < 0)
		image_error(err, errlen, "ntfs: creating %s: %s", path, rc == -EEXIST ?
		    "it exists" : ntfs_first_error[0] ? ntfs_first_error : "failed");
	return rc;
}

void *
fs_ntfs_volume(void *handle)
{
	return ((struct ntfs_handle *)handle)->vol;
}

int
fs_ntfs_mkdir(void *handle, const char *path, char *err, size_t errlen)
{
	struct ntfs_handle *h = handle;
	char dirpath[1024];
	const char *name;
	ntfschar *uname = NULL;
	ntfs_inode *dir, *ni = NULL;
	int n, rc = -EIO;

	if (ntfs_split(path, dirpath, sizeof dirpath, &name) < 0)
		return -EINVAL;
	dir = ntfs_pathname_to_inode(h->vol, NULL, dirpath);
	if (dir == NULL)
		return -ENOENT;
	n = ntfs_mbstoucs(name, &uname);
	if (n > 0 && n <= 255 && ntfs_inode_lookup_by_name(dir, uname, n) != (u64)-1)
		rc = -EEXIST;
	else if (n > 0 && n <= 255)
		ni = ntfs_create(dir, const_cpu_to_le32(0), uname, (u8)n, S_IFDIR);
	ntfs_inode_close(dir);
	if (ni != NULL)
		rc = ntfs_inode_close(ni) == 0 ? 0 : -EIO;
	free(uname);
	if (rc == -EIO)
		image_error(err, errlen, "ntfs: mkdir %s failed", path);
	return rc;
}

/* A new name for the file at from (to: its directory exists), then the
 * old name removed: ntfs-3g's own rename.  ntfs_delete closes the inodes
 * it is given. */
int
fs_ntfs_rename(void *handle, const char *from, const char *to, char *err, size_t errlen)
{
	struct ntfs_handle *h = handle;
	char to_dir_path[1024], from_dir_path[1024];
	const char *to_name, *from_name;
	ntfschar *uto = NULL, *ufrom = NULL;
	ntfs_inode *ni, *dir;
	int nto, nfrom, rc = -EIO;

	if (ntfs_split(to, to_dir_path, sizeof to_dir_path, &to_name) < 0 ||
	    ntfs_split(from, from_dir_path, sizeof from_dir_path, &from_name) < 0)
		return -EINVAL;
	nto = ntfs_mbstoucs(to_name, &uto);
	nfrom = ntfs_mbstoucs(from_name, &ufrom);
	ni = nto > 0 && nfrom > 0 ? ntfs_pathname_to_inode(h->vol, NULL, from) : NULL;
	dir = ni != NULL ? ntfs_pathname_to_inode(h->vol, NULL, to_dir_path) : NULL;
	if (dir != NULL && ntfs_inode_lookup_by_name(dir, uto, nto) != (u64)-1)
		rc = -EEXIST;
	else if (dir != NULL && ntfs_link(ni, dir, uto, (u8)nto) == 0)
		rc = 0;
	if (dir != NULL)
		ntfs_inode_close(dir);
	if (ni != NULL)
		ntfs_inode_close(ni);
	if (rc == 0) {
		ni = ntfs_pathname_to_inode(h->vol, NULL, from);
		dir = ntfs_pathname_to_inode(h->vol, NULL, from_dir_path);
		if (ni == NULL || dir == NULL ||
		    ntfs_delete(h->vol, from, ni, dir, ufrom, (u8)nfrom) != 0)
			rc = -EIO;
	} else if (ni == NULL) {
		rc = -ENOENT;
	}
	free(uto);
	free(ufrom);
	if (rc == -EIO)
		image_error(err, errlen, "ntfs: moving %s to %s failed", from, to);
	return rc;
}
