/* Boot environments between envs.c (what they are) and env_boot.c (how
 * they boot). */
#ifndef PXED_API_ENVS_H
#define PXED_API_ENVS_H

#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/internal.h"
#include "files/files.h"

#define ENV_PATH_MAX 256
#define ENV_INITRDS_MAX 8
#define ENV_AWAIT_MAX 64                /* boot tasks waiting for their program */

struct api_env {
	char name[64];
	char kind[16];                  /* linux, chain, wimboot */
	char title[96];
	bool menu;
	char kernel[ENV_PATH_MAX];
	char initrd[ENV_INITRDS_MAX][ENV_PATH_MAX];
	size_t ninitrd;
	char args[256];
	char bios[ENV_PATH_MAX], efi[ENV_PATH_MAX];
	char wimboot[ENV_PATH_MAX], bcd[ENV_PATH_MAX], boot_sdi[ENV_PATH_MAX],
	    boot_wim[ENV_PATH_MAX];
	const char *source;             /* "config", "builtin", "api" */
};

/* A boot task whose script went to peer: done when one of its programs
 * has been served to that address. */
struct env_await {
	int64_t task;
	struct in_addr peer;
	char path[2][ENV_PATH_MAX];     /* normalized paths under the root */
	uint64_t since_us;
};

struct api_envs {
	/* copies of the config file's sections, made at start: a reload
	 * (SIGHUP) replaces the daemon's config while these are read */
	struct config_environment *config;
	size_t nconfig;
	struct config_subnet *subnets;  /* where hosts are woken (wake.c) */
	size_t nsubnets;
	struct files_root builtin;      /* memtest-dir (dirfd -1: none) */
	bool memtest;                   /* Debian's memtest86+ is there */
	pthread_mutex_t lock;           /* guards await */
	struct env_await await[ENV_AWAIT_MAX];
};

bool env_name_valid(const char *name);
bool env_is_url(const char *path);
/* The environment called name: 0, -ENOENT, -EIO. */
int env_get(struct api *a, struct store *st, const char *name, struct api_env *e);
int env_list(struct api *a, struct store *st, struct api_env *out, size_t max);
/* Are its files there?  0, or -ENOENT with err naming the first missing. */
int env_files_check(struct api *a, const struct api_env *e, char *err, size_t size);
int env_from_json(json_t *o, const char *name, struct api_env *e, char *err, size_t size);
json_t *env_to_json(const struct api_env *e);

#endif
