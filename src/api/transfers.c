/* GET /api/v1/transfers (docs/API.md): the TFTP and HTTP transfers in
 * flight, oldest first, at most TRANSFERS_MAX (and how many more).
 *
 * TFTP sessions live on the loop thread: a copy is asked through the
 * board (dhcp/board.h), made by the loop with each session's progress
 * and its rate from marks a timer notes once a second (tftp/snapshot.c).
 * HTTP downloads are in libmicrohttpd's threads: they are listed in
 * core/inflight.h's table, their progress read from the kernel (TCP_INFO).
 * The MAC of a client is its lease's, else the one it said it has
 * (store_mac_of), looked up here with this thread's store connection. */
#include "api/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/inflight.h"
#include "core/log.h"
#include "core/util.h"
#include "dhcp/board.h"
#include "tftp/snapshot.h"

#define TRANSFERS_MAX 1000

/* One transfer of either kind, as listed. */
struct transfer {
	const char *proto;
	char peer[LOG_ADDR_MAX];
	struct in_addr peer4;           /* 0: IPv6 (no MAC looked up) */
	const char *file;
	bool upload;
	bool bytes_known;
	uint64_t bytes, total, rate;
	int64_t started_ms;
};

static void
from_tftp(const struct tftp_transfer_view *v, struct transfer *x)
{
	memset(x, 0, sizeof *x);
	x->proto = "tftp";
	log_addr((const struct sockaddr *)&v->peer, x->peer, sizeof x->peer);
	if (v->peer.ss_family == AF_INET)
		x->peer4 = ((const struct sockaddr_in *)(const void *)&v->peer)->sin_addr;
	x->file = v->file;
	x->upload = v->upload;
	x->bytes_known = true;
	x->bytes = v->bytes;
	x->total = v->total;
	x->rate = v->rate;
	x->started_ms = v->started_ms;
}

static void
from_http(const struct inflight_view *v, struct transfer *x)
{
	memset(x, 0, sizeof *x);
	x->proto = "http";
	str_copy(x->peer, v->peer, sizeof x->peer);
	x->peer4 = v->peer4;
	x->file = v->file;
	x->bytes_known = v->bytes_known;
	x->bytes = v->bytes;
	x->total = v->total;
	x->rate = v->rate;
	x->started_ms = v->started_ms;
}

static int
transfer_older(const void *a, const void *b)
{
	const struct transfer *x = a, *y = b;

	return (x->started_ms > y->started_ms) - (x->started_ms < y->started_ms);
}

static json_t *
transfer_json(struct store *st, const struct transfer *x)
{
	uint8_t mac[16];
	char text[3 * 16] = "";
	size_t n = x->peer4.s_addr != 0 ? store_mac_of(st, x->peer4, mac) : 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(text + o, sizeof text - o, i ? ":%02x" : "%02x", mac[i]);
	json_t *j = json_pack("{s:s, s:s, s:o, s:b, s:o, s:I, s:I, s:I}", "proto", x->proto,
	    "peer", x->peer, "file", api_json_text(x->file), "upload", x->upload,
	    "bytes", x->bytes_known ? json_integer((json_int_t)x->bytes) : json_null(),
	    "total", (json_int_t)x->total, "rate", (json_int_t)x->rate,
	    "started", (json_int_t)(x->started_ms / 1000));
	if (j != NULL && n > 0)
		json_object_set_new(j, "mac", json_string(text));
	return j;
}

/* The TFTP snapshot (from the loop through the board) and the HTTP
 * downloads, oldest first, into all (room for the snapshot and
 * TRANSFERS_MAX): how many, *more those left out.  0 or a negative errno
 * (-ETIMEDOUT, -ECANCELED: the loop did not answer). */
static int
transfers_collect(struct api *a, struct transfer **out, size_t *count, size_t *more,
    struct tftp_transfers **snapshot, struct inflight_view **http)
{
	size_t len = 0, http_more = 0, n = 0;
	void *data = NULL;
	int rc = a->cfg.board != NULL ? board_ask_snapshot(a->cfg.board, BOARD_TRANSFERS, &data,
	    &len) : -ECANCELED;

	*snapshot = data;
	if (rc != 0)
		return rc;
	if (len < sizeof **snapshot ||
	    (*snapshot)->count > (len - sizeof **snapshot) / sizeof (*snapshot)->item[0])
		return -EPROTO;
	*http = calloc(TRANSFERS_MAX, sizeof **http);
	*out = calloc((*snapshot)->count + TRANSFERS_MAX, sizeof **out);
	if (*http == NULL || *out == NULL)
		return -ENOMEM;
	size_t nhttp = inflight_list(a->cfg.inflight, *http, TRANSFERS_MAX, &http_more);
	for (size_t i = 0; i < (*snapshot)->count; i++)
		from_tftp(&(*snapshot)->item[i], &(*out)[n++]);
	for (size_t i = 0; i < nhttp; i++)
		from_http(&(*http)[i], &(*out)[n++]);
	qsort(*out, n, sizeof **out, transfer_older);
	*count = n;
	*more = (*snapshot)->more + http_more;
	return 0;
}

int
api_transfers_json(struct api *a, struct store *st, size_t max, json_t **list, size_t *more)
{
	struct tftp_transfers *snapshot = NULL;
	struct inflight_view *http = NULL;
	struct transfer *all = NULL;
	size_t n = 0;
	int rc = transfers_collect(a, &all, &n, more, &snapshot, &http);

	*list = NULL;
	if (rc == 0 && (*list = json_array()) == NULL)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n && i < max; i++)
		json_array_append_new(*list, transfer_json(st, &all[i]));
	if (rc == 0 && n > max)
		*more += n - max;
	free(all);
	free(http);
	free(snapshot);
	return rc;
}

static void
transfers_list(struct api_call *c)
{
	json_t *list;
	size_t more = 0;
	int rc = api_transfers_json(c->api, c->st, TRANSFERS_MAX, &list, &more);

	if (rc == -ETIMEDOUT || rc == -ECANCELED) {
		api_reply_error(c->rs, 503, "the server did not answer in time");
		return;
	}
	if (rc != 0) {
		api_reply_error(c->rs, 500, rc == -ENOMEM ? "out of memory" :
		    "a bad snapshot of the TFTP transfers");
		return;
	}
	more += api_running_merge(c, "transfers", list, TRANSFERS_MAX);
	api_reply_json(c->rs, 200, json_pack("{s:o, s:I}", "transfers", list, "more",
	    (json_int_t)more));
}

const struct api_route api_transfers_routes[] = {
	{ "GET", "api/v1/transfers", API_READ, .handler = transfers_list, .statuses = "200",
	    .summary = "TFTP and HTTP transfers in flight: client, MAC, file, progress, rate" },
	{ NULL },
};
