/* HTTP server for boot files, image chunks and the REST API (api/), on
 * libmicrohttpd.
 *
 * The daemon binds the listening sockets as root and hands them over; the
 * server runs in libmicrohttpd's own threads (epoll), so nothing here
 * touches the libuv loop.  This is the only part that includes
 * microhttpd.h. */
#ifndef PXED_HTTP_SERVER_H
#define PXED_HTTP_SERVER_H

#include <stddef.h>

#include "files/files.h"

struct api;
struct inflight;

#define HTTP_LISTEN_MAX 16

struct http_config {
	/* bound, listening TCP sockets; they stay the caller's: the server
	 * serves a dup of each and closes only its dup on stop */
	int listen_fds[HTTP_LISTEN_MAX];
	size_t listen_count;
	const struct files_root *root;     /* lives as long as the server */
	unsigned max_connections;          /* total, across all sockets */
	unsigned max_per_ip;               /* 0 = no per-address cap */
	unsigned idle_timeout_s;           /* keep-alive idle timeout */
	unsigned header_timeout_s;         /* a first request's line and headers (0: none) */
	unsigned threads;                  /* libmicrohttpd worker threads */
	unsigned body_memory_mb;           /* request bodies in flight, together */
	unsigned body_min_rate;            /* bytes/s a body must keep up (0: none) */
	struct api *api;                   /* the REST API (NULL: none) */
	const struct files_root *ui;       /* the console's files (NULL: none) */
	struct inflight *inflight;         /* downloads in flight are listed (NULL: no) */
	/* HTTPS: listening sockets, served with this certificate and key
	 * (PEM text, read before privileges went; they must outlive the
	 * server); the API's reads and changes are then refused over plain
	 * HTTP but from the server itself (loopback, or its own address) */
	int tls_fds[HTTP_LISTEN_MAX];
	size_t tls_count;
	const char *tls_cert_pem, *tls_key_pem;
	unsigned https_port;               /* for redirects of the console to HTTPS */
};

struct http_server;

/* Start serving.  Returns 0 and *out, or a negative errno; logs why. */
int http_server_start(struct http_server **out, const struct http_config *cfg);
/* Stop accepting, finish, free.  NULL is allowed. */
void http_server_stop(struct http_server *server);

/* Turn a raw request target ("/boot/a%20b.efi?x=1") into a normalized path
 * beneath the root: cut the query, percent-decode (refusing %00, bad
 * escapes and control bytes), then files_path_normalize().  Pure; used by
 * the server and fuzzed.  Returns 0 or a negative errno (-EINVAL bad
 * escape, -EACCES forbidden, -ENAMETOOLONG). */
int http_path_resolve(const char *target, size_t target_len, const char *root_path,
    char *out, size_t out_size);

#endif
