/* libFuzzer harness: the TFTP request/option parser, the OACK parser, the
 * RFC 2090 multicast value parser, and negotiation of whatever parses,
 * with invariants checked. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tftp/codec.h"
#include "tftp/negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_negotiation(const struct tftp_request *req)
{
	struct tftp_limits lim = {
		.blksize_max = 65464, .mtu_blksize = tftp_mtu_blksize(1500, AF_INET),
		.window_max = 64, .min_rto_us = 10000, .max_rto_us = 2000000,
		.idle_timeout_us = 20000000,
	};
	struct tftp_oack o, back;
	struct tftp_transfer_params p;
	uint8_t buf[512];

	tftp_negotiate(req, &lim, 12345, &o, &p);
	/* never grant an option that was not asked, never raise a value */
	assert((o.present & ~req->present) == 0);
	if (o.present & TFTP_OPT_BLKSIZE)
		assert(o.blksize <= req->blksize && o.blksize >= 8 && o.blksize <= 1468);
	if (o.present & TFTP_OPT_WINDOWSIZE)
		assert(o.windowsize <= req->windowsize && o.windowsize >= 1);
	if (o.present & TFTP_OPT_TIMEOUT)
		assert(o.timeout == req->timeout);
	size_t n = tftp_build_oack(buf, sizeof buf, &o);
	assert(n > 0);
	assert(tftp_oack_parse(buf, n, &back) == 0);
	assert(back.present == (o.present & ~TFTP_OPT_UTIMEOUT));
}

/* RFC 2090: a request's multicast option is granted with a group (or
 * ",,1"); the OACK must parse back to the same value. */
static void
check_multicast(const struct tftp_request *req)
{
	struct tftp_oack o = { .present = TFTP_OPT_MULTICAST | (req->present & TFTP_OPT_BLKSIZE),
		.blksize = req->blksize,
		.multicast = { { 239, 255, 0, (uint8_t)req->filename_len }, 1758, true,
		    (req->filename_len & 1) != 0 } };
	struct tftp_oack back;
	uint8_t buf[128];

	assert(req->present & TFTP_OPT_MULTICAST);
	if (req->filename_len & 2)      /* ",,mc" */
		o.multicast = (struct tftp_multicast){ .master = o.multicast.master };
	size_t n = tftp_build_oack(buf, sizeof buf, &o);
	assert(n > 0);
	assert(tftp_oack_parse(buf, n, &back) == 0);
	assert(back.present == o.present);
	assert(memcmp(&back.multicast, &o.multicast, sizeof o.multicast) == 0);
}

/* The value parser alone, on the raw input: what parses formats back to
 * the same value. */
static void
check_multicast_value(const uint8_t *data, size_t size)
{
	struct tftp_multicast m, again;
	char text[TFTP_MULTICAST_TEXT_MAX];

	if (tftp_multicast_parse((const char *)data, size, &m) != 0)
		return;
	size_t n = tftp_multicast_format(&m, text, sizeof text);
	assert(n > 0 && n <= size);
	assert(tftp_multicast_parse(text, n, &again) == 0);
	assert(memcmp(&m, &again, sizeof m) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy so any over-read is caught */
	uint8_t *buf = malloc(size ? size : 1);
	struct tftp_request req;
	struct tftp_oack oack;
	const char *why = NULL;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	int rc = tftp_request_parse(buf, size, &req, &why);
	if (rc == 0) {
		assert(req.filename_len > 0);
		assert(req.filename + req.filename_len < (const char *)buf + size);
		assert(req.filename[req.filename_len] == '\0');
		if (req.present & TFTP_OPT_BLKSIZE)
			assert(req.blksize >= 8 && req.blksize <= 65464);
		if (req.present & TFTP_OPT_WINDOWSIZE)
			assert(req.windowsize >= 1 && req.windowsize <= 65535);
		if (req.option_error == NULL)
			check_negotiation(&req);
		if (req.present & TFTP_OPT_MULTICAST)
			check_multicast(&req);
	} else {
		assert(why != NULL);
	}
	(void)tftp_oack_parse(buf, size, &oack);
	check_multicast_value(buf, size);
	free(buf);
	return 0;
}
