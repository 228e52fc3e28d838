/* Starvation guard of a full-mode DHCP subnet: what keeps a flood of
 * made-up clients (thousands of MACs) from taking every address.
 *
 * A new client -- one with no lease or offer of its own in the pool, no
 * earlier lease there and no [host] -- gets an address only
 *  - within dhcp-new-client-rate a second for its subnet and
 *    dhcp-relay-rate a second for the relay it came through (token
 *    buckets holding a second's worth), and
 *  - while more than dhcp-pool-reserve percent of the pool is free: the
 *    rest is kept for known clients, who keep getting their addresses.
 * When fewer than dhcp-pool-low percent of a pool's addresses are free,
 * the pool-low alarm rings: a log line (then at most every 10 minutes
 * while it stays low, and one when it is over), counters, an "alarm"
 * event for /api/v1/events and the console, and the subnet's view.
 *
 * Pure: time is passed in; the counts come from pool_count once a second
 * (dhcp_guard_tick) and are kept current between two ticks by
 * dhcp_guard_took. */
#ifndef PXED_DHCP_GUARD_H
#define PXED_DHCP_GUARD_H

#include <stdbool.h>
#include <stdint.h>

struct dhcp_bucket {
	double tokens;
	int64_t at_ms;                  /* last refill; 0: full, never used */
};

/* Take one token of a bucket of rate a second (burst: one second's
 * worth, at least 1); rate 0 is no limit.  False when it is empty. */
bool dhcp_bucket_take(struct dhcp_bucket *b, unsigned rate, int64_t now_ms);

#define DHCP_GUARD_LOW_LOG_S 600        /* "still low" at most this often */
#define DHCP_GUARD_REFUSED_LOG_S 60     /* refusals summed up this often */

struct dhcp_guard {
	struct dhcp_bucket bucket;      /* new clients of the subnet */
	uint32_t leasable;              /* addresses of the pool, at the last count */
	uint32_t free_now;              /* free ones, kept current between counts */
	bool counted;                   /* leasable and free_now are known */
	bool low;                       /* the alarm rings */
	int64_t low_since, low_logged;  /* unix seconds */
	uint64_t refused_rate, refused_reserve; /* since the last line about them */
	int64_t refused_logged;
};

enum dhcp_guard_verdict {
	DHCP_GUARD_ADMIT,
	DHCP_GUARD_RATE,                /* over the subnet's or the relay's rate */
	DHCP_GUARD_RESERVE,             /* the pool is down to its reserve */
};

/* May a new client get an address?  relay: the relay's bucket (NULL when
 * the request came straight from the link). */
enum dhcp_guard_verdict dhcp_guard_admit(struct dhcp_guard *g, struct dhcp_bucket *relay,
    unsigned subnet_rate, unsigned relay_rate, unsigned reserve_pct, int64_t now_ms);
/* An address went from free to a client. */
void dhcp_guard_took(struct dhcp_guard *g);

/* What a count says about the alarm. */
enum dhcp_guard_alarm {
	DHCP_GUARD_QUIET,               /* nothing to say */
	DHCP_GUARD_LOW,                 /* it just became low */
	DHCP_GUARD_STILL_LOW,           /* low for DHCP_GUARD_LOW_LOG_S more */
	DHCP_GUARD_RECOVERED,           /* no longer low */
};
/* A fresh count of the pool at now (unix seconds). */
enum dhcp_guard_alarm dhcp_guard_count(struct dhcp_guard *g, uint32_t leasable,
    uint32_t free_count, unsigned low_pct, int64_t now);

#endif
