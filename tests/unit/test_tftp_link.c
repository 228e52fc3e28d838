/* The TFTP sending engine over a simulated link, with fake time: a one-way
 * delay, loss and duplication each way, and models of two real receivers:
 *  - EDK2 (NetworkPkg/Mtftp4Dxe, Mtftp4RrqHandleData): an unexpected block
 *    (a gap or an old one) is answered at once with an ACK of the last
 *    block in order, every time; a window is ACKed when windowsize blocks
 *    in order came since the last ACK; it retransmits its last ACK after 4 s;
 *  - "gap once" (atftp, tftp-load): a gap is ACKed once until progress; an
 *    old copy of the last block in order is ACKed again; 0.5 s timer.
 * Both discard blocks after a gap.  Checked: nothing is sent beyond the
 * window the client granted, every transfer completes, 1% loss each way
 * costs little more than the lost blocks, duplicated datagrams do not
 * multiply the data sent (Sorcerer's Apprentice). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tftp/transfer.h"

#define QUEUE_MAX 1024
#define DELAY_US 1000                   /* one way: a 2 ms round trip */
#define SPACING_US 12                   /* 1500 bytes at 1 Gbit/s */
#define MIN_RTO_US 2000                 /* tftp-min-rto-ms's default */

enum model { EDK2, GAP_ONCE };

struct packet {
	uint64_t at;
	bool to_client;
	uint64_t index;                 /* DATA block, or ACK'd block; 0 = OACK */
};

struct link {
	/* setup */
	enum model model;
	uint32_t loss_permille;
	uint64_t dup_delay_us;          /* 0: no duplicates */
	uint64_t rng;
	/* the wire */
	struct packet q[QUEUE_MAX];
	size_t qn;
	uint64_t now;
	/* the server */
	struct tftp_transfer t;
	uint64_t data_sent;
	/* the client */
	uint64_t next, in_window, last_ack, due;
	bool gap_acked, done;
};

static uint64_t
rng_next(struct link *l)
{
	l->rng ^= l->rng << 13;
	l->rng ^= l->rng >> 7;
	l->rng ^= l->rng << 17;
	return l->rng;
}

static void
queue_put(struct link *l, struct packet p)
{
	size_t i;

	assert_true(l->qn < QUEUE_MAX);
	for (i = l->qn++; i > 0 && l->q[i - 1].at > p.at; i--)
		l->q[i] = l->q[i - 1];
	l->q[i] = p;
}

/* A datagram onto the wire: maybe lost, maybe duplicated. */
static void
wire_send(struct link *l, bool to_client, uint64_t index, uint64_t at)
{
	struct packet p = { .at = at + DELAY_US, .to_client = to_client, .index = index };

	if (rng_next(l) % 1000 < l->loss_permille)
		return;
	queue_put(l, p);
	if (l->dup_delay_us != 0) {
		p.at += l->dup_delay_us;
		queue_put(l, p);
	}
}

static void
client_ack(struct link *l, uint64_t index)
{
	l->last_ack = index;
	l->in_window = 0;
	l->due = l->now + (l->model == EDK2 ? 4000000 : 500000);
	wire_send(l, false, index, l->now);
}

static void
client_in_order(struct link *l, uint64_t index)
{
	l->gap_acked = false;
	l->in_window++;
	l->next = index + 1;
	if (index == l->t.last_block) {
		l->done = true;
		client_ack(l, index);
	} else if (l->in_window >= l->t.p.windowsize) {
		client_ack(l, index);
	}
}

static void
client_receive(struct link *l, uint64_t index)
{
	if (index == 0) {               /* the OACK */
		if (l->next == 1)
			client_ack(l, 0);
		return;
	}
	if (index == l->next && !l->done) {
		client_in_order(l, index);
		return;
	}
	if (l->model == EDK2) {
		client_ack(l, l->next - 1);
		return;
	}
	if (index > l->next && !l->gap_acked) {
		client_ack(l, l->next - 1);
		l->gap_acked = true;
	} else if (index + 1 == l->next) {
		client_ack(l, index);
	}
}

static void
server_do(struct link *l, const struct tftp_action *a)
{
	struct tftp_transfer *t = &l->t;

	if (a->kind == TFTP_ACTION_SEND_OACK) {
		tftp_transfer_oack_sent(t, l->now);
		wire_send(l, true, 0, l->now);
		return;
	}
	if (a->kind != TFTP_ACTION_SEND)
		return;
	/* RFC 7440: never beyond the window the client granted */
	assert_true(a->count >= 1);
	assert_true(a->first > t->acked);
	assert_true(a->first + a->count - 1 <= t->acked + t->p.windowsize);
	for (uint32_t i = 0; i < a->count; i++)
		wire_send(l, true, a->first + i, l->now + i * SPACING_US);
	l->data_sent += a->count;
	tftp_transfer_sent(t, a->first, a->count, l->now);
}

/* One step of the simulation: the earliest of packet, server timer and
 * client timer.  Returns false when the server is done or gave up. */
static bool
link_step(struct link *l)
{
	struct tftp_action a = { .kind = TFTP_ACTION_NONE };
	uint64_t next = l->t.deadline_us;

	if (l->qn > 0 && l->q[0].at < next)
		next = l->q[0].at;
	if (!l->done && l->due < next)
		next = l->due;
	l->now = next;
	if (l->qn > 0 && l->q[0].at == next) {
		struct packet p = l->q[0];
		memmove(l->q, l->q + 1, --l->qn * sizeof l->q[0]);
		if (p.to_client)
			client_receive(l, p.index);
		else
			tftp_transfer_on_ack(&l->t, tftp_transfer_wire(&l->t, p.index), l->now, &a);
	} else if (next == l->t.deadline_us) {
		tftp_transfer_on_timeout(&l->t, l->now, &a);
	} else {
		client_ack(l, l->last_ack);
		l->gap_acked = false;
	}
	server_do(l, &a);
	return a.kind != TFTP_ACTION_DONE && a.kind != TFTP_ACTION_GIVE_UP;
}

/* Transfer size bytes; returns the time it took, in us (fails the test if
 * it did not complete). */
static uint64_t
link_run(enum model model, uint32_t window, uint64_t size, uint32_t loss_permille,
    uint64_t dup_delay_us, uint64_t seed, uint64_t *data_sent)
{
	static struct link l;
	struct tftp_transfer_params p = {
		.blksize = 1468, .windowsize = window, .size = size, .size_known = true,
		.oack = true, .min_rto_us = MIN_RTO_US, .max_rto_us = 2000000,
		.initial_rto_us = 500000, .idle_timeout_us = 30000000,
	};
	struct tftp_action a;

	memset(&l, 0, sizeof l);
	l.model = model;
	l.loss_permille = loss_permille;
	l.dup_delay_us = dup_delay_us;
	l.rng = seed * 0x9e3779b97f4a7c15ull + 1;
	l.next = 1;
	l.due = UINT64_MAX;
	tftp_transfer_start(&l.t, &p, 0, &a);
	server_do(&l, &a);
	for (uint64_t steps = 0; link_step(&l); steps++)
		assert_true(steps < 10000000);
	assert_true(l.t.done);
	assert_true(l.done);
	*data_sent = l.data_sent;
	return l.now;
}

static void
test_link_lossless_sends_each_block_once(void **state)
{
	uint64_t sent, blocks = (8u << 20) / 1468 + 1;

	(void)state;
	for (int m = EDK2; m <= GAP_ONCE; m++) {
		uint64_t us = link_run(m, 4, 8u << 20, 0, 0, 1, &sent);
		assert_true(sent == blocks);
		/* a window of 4 per round trip of 2 ms (and the OACK's) */
		assert_true(us >= (blocks / 4) * 2 * DELAY_US);
		assert_true(us <= (blocks / 4 + 2) * (2 * DELAY_US + 4 * SPACING_US));
	}
}

/* 1% loss each way over a 2 ms round trip: at least 85% of the lossless
 * rate, for both receivers and several loss patterns. */
static void
test_link_loss_costs_little(void **state)
{
	uint64_t sent, blocks = (8u << 20) / 1468 + 1;

	(void)state;
	for (int m = EDK2; m <= GAP_ONCE; m++) {
		uint64_t clean = link_run(m, 4, 8u << 20, 0, 0, 1, &sent);
		for (uint64_t seed = 1; seed <= 4; seed++) {
			uint64_t lossy = link_run(m, 4, 8u << 20, 10, 0, seed, &sent);
			print_message("model %d seed %llu: %.1f%% of the lossless rate, "
			    "%.1f%% blocks resent\n", m, (unsigned long long)seed,
			    100.0 * (double)clean / (double)lossy,
			    100.0 * (double)(sent - blocks) / (double)blocks);
			assert_true(clean * 100 >= lossy * 85);
			assert_true(sent <= blocks + blocks / 20);
		}
	}
}

/* Every datagram arrives twice.  A copy soon after (0.4 ms: so the copy
 * of a reply to a copy is within half a round trip, and after the
 * window's last original for windows up to 16) looks like nothing new:
 * each block is sent once.  A later copy provokes ACKs
 * that look like a loss report (and may be one): the engine answers at
 * most one of them per retransmission timeout, so the data sent stays
 * under twice the file, with or without loss (no Sorcerer's Apprentice:
 * duplicates never breed duplicates). */
static void
test_link_duplicates_no_sorcerer(void **state)
{
	uint64_t sent, blocks = (4u << 20) / 1468 + 1;

	(void)state;
	for (int m = EDK2; m <= GAP_ONCE; m++) {
		for (uint32_t window = 1; window <= 64; window *= 2) {
			link_run(m, window, 4u << 20, 0, 400, 1, &sent);
			assert_true(window > 16 || sent == blocks);
			assert_true(sent < 2 * blocks);
			link_run(m, window, 4u << 20, 0, 1500, 1, &sent);
			assert_true(sent < 2 * blocks);
			link_run(m, window, 4u << 20, 10, 1500, 2, &sent);
			assert_true(sent < 2 * blocks);
		}
	}
}

/* Lock-step and large windows complete under loss too. */
static void
test_link_windows_complete_under_loss(void **state)
{
	uint64_t sent;

	(void)state;
	for (int m = EDK2; m <= GAP_ONCE; m++)
		for (uint32_t window = 1; window <= 64; window *= 4)
			link_run(m, window, 2u << 20, 30, 0, window, &sent);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_lossless_sends_each_block_once),
		cmocka_unit_test(test_link_loss_costs_little),
		cmocka_unit_test(test_link_duplicates_no_sorcerer),
		cmocka_unit_test(test_link_windows_complete_under_loss),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
