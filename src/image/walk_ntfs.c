/* The regular files of an NTFS volume (libntfs-3g directory reads,
 * breadth first; the DOS 8.3 aliases and the metadata files are left
 * out) and reading one of them by MFT reference. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>

#include "image/fs.h"

struct ntfs_walk {
	ntfs_volume *vol;
	struct fs_entries *files;
	struct fs_entries dirs;
	struct fs_entries found;        /* this directory's entries, read after it */
	const char *dir_path;
	int rc;
};

static int
ntfs_walk_entry(void *arg, const ntfschar *name, const int name_len, const int name_type,
    const s64 pos, const MFT_REF mref, const unsigned dt_type)
{
	struct ntfs_walk *w = arg;
	char *utf8 = NULL, path[FS_PATH_MAX];

	(void)pos;
	if (name_type == FILE_NAME_DOS || MREF(mref) < FILE_first_user ||
	    (dt_type != NTFS_DT_DIR && dt_type != NTFS_DT_REG))
		return 0;
	if (ntfs_ucstombs(name, name_len, &utf8, 0) < 0)
		return 0;
	if (strcmp(utf8, ".") != 0 && strcmp(utf8, "..") != 0 &&
	    (size_t)snprintf(path, sizeof path, "%s/%s", strcmp(w->dir_path, "/") == 0 ? "" :
	    w->dir_path, utf8) < sizeof path)
		/* size stands for "a directory" until the entry is looked at */
		w->rc = fs_entries_add(&w->found, path, MREF(mref), dt_type == NTFS_DT_DIR);
	free(utf8);
	return w->rc < 0 ? -1 : 0;
}

/* The file's data size (its unnamed $DATA), or -1. */
static int64_t
ntfs_size_of(ntfs_volume *vol, uint64_t mref)
{
	ntfs_inode *ni = ntfs_inode_open(vol, mref);
	ntfs_attr *na;
	int64_t size = -1;

	if (ni == NULL)
		return -1;
	na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
	if (na != NULL) {
		size = na->data_size;
		ntfs_attr_close(na);
	}
	ntfs_inode_close(ni);
	return size;
}

static int
ntfs_walk_dir(struct ntfs_walk *w, uint64_t mref, size_t max)
{
	ntfs_inode *dir = ntfs_inode_open(w->vol, mref);
	s64 pos = 0;

	w->found.n = 0;
	if (dir == NULL)
		return 0;
	ntfs_readdir(dir, &pos, w, ntfs_walk_entry);
	ntfs_inode_close(dir);
	for (size_t i = 0; i < w->found.n && w->rc == 0; i++) {
		const struct fs_entry *e = &w->found.v[i];
		int64_t size;
		if (e->size == 1)               /* a directory */
			w->rc = fs_entries_add(&w->dirs, e->path, e->id, 0);
		else if (w->files->n >= max)
			w->rc = -E2BIG;
		else if ((size = ntfs_size_of(w->vol, e->id)) >= 0)
			w->rc = fs_entries_add(w->files, e->path, e->id, (uint64_t)size);
	}
	return w->rc;
}

int
fs_ntfs_walk(void *handle, size_t max, struct fs_entries *out, char *err, size_t errlen)
{
	struct ntfs_walk w = { .vol = fs_ntfs_volume(handle), .files = out };
	int rc = fs_entries_add(&w.dirs, "/", FILE_root, 0);

	for (size_t i = 0; rc == 0 && i < w.dirs.n; i++) {
		w.dir_path = w.dirs.v[i].path;
		rc = ntfs_walk_dir(&w, w.dirs.v[i].id, max);
	}
	if (rc == -E2BIG)
		image_error(err, errlen, "ntfs: more than %zu files", max);
	fs_entries_free(&w.dirs);
	fs_entries_free(&w.found);
	return rc;
}

struct ntfs_reader {
	ntfs_inode *ni;
	ntfs_attr *na;
};

int
fs_ntfs_reader_open(void *handle, uint64_t id, void **out, uint64_t *size)
{
	struct ntfs_reader *r = calloc(1, sizeof *r);

	*out = NULL;
	if (r == NULL)
		return -ENOMEM;
	r->ni = ntfs_inode_open(fs_ntfs_volume(handle), id);
	r->na = r->ni != NULL ? ntfs_attr_open(r->ni, AT_DATA, AT_UNNAMED, 0) : NULL;
	if (r->na == NULL) {
		if (r->ni != NULL)
			ntfs_inode_close(r->ni);
		free(r);
		return -EIO;
	}
	*size = (uint64_t)r->na->data_size;
	*out = r;
	return 0;
}

ssize_t
fs_ntfs_reader_pread(void *reader, void *buf, size_t n, uint64_t off)
{
	struct ntfs_reader *r = reader;
	s64 got = ntfs_attr_pread(r->na, (s64)off, (s64)n, buf);

	return got < 0 ? -EIO : (ssize_t)got;
}

void
fs_ntfs_reader_close(void *reader)
{
	struct ntfs_reader *r = reader;

	if (r == NULL)
		return;
	ntfs_attr_close(r->na);
	ntfs_inode_close(r->ni);
	free(r);
}
