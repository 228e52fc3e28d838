/* GET /api/v1/stats/boots?hours=N (docs/API.md): machines that booted
 * from the network and machines with a failure, per hour, counted from
 * the boot events (store/stats.c says what counts). */
#include "api/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/stats.h"

#define HOURS_DEFAULT 24

static void
boots_per_hour(struct api_call *c)
{
	const char *arg = api_query(c, "hours");
	uint64_t hours = HOURS_DEFAULT;
	struct store_hour *h;

	if (arg != NULL && parse_u64(arg, strlen(arg), 1, STORE_HOURS_MAX, &hours) != 0) {
		api_reply_error(c->rs, 400, "hours: a number from 1 to %d", STORE_HOURS_MAX);
		return;
	}
	h = calloc(hours, sizeof *h);
	if (h == NULL || store_boot_hours(c->st, api_now(), (unsigned)hours, h) != 0) {
		free(h);
		api_reply_error(c->rs, 500, "the boot events cannot be read");
		return;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < hours; i++)
		json_array_append_new(list, json_pack("{s:I, s:I, s:I}", "start",
		    (json_int_t)h[i].start, "boots", (json_int_t)h[i].boots, "failures",
		    (json_int_t)h[i].failures));
	free(h);
	api_reply_json(c->rs, 200, json_pack("{s:o}", "hours", list));
}

const struct api_route api_stats_routes[] = {
	{ "GET", "api/v1/stats/boots", API_READ, .handler = boots_per_hour,
	    .statuses = "200 400", .query = "hours",
	    .summary = "machines that booted and machines with a failure, per hour (?hours=1..168)" },
	{ NULL },
};
