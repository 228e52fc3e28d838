/* Unit tests for src/files: path normalization (table-driven, every input
 * in a heap buffer of exactly its length so ASan sees over-reads) and the
 * filesystem side (openat2 confinement, case-insensitive fallback,
 * uploads) in a mkdtemp directory. */

/* The openat() below replaces libc's for this program (and libpxed.a), to
 * force the O_TMPFILE-less upload path; fortify's inline openat would
 * clash with it. */
#undef _FORTIFY_SOURCE

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/util.h"
#include "files/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- openat() override: O_TMPFILE can be made to fail ---- */

static bool no_tmpfile;

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, unsigned int);
		va_end(ap);
	}
	if (no_tmpfile && (flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

/* linkat() likewise: AT_EMPTY_PATH can be refused as for a process
 * without CAP_DAC_READ_SEARCH (on kernels that still require it). */
static bool no_empty_path;

int
linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
    int flags)
{
	if (no_empty_path && (flags & AT_EMPTY_PATH)) {
		errno = ENOENT;
		return -1;
	}
	return (int)syscall(SYS_linkat, olddirfd, oldpath, newdirfd, newpath,
	    flags);
}

/* Open descriptors of this process, to catch leaks. */
static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* ---- normalization ---- */

struct norm_case {
	const char *in;
	size_t len;             /* 0: strlen(in) */
	const char *root;
	int rc;
	const char *out;
};

static const struct norm_case norm_cases[] = {
	{ "pxelinux.0", 0, NULL, 0, "pxelinux.0" },
	{ "\\Boot\\BCD", 0, NULL, 0, "Boot/BCD" },
	{ "/pxelinux.0", 0, NULL, 0, "pxelinux.0" },
	{ "\\\\pxelinux.0", 0, NULL, 0, "pxelinux.0" },
	{ "//a//./b", 0, NULL, 0, "a/b" },
	{ "a\\/\\b/", 0, NULL, 0, "a/b" },
	{ "./a/./b/.", 0, NULL, 0, "a/b" },
	{ "", 0, NULL, 0, "" },
	{ "/", 0, NULL, 0, "" },
	{ "\\", 0, NULL, 0, "" },
	{ "././/.", 0, NULL, 0, "" },
	{ "...", 0, NULL, 0, "..." },
	{ "a/.../b", 0, NULL, 0, "a/.../b" },
	{ "..a", 0, NULL, 0, "..a" },
	{ "a..", 0, NULL, 0, "a.." },
	{ ".hidden", 0, NULL, 0, ".hidden" },
	{ "caf\xc3\xa9/\xff", 0, NULL, 0, "caf\xc3\xa9/\xff" },
	{ "a b/c d", 0, NULL, 0, "a b/c d" },
	{ "a/../b", 0, NULL, -EACCES, "" },
	{ "..", 0, NULL, -EACCES, "" },
	{ "../", 0, NULL, -EACCES, "" },
	{ "/..", 0, NULL, -EACCES, "" },
	{ "a/..", 0, NULL, -EACCES, "" },
	{ "..\\windows\\win.ini", 0, NULL, -EACCES, "" },
	{ "\\..\\..\\etc\\passwd", 0, NULL, -EACCES, "" },
	{ "a/./../b", 0, NULL, -EACCES, "" },
	{ "a\x01" "b", 0, NULL, -EACCES, "" },
	{ "a\x1f", 0, NULL, -EACCES, "" },
	{ "a\x7f", 0, NULL, -EACCES, "" },
	{ "a\nb", 0, NULL, -EACCES, "" },
	{ "a\tb", 0, NULL, -EACCES, "" },
	{ "a\0b", 3, NULL, -EACCES, "" },
	{ "pxelinux.0\0", 11, NULL, -EACCES, "" },
	{ "\0", 1, NULL, -EACCES, "" },
	/* root prefix stripping */
	{ "/srv/tftp/pxelinux.0", 0, "/srv/tftp", 0, "pxelinux.0" },
	{ "/srv/tftp//a/./b", 0, "/srv/tftp", 0, "a/b" },
	{ "/srv/tftp/", 0, "/srv/tftp", 0, "" },
	{ "/srv/tftp/a", 0, "/srv/tftp/", 0, "a" },
	{ "/srv/tftp", 0, "/srv/tftp", 0, "srv/tftp" },
	{ "/srv/tftpx/a", 0, "/srv/tftp", 0, "srv/tftpx/a" },
	{ "srv/tftp/a", 0, "/srv/tftp", 0, "srv/tftp/a" },
	{ "\\srv\\tftp\\a", 0, "/srv/tftp", 0, "srv/tftp/a" },
	{ "/srv/tftp/a", 0, NULL, 0, "srv/tftp/a" },
	{ "/srv/tftp/a", 0, "", 0, "srv/tftp/a" },
	{ "/srv/tftp/a", 0, "srv/tftp", 0, "srv/tftp/a" },
	{ "/a/b", 0, "/", 0, "a/b" },
	{ "/srv/tftp/../etc/passwd", 0, "/srv/tftp", -EACCES, "" },
	{ "/srv/tftp/a\x01", 0, "/srv/tftp", -EACCES, "" },
	{ "/srv/tf", 0, "/srv/tftp", 0, "srv/tf" },
};

static void
check_norm(const struct norm_case *c, size_t idx)
{
	size_t len = c->len != 0 ? c->len : strlen(c->in);
	char *buf = malloc(len > 0 ? len : 1);
	char out[FILES_PATH_MAX];
	int rc;

	assert_non_null(buf);
	memcpy(buf, c->in, len);
	/* len == 0: pass a pointer one past the end of a 1-byte block. */
	rc = files_path_normalize(len > 0 ? buf : buf + 1, len, c->root, out,
	    sizeof out);
	if (rc != c->rc || strcmp(out, c->out) != 0)
		fail_msg("case %zu (\"%s\"): rc %d out \"%s\", want %d \"%s\"",
		    idx, c->in, rc, out, c->rc, c->out);
	free(buf);
}

static void
test_normalize_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(norm_cases); i++)
		check_norm(&norm_cases[i], i);
}

/* Normalize len bytes of heap memory filled by the caller. */
static int
norm_heap(const char *s, size_t len, const char *root, char *out, size_t size)
{
	char *buf = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(buf);
	memcpy(buf, s, len);
	rc = files_path_normalize(buf, len, root, out, size);
	free(buf);
	return rc;
}

static void
test_normalize_lengths(void **state)
{
	char in[4 * FILES_PATH_MAX], out[FILES_PATH_MAX], small[4];
	(void)state;

	/* one component: 255 fits, 256 does not */
	memset(in, 'x', FILES_NAME_MAX + 1);
	assert_int_equal(norm_heap(in, FILES_NAME_MAX, NULL, out, sizeof out), 0);
	assert_int_equal(strlen(out), FILES_NAME_MAX);
	assert_int_equal(norm_heap(in, FILES_NAME_MAX + 1, NULL, out, sizeof out),
	    -ENAMETOOLONG);
	assert_string_equal(out, "");

	/* whole path: 4 x (254 + '/') + 3 = 1023 bytes fits, one more does not */
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		memset(in + n, 'a' + i, 254);
		n += 254;
		in[n++] = '/';
	}
	memset(in + n, 'e', 3);
	n += 3;
	assert_int_equal(n, FILES_PATH_MAX - 1);
	assert_int_equal(norm_heap(in, n, NULL, out, sizeof out), 0);
	assert_int_equal(strlen(out), FILES_PATH_MAX - 1);
	in[n++] = 'e';
	assert_int_equal(norm_heap(in, n, NULL, out, sizeof out), -ENAMETOOLONG);
	/* a bigger out buffer does not lift FILES_PATH_MAX */
	char big[2 * FILES_PATH_MAX];
	assert_int_equal(norm_heap(in, n, NULL, big, sizeof big), -ENAMETOOLONG);

	/* separators and "." do not count */
	memset(in, '/', sizeof in);
	in[sizeof in - 1] = 'a';
	assert_int_equal(norm_heap(in, sizeof in, NULL, out, sizeof out), 0);
	assert_string_equal(out, "a");
	for (size_t i = 0; i + 2 <= sizeof in; i += 2) {
		in[i] = '.';
		in[i + 1] = '\\';
	}
	assert_int_equal(norm_heap(in, sizeof in, NULL, out, sizeof out), 0);
	assert_string_equal(out, "");

	/* out_size smaller than FILES_PATH_MAX */
	assert_int_equal(norm_heap("abc", 3, NULL, small, sizeof small), 0);
	assert_string_equal(small, "abc");
	assert_int_equal(norm_heap("a/b", 3, NULL, small, sizeof small), 0);
	assert_int_equal(norm_heap("abcd", 4, NULL, small, sizeof small),
	    -ENAMETOOLONG);
	assert_int_equal(norm_heap("a/bc", 4, NULL, small, sizeof small),
	    -ENAMETOOLONG);
	assert_int_equal(norm_heap("x", 1, NULL, small, 0), -EINVAL);
	assert_int_equal(norm_heap("", 0, NULL, small, 1), 0);
	assert_string_equal(small, "");
}

/* ---- filesystem fixture ---- */

struct fixture {
	char dir[64];
	struct files_root root;
	struct files_root nocase;
};

static char *
path_in(const struct fixture *fx, const char *rel, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", fx->dir, rel);
	return buf;
}

static void
make_file(const struct fixture *fx, const char *rel, const char *data)
{
	char p[FILES_PATH_MAX];
	int fd = open(path_in(fx, rel, p, sizeof p),
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

static void
make_dir(const struct fixture *fx, const char *rel)
{
	char p[FILES_PATH_MAX];
	assert_int_equal(mkdir(path_in(fx, rel, p, sizeof p), 0755), 0);
}

static void
make_link(const struct fixture *fx, const char *target, const char *rel)
{
	char p[FILES_PATH_MAX];
	assert_int_equal(symlink(target, path_in(fx, rel, p, sizeof p)), 0);
}

static int
setup_fs(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	char p[FILES_PATH_MAX], abs[2 * FILES_PATH_MAX];

	assert_non_null(fx);
	str_copy(fx->dir, "/tmp/pxed-test-files-XXXXXX", sizeof fx->dir);
	assert_non_null(mkdtemp(fx->dir));
	make_file(fx, "pxelinux.0", "PXELINUX");
	make_dir(fx, "dir");
	make_dir(fx, "boot");
	make_file(fx, "boot/bcd", "BCD-DATA");
	make_dir(fx, "Mixed");
	make_file(fx, "Mixed/other", "M");
	make_dir(fx, "mixed");
	make_file(fx, "mixed/File", "mixed-file");
	make_link(fx, "pxelinux.0", "link_in");
	make_link(fx, "../boot/bcd", "dir/link_up");
	make_link(fx, "/etc/passwd", "link_out");
	make_link(fx, "/etc", "dirlink_out");
	make_link(fx, "..", "parent");
	snprintf(abs, sizeof abs, "%s/pxelinux.0", fx->dir);
	make_link(fx, abs, "link_abs");
	assert_int_equal(mkfifo(path_in(fx, "fifo", p, sizeof p), 0644), 0);
	make_dir(fx, "up");
	make_dir(fx, "up/sub");
	assert_int_equal(files_root_open(&fx->root, fx->dir, true), 0);
	assert_int_equal(files_root_open(&fx->nocase, fx->dir, false), 0);
	*state = fx;
	return 0;
}

static int
teardown_fs(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	files_root_close(&fx->root);
	files_root_close(&fx->nocase);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* ---- reading ---- */

struct open_case {
	const char *rel;
	bool fallback;
	int rc;                 /* 0: opens */
	const char *resolved;   /* when rc == 0 */
	const char *data;       /* when rc == 0 */
};

static const struct open_case open_cases[] = {
	{ "pxelinux.0", true, 0, "pxelinux.0", "PXELINUX" },
	{ "boot/bcd", false, 0, "boot/bcd", "BCD-DATA" },
	{ "dir", true, -EISDIR, NULL, NULL },
	{ "", true, -EISDIR, NULL, NULL },
	{ "fifo", true, -EINVAL, NULL, NULL },
	{ "link_in", true, 0, "link_in", "PXELINUX" },
	{ "dir/link_up", true, 0, "dir/link_up", "BCD-DATA" },
	{ "link_out", true, -EACCES, NULL, NULL },
	{ "link_abs", true, -EACCES, NULL, NULL },
	{ "dirlink_out/passwd", true, -EACCES, NULL, NULL },
	{ "parent/etc/passwd", true, -EACCES, NULL, NULL },
	{ "../etc/passwd", true, -EACCES, NULL, NULL },
	{ "/etc/passwd", true, -EACCES, NULL, NULL },
	{ "Boot/BCD", true, 0, "boot/bcd", "BCD-DATA" },
	{ "BOOT/Bcd", true, 0, "boot/bcd", "BCD-DATA" },
	{ "PXELINUX.0", true, 0, "pxelinux.0", "PXELINUX" },
	{ "Boot/BCD", false, -ENOENT, NULL, NULL },
	{ "mixed/FILE", true, 0, "mixed/File", "mixed-file" },
	/* "MIXED/other" would depend on readdir order (first match wins). */
	{ "DIR", true, -EISDIR, NULL, NULL },
	{ "DIRLINK_OUT/passwd", true, -EACCES, NULL, NULL },
	{ "missing", true, -ENOENT, NULL, NULL },
	{ "missing", false, -ENOENT, NULL, NULL },
	{ "Boot/missing", true, -ENOENT, NULL, NULL },
	{ "nodir/bcd", true, -ENOENT, NULL, NULL },
	{ "pxelinux.0/x", true, -ENOENT, NULL, NULL },
};

static void
test_open_read(void **state)
{
	struct fixture *fx = *state;
	int fds = count_fds();

	for (size_t i = 0; i < ARRAY_SIZE(open_cases); i++) {
		const struct open_case *c = &open_cases[i];
		const struct files_root *root = c->fallback ? &fx->root : &fx->nocase;
		char resolved[FILES_PATH_MAX] = "unset", data[64] = "";
		struct stat st;
		int fd = files_open_read(root, c->rel, &st, resolved);

		if (c->rc != 0) {
			if (fd != c->rc)
				fail_msg("case %zu (%s): got %d, want %d", i, c->rel,
				    fd, c->rc);
			continue;
		}
		if (fd < 0)
			fail_msg("case %zu (%s): got %d", i, c->rel, fd);
		assert_string_equal(resolved, c->resolved);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_size, (off_t)strlen(c->data));
		assert_int_equal(fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK),
		    O_RDONLY);
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		assert_int_equal(read(fd, data, sizeof data - 1),
		    (ssize_t)strlen(c->data));
		assert_string_equal(data, c->data);
		close(fd);
	}
	assert_int_equal(count_fds(), fds);
}

static void
test_root_open(void **state)
{
	struct fixture *fx = *state;
	struct files_root r;
	char p[FILES_PATH_MAX];

	/* the kept path is absolute and canonical */
	snprintf(p, sizeof p, "%s/dir/../boot/", fx->dir);
	assert_int_equal(files_root_open(&r, p, false), 0);
	snprintf(p, sizeof p, "%s/boot", fx->dir);
	assert_string_equal(r.path, p);
	assert_true(r.path[0] == '/');
	int fd = files_open_read(&r, "bcd", NULL, NULL);
	assert_true(fd >= 0);
	close(fd);
	files_root_close(&r);
	assert_int_equal(r.dirfd, -1);

	assert_int_equal(files_root_open(&r, "/nonexistent-pxed-root", true),
	    -ENOENT);
	assert_int_equal(r.dirfd, -1);
	snprintf(p, sizeof p, "%s/pxelinux.0", fx->dir);
	assert_int_equal(files_root_open(&r, p, true), -ENOTDIR);
	assert_int_equal(r.dirfd, -1);
}

/* A nul-terminated path through normalize then open, as a server would. */
static void
test_normalize_then_open(void **state)
{
	struct fixture *fx = *state;
	char req[FILES_PATH_MAX + 16], rel[FILES_PATH_MAX], res[FILES_PATH_MAX];

	snprintf(req, sizeof req, "%s/Boot/BCD", fx->root.path);
	assert_int_equal(files_path_normalize(req, strlen(req), fx->root.path,
	    rel, sizeof rel), 0);
	assert_string_equal(rel, "Boot/BCD");
	int fd = files_open_read(&fx->root, rel, NULL, res);
	assert_true(fd >= 0);
	assert_string_equal(res, "boot/bcd");
	close(fd);
}

/* ---- uploads ---- */

static int
count_entries(const struct fixture *fx, const char *rel)
{
	char p[FILES_PATH_MAX];
	DIR *d = opendir(path_in(fx, rel, p, sizeof p));
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

static void
assert_file(const struct fixture *fx, const char *rel, const char *data)
{
	char p[FILES_PATH_MAX], buf[64] = "";
	int fd = open(path_in(fx, rel, p, sizeof p), O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof buf - 1), (ssize_t)strlen(data));
	assert_string_equal(buf, data);
	close(fd);
}

static void
upload_cycle(struct fixture *fx, bool hidden, bool proc_link)
{
	struct files_upload up;
	int fd, before = count_entries(fx, "up/sub"), fds = count_fds();

	no_tmpfile = hidden;
	no_empty_path = proc_link;
	fd = files_upload_begin(&up, fx->root.dirfd, "up/sub/new.bin");
	assert_true(fd >= 0);
	assert_int_equal(fd, up.fd);
	assert_int_equal(up.tmpname[0] != '\0', hidden);
	assert_int_equal(count_entries(fx, "up/sub"), before + (hidden ? 1 : 0));
	assert_int_equal(write(fd, "payload", 7), 7);
	assert_int_equal(files_upload_commit(&up), 0);
	assert_int_equal(up.fd, -1);
	assert_file(fx, "up/sub/new.bin", "payload");
	assert_int_equal(count_entries(fx, "up/sub"), before + 1);
	files_upload_abort(&up);        /* after commit: a no-op */
	assert_file(fx, "up/sub/new.bin", "payload");

	/* abort leaves nothing behind */
	fd = files_upload_begin(&up, fx->root.dirfd, "\\up\\sub\\gone.bin");
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	files_upload_abort(&up);
	assert_int_equal(up.fd, -1);
	assert_int_equal(count_entries(fx, "up/sub"), before + 1);
	files_upload_abort(&up);

	/* existing name, at begin and at commit */
	assert_int_equal(files_upload_begin(&up, fx->root.dirfd, "up/sub/new.bin"),
	    -EEXIST);
	assert_int_equal(up.fd, -1);
	fd = files_upload_begin(&up, fx->root.dirfd, "up/sub/race.bin");
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "late", 4), 4);
	make_file(fx, "up/sub/race.bin", "first");
	assert_int_equal(files_upload_commit(&up), -EEXIST);
	assert_file(fx, "up/sub/race.bin", "first");
	assert_int_equal(count_entries(fx, "up/sub"), before + 2);

	char p[FILES_PATH_MAX];
	assert_int_equal(unlink(path_in(fx, "up/sub/new.bin", p, sizeof p)), 0);
	assert_int_equal(unlink(path_in(fx, "up/sub/race.bin", p, sizeof p)), 0);
	assert_int_equal(count_fds(), fds);
	no_tmpfile = false;
	no_empty_path = false;
}

static void
test_upload_tmpfile(void **state)
{
	upload_cycle(*state, false, false);
}

static void
test_upload_tmpfile_proc(void **state)
{
	upload_cycle(*state, false, true);
}

static void
test_upload_hidden(void **state)
{
	upload_cycle(*state, true, false);
}

/* Without CAP_DAC_READ_SEARCH linkat(AT_EMPTY_PATH) is refused on older
 * kernels (newer ones allow it for the opener); the commit must work either
 * way.  Run in a child that drops the capability. */
static void
test_upload_unprivileged(void **state)
{
	struct fixture *fx = *state;
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct cap[2];
		struct files_upload up;
		if (syscall(SYS_capget, &hdr, cap) < 0)
			_exit(2);
		cap[0].effective &= ~(1u << CAP_DAC_READ_SEARCH);
		if (syscall(SYS_capset, &hdr, cap) < 0)
			_exit(3);
		int fd = files_upload_begin(&up, fx->root.dirfd, "up/unpriv.bin");
		if (fd < 0 || write(fd, "np", 2) != 2)
			_exit(4);
		_exit(files_upload_commit(&up) == 0 ? 0 : 5);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_file(fx, "up/unpriv.bin", "np");
}

static void
test_upload_refused(void **state)
{
	static const struct {
		const char *rel;
		int rc;
	} cases[] = {
		{ "../x", -EACCES },
		{ "up/../../x", -EACCES },
		{ "dirlink_out/x", -EACCES },
		{ "parent/x", -EACCES },
		{ "nodir/x", -ENOENT },
		{ "pxelinux.0/x", -ENOTDIR },
		{ "pxelinux.0", -EEXIST },
		{ "link_out", -EEXIST },
		{ "dir", -EEXIST },
		{ "", -EISDIR },
		{ "/", -EISDIR },
		{ "a\x01", -EACCES },
	};
	struct fixture *fx = *state;
	int before = count_entries(fx, ""), fds = count_fds();

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct files_upload up;
		int rc = files_upload_begin(&up, fx->root.dirfd, cases[i].rel);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): got %d, want %d", i, cases[i].rel, rc,
			    cases[i].rc);
		assert_int_equal(up.fd, -1);
		files_upload_abort(&up);
	}
	assert_int_equal(count_entries(fx, ""), before);
	assert_int_equal(count_fds(), fds);
	assert_int_equal(files_upload_commit(&(struct files_upload){ .fd = -1 }),
	    -EBADF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_table),
		cmocka_unit_test(test_normalize_lengths),
		cmocka_unit_test_setup_teardown(test_root_open, setup_fs, teardown_fs),
		cmocka_unit_test_setup_teardown(test_open_read, setup_fs, teardown_fs),
		cmocka_unit_test_setup_teardown(test_normalize_then_open, setup_fs,
		    teardown_fs),
		cmocka_unit_test_setup_teardown(test_upload_tmpfile, setup_fs,
		    teardown_fs),
		cmocka_unit_test_setup_teardown(test_upload_tmpfile_proc, setup_fs,
		    teardown_fs),
		cmocka_unit_test_setup_teardown(test_upload_hidden, setup_fs,
		    teardown_fs),
		cmocka_unit_test_setup_teardown(test_upload_unprivileged, setup_fs,
		    teardown_fs),
		cmocka_unit_test_setup_teardown(test_upload_refused, setup_fs,
		    teardown_fs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
