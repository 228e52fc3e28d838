#include "files/files.h"

#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FILES_SCAN_MAX 100000   /* directory entries read per case-insensitive lookup */
#define FILES_TMP_TRIES 16      /* attempts at a fresh ".name.XXXXXX" */

/* ---- path normalization (no filesystem) ---- */

static bool
is_sep(char c)
{
	return c == '/' || c == '\\';
}

static bool
is_forbidden(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Length of the root_path + "/" prefix at the start of in, or 0. */
static size_t
root_prefix_len(const char *in, size_t in_len, const char *root_path)
{
	size_t rlen;

	if (root_path == NULL || root_path[0] != '/')
		return 0;
	rlen = strlen(root_path);
	while (rlen > 0 && root_path[rlen - 1] == '/')
		rlen--;
	if (rlen == 0 || in_len <= rlen)
		return 0;
	if (memcmp(in, root_path, rlen) != 0 || in[rlen] != '/')
		return 0;
	return rlen + 1;
}

/* Append one component of len bytes to out (o bytes used, cap with NUL). */
static int
append_component(char *out, size_t *o, size_t cap, const char *comp, size_t len)
{
	if (len == 0 || (len == 1 && comp[0] == '.'))
		return 0;
	if (len == 2 && comp[0] == '.' && comp[1] == '.')
		return -EACCES;
	if (len > FILES_NAME_MAX)
		return -ENAMETOOLONG;
	size_t need = len + (*o > 0 ? 1 : 0);
	if (need >= cap - *o)
		return -ENAMETOOLONG;
	if (*o > 0)
		out[(*o)++] = '/';
	memcpy(out + *o, comp, len);
	*o += len;
	out[*o] = '\0';
	return 0;
}

int
files_path_normalize(const char *in, size_t in_len, const char *root_path,
    char *out, size_t out_size)
{
	size_t cap, pos, o = 0;
	int rc = 0;

	if (out == NULL || out_size == 0)
		return -EINVAL;
	out[0] = '\0';
	if (in == NULL && in_len > 0)
		return -EINVAL;
	for (size_t i = 0; i < in_len; i++) {
		if (is_forbidden((unsigned char)in[i]))
			return -EACCES;
	}
	cap = MIN(out_size, (size_t)FILES_PATH_MAX);
	pos = root_prefix_len(in, in_len, root_path);
	while (pos < in_len && rc == 0) {
		size_t len = 0;
		while (pos < in_len && is_sep(in[pos]))
			pos++;
		while (pos + len < in_len && !is_sep(in[pos + len]))
			len++;
		rc = append_component(out, &o, cap, in + pos, len);
		pos += len;
	}
	if (rc < 0)
		out[0] = '\0';
	return rc;
}

/* ---- root ---- */

int
files_root_open(struct files_root *root, const char *path, bool case_fallback)
{
	char *abs = NULL;
	int rc = 0;

	root->dirfd = -1;
	root->path[0] = '\0';
	root->case_fallback = case_fallback;
	if (path == NULL || path[0] == '\0')
		return -EINVAL;
	root->dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root->dirfd < 0) {
		rc = -errno;
		goto out;
	}
	abs = realpath(path, NULL);
	if (abs == NULL)
		rc = -errno;
	else if (str_copy(root->path, abs, sizeof root->path) >= sizeof root->path)
		rc = -ENAMETOOLONG;
out:
	free(abs);
	if (rc < 0)
		files_root_close(root);
	return rc;
}

void
files_root_close(struct files_root *root)
{
	if (root->dirfd >= 0)
		close(root->dirfd);
	root->dirfd = -1;
	root->path[0] = '\0';
}

/* ---- opening beneath a directory ---- */

/* openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS); escapes become -EACCES. */
static int
open_beneath(int dirfd, const char *relpath, uint64_t flags)
{
	struct open_how how = {
		.flags = flags,
		.mode = 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd;
	int tries = 0;

	if (relpath[0] == '\0')
		relpath = ".";
	/* EAGAIN: a concurrent rename made the kernel unsure; retry a little. */
	do {
		fd = syscall(SYS_openat2, dirfd, relpath, &how, sizeof how);
	} while (fd < 0 && (errno == EINTR || errno == EAGAIN) && ++tries < 8);
	if (fd >= 0)
		return (int)fd;
	if (errno == EXDEV || errno == ELOOP)
		return -EACCES;
	return -errno;
}

/* Open a regular file beneath dirfd.  O_NONBLOCK keeps a FIFO or device
 * from blocking the open; it is cleared again once the file is known to be
 * regular, so the caller gets a plain O_RDONLY|O_CLOEXEC descriptor.  The
 * status flags are known (the open's), so one F_SETFL clears it without an
 * F_GETFL: one system call less for every file served. */
static int
open_regular(int dirfd, const char *relpath, struct stat *st)
{
	int fd, rc = 0;

	fd = open_beneath(dirfd, relpath,
	    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	if (fstat(fd, st) < 0)
		rc = -errno;
	else if (S_ISDIR(st->st_mode))
		rc = -EISDIR;
	else if (!S_ISREG(st->st_mode))
		rc = -EINVAL;
	else if (fcntl(fd, F_SETFL, 0) < 0)       /* O_RDONLY stays: not a status flag */
		rc = -errno;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Find name in the directory dirpath (beneath root) ignoring case; the
 * exact name wins, else the first match in readdir order.  The match is
 * written to found (size FILES_NAME_MAX + 1). */
static int
match_component(int rootfd, const char *dirpath, const char *name, char *found)
{
	struct stat st;
	struct dirent *de;
	DIR *dir;
	int fd, rc = -ENOENT;

	fd = open_beneath(rootfd, dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fd == -ENOTDIR ? -ENOENT : fd;
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		str_copy(found, name, FILES_NAME_MAX + 1);
		close(fd);
		return 0;
	}
	dir = fdopendir(fd);
	if (dir == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	for (long n = 0; n < FILES_SCAN_MAX && (de = readdir(dir)) != NULL; n++) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strcasecmp(de->d_name, name) == 0 &&
		    str_copy(found, de->d_name, FILES_NAME_MAX + 1) <= FILES_NAME_MAX) {
			rc = 0;
			break;
		}
	}
	closedir(dir);
	return rc;
}

/* Resolve relpath component by component, case-insensitively, into out
 * (size FILES_PATH_MAX). */
static int
resolve_nocase(int rootfd, const char *relpath, char *out)
{
	char name[FILES_NAME_MAX + 1];
	char found[FILES_NAME_MAX + 1];
	const char *p = relpath;
	size_t o = 0;
	int rc;

	out[0] = '\0';
	while (*p != '\0') {
		size_t len = strcspn(p, "/");
		if (len > FILES_NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		while (*p == '/')
			p++;
		if (len == 0)
			continue;
		rc = match_component(rootfd, out, name, found);
		if (rc < 0)
			return rc;
		rc = append_component(out, &o, FILES_PATH_MAX, found, strlen(found));
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
files_open_read(const struct files_root *root, const char *relpath,
    struct stat *st, char *resolved)
{
	char path[FILES_PATH_MAX];
	struct stat sb;
	int fd, rc;

	if (st == NULL)
		st = &sb;
	if (relpath == NULL || root->dirfd < 0)
		return -EINVAL;
	if (relpath[0] == '\0')
		return -EISDIR;
	if (str_copy(path, relpath, sizeof path) >= sizeof path)
		return -ENAMETOOLONG;
	fd = open_regular(root->dirfd, path, st);
	if (fd == -ENOTDIR)
		fd = -ENOENT;           /* "file/x": not found, as for the walk */
	if (fd == -ENOENT && root->case_fallback) {
		rc = resolve_nocase(root->dirfd, relpath, path);
		fd = rc < 0 ? rc : open_regular(root->dirfd, path, st);
	}
	if (fd >= 0 && resolved != NULL)
		str_copy(resolved, path, FILES_PATH_MAX);
	return fd;
}

/* ---- uploads ---- */

/* Split a normalized path into its parent directory (copied to parent,
 * "" for the top) and its last component (a pointer into rel). */
static const char *
split_path(const char *rel, char *parent, size_t size)
{
	const char *slash = strrchr(rel, '/');

	parent[0] = '\0';
	if (slash == NULL)
		return rel;
	snprintf(parent, size, "%.*s", (int)(slash - rel), rel);
	return slash + 1;
}

/* Open the parent directory of rel beneath dirfd as an O_PATH fd. */
static int
open_parent(int dirfd, const char *rel, const char **base)
{
	char parent[FILES_PATH_MAX];

	*base = split_path(rel, parent, sizeof parent);
	return open_beneath(dirfd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Create ".<base>.XXXXXX" in pfd; its name goes to up->tmpname (relative
 * to up->dirfd, like relpath). */
static int
create_hidden(struct files_upload *up, int pfd, const char *base)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char parent[FILES_PATH_MAX], name[FILES_NAME_MAX + 1];
	unsigned char rnd[6];

	split_path(up->relpath, parent, sizeof parent);
	for (int t = 0; t < FILES_TMP_TRIES; t++) {
		char suffix[sizeof rnd + 1];
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
			return -EIO;
		for (size_t i = 0; i < sizeof rnd; i++)
			suffix[i] = digits[rnd[i] % (sizeof digits - 1)];
		suffix[sizeof rnd] = '\0';
		snprintf(name, sizeof name, ".%.*s.%s",
		    FILES_NAME_MAX - (int)sizeof rnd - 2, base, suffix);
		int fd = openat(pfd, name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return -errno;
		if ((size_t)snprintf(up->tmpname, sizeof up->tmpname, "%s%s%s", parent,
		    parent[0] != '\0' ? "/" : "", name) >= sizeof up->tmpname) {
			unlinkat(pfd, name, 0);
			close(fd);
			return -ENAMETOOLONG;
		}
		return fd;
	}
	return -EEXIST;
}

int
files_upload_begin(struct files_upload *up, int dirfd, const char *relpath)
{
	struct stat st;
	const char *base = NULL;
	int pfd = -1, rc;

	up->fd = -1;
	up->dirfd = dirfd;
	up->relpath[0] = '\0';
	up->tmpname[0] = '\0';
	if (relpath == NULL)
		return -EINVAL;
	rc = files_path_normalize(relpath, strlen(relpath), NULL, up->relpath,
	    sizeof up->relpath);
	if (rc == 0 && up->relpath[0] == '\0')
		rc = -EISDIR;
	if (rc == 0)
		rc = pfd = open_parent(dirfd, up->relpath, &base);
	if (rc < 0)
		goto out;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = -EEXIST;
		goto out;
	}
	rc = openat(pfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (rc < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
		rc = create_hidden(up, pfd, base);
	else if (rc < 0)
		rc = -errno;
out:
	if (pfd >= 0)
		close(pfd);
	up->fd = rc >= 0 ? rc : -1;
	return rc;
}

/* Give the O_TMPFILE inode the name base in pfd. */
static int
link_tmpfile(int fd, int pfd, const char *base)
{
	char proc[64];

	if (linkat(fd, "", pfd, base, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return -errno;
	/* Without CAP_DAC_READ_SEARCH AT_EMPTY_PATH fails; go through /proc. */
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, pfd, base, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	return -errno;
}

/* Rename the hidden temporary tmp to base in pfd without replacing. */
static int
rename_noreplace(int pfd, const char *tmp, const char *base)
{
	if (renameat2(pfd, tmp, pfd, base, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* No RENAME_NOREPLACE here: link (fails on an existing name), unlink. */
	if (linkat(pfd, tmp, pfd, base, 0) < 0)
		return -errno;
	unlinkat(pfd, tmp, 0);
	return 0;
}

int
files_upload_commit(struct files_upload *up)
{
	char parent[FILES_PATH_MAX];
	const char *base = NULL, *tmp;
	int pfd, rc;

	if (up->fd < 0)
		return -EBADF;
	if (fsync(up->fd) < 0) {
		rc = -errno;
		goto out;
	}
	rc = pfd = open_parent(up->dirfd, up->relpath, &base);
	if (rc < 0)
		goto out;
	if (up->tmpname[0] == '\0') {
		rc = link_tmpfile(up->fd, pfd, base);
	} else {
		tmp = split_path(up->tmpname, parent, sizeof parent);
		rc = rename_noreplace(pfd, tmp, base);
		if (rc == 0)
			up->tmpname[0] = '\0';
	}
	close(pfd);
out:
	files_upload_abort(up);
	return rc;
}

void
files_upload_abort(struct files_upload *up)
{
	const char *base;
	int pfd;

	if (up->tmpname[0] != '\0') {
		pfd = open_parent(up->dirfd, up->tmpname, &base);
		if (pfd >= 0) {
			unlinkat(pfd, base, 0);
			close(pfd);
		}
		up->tmpname[0] = '\0';
	}
	if (up->fd >= 0)
		close(up->fd);
	up->fd = -1;
}
