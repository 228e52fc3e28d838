/* HTTP downloads in flight, for GET /api/v1/transfers: a bounded table the
 * HTTP threads fill (a file answered with a body registers; its request's
 * completion leaves) and the API's threads read.  One mutex, held for a
 * few stores or for a copy.
 *
 * libmicrohttpd sends files with sendfile() and reports nothing before
 * the end, so progress comes from the kernel: the connection's TCP_INFO
 * (bytes the client acknowledged since the answer began, its header
 * included: a few hundred bytes), read when the table is listed and when
 * inflight_sample notes it for the rate (once a second, the daemon's
 * timer).  A connection whose TCP_INFO cannot be read is listed without a
 * byte count.  The socket stays open while its entry is in the table: the
 * completion of a request comes before libmicrohttpd closes its
 * connection. */
#ifndef PXED_CORE_INFLIGHT_H
#define PXED_CORE_INFLIGHT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"

#define INFLIGHT_FILE_MAX 256
#define INFLIGHT_UNTRACKED UINT32_MAX   /* a ticket: the table was full */

struct inflight;

struct inflight_view {
	char peer[LOG_ADDR_MAX];        /* printable */
	struct in_addr peer4;           /* 0: IPv6 */
	char file[INFLIGHT_FILE_MAX];
	bool bytes_known;               /* TCP_INFO could be read */
	uint64_t bytes;                 /* acknowledged by the client, at most total */
	uint64_t total;                 /* the answer's body */
	uint64_t rate;                  /* bytes/s over the last 1 to 2 s (0: unknown) */
	int64_t started_ms;             /* unix ms */
};

/* A table for at most slots downloads at once.  0 or -ENOMEM. */
int inflight_create(struct inflight **out, size_t slots);
void inflight_free(struct inflight *t);

/* A download begins on TCP socket sock (before its first byte is sent):
 * a ticket for inflight_end, INFLIGHT_UNTRACKED when the table is full
 * (counted, not listed).  t may be NULL (0: nothing to end). */
uint32_t inflight_begin(struct inflight *t, int sock, const char *peer, struct in_addr peer4,
    const char *file, uint64_t total);
/* It ended (ticket 0: nothing was begun). */
void inflight_end(struct inflight *t, uint32_t ticket);

/* Note each download's progress, for its rate: call it once a second.
 * NULL is allowed. */
void inflight_sample(struct inflight *t);

/* Up to max downloads into out, oldest first; returns how many.  *more:
 * those in flight not listed (over max, or untracked). */
size_t inflight_list(struct inflight *t, struct inflight_view *out, size_t max, size_t *more);

#endif
