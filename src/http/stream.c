/* Responses made as they are sent.  See stream.h.
 *
 * libmicrohttpd calls the content reader when the socket can take more;
 * a reader with nothing to send would be called again at once (a busy
 * loop), so it suspends its connection instead and returns 0, and a wake
 * resumes it.  A wake that comes between the stream's "nothing" and the
 * suspension would be lost: each wake bumps a generation, and a reader
 * that sees the generation moved since it asked does not park. */
#include "http/stream.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "core/bus.h"
#include "core/log.h"

#define TICK_S 5                        /* keepalives: 10 s idle + a tick <= 15 s */

struct parked {
	struct http_streams *hs;
	struct MHD_Connection *conn;
	struct api_stream s;
	bool suspended;
	struct parked *prev, *next;     /* on the parked list while suspended */
};

struct http_streams {
	pthread_mutex_t lock;
	pthread_cond_t tick;
	struct parked *head;
	uint64_t gen;                   /* wakes so far */
	bool stopping;
	pthread_t ticker;
};

static void
unlink_parked(struct http_streams *hs, struct parked *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		hs->head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
	p->suspended = false;
}

/* Resume every parked connection (lock held). */
static void
resume_all(struct http_streams *hs)
{
	hs->gen++;
	while (hs->head != NULL) {
		struct parked *p = hs->head;
		unlink_parked(hs, p);
		MHD_resume_connection(p->conn);
	}
}

static void
wake(void *arg)
{
	struct http_streams *hs = arg;

	pthread_mutex_lock(&hs->lock);
	resume_all(hs);
	pthread_mutex_unlock(&hs->lock);
}

static void *
ticker_main(void *arg)
{
	struct http_streams *hs = arg;
	struct timespec ts;

	pthread_mutex_lock(&hs->lock);
	while (!hs->stopping) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += TICK_S;
		pthread_cond_timedwait(&hs->tick, &hs->lock, &ts);
		resume_all(hs);
	}
	pthread_mutex_unlock(&hs->lock);
	return NULL;
}

static ssize_t
reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct parked *p = cls;
	struct http_streams *hs = p->hs;
	uint64_t gen;
	long n;

	(void)pos;
	pthread_mutex_lock(&hs->lock);
	gen = hs->gen;
	if (hs->stopping) {
		pthread_mutex_unlock(&hs->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	pthread_mutex_unlock(&hs->lock);
	n = p->s.read(p->s.ctx, buf, max);
	if (n != 0)
		return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
	pthread_mutex_lock(&hs->lock);
	if (hs->gen == gen && !hs->stopping) {
		p->next = hs->head;
		if (hs->head != NULL)
			hs->head->prev = p;
		hs->head = p;
		p->suspended = true;
		MHD_suspend_connection(p->conn);
	}
	pthread_mutex_unlock(&hs->lock);
	return 0;
}

static void
reader_free(void *cls)
{
	struct parked *p = cls;
	struct http_streams *hs = p->hs;

	pthread_mutex_lock(&hs->lock);
	if (p->suspended)
		unlink_parked(hs, p);
	pthread_mutex_unlock(&hs->lock);
	p->s.done(p->s.ctx);
	free(p);
}

struct MHD_Response *
http_stream_response(struct http_streams *hs, struct MHD_Connection *conn,
    struct api_stream *s)
{
	struct parked *p = hs != NULL ? calloc(1, sizeof *p) : NULL;
	struct MHD_Response *resp;

	if (p == NULL) {
		s->done(s->ctx);
		return NULL;
	}
	*p = (struct parked){ .hs = hs, .conn = conn, .s = *s };
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, p, reader_free);
	if (resp == NULL) {
		s->done(s->ctx);
		free(p);
	}
	return resp;
}

struct http_streams *
http_streams_start(void)
{
	struct http_streams *hs = calloc(1, sizeof *hs);

	if (hs == NULL)
		return NULL;
	pthread_mutex_init(&hs->lock, NULL);
	pthread_cond_init(&hs->tick, NULL);
	if (pthread_create(&hs->ticker, NULL, ticker_main, hs) != 0) {
		pthread_cond_destroy(&hs->tick);
		pthread_mutex_destroy(&hs->lock);
		free(hs);
		return NULL;
	}
	bus_set_notify(wake, hs);
	return hs;
}

void
http_streams_stop(struct http_streams *hs)
{
	if (hs == NULL)
		return;
	bus_set_notify(NULL, NULL);
	pthread_mutex_lock(&hs->lock);
	hs->stopping = true;
	resume_all(hs);
	pthread_cond_signal(&hs->tick);
	pthread_mutex_unlock(&hs->lock);
	pthread_join(hs->ticker, NULL);
}

/* The list and the lock outlive the daemons' last reader_free: freed by
 * http_streams_free after MHD_stop_daemon. */
void
http_streams_free(struct http_streams *hs)
{
	if (hs == NULL)
		return;
	pthread_cond_destroy(&hs->tick);
	pthread_mutex_destroy(&hs->lock);
	free(hs);
}
