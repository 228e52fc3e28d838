/* A change the API has stored is answered as done, and its event goes out,
 * whichever allocation fails after it.  A real API (api_open) on a state
 * directory in /dev/shm (fuzz/lab.h); jansson's allocator (json_set_alloc_funcs) fails its
 * Nth allocation of each request, for N = 1, 2, ... until a request makes
 * fewer than N (every place the request's JSON can fail is reached once).
 * For every N:
 *  - POST /api/v1/hosts with a new MAC: the host is in the store after it
 *    exactly when the answer is 2XX (an earlier failure: 4XX/5XX, nothing
 *    stored; a later one: 201, with a Location naming the host, with or
 *    without its body -- never the 500 a retry would turn into a 200);
 *  - a stored host's "host" event was published (it is made without an
 *    allocation);
 *  - POST /api/v1/tasks for a host without one: the same with the task
 *    (store_task_active) and its Location.
 * pxed_api_replies_bodiless_total counts the answers sent without body. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "api/internal.h"
#include "core/bus.h"
#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"
#include "../../fuzz/lab.h"

#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define N_MAX 2000                      /* a bound: requests make a few hundred */

static long fail_at;                    /* 0: none; else the Nth allocation fails */
static long counted;

static void *
counting_malloc(size_t n)
{
	if (fail_at > 0 && ++counted == fail_at)
		return NULL;
	return malloc(n);
}

static struct {
	char dir[64];
	struct api *api;
} lab;

static int
lab_up(void **state)
{
	char state_dir[128], images[128], token_file[160];
	struct api_config cfg = {
		.bootenv_url = "bootenv", .bootenv_args = "quiet", .chunk_mb = 4, .level = 3,
		.mcast_port = 9000, .mcast_ttl = 1, .mcast_slice = 1400, .mcast_rate_mbit = 100,
		.mcast_fec = "off", .timeline = true, .hosts_max = 4096, .host_register_rate = 30,
	};
	FILE *f;

	(void)state;
	log_init("test_api_stored", true, LOG_LEVEL_ERROR);
	lab_dir_make(lab.dir, sizeof lab.dir, "test_api_stored");
	snprintf(state_dir, sizeof state_dir, "%s/state", lab.dir);
	snprintf(images, sizeof images, "%s/images", lab.dir);
	snprintf(token_file, sizeof token_file, "%s/api-token", state_dir);
	lab_dir_fresh(lab.dir, (const char *const[]){ state_dir, images, NULL });
	f = fopen(token_file, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", TOKEN);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(token_file, 0600), 0);
	cfg.state_dir = state_dir;
	cfg.image_dir = images;
	cfg.token_file = token_file;
	cfg.mcast_group.s_addr = htonl(0xefff0a01);
	assert_int_equal(api_open(&lab.api, &cfg), 0);
	json_set_alloc_funcs(counting_malloc, free);
	return 0;
}

static int
lab_down(void **state)
{
	(void)state;
	json_set_alloc_funcs(malloc, free);
	api_close(lab.api);
	api_thread_store_drop();
	lab_dir_remove(lab.dir);
	return 0;
}

/* One request as http/server.c makes it, the administrator's, with the
 * Nth jansson allocation failing (0: none); the answer in *rs (free
 * rs->body). */
static void
request(const char *method, const char *path, const char *body, long n,
    struct api_response *rs)
{
	struct api_request rq = {
		.method = method, .path = path, .authorization = "Bearer " TOKEN,
		.peer = "192.0.2.2:40000", .secure = true, .has_length = true,
		.length = strlen(body),
	};
	struct api_call *c = NULL;

	rq.peer4.s_addr = htonl(0xc0000202);
	rq.local4.s_addr = htonl(0xc0000201);
	counted = 0;
	fail_at = n;
	if (api_call_begin(lab.api, &rq, &c, rs) == 0)
		api_call_answer(c, body, strlen(body), rs);
	fail_at = 0;
	api_call_end(c);
}

static void
mac_of(unsigned i, char *mac, size_t size)
{
	snprintf(mac, size, "52:54:00:5e:%02x:%02x", (i >> 8) & 0xff, i & 0xff);
}

/* A "host" event with mac after seq? */
static bool
host_event_after(uint64_t seq, const char *mac)
{
	struct bus_event e;
	uint64_t gap;
	bool found = false;

	while (!found && bus_read(seq, &e, &gap) != 0) {
		seq = e.seq;
		found = strcmp(e.kind, "host") == 0 && strstr(e.data, mac) != NULL;
		free(e.data);
	}
	return found;
}

/* The answer to a stored change: status, Location, a JSON body or none. */
static void
assert_stored_answer(const struct api_response *rs, unsigned status, const char *location)
{
	assert_int_equal(rs->status, status);
	assert_string_equal(rs->location, location);
	if (rs->body != NULL) {
		json_error_t err;
		json_t *o = json_loadb(rs->body, rs->len, 0, &err);
		if (o == NULL)
			print_message("not JSON (%s): %.*s\n", err.text, (int)rs->len, rs->body);
		assert_non_null(o);
		json_decref(o);
	}
}

static void
test_host_add(void **state)
{
	char mac[STORE_MAC_TEXT], body[96], where[64];
	struct store_host h;
	struct api_response rs;
	unsigned done = 0, bodiless = 0;
	uint64_t seq, bodiless0 = STATS_GET(api_replies_bodiless);
	long n;

	(void)state;
	for (n = 1; n < N_MAX; n++) {
		mac_of((unsigned)n, mac, sizeof mac);
		snprintf(body, sizeof body, "{\"mac\":\"%s\",\"name\":\"n%ld\"}", mac, n);
		seq = bus_last();
		request("POST", "api/v1/hosts", body, n, &rs);
		bool stored = store_host_get(api_thread_store(lab.api->state), mac, &h) == 0;
		if (stored)
			store_host_free(&h);
		print_message("N=%ld: %u%s, %s\n", n, rs.status, rs.body ? "" : " (no body)",
		    stored ? "stored" : "not stored");
		assert_int_equal(stored, rs.status / 100 == 2);
		if (stored) {
			snprintf(where, sizeof where, "/api/v1/hosts/%s", mac);
			assert_stored_answer(&rs, 201, where);
			assert_true(host_event_after(seq, mac));
			done++;
			bodiless += rs.body == NULL;
		}
		free(rs.body);
		if (counted < n)
			break;          /* the request made fewer: every place was reached */
	}
	assert_true(n < N_MAX);
	assert_true(done > 0);
	assert_int_equal(STATS_GET(api_replies_bodiless) - bodiless0, bodiless);
	print_message("%ld allocations; %u stored, %u answered without body\n", n - 1, done,
	    bodiless);
}

static void
test_task_add(void **state)
{
	char mac[STORE_MAC_TEXT], body[96], where[64];
	struct api_response rs;
	struct store_task t;
	unsigned done = 0;
	long n;

	(void)state;
	for (n = 1; n < N_MAX; n++) {
		mac_of(0x8000u + (unsigned)n, mac, sizeof mac);
		snprintf(body, sizeof body, "{\"mac\":\"%s\"}", mac);
		request("POST", "api/v1/hosts", body, 0, &rs);
		assert_int_equal(rs.status, 201);
		free(rs.body);
		snprintf(body, sizeof body, "{\"host\":\"%s\",\"type\":\"wipe\"}", mac);
		request("POST", "api/v1/tasks", body, n, &rs);
		bool stored = store_task_active(api_thread_store(lab.api->state), mac, &t) == 0;
		print_message("N=%ld: %u%s, %s\n", n, rs.status, rs.body ? "" : " (no body)",
		    stored ? "stored" : "not stored");
		assert_int_equal(stored, rs.status / 100 == 2);
		if (stored) {
			snprintf(where, sizeof where, "/api/v1/tasks/%lld", (long long)t.id);
			assert_stored_answer(&rs, 201, where);
			done++;
		}
		free(rs.body);
		if (counted < n)
			break;
	}
	assert_true(n < N_MAX);
	assert_true(done > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_add),
		cmocka_unit_test(test_task_add),
	};

	return cmocka_run_group_tests(tests, lab_up, lab_down);
}
