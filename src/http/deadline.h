/* Slow clients: a deadline for each request's line and headers.
 *
 * libmicrohttpd's connection timeout counts idle time only, so a client
 * that sends its headers a byte every few seconds (slowloris) keeps a
 * connection, and with http-max-per-ip of them a few addresses hold every
 * slot.  Here each connection is watched from the moment it is accepted:
 * its first request's line and headers must be in within http-header-timeout
 * seconds, each later request's within http-timeout of the previous
 * answer (what an idle keep-alive connection may wait).  A connection that
 * has sent nothing at all by its deadline is idle, not slow (on a bad link
 * its request may be lost again and again): it is left to http-timeout,
 * and its first bytes, when they come, get the whole header time from
 * when the reaper sees them (TCP_INFO's bytes received).  A connection past
 * its deadline is shut down (shutdown(2): libmicrohttpd then sees the end
 * and closes it as its own).  A reaper thread looks once a second;
 * connections cut are counted (pxed_http_headers_slow_total) and summed up
 * in the log once a minute.  Slow request bodies have their own limit
 * (http-body-min-rate). */
#ifndef PXED_HTTP_DEADLINE_H
#define PXED_HTTP_DEADLINE_H

#include <stdint.h>

struct http_deadlines;
struct http_watch;

/* 0 or -errno; header_s 0: no deadlines (nothing is watched). */
int http_deadlines_start(struct http_deadlines **out, unsigned header_s, unsigned idle_s);
void http_deadlines_stop(struct http_deadlines *d);

/* A connection accepted on fd (NULL when not watched). */
struct http_watch *http_watch_add(struct http_deadlines *d, int fd);
/* Its request's headers are in; its answer is done (the next request's
 * headers are due within idle_s). */
void http_watch_headers_in(struct http_watch *w);
void http_watch_answered(struct http_deadlines *d, struct http_watch *w);
/* The connection closed. */
void http_watch_remove(struct http_deadlines *d, struct http_watch *w);

#endif
