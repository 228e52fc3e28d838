/* The TFTP transfers in flight as the API shows them (GET
 * /api/v1/transfers): a copy made on the loop (snapshot.c), handed to an
 * API thread through the board (dhcp/board.h).  Plain structs: the API
 * includes this, not server.h (libuv). */
#ifndef PXED_TFTP_SNAPSHOT_H
#define PXED_TFTP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "files/files.h"

struct tftp_server;

/* A unicast transfer in flight. */
struct tftp_transfer_view {
	struct sockaddr_storage peer;
	char file[FILES_PATH_MAX];      /* beneath the root (an upload: its name) */
	bool upload;
	uint64_t bytes;                 /* acknowledged by the client (an upload: received) */
	uint64_t total;                 /* the file's size; 0: unknown (netascii, an
	                                 * upload without tsize) */
	uint64_t rate;                  /* bytes/s over the last 1 to 2 s */
	int64_t started_ms;             /* unix ms */
};

struct tftp_transfers {
	size_t count;                   /* in item[] */
	size_t more;                    /* transfers in flight not listed (over max) */
	struct tftp_transfer_view item[];
};

/* The transfers in flight, at most max (newest first), malloc'd with its
 * size in *len; NULL when out of memory.  server may be NULL (TFTP off:
 * none).  Multicast transfers (PXE MTFTP passes, RFC 2090) are not
 * listed.  On the loop. */
struct tftp_transfers *tftp_server_transfers(const struct tftp_server *server, size_t max,
    size_t *len);
/* Note each transfer's progress, for its rate: call it once a second (a
 * timer of the daemon), not from the send path.  NULL is allowed. */
void tftp_server_sample(struct tftp_server *server);

#endif
