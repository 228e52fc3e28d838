/* Programs the agent runs, and loop devices over a partition's bytes for
 * them (src/agent/tool.c). */
#ifndef PXED_AGENT_TOOL_H
#define PXED_AGENT_TOOL_H

#include <stddef.h>
#include <stdint.h>

struct loop_dev {
	int fd;                 /* -1: not attached */
	char path[32];          /* /dev/loopN */
};

/* A free loop device over [offset, offset+size) of fd.  0 or a negative
 * errno (-ENOENT: no /dev/loop-control). */
int loop_attach(int fd, uint64_t offset, uint64_t size, struct loop_dev *out);
void loop_detach(struct loop_dev *l);

/* Runs argv[0] (looked up in /usr/sbin, /sbin, /usr/bin, /bin) with
 * argv, stdin from /dev/null; every output line goes into the journal as
 * "NAME: line" (made printable), the last one into last.  *status is its
 * exit status (128 + signal when killed).  Killed after timeout_s seconds
 * (then -ETIMEDOUT).  0 when it ran, else a negative errno. */
int tool_run(const char *const argv[], unsigned timeout_s, int *status, char *last,
    size_t lastlen);

#endif
