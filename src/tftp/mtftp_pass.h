/* PXE MTFTP pass engine (PXE 2.1): one multicast sweep of a file.
 *
 * Pure: no sockets, no clock (the caller passes "now" in microseconds).
 * A pass sends the whole file from block 1, 512-byte blocks, to the
 * multicast group; block 1 also goes unicast to the client that opened the
 * pass (the master).  The master's ACKs drive it lock-step: an ACK of the
 * block just sent brings the next one; a duplicate or old ACK brings
 * nothing (no Sorcerer's Apprentice).  On a timeout the block is sent
 * again, with the timeout doubled, up to `retries` times; after that (or
 * when the master sends an ERROR) the master is taken as gone and the pass
 * runs to the end on its own, `burst` blocks every `pace_us`, so the
 * clients still listening get the rest; they fill their gaps on a later
 * pass.  A master that never ACKed a block ends the pass there instead:
 * an open proves nothing (its address may be forged), so it never makes
 * more than block 1 and its resends (no amplification).  A master that comes back (its ACK for a block sent) takes over
 * again.  Block numbers never wrap: files of more than 65535 blocks are
 * refused before a pass starts. */
#ifndef PXED_TFTP_MTFTP_PASS_H
#define PXED_TFTP_MTFTP_PASS_H

#include <stdbool.h>
#include <stdint.h>

struct mtftp_pass_params {
	uint64_t last_block;            /* blocks in the file: size / 512 + 1 */
	uint64_t rto_us, max_rto_us;    /* retransmission timeout, its cap */
	uint32_t retries;               /* resends before the master is gone */
	uint64_t pace_us;               /* without a master: a burst per pace */
	uint32_t burst;                 /* blocks per burst without a master */
};

struct mtftp_pass {
	struct mtftp_pass_params p;
	uint64_t sent;                  /* highest block sent */
	uint64_t acked;                 /* highest block the master ACKed */
	bool master;                    /* the master is answering */
	bool done;
	uint32_t tries;                 /* resends of the current block */
	uint64_t rto_us;
	uint64_t deadline_us;           /* timer */
	uint64_t resent;                /* blocks sent again (stats) */
	bool unproven;                  /* ended: the master never ACKed a block */
};

enum mtftp_action_kind {
	MTFTP_ACTION_NONE,
	MTFTP_ACTION_SEND,              /* multicast [first, first + count) */
	MTFTP_ACTION_DONE,              /* the pass is over */
};

struct mtftp_action {
	enum mtftp_action_kind kind;
	uint64_t first;
	uint32_t count;
	bool unicast;                   /* block 1: also to the master */
};

void mtftp_pass_start(struct mtftp_pass *m, const struct mtftp_pass_params *p,
    struct mtftp_action *act);
/* Blocks [first, first + count) went out at now: arms the timer. */
void mtftp_pass_sent(struct mtftp_pass *m, uint64_t first, uint32_t count, uint64_t now);
/* The master ACKed wire block number wire. */
void mtftp_pass_on_ack(struct mtftp_pass *m, uint16_t wire, struct mtftp_action *act);
/* The master sent an ERROR (it stopped): run on without it. */
void mtftp_pass_master_gone(struct mtftp_pass *m, struct mtftp_action *act);
/* The timer (m->deadline_us) expired. */
void mtftp_pass_on_timeout(struct mtftp_pass *m, struct mtftp_action *act);

#endif
