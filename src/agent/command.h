/* Running the Debian tools the hardware tests are built on (smartctl,
 * memtester, stress-ng, dmidecode, ethtool, badblocks, nvme, hdparm):
 * one program, its output captured and bounded, its time bounded.
 *
 * The program runs in a process group of its own with stdin from
 * /dev/null; at its deadline, or when *stop is set, the group gets
 * SIGTERM, then SIGKILL two seconds later. */
#ifndef PXED_AGENT_COMMAND_H
#define PXED_AGENT_COMMAND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define COMMAND_OUT_MAX (1u << 20)      /* bytes of stdout kept */
#define COMMAND_ERR_MAX 4096            /* bytes of stderr kept */

struct command_result {
	int status;                     /* exit status; -1 when killed or not run */
	int signal;                     /* the signal that ended it, or 0 */
	bool timed_out;                 /* killed at its deadline */
	bool stopped;                   /* killed because *stop was set */
	char *out;                      /* stdout, NUL-terminated, malloc'd */
	size_t out_len;
	bool out_cut;                   /* more than out_max bytes came */
	char err[COMMAND_ERR_MAX];      /* the start of stderr, NUL-terminated */
	double seconds;                 /* how long it ran */
};

/* Called about once a second while the program runs (pid: its pid). */
typedef void command_tick_fn(void *arg, pid_t pid);

struct command {
	const char *const *argv;        /* argv[0] is looked up in PATH */
	unsigned timeout_s;             /* 0: none */
	size_t out_max;                 /* 0: COMMAND_OUT_MAX */
	const atomic_bool *stop;        /* may be NULL */
	command_tick_fn *tick;          /* may be NULL */
	void *tick_arg;
};

/* Run it and wait.  0 when it ran (whatever its exit status: see r), or a
 * negative errno when it could not start (-ENOENT: not in PATH); r->err
 * then says why.  Free r with command_result_free. */
int command_run(const struct command *cmd, struct command_result *r);
void command_result_free(struct command_result *r);

/* Is name an executable in PATH? */
bool command_exists(const char *name);

/* "exit 3", "killed by signal 9", "timed out after 60 s": how it ended. */
const char *command_how(const struct command_result *r, const struct command *cmd,
    char *buf, size_t size);

#endif
