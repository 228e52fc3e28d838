/* bench/storm: iPXE's HTTP part with libcurl's multi socket API on the
 * storm's epoll.  Each client has one easy handle, bound to the address it
 * was leased (CURLOPT_INTERFACE "host!ADDR"), so its requests share one
 * keep-alive connection: the script named by the second ACK, then each
 * "kernel" and "initrd" URL of the script in order (relative URLs against
 * the script's).  Every body is compared with the file of the URL's path
 * under --root as it arrives; the last request closes the connection (iPXE
 * shuts its network down when it boots the kernel). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <arpa/inet.h>

#include "core/util.h"
#include "storm.h"

#define HTTP_BUFFER (128 << 10)

static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct storm *s = userp;
	struct epoll_event ev = { .data.u64 = STORM_TAG(TAG_CURL, fd) };

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
	if (epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
		(void)epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
	return 0;
}

static int
on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct storm *s = userp;

	(void)multi;
	s->curl_due_us = timeout_ms < 0 ? UINT64_MAX : clock_now_us() + (uint64_t)timeout_ms * 1000;
	return 0;
}

int
storm_http_setup(struct storm *s)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (s->multi = curl_multi_init()) == NULL) {
		fprintf(stderr, "storm: libcurl did not start\n");
		return -1;
	}
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)s->o.clients + 16);
	return 0;
}

void
storm_http_cleanup(struct storm *s)
{
	for (unsigned i = 0; s->c != NULL && i < s->o.clients; i++) {
		struct client *c = &s->c[i];

		if (c->easy != NULL) {
			curl_multi_remove_handle(s->multi, c->easy);
			curl_easy_cleanup(c->easy);
			c->easy = NULL;
		}
		free(c->script);
		c->script = NULL;
	}
	curl_multi_cleanup(s->multi);
	curl_global_cleanup();
}

/* The path of an http:// URL ("/x/y"), or NULL. */
static const char *
url_path(const char *url)
{
	if (strncmp(url, "http://", 7) != 0)
		return NULL;
	return strchr(url + 7, '/');
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct client *c = userp;
	size_t n = size * nmemb;

	if (c->http_off + n > c->http_file->len ||
	    memcmp(c->http_file->data + c->http_off, data, n) != 0) {
		c->why = "body differs from the file";
		return 0;               /* curl aborts the transfer */
	}
	if (c->script != NULL) {        /* the script: kept to read its URLs */
		if (c->script_len + n >= STORM_SCRIPT_MAX) {
			c->why = "script too long";
			return 0;
		}
		memcpy(c->script + c->script_len, data, n);
		c->script_len += n;
	}
	c->http_off += n;
	c->http_bytes += n;
	return n;
}

static int
request(struct storm *s, struct client *c, const char *url, bool last)
{
	const char *path = url_path(url);

	c->http_file = path != NULL ? storm_file(s, path) : NULL;
	if (c->http_file == NULL) {
		c->why = "URL not under --root";
		return -1;
	}
	c->http_off = 0;
	c->why = NULL;
	c->request_us = clock_now_us();
	curl_easy_setopt(c->easy, CURLOPT_URL, url);
	curl_easy_setopt(c->easy, CURLOPT_FORBID_REUSE, last ? 1L : 0L);
	return curl_multi_add_handle(s->multi, c->easy) == CURLM_OK ? 0 : -1;
}

static void
easy_setup(struct storm *s, struct client *c)
{
	char iface[32];

	snprintf(iface, sizeof iface, "host!%s", inet_ntoa(c->lease.yiaddr));
	curl_easy_setopt(c->easy, CURLOPT_INTERFACE, iface);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->easy, CURLOPT_BUFFERSIZE, (long)HTTP_BUFFER);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->easy, CURLOPT_LOW_SPEED_TIME, (long)s->o.http_stall_s);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
}

void
storm_http_start(struct storm *s, struct client *c, uint64_t now)
{
	const char *slash;

	(void)now;
	c->state = C_HTTP;
	c->due_us = UINT64_MAX;
	if (url_path(c->lease.file) == NULL || strlen(c->lease.file) >= STORM_URL_MAX) {
		storm_fail(s, c, STEP_IPXE_DHCP, "the iPXE ACK names no http:// script");
		return;
	}
	str_copy(c->url[0], c->lease.file, sizeof c->url[0]);
	slash = strrchr(c->url[0], '/');
	snprintf(c->base, sizeof c->base, "%.*s", (int)(slash - c->url[0] + 1), c->url[0]);
	c->urls = 1;
	c->url_next = 1;
	c->script = calloc(1, STORM_SCRIPT_MAX);
	c->easy = curl_easy_init();
	if (c->script == NULL || c->easy == NULL) {
		storm_fail(s, c, STEP_HTTP, "out of memory");
		return;
	}
	easy_setup(s, c);
	if (request(s, c, c->url[0], false) != 0)
		storm_fail(s, c, STEP_HTTP, c->why != NULL ? c->why : "curl refused the request");
}

/* The HTTP loop: this client's address and URLs, the first request. */
void
storm_http_loop_start(struct storm *s, struct client *c, uint64_t now)
{
	(void)now;
	c->state = C_HTTP;
	c->lease.yiaddr = s->o.address[c->index % s->o.addresses];
	memcpy(c->url, s->o.loop_urls, sizeof c->url);
	c->urls = s->o.loop_url_count;
	c->url_next = 1;
	c->easy = curl_easy_init();
	if (c->easy == NULL) {
		storm_fail(s, c, STEP_HTTP, "out of memory");
		return;
	}
	easy_setup(s, c);
	if (request(s, c, c->url[0], false) != 0)
		storm_fail(s, c, STEP_HTTP, c->why != NULL ? c->why : "curl refused the request");
}

/* A request of the loop done: its latency kept, by the file's size. */
static void
loop_record(struct storm *s, struct client *c, uint64_t now)
{
	bool small = c->http_file->len <= STORM_SMALL_MAX;
	size_t *n = small ? &s->n_small : &s->n_large;

	if (*n < STORM_LATENCIES_MAX)
		(small ? s->lat_small : s->lat_large)[(*n)++] = now - c->request_us;
	c->requests++;
}

/* "kernel [--opt...] URL [args]" / "initrd ... URL": the URL, absolute or
 * against the script's directory. */
static void
script_line(struct client *c, const char *line, size_t len)
{
	char word[STORM_URL_MAX];
	size_t i = 0, w;
	bool cmd = false;

	while (i < len && c->urls <= STORM_URLS_MAX) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		for (w = 0; i < len && line[i] != ' ' && line[i] != '\t'; i++)
			if (w + 1 < sizeof word)
				word[w++] = line[i];
		word[w] = '\0';
		if (w == 0)
			return;
		if (!cmd) {
			if (strcmp(word, "kernel") != 0 && strcmp(word, "initrd") != 0)
				return;
			cmd = true;
		} else if (word[0] != '-') {
			size_t bl = strncmp(word, "http://", 7) == 0 ? 0 : strlen(c->base);
			if (bl + w >= STORM_URL_MAX)
				return;         /* too long: not taken */
			memcpy(c->url[c->urls], c->base, bl);
			memcpy(c->url[c->urls] + bl, word, w + 1);
			c->urls++;
			return;
		}
	}
}

static void
script_read(struct client *c)
{
	const char *p = c->script, *end = c->script + c->script_len;

	while (p < end && c->urls <= STORM_URLS_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl != NULL ? nl : end) - p);

		script_line(c, p, len > 0 && p[len - 1] == '\r' ? len - 1 : len);
		p += len + 1;
	}
	free(c->script);
	c->script = NULL;
}

static void
client_done(struct storm *s, struct client *c)
{
	curl_easy_cleanup(c->easy);
	c->easy = NULL;
	c->end_us = clock_now_us();
	c->state = C_DONE;
	s->finished++;
}

/* One transfer ended: check it, then the next URL or the end. */
static void
transfer_done(struct storm *s, struct client *c, CURLcode rc)
{
	long status = 0;

	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(s->multi, c->easy);
	if (rc != CURLE_OK || status != 200 || c->http_off != c->http_file->len) {
		storm_fail(s, c, STEP_HTTP, c->why != NULL ? c->why : rc != CURLE_OK ?
		    curl_easy_strerror(rc) : status != 200 ? "status other than 200" :
		    "body shorter than the file");
		return;
	}
	if (c->script != NULL) {
		script_read(c);
		if (c->urls < 2) {
			storm_fail(s, c, STEP_HTTP, "the script names no kernel or initrd");
			return;
		}
	}
	if (s->o.http_loop_s != 0) {
		uint64_t now = clock_now_us();
		loop_record(s, c, now);
		if (now >= s->loop_end_us) {
			client_done(s, c);
			return;
		}
		if (c->url_next >= c->urls)
			c->url_next = 0;        /* again, on the same connection */
	} else if (c->url_next >= c->urls) {
		client_done(s, c);
		return;
	}
	c->url_next++;
	if (request(s, c, c->url[c->url_next - 1],
	    s->o.http_loop_s == 0 && c->url_next == c->urls) != 0)
		storm_fail(s, c, STEP_HTTP, c->why != NULL ? c->why : "curl refused the request");
}

static void
check_done(struct storm *s)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
		struct client *c = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		if (c != NULL)
			transfer_done(s, c, msg->data.result);
	}
}

void
storm_http_event(struct storm *s, int fd, uint32_t events)
{
	int flags = 0, running;

	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(s->multi, fd, flags, &running);
	check_done(s);
}

void
storm_http_timer(struct storm *s)
{
	int running;

	s->curl_due_us = UINT64_MAX;    /* the call may set a new one */
	curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(s);
}
