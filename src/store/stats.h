/* Boots and failures per hour, counted from the boot events (the events
 * table, store.c) when asked: GET /api/v1/stats/boots.  What counts as a
 * boot and as a failure is defined here and in docs/API.md.  No table of
 * its own: the events table holds at most STORE_EVENTS_MAX rows, so a
 * count reads at most that many (two queries, each one pass). */
#ifndef PXED_STORE_STATS_H
#define PXED_STORE_STATS_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_HOURS_MAX 168             /* a week */

struct store_hour {
	int64_t start;                  /* unix seconds, a multiple of 3600 */
	unsigned boots;                 /* distinct MACs that booted from the network */
	unsigned failures;              /* distinct MACs with a failure */
};

/* The hours (1..STORE_HOURS_MAX) ending with the one holding now (unix
 * seconds), oldest first, into out[hours].  Events still queued by this
 * connection are written first.  0, -EINVAL or -EIO. */
int store_boot_hours(struct store *st, int64_t now, unsigned hours, struct store_hour *out);

#endif
