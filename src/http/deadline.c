/* Slow clients: http/deadline.h. */
#include "http/deadline.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"

#define REAP_MS 1000
#define CUT_LOG_US 60000000u

struct http_watch {
	struct http_watch *prev, *next;
	int fd;
	ino_t ino;                      /* the socket's: fd numbers are reused */
	atomic_uint_fast64_t due_us;    /* headers due by then; 0: not waiting */
	bool silent;                    /* the reaper's: nothing from the client at its due */
};

struct http_deadlines {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool stop;
	struct http_watch head;         /* a ring */
	uint64_t header_us, idle_us;
	uint64_t cut, cut_logged_us;    /* since the last line */
};

/* Has the client sent anything on fd yet?  (TCP_INFO; when the kernel
 * cannot say: yes.) */
static bool
client_sent(int fd)
{
	struct tcp_info ti = { 0 };
	socklen_t len = sizeof ti;

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
		return true;
	return ti.tcpi_bytes_received > 0;
}

/* A connection at its due that has sent nothing yet is idle, not slow: on
 * a bad link its request may be lost again and again.  It is looked at
 * again each round (http-timeout closes it if nothing ever comes), and
 * its first bytes get the whole header time from when they are seen.
 * True: not cut now (due moved on). */
static bool
still_silent(const struct http_deadlines *d, struct http_watch *w, uint64_t due,
    uint64_t now)
{
	uint64_t next;

	if (!client_sent(w->fd)) {
		w->silent = true;
		next = now + REAP_MS * 1000u;
	} else if (w->silent) {
		w->silent = false;
		next = now + d->header_us;
	} else {
		return false;
	}
	/* unless the headers came meanwhile (due 0) */
	(void)atomic_compare_exchange_strong(&w->due_us, &due, next);
	return true;
}

static void
reap(struct http_deadlines *d, uint64_t now)
{
	struct stat st;

	for (struct http_watch *w = d->head.next; w != &d->head; w = w->next) {
		uint64_t due = atomic_load(&w->due_us);
		bool ours;
		if (due == 0 || now < due)
			continue;
		/* the fd is libmicrohttpd's: only while it is this socket */
		ours = fstat(w->fd, &st) == 0 && st.st_ino == w->ino;
		if (ours && still_silent(d, w, due, now))
			continue;
		atomic_store(&w->due_us, 0);
		if (ours)
			(void)shutdown(w->fd, SHUT_RDWR);
		d->cut++;
		STATS_ADD(http_headers_slow, 1);
	}
	if (d->cut > 0 && (d->cut_logged_us == 0 || now - d->cut_logged_us >= CUT_LOG_US)) {
		log_warn("http: %" PRIu64 " connection(s) closed since the last such line: their"
		    " request line and headers did not come in time (http-header-timeout %" PRIu64
		    " s for a first request, http-timeout %" PRIu64 " s for the next)", d->cut,
		    d->header_us / 1000000, d->idle_us / 1000000);
		d->cut = 0;
		d->cut_logged_us = now;
	}
}

static void *
reaper(void *arg)
{
	struct http_deadlines *d = arg;
	struct timespec at;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		clock_deadline_ms(&at, REAP_MS);
		(void)pthread_cond_timedwait(&d->wake, &d->lock, &at);
		if (!d->stop)
			reap(d, clock_now_us());
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int
http_deadlines_start(struct http_deadlines **out, unsigned header_s, unsigned idle_s)
{
	struct http_deadlines *d;
	pthread_condattr_t ca;
	int rc;

	*out = NULL;
	if (header_s == 0)
		return 0;
	d = calloc(1, sizeof *d);
	if (d == NULL)
		return -ENOMEM;
	d->head.next = d->head.prev = &d->head;
	d->header_us = (uint64_t)header_s * 1000000u;
	d->idle_us = (uint64_t)MAX(idle_s, header_s) * 1000000u;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&d->thread, NULL, reaper, d);
	if (rc != 0) {
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return -rc;
	}
	*out = d;
	return 0;
}

void
http_deadlines_stop(struct http_deadlines *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	while (d->head.next != &d->head)
		http_watch_remove(d, d->head.next);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

struct http_watch *
http_watch_add(struct http_deadlines *d, int fd)
{
	struct http_watch *w;
	struct stat st;

	if (d == NULL || fd < 0 || fstat(fd, &st) != 0)
		return NULL;
	w = calloc(1, sizeof *w);
	if (w == NULL)
		return NULL;
	w->fd = fd;
	w->ino = st.st_ino;
	atomic_store(&w->due_us, clock_now_us() + d->header_us);
	pthread_mutex_lock(&d->lock);
	w->next = &d->head;
	w->prev = d->head.prev;
	d->head.prev->next = w;
	d->head.prev = w;
	pthread_mutex_unlock(&d->lock);
	return w;
}

void
http_watch_headers_in(struct http_watch *w)
{
	if (w != NULL)
		atomic_store(&w->due_us, 0);
}

void
http_watch_answered(struct http_deadlines *d, struct http_watch *w)
{
	if (d != NULL && w != NULL)
		atomic_store(&w->due_us, clock_now_us() + d->idle_us);
}

void
http_watch_remove(struct http_deadlines *d, struct http_watch *w)
{
	if (d == NULL || w == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	w->prev->next = w->next;
	w->next->prev = w->prev;
	pthread_mutex_unlock(&d->lock);
	free(w);
}
