/* Configuration: every setting is declared once (name, type, bounds,
 * default, help) in config.c's table, and that table drives the file
 * parser, the command-line flags, validation, --help and --check-config.
 *
 * Layers, later wins: defaults, then the file (--config), then flags.  A
 * list setting given on the command line replaces the file's list. */
#ifndef PXED_CORE_CONFIG_H
#define PXED_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/log.h"

#define CONFIG_PATH_MAX 1024
#define CONFIG_LIST_MAX 16
#define CONFIG_ITEM_MAX 128

struct config_list {
	char item[CONFIG_LIST_MAX][CONFIG_ITEM_MAX];
	size_t count;
};

struct config {
	char config_file[CONFIG_PATH_MAX];
	char root[CONFIG_PATH_MAX];
	struct config_list listen;
	struct config_list interface;
	unsigned tftp_port;
	unsigned http_port;
	char state_dir[CONFIG_PATH_MAX];
	bool foreground;
	enum log_level log_level;
	char user[64];
	char tftp_write[CONFIG_PATH_MAX];
	unsigned tftp_write_max_mb;
	unsigned tftp_window_max;
	unsigned tftp_blksize_max;
	bool tftp_allow_fragments;
	unsigned tftp_rollover;
	unsigned tftp_max_sessions;
	unsigned tftp_max_per_client;
	unsigned tftp_min_rto_ms;
	unsigned tftp_max_rto_ms;
	unsigned tftp_session_timeout;
	bool tftp_case_fallback;
	unsigned http_max_connections;
	unsigned http_max_per_ip;
	unsigned http_timeout;
	unsigned http_threads;
};

/* A flag given on the command line, kept so that a reload (SIGHUP) can
 * apply the same overrides on top of the re-read file. */
struct config_override {
	const char *name;
	const char *value;
};

#define CONFIG_OVERRIDES_MAX 64
struct config_args {
	struct config_override set[CONFIG_OVERRIDES_MAX];
	size_t count;
	bool check_config;
	bool help;
	bool version;
};

/* Parse argv into args (no side effects).  Returns 0, or -EINVAL with a
 * message on stderr. */
int config_args_parse(int argc, char **argv, struct config_args *args);

/* Build the effective config: defaults, file, overrides.  On error writes
 * "file:line: message" (or "--flag: message") into err and returns
 * -EINVAL. */
int config_load(struct config *cfg, const struct config_args *args, char *err, size_t err_size);

/* Print the effective config in file syntax. */
void config_print(const struct config *cfg, FILE *out);

/* Print the flags and their help. */
void config_usage(FILE *out, const char *prog);

/* Names of every setting, NULL-terminated (tests check docs cover them). */
const char *const *config_setting_names(void);

#endif
