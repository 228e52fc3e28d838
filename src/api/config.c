/* GET /api/v1/config (docs/API.md): the running configuration, each main
 * setting with its value and where it came from (default, file, flag),
 * each subnet's settings with theirs, and the restart-only settings the
 * file changed since start.
 *
 * The configuration lives on the loop thread (src/pxed/main.c, replaced
 * by each reload): a copy is asked through the board (dhcp/board.h),
 * made by the loop between two events, and described here, in this
 * thread, with core/config.c's table.  No setting holds a secret today:
 * api-token-file is a path, the token stays in its file. */
#include "api/internal.h"

#include <stdlib.h>

#include "core/config.h"
#include "dhcp/board.h"

static void
setting_json(void *arg, const char *name, const char *value, const char *source)
{
	json_array_append_new(arg, json_pack("{s:s, s:o, s:s}", "name", name, "value",
	    api_json_text(value), "source", source));
}

static json_t *
subnets_json(const struct config *cfg)
{
	json_t *list = json_array();

	for (size_t i = 0; i < cfg->subnet_count; i++) {
		const struct config_subnet *sn = &cfg->subnet[i];
		json_t *settings = json_array();
		config_subnet_describe(cfg, sn, setting_json, settings);
		json_array_append_new(list, json_pack("{s:o, s:s, s:o}", "cidr",
		    api_json_text(sn->name), "mode", config_subnet_mode(cfg, sn),
		    "settings", settings));
	}
	return list;
}

static void
config_show(struct api_call *c)
{
	void *data = NULL;
	size_t len = 0;
	const char *names[CONFIG_SETTINGS_MAX];

	if (api_board_snapshot(c->api, BOARD_CONFIG, sizeof(struct config), &data, &len,
	    c->rs) != 0)
		return;
	struct config *cfg = data;
	json_t *settings = json_array(), *restart = json_array();
	config_describe(cfg, setting_json, settings);
	size_t n = config_restart_needed(cfg, names, CONFIG_SETTINGS_MAX);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(restart, json_string(names[i]));
	api_reply_json(c->rs, 200, json_pack("{s:o, s:o, s:o, s:o}",
	    "file", cfg->config_file[0] != '\0' ? api_json_text(cfg->config_file) : json_null(),
	    "settings", settings, "subnets", subnets_json(cfg), "restart_needed", restart));
	free(cfg);
}

const struct api_route api_config_routes[] = {
	{ "GET", "api/v1/config", API_READ, .handler = config_show, .statuses = "200",
	    .summary = "the running configuration: each setting's value and source, subnets, "
	    "restart-only settings changed since start" },
	{ NULL },
};
