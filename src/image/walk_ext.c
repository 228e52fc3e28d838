/* The regular files of an ext2/3/4 filesystem (libext2fs directory
 * iteration, breadth first) and reading one of them by inode. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "core/util.h"
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

/* A file read by its block map: runs of logical blocks that lie one after
 * the other on the disk, read with one pread each from the disk's
 * descriptor (libext2fs's own file reads go a block at a time).  Holes
 * read as zeros (an unwritten extent reads as what its blocks hold); a
 * file with inline data (or a map too long to keep) is read through
 * libext2fs. */
#define EXT_RUNS_MAX (1u << 16)

struct ext_run {
	uint64_t logical, physical, count;      /* blocks */
};

struct ext_reader {
	ext2_filsys fs;
	ext2_file_t f;                          /* the fallback */
	struct ext_run *run;
	size_t nruns, cap;
	uint64_t size;
	bool mapped;
};

static int
ext_map_block(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk,
    int ref_offset, void *priv)
{
	struct ext_reader *r = priv;
	struct ext_run *last = r->nruns > 0 ? &r->run[r->nruns - 1] : NULL;

	(void)fs;
	(void)ref_blk;
	(void)ref_offset;
	if (blockcnt < 0)
		return 0;
	if (last != NULL && last->logical + last->count == (uint64_t)blockcnt &&
	    last->physical + last->count == *blocknr) {
		last->count++;
		return 0;
	}
	if (r->nruns == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct ext_run *v = cap <= EXT_RUNS_MAX ? reallocarray(r->run, cap, sizeof *v) : NULL;
		if (v == NULL) {
			r->mapped = false;
			return BLOCK_ABORT;
		}
		r->run = v;
		r->cap = cap;
	}
	r->run[r->nruns++] = (struct ext_run){ (uint64_t)blockcnt, *blocknr, 1 };
	return 0;
}

int
fs_ext_reader_open(void *handle, uint64_t id, void **out, uint64_t *size)
{
	ext2_filsys fs = handle;
	struct ext_reader *r = calloc(1, sizeof *r);
	struct ext2_inode inode;

	*out = NULL;
	if (r == NULL)
		return -ENOMEM;
	r->fs = fs;
	if (ext2fs_read_inode(fs, (ext2_ino_t)id, &inode) != 0) {
		free(r);
		return -EIO;
	}
	r->size = EXT2_I_SIZE(&inode);
	r->mapped = fs->priv_data != NULL && !(inode.i_flags & EXT4_INLINE_DATA_FL);
	if (r->mapped && ext2fs_block_iterate3(fs, (ext2_ino_t)id, BLOCK_FLAG_READ_ONLY |
	    BLOCK_FLAG_DATA_ONLY, NULL, ext_map_block, r) != 0)
		r->mapped = false;
	if (!r->mapped && ext2fs_file_open(fs, (ext2_ino_t)id, 0, &r->f) != 0) {
		free(r->run);
		free(r);
		return -EIO;
	}
	*size = r->size;
	*out = r;
	return 0;
}

/* Bytes [off, off+n) of a mapped file: the run holding off, or zeros. */
static ssize_t
ext_mapped_pread(struct ext_reader *r, uint8_t *buf, size_t n, uint64_t off)
{
	const struct ext_where *w = r->fs->priv_data;
	uint64_t bs = r->fs->blocksize, block = off / bs, end;
	size_t lo = 0, hi = r->nruns;

	n = (size_t)MIN((uint64_t)n, r->size - off);
	while (lo < hi) {                       /* the last run starting at or before block */
		size_t mid = (lo + hi) / 2;
		if (r->run[mid].logical <= block)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && block < r->run[lo - 1].logical + r->run[lo - 1].count) {
		const struct ext_run *run = &r->run[lo - 1];
		end = (run->logical + run->count) * bs;
		n = (size_t)MIN((uint64_t)n, end - off);
		return image_pread(w->fd, buf, n, w->offset + run->physical * bs +
		    (off - run->logical * bs)) < 0 ? -EIO : (ssize_t)n;
	}
	/* a hole, up to the next run */
	end = lo < r->nruns ? r->run[lo].logical * bs : r->size;
	n = (size_t)MIN((uint64_t)n, end - off);
	memset(buf, 0, n);
	return (ssize_t)n;
}

ssize_t
fs_ext_reader_pread(void *reader, void *buf, size_t n, uint64_t off)
{
	struct ext_reader *r = reader;
	unsigned got = 0;

	if (off >= r->size || n == 0)
		return 0;
	if (r->mapped)
		return ext_mapped_pread(r, buf, n, off);
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
	if (r->f != NULL)
		ext2fs_file_close(r->f);
	free(r->run);
	free(r);
}
