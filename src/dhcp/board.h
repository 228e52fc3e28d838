/* The board: how the API's threads (libmicrohttpd) reach the DHCP engine,
 * which lives on the loop thread.  A thread never touches loop data: it
 * posts what it wants (a reload, the subnets' views), the loop is woken
 * (uv_async_send, through the wake function main.c gives), does it, and
 * posts the result; the thread waits for it, bounded.  Asks that arrive
 * together are answered by one turn of the loop. */
#ifndef PXED_DHCP_BOARD_H
#define PXED_DHCP_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "dhcp/server.h"

#define BOARD_RELOAD 1u                 /* re-read the config and the store's subnets */
#define BOARD_VIEWS 2u                  /* the subnets as served now */
#define BOARD_WAIT_MS 10000

struct dhcp_board;

/* Loop side. */
int board_create(struct dhcp_board **out, void (*wake)(void *arg), void *arg);
void board_free(struct dhcp_board *b);
/* The loop is stopping: asks waiting and to come fail at once. */
void board_close(struct dhcp_board *b);
/* What is asked (BOARD_* bits) and the ticket that answers it. */
unsigned board_take(struct dhcp_board *b, uint64_t *ticket);
/* The answer to ticket: rc and msg of a reload (0 and "" when none was
 * asked), views (NULL: DHCP is off). */
void board_done(struct dhcp_board *b, uint64_t ticket, int rc, const char *msg,
    const struct dhcp_views *views);

/* API side: ask and wait (BOARD_WAIT_MS).  Returns the reload's rc (or 0),
 * -ETIMEDOUT, -ECANCELED (pxed is stopping), or -ENOTSUP when DHCP is off; msg gets the reload's message,
 * views (if not NULL) the views. */
int board_ask(struct dhcp_board *b, unsigned what, char *msg, size_t msg_size,
    struct dhcp_views *views);

#endif
