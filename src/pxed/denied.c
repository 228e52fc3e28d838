/* System calls the seccomp filter refused: pxed/denied.h. */
#include "pxed/denied.h"

void
denied_note(struct denied *d, long nr)
{
	size_t slot = nr >= 0 && nr < DENIED_CALLS ? (size_t)nr : DENIED_CALLS;

	atomic_fetch_add_explicit(&d->count[slot], 1, memory_order_relaxed);
}

size_t
denied_due(struct denied *d, int64_t now_ms, bool flush, struct denied_report *out,
    size_t max)
{
	size_t n = 0;

	for (size_t slot = 0; slot <= DENIED_CALLS && n < max; slot++) {
		unsigned count = atomic_load_explicit(&d->count[slot], memory_order_relaxed);
		if (count == d->reported[slot])
			continue;
		if (!flush && d->ever[slot] && now_ms - d->last_ms[slot] < DENIED_REPORT_MS)
			continue;
		out[n].nr = slot < DENIED_CALLS ? (int)slot : -1;
		out[n].times = count - d->reported[slot];       /* unsigned: wraps right */
		n++;
		d->reported[slot] = count;
		d->last_ms[slot] = now_ms;
		d->ever[slot] = true;
	}
	return n;
}
