/* The DHCP server's tick, once a second on the loop: every full-mode pool
 * counted for the starvation guard and its pool-low alarm (dhcp/guard.h),
 * the guard's refusals summed up in the log once a minute, and the probe
 * for other DHCP servers when it is due (rogue.c).  Also the relays'
 * new-client buckets and the "alarm" events of /api/v1/events. */
#include "dhcp/internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "core/bus.h"
#include "core/log.h"
#include "core/stats.h"

#define TICK_MS 1000

void
dhcp_alarm_publish(const char *json_fmt, ...)
{
	char json[512];
	va_list ap;
	int n;

	va_start(ap, json_fmt);
	n = vsnprintf(json, sizeof json, json_fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof json)
		bus_publish("alarm", json, (size_t)n);
	else
		bus_lost("alarm");
}

struct dhcp_bucket *
dhcp_relay_bucket(struct dhcp_server *srv, struct in_addr giaddr, int64_t now_ms)
{
	struct dhcp_relay_bucket *oldest = &srv->relay_bucket[0];

	for (size_t i = 0; i < DHCP_RELAY_BUCKETS; i++) {
		struct dhcp_relay_bucket *b = &srv->relay_bucket[i];
		if (b->giaddr.s_addr == giaddr.s_addr && b->used_ms != 0) {
			b->used_ms = now_ms;
			return &b->bucket;
		}
		if (b->used_ms < oldest->used_ms)
			oldest = b;
	}
	oldest->giaddr = giaddr;
	oldest->bucket = (struct dhcp_bucket){ 0 };
	oldest->used_ms = now_ms;
	return &oldest->bucket;
}

static bool
full_mode(const struct dhcp_subnet *sn)
{
	return sn->has_pool && !sn->proxy && !sn->off;
}

static void
pool_alarm(struct dhcp_server *srv, struct dhcp_subnet *sn, int64_t now)
{
	struct pool_counts c;
	uint32_t leasable;

	pool_count(&sn->pool, now, &c);
	leasable = c.bound + c.offered + c.declined + c.free_count;
	switch (dhcp_guard_count(&sn->guard, leasable, c.free_count, srv->cfg.dhcp_pool_low,
	    now)) {
	case DHCP_GUARD_LOW:
		STATS_ADD(dhcp_pool_low_alarms, 1);
		STATS_ADD(dhcp_pools_low, 1);
		__attribute__((fallthrough));
	case DHCP_GUARD_STILL_LOW:
		log_warn("dhcp: subnet %s: pool low: %u of %u addresses free (below %u%%; %u bound,"
		    " %u offered, %u quarantined)%s", sn->name, c.free_count, leasable,
		    srv->cfg.dhcp_pool_low, c.bound, c.offered, c.declined,
		    sn->guard.low_since != now ? " -- still" : "");
		dhcp_alarm_publish("{\"alarm\":\"pool-low\",\"subnet\":\"%s\",\"low\":true,"
		    "\"free\":%u,\"leasable\":%u}", sn->name, c.free_count, leasable);
		break;
	case DHCP_GUARD_RECOVERED:
		STATS_SUB(dhcp_pools_low, 1);
		log_info("dhcp: subnet %s: pool no longer low: %u of %u addresses free", sn->name,
		    c.free_count, leasable);
		dhcp_alarm_publish("{\"alarm\":\"pool-low\",\"subnet\":\"%s\",\"low\":false,"
		    "\"free\":%u,\"leasable\":%u}", sn->name, c.free_count, leasable);
		break;
	case DHCP_GUARD_QUIET:
		break;
	}
}

/* New clients refused since the last line: one line a minute at most. */
static void
refusals_log(struct dhcp_subnet *sn, const struct config *cfg, int64_t now)
{
	struct dhcp_guard *g = &sn->guard;

	if (g->refused_rate + g->refused_reserve == 0 ||
	    now - g->refused_logged < DHCP_GUARD_REFUSED_LOG_S)
		return;
	log_warn("dhcp: subnet %s: %" PRIu64 " request(s) of new clients not served since the last"
	    " such line: %" PRIu64 " over dhcp-new-client-rate %u/s or dhcp-relay-rate %u/s, %"
	    PRIu64 " with the pool down to dhcp-pool-reserve %u%%", sn->name,
	    g->refused_rate + g->refused_reserve, g->refused_rate, cfg->dhcp_new_client_rate,
	    cfg->dhcp_relay_rate, g->refused_reserve, cfg->dhcp_pool_reserve);
	g->refused_rate = g->refused_reserve = 0;
	g->refused_logged = now;
}

static void
on_tick(uv_timer_t *t)
{
	struct dhcp_server *srv = t->data;
	int64_t now = (int64_t)time(NULL);

	for (size_t i = 0; i < srv->subnet_count; i++) {
		struct dhcp_subnet *sn = &srv->subnet[i];
		if (!full_mode(sn))
			continue;
		pool_alarm(srv, sn, now);
		refusals_log(sn, &srv->cfg, now);
	}
	if (srv->cfg.dhcp_rogue_probe > 0 && now >= srv->probe_at) {
		dhcp_rogue_probe(srv, now);
		srv->probe_at = now + srv->cfg.dhcp_rogue_probe;
	}
	dhcp_share_tick(srv, now);
	dhcp_store_watch(srv);          /* a store that stopped answering */
}

void
dhcp_tick_start(struct dhcp_server *srv)
{
	uv_timer_init(srv->loop, &srv->tick);
	srv->tick.data = srv;
	srv->tick_on = true;
	srv->probe_at = (int64_t)time(NULL) + 2;        /* soon after the start */
	uv_timer_start(&srv->tick, on_tick, TICK_MS, TICK_MS);
}
