/* store-allocs: heap allocations the state store makes per lease write and
 * per boot event, counted in this process (malloc, calloc and realloc are
 * interposed here and passed on to glibc's, so SQLite's, libpq's and the
 * store's own calls are all seen).
 *
 *   build/bench/store-allocs [--where DIR|URL] [--count N] [--batch B]
 *                            [--event-batch E]
 *
 * --where: the store (a directory for SQLite, default a new one in /tmp,
 * removed after; or a postgresql:// URL).  Three phases of N operations
 * (default 20000) on 245 addresses / MACs, after one warm-up round each:
 *   lease   store_lease_put, store_commit after every B (default 1: one
 *           ACK per batch, as at low rates)
 *   queue   store_event_add ("dhcp-ack"): the in-memory queue and the
 *           bus's message
 *   flush   store_events_flush after every E queued events (default 256):
 *           the SQL of the events
 * One line per phase on stdout:
 *   store-allocs: engine=sqlite phase=flush ops=20000 allocs_per_op=3.01 bytes_per_op=812
 * (bytes: requested by malloc/calloc/realloc; every one of them is freed
 * again, which is what fills ASan's quarantine).  posix_memalign and
 * aligned_alloc are not counted (a run on SQLite under gdb called neither). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

#define ADDRS 245
#define KEEP_FILES 4

/* glibc's own allocator, under the names it exports them by */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t m, size_t n);
extern void *__libc_realloc(void *p, size_t n);

static uint64_t allocs, bytes;

void *
malloc(size_t n)
{
	allocs++;
	bytes += n;
	return __libc_malloc(n);
}

void *
calloc(size_t m, size_t n)
{
	allocs++;
	bytes += m * n;
	return __libc_calloc(m, n);
}

void *
realloc(void *p, size_t n)
{
	allocs++;
	bytes += n;
	return __libc_realloc(p, n);
}

struct options {
	const char *where;
	long count;
	long batch;
	long event_batch;
};

static int
usage(void)
{
	fprintf(stderr, "usage: store-allocs [--where DIR|URL] [--count N] [--batch B]"
	    " [--event-batch E]\n");
	return 2;
}

static int
parse(int argc, char **argv, struct options *o)
{
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long *n = NULL;

		if (strcmp(argv[i], "--where") == 0 && v != NULL)
			o->where = v;
		else if (strcmp(argv[i], "--count") == 0 && v != NULL)
			n = &o->count;
		else if (strcmp(argv[i], "--batch") == 0 && v != NULL)
			n = &o->batch;
		else if (strcmp(argv[i], "--event-batch") == 0 && v != NULL)
			n = &o->event_batch;
		else
			return -1;
		if (n != NULL && ((*n = strtol(v, NULL, 10)) < 1 || *n > 10000000))
			return -1;
		i++;
	}
	return 0;
}

static void
lease_of(long i, struct store_lease *l)
{
	memset(l, 0, sizeof *l);
	l->address.s_addr = htonl(0xc0000200u + 10 + (uint32_t)(i % ADDRS));   /* 192.0.2.10.. */
	l->mac_len = 6;
	memcpy(l->mac, "\x02\x00\x5e\x00\x00", 5);
	l->mac[5] = (uint8_t)(i % ADDRS);
	l->state = LEASE_BOUND;
	l->starts = 1800000000 + i;
	l->expires = l->starts + 43200;
	snprintf(l->hostname, sizeof l->hostname, "client-%ld", i % ADDRS);
}

static int
leases(struct store *st, long from, long n, long batch)
{
	struct store_lease l;

	for (long i = from; i < from + n; i++) {
		lease_of(i, &l);
		if (store_lease_put(st, &l) < 0)
			return -EIO;
		if ((i + 1) % batch == 0 && store_commit(st) < 0)
			return -EIO;
	}
	return store_commit(st);
}

static int
events(struct store *st, long from, long n)
{
	struct store_lease l;
	char detail[32];

	for (long i = from; i < from + n; i++) {
		lease_of(i, &l);
		snprintf(detail, sizeof detail, "%s", inet_ntoa(l.address));
		if (store_event_add(st, l.mac, l.mac_len, "dhcp-ack", detail,
		    1800000000000 + i) < 0)
			return -EIO;
	}
	return 0;
}

/* The queue and its flush measured apart: queue E events (counted as
 * "queue"), then flush them (counted as "flush"), over and over. */
static int
phase_events(struct store *st, const struct options *o, uint64_t q[2], uint64_t f[2])
{
	for (long done = 0; done < o->count; done += o->event_batch) {
		long n = o->event_batch < o->count - done ? o->event_batch : o->count - done;
		uint64_t a0 = allocs, b0 = bytes;

		if (events(st, done, n) < 0)
			return -EIO;
		q[0] += allocs - a0;
		q[1] += bytes - b0;
		a0 = allocs;
		b0 = bytes;
		if (store_events_flush(st) < 0)
			return -EIO;
		f[0] += allocs - a0;
		f[1] += bytes - b0;
	}
	return 0;
}

static void
report(const struct store *st, const char *phase, long ops, const uint64_t c[2])
{
	printf("store-allocs: engine=%s phase=%s ops=%ld allocs_per_op=%.2f bytes_per_op=%.0f\n",
	    store_engine(st), phase, ops, (double)c[0] / (double)ops, (double)c[1] / (double)ops);
}

static int
measure(struct store *st, const struct options *o)
{
	uint64_t lease[2], queue[2] = { 0, 0 }, flush[2] = { 0, 0 };

	/* warm-up: every row there, every statement prepared and run once */
	if (leases(st, 0, ADDRS, 1) < 0 || events(st, 0, ADDRS) < 0 ||
	    store_events_flush(st) < 0)
		return -EIO;
	lease[0] = allocs;
	lease[1] = bytes;
	if (leases(st, ADDRS, o->count, o->batch) < 0)
		return -EIO;
	lease[0] = allocs - lease[0];
	lease[1] = bytes - lease[1];
	if (phase_events(st, o, queue, flush) < 0)
		return -EIO;
	report(st, "lease", o->count, lease);
	report(st, "queue", o->count, queue);
	report(st, "flush", o->count, flush);
	return 0;
}

static void
remove_dir(const char *dir)
{
	static const char *const names[KEEP_FILES] = { "pxed.db", "pxed.db-wal", "pxed.db-shm", "" };
	char path[512];

	for (size_t i = 0; i < KEEP_FILES && names[i][0] != '\0'; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	struct options o = { NULL, 20000, 1, 256 };
	char dir[] = "/tmp/store-allocs.XXXXXX";
	struct store *st = NULL;
	int rc;

	if (parse(argc, argv, &o) < 0)
		return usage();
	if (o.where == NULL) {
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		o.where = dir;
	}
	rc = store_open(&st, o.where);
	if (rc == 0) {
		rc = measure(st, &o);
		if (rc < 0)
			fprintf(stderr, "store-allocs: a store call failed\n");
		store_close(st);
	} else {
		fprintf(stderr, "store-allocs: cannot open %s: %s\n", o.where, strerror(-rc));
	}
	if (o.where == dir)
		remove_dir(dir);
	return rc == 0 ? 0 : 1;
}
