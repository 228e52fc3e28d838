/* One store connection per libmicrohttpd worker thread, opened on first
 * use and closed when the thread ends (a pthread key's destructor), so
 * API calls and timeline events do not open the database per request. */
#include "api/internal.h"

#include <pthread.h>
#include <stddef.h>

#include "store/store.h"

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
close_store(void *p)
{
	store_close(p);
}

static void
make_key(void)
{
	(void)pthread_key_create(&key, close_store);
}

struct store *
api_thread_store(const char *where)
{
	struct store *st;

	if (where == NULL || where[0] == '\0')
		return NULL;
	(void)pthread_once(&once, make_key);
	st = pthread_getspecific(key);
	if (st != NULL)
		return st;
	if (store_open(&st, where) < 0)
		return NULL;
	if (pthread_setspecific(key, st) != 0) {
		store_close(st);
		return NULL;
	}
	return st;
}

void
api_thread_store_drop(void)
{
	struct store *st;

	(void)pthread_once(&once, make_key);
	st = pthread_getspecific(key);
	if (st == NULL)
		return;
	(void)pthread_setspecific(key, NULL);
	store_close(st);
}
