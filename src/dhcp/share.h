/* DHCP servers sharing one PostgreSQL database (state-url): heartbeats,
 * the RFC 3074 split of each subnet's clients between the live servers
 * that give addresses on it (each publishes its full-mode subnets with
 * its heartbeat), and the leases the others wrote.  The loop's once-a-second tick drives it: one small
 * statement for the heartbeat, one for the live servers, and every
 * DHCP_SHARE_POLL_S one for the leases changed by the others. */
#ifndef PXED_DHCP_SHARE_H
#define PXED_DHCP_SHARE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/log.h"
#include "dhcp/share_thread.h"
#include "dhcp/split.h"
#include "store/store.h"

#define DHCP_SHARE_DEAD_MS 4000         /* a heartbeat older than this: gone */
#define DHCP_SHARE_POLL_S 2             /* leases of the others read this often */
#define DHCP_SHARE_MARGIN_MS 5000       /* read again: a write commits after its stamp */
#define DHCP_SHARE_ROWS 4096            /* leases read per poll at most */
#define DHCP_SHARE_STOP_MS 2000         /* the thread's stop waits this long */

struct dhcp_share {
	bool on;                          /* state-url: the pools are shared */
	char self[SPLIT_NAME_MAX];
	char live[SPLIT_SERVERS_MAX][SPLIT_NAME_MAX];   /* sorted; self among them */
	char live_subnets[SPLIT_SERVERS_MAX][STORE_SERVER_SUBNETS_MAX]; /* what each published */
	size_t live_count;
	char subnets[STORE_SERVER_SUBNETS_MAX];        /* ours, published */
	bool known;                       /* the split was computed once */
	bool all;                         /* no heartbeats read: every client served */
	struct share_thread *thread;      /* the statements (share_thread.h) */
	int64_t started_ms;               /* unix ms: serve all if no list by + DEAD */
	uint64_t taken_by_others;         /* lease writes lost to another server */
	struct log_limit lost_log;        /* their line: at most every 10 s */
};

struct dhcp_server;
struct dhcp_origin;
struct dhcp_message;

/* With state-url: name the server (server-name, else the host name) and
 * start the thread that beats, reads the live servers and the others'
 * leases (share_thread.h).  Until its first list of live servers only the
 * requests that name this server are answered (at most
 * DHCP_SHARE_DEAD_MS: then every client, the database not answering). */
void dhcp_share_start(struct dhcp_server *srv, const char *where);
void dhcp_share_stop(struct dhcp_server *srv);
/* Once a second, on the loop: take what the thread read. */
void dhcp_share_tick(struct dhcp_server *srv, int64_t now);
/* What this server runs, published with its heartbeat
 * (share_thread_set_running); nothing when not sharing. */
void dhcp_share_running(struct dhcp_server *srv, share_running_fn *fn, void *arg);
/* The split again now (a reload changed the subnets). */
void dhcp_share_resplit(struct dhcp_server *srv);
/* Does this server answer m, on its full-mode subnet sn?  DISCOVERs and
 * broadcast REQUESTs (INIT-REBOOT, REBINDING) only for its buckets of sn;
 * a REQUEST naming a server (SELECTING), a unicast renewal (the client
 * chose us), DECLINE, RELEASE, INFORM always.  Always true when not
 * sharing. */
struct dhcp_subnet;
bool dhcp_share_answers(const struct dhcp_server *srv, const struct dhcp_subnet *sn,
    bool broadcast, const struct dhcp_message *m);
/* A lease write lost (the store worker's take_lost): another client,
 * holder, has the address.  The pool learns holder's lease (when it was
 * read); logged at most every 10 s, counted. */
struct store_lease;
void dhcp_share_lost(struct dhcp_server *srv, const struct store_lease *holder);

#endif
