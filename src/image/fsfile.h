/* Files inside a partition's filesystem (ext2/3/4, NTFS), without a mount:
 * what the agent reads and edits after a deploy (hostname), for a password
 * reset (the SAM hive) and for a scan. */
#ifndef PXED_IMAGE_FSFILE_H
#define PXED_IMAGE_FSFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* A new regular file at path (its directory exists) holding data.  0;
 * -EEXIST, -ENOENT (no such directory), -ENOTSUP (ext: not yet), -EIO. */
int fs_file_create(struct fs_volume *v, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen);

#endif
