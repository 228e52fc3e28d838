/* The worker pool: ag->parallel threads, each with its own keep-alive
 * connection, and a once-a-second tick on the caller's thread. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/journal.h"

struct pool {
	struct agent *ag;
	pool_work_fn *work;
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t done;
	unsigned running;
};

struct pool_thread {
	struct pool *pool;
	struct api_conn *conn;
};

static void *
pool_thread_main(void *p)
{
	struct pool_thread *t = p;
	struct pool *pool = t->pool;

	pool->work(pool->arg, t->conn);
	pthread_mutex_lock(&pool->lock);
	pool->running--;
	pthread_cond_signal(&pool->done);
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* Waits for the workers, ticking every second. */
static void
pool_wait(struct pool *pool, pool_tick_fn *tick)
{
	struct timespec deadline;

	pthread_mutex_lock(&pool->lock);
	while (pool->running > 0) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 1;
		if (pthread_cond_timedwait(&pool->done, &pool->lock, &deadline) == ETIMEDOUT &&
		    tick != NULL) {
			pthread_mutex_unlock(&pool->lock);
			tick(pool->arg);
			pthread_mutex_lock(&pool->lock);
		}
	}
	pthread_mutex_unlock(&pool->lock);
}

static int
conns_open(struct agent *ag)
{
	for (unsigned i = 0; i < ag->parallel; i++) {
		if (ag->worker[i].curl == NULL && api_conn_open(&ag->worker[i], &ag->api) < 0)
			return -ENOMEM;
		/* a failure or a cancel ends the workers' transfers at once */
		ag->worker[i].abort_on_stop = true;
	}
	return 0;
}

int
pool_run(struct agent *ag, pool_work_fn *work, pool_tick_fn *tick, void *arg)
{
	struct pool pool = { .ag = ag, .work = work, .arg = arg };
	struct pool_thread threads[AGENT_PARALLEL_MAX];
	pthread_t ids[AGENT_PARALLEL_MAX];
	unsigned started = 0;

	if (conns_open(ag) < 0)
		return agent_fail(ag, "out of memory for connections");
	pthread_mutex_init(&pool.lock, NULL);
	pthread_cond_init(&pool.done, NULL);
	for (; started < ag->parallel; started++) {
		threads[started] = (struct pool_thread){ &pool, &ag->worker[started] };
		pthread_mutex_lock(&pool.lock);
		pool.running++;
		pthread_mutex_unlock(&pool.lock);
		if (pthread_create(&ids[started], NULL, pool_thread_main, &threads[started]) != 0) {
			pool.running--;
			agent_fail(ag, "cannot start a worker thread");
			break;
		}
	}
	pool_wait(&pool, tick);
	for (unsigned i = 0; i < started; i++)
		pthread_join(ids[i], NULL);
	pthread_cond_destroy(&pool.done);
	pthread_mutex_destroy(&pool.lock);
	return atomic_load(&ag->stop) ? -EIO : 0;
}
