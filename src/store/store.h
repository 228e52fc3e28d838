/* The state store: leases and boot events, in SQLite (WAL) under
 * state-dir, or in PostgreSQL (store/db.h holds the engines).
 *
 * Writes are grouped: store_* calls made during one turn of the event loop
 * join one transaction, and store_commit() ends it; the DHCP server sends
 * its ACKs only after the commit returned, so an acknowledged lease
 * survives kill -9 of pxed (SQLite: WAL, synchronous=NORMAL, the commit has
 * reached the kernel; PostgreSQL: the server's commit).  One connection per
 * thread: the DHCP server's writes go through its store worker
 * (dhcp/store_worker.h), which owns a connection of its own. */
#ifndef PXED_STORE_STORE_H
#define PXED_STORE_STORE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_CLIENT_ID_MAX 64

enum lease_state {
	LEASE_OFFERED = 1,              /* not persisted: an offer is volatile */
	LEASE_BOUND = 2,
	LEASE_RELEASED = 3,
	LEASE_DECLINED = 4,             /* address quarantined until expires */
};

struct store_lease {
	struct in_addr address;
	uint8_t mac[16];
	uint8_t mac_len;
	uint8_t client_id[STORE_CLIENT_ID_MAX]; /* option 61, or empty */
	uint8_t client_id_len;
	enum lease_state state;
	int64_t starts;                 /* unix seconds */
	int64_t expires;                /* unix seconds; INT64_MAX = infinite */
	char hostname[64];
};

/* The schema version this pxed migrates a database to. */
int store_schema_latest(void);
/* Open where: a directory (its pxed.db, created) or a postgresql:// URL;
 * the schema is migrated.  Returns 0 or a negative errno; logs. */
int store_open(struct store **out, const char *where);
void store_close(struct store *st);
/* The state-url setting: "" or a postgresql:// (postgres://) URL.  A
 * config_validator: 0 or -EINVAL with err. */
int store_url_check(const char *value, char *err, size_t err_size);
/* Is the database reachable (SQLite: always)?  A lost PostgreSQL
 * connection is made again by the next statement, with backoff. */
bool store_connected(struct store *st);
/* Ask the database (SELECT 1; on PostgreSQL a round trip, and a
 * reconnection when it is time): 0 or -EIO. */
int store_ping(struct store *st);
/* "sqlite" or "postgresql". */
const char *store_engine(const struct store *st);
/* The engine store_open(where) would use, without opening it. */
const char *store_engine_of(const char *where);

/* Insert or replace the lease for lease->address (part of the current
 * batch).  Returns 0 or -EIO.  With a server name set (servers sharing
 * one database), the address is taken only when free, expired, released
 * or already this client's: -EBUSY when another client holds it. */
int store_lease_put(struct store *st, const struct store_lease *lease);
/* This server's name among those sharing the database ("": alone, the
 * lease writes are unconditional); see store/servers.h. */
#define STORE_SERVER_NAME_MAX 64
#define STORE_SERVER_SUBNETS_MAX 640  /* 32 of "255.255.255.255/32 " and the NUL */
void store_set_server(struct store *st, const char *name);
const char *store_server(const struct store *st);
/* Forget the lease on address. */
int store_lease_delete(struct store *st, struct in_addr address);
/* The client let its address go (a RELEASE): alone, store_lease_delete;
 * with a server name set, the row becomes released (state 3, stamped
 * updated, this server's) while it is that client's binding (lease->mac,
 * or lease->client_id when not empty), so that the other servers read it
 * and free the address (dhcp/share.c); else nothing changes.  0 or -EIO. */
int store_lease_release(struct store *st, const struct store_lease *lease);
/* Call fn for every stored lease (at start-up). Returns 0 or -EIO. */
/* The lease of an address (any state): 0, -ENOENT or -EIO. */
int store_lease_get(struct store *st, struct in_addr address, struct store_lease *out);

/* A client's address as it said it has it (proxy mode: the lease is
 * another server's), in the current batch.  Rows not seen for a day are
 * pruned.  0 or a negative errno. */
int store_client_addr_put(struct store *st, struct in_addr address, const uint8_t *mac,
    size_t mac_len, int64_t when_ms);
/* The MAC at address: its lease's, else the one it said it has; the MAC's
 * length, 0 when unknown (boot timelines of TFTP and HTTP). */
size_t store_mac_of(struct store *st, struct in_addr address, uint8_t mac[16]);
/* Up to max leases with an address (host order) above after, ordered by
 * address: the count or a negative errno.  Their count: */
int store_lease_page(struct store *st, uint32_t after, struct store_lease *out, size_t max);
int64_t store_lease_count(struct store *st);
int store_lease_foreach(struct store *st,
    void (*fn)(const struct store_lease *lease, void *arg), void *arg);

/* A boot timeline entry for a MAC (queued in memory until the next
 * store_events_flush): kind is e.g. "dhcp-discover",
 * "dhcp-offer", "dhcp-ack", "pxe-ack", "tftp-start", "tftp-done",
 * "tftp-failed", "http-done"; detail is free text (file, address, bytes,
 * error).  Old events are pruned: a MAC keeps its newest
 * STORE_EVENTS_PER_MAC (trimmed every 16th event, so a few more may wait on
 * disk), and the table its newest STORE_EVENTS_MAX. */
#define STORE_EVENTS_PER_MAC 200
#define STORE_EVENTS_MAX 100000         /* in the whole table */
int store_event_add(struct store *st, const uint8_t *mac, size_t mac_len,
    const char *kind, const char *detail, int64_t when_ms);
/* The same with the machine's UUID as text (DHCP option 97 of a
 * "dhcp-discover"; "" for none): the host registered from the event gets
 * it.  At most STORE_UUID_TEXT - 1 characters are kept. */
#define STORE_UUID_TEXT 37              /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
int store_event_add_uuid(struct store *st, const uint8_t *mac, size_t mac_len,
    const char *kind, const char *detail, const char *uuid, int64_t when_ms);

/* The same without publishing it on the event bus (dhcp/store_worker.c:
 * the loop published it when it happened). */
int store_event_queue(struct store *st, const uint8_t *mac, size_t mac_len,
    const char *kind, const char *detail, const char *uuid, int64_t when_ms);

/* Write the queued events (one transaction); when the connection was
 * lost they stay queued for the next flush.  The daemon calls it from a
 * timer; store_close and the list functions call it too.  0 or -EIO. */
#define STORE_EVENT_QUEUE 4096
int store_events_flush(struct store *st);
/* DHCP-registered hosts (PXE/HTTP boot clients' DISCOVERs, at flush time)
 * wait for an administrator's approval (host-approval). */
void store_set_host_approval(struct store *st, bool required);
size_t store_events_queued(const struct store *st);

struct store_event {
	int64_t when_ms;
	char kind[32];
	char detail[256];
};
/* The newest max events of a MAC, oldest first; returns the count or -EIO. */
int store_event_list(struct store *st, const uint8_t *mac, size_t mac_len,
    struct store_event *out, size_t max);

/* MACs seen, newest first, with their last event: for "pxectl status". */
struct store_client {
	uint8_t mac[16];
	uint8_t mac_len;
	int64_t last_ms;
	char last_kind[32];
	char last_detail[256];
};
int store_client_list(struct store *st, struct store_client *out, size_t max);

/* End the current batch: COMMIT if a transaction is open.  Returns 0 or
 * -EIO (then the batch is rolled back and the caller must not send the
 * replies that depended on it). */
int store_commit(struct store *st);
/* True if writes are waiting for store_commit(). */
bool store_pending(const struct store *st);

#endif
