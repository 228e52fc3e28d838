/* See command.h. */
#include "agent/command.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"

#define KILL_GRACE_US 2000000u
#define POLL_MS 200

extern char **environ;

bool
command_exists(const char *name)
{
	const char *path = getenv("PATH");
	char full[512];

	if (strchr(name, '/') != NULL)
		return access(name, X_OK) == 0;
	for (const char *p = path != NULL ? path : "/usr/sbin:/usr/bin:/sbin:/bin"; *p != '\0';) {
		size_t n = strcspn(p, ":");
		if (n > 0 && (size_t)snprintf(full, sizeof full, "%.*s/%s", (int)n, p, name) <
		    sizeof full && access(full, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* The child: its own process group, stdin /dev/null, the two pipes. */
static int
spawn(const struct command *cmd, int out_w, int err_w, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	posix_spawn_file_actions_adddup2(&fa, err_w, 2);
	rc = posix_spawnp(pid, cmd->argv[0], &fa, &attr, (char *const *)(uintptr_t)cmd->argv,
	    environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -rc;
}

/* Append what fd has into out (kept up to max bytes, the rest dropped).
 * false at the end of the stream. */
static bool
drain(int fd, char *out, size_t *len, size_t max, bool *cut)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof buf);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	size_t keep = MIN((size_t)n, max - *len);
	memcpy(out + *len, buf, keep);
	*len += keep;
	if (keep < (size_t)n)
		*cut = true;
	return true;
}

struct watch {
	pid_t pid;
	uint64_t t0, deadline, killed_at, ticked;
	bool term_sent;
};

/* Deadline, stop and the kill that follows; the tick. */
static void
watch_step(const struct command *cmd, struct watch *w, struct command_result *r)
{
	uint64_t now = clock_now_us();
	bool stop = cmd->stop != NULL && atomic_load(cmd->stop);

	if (!w->term_sent && (stop || (w->deadline != 0 && now >= w->deadline))) {
		r->timed_out = !stop;
		r->stopped = stop;
		kill(-w->pid, SIGTERM);
		w->term_sent = true;
		w->killed_at = now;
	} else if (w->term_sent && now - w->killed_at > KILL_GRACE_US) {
		kill(-w->pid, SIGKILL);
	}
	if (cmd->tick != NULL && now - w->ticked >= 1000000u) {
		w->ticked = now;
		cmd->tick(cmd->tick_arg, w->pid);
	}
}

/* Read both pipes until they close, watching the deadline. */
static void
collect(const struct command *cmd, struct watch *w, int out_r, int err_r,
    struct command_result *r)
{
	size_t out_max = cmd->out_max != 0 ? cmd->out_max : COMMAND_OUT_MAX, err_len = 0;
	struct pollfd p[2] = { { out_r, POLLIN, 0 }, { err_r, POLLIN, 0 } };
	bool err_cut = false;

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, POLL_MS) > 0) {
			if (p[0].revents != 0 && !drain(p[0].fd, r->out, &r->out_len, out_max,
			    &r->out_cut))
				p[0].fd = -1;
			if (p[1].revents != 0 && !drain(p[1].fd, r->err, &err_len,
			    sizeof r->err - 1, &err_cut))
				p[1].fd = -1;
		}
		watch_step(cmd, w, r);
	}
	r->out[r->out_len] = '\0';
	r->err[err_len] = '\0';
}

/* Wait for the child, still watching its deadline (it may have closed
 * its pipes and gone on). */
static void
reap(const struct command *cmd, struct watch *w, struct command_result *r)
{
	int st;

	for (;;) {
		pid_t got = waitpid(w->pid, &st, WNOHANG);
		if (got == w->pid)
			break;
		if (got < 0 && errno != EINTR)
			return;
		watch_step(cmd, w, r);
		usleep(POLL_MS * 1000);
	}
	kill(-w->pid, SIGKILL);         /* what it left behind in its group */
	if (WIFEXITED(st) && !r->timed_out && !r->stopped)
		r->status = WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		r->signal = WTERMSIG(st);
}

int
command_run(const struct command *cmd, struct command_result *r)
{
	size_t out_max = cmd->out_max != 0 ? cmd->out_max : COMMAND_OUT_MAX;
	int out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, rc;
	struct watch w = { 0 };

	memset(r, 0, sizeof *r);
	r->status = -1;
	r->out = malloc(out_max + 1);
	if (r->out == NULL)
		return -ENOMEM;
	r->out[0] = '\0';
	if (pipe2(out_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	w.t0 = clock_now_us();
	w.deadline = cmd->timeout_s != 0 ? w.t0 + cmd->timeout_s * 1000000ull : 0;
	rc = spawn(cmd, out_p[1], err_p[1], &w.pid);
	close(out_p[1]);
	close(err_p[1]);
	out_p[1] = err_p[1] = -1;
	if (rc < 0) {
		snprintf(r->err, sizeof r->err, "%s: %s", cmd->argv[0], strerror(-rc));
		goto out;
	}
	collect(cmd, &w, out_p[0], err_p[0], r);
	reap(cmd, &w, r);
	r->seconds = (double)(clock_now_us() - w.t0) / 1e6;
out:
	for (int i = 0; i < 2; i++) {
		if (out_p[i] >= 0)
			close(out_p[i]);
		if (err_p[i] >= 0)
			close(err_p[i]);
	}
	return rc;
}

void
command_result_free(struct command_result *r)
{
	free(r->out);
	r->out = NULL;
}

const char *
command_how(const struct command_result *r, const struct command *cmd, char *buf, size_t size)
{
	if (r->timed_out)
		snprintf(buf, size, "timed out after %u s", cmd->timeout_s);
	else if (r->stopped)
		snprintf(buf, size, "stopped");
	else if (r->signal != 0)
		snprintf(buf, size, "killed by signal %d", r->signal);
	else
		snprintf(buf, size, "exit %d", r->status);
	return buf;
}
