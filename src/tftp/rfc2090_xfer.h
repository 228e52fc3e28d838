/* RFC 2090 multicast transfer engine: one file, one group, a list of
 * clients.
 *
 * Pure: no sockets, no clock (the caller passes "now" in microseconds).
 * The clients are kept in the order they joined; the first is the master.
 * Every client gets a unicast OACK "group,port,mc" (mc 1 for the master,
 * 0 for the others); only the master's ACKs drive the transfer.  The
 * master's ACK n means "I have every block up to n: send n + 1", so after
 * an OACK a master may start anywhere (ACK 0, or the block before its
 * first hole); after that its ACKs only grow, and an ACK below the block
 * it was sent is old or a duplicate and brings nothing (no Sorcerer's
 * Apprentice: only a new ACK or the timer sends).  DATA goes to the group.
 *
 * A client that ACKs the last block is done and leaves the list (a
 * listening client may do that too; its other ACKs are ignored).  When the
 * master leaves (done, ERROR, or silent through `retries` resends with a
 * doubling timeout), the next client becomes master: it gets an OACK with
 * mc 1 and answers with the ACK of the block before its first hole.  The
 * transfer is over when no client is left.  Block numbers never wrap: the
 * caller refuses multicast for files of more than 65535 blocks. */
#ifndef PXED_TFTP_RFC2090_XFER_H
#define PXED_TFTP_RFC2090_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tftp/codec.h"

#define RFC2090_CLIENTS_MAX 64
#define RFC2090_BLOCKS_MAX 65535

/* A client's unicast endpoint, kept as opaque values (network order). */
struct rfc2090_peer {
	uint32_t addr;
	uint16_t port;
};

struct rfc2090_client {
	struct rfc2090_peer peer;
	struct tftp_oack oack;          /* its options, echoed in every OACK to it */
};

struct rfc2090_params {
	uint64_t last_block;            /* blocks in the file: size / blksize + 1 */
	uint64_t rto_us, max_rto_us;    /* first retransmission timeout, its cap */
	uint32_t retries;               /* resends to a master before it is skipped */
	uint32_t max_clients;           /* 1..RFC2090_CLIENTS_MAX */
};

enum rfc2090_wait {
	RFC2090_WAIT_NONE,              /* no master (no clients) */
	RFC2090_WAIT_OACK,              /* the master's first ACK after its OACK */
	RFC2090_WAIT_DATA,              /* the master's ACK of block `pending` */
};

/* Why a client left the list (reported once, in the action). */
enum rfc2090_gone {
	RFC2090_GONE_NONE,
	RFC2090_GONE_DONE,              /* ACKed the last block */
	RFC2090_GONE_ERROR,             /* sent an ERROR */
	RFC2090_GONE_SILENT,            /* master that did not answer: skipped */
};

struct rfc2090_xfer {
	struct rfc2090_params p;
	struct rfc2090_client client[RFC2090_CLIENTS_MAX];     /* [0] is the master */
	size_t count;
	enum rfc2090_wait wait;
	uint64_t pending;               /* block sent to the master (WAIT_DATA) */
	uint32_t tries;                 /* resends of the current OACK / block */
	uint64_t rto_us;
	uint64_t deadline_us;           /* timer; 0 = none */
	bool done;
	/* stats */
	uint64_t blocks_sent, resent;
	uint32_t masters, finished, skipped;
};

enum rfc2090_action_kind {
	RFC2090_ACTION_NONE,
	RFC2090_ACTION_OACK,            /* unicast an OACK to client[index] (mc in it) */
	RFC2090_ACTION_DATA,            /* multicast block `block` */
	RFC2090_ACTION_DONE,            /* no client left: the transfer is over */
};

struct rfc2090_action {
	enum rfc2090_action_kind kind;
	size_t index;                   /* OACK: the client */
	bool master;                    /* OACK: mc */
	uint64_t block;                 /* DATA */
	enum rfc2090_gone gone;         /* a client left on this event ... */
	struct rfc2090_peer gone_peer;  /* ... this one */
};

void rfc2090_xfer_start(struct rfc2090_xfer *x, const struct rfc2090_params *p);

/* A client asks to join.  Returns 0 (act: its OACK, mc 1 if it is the
 * first), -EEXIST (already in the list: act resends its OACK, with oack
 * replacing the stored options), or -ENOSPC (list full or the transfer
 * over: serve it by unicast). */
int rfc2090_xfer_join(struct rfc2090_xfer *x, struct rfc2090_peer peer,
    const struct tftp_oack *oack, uint64_t now, struct rfc2090_action *act);

/* An ACK with block number wire came from peer.  Returns -ENOENT if peer
 * is not a client (the caller answers ERROR 5), else 0. */
int rfc2090_xfer_on_ack(struct rfc2090_xfer *x, struct rfc2090_peer peer, uint16_t wire,
    uint64_t now, struct rfc2090_action *act);

/* An ERROR came from peer: it leaves.  Returns -ENOENT if not a client. */
int rfc2090_xfer_on_error(struct rfc2090_xfer *x, struct rfc2090_peer peer, uint64_t now,
    struct rfc2090_action *act);

/* The timer (x->deadline_us) expired. */
void rfc2090_xfer_on_timeout(struct rfc2090_xfer *x, uint64_t now,
    struct rfc2090_action *act);

/* The index of peer in the list, or -1. */
int rfc2090_xfer_find(const struct rfc2090_xfer *x, struct rfc2090_peer peer);

#endif
