#include "tftp/negotiate.h"

#include <string.h>
#include <sys/socket.h>

#include "core/util.h"

#define INITIAL_RTO_US 500000u

uint32_t
tftp_mtu_blksize(unsigned mtu, int family)
{
	unsigned overhead = (family == AF_INET6 ? 40u : 20u) + 8u + TFTP_HEADER_SIZE;

	if (mtu <= overhead + TFTP_BLKSIZE_DEFAULT)
		return TFTP_BLKSIZE_DEFAULT;
	return (uint32_t)MIN(mtu - overhead, (unsigned)TFTP_BLKSIZE_MAX);
}

static uint32_t
grant_blksize(const struct tftp_request *req, const struct tftp_limits *lim)
{
	uint32_t b = MIN(req->blksize, lim->blksize_max);

	if (!lim->allow_fragments)
		b = MIN(b, lim->mtu_blksize);
	return MAX(b, (uint32_t)TFTP_BLKSIZE_MIN);
}

bool
tftp_negotiate(const struct tftp_request *req, const struct tftp_limits *lim,
    uint64_t file_size, struct tftp_oack *oack, struct tftp_transfer_params *p)
{
	bool octet = req->mode == TFTP_MODE_OCTET;
	uint32_t asked = req->present;

	memset(oack, 0, sizeof *oack);
	memset(p, 0, sizeof *p);
	p->blksize = TFTP_BLKSIZE_DEFAULT;
	p->windowsize = 1;
	p->size = file_size;
	p->size_known = octet;
	p->wrap_to_one = lim->rollover == 1;
	p->min_rto_us = lim->min_rto_us;
	p->max_rto_us = lim->max_rto_us;
	p->idle_timeout_us = lim->idle_timeout_us;
	if (asked & TFTP_OPT_BLKSIZE) {
		p->blksize = oack->blksize = grant_blksize(req, lim);
		oack->present |= TFTP_OPT_BLKSIZE;
	}
	if ((asked & TFTP_OPT_TSIZE) && octet) {
		oack->tsize = file_size;
		oack->present |= TFTP_OPT_TSIZE;
	}
	if (asked & TFTP_OPT_TIMEOUT) {
		oack->timeout = req->timeout;
		oack->present |= TFTP_OPT_TIMEOUT;
		p->max_rto_us = (uint64_t)req->timeout * 1000000u;
	}
	if (asked & TFTP_OPT_UTIMEOUT) {
		oack->utimeout = req->utimeout;
		oack->present |= TFTP_OPT_UTIMEOUT;
		p->max_rto_us = req->utimeout;
	}
	if ((asked & TFTP_OPT_WINDOWSIZE) && octet) {
		p->windowsize = oack->windowsize = MIN(req->windowsize, lim->window_max);
		oack->present |= TFTP_OPT_WINDOWSIZE;
	}
	if (asked & TFTP_OPT_ROLLOVER) {
		oack->rollover = req->rollover;
		oack->present |= TFTP_OPT_ROLLOVER;
		p->wrap_to_one = req->rollover == 1;
	}
	p->min_rto_us = MIN(p->min_rto_us, p->max_rto_us);
	p->initial_rto_us = MIN((uint64_t)INITIAL_RTO_US, p->max_rto_us);
	p->oack = oack->present != 0;
	return p->oack;
}
