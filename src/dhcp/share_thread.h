/* The database's side of servers sharing one PostgreSQL (dhcp/share.c):
 * a thread with a connection of its own beats this server's heartbeat
 * every second, reads the live servers, and every DHCP_SHARE_POLL_S the
 * leases the others wrote, so the event loop never waits for these
 * statements (a lost or frozen database holds this thread only).  The
 * loop takes what it read on its tick. */
#ifndef PXED_DHCP_SHARE_THREAD_H
#define PXED_DHCP_SHARE_THREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "dhcp/split.h"
#include "store/store.h"

#define SHARE_THREAD_LEARNED 4096       /* others' leases read, not yet taken */
#define SHARE_THREAD_FIRST_MS 2000      /* start waits this long for the first round */

struct share_thread;

/* Open a connection to where as server self and start the thread (after
 * the sandbox: it inherits it); wait for its first round (heartbeat, live
 * servers) at most SHARE_THREAD_FIRST_MS.  subnets: what the heartbeats
 * publish (share_thread_set_subnets).  0 or a negative errno (logged). */
int share_thread_start(struct share_thread **out, const char *where, const char *self,
    const char *subnets);
/* A server without DHCP: the thread only beats (no subnets: it takes no
 * bucket anywhere), publishing what runs here (share_thread_set_running);
 * it reads neither the live servers nor the leases. */
int share_thread_start_beat(struct share_thread **out, const char *where, const char *self);
/* Stop the thread and free it.  Waits at most timeout_ms (a database that
 * does not answer): then the thread is left behind, with its memory, and
 * logged. */
void share_thread_stop(struct share_thread *t, unsigned timeout_ms);

/* The live servers (sorted by name) and the subnets each published
 * when they were read again since the last call: true.  The heartbeat of
 * self goes first, so a database that answers lists self. */
bool share_thread_take_live(struct share_thread *t, char (*names)[SPLIT_NAME_MAX],
    char (*subnets)[STORE_SERVER_SUBNETS_MAX], size_t *n);
/* The subnets this server gives addresses on ("network/prefix" separated
 * by spaces, "" for none), published by the next heartbeats. */
void share_thread_set_subnets(struct share_thread *t, const char *subnets);
/* What this server runs (its transfers in flight and multicast sessions):
 * fn returns it as malloc'd JSON text (or NULL: the last text is kept),
 * called on the thread with its store connection after each heartbeat;
 * the next heartbeat publishes it (store_server_beat).  fn must not wait
 * long: the next round waits for it.  NULL: nothing more is gathered. */
typedef char *share_running_fn(void *arg, struct store *st);
void share_thread_set_running(struct share_thread *t, share_running_fn *fn, void *arg);
/* Leases the others wrote, oldest first: at most max into out; how many. */
size_t share_thread_take_learned(struct share_thread *t, struct store_lease *out, size_t max);

#endif
