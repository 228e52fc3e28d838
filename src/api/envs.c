/* Boot environments (docs/DIAGNOSTICS.md): what a boot task boots once,
 * and what the no-task menu may offer.  Three sources, one namespace:
 *   [environment NAME] sections of the config file (read-only here);
 *   memtest86+, predefined when Debian's memtest86+ package put its BIOS
 *   and UEFI builds in memtest-dir (served from there, not from the root,
 *   at pxed-builtin/memtest86+/NAME);
 *   environments made through the API (PUT /api/v1/environments/NAME,
 *   kept in the store, schema 12).
 * A file of an environment is a path under the root (checked to exist
 * when the environment is made and when a task boots it) or an http(s)
 * URL (not checked). */
#include "api/diag.h"
#include "api/envs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/json_text.h"
#include "core/log.h"
#include "core/util.h"
#include "files/files.h"
#include "store/diag.h"

#define BUILTIN_PREFIX "pxed-builtin/memtest86+/"
#define MEMTEST_NAME "memtest86+"
#define ENV_LIST_MAX 256

static const char *const memtest_files[] = {
	"memtest86+x64.bin", "memtest86+x64.efi", "memtest86+ia32.bin", "memtest86+ia32.efi",
};
static const char *const env_kinds[] = { "linux", "chain", "wimboot" };

/* ---- opening ---- */

static bool
builtin_has(const struct api_envs *e, const char *name)
{
	struct stat st;
	int fd;

	if (e->builtin.dirfd < 0)
		return false;
	fd = files_open_read(&e->builtin, name, &st, NULL);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void env_from_config(const struct config_environment *c, struct api_env *e);
static int env_fields_check(const struct api_env *e, char *err, size_t size);

/* The config file's environments, each checked as the API's are. */
static int
envs_config_check(struct api *a)
{
	struct api_env e;
	char err[256];

	for (size_t i = 0; i < a->envs->nconfig; i++) {
		env_from_config(&a->envs->config[i], &e);
		if (env_fields_check(&e, err, sizeof err) < 0) {
			log_error("[environment %s]: %s", e.name, err);
			return -EINVAL;
		}
		if (env_files_check(a, &e, err, sizeof err) < 0)
			log_warn("[environment %s]: %s (a boot task will be refused until it is"
			    " there)", e.name, err);
	}
	return 0;
}

int
api_envs_open(struct api *a)
{
	struct api_envs *e = calloc(1, sizeof *e);
	const char *dir = a->cfg.memtest_dir;

	if (e == NULL)
		return -ENOMEM;
	e->builtin.dirfd = -1;
	e->config = calloc(MAX(a->cfg.environment_count, 1u), sizeof *e->config);
	e->subnets = calloc(MAX(a->cfg.subnet_count, 1u), sizeof *e->subnets);
	if (e->config == NULL || e->subnets == NULL) {
		free(e->config);
		free(e->subnets);
		free(e);
		return -ENOMEM;
	}
	if (a->cfg.environment_count > 0)
		memcpy(e->config, a->cfg.environments, a->cfg.environment_count * sizeof *e->config);
	if (a->cfg.subnet_count > 0)
		memcpy(e->subnets, a->cfg.subnets, a->cfg.subnet_count * sizeof *e->subnets);
	e->nconfig = a->cfg.environment_count;
	e->nsubnets = a->cfg.subnet_count;
	pthread_mutex_init(&e->lock, NULL);
	if (dir != NULL && dir[0] != '\0' && files_root_open(&e->builtin, dir, false) < 0)
		e->builtin.dirfd = -1;
	e->memtest = builtin_has(e, "memtest86+x64.bin") || builtin_has(e, "memtest86+x64.efi");
	if (e->memtest)
		log_info("api: environment %s: Debian's memtest86+ in %s", MEMTEST_NAME, dir);
	a->envs = e;
	return envs_config_check(a);
}

void
api_envs_close(struct api *a)
{
	if (a->envs == NULL)
		return;
	files_root_close(&a->envs->builtin);
	pthread_mutex_destroy(&a->envs->lock);
	free(a->envs->config);
	free(a->envs->subnets);
	free(a->envs);
	a->envs = NULL;
}

const char *
api_builtin_file(const struct api *a, const char *path, const struct files_root **root)
{
	const char *name = path + strlen(BUILTIN_PREFIX);

	if (a->envs == NULL || !a->envs->memtest ||
	    strncmp(path, BUILTIN_PREFIX, strlen(BUILTIN_PREFIX)) != 0)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(memtest_files); i++)
		if (strcmp(name, memtest_files[i]) == 0) {
			*root = &a->envs->builtin;
			return name;
		}
	return NULL;
}

const char *
api_memtest_file(size_t i)
{
	return i < ARRAY_SIZE(memtest_files) ? memtest_files[i] : NULL;
}

/* ---- names, paths ---- */

bool
env_name_valid(const char *name)
{
	size_t n = strnlen(name, sizeof ((struct api_env *)NULL)->name);

	return n > 0 && n < sizeof ((struct api_env *)NULL)->name &&
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-") == n &&
	    name[0] != '.';
}

bool
env_is_url(const char *path)
{
	return strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0;
}

/* A file's name as scripts may carry it unescaped: a URL of printable
 * bytes without blanks or quotes, or a path of [A-Za-z0-9._+/-]. */
static bool
env_path_valid(const char *path)
{
	size_t n = strlen(path);

	if (n == 0 || n >= ENV_PATH_MAX)
		return false;
	if (env_is_url(path)) {
		for (size_t i = 0; i < n; i++)
			if (path[i] <= ' ' || path[i] >= 0x7f || strchr("\"'\\`$", path[i]) != NULL)
				return false;
		return true;
	}
	return strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+/-")
	    == n && strstr(path, "..") == NULL && path[0] != '/';
}

/* Is the file of an environment there (a regular file under the root, or
 * a built-in one)?  0, or -ENOENT with err saying which. */
static int
env_file_check(struct api *a, const char *what, const char *path, char *err, size_t size)
{
	const struct files_root *root = a->cfg.root;
	const char *name = api_builtin_file(a, path, &root);
	struct stat st;
	int fd;

	if (path[0] == '\0' || env_is_url(path))
		return 0;
	if (root == NULL) {
		snprintf(err, size, "%s %s: no root to serve it from", what, path);
		return -ENOENT;
	}
	fd = files_open_read(root, name != NULL ? name : path, &st, NULL);
	if (fd < 0) {
		snprintf(err, size, "%s %s: %s under the root", what, path,
		    fd == -ENOENT ? "missing" : "not readable");
		return -ENOENT;
	}
	close(fd);
	return 0;
}

int
env_files_check(struct api *a, const struct api_env *e, char *err, size_t size)
{
	int rc = env_file_check(a, "kernel", e->kernel, err, size);

	for (size_t i = 0; rc == 0 && i < e->ninitrd; i++)
		rc = env_file_check(a, "initrd", e->initrd[i], err, size);
	if (rc == 0)
		rc = env_file_check(a, "bios", e->bios, err, size);
	if (rc == 0)
		rc = env_file_check(a, "efi", e->efi, err, size);
	if (rc == 0)
		rc = env_file_check(a, "wimboot", e->wimboot, err, size);
	if (rc == 0)
		rc = env_file_check(a, "bcd", e->bcd, err, size);
	if (rc == 0)
		rc = env_file_check(a, "boot_sdi", e->boot_sdi, err, size);
	if (rc == 0)
		rc = env_file_check(a, "boot_wim", e->boot_wim, err, size);
	return rc;
}

/* What each kind needs.  0, or -EINVAL with err. */
static int
env_shape_check(const struct api_env *e, char *err, size_t size)
{
	if (strcmp(e->kind, "linux") == 0 && e->kernel[0] == '\0')
		snprintf(err, size, "a linux environment needs a kernel");
	else if (strcmp(e->kind, "chain") == 0 && e->bios[0] == '\0' && e->efi[0] == '\0')
		snprintf(err, size, "a chain environment needs a bios or an efi program");
	else if (strcmp(e->kind, "wimboot") == 0 && (e->wimboot[0] == '\0' ||
	    e->boot_wim[0] == '\0'))
		snprintf(err, size, "a wimboot environment needs wimboot and boot_wim");
	else
		return 0;
	return -EINVAL;
}

/* A whole definition: its kind, its paths (as a script may carry them),
 * its command line and title (one line, nothing a shell or iPXE would
 * expand), what its kind needs.  0, or -EINVAL with err. */
static int
env_fields_check(const struct api_env *e, char *err, size_t size)
{
	const char *paths[] = { e->kernel, e->bios, e->efi, e->wimboot, e->bcd, e->boot_sdi,
		e->boot_wim };
	bool kind_ok = false;

	for (size_t i = 0; i < ARRAY_SIZE(env_kinds); i++)
		kind_ok |= strcmp(e->kind, env_kinds[i]) == 0;
	if (!kind_ok) {
		snprintf(err, size, "kind: linux, chain or wimboot");
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(paths) + e->ninitrd; i++) {
		const char *p = i < ARRAY_SIZE(paths) ? paths[i] : e->initrd[i - ARRAY_SIZE(paths)];
		if (p[0] != '\0' && !env_path_valid(p)) {
			snprintf(err, size, "%.100s: a path under the root of [A-Za-z0-9._+/-] (no ..)"
			    " or an http(s) URL", p);
			return -EINVAL;
		}
	}
	if (strpbrk(e->args, "\n\r\"'`$;&|<>\\") != NULL || strpbrk(e->title, "\n\r\"'`$") != NULL) {
		snprintf(err, size, "args and title are one line without quotes, $, ;, &, |, <, >, \\");
		return -EINVAL;
	}
	return env_shape_check(e, err, size);
}

/* ---- the three sources ---- */

static void
env_from_config(const struct config_environment *c, struct api_env *e)
{
	memset(e, 0, sizeof *e);
	str_copy(e->name, c->name, sizeof e->name);
	str_copy(e->kind, c->kind, sizeof e->kind);
	str_copy(e->title, c->title, sizeof e->title);
	e->menu = c->menu;
	str_copy(e->kernel, c->kernel, sizeof e->kernel);
	for (size_t i = 0; i < c->initrd.count && i < ENV_INITRDS_MAX; i++)
		str_copy(e->initrd[e->ninitrd++], c->initrd.item[i], sizeof e->initrd[0]);
	str_copy(e->args, c->args, sizeof e->args);
	str_copy(e->bios, c->bios, sizeof e->bios);
	str_copy(e->efi, c->efi, sizeof e->efi);
	str_copy(e->wimboot, c->wimboot, sizeof e->wimboot);
	str_copy(e->bcd, c->bcd, sizeof e->bcd);
	str_copy(e->boot_sdi, c->boot_sdi, sizeof e->boot_sdi);
	str_copy(e->boot_wim, c->boot_wim, sizeof e->boot_wim);
	e->source = "config";
}

static void
env_memtest(const struct api_envs *envs, struct api_env *e)
{
	memset(e, 0, sizeof *e);
	str_copy(e->name, MEMTEST_NAME, sizeof e->name);
	str_copy(e->kind, "chain", sizeof e->kind);
	str_copy(e->title, "Memory test (memtest86+)", sizeof e->title);
	if (builtin_has(envs, "memtest86+x64.bin"))
		str_copy(e->bios, BUILTIN_PREFIX "memtest86+x64.bin", sizeof e->bios);
	if (builtin_has(envs, "memtest86+x64.efi"))
		str_copy(e->efi, BUILTIN_PREFIX "memtest86+x64.efi", sizeof e->efi);
	/* its output on the serial console as well as the screen */
	str_copy(e->args, "console=ttyS0,115200", sizeof e->args);
	e->source = "builtin";
}

/* A text member (absent: "") that fits and is a valid path when path. */
static int
json_member(json_t *o, const char *key, char *out, size_t size, bool path, char *err,
    size_t esize)
{
	json_t *v = json_object_get(o, key);

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= size ||
	    json_string_length(v) != strlen(json_string_value(v)) ||
	    (path && json_string_length(v) > 0 && !env_path_valid(json_string_value(v)))) {
		snprintf(err, esize, "\"%s\": %s", key, path ? "a path under the root of"
		    " [A-Za-z0-9._+/-] (no ..) or an http(s) URL" : "a string that fits");
		return -EINVAL;
	}
	str_copy(out, json_string_value(v), size);
	return 0;
}

static int
json_initrds(json_t *arr, struct api_env *e, char *err, size_t size)
{
	size_t i;
	json_t *v;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > ENV_INITRDS_MAX) {
		snprintf(err, size, "\"initrds\": a list of at most %d paths", ENV_INITRDS_MAX);
		return -EINVAL;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || !env_path_valid(json_string_value(v))) {
			snprintf(err, size, "\"initrds\" item %zu: a path under the root or a URL", i);
			return -EINVAL;
		}
		str_copy(e->initrd[e->ninitrd++], json_string_value(v), sizeof e->initrd[0]);
	}
	return 0;
}

int
env_from_json(json_t *o, const char *name, struct api_env *e, char *err, size_t size)
{
	static const struct { const char *key; size_t off; bool path; } members[] = {
		{ "kind", offsetof(struct api_env, kind), false },
		{ "title", offsetof(struct api_env, title), false },
		{ "kernel", offsetof(struct api_env, kernel), true },
		{ "args", offsetof(struct api_env, args), false },
		{ "bios", offsetof(struct api_env, bios), true },
		{ "efi", offsetof(struct api_env, efi), true },
		{ "wimboot", offsetof(struct api_env, wimboot), true },
		{ "bcd", offsetof(struct api_env, bcd), true },
		{ "boot_sdi", offsetof(struct api_env, boot_sdi), true },
		{ "boot_wim", offsetof(struct api_env, boot_wim), true },
	};
	json_t *menu = json_object_get(o, "menu");

	memset(e, 0, sizeof *e);
	str_copy(e->name, name, sizeof e->name);
	e->source = "api";
	if (!json_is_object(o) || (menu != NULL && !json_is_boolean(menu))) {
		snprintf(err, size, "an environment is an object; \"menu\" a boolean");
		return -EINVAL;
	}
	e->menu = json_is_true(menu);
	for (size_t i = 0; i < ARRAY_SIZE(members); i++) {
		char *field = (char *)e + members[i].off;
		size_t fsize = strcmp(members[i].key, "kind") == 0 ? sizeof e->kind :
		    strcmp(members[i].key, "title") == 0 ? sizeof e->title :
		    strcmp(members[i].key, "args") == 0 ? sizeof e->args : ENV_PATH_MAX;
		if (json_member(o, members[i].key, field, fsize, members[i].path, err, size) < 0)
			return -EINVAL;
	}
	if (json_initrds(json_object_get(o, "initrds"), e, err, size) < 0)
		return -EINVAL;
	return env_fields_check(e, err, size);
}

json_t *
env_to_json(const struct api_env *e)
{
	json_t *initrds = json_array();

	for (size_t i = 0; i < e->ninitrd; i++)
		json_array_append_new(initrds, json_string(e->initrd[i]));
	return json_pack("{s:s,s:s,s:s,s:b,s:s,s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
	    "name", e->name, "kind", e->kind, "title", e->title, "menu", e->menu,
	    "kernel", e->kernel, "initrds", initrds, "args", e->args, "bios", e->bios,
	    "efi", e->efi, "wimboot", e->wimboot, "bcd", e->bcd, "boot_sdi", e->boot_sdi,
	    "boot_wim", e->boot_wim, "source", e->source);
}

int
env_get(struct api *a, struct store *st, const char *name, struct api_env *e)
{
	char err[256], *text = NULL;
	json_t *o;
	int rc;

	for (size_t i = 0; i < a->envs->nconfig; i++)
		if (strcmp(a->envs->config[i].name, name) == 0) {
			env_from_config(&a->envs->config[i], e);
			return 0;
		}
	if (a->envs != NULL && a->envs->memtest && strcmp(name, MEMTEST_NAME) == 0) {
		env_memtest(a->envs, e);
		return 0;
	}
	if (!env_name_valid(name))
		return -ENOENT;
	rc = store_env_get(st, name, &text);
	if (rc < 0)
		return rc;
	o = json_loads(text, 0, NULL);
	rc = o != NULL && env_from_json(o, name, e, err, sizeof err) == 0 ? 0 : -EIO;
	json_decref(o);
	free(text);
	return rc;
}

int
api_env_exists(struct api *a, struct store *st, const char *name, char *err, size_t size)
{
	struct api_env e;
	int rc = env_get(a, st, name, &e);

	if (rc == -ENOENT)
		snprintf(err, size, "no environment %.64s", name);
	else if (rc < 0)
		snprintf(err, size, "environment %.64s cannot be read", name);
	else if ((rc = env_files_check(a, &e, err, size)) < 0)
		return -EEXIST;         /* there, but its files are not */
	return rc;
}

/* Every environment: config, built-in, then the API's (by name). */
int
env_list(struct api *a, struct store *st, struct api_env *out, size_t max)
{
	char (*names)[STORE_ENV_NAME] = calloc(ENV_LIST_MAX, sizeof *names);
	size_t n = 0;
	int k;

	if (names == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < a->envs->nconfig && n < max; i++)
		env_from_config(&a->envs->config[i], &out[n++]);
	if (a->envs != NULL && a->envs->memtest && n < max)
		env_memtest(a->envs, &out[n++]);
	k = store_env_names(st, names, ENV_LIST_MAX);
	for (int i = 0; i < k && n < max; i++)
		if (env_get(a, st, names[i], &out[n]) == 0 && strcmp(out[n].source, "api") == 0)
			n++;
	free(names);
	return k < 0 ? k : (int)n;
}

/* ---- the resource ---- */

static void
envs_list(struct api_call *c)
{
	struct api_env *list = calloc(ENV_LIST_MAX, sizeof *list);
	int n = list != NULL ? env_list(c->api, c->st, list, ENV_LIST_MAX) : -ENOMEM;
	json_t *arr;

	if (n < 0) {
		free(list);
		api_reply_error(c->rs, 500, "cannot list the environments");
		return;
	}
	arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, env_to_json(&list[i]));
	free(list);
	api_reply_json(c->rs, 200, json_pack("{s:o}", "environments", arr));
}

static void
env_show(struct api_call *c)
{
	struct api_env e;
	char err[256];
	json_t *o;

	if (env_get(c->api, c->st, c->arg[0], &e) < 0) {
		api_reply_error(c->rs, 404, "no environment %.64s", c->arg[0]);
		return;
	}
	o = env_to_json(&e);
	json_object_set_new(o, "ready", json_boolean(env_files_check(c->api, &e, err,
	    sizeof err) == 0));
	if (env_files_check(c->api, &e, err, sizeof err) < 0)
		json_object_set_new(o, "missing", json_string(err));
	api_reply_json(c->rs, 200, o);
}

/* Config and built-in environments cannot be changed through the API. */
static bool
env_fixed(struct api *a, struct store *st, const char *name)
{
	struct api_env e;

	return env_get(a, st, name, &e) == 0 && strcmp(e.source, "api") != 0;
}

static void
env_put(struct api_call *c)
{
	json_t *body = api_body_json(c);
	const char *name = c->arg[0];
	struct api_env e;
	char err[300], *text;
	bool existed;

	if (body == NULL)
		return;
	if (!env_name_valid(name))
		api_reply_error(c->rs, 400, "an environment's name is 1-63 of A-Z a-z 0-9 . _ + -");
	else if (env_fixed(c->api, c->st, name))
		api_reply_error(c->rs, 409, "environment %s comes from the %s: change it there",
		    name, strcmp(name, MEMTEST_NAME) == 0 ? "memtest86+ package" : "config file");
	else if (env_from_json(body, name, &e, err, sizeof err) < 0)
		api_reply_error(c->rs, 400, "%s", err);
	else if (env_files_check(c->api, &e, err, sizeof err) < 0)
		api_reply_error(c->rs, 422, "environment %s: %s", name, err);
	else {
		existed = env_get(c->api, c->st, name, &(struct api_env){ 0 }) == 0;
		text = json_text(body, JSON_COMPACT, NULL);
		if (text == NULL || store_env_put(c->st, name, text, api_now()) < 0) {
			api_reply_error(c->rs, 500, "cannot store the environment");
		} else {
			log_info_peer(c->peer, NULL, "api: environment %s %s (%s)", name,
			    existed ? "replaced" : "added", e.kind);
			api_reply_json(c->rs, existed ? 200 : 201, env_to_json(&e));
		}
		free(text);
	}
	json_decref(body);
}

static void
env_remove(struct api_call *c)
{
	const char *name = c->arg[0];

	if (env_fixed(c->api, c->st, name)) {
		api_reply_error(c->rs, 409, "environment %s is not the API's to remove", name);
		return;
	}
	if (!env_name_valid(name) || store_env_remove(c->st, name) < 0) {
		api_reply_error(c->rs, 404, "no environment %.64s", name);
		return;
	}
	log_info_peer(c->peer, NULL, "api: environment %s removed", name);
	api_reply_json(c->rs, 204, NULL);
}

const struct api_route api_envs_routes[] = {
	{ "GET", "api/v1/environments", API_READ, .handler = envs_list, .statuses = "200",
	    .summary = "boot environments: the config file's, memtest86+, the API's" },
	{ "GET", "api/v1/environments/{name}", API_READ, .handler = env_show,
	    .statuses = "200 404",
	    .summary = "one environment, and whether its files are there" },
	{ "PUT", "api/v1/environments/{name}", API_ADMIN, .body_max = 8192, .json_max = 64,
	    .handler = env_put, .statuses = "200 201 400 409 422",
	    .summary = "make or replace an environment (its files checked)" },
	{ "DELETE", "api/v1/environments/{name}", API_ADMIN, .handler = env_remove,
	    .statuses = "204 404 409",
	    .summary = "remove an environment made through the API" },
	{ NULL },
};
