/* A reload (SIGHUP, pxectl reload) without the loop waiting on the
 * database.  A round: the config file is read on the loop (prepare), the
 * state store is read on the reader thread with a connection of its own
 * (the subnets changed with pxectl; the stored leases, for the new DHCP
 * pools), and the new configuration is applied on the loop once the reads
 * are in (apply).  Meanwhile the running configuration serves.  A reload
 * asked during a round is coalesced into one more round after it (at most
 * one waits).  Reads that fail, or are not in within RELOAD_READS_MS, fail
 * the round as a whole: nothing of it is applied.  A read still stuck in
 * a frozen database when its round failed is dropped when it returns; the
 * next round's reads wait for it, within their own bound. */
#ifndef PXED_RELOAD_H
#define PXED_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/config.h"
#include "dhcp/server.h"
#include "store/subnets.h"

#define RELOAD_READS_MS 10000
#define RELOAD_STOP_MS 2000             /* the reader's last read, at stop */

/* What a round read from the store. */
struct reload_reads {
	struct store_subnet subnet[CONFIG_SUBNETS_MAX];
	size_t subnet_count;
	struct dhcp_stored leases;      /* empty when not asked */
};

struct reload_ops {
	/* On the loop, a round begins: read the config file.  0, or a
	 * negative errno with msg (the round fails at once, nothing read). */
	int (*prepare)(void *arg, char *msg, size_t size);
	/* On the loop, the reads are in (reads NULL: no store): apply.  0 or a
	 * negative errno (nothing applied), msg either way. */
	int (*apply)(void *arg, const struct reload_reads *reads, char *msg, size_t size);
	/* The round's outcome for the asks up to ticket (0: none from the
	 * board, SIGHUP only). */
	void (*done)(void *arg, uint64_t ticket, int rc, const char *msg);
	void *arg;
};

struct reloader;

/* st: the reader's connection, taken over (closed at stop; NULL: no store,
 * a round applies at once); leases: read the stored leases too.  0 or a
 * negative errno. */
int reloader_start(struct reloader **out, uv_loop_t *loop, struct store *st, bool leases,
    const struct reload_ops *ops);
/* Ask a round; ticket: the board's reload ticket (0: SIGHUP). */
void reloader_ask(struct reloader *r, uint64_t ticket);
/* On the loop at stop: a round under way fails (-ECANCELED), the reader
 * stops (waited for RELOAD_STOP_MS, else left behind, logged), the
 * handles close and r is freed with them. */
void reloader_stop(struct reloader *r);

#endif
