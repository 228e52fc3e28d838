/* Files inside a partition's filesystem (ext2/3/4, NTFS), without a mount:
 * what the agent reads and edits after a deploy (hostname), for a password
 * reset (the SAM hive) and for a scan. */
#ifndef PXED_IMAGE_FSFILE_H
#define PXED_IMAGE_FSFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "image/disk.h"

struct fs_volume;

/* Opens the filesystem of kind in [offset, offset+length) of fd, for
 * reading or also writing.  0; -ENOTSUP (a kind not handled: FAT, swap);
 * -EROFS for a write open of an NTFS that Windows left hibernated (or
 * shut down with Fast Startup) or that libntfs-3g will not write (unclean),
 * or of an ext whose journal needs recovery; -EINVAL (damaged), -ENOMEM;
 * err says why. */
int fs_volume_open(int fd, uint64_t offset, uint64_t length, enum fs_kind kind, bool write,
    struct fs_volume **out, char *err, size_t errlen);
/* Writes back what changed and frees v.  0 or -EIO. */
int fs_volume_close(struct fs_volume *v);
/* NTFS: Windows left it hibernated (hiberfil.sys starts with "hibr"). */
bool fs_volume_hibernated(const struct fs_volume *v);

/* The content of the regular file at path (from the root, '/'-separated)
 * in *data (malloc'd), at most max bytes.  0; -ENOENT (no such file),
 * -EFBIG (larger than max), -EINVAL / -EISDIR (not a regular file), -EIO. */
int fs_file_read(struct fs_volume *v, const char *path, size_t max, uint8_t **data,
    size_t *len, char *err, size_t errlen);
/* Replaces the content of the existing regular file at path.  0; -ENOENT,
 * -EINVAL, -EIO (a full filesystem too). */
int fs_file_write(struct fs_volume *v, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen);

/* ---- every file, and reading one (a scan) ---- */

#define FS_PATH_MAX 4096

struct fs_entry {
	char *path;             /* from the root, '/'-separated, UTF-8 (malloc'd) */
	uint64_t id;            /* inode number, MFT reference, first cluster... */
	uint64_t size;
};

struct fs_entries {
	struct fs_entry *v;
	size_t n, cap;
};

int fs_entries_add(struct fs_entries *l, const char *path, uint64_t id, uint64_t size);
void fs_entries_free(struct fs_entries *l);

/* Every regular file of the filesystem (not links, devices, NTFS metadata
 * or DOS aliases), at most max (then -E2BIG with those found), paths at
 * most FS_PATH_MAX bytes (deeper ones are left out).  An unreadable
 * directory is skipped and named in err (0 returned). */
int fs_walk(struct fs_volume *v, size_t max, struct fs_entries *out, char *err,
    size_t errlen);

struct fs_reader;
/* The file of id (from a walk of this filesystem) for reading, its size.
 * A reader is used by one thread at a time; a volume too. */
int fs_reader_open(struct fs_volume *v, uint64_t id, struct fs_reader **out, uint64_t *size);
/* Up to n bytes at off: the count (0 at the end) or a negative errno. */
ssize_t fs_reader_pread(struct fs_reader *r, void *buf, size_t n, uint64_t off);
void fs_reader_close(struct fs_reader *r);

/* A new regular file at path (its directory exists) holding data.  0;
 * -EEXIST, -ENOENT (no such directory), -ENOTSUP (FAT), -EIO. */
int fs_file_create(struct fs_volume *v, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen);
/* A new directory at path (its parent exists).  0, -EEXIST, -ENOENT,
 * -ENOTSUP (FAT), -EIO. */
int fs_mkdir(struct fs_volume *v, const char *path, char *err, size_t errlen);
/* The regular file at from given the name to (its directory exists, on
 * the same filesystem; nothing there yet) and its old name removed.  0,
 * -ENOENT, -EEXIST, -ENOTSUP (FAT), -EIO. */
int fs_rename(struct fs_volume *v, const char *from, const char *to, char *err,
    size_t errlen);

#endif
