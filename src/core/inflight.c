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
	uint64_t mark_bytes[2];         /* progress noted by inflight_sample, */
	int64_t mark_ms[2];             /* [0] the newest; 0: none yet */
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

	if (t == NULL)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->entry = calloc(slots, sizeof *t->entry);
	t->free_slots = calloc(slots, sizeof *t->free_slots);
	if (t->entry == NULL || t->free_slots == NULL) {
		inflight_free(t);
		return -ENOMEM;
	}
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
	pthread_mutex_destroy(&t->lock);
	free(t->entry);
	free(t->free_slots);
	free(t);
}

/* TCP_INFO of sock: bytes the peer acknowledged.  false when the kernel
 * does not tell. */
static bool
tcp_acked(int sock, uint64_t *acked)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;

	memset(&ti, 0, sizeof ti);
	if (getsockopt(sock, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof ti.tcpi_bytes_acked)
		return false;
	*acked = ti.tcpi_bytes_acked;
	return true;
}

static int64_t
now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* The body bytes the client acknowledged, at most the total; false when
 * unknown. */
static bool
entry_bytes(const struct entry *e, uint64_t *bytes)
{
	uint64_t acked;

	if (!e->acked_known || !tcp_acked(e->sock, &acked))
		return false;
	*bytes = MIN(acked >= e->base_acked ? acked - e->base_acked : 0, e->v.total);
	return true;
}

uint32_t
inflight_begin(struct inflight *t, int sock, const char *peer, struct in_addr peer4,
    const char *file, uint64_t total)
{
	int64_t now = now_ms();

	if (t == NULL)
		return 0;
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
	e->acked_known = sock >= 0 && tcp_acked(sock, &e->base_acked);
	str_copy(e->v.peer, peer, sizeof e->v.peer);
	e->v.peer4 = peer4;
	str_copy(e->v.file, file, sizeof e->v.file);
	e->v.total = total;
	e->v.started_ms = now;
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

void
inflight_sample(struct inflight *t)
{
	int64_t now = now_ms();
	uint64_t bytes;

	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->slots; i++) {
		struct entry *e = &t->entry[i];
		if (!e->used || !entry_bytes(e, &bytes))
			continue;
		e->mark_bytes[1] = e->mark_bytes[0];
		e->mark_ms[1] = e->mark_ms[0];
		e->mark_bytes[0] = bytes;
		e->mark_ms[0] = now;
	}
	pthread_mutex_unlock(&t->lock);
}

/* bytes/s since the older mark (1 to 2 s ago), or since the start. */
static uint64_t
entry_rate(const struct entry *e, uint64_t bytes, int64_t now)
{
	int64_t from = e->mark_ms[1] != 0 ? e->mark_ms[1] : e->v.started_ms;
	uint64_t from_bytes = e->mark_ms[1] != 0 ? e->mark_bytes[1] : 0;

	if (now <= from || bytes < from_bytes)
		return 0;
	return (bytes - from_bytes) * 1000u / (uint64_t)(now - from);
}

size_t
inflight_list(struct inflight *t, struct inflight_view *out, size_t max, size_t *more)
{
	int64_t now = now_ms();
	size_t n = 0;

	*more = 0;
	if (t == NULL)
		return 0;
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->slots; i++) {
		struct entry *e = &t->entry[i];
		if (!e->used)
			continue;
		if (n == max) {
			(*more)++;
			continue;
		}
		out[n] = e->v;
		out[n].bytes_known = entry_bytes(e, &out[n].bytes);
		if (out[n].bytes_known)
			out[n].rate = entry_rate(e, out[n].bytes, now);
		n++;
	}
	*more += t->untracked;
	pthread_mutex_unlock(&t->lock);
	qsort(out, n, sizeof *out, view_older);
	return n;
}
