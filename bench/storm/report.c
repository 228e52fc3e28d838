/* bench/storm: the figures.  One "storm:" line each, key=value, for the
 * scripts that read them:
 *   storm: clients=N ok=N failed=N wall_s=S
 *   storm: offer_ms n=N median=X p99=X max=X over_4s=N     (first DISCOVER -> OFFER)
 *   storm: offer_last_ms n=N median=X p99=X max=X          (last DISCOVER -> OFFER)
 *   storm: tftp_end_ms n=N median=X p99=X max=X            (first DISCOVER -> last TFTP ACK)
 *   storm: http_end_ms n=N median=X p99=X max=X            (first DISCOVER -> last HTTP byte)
 *   storm: failed dhcp=N tftp=N ipxe_dhcp=N http=N
 *   storm: resent dhcp=N ipxe_dhcp=N tftp_timeouts=N (size=N request=N data=N)
 *   storm: verified tftp_bytes=B http_bytes=B address_changed=N
 * wall_s runs from the first client's start to the last client's end.
 * The HTTP loop (--http-loop) prints instead:
 *   storm: loop clients=N ok=N failed=N wall_s=S requests=R bytes=B mib_s=X
 *   storm: small_ms n=N median=X p99=X max=X       (files up to 64 KiB)
 *   storm: large_ms n=N median=X p99=X max=X
 * (a request's time: from asking to its last byte; mib_s: verified bytes
 * over wall_s, which runs to the end of the last request in flight). */
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "storm.h"

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* value at quantile q of the n sorted values (nearest rank) */
static double
quantile_ms(const uint64_t *v, size_t n, double q)
{
	size_t rank = (size_t)(q * (double)n + 0.999999);

	if (n == 0)
		return 0;
	rank = rank == 0 ? 1 : MIN(rank, n);
	return (double)v[rank - 1] / 1000.0;
}

static void
print_times(const char *name, uint64_t *v, size_t n, const char *extra)
{
	qsort(v, n, sizeof v[0], cmp_u64);
	printf("storm: %s n=%zu median=%.1f p99=%.1f max=%.1f%s\n", name, n,
	    quantile_ms(v, n, 0.5), quantile_ms(v, n, 0.99), quantile_ms(v, n, 1.0), extra);
}

/* Time from each client's start to the moment chosen by at(); clients
 * that never got there are left out (they count as failures). */
static size_t
collect(const struct storm *s, uint64_t *v, uint64_t (*at)(const struct client *))
{
	size_t n = 0;

	for (unsigned i = 0; i < s->o.clients; i++) {
		const struct client *c = &s->c[i];
		uint64_t t = at(c);

		if (t != 0 && c->start_us != 0)
			v[n++] = t - c->start_us;
	}
	return n;
}

static uint64_t at_offer(const struct client *c) { return c->offer_us; }
/* as a time after the start, so collect() gives the wait itself */
static uint64_t at_offer_wait(const struct client *c)
{
	return c->offer_us != 0 ? c->start_us + c->offer_wait_us : 0;
}
static uint64_t at_tftp(const struct client *c) { return c->tftp_end_us; }
static uint64_t at_http(const struct client *c) { return c->state == C_DONE ? c->end_us : 0; }

static void
print_counts(const struct storm *s, uint64_t first, uint64_t last)
{
	unsigned failed[STEP_COUNT] = { 0 }, ok = 0, changed = 0;
	unsigned long long resent = 0, ipxe_resent = 0, timeouts = 0, tb = 0, hb = 0;
	unsigned long long at[3] = { 0 };

	for (unsigned i = 0; i < s->o.clients; i++) {
		const struct client *c = &s->c[i];

		if (c->state == C_DONE)
			ok++;
		else
			failed[c->failed_step]++;
		resent += c->dhcp_resent;
		ipxe_resent += c->ipxe_resent;
		timeouts += c->tftp_timeouts;
		for (unsigned k = 0; k < 3; k++)
			at[k] += c->tftp_timeouts_at[k];
		tb += c->tftp_bytes;
		hb += c->http_bytes;
		changed += c->ipxe && c->lease.yiaddr.s_addr != 0 &&
		    c->lease.yiaddr.s_addr != c->first_addr.s_addr;
	}
	printf("storm: clients=%u ok=%u failed=%u wall_s=%.3f\n", s->o.clients, ok,
	    s->o.clients - ok, last > first ? (double)(last - first) / 1e6 : 0.0);
	printf("storm: failed dhcp=%u tftp=%u ipxe_dhcp=%u http=%u\n", failed[STEP_DHCP],
	    failed[STEP_TFTP], failed[STEP_IPXE_DHCP], failed[STEP_HTTP]);
	printf("storm: resent dhcp=%llu ipxe_dhcp=%llu tftp_timeouts=%llu (size=%llu request=%llu"
	    " data=%llu)\n", resent, ipxe_resent, timeouts, at[0], at[1], at[2]);
	printf("storm: verified tftp_bytes=%llu http_bytes=%llu address_changed=%u\n", tb, hb,
	    changed);
}

void
storm_report(const struct storm *s, uint64_t end_us)
{
	uint64_t *v = calloc(s->o.clients, sizeof *v);
	uint64_t first = UINT64_MAX, last = 0;
	char extra[32];
	size_t n, over = 0;

	if (v == NULL)
		return;
	for (unsigned i = 0; i < s->o.clients; i++) {
		const struct client *c = &s->c[i];

		if (c->start_us != 0)
			first = MIN(first, c->start_us);
		last = MAX(last, c->end_us != 0 ? c->end_us : end_us);
	}
	print_counts(s, first, last);
	n = collect(s, v, at_offer);
	for (size_t i = 0; i < n; i++)
		over += v[i] > 4000000;
	snprintf(extra, sizeof extra, " over_4s=%zu", over);
	print_times("offer_ms", v, n, extra);
	n = collect(s, v, at_offer_wait);
	print_times("offer_last_ms", v, n, "");
	n = collect(s, v, at_tftp);
	print_times("tftp_end_ms", v, n, "");
	n = collect(s, v, at_http);
	print_times("http_end_ms", v, n, "");
	fflush(stdout);
	free(v);
}

void
storm_report_loop(struct storm *s, uint64_t end_us)
{
	unsigned ok = 0;
	unsigned long long requests = 0, bytes = 0;
	double wall = end_us > s->t0_us ? (double)(end_us - s->t0_us) / 1e6 : 0.0;

	for (unsigned i = 0; i < s->o.clients; i++) {
		ok += s->c[i].state == C_DONE;
		requests += s->c[i].requests;
		bytes += s->c[i].http_bytes;
	}
	printf("storm: loop clients=%u ok=%u failed=%u wall_s=%.3f requests=%llu bytes=%llu "
	    "mib_s=%.1f\n", s->o.clients, ok, s->o.clients - ok, wall, requests, bytes,
	    wall > 0 ? (double)bytes / wall / 1048576.0 : 0.0);
	print_times("small_ms", s->lat_small, s->n_small, "");
	print_times("large_ms", s->lat_large, s->n_large, "");
	fflush(stdout);
}
