#include "tftp/rfc2090_xfer.h"

#include <errno.h>
#include <string.h>

#include "core/util.h"

static void
action_clear(struct rfc2090_action *act)
{
	memset(act, 0, sizeof *act);
	act->kind = RFC2090_ACTION_NONE;
}

int
rfc2090_xfer_find(const struct rfc2090_xfer *x, struct rfc2090_peer peer)
{
	for (size_t i = 0; i < x->count; i++) {
		if (x->client[i].peer.addr == peer.addr && x->client[i].peer.port == peer.port)
			return (int)i;
	}
	return -1;
}

void
rfc2090_xfer_start(struct rfc2090_xfer *x, const struct rfc2090_params *p)
{
	memset(x, 0, sizeof *x);
	x->p = *p;
	if (x->p.last_block == 0)
		x->p.last_block = 1;
	if (x->p.max_clients == 0 || x->p.max_clients > RFC2090_CLIENTS_MAX)
		x->p.max_clients = RFC2090_CLIENTS_MAX;
	x->rto_us = p->rto_us;
}

static void
arm(struct rfc2090_xfer *x, uint64_t now)
{
	x->deadline_us = now + x->rto_us;
}

/* client[0] is the new master: offer it the lead (OACK mc 1). */
static void
master_offer(struct rfc2090_xfer *x, uint64_t now, struct rfc2090_action *act)
{
	x->wait = RFC2090_WAIT_OACK;
	x->pending = 0;
	x->tries = 0;
	x->rto_us = x->p.rto_us;
	x->masters++;
	arm(x, now);
	act->kind = RFC2090_ACTION_OACK;
	act->index = 0;
	act->master = true;
}

/* Client i leaves; if it was the master the next one is offered the lead,
 * and with nobody left the transfer is over. */
static void
client_remove(struct rfc2090_xfer *x, size_t i, enum rfc2090_gone why, uint64_t now,
    struct rfc2090_action *act)
{
	act->gone = why;
	act->gone_peer = x->client[i].peer;
	if (why == RFC2090_GONE_DONE)
		x->finished++;
	else if (why == RFC2090_GONE_SILENT)
		x->skipped++;
	memmove(&x->client[i], &x->client[i + 1], (x->count - i - 1) * sizeof x->client[0]);
	x->count--;
	if (i != 0)
		return;
	if (x->count == 0) {
		x->wait = RFC2090_WAIT_NONE;
		x->deadline_us = 0;
		x->done = true;
		act->kind = RFC2090_ACTION_DONE;
		return;
	}
	master_offer(x, now, act);
}

int
rfc2090_xfer_join(struct rfc2090_xfer *x, struct rfc2090_peer peer,
    const struct tftp_oack *oack, uint64_t now, struct rfc2090_action *act)
{
	int i = rfc2090_xfer_find(x, peer);

	action_clear(act);
	if (i >= 0) {
		/* a repeated request: its OACK was lost */
		x->client[i].oack = *oack;
		act->kind = RFC2090_ACTION_OACK;
		act->index = (size_t)i;
		act->master = i == 0;
		return -EEXIST;
	}
	if (x->done || x->count >= x->p.max_clients)
		return -ENOSPC;
	x->client[x->count].peer = peer;
	x->client[x->count].oack = *oack;
	x->count++;
	if (x->count == 1) {
		master_offer(x, now, act);
		return 0;
	}
	act->kind = RFC2090_ACTION_OACK;
	act->index = x->count - 1;
	act->master = false;
	return 0;
}

static void
send_block(struct rfc2090_xfer *x, uint64_t block, uint64_t now, struct rfc2090_action *act)
{
	x->wait = RFC2090_WAIT_DATA;
	x->pending = block;
	x->tries = 0;
	x->rto_us = x->p.rto_us;
	x->blocks_sent++;
	arm(x, now);
	act->kind = RFC2090_ACTION_DATA;
	act->block = block;
}

/* The master ACKed n: it has every block up to n. */
static void
master_ack(struct rfc2090_xfer *x, uint64_t n, uint64_t now, struct rfc2090_action *act)
{
	if (x->wait == RFC2090_WAIT_DATA && n < x->pending)
		return;                 /* old or duplicate: the timer resends */
	send_block(x, n + 1, now, act);
}

int
rfc2090_xfer_on_ack(struct rfc2090_xfer *x, struct rfc2090_peer peer, uint16_t wire,
    uint64_t now, struct rfc2090_action *act)
{
	int i = rfc2090_xfer_find(x, peer);

	action_clear(act);
	if (i < 0)
		return -ENOENT;
	if (wire > x->p.last_block)
		return 0;               /* a block the file does not have */
	if (wire == x->p.last_block) {
		client_remove(x, (size_t)i, RFC2090_GONE_DONE, now, act);
		return 0;
	}
	if (i == 0)
		master_ack(x, wire, now, act);
	return 0;                       /* a listener's ACK: not for pacing */
}

int
rfc2090_xfer_on_error(struct rfc2090_xfer *x, struct rfc2090_peer peer, uint64_t now,
    struct rfc2090_action *act)
{
	int i = rfc2090_xfer_find(x, peer);

	action_clear(act);
	if (i < 0)
		return -ENOENT;
	client_remove(x, (size_t)i, RFC2090_GONE_ERROR, now, act);
	return 0;
}

void
rfc2090_xfer_on_timeout(struct rfc2090_xfer *x, uint64_t now, struct rfc2090_action *act)
{
	action_clear(act);
	if (x->done || x->count == 0 || x->wait == RFC2090_WAIT_NONE)
		return;
	if (x->tries >= x->p.retries) {
		client_remove(x, 0, RFC2090_GONE_SILENT, now, act);
		return;
	}
	x->tries++;
	x->rto_us = MIN(x->rto_us * 2, MAX(x->p.max_rto_us, x->p.rto_us));
	arm(x, now);
	if (x->wait == RFC2090_WAIT_OACK) {
		act->kind = RFC2090_ACTION_OACK;
		act->index = 0;
		act->master = true;
		return;
	}
	x->resent++;
	act->kind = RFC2090_ACTION_DATA;
	act->block = x->pending;
}
