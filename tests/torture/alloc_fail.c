/*
 * Allocation failure injection for the torture build (build/torture/pxed,
 * `make torture`; curl's "torture" idea).  Linked only into that binary,
 * with -Wl,--wrap for every allocation function pxed's own code calls:
 * those calls come here, are counted, and the Nth one after start-up fails
 * (returns NULL, errno ENOMEM) when PXED_FAIL_ALLOC=N; every other one goes
 * to the real function (ASan's).  The libraries that let a program choose
 * their allocator are given these counting functions too: jansson
 * (json_set_alloc_funcs) and libuv (uv_replace_allocator); SQLite's too
 * (SQLITE_CONFIG_MALLOC around its own) when PXED_FAIL_ALLOC_SQLITE=1: a
 * statement makes dozens, so they would swamp the count of pxed's own if
 * always counted.  libmicrohttpd and libcrypto call malloc from their
 * shared objects, which --wrap cannot reach: they are not counted.
 *
 * Counting starts when pxed calls alloc_fail_arm() after its services
 * started (a weak symbol in src/pxed/main.c: absent from every other
 * build).  PXED_FAIL_ALLOC=0 only counts.  At exit one line gives the
 * count: "alloc-fail: N allocations counted after start-up".  The failed
 * allocation is reported with its stack (ASan's unwinder), so the place
 * that did not cope is named by the log that shows it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>
#include <uv.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_reallocarray(void *p, size_t k, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_reallocarray(void *p, size_t k, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
int __wrap_asprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void alloc_fail_arm(void);
void __sanitizer_print_stack_trace(void);

static sqlite3_mem_methods lite_real;   /* SQLite's own allocator */
static long fail_at = -1;               /* -1: no injection; 0: count only */
static atomic_bool armed;
static atomic_long counted;

/* The counting step of every allocation: true when this one must fail. */
static bool
alloc_fail_take(const char *what, size_t size)
{
	char line[128];
	long n;
	int len;

	if (!atomic_load_explicit(&armed, memory_order_relaxed))
		return false;
	n = atomic_fetch_add(&counted, 1) + 1;
	if (n != fail_at)
		return false;
	len = snprintf(line, sizeof(line), "alloc-fail: allocation %ld failed (%s of %zu bytes)\n",
	    n, what, size);
	if (len > 0)
		(void)!write(STDERR_FILENO, line, (size_t)len < sizeof(line) ? (size_t)len :
		    sizeof(line) - 1);
	__sanitizer_print_stack_trace();
	errno = ENOMEM;
	return true;
}

void *
__wrap_malloc(size_t n)
{
	return alloc_fail_take("malloc", n) ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t k, size_t n)
{
	return alloc_fail_take("calloc", k * n) ? NULL : __real_calloc(k, n);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return alloc_fail_take("realloc", n) ? NULL : __real_realloc(p, n);
}

void *
__wrap_reallocarray(void *p, size_t k, size_t n)
{
	return alloc_fail_take("reallocarray", k * n) ? NULL : __real_reallocarray(p, k, n);
}

void *
__wrap_aligned_alloc(size_t a, size_t n)
{
	return alloc_fail_take("aligned_alloc", n) ? NULL : __real_aligned_alloc(a, n);
}

char *
__wrap_strdup(const char *s)
{
	return alloc_fail_take("strdup", strlen(s) + 1) ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	return alloc_fail_take("strndup", n) ? NULL : __real_strndup(s, n);
}

int
__wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
	if (alloc_fail_take("vasprintf", 0))
		return -1;
	return __real_vasprintf(out, fmt, ap);
}

int
__wrap_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (alloc_fail_take("asprintf", 0))
		return -1;
	va_start(ap, fmt);
	rc = __real_vasprintf(out, fmt, ap);
	va_end(ap);
	return rc;
}

static void *
lite_malloc(int n)
{
	return alloc_fail_take("sqlite3 malloc", (size_t)n) ? NULL : lite_real.xMalloc(n);
}

static void *
lite_realloc(void *p, int n)
{
	return alloc_fail_take("sqlite3 realloc", (size_t)n) ? NULL : lite_real.xRealloc(p, n);
}

/* SQLite's allocations through the counter (before its initialisation) */
static void
alloc_fail_sqlite(void)
{
	sqlite3_mem_methods m;

	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &lite_real) != SQLITE_OK)
		return;
	m = lite_real;
	m.xMalloc = lite_malloc;
	m.xRealloc = lite_realloc;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &m) != SQLITE_OK)
		fprintf(stderr, "alloc-fail: SQLite's allocator not replaced\n");
}

/* Called by pxed once its services run: allocations count from here. */
void
alloc_fail_arm(void)
{
	if (fail_at >= 0)
		atomic_store(&armed, true);
}

static void
alloc_fail_report(void)
{
	char line[96];
	int len;

	if (fail_at < 0)
		return;
	len = snprintf(line, sizeof(line), "alloc-fail: %ld allocations counted after start-up\n",
	    atomic_load(&counted));
	if (len > 0)
		(void)!write(STDERR_FILENO, line, (size_t)len);
}

/* Before main: the setting, and the libraries' allocators (before any of
 * their allocations). */
__attribute__((constructor)) static void
alloc_fail_init(void)
{
	const char *v = getenv("PXED_FAIL_ALLOC");
	char *end;

	json_set_alloc_funcs(__wrap_malloc, free);
	uv_replace_allocator(__wrap_malloc, __wrap_realloc, __wrap_calloc, free);
	if (v == NULL || *v == '\0')
		return;
	errno = 0;
	fail_at = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || fail_at < 0) {
		fprintf(stderr, "alloc-fail: PXED_FAIL_ALLOC=%s is not a count\n", v);
		_exit(2);
	}
	v = getenv("PXED_FAIL_ALLOC_SQLITE");
	if (v != NULL && strcmp(v, "1") == 0)
		alloc_fail_sqlite();
	atexit(alloc_fail_report);
}
