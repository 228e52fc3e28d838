/* Responses made as they are sent (api_stream: Server-Sent Events), on
 * libmicrohttpd's suspend/resume: a stream with nothing to send parks its
 * connection, and a wake (an event published on the bus, or the 15 s
 * keepalive tick) resumes every parked one so it asks its stream again. */
#ifndef PXED_HTTP_STREAM_H
#define PXED_HTTP_STREAM_H

#include <microhttpd.h>

#include "api/api.h"

struct http_streams;

/* The parked-connection list and its keepalive ticker; the bus's notify
 * is pointed at it.  NULL when out of resources. */
struct http_streams *http_streams_start(void);
/* End every stream (each ends its response at its next read) and stop the
 * ticker.  Call before the daemons stop, and http_streams_free after.
 * NULL is allowed. */
void http_streams_stop(struct http_streams *hs);
void http_streams_free(struct http_streams *hs);
/* An MHD response reading s (taken over: its done runs when the response
 * is freed), or NULL (s->done has run). */
struct MHD_Response *http_stream_response(struct http_streams *hs,
    struct MHD_Connection *conn, struct api_stream *s);

#endif
