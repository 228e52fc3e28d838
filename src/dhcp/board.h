/* The board: how the API's threads (libmicrohttpd) reach the DHCP engine
 * and the rest of the loop thread's data.  A thread never touches loop
 * data: it posts what it wants (a reload, the subnets' views, a copy of
 * the running configuration, the TFTP transfers), the loop is woken
 * (uv_async_send, through the wake function main.c gives), does it, and
 * posts the result; the thread waits for it, bounded.  Asks that arrive
 * together are answered by one turn of the loop.  A reload is answered
 * later, when it is done (pxed/reload.h: its store reads run off the
 * loop): reload asks have tickets of their own. */
#ifndef PXED_DHCP_BOARD_H
#define PXED_DHCP_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp/server.h"

#define BOARD_RELOAD 1u                 /* re-read the config and the store's subnets */
#define BOARD_VIEWS 2u                  /* the subnets as served now */
#define BOARD_CONFIG 4u                 /* a snapshot: the running struct config */
#define BOARD_TRANSFERS 8u              /* a snapshot: the TFTP transfers (tftp/server.h) */
#define BOARD_WAIT_MS 10000
/* A reload's ask waits for the reload being done (it may have to wait for
 * one under way first: two reloads' bound, RELOAD_READS_MS) */
#define BOARD_RELOAD_WAIT_MS 25000

struct dhcp_board;

/* Loop side. */
int board_create(struct dhcp_board **out, void (*wake)(void *arg), void *arg);
void board_free(struct dhcp_board *b);
/* The loop is stopping: asks waiting and to come fail at once. */
void board_close(struct dhcp_board *b);
/* What is asked (BOARD_* bits), the ticket that answers it and, with
 * BOARD_RELOAD, the newest reload ticket asked. */
unsigned board_take(struct dhcp_board *b, uint64_t *ticket, uint64_t *reload_ticket);
/* The answer to ticket (board_take's; its reload aside): views (NULL:
 * DHCP is off). */
void board_done(struct dhcp_board *b, uint64_t ticket, const struct dhcp_views *views);
/* A reload is done: the asks up to reload_ticket get rc and msg (kept for
 * them until the next reload's); dhcp false: DHCP is off (-ENOTSUP). */
void board_reload_done(struct dhcp_board *b, uint64_t reload_ticket, int rc, const char *msg,
    bool dhcp);

/* A snapshot answering BOARD_CONFIG or BOARD_TRANSFERS (one bit), made on
 * the loop before board_done: data (malloc'd, len bytes) is taken over
 * and replaces the previous one; NULL when it could not be made. */
void board_put(struct dhcp_board *b, unsigned what, void *data, size_t len);

/* API side: ask and wait (BOARD_WAIT_MS; a reload BOARD_RELOAD_WAIT_MS).
 * Returns the reload's rc (or 0), -ETIMEDOUT, -ECANCELED (pxed is
 * stopping), or -ENOTSUP when DHCP is off; msg gets the reload's message,
 * views (if not NULL) the views. */
int board_ask(struct dhcp_board *b, unsigned what, char *msg, size_t msg_size,
    struct dhcp_views *views);
/* Ask for a snapshot (BOARD_CONFIG or BOARD_TRANSFERS, with or without
 * DHCP) and wait: 0 with a malloc'd copy in *data (the caller frees it)
 * and its length, -ETIMEDOUT, -ECANCELED (pxed is stopping) or -ENOMEM
 * (the loop could not make it). */
int board_ask_snapshot(struct dhcp_board *b, unsigned what, void **data, size_t *len);

#endif
