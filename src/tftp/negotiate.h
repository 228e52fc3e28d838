/* Option negotiation (RFC 2347-2349, 7440): from a parsed request and the
 * server's limits to the OACK and the engine's parameters.  Pure.
 *
 * The OACK only ever holds options the client asked for, with values no
 * larger than asked (EDK2 rejects anything else), and timeout echoed
 * exactly.  Netascii gets neither tsize nor windowsize (its size is not
 * known in advance, and it runs lock-step). */
#ifndef PXED_TFTP_NEGOTIATE_H
#define PXED_TFTP_NEGOTIATE_H

#include <stdbool.h>
#include <stdint.h>

#include "tftp/codec.h"
#include "tftp/transfer.h"

struct tftp_limits {
	uint32_t blksize_max;           /* configured cap */
	uint32_t mtu_blksize;           /* largest blksize without IP fragments */
	bool allow_fragments;
	uint32_t window_max;
	uint32_t rollover;              /* default when the client does not ask */
	uint64_t min_rto_us, max_rto_us;
	uint64_t idle_timeout_us;
};

/* Returns true when an OACK must be sent first. */
bool tftp_negotiate(const struct tftp_request *req, const struct tftp_limits *lim,
    uint64_t file_size, struct tftp_oack *oack, struct tftp_transfer_params *params);

/* The largest blksize that fits an MTU for the address family. */
uint32_t tftp_mtu_blksize(unsigned mtu, int family);

#endif
