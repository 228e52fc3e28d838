/* Configuration: every setting is declared once (name, type, bounds,
 * default, help) in config.c's table, and that table drives the file
 * parser, the command-line flags, validation, --help and --check-config.
 *
 * Layers, later wins: defaults, then the file (--config), then flags.  A
 * list setting given on the command line replaces the file's list. */
#ifndef PXED_CORE_CONFIG_H
#define PXED_CORE_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/log.h"

#define CONFIG_PATH_MAX 1024
#define CONFIG_LIST_MAX 16
#define CONFIG_ITEM_MAX 128

struct config_list {
	char item[CONFIG_LIST_MAX][CONFIG_ITEM_MAX];
	size_t count;
};

#define CONFIG_SHORT_LIST_MAX 4
struct config_short_list {
	char item[CONFIG_SHORT_LIST_MAX][CONFIG_ITEM_MAX];
	size_t count;
};

#define CONFIG_SETTINGS_MAX 96         /* main settings (config.c checks) */

/* Where a main setting's value came from: later layers win. */
enum config_source {
	CONFIG_SOURCE_DEFAULT,          /* the settings table's default */
	CONFIG_SOURCE_FILE,             /* the config file (--config) */
	CONFIG_SOURCE_FLAG,             /* a command-line flag */
};

#define CONFIG_SUBNETS_MAX 32
#define CONFIG_HOSTS_MAX 256
#define CONFIG_INFINITE 0xffffffffu     /* a duration of "infinite" */

/* [subnet CIDR] */
struct config_subnet {
	char name[48];                  /* the CIDR as written */
	struct in_addr network, netmask;
	struct config_short_list range; /* "FIRST LAST" (or FIRST,LAST) */
	struct in_addr router;
	struct config_short_list dns;
	char domain[128];
	unsigned lease_time;            /* seconds; 0 = the global dhcp-lease-time */
	bool pxe;                       /* answer PXE clients on this subnet */
	bool proxy;                     /* proxyDHCP here: no addresses */
	struct config_list boot;        /* "CLASS TARGET" */
	struct config_list exclude;     /* "ADDR" or "FIRST-LAST" */
	struct in_addr next_server;     /* 0: the server's address on the subnet */
	bool mtftp;                     /* advertise PXE MTFTP (43.1-5) here */
	char chunk_sources[1024];       /* "" (the global one), "none" or URLs */
	/* not settings: where the subnet's settings came from */
	uint32_t given;                 /* bit i: the file set the section's setting i */
	bool in_file;                   /* declared in the file (else added by pxectl) */
	bool off;                       /* disabled by pxectl: not answered at all */
	char changed_by[16];            /* the state store's mode ("full", "proxy",
	                                 * "off"), or "" when the file's stands */
	int64_t changed_ms;             /* when that change was made */
};

/* [relay ID]: requests relayed with option 82 whose circuit id (or, with
 * "match = remote-id", remote id) equals ID use these boot rules instead of
 * their subnet's. */
#define CONFIG_RELAYS_MAX 32
struct config_relay {
	char name[64];                  /* the ID as written (text) */
	char match[16];                 /* "circuit-id" or "remote-id" */
	struct config_short_list boot;
};

/* [environment NAME]: a boot environment a boot task or the no-task menu
 * boots (api/envs.c checks the values; docs/DIAGNOSTICS.md). */
#define CONFIG_ENVIRONMENTS_MAX 32
struct config_environment {
	char name[64];
	char kind[16];                  /* linux, chain or wimboot */
	char title[96];
	bool menu;                      /* offered in the no-task menu */
	char kernel[CONFIG_ITEM_MAX];   /* linux */
	struct config_list initrd;      /* linux */
	char args[256];                 /* linux, chain, wimboot */
	char bios[CONFIG_ITEM_MAX];     /* chain: the BIOS program */
	char efi[CONFIG_ITEM_MAX];      /* chain: the UEFI program */
	char wimboot[CONFIG_ITEM_MAX];  /* wimboot: wimboot, BCD, boot.sdi, boot.wim */
	char bcd[CONFIG_ITEM_MAX];
	char boot_sdi[CONFIG_ITEM_MAX];
	char boot_wim[CONFIG_ITEM_MAX];
};

/* [host MAC] */
struct config_host {
	char name[32];                  /* the MAC as written */
	uint8_t mac[6];
	struct in_addr address;         /* reservation; 0 = none */
	char hostname[64];
	char client_id[200];            /* "01:52:54:..." (option 61), or "" */
	struct config_short_list boot;
};

struct config {
	char config_file[CONFIG_PATH_MAX];
	char root[CONFIG_PATH_MAX];
	struct config_list listen;
	struct config_list interface;
	unsigned tftp_port;
	unsigned http_port;
	char state_dir[CONFIG_PATH_MAX];
	char state_url[CONFIG_PATH_MAX];        /* "" or postgresql://... (store_url_check) */
	char server_name[64];                   /* among servers sharing state-url; "": host name */
	bool foreground;
	enum log_level log_level;
	char log_format[8];             /* "text" or "json" (log_format_check) */
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
	/* PXE MTFTP (43.1-5, port mtftp-port) */
	struct config_list mtftp_file;  /* "FILE GROUP CPORT" */
	unsigned mtftp_port;
	unsigned mtftp_timeout;         /* 43.4: seconds to listen before opening */
	unsigned mtftp_delay;           /* 43.5: seconds to listen before reopening */
	bool mtftp;                     /* advertise 43.1-5 on every subnet */
	/* RFC 2090 multicast option on port 69 */
	bool tftp_multicast;
	struct in_addr tftp_multicast_group;    /* first of 64 groups */
	unsigned tftp_multicast_port;
	unsigned http_max_connections;
	unsigned http_max_per_ip;
	unsigned http_timeout;
	unsigned http_header_timeout;
	unsigned http_threads;
	unsigned http_body_memory_mb;
	unsigned http_body_min_rate;
	/* DHCP and PXE (off unless a subnet, a dhcp-range or proxy is set) */
	unsigned dhcp_port;
	unsigned pxe_port;
	bool proxy;
	struct config_list boot;        /* global rules "CLASS TARGET" */
	struct config_list dhcp_range;  /* quick start: "FIRST,LAST[,MASK][,LEASE]" */
	struct in_addr dhcp_router;
	struct config_short_list dhcp_dns;
	char dhcp_domain[128];
	unsigned dhcp_lease_time;
	struct config_list dhcp_host;   /* quick start: "MAC,ADDR[,NAME]" */
	unsigned dhcp_new_client_rate;  /* a second, per subnet (0: no limit) */
	unsigned dhcp_relay_rate;       /* a second, per relay (0: no limit) */
	unsigned dhcp_pool_reserve;     /* percent kept for known clients */
	unsigned dhcp_outage_lease_time;        /* renewals from memory: at most (s) */
	unsigned dhcp_pool_low;         /* percent free under which the alarm rings */
	unsigned dhcp_rogue_probe;      /* seconds between probes (0: only listen) */
	struct config_short_list dhcp_rogue_allow;      /* servers expected */
	struct config_list pxe_menu;    /* "TEXT | TARGET" */
	char pxe_prompt[64];
	unsigned pxe_menu_timeout;
	/* imaging */
	char image_dir[CONFIG_PATH_MAX];
	char clamav_db_dir[CONFIG_PATH_MAX];
	char ui_dir[CONFIG_PATH_MAX];
	unsigned https_port;
	char tls_cert[CONFIG_PATH_MAX];
	char tls_key[CONFIG_PATH_MAX];
	char api_token_file[CONFIG_PATH_MAX];
	bool host_approval;
	char metrics_auth[8];           /* "open" or "read" */
	unsigned hosts_max;
	unsigned host_register_rate;
	bool task_token_bind;
	bool sandbox;                   /* Landlock + seccomp (pxed/sandbox.c) */
	char no_task[8];                /* "local" or "menu" (http/mgmt.h checks it) */
	unsigned no_task_menu_timeout;
	char bootenv_url[256];
	char bootenv_args[256];
	char image_repo[256];           /* "local", or the URL of the pxed holding it */
	char chunk_sources[1024];       /* image/sources.h checks it */
	unsigned image_chunk_mb;
	unsigned image_level;
	char memtest_dir[CONFIG_PATH_MAX];      /* Debian's memtest86+ (api/envs.c) */
	/* multicast deploy */
	struct in_addr mcast_group;
	unsigned mcast_port;
	unsigned mcast_ttl;
	unsigned mcast_rate_mbit;
	unsigned mcast_min_rate_mbit;
	unsigned mcast_slice;
	unsigned mcast_start_after;
	char mcast_fec[16];             /* "off" or "K,M" (mcast/fec.h checks it) */
	struct config_subnet subnet[CONFIG_SUBNETS_MAX];
	size_t subnet_count;
	struct config_host host[CONFIG_HOSTS_MAX];
	size_t host_count;
	struct config_relay relay[CONFIG_RELAYS_MAX];
	size_t relay_count;
	struct config_environment environment[CONFIG_ENVIRONMENTS_MAX];
	size_t environment_count;
	/* not settings: where each main setting's value came from (enum
	 * config_source, by the setting's place in config.c's table), and the
	 * restart-only settings whose value in the file or flags differs from
	 * the running one (config_keep_restart) */
	uint8_t source[CONFIG_SETTINGS_MAX];
	bool restart_pending[CONFIG_SETTINGS_MAX];
};

/* A module that owns a value's syntax registers a check for a setting name
 * (in any section), e.g. the boot policy for "boot".  Returns 0, or -EINVAL
 * with a message in err. */
typedef int (*config_validator)(const char *value, char *err, size_t err_size);
void config_validator_register(const char *setting, config_validator fn);

/* Parse "192.0.2.0/24" into network and mask (network bits only). */
int config_parse_cidr(const char *text, struct in_addr *network, struct in_addr *mask);
/* Parse "52:54:00:12:34:56" (or with '-'). */
int config_parse_mac(const char *text, uint8_t mac[6]);
/* Parse a duration: seconds, or N with s/m/h/d, or "infinite". */
int config_parse_duration(const char *text, unsigned *out);

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

/* A subnet changed through pxectl (kept in the state store): mode "full",
 * "proxy" or "off" applied to the subnet CIDR of cfg, which is added (with
 * the defaults of a [subnet] section) when the file does not declare it.
 * Returns 0, or -EINVAL (bad CIDR or mode) / -ENOSPC with err. */
int config_subnet_override(struct config *cfg, const char *cidr, const char *mode,
    int64_t changed_ms, char *err, size_t err_size);

/* How a subnet is served: "off", "proxy" or "full". */
const char *config_subnet_mode(const struct config *cfg, const struct config_subnet *sn);

/* Each setting of a subnet with its value and where it came from: "file",
 * "default", "global" (a global default such as dhcp-router) or "pxectl". */
typedef void (*config_describe_fn)(void *arg, const char *name, const char *value,
    const char *source);
void config_subnet_describe(const struct config *cfg, const struct config_subnet *sn,
    config_describe_fn fn, void *arg);

/* Each main setting with its value (lists joined by ", ") and where it
 * came from: "default", "file" or "flag".  No setting holds a secret
 * today (api-token-file is a path; the token stays in its file).  Safe to
 * call from any thread on a config no one changes. */
void config_describe(const struct config *cfg, config_describe_fn fn, void *arg);
/* The names of the restart-only settings that were changed (in the file
 * or flags) since start and wait for a restart, into names (at most max);
 * returns how many. */
size_t config_restart_needed(const struct config *cfg, const char **names, size_t max);

/* One difference between two configurations (a reload's log).  section is
 * NULL for the main settings, else "subnet", "host" or "relay" with its id;
 * name is NULL when the whole section was added (old == NULL) or removed
 * (new == NULL).  restart: a setting a reload cannot apply. */
struct config_change {
	const char *section;
	const char *id;
	const char *name;
	const char *old_value, *new_value;
	bool restart;
};
typedef void (*config_change_fn)(void *arg, const struct config_change *c);
/* Calls fn for each difference from a to b; returns how many. */
size_t config_diff(const struct config *a, const struct config *b, config_change_fn fn,
    void *arg);
/* Copy the settings a reload cannot apply from running into next (with
 * where their values came from), marking in next those whose value next
 * wanted differs (restart_pending). */
void config_keep_restart(struct config *next, const struct config *running);

/* Names of every setting, NULL-terminated (tests check docs cover them). */
const char *const *config_setting_names(void);
/* The same for the settings of a "subnet", "host", "relay" or
 * "environment" section. */
const char *const *config_section_setting_names(const char *section);
/* The settings a reload cannot apply, NULL-terminated. */
const char *const *config_restart_setting_names(void);

#endif
