#include "tftp/mtftp_pass.h"

#include <string.h>

#include "core/util.h"
#include "tftp/transfer.h"

static void
send_one(uint64_t block, struct mtftp_action *act)
{
	act->kind = MTFTP_ACTION_SEND;
	act->first = block;
	act->count = 1;
	act->unicast = block == 1;
}

/* Without a master: the next burst, or the end. */
static void
run_on(struct mtftp_pass *m, struct mtftp_action *act)
{
	if (m->sent >= m->p.last_block) {
		m->done = true;
		act->kind = MTFTP_ACTION_DONE;
		return;
	}
	act->kind = MTFTP_ACTION_SEND;
	act->first = m->sent + 1;
	act->count = (uint32_t)MIN((uint64_t)MAX(m->p.burst, 1u), m->p.last_block - m->sent);
	act->unicast = false;
}

/* The master never ACKed a block: nothing shows anyone receives (the
 * open may have come from a forged address), so no pass runs on to the
 * end of the file for it. */
static void
end_unproven(struct mtftp_pass *m, struct mtftp_action *act)
{
	m->done = true;
	m->unproven = true;
	act->kind = MTFTP_ACTION_DONE;
}

void
mtftp_pass_start(struct mtftp_pass *m, const struct mtftp_pass_params *p,
    struct mtftp_action *act)
{
	memset(m, 0, sizeof *m);
	m->p = *p;
	if (m->p.last_block == 0)
		m->p.last_block = 1;
	m->master = true;
	m->rto_us = p->rto_us;
	send_one(1, act);
}

void
mtftp_pass_sent(struct mtftp_pass *m, uint64_t first, uint32_t count, uint64_t now)
{
	if (count == 0)
		return;
	if (first + count - 1 > m->sent)
		m->sent = first + count - 1;
	m->deadline_us = now + (m->master ? m->rto_us : m->p.pace_us);
}

void
mtftp_pass_on_ack(struct mtftp_pass *m, uint16_t wire, struct mtftp_action *act)
{
	act->kind = MTFTP_ACTION_NONE;
	if (m->done)
		return;
	uint64_t index = tftp_wire_to_index(wire, m->acked, m->sent, false);
	if (index == 0)
		return;                 /* duplicate, old, or not sent yet */
	m->acked = index;
	m->master = true;
	m->tries = 0;
	m->rto_us = m->p.rto_us;
	if (m->acked >= m->p.last_block) {
		m->done = true;
		act->kind = MTFTP_ACTION_DONE;
		return;
	}
	if (m->acked == m->sent)
		send_one(m->sent + 1, act);
	/* an ACK behind the last block sent (a master back while the pass
	 * ran on): the next timer tick goes on from where the pass is */
}

void
mtftp_pass_master_gone(struct mtftp_pass *m, struct mtftp_action *act)
{
	act->kind = MTFTP_ACTION_NONE;
	if (m->done || !m->master)
		return;
	m->master = false;
	if (m->acked == 0) {
		end_unproven(m, act);
		return;
	}
	run_on(m, act);
}

void
mtftp_pass_on_timeout(struct mtftp_pass *m, struct mtftp_action *act)
{
	act->kind = MTFTP_ACTION_NONE;
	if (m->done)
		return;
	if (m->master && m->acked < m->sent && m->tries < m->p.retries) {
		m->tries++;
		m->rto_us = MIN(m->rto_us * 2, m->p.max_rto_us);
		m->resent++;
		send_one(m->sent, act);
		return;
	}
	if (m->master && m->acked == 0) {
		end_unproven(m, act);
		return;
	}
	if (m->master && m->acked < m->sent)
		m->master = false;      /* silent: the listeners still get the rest */
	run_on(m, act);
}
