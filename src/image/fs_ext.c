/* ext2/3/4 used bytes from libext2fs's block bitmap.  The filesystem is
 * opened read-only through /proc/self/fd/N with the unix I/O manager's
 * "offset=" option, so a partition inside a disk image or device needs no
 * loop device and no mount.  With bigalloc the bitmap counts clusters;
 * libext2fs's block-number API maps them, so runs come out in blocks,
 * cluster-aligned. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

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
