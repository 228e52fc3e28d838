/* The database's side of servers sharing one database (share_thread.h). */
#include "dhcp/share_thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "dhcp/share.h"
#include "store/servers.h"

struct share_thread {
	pthread_mutex_t lock;
	pthread_cond_t wake, gone;
	pthread_t thread;
	bool stop, exited, first_done;
	bool beat_only;                 /* no DHCP: the heartbeat, nothing read */
	struct store *st;               /* the thread's connection */
	char self[SPLIT_NAME_MAX];
	/* read by the thread, taken by the loop (under lock) */
	char live[SPLIT_SERVERS_MAX][SPLIT_NAME_MAX];
	char live_subnets[SPLIT_SERVERS_MAX][STORE_SERVER_SUBNETS_MAX];
	size_t live_count;
	char subnets[STORE_SERVER_SUBNETS_MAX];        /* ours, set by the loop */
	bool live_new;
	struct store_lease *learned;    /* ring of SHARE_THREAD_LEARNED */
	size_t learned_head, learned_count;
	share_running_fn *running;      /* what this server runs: set by main.c */
	void *running_arg;
	/* the thread's own */
	char *running_text;             /* JSON published with the heartbeat, or NULL */
	int64_t seen_ms;                /* newest lease stamp read (database clock) */
	int64_t poll_at_ms;             /* monotonic: the next read of the leases */
};

static int64_t
mono_ms(void)
{
	return (int64_t)(clock_now_us() / 1000u);
}

static void
live_read(struct share_thread *t)
{
	char names[SPLIT_SERVERS_MAX][SPLIT_NAME_MAX];
	char subnets[SPLIT_SERVERS_MAX][STORE_SERVER_SUBNETS_MAX];      /* 20 KiB */
	int n = store_servers_live(t->st, DHCP_SHARE_DEAD_MS, names, subnets, SPLIT_SERVERS_MAX);

	if (n < 0)
		return;                 /* the database does not answer: nothing new */
	pthread_mutex_lock(&t->lock);
	memcpy(t->live, names, (size_t)n * sizeof names[0]);
	memcpy(t->live_subnets, subnets, (size_t)n * sizeof subnets[0]);
	t->live_count = (size_t)n;
	t->live_new = true;
	pthread_mutex_unlock(&t->lock);
}

/* Room in the ring for the next read (the loop takes it every second). */
static size_t
learned_room(struct share_thread *t)
{
	pthread_mutex_lock(&t->lock);
	size_t room = SHARE_THREAD_LEARNED - t->learned_count;
	pthread_mutex_unlock(&t->lock);
	return room;
}

static void
lease_read(const struct store_lease *l, void *arg)
{
	struct share_thread *t = arg;

	pthread_mutex_lock(&t->lock);
	if (t->learned_count < SHARE_THREAD_LEARNED)
		t->learned[(t->learned_head + t->learned_count++) % SHARE_THREAD_LEARNED] = *l;
	pthread_mutex_unlock(&t->lock);
}

static void
leases_read(struct share_thread *t)
{
	size_t room = learned_room(t);
	int64_t last = t->seen_ms;

	if (room == 0)
		return;                 /* the loop has not taken the last read yet */
	room = MIN(room, (size_t)DHCP_SHARE_ROWS);
	int n = store_lease_changes(t->st, t->self, t->seen_ms - DHCP_SHARE_MARGIN_MS, room,
	    lease_read, t, &last);
	if (n == (int)room)
		t->seen_ms = last + DHCP_SHARE_MARGIN_MS;       /* more: go on after the last */
	else if (n > 0 && last > t->seen_ms)
		t->seen_ms = last;
}

/* What this server runs, for the next heartbeat: gathered by the
 * callback where it lives (the loop's TFTP sessions through the board,
 * the API's multicast sessions under their lock); the previous text is
 * kept when it cannot be made. */
static void
running_gather(struct share_thread *t)
{
	pthread_mutex_lock(&t->lock);
	share_running_fn *fn = t->running;
	void *arg = t->running_arg;
	pthread_mutex_unlock(&t->lock);
	if (fn == NULL)
		return;
	char *text = fn(arg, t->st);
	if (text == NULL)
		return;
	free(t->running_text);
	t->running_text = text;
}

/* One round: the heartbeat (with what this server runs), the live
 * servers, the others' leases. */
static void
share_round(struct share_thread *t)
{
	char subnets[STORE_SERVER_SUBNETS_MAX];

	pthread_mutex_lock(&t->lock);
	memcpy(subnets, t->subnets, sizeof subnets);
	pthread_mutex_unlock(&t->lock);
	if (t->seen_ms == 0 && !t->beat_only)
		t->seen_ms = store_now_ms(t->st);       /* dhcp_leases_load read what was before */
	(void)store_server_beat(t->st, t->self, t->running_text, subnets);
	if (!t->beat_only)
		live_read(t);
	if (!t->beat_only && mono_ms() >= t->poll_at_ms && t->seen_ms != 0) {
		leases_read(t);
		t->poll_at_ms = mono_ms() + DHCP_SHARE_POLL_S * 1000;
	}
	running_gather(t);      /* after the beat: a slow loop does not delay it */
}

static void *
share_main(void *arg)
{
	struct share_thread *t = arg;

	t->poll_at_ms = mono_ms() + DHCP_SHARE_POLL_S * 1000;
	for (;;) {
		share_round(t);
		pthread_mutex_lock(&t->lock);
		if (!t->first_done) {
			t->first_done = true;
			pthread_cond_signal(&t->gone);  /* share_thread_start waits for it */
		}
		struct timespec until;
		clock_deadline_ms(&until, 1000);
		while (!t->stop && pthread_cond_timedwait(&t->wake, &t->lock, &until) == 0)
			;
		bool stop = t->stop;
		pthread_mutex_unlock(&t->lock);
		if (stop)
			break;
	}
	pthread_mutex_lock(&t->lock);
	t->exited = true;
	pthread_cond_signal(&t->gone);
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void
share_free(struct share_thread *t)
{
	store_close(t->st);
	pthread_cond_destroy(&t->wake);
	pthread_cond_destroy(&t->gone);
	pthread_mutex_destroy(&t->lock);
	free(t->learned);
	free(t->running_text);
	free(t);
}

/* Start-up: the first round's heartbeat and list of live servers, so
 * that the server knows its buckets before it answers anyone. */
static void
first_round_wait(struct share_thread *t, unsigned ms)
{
	struct timespec until;
	int rc = 0;

	clock_deadline_ms(&until, ms);
	pthread_mutex_lock(&t->lock);
	while (!t->first_done && rc == 0)
		rc = pthread_cond_timedwait(&t->gone, &t->lock, &until);
	pthread_mutex_unlock(&t->lock);
}

static int
thread_start(struct share_thread **out, const char *where, const char *self,
    const char *subnets, bool beat_only)
{
	struct share_thread *t = calloc(1, sizeof *t);
	pthread_condattr_t ca;
	int rc;

	if (t == NULL || (t->learned = calloc(SHARE_THREAD_LEARNED, sizeof *t->learned)) == NULL) {
		free(t);
		return -ENOMEM;
	}
	str_copy(t->self, self, sizeof t->self);
	str_copy(t->subnets, subnets, sizeof t->subnets);
	t->beat_only = beat_only;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &ca);
	pthread_cond_init(&t->gone, &ca);
	pthread_condattr_destroy(&ca);
	rc = store_open(&t->st, where);
	if (rc == 0) {
		store_set_server(t->st, self);
		rc = -pthread_create(&t->thread, NULL, share_main, t);
	}
	if (rc != 0) {
		log_error("dhcp: the servers' heartbeat thread cannot start: %s", strerror(-rc));
		share_free(t);
		return rc;
	}
	first_round_wait(t, SHARE_THREAD_FIRST_MS);
	*out = t;
	return 0;
}

int
share_thread_start(struct share_thread **out, const char *where, const char *self,
    const char *subnets)
{
	return thread_start(out, where, self, subnets, false);
}

int
share_thread_start_beat(struct share_thread **out, const char *where, const char *self)
{
	return thread_start(out, where, self, "", true);
}

void
share_thread_stop(struct share_thread *t, unsigned timeout_ms)
{
	struct timespec until;
	int rc = 0;

	clock_deadline_ms(&until, timeout_ms);

	if (t == NULL)
		return;
	pthread_mutex_lock(&t->lock);
	t->stop = true;
	pthread_cond_signal(&t->wake);
	while (!t->exited && rc == 0)
		rc = pthread_cond_timedwait(&t->gone, &t->lock, &until);
	bool exited = t->exited;
	pthread_mutex_unlock(&t->lock);
	if (!exited) {
		log_error("dhcp: the servers' heartbeat thread did not finish within %u ms (the"
		    " database does not answer): left behind", timeout_ms);
		return;
	}
	pthread_join(t->thread, NULL);
	share_free(t);
}

bool
share_thread_take_live(struct share_thread *t, char (*names)[SPLIT_NAME_MAX],
    char (*subnets)[STORE_SERVER_SUBNETS_MAX], size_t *n)
{
	pthread_mutex_lock(&t->lock);
	bool got = t->live_new;
	if (got) {
		memcpy(names, t->live, t->live_count * sizeof t->live[0]);
		memcpy(subnets, t->live_subnets, t->live_count * sizeof t->live_subnets[0]);
		*n = t->live_count;
		t->live_new = false;
	}
	pthread_mutex_unlock(&t->lock);
	return got;
}

size_t
share_thread_take_learned(struct share_thread *t, struct store_lease *out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	while (n < max && t->learned_count > 0) {
		out[n++] = t->learned[t->learned_head];
		t->learned_head = (t->learned_head + 1) % SHARE_THREAD_LEARNED;
		t->learned_count--;
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

void
share_thread_set_running(struct share_thread *t, share_running_fn *fn, void *arg)
{
	pthread_mutex_lock(&t->lock);
	t->running = fn;
	t->running_arg = arg;
	pthread_mutex_unlock(&t->lock);
}

void
share_thread_set_subnets(struct share_thread *t, const char *subnets)
{
	pthread_mutex_lock(&t->lock);
	str_copy(t->subnets, subnets, sizeof t->subnets);
	pthread_mutex_unlock(&t->lock);
}
