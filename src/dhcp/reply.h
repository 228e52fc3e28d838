/* Assembling a DHCP reply from what the server decided: the lease, the
 * subnet's options and the boot decision.  Pure. */
#ifndef PXED_DHCP_REPLY_H
#define PXED_DHCP_REPLY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "boot/policy.h"
#include "dhcp/codec.h"

struct reply_params {
	enum dhcp_type type;            /* OFFER, ACK or NAK */
	struct in_addr server_id;       /* option 54: our address toward the client */
	struct in_addr yiaddr;          /* 0 for proxy, INFORM and 4011 answers as told */
	struct in_addr ciaddr;
	/* configuration (full mode, not NAK, not proxy) */
	bool with_config;
	bool with_lease;                /* 51/58/59: not for INFORM */
	uint32_t lease_time;            /* seconds; 0xffffffff infinite */
	struct in_addr netmask, router;
	struct in_addr dns[4];
	unsigned dns_count;
	const char *domain;
	const char *hostname;
	/* boot */
	const struct boot_decision *boot; /* NULL or BOOT_NOTHING: no boot fields */
	struct in_addr next_server;     /* siaddr for TFTP boots */
	bool pxe_direct;                /* 43 with discovery control 0x08: boot the file */
	/* leave the BOOTP header's siaddr/file empty (only if the firmware
	 * quirks say the client does not need them: boot_file_needs_header) */
	bool omit_header_boot;
	const struct pxe_vendor *pxe;   /* full option 43 (menus, 4011 boot item), or NULL */
	const char *message;            /* option 56, or NULL */
};

/* Build the reply to req into b.  Returns the message length, or 0 when
 * it cannot fit the client's maximum size even without optional options. */
size_t dhcp_reply_build(struct dhcp_builder *b, const struct dhcp_message *req,
    const struct reply_params *rp);

/* The reply's flags: the request's, with BROADCAST set for a reply to a
 * relay that has yiaddr 0 or is a NAK (see reply.c for why). */
uint16_t dhcp_reply_flags(const struct dhcp_message *req, const struct reply_params *rp);

/* The largest message the client accepts (option 57 - IP/UDP headers). */
size_t dhcp_client_max_size(const struct dhcp_message *req);

#endif
