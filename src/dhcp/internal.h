/* DHCP server internals shared by server.c, handle.c and subnets.c. */
#ifndef PXED_DHCP_INTERNAL_H
#define PXED_DHCP_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#include "boot/policy.h"
#include "core/config.h"
#include "core/log.h"
#include "dhcp/codec.h"
#include "dhcp/guard.h"
#include "dhcp/pool.h"
#include "dhcp/server.h"
#include "dhcp/share.h"
#include "tftp/mtftp_files.h"

/* What a subnet has seen (subnet list): requests, the clients seen and
 * the boots of the last hour, and how it is reached.  Kept across reloads
 * for a subnet that stays. */
#define DHCP_SEEN_SLOTS 256             /* distinct clients counted per hour */
#define DHCP_MINUTES 60
struct dhcp_subnet_stats {
	uint64_t requests;
	uint32_t seen_hash[DHCP_SEEN_SLOTS]; /* direct-mapped MAC hashes */
	int64_t seen_at[DHCP_SEEN_SLOTS];
	int64_t boot_minute[DHCP_MINUTES];  /* unix minute of the bucket */
	uint32_t boots[DHCP_MINUTES];
	struct in_addr relay;               /* the last relay (giaddr), or 0 */
	unsigned ifindex;                   /* the last local interface */
	int64_t last_seen;
};

struct dhcp_subnet {
	char name[48];
	bool off;                         /* disabled (pxectl subnet disable) */
	bool from_store;                  /* its mode comes from pxectl */
	struct dhcp_subnet_stats stats;
	struct in_addr network, netmask;
	struct in_addr next_server;       /* 0: our address on the subnet */
	uint32_t lease_time;
	struct in_addr router;
	struct in_addr dns[4];
	unsigned dns_count;
	char domain[128];
	bool has_pool;                    /* ranges given: full mode here */
	bool proxy;
	bool pxe;
	struct pool pool;
	struct boot_rules boot;
	struct dhcp_guard guard;          /* starvation guard, pool-low alarm; kept
	                                   * across reloads */
	/* servers sharing one database (share.c): the buckets this server
	 * answers here, and how many servers give addresses here (self
	 * counted) */
	bool share_mine[SPLIT_BUCKETS];
	size_t share_peers;
};

/* The PXE boot menu: item i is boot server type PXE_MENU_TYPE_BASE + i
 * (or type 0 for "local"); its target is served when a client discovers
 * that type on port 4011. */
#define PXE_MENU_TYPE_BASE 0x8000
struct pxe_menu {
	size_t count;
	char text[PXE_MENU_MAX][64];
	char target[PXE_MENU_MAX][BOOT_TARGET_MAX];
	uint16_t type[PXE_MENU_MAX];
	char prompt[64];
	uint8_t timeout;
};

struct dhcp_relay_rules {
	char id[64];
	bool remote_id;                   /* match 82.2 (else 82.1) */
	struct boot_rules boot;
};

struct dhcp_host {
	uint8_t mac[6];
	bool has_mac;                     /* false: matched by client id only */
	uint8_t client_id[POOL_KEY_MAX];  /* option 61 to match, or none */
	uint8_t client_id_len;
	struct in_addr address;           /* 0: no reservation */
	char hostname[64];
	struct boot_rules boot;
};

#define DHCP_QUEUE_MAX 64
/* Requests read (one recvmmsg) and handled per commit.  Under light load a
 * batch is the one or two datagrams waiting; under heavy load up to 32 share
 * one transaction and leave with one sendmmsg.  32 replies (~2 KiB of
 * receive buffer each on the far side) still fit a default 208 KiB buffer of
 * a relay or load generator. */
#define DHCP_RECV_BATCH 32
#define DHCP_OWN_ADDRS_MAX 32

struct dhcp_pending {
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;
	int fd;
	struct sockaddr_in to;
	unsigned ifindex;                 /* for broadcasts: the interface */
	struct in_addr from;              /* source address */
	bool needs_commit;                /* an ACK that must wait for the store */
	int64_t batch;                    /* held: the store batch it waits for */
	struct in_addr lease;             /* an ACK: the address it gives */
	/* an ACK's log line, written when it is sent (not when held back) */
	char who[LOG_ADDR_MAX], mac[24], note[400];
};

/* Where a request came from and arrived. */
struct dhcp_origin {
	int fd;
	bool pxe_port;
	struct sockaddr_in peer;
	struct in_addr local;             /* our address on the receiving interface */
	unsigned ifindex;
	bool broadcast;                   /* sent to 255.255.255.255 */
};

/* Boot events recently recorded (see event() in handle.c): a hash of MAC,
 * kind and detail, and when.  Direct-mapped; a collision only means an
 * event is recorded again. */
#define DHCP_EVENT_SEEN 4096
struct dhcp_event_seen {
	uint64_t hash;
	int64_t when_ms;
};

/* A relay whose giaddr is in no known subnet ("discovered subnets"). */
#define DHCP_DISCOVERED_MAX 32
#define DHCP_DISCOVERED_LOG_S 600        /* logged again at most this often */
struct dhcp_discovered {
	struct in_addr giaddr;
	uint64_t requests;
	int64_t first_seen, last_seen, logged;
};

/* Addresses clients said they have (proxy mode: their lease is another
 * server's), for the boot timeline of TFTP and HTTP; direct-mapped by
 * address, a collision only forgets an older client. */
#define DHCP_ADDRS 4096
#define DHCP_ADDR_REFRESH_S 60          /* the store row is rewritten at most this often */
struct dhcp_client_addr {
	struct in_addr addr;
	uint8_t mac[6];
	int64_t seen;
};

/* The new-client buckets of relays (dhcp-relay-rate), by giaddr; the
 * least recently used is given to a relay not in the table. */
#define DHCP_RELAY_BUCKETS 64
struct dhcp_relay_bucket {
	struct in_addr giaddr;
	struct dhcp_bucket bucket;
	int64_t used_ms;
};

/* Another DHCP server heard answering on a full-mode subnet (rogue.c). */
#define DHCP_ROGUES_MAX 16
#define DHCP_ROGUE_LOG_S 600            /* the same server logged again at most this often */
struct dhcp_rogue {
	struct in_addr server;            /* its server id (54), else the source */
	struct in_addr source;            /* the datagram's source address */
	struct in_addr offered;           /* yiaddr of its last answer (0: a proxy offer) */
	uint8_t mac[6];                   /* the client it answered */
	char subnet[48];
	enum dhcp_type type;              /* of its last answer */
	uint64_t replies;
	int64_t first_seen, last_seen, logged;
};

/* Our own probe's client MAC: 02:70:78:65:64:NN ("\x02pxed" + a number);
 * requests with it are not answered (rogue.c sends them). */
#define DHCP_PROBE_MAC_PREFIX "\x02\x70\x78\x65\x64"
#define DHCP_PROBE_MAC_PREFIX_LEN 5

/* Replies and lease writes waiting for their store batch (server.c). */
#define DHCP_HELD_MAX 512               /* ACKs: 8 full batches */
#define DHCP_NOTES_MAX 1024             /* leases written */
/* A lease written: when its batch commits, the slot's stored end is set. */
struct dhcp_lease_note {
	int64_t batch;
	struct in_addr addr;
	int64_t expires;
};
/* No outcome from the store for this long: it is taken as unreachable. */
#define DHCP_STORE_STALL_MS 3000
/* A renewal answered from memory gets at least this long, else no answer. */
#define DHCP_OUTAGE_LEASE_MIN_S 10

struct dhcp_server {
	uv_loop_t *loop;
	struct config cfg;
	struct dhcp_sockets socks;
	uv_poll_t poll[DHCP_SOCKETS_MAX];
	size_t poll_count;
	struct store *store;             /* read at start (its leases), then NULL */
	struct dhcp_subnet subnet[CONFIG_SUBNETS_MAX];
	size_t subnet_count;
	struct dhcp_host host[CONFIG_HOSTS_MAX];
	size_t host_count;
	struct boot_rules boot;           /* global */
	struct pxe_menu menu;
	struct dhcp_relay_rules relay[CONFIG_RELAYS_MAX];
	size_t relay_count;
	struct mtftp_files *mtftp;        /* PXE MTFTP files (43.1-5); rules point here */
	struct dhcp_client_addr addrs[DHCP_ADDRS];
	struct dhcp_discovered discovered[DHCP_DISCOVERED_MAX];
	size_t discovered_count;
	struct dhcp_pending queue[DHCP_QUEUE_MAX];
	size_t queued;
	struct store_worker *worker;      /* the DHCP path's writes (store_worker.h) */
	uv_async_t store_answer;          /* the worker has outcomes */
	bool store_answer_on;
	struct dhcp_pending *held;        /* ring of DHCP_HELD_MAX ACKs */
	size_t held_head, held_count;
	struct dhcp_lease_note *notes;    /* ring of DHCP_NOTES_MAX */
	size_t notes_head, notes_count;
	struct dhcp_lease_note noted[DHCP_QUEUE_MAX];   /* written in this batch */
	size_t noted_count;
	bool store_unreachable;           /* the database does not answer */
	struct log_limit outage_log;      /* requests not answered meanwhile */
	unsigned long outage_renewed, outage_refused;   /* since it went */
	struct log_limit store_failing;   /* leases not stored: a line a minute */
	unsigned long held_back;          /* replies held back since the store failed */
	bool store_failed;                /* writes failed, none succeeded since */
	bool batch_failed;                /* a write of this batch failed */
	uint8_t rx[DHCP_RECV_BATCH][DHCP_PACKET_MAX + 1];      /* one recvmmsg batch */
	union { char buf[256]; struct cmsghdr align; } rx_ctl[DHCP_RECV_BATCH];
	struct dhcp_message msg;
	struct dhcp_event_seen event_seen[DHCP_EVENT_SEEN];
	struct dhcp_relay_bucket relay_bucket[DHCP_RELAY_BUCKETS];
	uv_timer_t tick;                  /* once a second: pools counted, alarms, probes */
	bool tick_on;
	struct dhcp_rogue rogue[DHCP_ROGUES_MAX];
	size_t rogue_count;
	uv_poll_t client_poll;            /* port 68: other servers' answers */
	bool client_poll_on;
	int64_t probe_at;                 /* unix seconds of the next probe */
	uint8_t probe_seq;
	struct in_addr own[DHCP_OWN_ADDRS_MAX];  /* our addresses (getifaddrs) */
	size_t own_count;
	struct dhcp_share share;          /* servers sharing one database (share.c) */
};

/* subnets.c */
/* Build the runtime state (subnets, pools, hosts, rules, menu) of srv from
 * srv->cfg.  On error srv holds what was built: dhcp_subnets_free it. */
int dhcp_subnets_build(struct dhcp_server *srv, char *err, size_t err_size);
void dhcp_subnets_free(struct dhcp_server *srv);
void dhcp_leases_load(struct dhcp_server *srv);
/* The same from leases read before (a reload: dhcp_stored_read). */
void dhcp_leases_put(struct dhcp_server *srv, const struct dhcp_stored *stored);
struct dhcp_subnet *dhcp_subnet_for(struct dhcp_server *srv, struct in_addr addr);
/* The host entry for a request: by client id (61) first, then by MAC. */
const struct dhcp_host *dhcp_host_for(const struct dhcp_server *srv, const struct dhcp_message *m);
/* The [relay] rules for a request's option 82, or NULL. */
const struct dhcp_relay_rules *dhcp_relay_for(const struct dhcp_server *srv,
    const struct dhcp_message *m);
const struct dhcp_host *dhcp_host_for_mac(const struct dhcp_server *srv, const uint8_t *mac,
    size_t mac_len);
/* "01:52:54:00:12:34:56" (or without colons) into bytes; length or -EINVAL. */
int dhcp_hex_parse(const char *text, uint8_t *out, size_t size);

/* menu.c */
int pxe_menu_build(struct pxe_menu *menu, const struct config *cfg, char *err, size_t err_size);
/* Fill v (option 43) with the menu for a client of the server at addr. */
void pxe_menu_vendor(const struct pxe_menu *menu, struct in_addr server, struct pxe_vendor *v);
/* The target of boot server type, or NULL. */
const char *pxe_menu_target(const struct pxe_menu *menu, uint16_t type);

/* Is option 61 just the hardware type and address?  Then the MAC keys the
 * lease, so a machine keeps one address from firmware (no 61) to iPXE or
 * the OS (61 = 01 + MAC), as dnsmasq does. */
static inline bool
dhcp_client_id_is_mac(const uint8_t *id, size_t id_len, uint8_t htype, const uint8_t *chaddr,
    uint8_t hlen)
{
	return id != NULL && hlen > 0 && id_len == (size_t)hlen + 1 && id[0] == htype &&
	    memcmp(id + 1, chaddr, hlen) == 0;
}

/* stats.c: what the subnet list shows */
void dhcp_stats_request(struct dhcp_subnet *sn, const struct dhcp_origin *o,
    const struct dhcp_message *m, int64_t now);
void dhcp_stats_boot(struct dhcp_subnet *sn, int64_t now);
/* A relayed request from no known subnet: counted, logged once per relay
 * every DHCP_DISCOVERED_LOG_S.  how: what was done with it. */
void dhcp_discovered_note(struct dhcp_server *srv, struct in_addr giaddr, const char *how,
    int64_t now);

/* The client at addr says it has it (see struct dhcp_client_addr). */
void dhcp_addr_learn(struct dhcp_server *srv, struct in_addr addr, const uint8_t *mac,
    size_t mac_len, int64_t now);
/* The MAC that said it has addr (within a day), or NULL. */
const uint8_t *dhcp_addr_mac(const struct dhcp_server *srv, struct in_addr addr, int64_t now);

/* alarm.c: the once-a-second tick (pools counted, the pool-low alarm,
 * refusals summed up, probes); the relay's bucket for giaddr */
void dhcp_tick_start(struct dhcp_server *srv);
struct dhcp_bucket *dhcp_relay_bucket(struct dhcp_server *srv, struct in_addr giaddr,
    int64_t now_ms);
/* Tell /api/v1/events (and the console): an "alarm" event. */
void dhcp_alarm_publish(const char *json_fmt, ...) __attribute__((format(printf, 1, 2)));

/* rogue.c: answers of other servers on port 68; our probes */
void dhcp_rogue_start(struct dhcp_server *srv);
void dhcp_rogue_probe(struct dhcp_server *srv, int64_t now);
bool dhcp_is_own_address(const struct dhcp_server *srv, struct in_addr a);

/* handle.c */
void dhcp_handle(struct dhcp_server *srv, const struct dhcp_origin *o,
    const struct dhcp_message *m);

/* server.c */
struct dhcp_pending *dhcp_queue_reply(struct dhcp_server *srv, const struct dhcp_origin *o);
/* A write or the commit of leases failed (err: -errno): the acks ACKs
 * that depended on it are not sent (the clients ask again).  Logged at
 * most once a minute, naming what was held back meanwhile, and once when
 * the store takes writes again (dhcp/server.c). */
void dhcp_store_failed(struct dhcp_server *srv, const char *what, int err, size_t acks);
void dhcp_reply_address(const struct dhcp_message *req, const struct dhcp_origin *o,
    enum dhcp_type type, struct dhcp_pending *p);
/* A lease (addr until expires) went into the current batch: its slot's
 * stored end follows when the batch commits. */
void dhcp_lease_noted(struct dhcp_server *srv, struct in_addr addr, int64_t expires);
/* The tick and the worker's answers: is the store unreachable (the
 * connection is lost, or no answer for DHCP_STORE_STALL_MS)?  Changes are
 * logged once each way. */
void dhcp_store_watch(struct dhcp_server *srv);
/* A request not answered because the store is unreachable / a renewal
 * answered from memory: counted, logged at most once a minute. */
void dhcp_outage_note(struct dhcp_server *srv, const char *who, const char *mac,
    const char *what, bool answered);

#endif
