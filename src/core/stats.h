/* Process-wide counters, updated by the event loop and by the HTTP threads
 * with relaxed atomics and read by /metrics and /api/v1/status. */
#ifndef PXED_CORE_STATS_H
#define PXED_CORE_STATS_H

#include <stdatomic.h>
#include <stdint.h>

struct stats {
	atomic_uint_fast64_t tftp_requests;       /* RRQ + WRQ received */
	atomic_uint_fast64_t tftp_transfers_ok;
	atomic_uint_fast64_t tftp_transfers_failed;
	atomic_uint_fast64_t tftp_sessions_active;
	atomic_uint_fast64_t tftp_bytes_sent;
	atomic_uint_fast64_t tftp_bytes_received;
	atomic_uint_fast64_t tftp_retransmits;     /* blocks sent again */
	atomic_uint_fast64_t tftp_bad_packets;
	atomic_uint_fast64_t tftp_refused;         /* over a session cap */
	atomic_uint_fast64_t http_requests;
	atomic_uint_fast64_t http_bytes_sent;
	atomic_uint_fast64_t http_errors;          /* 4xx/5xx answers */
	atomic_uint_fast64_t http_connections_active;
	atomic_uint_fast64_t http_bodies_refused;  /* 503: bodies in flight at the cap */
	atomic_uint_fast64_t http_bodies_slow;     /* cut off: below http-body-min-rate */
	atomic_uint_fast64_t http_headers_slow;    /* cut off: http-header-timeout */
	atomic_uint_fast64_t dhcp_new_clients_refused;     /* rate or pool reserve */
	atomic_uint_fast64_t dhcp_pool_low_alarms;         /* pools that became low */
	atomic_uint_fast64_t dhcp_pools_low;               /* pools low now */
	atomic_uint_fast64_t dhcp_rogue_replies;           /* other servers' answers heard */
	atomic_uint_fast64_t dhcp_rogue_servers;           /* other servers heard */
	atomic_uint_fast64_t dhcp_probes_sent;             /* our DISCOVERs to find them */
	atomic_uint_fast64_t dhcp_store_unreachable;       /* 1 while the store does not answer */
	atomic_uint_fast64_t dhcp_store_outages;           /* times it stopped answering */
	atomic_uint_fast64_t dhcp_outage_renewals;         /* renewals ACKed from memory */
	atomic_uint_fast64_t dhcp_outage_refused;          /* DISCOVERs/REQUESTs not answered */
	atomic_uint_fast64_t http_chunks_sent;     /* image chunks served whole */
	atomic_uint_fast64_t http_chunk_bytes_sent;
	atomic_uint_fast64_t api_hosts_refused;    /* boot-script registrations refused */
	atomic_uint_fast64_t api_task_tokens_refused;      /* from another address */
	atomic_uint_fast64_t api_events_lost;      /* not published (core/bus.h) */
	atomic_uint_fast64_t api_replies_bodiless; /* a stored change, its body not made */
};

extern struct stats stats;

#define STATS_ADD(field, n) atomic_fetch_add_explicit(&stats.field, (n), memory_order_relaxed)
#define STATS_SUB(field, n) atomic_fetch_sub_explicit(&stats.field, (n), memory_order_relaxed)
#define STATS_GET(field) atomic_load_explicit(&stats.field, memory_order_relaxed)

#endif
