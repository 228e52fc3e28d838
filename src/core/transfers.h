/* Transfers in flight, as the loop last saw them.  The TFTP server
 * publishes a snapshot of its sessions once a second (from the loop
 * thread); the API's threads read the latest one (GET /api/v1/transfers,
 * `pxectl status`).  A mutex guards the board; neither side waits long. */
#ifndef PXED_CORE_TRANSFERS_H
#define PXED_CORE_TRANSFERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/log.h"

#define TRANSFERS_MAX 256               /* listed; more are only counted */
#define TRANSFERS_PATH_MAX 256

struct transfer_info {
	char proto[8];                  /* "tftp" */
	char dir[8];                    /* "read" (to the client) or "write" */
	char peer[LOG_ADDR_MAX];
	char path[TRANSFERS_PATH_MAX];  /* cut when longer */
	uint64_t bytes;                 /* moved so far */
	uint64_t size;                  /* 0: not known */
	uint64_t elapsed_ms;            /* since the request */
	uint64_t rate;                  /* bytes/s since the previous snapshot */
};

/* Replace the board with n entries of total transfers in flight, as of
 * now_us (clock_now_us). */
void transfers_publish(const struct transfer_info *list, size_t n, size_t total,
    uint64_t now_us);

/* Copy up to max entries into out; *total is how many were in flight and
 * *at_us when the board was published (0: never).  Returns the count. */
size_t transfers_read(struct transfer_info *out, size_t max, size_t *total, uint64_t *at_us);

#endif
