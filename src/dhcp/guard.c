/* Starvation guard: dhcp/guard.h. */
#include "dhcp/guard.h"

#include <stddef.h>

bool
dhcp_bucket_take(struct dhcp_bucket *b, unsigned rate, int64_t now_ms)
{
	double burst = rate > 0 ? (double)rate : 1;

	if (rate == 0)
		return true;
	if (b->at_ms == 0 || now_ms < b->at_ms) {
		b->tokens = burst;      /* first use, or the clock went back */
	} else {
		b->tokens += (double)(now_ms - b->at_ms) * rate / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	b->at_ms = now_ms;
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

/* Is the pool down to its reserve?  (Not before it was counted.) */
static bool
in_reserve(const struct dhcp_guard *g, unsigned reserve_pct)
{
	return g->counted && reserve_pct > 0 &&
	    (uint64_t)g->free_now * 100 <= (uint64_t)g->leasable * reserve_pct;
}

enum dhcp_guard_verdict
dhcp_guard_admit(struct dhcp_guard *g, struct dhcp_bucket *relay, unsigned subnet_rate,
    unsigned relay_rate, unsigned reserve_pct, int64_t now_ms)
{
	if (in_reserve(g, reserve_pct)) {
		g->refused_reserve++;
		return DHCP_GUARD_RESERVE;
	}
	/* the relay's bucket first: a flood through one relay then does not
	 * also drain the subnet's for the clients of other relays */
	if ((relay != NULL && !dhcp_bucket_take(relay, relay_rate, now_ms)) ||
	    !dhcp_bucket_take(&g->bucket, subnet_rate, now_ms)) {
		g->refused_rate++;
		return DHCP_GUARD_RATE;
	}
	return DHCP_GUARD_ADMIT;
}

void
dhcp_guard_took(struct dhcp_guard *g)
{
	if (g->free_now > 0)
		g->free_now--;
}

enum dhcp_guard_alarm
dhcp_guard_count(struct dhcp_guard *g, uint32_t leasable, uint32_t free_count,
    unsigned low_pct, int64_t now)
{
	bool low = low_pct > 0 && leasable > 0 &&
	    (uint64_t)free_count * 100 < (uint64_t)leasable * low_pct;

	g->leasable = leasable;
	g->free_now = free_count;
	g->counted = true;
	if (low && !g->low) {
		g->low = true;
		g->low_since = g->low_logged = now;
		return DHCP_GUARD_LOW;
	}
	if (!low && g->low) {
		g->low = false;
		return DHCP_GUARD_RECOVERED;
	}
	if (low && now - g->low_logged >= DHCP_GUARD_LOW_LOG_S) {
		g->low_logged = now;
		return DHCP_GUARD_STILL_LOW;
	}
	return DHCP_GUARD_QUIET;
}
