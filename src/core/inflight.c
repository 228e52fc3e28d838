/* See inflight.h. */
#include "core/inflight.h"

#include <errno.h>
#include <linux/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/util.h"

struct entry {
	bool used;
	int sock;
	uint64_t base_acked;            /* tcpi_bytes_acked at the start */
	bool acked_known;
	struct inflight_view v;
};

struct inflight {
	pthread_mutex_t lock;
	size_t slots;
	size_t used;
	size_t untracked;               /* in flight, not listed: the table was full */
	size_t *free_slots;             /* a stack of free slot indexes */
	size_t free_count;
	struct entry *entry;
};

int
inflight_create(struct inflight **out, size_t slots)
{
	struct inflight *t = calloc(1, sizeof *t);

	if (t != NULL) {
		t->entry = calloc(slots, sizeof *t->entry);
		t->free_slots = calloc(slots, sizeof *t->free_slots);
	}
	if (t == NULL || t->entry == NULL || t->free_slots == NULL) {
		inflight_free(t);
		return -ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->slots = slots;
	for (size_t i = 0; i < slots; i++)
		t->free_slots[i] = slots - 1 - i;
	t->free_count = slots;
	*out = t;
	return 0;
}

void
inflight_free(struct inflight *t)
{
	if (t == NULL)
		return;
	if (t->entry != NULL && t->free_slots != NULL)
		pthread_mutex_destroy(&t->lock);
	free(t->entry);
	free(t->free_slots);
	free(t);
}

/* TCP_INFO of sock: bytes the peer acknowledged and the delivery rate.
 * false when the kernel does not tell. */
static bool
tcp_progress(int sock, uint64_t *acked, uint64_t *rate)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;

	memset(&ti, 0, sizeof ti);
	if (getsockopt(sock, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    len < offsetof(struct tcp_info, tcpi_delivery_rate) + sizeof ti.tcpi_delivery_rate)
		return false;
	*acked = ti.tcpi_bytes_acked;
	*rate = ti.tcpi_delivery_rate;
	return true;
}

uint32_t
inflight_begin(struct inflight *t, int sock, const char *peer, struct in_addr peer4,
    const char *file, uint64_t total)
{
	struct timespec now;
	uint64_t rate;

	if (t == NULL)
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&t->lock);
	if (t->free_count == 0) {
		t->untracked++;
		pthread_mutex_unlock(&t->lock);
		return INFLIGHT_UNTRACKED;
	}
	size_t i = t->free_slots[--t->free_count];
	struct entry *e = &t->entry[i];
	memset(e, 0, sizeof *e);
	e->used = true;
	e->sock = sock;
	e->acked_known = sock >= 0 && tcp_progress(sock, &e->base_acked, &rate);
	str_copy(e->v.peer, peer, sizeof e->v.peer);
	e->v.peer4 = peer4;
	str_copy(e->v.file, file, sizeof e->v.file);
	e->v.total = total;
	e->v.started_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	t->used++;
	pthread_mutex_unlock(&t->lock);
	return (uint32_t)i + 1;
}

void
inflight_end(struct inflight *t, uint32_t ticket)
{
	if (t == NULL || ticket == 0)
		return;
	pthread_mutex_lock(&t->lock);
	if (ticket == INFLIGHT_UNTRACKED) {
		if (t->untracked > 0)
			t->untracked--;
	} else if (ticket <= t->slots && t->entry[ticket - 1].used) {
		t->entry[ticket - 1].used = false;
		t->free_slots[t->free_count++] = ticket - 1;
		t->used--;
	}
	pthread_mutex_unlock(&t->lock);
}

/* Oldest first. */
static int
view_older(const void *a, const void *b)
{
	const struct inflight_view *x = a, *y = b;

	return (x->started_ms > y->started_ms) - (x->started_ms < y->started_ms);
}

size_t
inflight_list(struct inflight *t, struct inflight_view *out, size_t max, size_t *more)
{
	size_t n = 0;

	*more = 0;
	if (t == NULL)
		return 0;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->slots; i++) {
		struct entry *e = &t->entry[i];
		uint64_t acked, rate;
		if (!e->used)
			continue;
		if (n == max) {
			(*more)++;
			continue;
		}
		out[n] = e->v;
		if (e->acked_known && tcp_progress(e->sock, &acked, &rate)) {
			out[n].bytes_known = true;
			out[n].bytes = MIN(acked >= e->base_acked ? acked - e->base_acked : 0,
			    e->v.total);
			out[n].rate = rate;
		}
		n++;
	}
	*more += t->untracked;
	pthread_mutex_unlock(&t->lock);
	qsort(out, n, sizeof *out, view_older);
	return n;
}
