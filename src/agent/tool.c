/* Other programs the agent runs (resize2fs, e2fsck, ntfsresize) and the
 * loop devices they run on.  A partition is handed to a tool as a loop
 * device over its byte range of the disk (LOOP_CONFIGURE with an offset
 * and a size limit, autoclear): the same for a disk file in a test and
 * a block device in the imaging environment, and no partition device has
 * to appear first. */
#include "agent/tool.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/journal.h"
#include "core/util.h"

#define LOOP_ATTEMPTS   8               /* another user may take a free device first */

int
loop_attach(int fd, uint64_t offset, uint64_t size, struct loop_dev *out)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	int rc = -ENODEV;

	out->fd = -1;
	if (ctl < 0)
		return -errno;
	for (int i = 0; i < LOOP_ATTEMPTS && out->fd < 0; i++) {
		struct loop_config cfg = { .fd = (uint32_t)fd };
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0) {
			rc = -errno;
			break;
		}
		snprintf(out->path, sizeof out->path, "/dev/loop%d", n);
		int lfd = open(out->path, O_RDWR | O_CLOEXEC);
		if (lfd < 0) {
			rc = -errno;
			continue;
		}
		cfg.info.lo_offset = offset;
		cfg.info.lo_sizelimit = size;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0) {
			out->fd = lfd;
			rc = 0;
		} else {
			rc = -errno;
			close(lfd);
		}
	}
	close(ctl);
	return rc;
}

void
loop_detach(struct loop_dev *l)
{
	if (l->fd < 0)
		return;
	/* autoclear: the device is released at the last close; clearing it
	 * now as well frees it even if a tool left a child holding it */
	(void)ioctl(l->fd, LOOP_CLR_FD, 0);
	close(l->fd);
	l->fd = -1;
}

/* The program's path: an absolute name as it is, else the first of the
 * system directories that has it (the imaging environment and a test
 * machine both keep them there; PATH is not consulted). */
static int
tool_path(const char *name, char *path, size_t size)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };

	if (strchr(name, '/') != NULL) {
		str_copy(path, name, size);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, size, "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Output lines into the journal, made printable, and the last of them
 * kept in last. */
static void
tool_log_output(const char *name, char *buf, size_t len, char *last, size_t lastlen)
{
	char *line = buf, *end = buf + len;

	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = nl != NULL ? (size_t)(nl - line) : (size_t)(end - line);
		char text[JOURNAL_LINE_MAX - 64];

		for (size_t i = 0; i < n && i + 1 < sizeof text; i++)
			text[i] = (line[i] >= 0x20 && line[i] < 0x7f) ? line[i] : '.';
		text[MIN(n, sizeof text - 1)] = '\0';
		if (text[0] != '\0') {
			journal_info("%s: %s", name, text);
			if (last != NULL)
				str_copy(last, text, lastlen);
		}
		line += n + 1;
	}
}

/* Reads the child's output until it closes it or the deadline passes. */
static int
tool_collect(int pipefd, const char *name, time_t deadline, char *last, size_t lastlen)
{
	char buf[8192];
	size_t have = 0;

	for (;;) {
		struct pollfd p = { .fd = pipefd, .events = POLLIN };
		time_t now = time(NULL);
		if (now >= deadline)
			return -ETIMEDOUT;
		int r = poll(&p, 1, (int)MIN((time_t)1000, (deadline - now) * 1000));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		ssize_t n = read(pipefd, buf + have, sizeof buf - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		char *nl = memrchr(buf, '\n', have);
		if (nl != NULL || have == sizeof buf) {
			size_t upto = nl != NULL ? (size_t)(nl - buf) + 1 : have;
			tool_log_output(name, buf, upto, last, lastlen);
			memmove(buf, buf + upto, have - upto);
			have -= upto;
		}
	}
	tool_log_output(name, buf, have, last, lastlen);
	return 0;
}

static void
tool_child(const char *path, char *const argv[], int out)
{
	int null = open("/dev/null", O_RDONLY);

	if (null >= 0)
		dup2(null, STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	execv(path, argv);
	_exit(127);
}

int
tool_run(const char *const argv[], unsigned timeout_s, int *status, char *last,
    size_t lastlen)
{
	char path[256];
	int pipefd[2], rc, ws = 0;
	pid_t pid;

	*status = -1;
	if (last != NULL && lastlen > 0)
		last[0] = '\0';
	if (tool_path(argv[0], path, sizeof path) < 0) {
		journal_error("%s: not found in /usr/sbin, /sbin, /usr/bin, /bin", argv[0]);
		return -ENOENT;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return rc;
	}
	if (pid == 0)
		tool_child(path, (char *const *)(uintptr_t)argv, pipefd[1]);
	close(pipefd[1]);
	rc = tool_collect(pipefd[0], argv[0], time(NULL) + (time_t)timeout_s, last, lastlen);
	close(pipefd[0]);
	if (rc == -ETIMEDOUT) {
		journal_error("%s: still running after %u s: killed", argv[0], timeout_s);
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (rc == 0)
		*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return rc;
}
