/* See reload.h.  The reader is a thread of its own rather than a work of
 * libuv's pool: a read stuck in a frozen database would hold a pool thread
 * (TFTP's read-ahead uses them) and keep uv_run from returning at SIGTERM,
 * where a thread of ours is waited for a bounded time and left behind.
 * The store worker and the heartbeat thread are not used either: the
 * reads would wait behind lease writes (and ACKs behind them), or delay a
 * heartbeat past the point where other servers take our clients. */
#include "pxed/reload.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store.h"

struct reloader {
	uv_loop_t *loop;
	uv_async_t answer;              /* the reader's reads are in */
	uv_timer_t bound;               /* the round's RELOAD_READS_MS */
	struct reload_ops ops;
	bool leases;
	/* the loop's own */
	bool round;                     /* a round under way */
	uint64_t round_ticket;
	unsigned round_gen;             /* its reads' job; 0: not given yet */
	bool again;                     /* one more round asked */
	uint64_t again_ticket;
	bool reading;                   /* the reader has a job (maybe of a failed round) */
	unsigned gen;
	unsigned handles;               /* open, at stop */
	bool left;                      /* the reader was left behind at stop */
	/* between the loop and the reader, under lock */
	pthread_mutex_t lock;
	pthread_cond_t wake, gone;
	pthread_t thread;
	bool job, ready, stop, exited;
	unsigned job_gen, ready_gen;
	int rc;
	const char *why;                /* what could not be read */
	/* the reader's while it has a job, then the loop's */
	struct store *st;
	struct reload_reads reads;
};

/* The reads of one job, on the reader thread. */
static int
reads_make(struct reloader *r, const char **why)
{
	struct reload_reads *out = &r->reads;
	int n = store_subnet_list(r->st, out->subnet, CONFIG_SUBNETS_MAX);

	memset(&out->leases, 0, sizeof out->leases);
	if (n < 0) {
		*why = "the subnets changed with pxectl cannot be read";
		return -EIO;
	}
	out->subnet_count = (size_t)n;
	int rc = r->leases ? dhcp_stored_read(r->st, &out->leases) : 0;
	if (rc == -E2BIG)
		*why = "there are more stored leases than the pools can hold";
	else if (rc == -ENOMEM)
		*why = "out of memory for the stored leases";
	else if (rc != 0)
		*why = "the stored leases cannot be read";
	return rc;
}

static void *
reader_main(void *arg)
{
	struct reloader *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->stop) {
		if (!r->job) {
			pthread_cond_wait(&r->wake, &r->lock);
			continue;
		}
		r->job = false;
		unsigned gen = r->job_gen;
		pthread_mutex_unlock(&r->lock);
		const char *why = "";
		int rc = reads_make(r, &why);
		pthread_mutex_lock(&r->lock);
		r->ready = true;
		r->ready_gen = gen;
		r->rc = rc;
		r->why = why;
		if (!r->stop)           /* the handle is closed after stop */
			uv_async_send(&r->answer);
	}
	r->exited = true;
	pthread_cond_signal(&r->gone);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void round_start(struct reloader *r);
static void on_bound(uv_timer_t *h);

/* The round ends with rc and msg; a round asked meanwhile begins. */
static void
round_end(struct reloader *r, int rc, const char *msg)
{
	uint64_t ticket = r->round_ticket;

	r->round = false;
	r->round_gen = 0;
	uv_timer_stop(&r->bound);
	r->ops.done(r->ops.arg, ticket, rc, msg);
	if (r->again)
		round_start(r);
}

static void
job_give(struct reloader *r)
{
	r->reading = true;
	r->round_gen = ++r->gen;
	pthread_mutex_lock(&r->lock);
	r->job = true;
	r->job_gen = r->round_gen;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
}

static void
round_start(struct reloader *r)
{
	char msg[512] = "";

	r->round = true;
	r->round_ticket = r->again_ticket;
	r->again = false;
	r->again_ticket = 0;
	int rc = r->ops.prepare(r->ops.arg, msg, sizeof msg);
	if (rc == 0 && r->st == NULL)
		rc = r->ops.apply(r->ops.arg, NULL, msg, sizeof msg);
	if (rc != 0 || r->st == NULL) {
		round_end(r, rc, msg);
		return;
	}
	uv_timer_start(&r->bound, on_bound, RELOAD_READS_MS, 0);
	if (!r->reading)        /* else when the failed round's reads return */
		job_give(r);
}

/* The reads are in: this round's are applied, a failed round's dropped. */
static void
on_answer(uv_async_t *h)
{
	struct reloader *r = h->data;
	char msg[512] = "";

	pthread_mutex_lock(&r->lock);
	bool ready = r->ready;
	unsigned gen = r->ready_gen;
	int rc = r->rc;
	const char *why = r->why;
	r->ready = false;
	pthread_mutex_unlock(&r->lock);
	if (!ready)
		return;
	r->reading = false;
	if (r->round && r->round_gen == gen) {
		if (rc != 0)
			snprintf(msg, sizeof msg, "state store: %s", why);
		else
			rc = r->ops.apply(r->ops.arg, &r->reads, msg, sizeof msg);
		dhcp_stored_free(&r->reads.leases);
		round_end(r, rc, msg);
		return;
	}
	dhcp_stored_free(&r->reads.leases);
	log_info("reload: the state store answered a failed reload's reads at last: dropped");
	if (r->round)
		job_give(r);
}

static void
on_bound(uv_timer_t *h)
{
	struct reloader *r = h->data;
	char msg[256];

	snprintf(msg, sizeof msg, "the state store did not answer the reload's reads (the subnets"
	    " changed with pxectl, the stored leases) within %d s", RELOAD_READS_MS / 1000);
	round_end(r, -ETIMEDOUT, msg);
}

int
reloader_start(struct reloader **out, uv_loop_t *loop, struct store *st, bool leases,
    const struct reload_ops *ops)
{
	struct reloader *r = calloc(1, sizeof *r);
	pthread_condattr_t ca;

	if (r == NULL)
		return -ENOMEM;
	r->loop = loop;
	r->ops = *ops;
	r->leases = leases;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->gone, &ca);       /* waited for with a deadline */
	pthread_condattr_destroy(&ca);
	uv_async_init(loop, &r->answer, on_answer);
	uv_timer_init(loop, &r->bound);
	r->answer.data = r->bound.data = r;
	r->handles = 2;
	r->exited = true;               /* no thread without a store */
	if (st != NULL) {
		r->st = st;
		r->exited = false;
		int rc = pthread_create(&r->thread, NULL, reader_main, r);
		if (rc != 0) {
			log_error("reload: cannot start the store reader: %s", strerror(rc));
			r->st = NULL;           /* the caller's still */
			r->exited = true;
			reloader_stop(r);
			return -rc;
		}
	}
	*out = r;
	return 0;
}

void
reloader_ask(struct reloader *r, uint64_t ticket)
{
	r->again = true;
	r->again_ticket = MAX(r->again_ticket, ticket);
	if (!r->round)
		round_start(r);
}

static void
handle_closed(uv_handle_t *h)
{
	struct reloader *r = h->data;

	if (--r->handles > 0 || r->left)
		return;
	pthread_cond_destroy(&r->wake);
	pthread_cond_destroy(&r->gone);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void
reloader_stop(struct reloader *r)
{
	struct timespec until;
	int rc = 0;

	if (r == NULL)
		return;
	r->again = false;
	if (r->round)
		round_end(r, -ECANCELED, "pxed is stopping");
	clock_deadline_ms(&until, RELOAD_STOP_MS);
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->wake);
	while (!r->exited && rc == 0)
		rc = pthread_cond_timedwait(&r->gone, &r->lock, &until);
	r->left = !r->exited;
	pthread_mutex_unlock(&r->lock);
	if (r->left) {
		log_error("reload: the store reader did not finish within %d ms (the database does"
		    " not answer): left behind", RELOAD_STOP_MS);
	} else if (r->st != NULL) {
		pthread_join(r->thread, NULL);
		store_close(r->st);
		dhcp_stored_free(&r->reads.leases);
	}
	uv_close((uv_handle_t *)&r->answer, handle_closed);
	uv_close((uv_handle_t *)&r->bound, handle_closed);
}
