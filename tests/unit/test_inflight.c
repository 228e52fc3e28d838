/* The table of HTTP downloads in flight (core/inflight.c) on real TCP
 * sockets over loopback: a download's bytes are those the peer's TCP
 * acknowledged since it began (earlier bytes on the same connection do
 * not count), at most its total; its rate from the marks
 * inflight_sample notes; a full table counts the rest as untracked; an
 * ended download leaves; oldest first. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/inflight.h"

struct pair {
	int server, client;             /* the server's end sends */
};

static void
pair_open(struct pair *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	p->client = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(p->client, (struct sockaddr *)&sa, sizeof sa), 0);
	p->server = accept(l, NULL, NULL);
	assert_true(p->server >= 0);
	close(l);
}

static void
pair_close(struct pair *p)
{
	close(p->server);
	close(p->client);
}

/* Send n bytes from the server's end and read them at the client's. */
static void
pair_move(struct pair *p, size_t n)
{
	static char buf[65536];

	for (size_t sent = 0; sent < n;) {
		ssize_t w = send(p->server, buf, n - sent < sizeof buf ? n - sent : sizeof buf, 0);
		assert_true(w > 0);
		for (ssize_t got = 0; got < w;) {
			ssize_t r = recv(p->client, buf, (size_t)(w - got), 0);
			assert_true(r > 0);
			got += r;
		}
		sent += (size_t)w;
	}
}

/* The listed download of file (its view), waiting up to 1 s for its
 * bytes to reach want (the peer's ACKs). */
static struct inflight_view
listed(struct inflight *t, const char *file, uint64_t want)
{
	struct inflight_view v[8];
	size_t more;

	for (int tries = 0; tries < 100; tries++) {
		size_t n = inflight_list(t, v, 8, &more);
		for (size_t i = 0; i < n; i++)
			if (strcmp(v[i].file, file) == 0 && (v[i].bytes >= want || tries == 99))
				return v[i];
		usleep(10000);
	}
	fail_msg("%s not listed", file);
	return v[0];
}

static void
test_progress(void **state)
{
	struct inflight *t;
	struct pair p;
	struct in_addr peer = { htonl(0xc0000202) };
	struct inflight_view v;

	(void)state;
	assert_int_equal(inflight_create(&t, 4), 0);
	pair_open(&p);
	pair_move(&p, 5000);            /* an earlier answer on the connection */
	usleep(50000);
	uint32_t k = inflight_begin(t, p.server, "192.0.2.2:4000", peer, "boot/a.efi", 300000);
	assert_true(k != 0 && k != INFLIGHT_UNTRACKED);
	v = listed(t, "boot/a.efi", 0);
	assert_true(v.bytes_known);
	assert_int_equal(v.bytes, 0);   /* the earlier 5000 do not count */
	assert_int_equal(v.total, 300000);
	assert_string_equal(v.peer, "192.0.2.2:4000");
	assert_int_equal(v.peer4.s_addr, peer.s_addr);
	usleep(20000);
	pair_move(&p, 100000);
	v = listed(t, "boot/a.efi", 100000);
	assert_int_equal(v.bytes, 100000);
	assert_true(v.rate > 0 && v.rate <= 100000 * 1000 / 20);   /* since the start */
	inflight_sample(t);             /* marks: 100000 now, */
	usleep(100000);
	inflight_sample(t);             /* 100000 0.1 s later: nothing moved since */
	v = listed(t, "boot/a.efi", 100000);
	assert_int_equal(v.rate, 0);
	pair_move(&p, 250000);          /* more than the total: capped */
	v = listed(t, "boot/a.efi", 300000);
	assert_int_equal(v.bytes, 300000);
	assert_true(v.rate > 0);        /* 200000 since the older mark */
	inflight_end(t, k);
	size_t more;
	assert_int_equal(inflight_list(t, &v, 1, &more), 0);
	assert_int_equal(more, 0);
	pair_close(&p);
	inflight_free(t);
}

static void
test_bounds(void **state)
{
	struct inflight *t;
	struct inflight_view v[4];
	struct in_addr none = { 0 };
	uint32_t k[4];
	size_t more;

	(void)state;
	assert_int_equal(inflight_create(&t, 2), 0);
	k[0] = inflight_begin(t, -1, "a", none, "first", 10);
	usleep(2000);
	k[1] = inflight_begin(t, -1, "b", none, "second", 10);
	k[2] = inflight_begin(t, -1, "c", none, "third", 10);   /* full */
	assert_int_equal(k[2], INFLIGHT_UNTRACKED);
	assert_int_equal(inflight_list(t, v, 4, &more), 2);
	assert_int_equal(more, 1);                              /* the untracked one */
	assert_string_equal(v[0].file, "first");                /* oldest first */
	assert_false(v[0].bytes_known);                         /* no socket: no count */
	assert_int_equal(inflight_list(t, v, 1, &more), 1);
	assert_int_equal(more, 2);                              /* over max, and untracked */
	inflight_end(t, k[2]);
	inflight_end(t, k[0]);
	inflight_end(t, k[0]);                                  /* twice: nothing */
	inflight_end(t, 0);                                     /* never begun */
	k[3] = inflight_begin(t, -1, "d", none, "fourth", 10);  /* the freed slot */
	assert_true(k[3] != INFLIGHT_UNTRACKED);
	assert_int_equal(inflight_list(t, v, 4, &more), 2);
	assert_int_equal(more, 0);
	assert_int_equal(inflight_begin(NULL, -1, "e", none, "x", 1), 0);      /* no table */
	inflight_end(NULL, 1);
	inflight_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
