/* See board.h. */
#include "dhcp/board.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

struct dhcp_board {
	pthread_mutex_t lock;
	pthread_cond_t answered;
	void (*wake)(void *arg);
	void *wake_arg;
	bool closed;                    /* the loop is stopping: asks fail at once */
	unsigned pending;               /* BOARD_* asked since the last take */
	uint64_t asked, done;           /* tickets */
	uint64_t reload_asked, reload_done;     /* reloads' tickets */
	int rc;                         /* of the newest reload */
	char msg[512];
	bool reload_dhcp;               /* DHCP was on at the newest reload */
	bool have_views;
	struct dhcp_views views;
	struct {                        /* BOARD_CONFIG, BOARD_TRANSFERS: the newest */
		void *data;
		size_t len;
	} snapshot[2];
};

/* The snapshot slot of a BOARD_* bit, or -1. */
static int
snapshot_slot(unsigned what)
{
	return what == BOARD_CONFIG ? 0 : what == BOARD_TRANSFERS ? 1 : -1;
}

int
board_create(struct dhcp_board **out, void (*wake)(void *arg), void *arg)
{
	struct dhcp_board *b = calloc(1, sizeof *b);
	pthread_condattr_t ca;

	if (b == NULL)
		return -ENOMEM;
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->answered, &ca);
	pthread_condattr_destroy(&ca);
	b->wake = wake;
	b->wake_arg = arg;
	*out = b;
	return 0;
}

void
board_free(struct dhcp_board *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(b->snapshot); i++)
		free(b->snapshot[i].data);
	pthread_cond_destroy(&b->answered);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

void
board_close(struct dhcp_board *b)
{
	pthread_mutex_lock(&b->lock);
	b->closed = true;
	pthread_cond_broadcast(&b->answered);
	pthread_mutex_unlock(&b->lock);
}

unsigned
board_take(struct dhcp_board *b, uint64_t *ticket, uint64_t *reload_ticket)
{
	pthread_mutex_lock(&b->lock);
	unsigned what = b->pending;
	b->pending = 0;
	*ticket = b->asked;
	*reload_ticket = b->reload_asked;
	pthread_mutex_unlock(&b->lock);
	return what;
}

void
board_done(struct dhcp_board *b, uint64_t ticket, const struct dhcp_views *views)
{
	pthread_mutex_lock(&b->lock);
	b->have_views = views != NULL;
	if (views != NULL)
		b->views = *views;
	if (ticket > b->done)
		b->done = ticket;
	pthread_cond_broadcast(&b->answered);
	pthread_mutex_unlock(&b->lock);
}

void
board_reload_done(struct dhcp_board *b, uint64_t reload_ticket, int rc, const char *msg,
    bool dhcp)
{
	pthread_mutex_lock(&b->lock);
	b->rc = rc;
	str_copy(b->msg, msg, sizeof b->msg);
	b->reload_dhcp = dhcp;
	if (reload_ticket > b->reload_done)
		b->reload_done = reload_ticket;
	pthread_cond_broadcast(&b->answered);
	pthread_mutex_unlock(&b->lock);
}

void
board_put(struct dhcp_board *b, unsigned what, void *data, size_t len)
{
	int slot = snapshot_slot(what);
	void *old;

	if (slot < 0) {
		free(data);
		return;
	}
	pthread_mutex_lock(&b->lock);
	old = b->snapshot[slot].data;
	b->snapshot[slot].data = data;
	b->snapshot[slot].len = data != NULL ? len : 0;
	pthread_mutex_unlock(&b->lock);
	free(old);
}

/* Post what, wake the loop and wait (bounded) until a turn answered it:
 * returns with the lock held, 0 when answered, -ECANCELED or -ETIMEDOUT. */
static int
ask_and_wait(struct dhcp_board *b, unsigned what)
{
	struct timespec until;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ((what & BOARD_RELOAD) ? BOARD_RELOAD_WAIT_MS : BOARD_WAIT_MS) / 1000;
	pthread_mutex_lock(&b->lock);
	if (b->closed)
		return -ECANCELED;
	b->pending |= what;
	uint64_t mine = (what & ~BOARD_RELOAD) ? ++b->asked : 0;
	uint64_t mine_reload = (what & BOARD_RELOAD) ? ++b->reload_asked : 0;
	pthread_mutex_unlock(&b->lock);
	b->wake(b->wake_arg);
	pthread_mutex_lock(&b->lock);
	while ((b->done < mine || b->reload_done < mine_reload) && !b->closed && rc == 0)
		rc = pthread_cond_timedwait(&b->answered, &b->lock, &until);
	if (b->done >= mine && b->reload_done >= mine_reload)
		return 0;
	return b->closed ? -ECANCELED : -ETIMEDOUT;
}

int
board_ask_snapshot(struct dhcp_board *b, unsigned what, void **data, size_t *len)
{
	int slot = snapshot_slot(what);
	int rc = slot < 0 ? -EINVAL : ask_and_wait(b, what);

	*data = NULL;
	*len = 0;
	if (rc == 0 && b->snapshot[slot].data == NULL)
		rc = -ENOMEM;
	if (rc == 0 && (*data = malloc(MAX(b->snapshot[slot].len, (size_t)1))) == NULL)
		rc = -ENOMEM;
	if (rc == 0) {
		memcpy(*data, b->snapshot[slot].data, b->snapshot[slot].len);
		*len = b->snapshot[slot].len;
	}
	if (slot >= 0)
		pthread_mutex_unlock(&b->lock);
	return rc;
}

int
board_ask(struct dhcp_board *b, unsigned what, char *msg, size_t msg_size,
    struct dhcp_views *views)
{
	int rc = ask_and_wait(b, what);

	if (rc == -ECANCELED) {
		str_copy(msg, "pxed is stopping", msg_size);
	} else if (rc == 0) {
		if (what & BOARD_RELOAD)
			rc = !b->reload_dhcp ? -ENOTSUP : b->rc;
		else
			rc = !b->have_views ? -ENOTSUP : 0;
		str_copy(msg, b->msg, msg_size);
		if (views != NULL && b->have_views)
			*views = b->views;
	} else {
		str_copy(msg, "the server did not answer in time", msg_size);
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}
