/* HTTP boot file server on libmicrohttpd: one daemon per listening socket,
 * each with its own epoll worker threads.
 *
 * Notes on libmicrohttpd (0.9.75) that shape this file:
 *  - The URL handed to the access handler has already been through the
 *    unescape callback (and the query is cut off).  The default callback
 *    percent-decodes, which would turn %00 into a NUL we could not see and
 *    decode a second time in http_path_resolve; so unescape_none() leaves
 *    the text alone and http_path_resolve() decodes exactly once.
 *  - MHD_stop_daemon() shuts down (shutdown(SHUT_RDWR)) and closes the
 *    listen socket it was given, which would kill the caller's socket too,
 *    and some start failures close it.  So MHD gets a dup, and stop first
 *    takes it back with MHD_quiesce_daemon() (needs MHD_USE_ITC) and closes
 *    only the dup: the fds in http_config stay the caller's, still
 *    listening, e.g. to start again after a reload.
 *  - MHD_OPTION_CONNECTION_LIMIT is per daemon (and split between its
 *    worker threads); the total across sockets is enforced in on_accept()
 *    from the count kept by on_connection().  Workers accept in parallel,
 *    so the total may be passed by at most one connection per worker.
 *  - A response queued on the first call of the access handler (headers
 *    just parsed) makes MHD close the connection after it, since it cannot
 *    know what follows; so GET and HEAD are answered on the second call,
 *    which keeps the connection alive.  Other methods get their 405 at once.
 *  - 0.9.75 always adds "Content-Length: 0" to a 304 (a second one if the
 *    application sets its own); clients end a 304 at the blank line anyway
 *    (RFC 7230 3.3.3), so it is left as is.
 *  - HEAD is answered by MHD from the same response without the body,
 *    Content-Length included; responses from an fd go out with sendfile()
 *    (MHD blocks SIGPIPE in its own threads). */
#include "http/server.h"
#include "http/deadline.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "core/inflight.h"
#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"
#include "http/internal.h"
#include "http/stream.h"

#define HTTP_DEFAULT_CONNECTIONS 1024
#define HTTP_LOG_PATH_MAX 256

#define BODY_GRACE_US 10000000u    /* a body's first 10 s are not rate-checked */

/* What the access handler is given: the server, and whether the daemon
 * speaks TLS. */
struct http_listener {
	struct http_server *srv;
	bool tls;
};

struct http_server {
	struct MHD_Daemon *daemons[2 * HTTP_LISTEN_MAX];
	size_t count;
	struct http_listener plain, tls;
	bool tls_on;                    /* HTTPS is served: plain API reads refused */
	unsigned https_port;
	const struct files_root *root;
	struct api *api;                /* REST API; NULL: none */
	struct files_root images;       /* the image repository, for images/chunks/ */
	struct files_root clamav;       /* clamav-db-dir, for clamav/ (scan tasks) */
	const struct files_root *ui;    /* the console, under ui/ (NULL: none) */
	unsigned max_connections;
	atomic_uint active;             /* connections across all daemons */
	uint64_t body_memory_max;       /* bytes all buffered bodies may hold */
	atomic_uint_fast64_t body_memory;       /* bytes reserved by bodies in flight */
	unsigned body_min_rate;         /* bytes/s after BODY_GRACE_US (0: none) */
	struct http_streams *streams;   /* parked event streams (stream.c) */
	struct inflight *inflight;      /* downloads in flight (core/inflight.h) */
	struct http_deadlines *deadlines;       /* headers in time (deadline.c) */
};

/* One request, from the first call of the access handler to the
 * completion callback, where it is logged and freed. */
struct request {
	char peer[LOG_ADDR_MAX];
	char method[16];
	char path[HTTP_LOG_PATH_MAX];
	unsigned status;                /* 0 until answered */
	uint64_t bytes;                 /* body bytes of the answer */
	bool timeline;                  /* a boot file: goes into the client's timeline */
	bool console;                   /* a file of the console (ui/) */
	bool chunk;                     /* an image chunk (images/chunks/) */
	struct in_addr peer4;           /* IPv4 peer, for the lease lookup */
	bool loopback;                  /* from this machine */
	bool tls;                       /* over HTTPS */
	uint64_t t0_us;
	struct api_call *call;          /* an admitted API request */
	struct api_response early;      /* an API refusal kept for the final call */
	bool has_early;
	int error;                      /* a body error: answered at the final call */
	char *body;                     /* request body, buffered (API writes) */
	size_t body_len, body_limit;
	uint64_t body_reserved;         /* bytes counted in body_memory */
	uint64_t body_got;              /* bytes received, buffered or streamed */
	uint64_t body_t0_us;
	struct http_streams *streams;   /* the server's, for a streamed answer */
	struct inflight *inflight;      /* the server's; flight: this file's ticket */
	uint32_t flight;
};

/* ---- answering ---- */

static const char *
header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result
queue(struct MHD_Connection *conn, struct request *req, unsigned status,
    struct MHD_Response *resp, uint64_t body)
{
	enum MHD_Result ret;

	if (resp == NULL) {
		req->status = 500;
		STATS_ADD(http_errors, 1);
		return MHD_NO;              /* MHD closes the connection */
	}
	req->status = status;
	req->bytes = strcmp(req->method, MHD_HTTP_METHOD_HEAD) == 0 ? 0 : body;
	if (status >= 400)
		STATS_ADD(http_errors, 1);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A constant body; never freed by MHD. */
static struct MHD_Response *
static_response(const char *body, const char *type)
{
	size_t len = strlen(body);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len,
	    (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);

	if (resp != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	return resp;
}

static const char *
status_text(unsigned status)
{
	switch (status) {
	case 400: return "400 Bad Request\n";
	case 403: return "403 Forbidden\n";
	case 404: return "404 Not Found\n";
	case 405: return "405 Method Not Allowed\n";
	case 411: return "411 Length Required\n";
	case 413: return "413 Content Too Large\n";
	case 414: return "414 URI Too Long\n";
	case 416: return "416 Range Not Satisfiable\n";
	case 503: return "503 Service Unavailable\n";
	default: return "500 Internal Server Error\n";
	}
}

static enum MHD_Result
answer_error(struct MHD_Connection *conn, struct request *req, unsigned status)
{
	const char *body = status_text(status);
	struct MHD_Response *resp = static_response(body, "text/plain");

	if (resp != NULL && status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return queue(conn, req, status, resp, strlen(body));
}

/* ---- files ---- */

/* If-None-Match, else If-Modified-Since (RFC 7232 section 6). */
static bool
not_modified(struct MHD_Connection *conn, const struct stat *st, const char *etag)
{
	const char *inm = header(conn, MHD_HTTP_HEADER_IF_NONE_MATCH);
	const char *ims;
	time_t t;

	if (inm != NULL)
		return http_etag_list_match(inm, strlen(inm), etag);
	ims = header(conn, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	if (ims == NULL || http_date_parse(ims, strlen(ims), &t) < 0 || t > time(NULL))
		return false;               /* none, invalid, or in the future */
	return st->st_mtime <= t;
}

/* 200 (whole file), 206 (*start, *count) or 416. */
static unsigned
pick_range(struct MHD_Connection *conn, uint64_t size, const char *etag,
    uint64_t *start, uint64_t *count)
{
	const char *range = header(conn, MHD_HTTP_HEADER_RANGE);
	const char *if_range = header(conn, MHD_HTTP_HEADER_IF_RANGE);
	int rc;

	*start = 0;
	*count = size;
	if (range == NULL || (if_range != NULL && strcmp(if_range, etag) != 0))
		return 200;
	rc = http_range_parse(range, strlen(range), size, start, count);
	if (rc == -ERANGE)
		return 416;
	if (rc < 0) {
		*start = 0;
		*count = size;
		return 200;
	}
	return 206;
}

static void
add_validators(struct MHD_Response *resp, const struct stat *st, const char *etag)
{
	char date[HTTP_DATE_SIZE];

	if (http_date_format(st->st_mtime, date, sizeof date) == 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, date);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
}

/* 304 or 416: no body, the file is closed here. */
static enum MHD_Result
answer_bodyless(struct MHD_Connection *conn, struct request *req, unsigned status,
    const struct stat *st, const char *etag)
{
	struct MHD_Response *resp;
	char range[64];

	if (status == 416) {
		resp = static_response(status_text(416), "text/plain");
		snprintf(range, sizeof range, "bytes */%" PRIu64, (uint64_t)st->st_size);
		if (resp != NULL)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, range);
		return queue(conn, req, status, resp, strlen(status_text(416)));
	}
	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (resp != NULL)
		add_validators(resp, st, etag);
	return queue(conn, req, status, resp, 0);
}

/* The console over plain HTTP when HTTPS is served: 301 to the same path
 * over HTTPS (the console holds a token; the API would refuse it here). */
static enum MHD_Result
answer_https_redirect(struct MHD_Connection *conn, struct request *req, unsigned port,
    const char *path)
{
	const char *host = header(conn, MHD_HTTP_HEADER_HOST);
	char name[256], location[FILES_PATH_MAX + 300];
	size_t n;
	struct MHD_Response *resp;

	if (host == NULL || host[0] == '\0' || strpbrk(host, "\r\n\"<> ") != NULL)
		return answer_error(conn, req, 400);
	/* the host without its port ("[v6]:port" keeps its brackets) */
	n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":");
	snprintf(name, sizeof name, "%.*s", (int)MIN(n, sizeof name - 1), host);
	snprintf(location, sizeof location, "https://%s:%u/%s", name, port, path);
	resp = static_response("301 Moved Permanently\n", "text/plain");
	if (resp != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	return queue(conn, req, 301, resp, 22);
}

/* The console runs no code but its own, from pxed, and is framed by
 * nobody: it works on networks without the Internet and holds a token. */
static void
add_console_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'self';"
	    " img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none';"
	    " form-action 'self'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
}

static enum MHD_Result
answer_file(struct MHD_Connection *conn, struct request *req,
    const struct files_root *root, const char *path)
{
	struct MHD_Response *resp;
	char etag[HTTP_ETAG_SIZE], range[96];
	uint64_t start, count, size;
	struct stat st;
	unsigned status;
	int fd;

	fd = files_open_read(root, path, &st, NULL);
	if (fd < 0)
		return answer_error(conn, req, http_status_for_error(fd, false));
	size = (uint64_t)st.st_size;
	http_etag_format(&st, etag, sizeof etag);
	status = not_modified(conn, &st, etag) ? 304 : pick_range(conn, size, etag,
	    &start, &count);
	if (status == 304 || status == 416) {
		close(fd);
		return answer_bodyless(conn, req, status, &st, etag);
	}
	resp = MHD_create_response_from_fd_at_offset64(count, fd, start);
	if (resp == NULL) {
		close(fd);
		return queue(conn, req, 500, NULL, 0);
	}
	add_validators(resp, &st, etag);
	if (req->console)
		add_console_headers(resp);
	/* named by its content: never changes, any cache may keep it */
	if (req->chunk)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
		    "public, max-age=31536000, immutable");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    http_content_type(path));
	if (status == 206) {
		snprintf(range, sizeof range, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
		    start, start + count - 1, size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, range);
	}
	enum MHD_Result ret = queue(conn, req, status, resp, count);
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (req->bytes > 0)             /* not HEAD: listed until its completion */
		req->flight = inflight_begin(req->inflight, ci != NULL ? ci->connect_fd : -1,
		    req->peer, req->peer4, req->path + (req->path[0] == '/'), req->bytes);
	return ret;
}

/* ---- the REST API (api/) ---- */

/* Queue an API response (the body is malloc'd: MHD frees it). */
static enum MHD_Result
answer_api(struct MHD_Connection *conn, struct request *req, struct api_response *rs)
{
	struct MHD_Response *resp;

	if (rs->stream.read != NULL) {
		resp = http_stream_response(req->streams, conn, &rs->stream);
		if (resp != NULL) {
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs->type);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
		}
		return queue(conn, req, rs->status, resp, 0);
	}
	if (rs->status == 204 || rs->body == NULL) {
		free(rs->body);
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (resp != NULL && rs->location[0] != '\0')
			MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, rs->location);
		return queue(conn, req, rs->status ? rs->status : 500, resp, 0);
	}
	resp = MHD_create_response_from_buffer(rs->len, rs->body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(rs->body);
		return queue(conn, req, 500, NULL, 0);
	}
	if (rs->location[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, rs->location);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rs->type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (rs->status == 405 && rs->allow[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rs->allow);
	return queue(conn, req, rs->status, resp, rs->len);
}

struct query_walk {
	struct api_request *rq;
	bool bad;
};

static enum MHD_Result
query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query_walk *w = cls;
	struct api_query_arg *q;

	(void)kind;
	if (w->rq->nquery == API_QUERY_MAX || strlen(key) >= sizeof q->key)
		return MHD_YES;         /* not an argument the API reads */
	q = &w->rq->query[w->rq->nquery];
	str_copy(q->key, key, sizeof q->key);
	if (http_query_value_decode(value != NULL ? value : "", q->value, sizeof q->value) < 0)
		w->bad = true;
	else
		w->rq->nquery++;
	return MHD_YES;
}

/* The request as the API sees it when the headers are in. */
static int
api_request_make(struct MHD_Connection *conn, const struct request *req, const char *method,
    const char *path, struct api_request *rq)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	const char *length = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct query_walk w = { rq, false };
	struct sockaddr_in local;
	socklen_t llen = sizeof local;

	memset(rq, 0, sizeof *rq);
	rq->method = method;
	rq->path = path;
	rq->peer = req->peer;
	rq->peer4 = req->peer4;
	rq->secure = req->tls || req->loopback;
	rq->authorization = header(conn, MHD_HTTP_HEADER_AUTHORIZATION);
	rq->host = header(conn, MHD_HTTP_HEADER_HOST);
	rq->last_event_id = header(conn, "Last-Event-ID");
	if (ci != NULL && getsockname(ci->connect_fd, (struct sockaddr *)&local, &llen) == 0 &&
	    local.sin_family == AF_INET)
		rq->local4 = local.sin_addr;
	/* from this machine: to one of its own addresses from the same one */
	if (rq->local4.s_addr != 0 && rq->local4.s_addr == req->peer4.s_addr)
		rq->secure = true;
	if (length != NULL) {
		rq->has_length = true;
		if (parse_u64(length, strlen(length), 0, UINT64_MAX, &rq->length) < 0)
			return -EINVAL;
	}
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_arg, &w);
	return w.bad ? -EINVAL : 0;
}

/* Count a buffered body against http-body-memory: false when over. */
static bool
body_reserve(struct http_server *srv, struct request *req, uint64_t bytes)
{
	uint_fast64_t now = atomic_fetch_add(&srv->body_memory, bytes);

	if (now + bytes > srv->body_memory_max) {
		atomic_fetch_sub(&srv->body_memory, bytes);
		return false;
	}
	req->body_reserved = bytes;
	return true;
}

/* The server's own refusal of an API request: JSON like every API error. */
static enum MHD_Result
answer_api_error(struct MHD_Connection *conn, struct request *req, unsigned status,
    const char *message)
{
	struct api_response rs;

	api_error_response(&rs, status, message);
	return answer_api(conn, req, &rs);
}

/* An admitted call with a body: room for it, buffered or streamed.
 * 0, or an HTTP status to answer. */
static unsigned
body_prepare(struct http_server *srv, struct request *req, const struct api_request *rq)
{
	uint64_t want = rq->has_length ? rq->length : api_call_body_max(req->call);

	req->body_limit = api_call_body_max(req->call);
	req->body_t0_us = clock_now_us();
	if (req->body_limit == 0 || api_call_streams(req->call))
		return 0;
	if (!body_reserve(srv, req, want)) {
		STATS_ADD(http_bodies_refused, 1);
		log_warn_peer(req->peer, NULL,
		    "http %s %s %s: 503: request bodies in flight hold http-body-memory",
		    req->peer, req->method, req->path);
		return 503;
	}
	req->body = want > 0 ? malloc((size_t)want) : NULL;
	return want > 0 && req->body == NULL ? 503 : 0;
}

/* First call for an API path: admit the request or refuse it before its
 * body.  A refusal of GET or HEAD waits for the final call (keep-alive);
 * others are answered now (MHD then closes: the body is not read). */
static enum MHD_Result
api_begin(struct MHD_Connection *conn, struct request *req, struct http_server *srv,
    const char *method, const char *path)
{
	struct api_request rq;
	struct api_response rs;
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	unsigned status;

	if (api_request_make(conn, req, method, path, &rq) < 0)
		return answer_api_error(conn, req, 400, "malformed request: its path, query or headers");
	if (api_call_begin(srv->api, &rq, &req->call, &rs) < 0) {
		if (!get)
			return answer_api(conn, req, &rs);
		req->early = rs;
		req->has_early = true;
		return MHD_YES;
	}
	status = body_prepare(srv, req, &rq);
	return status != 0 ? answer_api_error(conn, req, status,
	    "request bodies in flight hold http-body-memory-mb: try again") : MHD_YES;
}

/* Below http-body-min-rate after the grace period? */
static bool
body_too_slow(const struct http_server *srv, const struct request *req)
{
	uint64_t elapsed = clock_now_us() - req->body_t0_us;

	return srv->body_min_rate > 0 && elapsed > BODY_GRACE_US &&
	    req->body_got < (elapsed - BODY_GRACE_US) / 1000000u * srv->body_min_rate;
}

/* Body bytes of an admitted call: buffered within the route's limit, or
 * fed to a streaming route.  A body over its limit, or one the route
 * refuses, is read to its end and dropped; the answer comes at the final
 * call.  MHD_NO (close) for a body that comes too slowly. */
static enum MHD_Result
api_body(struct request *req, const struct http_server *srv, const char *data, size_t len)
{
	req->body_got += len;
	if (body_too_slow(srv, req)) {
		STATS_ADD(http_bodies_slow, 1);
		log_warn_peer(req->peer, NULL,
		    "http %s %s %s: closed: the body came at less than %u bytes/s", req->peer,
		    req->method, req->path, srv->body_min_rate);
		return MHD_NO;
	}
	if (req->error != 0 || req->early.status != 0)
		return MHD_YES;
	if (req->body_got > req->body_limit) {
		req->error = 413;
	} else if (api_call_streams(req->call)) {
		if (api_call_feed(req->call, data, len, &req->early) < 0)
			req->error = -1;        /* req->early holds the answer */
	} else if (req->body_len + len > req->body_reserved) {
		req->error = 413;       /* more than its Content-Length */
	} else {
		memcpy(req->body + req->body_len, data, len);
		req->body_len += len;
	}
	return MHD_YES;
}

/* The final call of an API request. */
static enum MHD_Result
api_end(struct MHD_Connection *conn, struct request *req)
{
	struct api_response rs = req->early;

	req->early.body = NULL;         /* MHD frees it from now on */
	if (req->has_early || req->error == -1)
		return answer_api(conn, req, &rs);
	if (req->error != 0)
		return answer_api_error(conn, req, (unsigned)req->error,
		    "the body is larger than its Content-Length or than this operation takes");
	api_call_answer(req->call, req->body, req->body_len, &rs);
	return answer_api(conn, req, &rs);
}

/* ---- MHD callbacks ---- */
/* The connection's watch (deadline.c), or NULL. */
static struct http_watch *
watch_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}


static void
log_headers(struct MHD_Connection *conn)
{
	static const char *const names[] = {
		MHD_HTTP_HEADER_HOST, MHD_HTTP_HEADER_USER_AGENT,
		MHD_HTTP_HEADER_RANGE, MHD_HTTP_HEADER_IF_RANGE,
		MHD_HTTP_HEADER_IF_NONE_MATCH, MHD_HTTP_HEADER_IF_MODIFIED_SINCE,
	};
	char text[HTTP_LOG_PATH_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		const char *v = header(conn, names[i]);
		if (v != NULL)
			log_debug("http   %s: %s", names[i],
			    log_printable(v, strlen(v), text, sizeof text));
	}
}

static struct request *
request_new(struct MHD_Connection *conn, const char *url, const char *method)
{
	const union MHD_ConnectionInfo *ci;
	struct request *req = calloc(1, sizeof *req);

	if (req == NULL)
		return NULL;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	log_addr(ci != NULL ? ci->client_addr : NULL, req->peer, sizeof req->peer);
	if (ci != NULL && ci->client_addr != NULL && ci->client_addr->sa_family == AF_INET)
		req->peer4 = ((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr;
	if (ci != NULL && ci->client_addr != NULL && ci->client_addr->sa_family == AF_INET6)
		req->loopback = IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)
		    ci->client_addr)->sin6_addr);
	else
		req->loopback = (ntohl(req->peer4.s_addr) >> 24) == 127;
	req->t0_us = clock_now_us();
	log_printable(method, strlen(method), req->method, sizeof req->method);
	log_printable(url, strlen(url), req->path, sizeof req->path);
	STATS_ADD(http_requests, 1);
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_headers(conn);
	return req;
}

/* First call: the request line and headers are in.  An API request is
 * admitted or refused here, before its body; a GET or HEAD of a file is
 * answered at the next call, which keeps the connection alive. */
static enum MHD_Result
on_first_call(struct MHD_Connection *conn, struct request *req, struct http_server *srv,
    const char *url, const char *method)
{
	char path[FILES_PATH_MAX];
	bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	int rc = http_path_resolve(url, strlen(url), srv->root->path, path, sizeof path);

	if (rc == 0 && srv->api != NULL && api_owns(path))
		return api_begin(conn, req, srv, method, path);
	if (!get)
		return answer_error(conn, req, rc < 0 ? http_status_for_error(rc, true) : 405);
	return MHD_YES;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	const struct http_listener *l = cls;
	struct http_server *srv = l->srv;
	struct request *req = *con_cls;
	char path[FILES_PATH_MAX];
	const struct files_root *broot;
	const char *builtin;
	int rc;

	(void)version;
	if (req == NULL) {
		http_watch_headers_in(watch_of(conn));
		req = request_new(conn, url, method);
		if (req == NULL)
			return MHD_NO;
		req->streams = srv->streams;
		req->tls = l->tls;
		req->inflight = srv->inflight;
		*con_cls = req;
		return on_first_call(conn, req, srv, url, method);
	}
	if (*upload_data_size != 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;      /* consumed, or dropped */
		if (req->status == 0 && req->call != NULL)
			return api_body(req, srv, upload_data, n);
		return MHD_YES;
	}
	if (req->status != 0)
		return MHD_YES;
	if (req->call != NULL || req->has_early)
		return api_end(conn, req);
	rc = http_path_resolve(url, strlen(url), srv->root->path, path, sizeof path);
	if (rc < 0)
		return answer_error(conn, req, http_status_for_error(rc, true));
	if (srv->api != NULL && strncmp(path, "images/chunks/", 14) == 0) {
		req->chunk = true;
		return answer_file(conn, req, &srv->images, path + 7);
	}
	if (srv->api != NULL && strncmp(path, "clamav/", 7) == 0 && srv->clamav.dirfd >= 0)
		return answer_file(conn, req, &srv->clamav, path + 7);
	req->console = strcmp(path, "ui") == 0 || strncmp(path, "ui/", 3) == 0;
	if (req->console && srv->tls_on && !req->tls && !req->loopback)
		return answer_https_redirect(conn, req, srv->https_port, path);
	if (srv->ui != NULL && req->console)
		return answer_file(conn, req, srv->ui, path[2] == '\0' || path[3] == '\0' ?
		    "index.html" : path + 3);
	req->timeline = srv->api != NULL && req->peer4.s_addr != 0;
	if (srv->api != NULL && (builtin = api_builtin_file(srv->api, path, &broot)) != NULL)
		return answer_file(conn, req, broot, builtin);  /* Debian's memtest86+ */
	return answer_file(conn, req, srv->root, path);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct request *req = *con_cls;
	bool ok = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;

	http_watch_answered(srv->deadlines, watch_of(conn));
	if (req == NULL)
		return;
	*con_cls = NULL;
	if (ok)
		STATS_ADD(http_bytes_sent, req->bytes);
	if (ok && req->chunk && req->status == 200 && strcmp(req->method, "GET") == 0) {
		STATS_ADD(http_chunks_sent, 1);
		STATS_ADD(http_chunk_bytes_sent, req->bytes);
	}
	log_info_peer(req->peer, NULL,
	    "http %s %s %s %u %" PRIu64 "%s", req->peer, req->method, req->path,
	    req->status, ok ? req->bytes : 0, ok ? "" : " (aborted)");
	if (req->timeline && (req->status == 200 || req->status == 206))
		api_timeline_http(srv->api, req->peer4, req->path, req->bytes,
		    (clock_now_us() - req->t0_us) / 1000, ok);
	inflight_end(srv->inflight, req->flight);
	api_call_end(req->call);
	if (req->body_reserved > 0)
		atomic_fetch_sub(&srv->body_memory, req->body_reserved);
	free(req->early.body);          /* an answer never queued (the request was cut) */
	free(req->body);
	free(req);
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *srv = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = http_watch_add(srv->deadlines, ci != NULL ? ci->connect_fd : -1);
		atomic_fetch_add(&srv->active, 1);
		STATS_ADD(http_connections_active, 1);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		http_watch_remove(srv->deadlines, *socket_context);
		*socket_context = NULL;
		atomic_fetch_sub(&srv->active, 1);
		STATS_SUB(http_connections_active, 1);
	}
}


static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct http_server *srv = cls;
	char peer[LOG_ADDR_MAX];

	(void)addrlen;
	if (atomic_load(&srv->active) < srv->max_connections)
		return MHD_YES;
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		log_addr(addr, peer, sizeof peer);
		log_debug_peer(peer, NULL, "http %s refused: %u connections open", peer,
		    srv->max_connections);
	}
	return MHD_NO;
}

/* Leave %XY alone: http_path_resolve() decodes, once. */
static size_t
unescape_none(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

__attribute__((format(printf, 2, 0)))
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t len;

	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	log_warn("http: %s", line);
}

/* ---- start and stop ---- */

/* fd is our dup of a listening socket; see the notes at the top. */
static struct MHD_Daemon *
daemon_start(struct http_server *srv, const struct http_config *cfg, int fd, bool tls)
{
	unsigned threads = MAX(cfg->threads, 1u);
	unsigned limit = MAX(srv->max_connections, threads);
	struct MHD_OptionItem pool[] = {
		{ threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, NULL },
		{ tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0,
		    (void *)(uintptr_t)cfg->tls_cert_pem },
		{ tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0,
		    (void *)(uintptr_t)cfg->tls_key_pem },
		{ MHD_OPTION_END, 0, NULL },
	};

	return MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO |
	    MHD_ALLOW_SUSPEND_RESUME | (tls ? MHD_USE_TLS : 0) |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, on_accept, srv, on_request,
	    tls ? &srv->tls : &srv->plain,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_CONNECTION_LIMIT, limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout_s,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
	    MHD_OPTION_ARRAY, pool,
	    MHD_OPTION_END);
}

/* Close our duplicate after a failed start, if it is still the socket. */
static void
close_if_same(int dup_fd, int orig_fd)
{
	struct stat a, b;

	if (fstat(dup_fd, &a) == 0 && fstat(orig_fd, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		close(dup_fd);
}

static int
listener_add(struct http_server *srv, const struct http_config *cfg, int fd, bool tls)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int flags;

	if (dup_fd < 0)
		return -errno;
	flags = fcntl(dup_fd, F_GETFL);
	if (flags < 0 || fcntl(dup_fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		int rc = -errno;
		close(dup_fd);
		return rc;
	}
	srv->daemons[srv->count] = daemon_start(srv, cfg, dup_fd, tls);
	if (srv->daemons[srv->count] == NULL) {
		close_if_same(dup_fd, fd);
		return -EINVAL;
	}
	srv->count++;
	return 0;
}

int
http_server_start(struct http_server **out, const struct http_config *cfg)
{
	struct http_server *srv;
	int rc = 0;

	*out = NULL;
	if (cfg == NULL || cfg->root == NULL || cfg->listen_count + cfg->tls_count == 0 ||
	    cfg->listen_count > HTTP_LISTEN_MAX || cfg->tls_count > HTTP_LISTEN_MAX) {
		log_error("http: no listening socket or no root");
		return -EINVAL;
	}
	srv = calloc(1, sizeof *srv);
	if (srv == NULL)
		return -ENOMEM;
	srv->root = cfg->root;
	srv->api = cfg->api;
	srv->ui = cfg->ui;
	srv->inflight = cfg->inflight;
	srv->images.dirfd = -1;
	srv->clamav.dirfd = -1;
	srv->body_memory_max = (uint64_t)MAX(cfg->body_memory_mb, 1u) << 20;
	srv->body_min_rate = cfg->body_min_rate;
	atomic_init(&srv->body_memory, 0);
	if (srv->api != NULL) {
		srv->images.dirfd = api_image_dirfd(srv->api);
		srv->images.case_fallback = false;
		srv->clamav.dirfd = api_clamav_dirfd(srv->api);
		srv->clamav.case_fallback = false;
		srv->streams = http_streams_start();
		if (srv->streams == NULL) {
			free(srv);
			return -ENOMEM;
		}
	}
	rc = http_deadlines_start(&srv->deadlines, cfg->header_timeout_s, cfg->idle_timeout_s);
	if (rc < 0) {
		http_streams_free(srv->streams);
		free(srv);
		return rc;
	}
	srv->max_connections = cfg->max_connections > 0 ? cfg->max_connections :
	    HTTP_DEFAULT_CONNECTIONS;
	atomic_init(&srv->active, 0);
	srv->plain = (struct http_listener){ srv, false };
	srv->tls = (struct http_listener){ srv, true };
	srv->tls_on = cfg->tls_count > 0;
	srv->https_port = cfg->https_port;
	for (size_t i = 0; i < cfg->listen_count && rc == 0; i++) {
		rc = listener_add(srv, cfg, cfg->listen_fds[i], false);
		if (rc < 0)
			log_error("http: cannot start on socket %d: %s",
			    cfg->listen_fds[i], strerror(-rc));
	}
	for (size_t i = 0; i < cfg->tls_count && rc == 0; i++) {
		rc = listener_add(srv, cfg, cfg->tls_fds[i], true);
		if (rc < 0)
			log_error("https: cannot start on socket %d (the certificate and key?): %s",
			    cfg->tls_fds[i], strerror(-rc));
	}
	if (rc < 0) {
		http_server_stop(srv);
		return rc;
	}
	log_info("http: serving %s on %zu socket(s) (%zu of them HTTPS), %u thread(s) each",
	    cfg->root->path, srv->count, cfg->tls_count, MAX(cfg->threads, 1u));
	*out = srv;
	return 0;
}

void
http_server_stop(struct http_server *server)
{
	if (server == NULL)
		return;
	http_streams_stop(server->streams);
	for (size_t i = 0; i < server->count; i++) {
		MHD_socket fd = MHD_quiesce_daemon(server->daemons[i]);
		MHD_stop_daemon(server->daemons[i]);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	http_streams_free(server->streams);
	http_deadlines_stop(server->deadlines);
	free(server);
}
