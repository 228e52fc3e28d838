/* The regular files of an ext2/3/4 filesystem (libext2fs directory
 * iteration, breadth first) and reading one of them by inode. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "image/fs.h"

struct ext_walk {
	ext2_filsys fs;
	struct fs_entries *files;
	struct fs_entries dirs;         /* still to read */
	const char *dir_path;
	size_t max;
	int rc;
};

static int
ext_walk_entry(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int offset,
    int blocksize, char *buf, void *arg)
{
	struct ext_walk *w = arg;
	size_t n = ext2fs_dirent_name_len(d);
	char path[FS_PATH_MAX];
	struct ext2_inode inode;

	(void)dir;
	(void)entry;
	(void)offset;
	(void)blocksize;
	(void)buf;
	if ((n == 1 && d->name[0] == '.') || (n == 2 && memcmp(d->name, "..", 2) == 0) ||
	    memchr(d->name, '\0', n) != NULL)
		return 0;
	if ((size_t)snprintf(path, sizeof path, "%s/%.*s", strcmp(w->dir_path, "/") == 0 ?
	    "" : w->dir_path, (int)n, d->name) >= sizeof path)
		return 0;                       /* deeper than any path we keep */
	if (ext2fs_read_inode(w->fs, d->inode, &inode) != 0)
		return 0;
	if (LINUX_S_ISDIR(inode.i_mode))
		w->rc = fs_entries_add(&w->dirs, path, d->inode, 0);
	else if (LINUX_S_ISREG(inode.i_mode) && w->files->n < w->max)
		w->rc = fs_entries_add(w->files, path, d->inode, EXT2_I_SIZE(&inode));
	else if (LINUX_S_ISREG(inode.i_mode))
		w->rc = -E2BIG;
	return w->rc < 0 ? DIRENT_ABORT : 0;
}

int
fs_ext_walk(void *handle, size_t max, struct fs_entries *out, char *err, size_t errlen)
{
	struct ext_walk w = { .fs = handle, .files = out, .max = max };
	int rc = fs_entries_add(&w.dirs, "/", EXT2_ROOT_INO, 0);

	for (size_t i = 0; rc == 0 && i < w.dirs.n; i++) {
		w.dir_path = w.dirs.v[i].path;
		if (ext2fs_dir_iterate2(w.fs, (ext2_ino_t)w.dirs.v[i].id, 0, NULL, ext_walk_entry,
		    &w) != 0 && w.rc == 0)
			image_error(err, errlen, "ext: %s: unreadable directory (skipped)", w.dir_path);
		rc = w.rc;
	}
	if (rc == -E2BIG)
		image_error(err, errlen, "ext: more than %zu files", max);
	fs_entries_free(&w.dirs);
	return rc;
}

struct ext_reader {
	ext2_file_t f;
};

int
fs_ext_reader_open(void *handle, uint64_t id, void **out, uint64_t *size)
{
	struct ext_reader *r = calloc(1, sizeof *r);
	__u64 s = 0;

	*out = NULL;
	if (r == NULL)
		return -ENOMEM;
	if (ext2fs_file_open(handle, (ext2_ino_t)id, 0, &r->f) != 0) {
		free(r);
		return -EIO;
	}
	ext2fs_file_get_lsize(r->f, &s);
	*size = s;
	*out = r;
	return 0;
}

ssize_t
fs_ext_reader_pread(void *reader, void *buf, size_t n, uint64_t off)
{
	struct ext_reader *r = reader;
	unsigned got = 0;

	if (n > UINT32_MAX)
		n = UINT32_MAX;
	if (ext2fs_file_llseek(r->f, off, EXT2_SEEK_SET, NULL) != 0 ||
	    ext2fs_file_read(r->f, buf, (unsigned)n, &got) != 0)
		return -EIO;
	return (ssize_t)got;
}

void
fs_ext_reader_close(void *reader)
{
	struct ext_reader *r = reader;

	if (r == NULL)
		return;
	ext2fs_file_close(r->f);
	free(r);
}
