/* The daemon's sandbox, entered once its sockets are bound and its
 * privileges dropped, before any thread starts (threads inherit it):
 *
 *  - no new privileges (PR_SET_NO_NEW_PRIVS);
 *  - Landlock: the boot root, the console's files and the config file
 *    read-only; the state, image and upload directories read-write;
 *    nothing else, no execution anywhere, no TCP bind or connect (every
 *    listening socket is bound already); where the kernel has no Landlock
 *    the log says so and the daemon runs without it;
 *  - seccomp (libseccomp): the system calls pxed's threads make, nothing
 *    else.  Another call fails with EPERM instead of killing the daemon,
 *    and is logged (SIGSYS: the handler notes it, sandbox_report writes it
 *    from the loop).
 *
 * sandbox = no turns it off (pxed.conf(5)).  docs/ARCHITECTURE.md,
 * "Sandbox", lists what the daemon does itself and what a service manager
 * adds. */
#ifndef PXED_PXED_SANDBOX_H
#define PXED_PXED_SANDBOX_H

#include "core/config.h"

/* 0, or -errno when a part that the kernel has could not be set up (the
 * daemon should not serve then). */
int sandbox_enter(const struct config *cfg);

/* From the loop: log the calls refused since the last report. */
void sandbox_report(void);

#endif
