/* ext2/3/4 used bytes from libext2fs's block bitmap.  The filesystem is
 * opened read-only through /proc/self/fd/N with the unix I/O manager's
 * "offset=" option, so a partition inside a disk image or device needs no
 * loop device and no mount.  With bigalloc the bitmap counts clusters;
 * libext2fs's block-number API maps them, so runs come out in blocks,
 * cluster-aligned. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <ext2fs/ext2fs.h>

#include "image/disk.h"
#include "image/fs.h"

#define EXT_HEAD_BYTES  2048    /* boot block + superblock, whatever the bitmap says */

/* libext2fs errors are errno values or com_err codes (large numbers). */
static void
ext_error(char *err, size_t errlen, const char *what, errcode_t e)
{
	if (e > 0 && e < 4096)
		image_error(err, errlen, "ext: %s: %s", what, strerror((int)e));
	else
		image_error(err, errlen, "ext: %s: libext2fs error %ld", what,
		    (long)e);
}

static int
ext_open(int fd, uint64_t offset, ext2_filsys *fs, char *err, size_t errlen)
{
	char path[64], options[64];
	errcode_t e;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	snprintf(options, sizeof(options), "offset=%llu",
	    (unsigned long long)offset);
	e = ext2fs_open2(path, options, EXT2_FLAG_64BITS, 0, 0, unix_io_manager,
	    fs);
	if (e != 0) {
		*fs = NULL;
		ext_error(err, errlen, "open", e);
		return -EINVAL;
	}
	return 0;
}

/* The bitmap can be trusted: the size fits, no journal replay is pending. */
static int
ext_check(ext2_filsys fs, uint64_t length, char *err, size_t errlen)
{
	uint64_t bytes = ext2fs_blocks_count(fs->super) * (uint64_t)fs->blocksize;

	if (bytes > length) {
		image_error(err, errlen, "ext: filesystem (%llu bytes) larger than "
		    "its partition (%llu)", (unsigned long long)bytes,
		    (unsigned long long)length);
		return -EINVAL;
	}
	if (ext2fs_has_feature_journal_needs_recovery(fs->super)) {
		image_error(err, errlen, "ext: the journal needs recovery (run "
		    "e2fsck); the bitmaps may be stale");
		return -EUCLEAN;
	}
	return 0;
}

/* Runs of set bits in the block bitmap, as byte extents. */
static int
ext_walk_bitmap(ext2_filsys fs, uint64_t offset, struct extent_list *out,
    char *err, size_t errlen)
{
	blk64_t first = fs->super->s_first_data_block;
	blk64_t last = ext2fs_blocks_count(fs->super) - 1;
	uint64_t bs = fs->blocksize;
	blk64_t start = first;

	while (start <= last) {
		blk64_t set, zero;
		errcode_t e;
		int rc;

		e = ext2fs_find_first_set_block_bitmap2(fs->block_map, start,
		    last, &set);
		if (e == ENOENT)
			break;
		if (e != 0) {
			ext_error(err, errlen, "block bitmap", e);
			return -EIO;
		}
		e = ext2fs_find_first_zero_block_bitmap2(fs->block_map, set, last,
		    &zero);
		if (e == ENOENT)
			zero = last + 1;
		else if (e != 0 || zero <= set) {
			ext_error(err, errlen, "block bitmap", e);
			return -EIO;
		}
		rc = extent_list_add(out, offset + set * bs, (zero - set) * bs);
		if (rc < 0)
			return rc;
		start = zero;
	}
	return 0;
}

int
fs_ext_used(int fd, uint64_t offset, uint64_t length, struct extent_list *out,
    char *err, size_t errlen)
{
	ext2_filsys fs;
	errcode_t e;
	int rc;

	rc = ext_open(fd, offset, &fs, err, errlen);
	if (rc < 0)
		return rc;
	rc = ext_check(fs, length, err, errlen);
	if (rc == 0) {
		e = ext2fs_read_block_bitmap(fs);
		if (e != 0) {
			ext_error(err, errlen, "reading the block bitmap", e);
			rc = -EIO;
		}
	}
	if (rc == 0)
		rc = extent_list_add(out, offset, EXT_HEAD_BYTES);
	if (rc == 0)
		rc = ext_walk_bitmap(fs, offset, out, err, errlen);
	ext2fs_close_free(&fs);
	return rc;
}

/* ---- files inside the filesystem (fs_file.c) ---- */

int
fs_ext_open(int fd, uint64_t offset, bool write, void **out, char *err, size_t errlen)
{
	char path[64], options[64];
	ext2_filsys fs;
	errcode_t e;

	*out = NULL;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	snprintf(options, sizeof(options), "offset=%llu", (unsigned long long)offset);
	e = ext2fs_open2(path, options, EXT2_FLAG_64BITS | (write ? EXT2_FLAG_RW : 0), 0, 0,
	    unix_io_manager, &fs);
	if (e != 0) {
		ext_error(err, errlen, "open", e);
		return -EINVAL;
	}
	if (write && ext2fs_has_feature_journal_needs_recovery(fs->super)) {
		ext2fs_close_free(&fs);
		image_error(err, errlen, "ext: the journal needs recovery: nothing written");
		return -EROFS;
	}
	if (write && (e = ext2fs_read_bitmaps(fs)) != 0) {
		ext2fs_close_free(&fs);
		ext_error(err, errlen, "reading the bitmaps", e);
		return -EIO;
	}
	/* where the filesystem lies, for readers that pread its blocks */
	struct ext_where *where = malloc(sizeof *where);
	if (where == NULL) {
		ext2fs_close_free(&fs);
		return -ENOMEM;
	}
	*where = (struct ext_where){ fd, offset };
	fs->priv_data = where;
	*out = fs;
	return 0;
}

int
fs_ext_close(void *handle)
{
	ext2_filsys fs = handle;

	if (fs == NULL)
		return 0;
	free(fs->priv_data);
	fs->priv_data = NULL;
	return ext2fs_close_free(&fs) == 0 ? 0 : -EIO;
}

/* The inode of a regular file at path (not followed if a link). */
static int
ext_lookup(ext2_filsys fs, const char *path, ext2_ino_t *ino, char *err, size_t errlen)
{
	struct ext2_inode inode;

	while (*path == '/')
		path++;
	if (ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, path, ino) != 0)
		return -ENOENT;
	if (ext2fs_read_inode(fs, *ino, &inode) != 0 || !LINUX_S_ISREG(inode.i_mode)) {
		image_error(err, errlen, "ext: %s is not a regular file", path);
		return -EINVAL;
	}
	return 0;
}

int
fs_ext_read(void *handle, const char *path, size_t max, uint8_t **data, size_t *len,
    char *err, size_t errlen)
{
	ext2_filsys fs = handle;
	ext2_file_t f = NULL;
	ext2_ino_t ino;
	__u64 size = 0;
	unsigned got = 0;
	int rc = ext_lookup(fs, path, &ino, err, errlen);

	*data = NULL;
	*len = 0;
	if (rc < 0)
		return rc;
	if (ext2fs_file_open(fs, ino, 0, &f) != 0)
		rc = -EIO;
	else if (ext2fs_file_get_lsize(f, &size) != 0)
		rc = -EIO;
	else if (size > max)
		rc = -EFBIG;
	else if ((*data = malloc(size > 0 ? (size_t)size : 1)) == NULL)
		rc = -ENOMEM;
	else if (size > 0 && (ext2fs_file_read(f, *data, (unsigned)size, &got) != 0 ||
	    got != size))
		rc = -EIO;
	else
		*len = (size_t)size;
	if (f != NULL)
		ext2fs_file_close(f);
	if (rc < 0) {
		image_error(err, errlen, "ext: reading %s failed (%s)", path, strerror(-rc));
		free(*data);
		*data = NULL;
	}
	return rc;
}

int
fs_ext_write(void *handle, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen)
{
	ext2_filsys fs = handle;
	ext2_file_t f;
	ext2_ino_t ino;
	unsigned put = 0;
	errcode_t e;
	int rc = ext_lookup(fs, path, &ino, err, errlen);

	if (rc < 0)
		return rc;
	if (len > UINT32_MAX)
		return -EFBIG;
	e = ext2fs_file_open(fs, ino, EXT2_FILE_WRITE, &f);
	if (e == 0) {
		e = ext2fs_file_set_size2(f, len);
		if (e == 0 && len > 0)
			e = ext2fs_file_write(f, data, (unsigned)len, &put);
		if (e == 0 && put != len)
			e = EIO;
		errcode_t c = ext2fs_file_close(f);
		if (e == 0)
			e = c;
	}
	if (e != 0) {
		ext_error(err, errlen, path, e);
		return -EIO;
	}
	return 0;
}

/* ---- directories, renames and new files (quarantine) ---- */

/* The directory holding path and the last name, looked up. */
static int
ext_parent(ext2_filsys fs, const char *path, ext2_ino_t *dir, const char **name)
{
	char parent[FS_PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash[1] == '\0' || (size_t)(slash - path) >= sizeof parent)
		return -EINVAL;
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	*name = slash + 1;
	if (parent[0] == '\0') {
		*dir = EXT2_ROOT_INO;
		return 0;
	}
	return ext2fs_namei(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, parent + 1, dir) == 0 ? 0 :
	    -ENOENT;
}

/* ext2fs_link, growing the directory when it is full. */
static errcode_t
ext_link(ext2_filsys fs, ext2_ino_t dir, const char *name, ext2_ino_t ino, int type)
{
	errcode_t e = ext2fs_link(fs, dir, name, ino, type);

	if (e == EXT2_ET_DIR_NO_SPACE && ext2fs_expand_dir(fs, dir) == 0)
		e = ext2fs_link(fs, dir, name, ino, type);
	return e;
}

int
fs_ext_mkdir(void *handle, const char *path, char *err, size_t errlen)
{
	ext2_filsys fs = handle;
	ext2_ino_t dir, ino;
	const char *name;
	errcode_t e;

	if (ext_parent(fs, path, &dir, &name) < 0)
		return -ENOENT;
	if (ext2fs_lookup(fs, dir, name, (int)strlen(name), NULL, &ino) == 0)
		return -EEXIST;
	e = ext2fs_mkdir(fs, dir, 0, name);
	if (e == EXT2_ET_DIR_NO_SPACE && ext2fs_expand_dir(fs, dir) == 0)
		e = ext2fs_mkdir(fs, dir, 0, name);
	if (e != 0) {
		ext_error(err, errlen, path, e);
		return -EIO;
	}
	return 0;
}

int
fs_ext_rename(void *handle, const char *from, const char *to, char *err, size_t errlen)
{
	ext2_filsys fs = handle;
	ext2_ino_t from_dir, to_dir, ino, other;
	struct ext2_inode inode;
	const char *from_name, *to_name;
	errcode_t e;

	if (ext_parent(fs, from, &from_dir, &from_name) < 0 ||
	    ext_parent(fs, to, &to_dir, &to_name) < 0 ||
	    ext2fs_lookup(fs, from_dir, from_name, (int)strlen(from_name), NULL, &ino) != 0)
		return -ENOENT;
	if (ext2fs_lookup(fs, to_dir, to_name, (int)strlen(to_name), NULL, &other) == 0)
		return -EEXIST;
	if (ext2fs_read_inode(fs, ino, &inode) != 0 || !LINUX_S_ISREG(inode.i_mode))
		return -EINVAL;
	e = ext_link(fs, to_dir, to_name, ino, EXT2_FT_REG_FILE);
	if (e == 0)
		e = ext2fs_unlink(fs, from_dir, from_name, ino, 0);
	if (e != 0) {
		ext_error(err, errlen, from, e);
		return -EIO;
	}
	return 0;
}

int
fs_ext_create(void *handle, const char *path, const uint8_t *data, size_t len,
    char *err, size_t errlen)
{
	ext2_filsys fs = handle;
	struct ext2_inode inode = { 0 };
	ext2_ino_t dir, ino;
	const char *name;
	errcode_t e;

	if (ext_parent(fs, path, &dir, &name) < 0)
		return -ENOENT;
	if (ext2fs_lookup(fs, dir, name, (int)strlen(name), NULL, &ino) == 0)
		return -EEXIST;
	e = ext2fs_new_inode(fs, dir, LINUX_S_IFREG | 0600, 0, &ino);
	if (e == 0)
		e = ext_link(fs, dir, name, ino, EXT2_FT_REG_FILE);
	if (e == 0) {
		ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
		inode.i_mode = LINUX_S_IFREG | 0600;
		inode.i_links_count = 1;
		inode.i_atime = inode.i_ctime = inode.i_mtime = fs->now ? fs->now : time(NULL);
		if (ext2fs_has_feature_extents(fs->super))
			inode.i_flags |= EXT4_EXTENTS_FL;
		e = ext2fs_write_new_inode(fs, ino, &inode);
	}
	if (e != 0) {
		ext_error(err, errlen, path, e);
		return -EIO;
	}
	return fs_ext_write(handle, path, data, len, err, errlen);
}
