/* The daemon's sandbox, entered once its sockets are bound, its
 * privileges dropped and what it reads only at start-up read (the TLS
 * key, the API token), before its first thread starts (threads inherit
 * it):
 *
 *  - no new privileges (PR_SET_NO_NEW_PRIVS);
 *  - Landlock: the boot root, the console's files, the ClamAV database,
 *    memtest86+'s files and the config file's directory read-only; the
 *    state, image and upload directories read-write; nothing else, no
 *    execution anywhere, no TCP bind or connect (the listening sockets
 *    are bound already).  With the highest ABI the kernel has; without
 *    Landlock the log says so and the daemon runs on;
 *  - seccomp (libseccomp): the system calls pxed's threads make, nothing
 *    else; clone makes threads only.  Another call fails with EPERM and
 *    is logged: SIGSYS, whose handler counts it, and sandbox_report from
 *    the loop ("sandbox: denied system call execve (59) x1", at most once
 *    a minute per call).  A thread that blocks SIGSYS is killed by such a
 *    call instead (the kernel's rule for a signal it forces).
 *
 * sandbox = no turns it off (pxed.conf(5)).  docs/ARCHITECTURE.md,
 * "Sandbox", lists what the daemon does itself and what a service manager
 * adds. */
#ifndef PXED_PXED_SANDBOX_H
#define PXED_PXED_SANDBOX_H

#include <stdbool.h>

#include "core/config.h"

/* 0, or -errno when a part the kernel has could not be set up (the daemon
 * must not serve then; logged). */
int sandbox_enter(const struct config *cfg);

/* From the loop: log the calls refused since the last report, each at
 * most once a minute; flush: all of them now (the daemon stops). */
void sandbox_report(bool flush);

#endif
