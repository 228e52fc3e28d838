/* TFTP sending engine: window, block numbering, retransmission timer.
 *
 * Pure state: no sockets, no clock (the caller passes "now" in
 * microseconds), no file access.  The I/O layer asks it what to send and
 * tells it what arrived.  Blocks are numbered internally with 64-bit
 * indexes from 1; on the wire they are 16-bit and wrap after 65535 to 0
 * (what iPXE, EDK2, PXELINUX and curl expect) or to 1 (tftp-hpa's
 * rollover=1).
 *
 * Rules (RFC 7440, RFC 1123 4.2.3.1):
 *  - a window of up to windowsize blocks after the last ACK is sent, then
 *    the sender waits; nothing is ever sent beyond acked + windowsize;
 *  - an ACK for block n in (acked, sent] moves acked to n; the next window
 *    starts at n + 1 (an ACK inside the window reports a gap: the client
 *    has discarded everything after n);
 *  - an ACK below acked, or beyond sent, is ignored;
 *  - the retransmission timeout is derived from the measured round trip
 *    (RFC 6298 estimator, Karn's rule: no sample from a window that was
 *    sent twice), bounded by [min_rto, max_rto], doubled per timeout.
 * Loss recovery, paced by the measured round trip (so that a lost block
 * costs about one round trip, not a timeout, and a retransmission does not
 * knock the client's windows out of step with ours):
 *  - first timeout: only the last block sent goes again (a probe): a lost
 *    final block of the window completes the client's window, a lost ACK
 *    is answered again, a gap is reported; a second timeout in a row sends
 *    the whole window from acked + 1;
 *  - after blocks the client may already have were sent again (anything
 *    but a probe), its ACKs may for a retransmission timeout be answers to
 *    those copies ("echoes"): meanwhile an ACK inside the window only
 *    brings the blocks beyond those sent, and a duplicate ACK nothing;
 *  - an ACK equal to acked while two or more blocks are out (the client
 *    got a later one: acked + 1 is missing) resends the window from
 *    acked + 1, if it comes at least half a round trip after that window
 *    left (an earlier one is a stale copy of the ACK that started it) and
 *    is no echo.  So duplicate DATA never breeds more duplicate DATA (no
 *    Sorcerer's Apprentice); with one block out (lock-step) a duplicate
 *    ACK is ignored;
 *  - until the client has answered once (an ACK of the OACK or of a
 *    block: it proves it receives at its address), the first packet is
 *    sent at most TFTP_UNPROVEN_SENDS times, then the transfer is given
 *    up: a request with a forged source gets back a bounded multiple of
 *    its size (one OACK or DATA 1, three resends), never a window. */
#ifndef PXED_TFTP_TRANSFER_H
#define PXED_TFTP_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

#define TFTP_UNPROVEN_SENDS 4

struct tftp_transfer_params {
	uint32_t blksize;
	uint32_t windowsize;
	uint64_t size;                  /* file size; ignored if !size_known */
	bool size_known;                /* false for netascii until EOF */
	bool wrap_to_one;
	bool oack;                      /* an OACK goes first (wait for ACK 0) */
	uint64_t min_rto_us, max_rto_us, initial_rto_us;
	uint64_t idle_timeout_us;       /* give up after this long without progress */
};

struct tftp_transfer {
	struct tftp_transfer_params p;
	uint64_t last_block;            /* index of the final block; 0 = unknown */
	uint64_t acked;                 /* highest block acknowledged */
	uint64_t sent;                  /* highest block sent */
	bool oack_pending;
	bool done;
	/* round-trip estimator */
	uint64_t srtt_us, rttvar_us, rto_us;
	bool have_rtt;
	uint64_t window_sent_us;        /* when the current window went out */
	bool window_resent;             /* Karn: no sample for this window */
	uint64_t deadline_us;           /* retransmission timer */
	uint64_t progress_us;           /* last time acked moved */
	uint32_t timeouts;              /* consecutive, for backoff */
	uint64_t retransmitted_blocks;  /* total, for stats */
	/* loss recovery */
	uint64_t retransmit_us;         /* when blocks were last sent again */
	bool proven;                    /* the client has ACKed something */
};

enum tftp_action_kind {
	TFTP_ACTION_NONE,               /* nothing to send */
	TFTP_ACTION_SEND_OACK,          /* (re)send the OACK */
	TFTP_ACTION_SEND,               /* send blocks [first, first + count) */
	TFTP_ACTION_DONE,               /* final block acknowledged */
	TFTP_ACTION_GIVE_UP,            /* idle timeout, or no answer at all to the
	                                 * first packet (!proven): abort */
};

struct tftp_action {
	enum tftp_action_kind kind;
	uint64_t first;
	uint32_t count;
};

/* Start a transfer at time now; returns the first action (OACK or the
 * first window). */
void tftp_transfer_start(struct tftp_transfer *t, const struct tftp_transfer_params *p,
    uint64_t now, struct tftp_action *act);

/* An ACK with wire block number wire arrived. */
void tftp_transfer_on_ack(struct tftp_transfer *t, uint16_t wire, uint64_t now,
    struct tftp_action *act);

/* The timer (t->deadline_us) expired. */
void tftp_transfer_on_timeout(struct tftp_transfer *t, uint64_t now,
    struct tftp_action *act);

/* The I/O layer sent blocks [first, first + count) at now (after a SEND
 * action, possibly in several parts); arms the timer. */
void tftp_transfer_sent(struct tftp_transfer *t, uint64_t first, uint32_t count,
    uint64_t now);

/* The OACK was sent at now; arms the timer. */
void tftp_transfer_oack_sent(struct tftp_transfer *t, uint64_t now);

/* Netascii: the I/O layer found that block index is the final one. */
void tftp_transfer_set_last(struct tftp_transfer *t, uint64_t index);

/* Wire number of a block index, and the index's byte offset and length. */
uint16_t tftp_transfer_wire(const struct tftp_transfer *t, uint64_t index);
uint64_t tftp_transfer_offset(const struct tftp_transfer *t, uint64_t index);
uint32_t tftp_transfer_block_len(const struct tftp_transfer *t, uint64_t index);

/* Map a received wire number onto an index in (low, high]; returns 0 if
 * none matches.  Shared with the receiving side (uploads). */
uint64_t tftp_wire_to_index(uint16_t wire, uint64_t low, uint64_t high, bool wrap_to_one);
uint16_t tftp_index_to_wire(uint64_t index, bool wrap_to_one);

#endif
