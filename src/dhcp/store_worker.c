/* The DHCP server's store worker (see store_worker.h): a thread, a bounded
 * queue of writes in, a bounded list of batch outcomes out. */
#include "dhcp/store_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bus.h"
#include "core/log.h"
#include "core/util.h"

enum op_kind { OP_LEASE_PUT, OP_LEASE_RELEASE, OP_ADDR_PUT, OP_EVENT, OP_COMMIT };

struct op {
	enum op_kind kind;
	int64_t batch;                  /* OP_COMMIT */
	union {
		struct store_lease lease;       /* OP_LEASE_PUT, OP_LEASE_RELEASE */
		struct {
			struct in_addr address;
			uint8_t mac[16];
			uint8_t mac_len;
			int64_t when_ms;
			char kind[32];
			char detail[256];
			char uuid[STORE_UUID_TEXT];
		} ev;                           /* OP_EVENT, OP_ADDR_PUT */
	} u;
};

struct store_worker {
	pthread_mutex_t lock;
	pthread_cond_t wake, gone;
	pthread_t thread;
	bool started, stop, exited;
	struct store *st;               /* the worker's connection */
	void (*notify)(void *arg);
	void *arg;
	struct op *queue;               /* ring of STORE_WORKER_QUEUE */
	size_t head, count;
	bool batch_open;                /* loop side: writes since the last commit */
	int64_t next_batch;             /* loop side: the next batch's number */
	struct store_outcome out[STORE_WORKER_OUTCOMES];        /* ring */
	size_t out_head, out_count;
	size_t commits_queued;          /* OP_COMMIT in the queue */
	int64_t answered_ms;            /* commits wait: since the last answer or
	                                 * the first of them was queued */
	bool reachable;
	struct store_lost {
		int64_t batch;
		struct store_lease lease;
	} lost[STORE_WORKER_LOST];      /* ring: writes another server's client won */
	size_t lost_head, lost_count;
	/* the worker's own, unlocked */
	int64_t batch_now;              /* the batch of the writes being applied */
	bool batch_failed;              /* a write of the current group failed */
	int64_t group_first, group_count;       /* batches ended, not committed yet */
	int64_t events_at_ms;           /* the last time events were written */
	struct log_limit failing, lost_events;
};

static int64_t
mono_ms(void)
{
	return (int64_t)(clock_now_us() / 1000u);
}

/* ---- the worker thread ---- */

static void
events_failed(struct store_worker *w, int err)
{
	unsigned long held;

	if (log_limit_take(&w->failing, mono_ms() / 1000, LOG_LIMIT_INTERVAL_S, &held))
		log_error("dhcp: store worker: boot events not written (%s): kept while the"
		    " connection is down, else lost (%lu more such failure(s) since the last line)", strerror(-err), held);
}

static void
apply_event(struct store_worker *w, const struct op *o)
{
	unsigned long held;

	/* a full queue would flush, and commit, in the middle of a batch */
	if (store_events_queued(w->st) < STORE_EVENT_QUEUE) {
		(void)store_event_queue(w->st, o->u.ev.mac, o->u.ev.mac_len, o->u.ev.kind,
		    o->u.ev.detail, o->u.ev.uuid, o->u.ev.when_ms);
		return;
	}
	if (log_limit_take(&w->lost_events, mono_ms() / 1000, LOG_LIMIT_INTERVAL_S, &held))
		log_error("dhcp: store worker: %d boot events wait for the store: a new one is lost"
		    " (%lu more since the last line)", STORE_EVENT_QUEUE, held);
}

/* Servers sharing the database: the address is another client's (the
 * conditional write changed nothing).  Not a failure of the batch: the
 * loop drops that one ACK and its pool learns the holder's lease. */
static void
lease_lost(struct store_worker *w, struct in_addr address)
{
	struct store_lost x = { .batch = w->batch_now };

	if (store_lease_get(w->st, address, &x.lease) != 0)
		x.lease.state = LEASE_RELEASED;        /* not read: nothing to learn */
	x.lease.address = address;
	pthread_mutex_lock(&w->lock);
	if (w->lost_count < STORE_WORKER_LOST)
		w->lost[(w->lost_head + w->lost_count++) % STORE_WORKER_LOST] = x;
	else
		w->batch_failed = true; /* not reported: none of the batch's ACKs may go */
	pthread_mutex_unlock(&w->lock);
}

static void
apply_write(struct store_worker *w, const struct op *o)
{
	int rc = 0;

	switch (o->kind) {
	case OP_LEASE_PUT:
		rc = store_lease_put(w->st, &o->u.lease);
		if (rc == -EBUSY) {
			lease_lost(w, o->u.lease.address);
			rc = 0;
		}
		break;
	case OP_LEASE_RELEASE:
		rc = store_lease_release(w->st, &o->u.lease);
		break;
	case OP_ADDR_PUT:
		(void)store_client_addr_put(w->st, o->u.ev.address, o->u.ev.mac, o->u.ev.mac_len,
		    o->u.ev.when_ms);
		break;
	case OP_EVENT:
		apply_event(w, o);
		break;
	case OP_COMMIT:
		break;
	}
	if (rc != 0)
		w->batch_failed = true;         /* the loop logs it with the outcome */
}

/* Boot events go in their own transaction, between batches. */
static void
write_events(struct store_worker *w, bool now)
{
	int64_t t = mono_ms();

	if (store_events_queued(w->st) == 0 ||
	    (!now && t - w->events_at_ms < STORE_WORKER_EVENTS_MS))
		return;
	w->events_at_ms = t;
	int rc = store_events_flush(w->st);
	if (rc != 0)
		events_failed(w, rc);
}

/* Tell the loop, under the lock: once store_worker_stop has set stop (the
 * loop closes its handle next), the worker no longer touches it, even
 * when it outlives the stop's wait. */
static void
notify_locked(struct store_worker *w)
{
	if (!w->stop)
		w->notify(w->arg);
}

/* Commit the batches of the group in one transaction and report each of
 * them (a failed write fails them all); the events go in after. */
static void
commit_group(struct store_worker *w)
{
	int rc = store_commit(w->st);   /* ends the transaction whatever came before */
	bool ok = rc == 0 && !w->batch_failed;

	w->batch_failed = false;
	bool reachable = store_connected(w->st);
	pthread_mutex_lock(&w->lock);
	for (int64_t b = w->group_first; b < w->group_first + w->group_count; b++)
		w->out[(w->out_head + w->out_count++) % STORE_WORKER_OUTCOMES] =
		    (struct store_outcome){ .batch = b, .committed = ok };
	w->commits_queued -= (size_t)w->group_count;
	w->answered_ms = w->commits_queued > 0 ? mono_ms() : 0;
	w->reachable = ok || reachable;
	notify_locked(w);
	pthread_mutex_unlock(&w->lock);
	w->group_count = 0;
	write_events(w, false);
}

/* A batch ends: it joins the group, which commits when the queue is empty
 * (worker_main) or STORE_WORKER_GROUP batches are in it.  Under load the
 * batches the loop ended while the worker was busy share one commit. */
static void
apply_commit(struct store_worker *w, const struct op *o)
{
	w->batch_now = o->batch + 1;   /* the writes that follow are the next batch's */
	if (w->group_count++ == 0)
		w->group_first = o->batch;
	if (w->group_count == STORE_WORKER_GROUP)
		commit_group(w);
}

/* Nothing to do for a while: write the events, and ask a database that
 * was lost whether it is back (a reconnection, under db_pg's backoff). */
static void
worker_idle(struct store_worker *w)
{
	pthread_mutex_lock(&w->lock);
	bool was = w->reachable;
	pthread_mutex_unlock(&w->lock);
	if (was) {
		write_events(w, false);
		return;
	}
	if (store_ping(w->st) != 0)
		return;
	pthread_mutex_lock(&w->lock);
	w->reachable = true;
	notify_locked(w);
	pthread_mutex_unlock(&w->lock);
	write_events(w, true);
}

static void
wait_for_work(struct store_worker *w)
{
	struct timespec until;

	clock_deadline_ms(&until, STORE_WORKER_EVENTS_MS);
	(void)pthread_cond_timedwait(&w->wake, &w->lock, &until);
}

static void *
worker_main(void *arg)
{
	struct store_worker *w = arg;
	struct op o;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		if (w->count == 0 && w->group_count > 0) {
			pthread_mutex_unlock(&w->lock);
			commit_group(w);
			pthread_mutex_lock(&w->lock);
			continue;
		}
		if (w->count == 0) {
			if (w->stop)
				break;
			wait_for_work(w);
			if (w->count == 0) {
				pthread_mutex_unlock(&w->lock);
				worker_idle(w);
				pthread_mutex_lock(&w->lock);
			}
			continue;
		}
		o = w->queue[w->head];
		w->head = (w->head + 1) % STORE_WORKER_QUEUE;
		w->count--;
		pthread_mutex_unlock(&w->lock);
		if (o.kind == OP_COMMIT)
			apply_commit(w, &o);
		else
			apply_write(w, &o);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	write_events(w, true);
	(void)store_commit(w->st);
	pthread_mutex_lock(&w->lock);
	w->exited = true;
	pthread_cond_signal(&w->gone);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* ---- the loop's side ---- */

int
store_worker_start(struct store_worker **out, const char *where, bool host_approval,
    const char *server, void (*notify)(void *arg), void *arg)
{
	struct store_worker *w = calloc(1, sizeof *w);
	pthread_condattr_t ca;
	int rc;

	if (w == NULL || (w->queue = calloc(STORE_WORKER_QUEUE, sizeof *w->queue)) == NULL) {
		free(w);
		return -ENOMEM;
	}
	w->notify = notify;
	w->arg = arg;
	w->next_batch = 1;
	w->batch_now = 1;
	w->reachable = true;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_cond_init(&w->gone, &ca);
	pthread_condattr_destroy(&ca);
	rc = store_open(&w->st, where);
	if (rc == 0) {
		store_set_host_approval(w->st, host_approval);
		if (server != NULL && server[0] != '\0')
			store_set_server(w->st, server);
		rc = -pthread_create(&w->thread, NULL, worker_main, w);
	}
	if (rc != 0) {
		log_error("dhcp: the store worker cannot start: %s", strerror(-rc));
		store_worker_free(w);
		return rc;
	}
	w->started = true;
	*out = w;
	return 0;
}

void
store_worker_stop(struct store_worker *w, unsigned timeout_ms)
{
	struct timespec until;
	int rc = 0;

	clock_deadline_ms(&until, timeout_ms);

	if (w == NULL || !w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	while (!w->exited && rc == 0)
		rc = pthread_cond_timedwait(&w->gone, &w->lock, &until);
	bool exited = w->exited;
	pthread_mutex_unlock(&w->lock);
	if (!exited) {
		log_error("dhcp: the store worker did not finish within %u ms (the database does"
		    " not answer): %zu write(s) not made", timeout_ms, w->count);
		return;
	}
	pthread_join(w->thread, NULL);
	w->started = false;
}

bool
store_worker_free(struct store_worker *w)
{
	if (w == NULL)
		return true;
	if (w->started)
		return false;           /* a worker still running is left as it is */
	store_close(w->st);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->gone);
	pthread_mutex_destroy(&w->lock);
	free(w->queue);
	free(w);
	return true;
}

/* Queue o (its kind and fields set): 0 or -ENOBUFS.  The worker is not
 * woken for a write (the batch's commit wakes it, and it wakes by itself
 * every STORE_WORKER_EVENTS_MS), unless the queue is half full: a wake-up
 * per write cost a context switch per write on the loop's CPU. */
static int
enqueue(struct store_worker *w, const struct op *o)
{
	pthread_mutex_lock(&w->lock);
	if (w->count == STORE_WORKER_QUEUE) {
		pthread_mutex_unlock(&w->lock);
		return -ENOBUFS;
	}
	w->queue[(w->head + w->count++) % STORE_WORKER_QUEUE] = *o;
	if (w->count == STORE_WORKER_QUEUE / 2)
		pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int
store_worker_lease_put(struct store_worker *w, const struct store_lease *lease)
{
	struct op o = { .kind = OP_LEASE_PUT, .u.lease = *lease };
	int rc = enqueue(w, &o);

	w->batch_open |= rc == 0;
	return rc;
}

int
store_worker_lease_release(struct store_worker *w, const struct store_lease *lease)
{
	struct op o = { .kind = OP_LEASE_RELEASE, .u.lease = *lease };
	int rc = enqueue(w, &o);

	w->batch_open |= rc == 0;
	return rc;
}

int
store_worker_addr_put(struct store_worker *w, struct in_addr address, const uint8_t *mac,
    size_t mac_len, int64_t when_ms)
{
	struct op o = { .kind = OP_ADDR_PUT, .u.ev.address = address, .u.ev.when_ms = when_ms };

	if (mac_len == 0 || mac_len > sizeof o.u.ev.mac)
		return -EINVAL;
	memcpy(o.u.ev.mac, mac, mac_len);
	o.u.ev.mac_len = (uint8_t)mac_len;
	int rc = enqueue(w, &o);
	w->batch_open |= rc == 0;
	return rc;
}

int
store_worker_event(struct store_worker *w, const uint8_t *mac, size_t mac_len,
    const char *kind, const char *detail, const char *uuid, int64_t when_ms)
{
	struct op o = { .kind = OP_EVENT, .u.ev.when_ms = when_ms };

	if (mac == NULL || mac_len > sizeof o.u.ev.mac || kind == NULL)
		return -EINVAL;
	bus_publish_boot(mac, mac_len, kind, detail, when_ms);
	memcpy(o.u.ev.mac, mac, mac_len);
	o.u.ev.mac_len = (uint8_t)mac_len;
	str_copy(o.u.ev.kind, kind, sizeof o.u.ev.kind);
	str_copy(o.u.ev.detail, detail != NULL ? detail : "", sizeof o.u.ev.detail);
	str_copy(o.u.ev.uuid, uuid != NULL ? uuid : "", sizeof o.u.ev.uuid);
	return enqueue(w, &o);
}

bool
store_worker_batch_open(const struct store_worker *w)
{
	return w->batch_open;
}

int64_t
store_worker_commit(struct store_worker *w)
{
	struct op o = { .kind = OP_COMMIT };
	int64_t rc;

	w->batch_open = false;
	pthread_mutex_lock(&w->lock);
	if (w->count == STORE_WORKER_QUEUE ||
	    w->out_count + w->commits_queued >= STORE_WORKER_OUTCOMES) {
		pthread_mutex_unlock(&w->lock);
		/* its writes join the next batch, which commits them: this
		 * one's ACKs are not sent */
		return -ENOBUFS;
	}
	o.batch = rc = w->next_batch++;
	w->queue[(w->head + w->count++) % STORE_WORKER_QUEUE] = o;
	if (w->commits_queued++ == 0)
		w->answered_ms = mono_ms();
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return rc;
}

bool
store_worker_take(struct store_worker *w, struct store_outcome *out)
{
	bool got;

	pthread_mutex_lock(&w->lock);
	got = w->out_count > 0;
	if (got) {
		*out = w->out[w->out_head];
		w->out_head = (w->out_head + 1) % STORE_WORKER_OUTCOMES;
		w->out_count--;
	}
	pthread_mutex_unlock(&w->lock);
	return got;
}

bool
store_worker_reachable(struct store_worker *w)
{
	pthread_mutex_lock(&w->lock);
	bool r = w->reachable;
	pthread_mutex_unlock(&w->lock);
	return r;
}

int64_t
store_worker_waiting_ms(struct store_worker *w)
{
	pthread_mutex_lock(&w->lock);
	int64_t since = w->commits_queued > 0 ? mono_ms() - w->answered_ms : 0;
	pthread_mutex_unlock(&w->lock);
	return since;
}

bool
store_worker_take_lost(struct store_worker *w, int64_t upto, struct store_lease *l)
{
	bool got = false;

	pthread_mutex_lock(&w->lock);
	if (w->lost_count > 0 && w->lost[w->lost_head].batch <= upto) {
		*l = w->lost[w->lost_head].lease;
		w->lost_head = (w->lost_head + 1) % STORE_WORKER_LOST;
		w->lost_count--;
		got = true;
	}
	pthread_mutex_unlock(&w->lock);
	return got;
}
