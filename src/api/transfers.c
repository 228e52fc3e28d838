/* /api/v1/transfers: the transfers in flight, from the board the loop
 * publishes once a second (core/transfers.h). */
#include "api/internal.h"

#include <jansson.h>
#include <stdlib.h>

#include "core/transfers.h"
#include "core/util.h"

json_t *
api_transfers_json(uint64_t now_us)
{
	struct transfer_info *list = calloc(TRANSFERS_MAX, sizeof *list);
	size_t total = 0, n;
	uint64_t at_us = 0;
	json_t *arr = json_array(), *root;

	if (list == NULL || arr == NULL) {
		free(list);
		json_decref(arr);
		return NULL;
	}
	n = transfers_read(list, TRANSFERS_MAX, &total, &at_us);
	for (size_t i = 0; i < n; i++) {
		const struct transfer_info *t = &list[i];
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o,s:I,s:I,s:I,s:I}",
		    "proto", t->proto, "dir", t->dir, "peer", t->peer,
		    "path", api_json_text(t->path), "bytes", (json_int_t)MIN(t->bytes, (uint64_t)INT64_MAX),
		    "size", (json_int_t)MIN(t->size, (uint64_t)INT64_MAX),
		    "elapsed_ms", (json_int_t)MIN(t->elapsed_ms, (uint64_t)INT64_MAX),
		    "rate", (json_int_t)MIN(t->rate, (uint64_t)INT64_MAX)));
	}
	free(list);
	/* age_ms: how old the snapshot is (-1: none published yet) */
	root = json_pack("{s:o,s:I,s:I}", "transfers", arr, "total", (json_int_t)total,
	    "age_ms", at_us == 0 ? (json_int_t)-1 : (json_int_t)((now_us - at_us) / 1000));
	return root;
}

static void
route_transfers(struct api_call *c)
{
	json_t *root = api_transfers_json(clock_now_us());

	if (root == NULL)
		api_reply_error(c->rs, 503, "out of memory");
	else
		api_reply_json(c->rs, 200, root);
}

const struct api_route api_transfers_routes[] = {
	{ "GET", "api/v1/transfers", API_READ, .handler = route_transfers, .statuses = "200",
	    .summary = "transfers in flight (TFTP): peer, file, bytes, rate; as of the last second" },
	{ NULL },
};
