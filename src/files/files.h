/* Boot files beneath a root directory: the one place that turns a path a
 * client sent (TFTP filename, HTTP URL path) into an open file.
 *
 * Two steps, so the first can be unit-tested and fuzzed alone:
 *  1. files_path_normalize(): pure string work, no filesystem.  Windows
 *     quirks (backslash -> slash, leading slash/backslash is relative to the
 *     root), "." and empty components dropped; "..", NUL, control bytes and
 *     overlong names refused.
 *  2. files_open_read(): openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 *     against the root's directory fd, so symlinks that leave the root are
 *     refused by the kernel; only regular files; when the exact name is
 *     missing, a bounded case-insensitive walk is tried (WinPE asks for
 *     \Boot\BCD when the file is boot/bcd).
 *
 * Errors are negative errno values that the protocols map to their own
 * codes: -ENOENT (not found), -EACCES (outside the root, traversal,
 * forbidden bytes, not readable), -EISDIR / -EINVAL (not a regular file),
 * -ENAMETOOLONG. */
#ifndef PXED_FILES_FILES_H
#define PXED_FILES_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define FILES_PATH_MAX 1024     /* normalized relative path, with NUL */
#define FILES_NAME_MAX 255      /* one component */

struct files_root {
	int dirfd;                  /* O_PATH|O_DIRECTORY fd of the root */
	char path[FILES_PATH_MAX];  /* absolute path as configured */
	bool case_fallback;         /* try a case-insensitive match on ENOENT */
};

/* Open the root directory.  Returns 0 or a negative errno. */
int files_root_open(struct files_root *root, const char *path, bool case_fallback);
void files_root_close(struct files_root *root);

/* Normalize in[0..in_len) (untrusted, not NUL-terminated) into out as a
 * relative path with single slashes and no leading slash ("" for the root
 * itself).  If root_path is not NULL and the input is an absolute path
 * that starts with root_path + "/", that prefix is stripped first (clients
 * that were told the server's full path).  Returns 0 or a negative errno. */
int files_path_normalize(const char *in, size_t in_len, const char *root_path,
    char *out, size_t out_size);

/* Open a normalized relative path read-only beneath root; regular files
 * only.  On success returns an fd (O_RDONLY|O_CLOEXEC) and fills *st.
 * *resolved (may be NULL, size FILES_PATH_MAX) receives the path actually
 * opened, which differs from relpath after a case-insensitive match. */
int files_open_read(const struct files_root *root, const char *relpath,
    struct stat *st, char *resolved);

/* Create a new file for an upload beneath the directory fd dirfd: the file
 * is created as a hidden temporary (O_TMPFILE or ".name.XXXXXX") and
 * becomes visible under relpath only through files_upload_commit(), so
 * a half-written upload is never seen.  Refuses to replace an existing file
 * (-EEXIST).  Returns an fd or a negative errno. */
struct files_upload {
	int fd;
	int dirfd;
	char relpath[FILES_PATH_MAX];
	char tmpname[FILES_PATH_MAX];   /* "" when O_TMPFILE was used */
};
int files_upload_begin(struct files_upload *up, int dirfd, const char *relpath);
int files_upload_commit(struct files_upload *up);   /* link into place, close */
void files_upload_abort(struct files_upload *up);   /* remove, close */

#endif
