/* DHCPv4 server, proxyDHCP and PXE boot server (UDP 4011). */
#ifndef PXED_DHCP_SERVER_H
#define PXED_DHCP_SERVER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/config.h"

struct dhcp_server;
struct store;

/* Is DHCP (or proxyDHCP) configured at all? */
bool dhcp_enabled(const struct config *cfg);

/* Sockets for ports 67 and 4011, opened as root before privileges drop
 * (one pair per interface when cfg->interface lists some), and one on 68
 * that hears other servers (dhcp/rogue.c) when a subnet is served in full
 * mode (not fatal when 68 is taken).  Returns 0 or a negative errno; logs. */
#define DHCP_SOCKETS_MAX 16
struct dhcp_sockets {
	int fd[DHCP_SOCKETS_MAX];
	bool is_pxe_port[DHCP_SOCKETS_MAX];
	size_t count;
	int client_fd;                  /* port 68: other servers' answers (-1: none) */
};
int dhcp_sockets_open(struct dhcp_sockets *socks, const struct config *cfg);
void dhcp_sockets_close(struct dhcp_sockets *socks);

/* Check the DHCP parts of a configuration (ranges inside subnets, hosts,
 * boot rules) the way the server will read them.  0 or -EINVAL + err. */
int dhcp_config_check(const struct config *cfg, char *err, size_t err_size);

/* store (may be NULL) is read on the loop at start (the stored leases:
 * nothing is served yet); where names the same database: the server's store worker
 * (dhcp/store_worker.h) opens its own connection to it and makes every
 * write of the DHCP path, and of dhcp_server_event, off the loop. */
int dhcp_server_start(struct dhcp_server **out, uv_loop_t *loop, const struct config *cfg,
    const struct dhcp_sockets *socks, struct store *store, const char *where);
/* Stops the worker too (its queued writes are made first, waiting at most
 * 10 s for a database that does not answer). */
void dhcp_server_stop(struct dhcp_server *srv);
/* A boot event of another service (TFTP) into the boot timeline: through
 * the store worker.  No-op without a store. */
void dhcp_server_event(struct dhcp_server *srv, const uint8_t *mac, size_t mac_len,
    const char *kind, const char *detail, int64_t when_ms);

/* The stored leases a reload puts into the new pools (the bound, unexpired
 * ones), read off the loop (pxed/reload.c's reader thread) with a
 * connection of its own: at most DHCP_STORED_MAX (the pools' most). */
#define DHCP_STORED_MAX ((size_t)CONFIG_SUBNETS_MAX * 65536)
struct store_lease;
struct dhcp_stored {
	struct store_lease *lease;      /* malloc'd */
	size_t count, size;
};
/* 0, -EIO (the store cannot be read), -E2BIG or -ENOMEM; out is freed
 * with dhcp_stored_free either way. */
int dhcp_stored_read(struct store *st, struct dhcp_stored *out);
void dhcp_stored_free(struct dhcp_stored *s);

/* Apply a new configuration while running (SIGHUP, pxectl reload): the
 * runtime state is built off to the side and swapped in with every lease,
 * offer and quarantine that still fits and the stored leases that fit
 * again (stored, read before: the loop does not read the store); the
 * sockets stay.  0, or -EINVAL with err (the running state is kept). */
int dhcp_server_reload(struct dhcp_server *srv, const struct config *cfg,
    const struct dhcp_stored *stored, char *err, size_t err_size);

/* What `pxectl subnet list` shows of a subnet, and of a relay whose subnet
 * is not configured ("discovered"). */
#define DHCP_VIEW_SETTINGS 12
struct dhcp_setting_view {
	char name[16];
	char value[200];
	char source[8];                 /* file, default, global, pxectl */
};
struct dhcp_subnet_view {
	char cidr[48];
	struct dhcp_setting_view setting[DHCP_VIEW_SETTINGS];
	size_t setting_count;
	int64_t changed_ms;             /* when pxectl changed it, 0: never */
	char mode[8];                   /* full, proxy, off */
	char source[8];                 /* file, pxectl */
	char reach[48];                 /* "relay 198.51.100.1", "interface br0", "" */
	uint64_t requests;
	unsigned clients_hour, boots_hour, leases;
	int64_t last_seen;              /* unix seconds, 0: never */
	bool full;                      /* served in full mode: the pool below */
	unsigned leasable, free;        /* its addresses, free ones (dhcp/guard.h) */
	bool low;                       /* the pool-low alarm rings */
	uint64_t refused;               /* new clients not served, this minute */
};
/* Another DHCP server heard on a full-mode subnet (dhcp/rogue.c). */
struct dhcp_rogue_view {
	char server[16], source[16], offered[16], subnet[48], type[8], mac[18];
	uint64_t replies;
	int64_t first_seen, last_seen;
};
#define DHCP_ROGUE_VIEWS 16
struct dhcp_discovered_view {
	char relay[16];
	uint64_t requests;
	int64_t first_seen, last_seen;
};
#define DHCP_VIEWS_MAX 64
struct dhcp_views {
	struct dhcp_subnet_view subnet[DHCP_VIEWS_MAX];
	size_t subnet_count;
	struct dhcp_discovered_view discovered[DHCP_VIEWS_MAX];
	size_t discovered_count;
	struct dhcp_rogue_view rogue[DHCP_ROGUE_VIEWS];
	size_t rogue_count;
};
/* Fill v (on the loop thread). */
void dhcp_server_views(struct dhcp_server *srv, struct dhcp_views *v);

/* The MAC that holds a lease on addr (for the boot timeline of TFTP and
 * HTTP transfers); returns its length, 0 when unknown. */
size_t dhcp_server_mac_of(struct dhcp_server *srv, struct in_addr addr, uint8_t mac[16]);

#endif
