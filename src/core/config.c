#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

enum setting_type { T_STRING, T_PATH, T_UINT, T_BOOL, T_LOGLEVEL, T_LIST };

struct setting {
	const char *name;
	enum setting_type type;
	size_t offset;
	size_t size;                    /* strings: buffer size */
	unsigned min, max;              /* T_UINT */
	const char *def;
	const char *help;
};

#define S(n, t, field, mn, mx, d, h) \
	{ n, t, offsetof(struct config, field), sizeof(((struct config *)0)->field), mn, mx, d, h }

static const struct setting settings[] = {
	S("root", T_PATH, root, 0, 0, "/srv/pxed",
	    "directory served over TFTP and HTTP (read-only)"),
	S("listen", T_LIST, listen, 0, 0, "",
	    "address to listen on (repeatable; default: all IPv4 and IPv6)"),
	S("interface", T_LIST, interface, 0, 0, "",
	    "serve only on this interface (repeatable; default: all)"),
	S("tftp-port", T_UINT, tftp_port, 0, 65535, "69", "TFTP port (0 disables TFTP)"),
	S("http-port", T_UINT, http_port, 0, 65535, "80", "HTTP port (0 disables HTTP)"),
	S("state-dir", T_PATH, state_dir, 0, 0, "/var/lib/pxed", "directory for pxed's state"),
	S("foreground", T_BOOL, foreground, 0, 0, "no",
	    "stay in the foreground and log to stderr (else syslog)"),
	S("log-level", T_LOGLEVEL, log_level, 0, 0, "info", "error, warn, info or debug"),
	S("user", T_STRING, user, 0, 0, "",
	    "user to run as after binding (default: pxed if it exists, else nobody)"),
	S("tftp-write", T_PATH, tftp_write, 0, 0, "",
	    "directory that accepts TFTP uploads (default: uploads refused)"),
	S("tftp-write-max-mb", T_UINT, tftp_write_max_mb, 1, 1048576, "1024",
	    "largest TFTP upload accepted, MiB"),
	S("tftp-window-max", T_UINT, tftp_window_max, 1, 65535, "64",
	    "largest windowsize granted (RFC 7440)"),
	S("tftp-blksize-max", T_UINT, tftp_blksize_max, 512, 65464, "65464",
	    "largest blksize granted (also clamped to the interface MTU)"),
	S("tftp-allow-fragments", T_BOOL, tftp_allow_fragments, 0, 0, "no",
	    "grant blksize above the MTU (IP fragments; many PXE ROMs drop them)"),
	S("tftp-rollover", T_UINT, tftp_rollover, 0, 1, "0",
	    "block number after 65535: 0 (iPXE, EDK2, PXELINUX) or 1"),
	S("tftp-max-sessions", T_UINT, tftp_max_sessions, 1, 65536, "1024",
	    "concurrent TFTP transfers"),
	S("tftp-max-per-client", T_UINT, tftp_max_per_client, 1, 65536, "256",
	    "concurrent TFTP transfers from one client address"),
	S("tftp-min-rto-ms", T_UINT, tftp_min_rto_ms, 1, 60000, "10",
	    "lower bound of the retransmission timeout, ms"),
	S("tftp-max-rto-ms", T_UINT, tftp_max_rto_ms, 10, 255000, "2000",
	    "upper bound of the retransmission timeout, ms (a client's timeout option overrides)"),
	S("tftp-session-timeout", T_UINT, tftp_session_timeout, 1, 3600, "20",
	    "abort a TFTP transfer after this many seconds without progress"),
	S("tftp-case-fallback", T_BOOL, tftp_case_fallback, 0, 0, "yes",
	    "try a case-insensitive match when a file is missing (Windows clients)"),
	S("http-max-connections", T_UINT, http_max_connections, 1, 65536, "512",
	    "concurrent HTTP connections"),
	S("http-max-per-ip", T_UINT, http_max_per_ip, 0, 65536, "64",
	    "concurrent HTTP connections from one address (0: no limit)"),
	S("http-timeout", T_UINT, http_timeout, 1, 3600, "60", "HTTP idle timeout, seconds"),
	S("http-threads", T_UINT, http_threads, 1, 64, "2", "HTTP worker threads"),
};

const char *const *
config_setting_names(void)
{
	static const char *names[ARRAY_SIZE(settings) + 1];

	for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
		names[i] = settings[i].name;
	return names;
}

static const struct setting *
setting_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

static int
parse_bool(const char *v, bool *out)
{
	static const char *yes[] = { "yes", "true", "on", "1" };
	static const char *no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Store value into cfg; on error describe it in err. */
static int
setting_apply(struct config *cfg, const struct setting *s, const char *value,
    char *err, size_t err_size)
{
	char *field = (char *)cfg + s->offset;
	uint64_t n;

	switch (s->type) {
	case T_STRING:
	case T_PATH:
		if (str_copy(field, value, s->size) >= s->size) {
			snprintf(err, err_size, "%s: value too long", s->name);
			return -EINVAL;
		}
		if (s->type == T_PATH && value[0] != '\0' && value[0] != '/') {
			snprintf(err, err_size, "%s: '%s' is not an absolute path", s->name, value);
			return -EINVAL;
		}
		return 0;
	case T_UINT:
		if (parse_u64(value, strlen(value), s->min, s->max, &n) != 0) {
			snprintf(err, err_size, "%s: '%s' is not a number from %u to %u",
			    s->name, value, s->min, s->max);
			return -EINVAL;
		}
		*(unsigned *)(void *)field = (unsigned)n;
		return 0;
	case T_BOOL:
		if (parse_bool(value, (bool *)(void *)field) != 0) {
			snprintf(err, err_size, "%s: '%s' is not yes or no", s->name, value);
			return -EINVAL;
		}
		return 0;
	case T_LOGLEVEL:
		if (log_level_parse(value, (enum log_level *)(void *)field) != 0) {
			snprintf(err, err_size, "%s: '%s' is not error, warn, info or debug",
			    s->name, value);
			return -EINVAL;
		}
		return 0;
	case T_LIST: {
		struct config_list *l = (struct config_list *)(void *)field;
		if (value[0] == '\0')
			return 0;
		if (l->count >= CONFIG_LIST_MAX) {
			snprintf(err, err_size, "%s: more than %d values", s->name, CONFIG_LIST_MAX);
			return -EINVAL;
		}
		if (str_copy(l->item[l->count], value, CONFIG_ITEM_MAX) >= CONFIG_ITEM_MAX) {
			snprintf(err, err_size, "%s: value too long", s->name);
			return -EINVAL;
		}
		l->count++;
		return 0;
	}
	}
	return -EINVAL;
}

static void
config_defaults(struct config *cfg)
{
	char err[256];

	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
		(void)setting_apply(cfg, &settings[i], settings[i].def, err, sizeof err);
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* One line of the file: "name = value", "name value" or "name" (bool). */
static int
config_line(struct config *cfg, char *line, char *err, size_t err_size)
{
	char *hash = strchr(line, '#');
	char *name, *value;
	size_t len;

	if (hash != NULL)
		*hash = '\0';
	name = trim(line);
	if (*name == '\0')
		return 0;
	len = strcspn(name, " \t=");
	value = name + len;
	if (*value != '\0') {
		*value++ = '\0';
		value = trim(value);
		if (*value == '=')
			value = trim(value + 1);
	}
	const struct setting *s = setting_find(name);
	if (s == NULL) {
		snprintf(err, err_size, "unknown setting '%s'", name);
		return -EINVAL;
	}
	if (*value == '\0' && s->type == T_BOOL)
		value = "yes";
	return setting_apply(cfg, s, value, err, err_size);
}

static int
config_file(struct config *cfg, const char *path, char *err, size_t err_size)
{
	char line[2048], msg[512];
	unsigned lineno = 0;
	int rc = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return -EINVAL;
	}
	while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, err_size, "%s:%u: line too long", path, lineno);
			rc = -EINVAL;
			break;
		}
		rc = config_line(cfg, line, msg, sizeof msg);
		if (rc != 0)
			snprintf(err, err_size, "%s:%u: %s", path, lineno, msg);
	}
	fclose(f);
	return rc;
}

static void
list_clear_once(struct config *cfg, const struct setting *s, bool *cleared)
{
	size_t idx = (size_t)(s - settings);

	if (s->type == T_LIST && !cleared[idx]) {
		((struct config_list *)(void *)((char *)cfg + s->offset))->count = 0;
		cleared[idx] = true;
	}
}

int
config_load(struct config *cfg, const struct config_args *args, char *err, size_t err_size)
{
	bool cleared[ARRAY_SIZE(settings)] = { false };
	char msg[512];
	const char *file = NULL;

	config_defaults(cfg);
	for (size_t i = 0; i < args->count; i++)
		if (strcmp(args->set[i].name, "config") == 0)
			file = args->set[i].value;
	if (file != NULL) {
		str_copy(cfg->config_file, file, sizeof cfg->config_file);
		if (config_file(cfg, file, err, err_size) != 0)
			return -EINVAL;
	}
	for (size_t i = 0; i < args->count; i++) {
		const struct config_override *o = &args->set[i];
		if (strcmp(o->name, "config") == 0)
			continue;
		const struct setting *s = setting_find(o->name);
		if (s == NULL) {
			snprintf(err, err_size, "--%s: unknown option", o->name);
			return -EINVAL;
		}
		list_clear_once(cfg, s, cleared);
		if (setting_apply(cfg, s, o->value, msg, sizeof msg) != 0) {
			snprintf(err, err_size, "--%s", msg);
			return -EINVAL;
		}
	}
	return 0;
}

static int
args_add(struct config_args *args, const char *name, const char *value)
{
	if (args->count >= CONFIG_OVERRIDES_MAX) {
		fprintf(stderr, "too many options\n");
		return -EINVAL;
	}
	args->set[args->count].name = name;
	args->set[args->count].value = value;
	args->count++;
	return 0;
}

/* "--name value", "--name=value", or a bare "--name" for booleans. */
static int
args_one(int argc, char **argv, int *i, struct config_args *args)
{
	char *arg = argv[*i] + 2;
	char *eq = strchr(arg, '=');
	const char *value = NULL;

	if (eq != NULL) {
		*eq = '\0';
		value = eq + 1;
	}
	if (strcmp(arg, "check-config") == 0 || strcmp(arg, "help") == 0 ||
	    strcmp(arg, "version") == 0) {
		args->check_config |= arg[0] == 'c';
		args->help |= arg[0] == 'h';
		args->version |= arg[0] == 'v';
		return 0;
	}
	const struct setting *s = setting_find(arg);
	if (s == NULL && strcmp(arg, "config") != 0) {
		fprintf(stderr, "unknown option --%s (try --help)\n", arg);
		return -EINVAL;
	}
	if (value == NULL && s != NULL && s->type == T_BOOL)
		value = "yes";
	if (value == NULL) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "--%s needs a value\n", arg);
			return -EINVAL;
		}
		value = argv[++*i];
	}
	return args_add(args, s != NULL ? s->name : "config", value);
}

int
config_args_parse(int argc, char **argv, struct config_args *args)
{
	memset(args, 0, sizeof *args);
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0') {
			fprintf(stderr, "unexpected argument '%s' (try --help)\n", argv[i]);
			return -EINVAL;
		}
		if (args_one(argc, argv, &i, args) != 0)
			return -EINVAL;
	}
	return 0;
}

static void
setting_print(const struct config *cfg, const struct setting *s, FILE *out)
{
	const char *field = (const char *)cfg + s->offset;

	switch (s->type) {
	case T_STRING:
	case T_PATH:
		fprintf(out, "%s = %s\n", s->name, field);
		break;
	case T_UINT:
		fprintf(out, "%s = %u\n", s->name, *(const unsigned *)(const void *)field);
		break;
	case T_BOOL:
		fprintf(out, "%s = %s\n", s->name,
		    *(const bool *)(const void *)field ? "yes" : "no");
		break;
	case T_LOGLEVEL:
		fprintf(out, "%s = %s\n", s->name,
		    log_level_name(*(const enum log_level *)(const void *)field));
		break;
	case T_LIST: {
		const struct config_list *l = (const struct config_list *)(const void *)field;
		if (l->count == 0)
			fprintf(out, "# %s (none: all)\n", s->name);
		for (size_t i = 0; i < l->count; i++)
			fprintf(out, "%s = %s\n", s->name, l->item[i]);
		break;
	}
	}
}

void
config_print(const struct config *cfg, FILE *out)
{
	if (cfg->config_file[0] != '\0')
		fprintf(out, "# effective configuration (file %s, then flags)\n", cfg->config_file);
	else
		fprintf(out, "# effective configuration (defaults, then flags)\n");
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
		setting_print(cfg, &settings[i], out);
}

void
config_usage(FILE *out, const char *prog)
{
	fprintf(out, "usage: %s [--config FILE] [--check-config] [--OPTION VALUE]...\n\n", prog);
	fprintf(out, "  --config FILE            read settings from FILE (flags override it)\n");
	fprintf(out, "  --check-config           validate, print the effective config, exit\n");
	fprintf(out, "  --version                print the version\n");
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		const struct setting *s = &settings[i];
		char flag[64];
		snprintf(flag, sizeof flag, "--%s%s", s->name, s->type == T_BOOL ? "" : " V");
		fprintf(out, "  %-24s %s", flag, s->help);
		if (s->def[0] != '\0')
			fprintf(out, " [%s]", s->def);
		fprintf(out, "\n");
	}
}
