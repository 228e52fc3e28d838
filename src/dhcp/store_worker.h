/* The DHCP server's store worker: one thread with its own store
 * connection that takes the loop's writes (leases, client addresses, boot
 * events) from a bounded queue, commits the batches the loop ended (those
 * that queued up while it was busy in one transaction, up to
 * STORE_WORKER_GROUP), and reports every batch's outcome back in order, so the
 * loop never waits on the database (SQLite's commit, PostgreSQL's round
 * trips, a reconnection, a frozen server) and still sends an ACK only after
 * its lease is committed.
 *
 * Loop side: the _put/_release/_event calls and store_worker_commit never
 * block on the database (a mutex held for a copy only); store_worker_take
 * reads the outcomes.  The worker calls notify(arg) (uv_async_send) when an
 * outcome is ready or the database comes back.
 *
 * While the database is unreachable the worker asks it again whenever it
 * has been idle STORE_WORKER_EVENTS_MS (PostgreSQL's own backoff, 1 s
 * doubling to 30 s, decides when a reconnection is attempted); boot events it could not write are kept
 * (bounded) and written when it returns. */
#ifndef PXED_DHCP_STORE_WORKER_H
#define PXED_DHCP_STORE_WORKER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_WORKER_QUEUE 4096         /* writes waiting for the worker */
#define STORE_WORKER_OUTCOMES 256       /* batches committed, not yet taken */
#define STORE_WORKER_EVENTS_MS 500      /* boot events written at least this often */
#define STORE_WORKER_LOST 64            /* lost lease writes, not yet taken */
#define STORE_WORKER_GROUP 16           /* batches at most in one commit */

struct store_worker;

/* Start the thread (after the sandbox: it inherits it) on its own
 * connection to where; host_approval: store_set_host_approval of it (the
 * hosts that boot events register); server: store_set_server of it (""
 * alone; else lease writes are conditional, see store_worker_take_lost).  0 or a negative errno (logged). */
int store_worker_start(struct store_worker **out, const char *where, bool host_approval,
    const char *server, void (*notify)(void *arg), void *arg);
/* Write what is queued, commit, stop the thread; notify is not called
 * any more.  Waits at most timeout_ms for the thread (a database that does
 * not answer): then the worker is left behind, logged.  The outcomes not
 * taken yet can still be taken before store_worker_free. */
void store_worker_stop(struct store_worker *w, unsigned timeout_ms);
/* Close its connection and free it: false (nothing done) for a worker
 * left behind by store_worker_stop, which still runs. */
bool store_worker_free(struct store_worker *w);

/* Queue a write into the current batch: 0, or -ENOBUFS when the queue is
 * full (the database does not keep up: the caller treats it as a failed
 * write). */
int store_worker_lease_put(struct store_worker *w, const struct store_lease *lease);
/* The client released lease->address (store_lease_release). */
int store_worker_lease_release(struct store_worker *w, const struct store_lease *lease);
int store_worker_addr_put(struct store_worker *w, struct in_addr address,
    const uint8_t *mac, size_t mac_len, int64_t when_ms);
/* A boot event (published on the event bus at once, written later). */
int store_worker_event(struct store_worker *w, const uint8_t *mac, size_t mac_len,
    const char *kind, const char *detail, const char *uuid, int64_t when_ms);
/* Writes queued since the last store_worker_commit? */
bool store_worker_batch_open(const struct store_worker *w);
/* End the current batch: its number (> 0), whose outcome comes through
 * store_worker_take; -ENOBUFS when the queue or the outcomes are full
 * (then the batch is lost and reported failed: its ACKs must not go). */
int64_t store_worker_commit(struct store_worker *w);

struct store_outcome {
	int64_t batch;
	bool committed;                 /* every write of it is in the database */
};
/* The next outcome, in batch order: true, or false when none is ready. */
bool store_worker_take(struct store_worker *w, struct store_outcome *out);
/* Servers sharing the database (store_set_server on the worker's
 * connection): a lease write of a batch <= upto that changed nothing
 * because another server's client holds the address.  True, and in *l
 * that client's lease (l->state LEASE_RELEASED when it could not be read;
 * l->address the address either way). */
bool store_worker_take_lost(struct store_worker *w, int64_t upto, struct store_lease *l);

/* The database answered the last time the worker asked (a commit, a
 * write or a probe); a connection that was lost and came back is
 * reachable again. */
bool store_worker_reachable(struct store_worker *w);
/* While batches wait for their outcome: ms since the worker last answered
 * one, or since the first of them was queued (0: none waits).  A database
 * that does not answer at all (a frozen server) shows here. */
int64_t store_worker_waiting_ms(struct store_worker *w);

#endif
