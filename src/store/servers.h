/* Servers sharing one database (PostgreSQL): each one's heartbeat, a row
 * it updates every second, and the leases the others wrote (dhcp/share.c
 * uses both).  On SQLite the calls work too, and nothing calls them. */
#ifndef PXED_STORE_SERVERS_H
#define PXED_STORE_SERVERS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The database's clock, unix ms (0 when it does not answer). */
int64_t store_now_ms(struct store *st);
/* Stamp name's heartbeat with the database's clock and store what it
 * runs (running: JSON text, NULL or "" for nothing) and the subnets it
 * gives addresses on (subnets: "network/prefix" separated by spaces, NULL
 * or "" for none; its own statement: call it with no batch open).  0 or
 * -EIO. */
int store_server_beat(struct store *st, const char *name, const char *running,
    const char *subnets);
/* What the servers other than self whose heartbeat is younger than
 * within_ms run (store_server_beat's text, not empty): fn for each, by
 * name, at most STORE_SERVERS_RUNNING_MAX.  How many, or -EIO. */
#define STORE_SERVERS_RUNNING_MAX 64
int store_servers_running(struct store *st, int64_t within_ms, const char *self,
    void (*fn)(const char *name, const char *running, void *arg), void *arg);
/* The servers whose heartbeat is younger than within_ms by the
 * database's clock, sorted by name (byte order), and the subnets each
 * published (subnets[i], unless subnets is NULL; cut to
 * STORE_SERVER_SUBNETS_MAX - 1): how many (at most max), or -EIO. */
int store_servers_live(struct store *st, int64_t within_ms,
    char (*names)[STORE_SERVER_NAME_MAX], char (*subnets)[STORE_SERVER_SUBNETS_MAX],
    size_t max);
/* Leases written by servers other than self with updated > after (unix
 * ms, the database's clock), oldest first, at most max: fn for each.
 * *last: the newest updated seen (unchanged when none).  The number of
 * rows, or -EIO. */
int store_lease_changes(struct store *st, const char *self, int64_t after, size_t max,
    void (*fn)(const struct store_lease *l, void *arg), void *arg, int64_t *last);

#endif
