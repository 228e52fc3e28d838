/* The board between the API's threads and the loop (dhcp/board.c): an ask
 * wakes the loop, which answers it; asks that wait together get one
 * answer; a reload's result reaches the asker when the reload is done,
 * after the turn that answered the other asks; DHCP off; snapshots (a
 * copy of what the loop made, with DHCP off too; none made: -ENOMEM); a
 * closed board (the 10 s timeout is not waited for here).  The "loop" here is a thread woken by the wake callback. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dhcp/board.h"

struct fake_loop {
	pthread_mutex_t lock;
	pthread_cond_t woken;
	unsigned wakes;
	bool stop, answer, dhcp_off, no_memory;
	bool split;                     /* a reload answered, then a turn without one */
	unsigned snapshots;             /* made: its number is the snapshot's text */
	int reload_rc;
	unsigned turns, reloads;
	struct dhcp_board *b;
	pthread_t thread;
};

static void
wake(void *arg)
{
	struct fake_loop *l = arg;

	pthread_mutex_lock(&l->lock);
	l->wakes++;
	pthread_cond_signal(&l->woken);
	pthread_mutex_unlock(&l->lock);
}

static void *
loop_main(void *arg)
{
	struct fake_loop *l = arg;
	static struct dhcp_views views;

	pthread_mutex_lock(&l->lock);
	while (!l->stop) {
		if (l->wakes == 0 || !l->answer) {
			pthread_cond_wait(&l->woken, &l->lock);
			continue;
		}
		l->wakes = 0;
		pthread_mutex_unlock(&l->lock);
		uint64_t ticket, reload_ticket;
		unsigned what = board_take(l->b, &ticket, &reload_ticket);
		usleep(20000);          /* asks arriving meanwhile wait for the next turn */
		if (what & BOARD_CONFIG) {
			char *text = l->no_memory ? NULL : malloc(32);
			pthread_mutex_lock(&l->lock);
			unsigned n = ++l->snapshots;
			pthread_mutex_unlock(&l->lock);
			if (text != NULL)
				snprintf(text, 32, "snapshot %u", n);
			board_put(l->b, BOARD_CONFIG, text, 32);
		}
		views.subnet_count = 1;
		strcpy(views.subnet[0].cidr, "198.51.100.0/24");
		/* split: the turn answers its other asks first, the reload
		 * (its store reads off the loop) later */
		if (!l->split && (what & BOARD_RELOAD))
			board_reload_done(l->b, reload_ticket, l->reload_rc, "reloaded", !l->dhcp_off);
		board_done(l->b, ticket, l->dhcp_off ? NULL : &views);
		if (l->split && (what & BOARD_RELOAD)) {
			usleep(50000);
			board_reload_done(l->b, reload_ticket, l->reload_rc, "reloaded", !l->dhcp_off);
		}
		pthread_mutex_lock(&l->lock);
		l->turns++;
		l->reloads += (what & BOARD_RELOAD) != 0;
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

static struct fake_loop loop;

static unsigned
loop_count(const unsigned *counter)
{
	pthread_mutex_lock(&loop.lock);
	unsigned n = *counter;
	pthread_mutex_unlock(&loop.lock);
	return n;
}

static int
setup(void **state)
{
	(void)state;
	memset(&loop, 0, sizeof loop);
	pthread_mutex_init(&loop.lock, NULL);
	pthread_cond_init(&loop.woken, NULL);
	loop.answer = true;
	if (board_create(&loop.b, wake, &loop) != 0)
		return -1;
	return pthread_create(&loop.thread, NULL, loop_main, &loop);
}

static int
teardown(void **state)
{
	(void)state;
	pthread_mutex_lock(&loop.lock);
	loop.stop = true;
	pthread_cond_signal(&loop.woken);
	pthread_mutex_unlock(&loop.lock);
	pthread_join(loop.thread, NULL);
	board_free(loop.b);
	return 0;
}

static void *
ask_views(void *arg)
{
	static struct dhcp_views v[8];
	char msg[64];
	intptr_t i = (intptr_t)arg;

	return (void *)(intptr_t)board_ask(loop.b, BOARD_VIEWS, msg, sizeof msg, &v[i]);
}

static void
test_ask_and_answer(void **state)
{
	static struct dhcp_views v;
	char msg[64];
	pthread_t t[8];

	(void)state;
	assert_int_equal(board_ask(loop.b, BOARD_VIEWS, msg, sizeof msg, &v), 0);
	assert_int_equal(v.subnet_count, 1);
	assert_string_equal(v.subnet[0].cidr, "198.51.100.0/24");
	loop.reload_rc = -EINVAL;
	assert_int_equal(board_ask(loop.b, BOARD_RELOAD, msg, sizeof msg, NULL), -EINVAL);
	assert_string_equal(msg, "reloaded");
	loop.reload_rc = 0;
	assert_int_equal(board_ask(loop.b, BOARD_RELOAD, msg, sizeof msg, NULL), 0);
	/* a reload's asker waits for the reload, not for the turn that
	 * answered the other asks: its refusal reaches it */
	loop.reload_rc = -EINVAL;
	loop.split = true;
	assert_int_equal(board_ask(loop.b, BOARD_RELOAD, msg, sizeof msg, NULL), -EINVAL);
	assert_string_equal(msg, "reloaded");
	loop.split = false;
	loop.reload_rc = 0;
	/* eight threads at once: all answered, in fewer turns than asks */
	unsigned before = loop_count(&loop.turns);
	for (intptr_t i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, ask_views, (void *)i), 0);
	for (int i = 0; i < 8; i++) {
		void *rc;
		pthread_join(t[i], &rc);
		assert_int_equal((intptr_t)rc, 0);
	}
	assert_true(loop_count(&loop.turns) - before < 8);
	loop.dhcp_off = true;
	assert_int_equal(board_ask(loop.b, BOARD_VIEWS, msg, sizeof msg, &v), -ENOTSUP);
}

static void *
ask_config(void *arg)
{
	void *data;
	size_t len;

	(void)arg;
	int rc = board_ask_snapshot(loop.b, BOARD_CONFIG, &data, &len);
	if (rc == 0 && (len != 32 || strncmp(data, "snapshot ", 9) != 0))
		rc = -EINVAL;
	free(data);
	return (void *)(intptr_t)rc;
}

static void
test_snapshots(void **state)
{
	void *data;
	size_t len;
	pthread_t t[8];

	(void)state;
	loop.dhcp_off = true;           /* snapshots do not need DHCP */
	assert_int_equal(board_ask_snapshot(loop.b, BOARD_CONFIG, &data, &len), 0);
	assert_int_equal(len, 32);
	assert_string_equal(data, "snapshot 1");
	free(data);
	assert_int_equal(board_ask_snapshot(loop.b, BOARD_CONFIG, &data, &len), 0);
	assert_string_equal(data, "snapshot 2");        /* a new one for a new ask */
	free(data);
	for (intptr_t i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, ask_config, NULL), 0);
	for (int i = 0; i < 8; i++) {
		void *rc;
		pthread_join(t[i], &rc);
		assert_int_equal((intptr_t)rc, 0);
	}
	assert_true(loop_count(&loop.snapshots) < 2 + 8);       /* shared turns */
	loop.no_memory = true;
	assert_int_equal(board_ask_snapshot(loop.b, BOARD_CONFIG, &data, &len), -ENOMEM);
	assert_null(data);
	assert_int_equal(board_ask_snapshot(loop.b, BOARD_VIEWS, &data, &len), -EINVAL);
	board_close(loop.b);
	assert_int_equal(board_ask_snapshot(loop.b, BOARD_CONFIG, &data, &len), -ECANCELED);
}

static void
test_closed(void **state)
{
	char msg[64];

	(void)state;
	board_close(loop.b);
	assert_int_equal(board_ask(loop.b, BOARD_RELOAD, msg, sizeof msg, NULL), -ECANCELED);
	assert_int_equal(loop_count(&loop.reloads), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ask_and_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
