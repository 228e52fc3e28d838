/* System calls the seccomp filter refused (pxed/sandbox.c): counted by the
 * SIGSYS handler, reported by the loop.  Pure: no system call, no clock
 * (the caller gives "now"), so tests/unit/test_sandbox_denied.c drives it
 * with fake time.
 *
 * denied_note() is async-signal-safe (one relaxed atomic add on a counter
 * of the call's number) and may run in any thread at any moment;
 * denied_due() runs in one thread only (the loop's timer).  Each call is
 * reported at most once per DENIED_REPORT_MS: its first refusal at the
 * next report, the refusals that follow within the minute together, with
 * their count, once the minute is over. */
#ifndef PXED_PXED_DENIED_H
#define PXED_PXED_DENIED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Numbers of this many calls are counted one by one (x86-64 and arm64
 * number theirs below 512); any other number is counted in one more slot,
 * reported as number -1. */
#define DENIED_CALLS 512
#define DENIED_REPORT_MS 60000

struct denied {
	atomic_uint count[DENIED_CALLS + 1];    /* refusals noted (the handler) */
	unsigned reported[DENIED_CALLS + 1];    /* of which reported (the loop) */
	int64_t last_ms[DENIED_CALLS + 1];      /* when last reported */
	bool ever[DENIED_CALLS + 1];            /* reported at least once */
};

/* One line to log: the call's number (-1: a number outside the table) and
 * the refusals since its last report. */
struct denied_report {
	int nr;
	unsigned times;
};

/* A refusal of call nr (async-signal-safe). */
void denied_note(struct denied *d, long nr);

/* The calls to report at now_ms into out (at most max; the rest wait for
 * the next call), each marked reported; all of them, whatever the time,
 * when flush (the daemon stops).  Returns how many. */
size_t denied_due(struct denied *d, int64_t now_ms, bool flush, struct denied_report *out,
    size_t max);

#endif
