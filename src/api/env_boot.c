/* How a boot environment boots: the iPXE lines of each kind, the script
 * of a boot task, the no-task menu's entries, and the end of a boot task
 * once its program has been served.
 *
 *   linux    kernel URL initrd=NAME... ARGS / initrd --name NAME URL... / boot
 *   chain    chain URL ARGS (iPXE recognises a UEFI program, a PXE NBP or a
 *            Linux boot protocol image such as memtest86+x64.bin); the BIOS
 *            or the UEFI program by ${platform}
 *   wimboot  kernel URL(wimboot) ARGS / initrd -n BCD URL BCD /
 *            initrd -n boot.sdi URL boot.sdi / initrd -n boot.wim URL boot.wim /
 *            boot  (BCD and boot.sdi only when given: wimboot makes its own)
 *
 * A boot task is done when its program (the kernel, the chained program,
 * wimboot) has been served whole over HTTP to the address that fetched
 * the script; one whose program is a URL elsewhere is done when its script
 * is served. */
#include "api/diag.h"
#include "api/envs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "store/diag.h"

#define SCRIPT_MAX 16384

struct text {
	char *p;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static void
text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	if (t->p == NULL && (t->p = malloc(t->cap = SCRIPT_MAX)) == NULL) {
		t->failed = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->cap - t->len)
		t->failed = true;
	else
		t->len += (size_t)n;
}

static char *
text_take(struct text *t)
{
	if (!t->failed && t->p != NULL)
		return t->p;
	free(t->p);
	return NULL;
}

/* The URL iPXE fetches a file of the environment from. */
static void
env_url(const char *base, const char *path, char *out, size_t size)
{
	if (env_is_url(path))
		str_copy(out, path, size);
	else
		snprintf(out, size, "%s/%s", base, path);
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static void
lines_linux(struct text *t, const char *base, const struct api_env *e)
{
	char url[600];

	env_url(base, e->kernel, url, sizeof url);
	text_add(t, "kernel %s", url);
	for (size_t i = 0; i < e->ninitrd; i++)
		text_add(t, " initrd=%zu-%s", i, base_name(e->initrd[i]));
	text_add(t, "%s%s\n", e->args[0] ? " " : "", e->args);
	for (size_t i = 0; i < e->ninitrd; i++) {
		env_url(base, e->initrd[i], url, sizeof url);
		text_add(t, "initrd --name %zu-%s %s\n", i, base_name(e->initrd[i]), url);
	}
	text_add(t, "boot\n");
}

/* tag makes the labels of one environment unique in a menu. */
static void
lines_chain(struct text *t, const char *base, const struct api_env *e, const char *tag)
{
	char url[600];

	text_add(t, "iseq ${platform} efi && goto pxed-efi%s || goto pxed-bios%s\n", tag, tag);
	text_add(t, ":pxed-efi%s\n", tag);
	if (e->efi[0] != '\0') {
		env_url(base, e->efi, url, sizeof url);
		text_add(t, "chain %s%s%s || goto pxed-failed%s\nexit\n", url, e->args[0] ? " " : "",
		    e->args, tag);
	} else {
		text_add(t, "echo pxed: %s has no UEFI program\nexit\n", e->name);
	}
	text_add(t, ":pxed-bios%s\n", tag);
	if (e->bios[0] != '\0') {
		env_url(base, e->bios, url, sizeof url);
		text_add(t, "chain %s%s%s || goto pxed-failed%s\nexit\n", url, e->args[0] ? " " : "",
		    e->args, tag);
	} else {
		text_add(t, "echo pxed: %s has no BIOS program\nexit\n", e->name);
	}
	text_add(t, ":pxed-failed%s\necho pxed: %s did not boot\nexit\n", tag, e->name);
}

static void
lines_wimboot(struct text *t, const char *base, const struct api_env *e)
{
	static const struct { size_t off; const char *name; } files[] = {
		{ offsetof(struct api_env, bcd), "BCD" },
		{ offsetof(struct api_env, boot_sdi), "boot.sdi" },
		{ offsetof(struct api_env, boot_wim), "boot.wim" },
	};
	char url[600];

	env_url(base, e->wimboot, url, sizeof url);
	text_add(t, "kernel %s%s%s\n", url, e->args[0] ? " " : "", e->args);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		const char *path = (const char *)e + files[i].off;
		if (path[0] == '\0')
			continue;
		env_url(base, path, url, sizeof url);
		text_add(t, "initrd -n %s %s %s\n", files[i].name, url, files[i].name);
	}
	text_add(t, "boot\n");
}

static void
env_lines(struct text *t, const char *base, const struct api_env *e, const char *tag)
{
	if (strcmp(e->kind, "linux") == 0)
		lines_linux(t, base, e);
	else if (strcmp(e->kind, "wimboot") == 0)
		lines_wimboot(t, base, e);
	else
		lines_chain(t, base, e, tag);
}

/* ---- the end of a boot task ---- */

/* The programs whose serving ends the task (paths under the root, as the
 * HTTP server names them); 0 when every one is a URL elsewhere. */
static size_t
env_programs(const struct api_env *e, char out[2][ENV_PATH_MAX])
{
	const char *p[2] = { strcmp(e->kind, "linux") == 0 ? e->kernel :
		strcmp(e->kind, "wimboot") == 0 ? e->wimboot : e->bios,
		strcmp(e->kind, "chain") == 0 ? e->efi : "" };
	size_t n = 0;

	memset(out, 0, 2 * ENV_PATH_MAX);
	for (size_t i = 0; i < 2; i++)
		if (p[i][0] != '\0' && !env_is_url(p[i]))
			str_copy(out[n++], p[i], ENV_PATH_MAX);
	return n;
}

static void
await_add(struct api_envs *envs, int64_t task, struct in_addr peer,
    char programs[2][ENV_PATH_MAX])
{
	struct env_await *slot = &envs->await[0];

	pthread_mutex_lock(&envs->lock);
	for (size_t i = 0; i < ENV_AWAIT_MAX; i++) {
		struct env_await *w = &envs->await[i];
		if (w->task == task || w->task == 0) {
			slot = w;
			break;
		}
		if (w->since_us < slot->since_us)
			slot = w;       /* full: the oldest goes */
	}
	slot->task = task;
	slot->peer = peer;
	memcpy(slot->path, programs, sizeof slot->path);
	slot->since_us = clock_now_us();
	pthread_mutex_unlock(&envs->lock);
}

/* The size of a program under the root (or memtest-dir); 0 when unknown. */
static uint64_t
program_size(struct api *a, const char *path)
{
	const struct files_root *root = a->cfg.root;
	const char *name = api_builtin_file(a, path, &root);
	struct stat st;
	int fd = root != NULL ? files_open_read(root, name != NULL ? name : path, &st, NULL) : -1;

	if (fd < 0)
		return 0;
	close(fd);
	return (uint64_t)st.st_size;
}

/* The task waiting for path at peer (0: none); taken out when take. */
static int64_t
await_find(struct api_envs *envs, struct in_addr peer, const char *path, bool take)
{
	int64_t task = 0;

	pthread_mutex_lock(&envs->lock);
	for (size_t i = 0; i < ENV_AWAIT_MAX && task == 0; i++) {
		struct env_await *w = &envs->await[i];
		if (w->task != 0 && w->peer.s_addr == peer.s_addr &&
		    (strcmp(w->path[0], path) == 0 || strcmp(w->path[1], path) == 0)) {
			task = w->task;
			if (take)
				memset(w, 0, sizeof *w);
		}
	}
	pthread_mutex_unlock(&envs->lock);
	return task;
}

void
api_env_served(struct api *a, struct in_addr peer, const char *path, uint64_t bytes, bool ok)
{
	char message[300], mac[STORE_MAC_TEXT] = "";
	struct store_task t;
	struct store *st;
	int64_t task;

	if (a->envs == NULL || !ok)
		return;
	path += strspn(path, "/");      /* the request's path: "/winpe/wimboot" */
	if (await_find(a->envs, peer, path, false) == 0 || bytes == 0 ||
	    bytes != program_size(a, path))
		return;                 /* not a program awaited, or a part of it */
	task = await_find(a->envs, peer, path, true);
	if (task == 0 || (st = api_thread_store(a->state)) == NULL)
		return;
	snprintf(message, sizeof message, "%.200s served", path);
	if (store_task_served_done(st, task, message, api_now()) == 0) {
		if (store_task_get(st, task, &t) == 0)
			str_copy(mac, t.mac, sizeof mac);
		log_info_peer(NULL, mac, "api: task %" PRId64 " done: %s served to host %s", task,
		    path, mac);
		api_event(st, mac, "task-done", "task %" PRId64 ": %s", task, message);
		api_publish_task(st, task);
	}
}

/* ---- a boot task's script ---- */

static void
boot_failed(const struct api_call *c, const struct store_task *t, const char *why,
    struct api_response *rs)
{
	char *text = NULL;
	int n;

	if (store_task_booted(c->st, t->id, api_now()) == 0)
		store_task_finish(c->st, t->id, TASK_FAILED, why, "", api_now());
	api_publish_task(c->st, t->id);
	log_warn_peer(c->peer, t->mac, "api: task %" PRId64 " failed: %s", t->id, why);
	n = asprintf(&text, "#!ipxe\n# pxed task %" PRId64 " failed: %s\necho pxed: %s\nexit\n",
	    t->id, why, why);
	api_reply_text(rs, 200, "text/plain", n < 0 ? NULL : text, n < 0 ? 0 : (size_t)n);
}

void
api_env_task_script(const struct api_call *c, const struct store_task *t, struct api_response *rs)
{
	char base[256], why[300], programs[2][ENV_PATH_MAX];
	struct text text = { 0 };
	struct api_env e;
	char *body;

	if (env_get(c->api, c->st, t->image, &e) < 0) {
		snprintf(why, sizeof why, "environment %.64s is gone", t->image);
		boot_failed(c, t, why, rs);
		return;
	}
	if (env_files_check(c->api, &e, why, sizeof why) < 0) {
		boot_failed(c, t, why, rs);
		return;
	}
	api_server_base(c, base, sizeof base);
	text_add(&text, "#!ipxe\n# pxed task %" PRId64 ": boot %s (%s)\n", t->id, e.name, e.kind);
	env_lines(&text, base, &e, "");
	if ((body = text_take(&text)) == NULL) {
		api_reply_error(rs, 500, "script too long");
		return;
	}
	(void)store_task_booted(c->st, t->id, api_now());
	api_event(c->st, t->mac, "boot-script", "task %" PRId64 ": boot %s", t->id, e.name);
	if (env_programs(&e, programs) == 0)
		(void)store_task_served_done(c->st, t->id, "script served (its program is on"
		    " another server)", api_now());
	else
		await_add(c->api->envs, t->id, c->peer4, programs);
	api_publish_task(c->st, t->id);
	log_info_peer(c->peer, t->mac, "api: %s: host %s boots environment %s (task %" PRId64 ")",
	    c->peer, t->mac, e.name, t->id);
	api_reply_text(rs, 200, "text/plain", body, strlen(body));
}

/* ---- the no-task menu ---- */

int
api_env_menu(const struct api_call *c, char **items, char **labels)
{
	struct api_env *list = calloc(64, sizeof *list);
	struct text ti = { 0 }, tl = { 0 };
	char base[256], tag[16], err[256];
	int n = list != NULL ? env_list(c->api, c->st, list, 64) : -ENOMEM;

	*items = *labels = NULL;
	api_server_base(c, base, sizeof base);
	text_add(&ti, "%s", "");
	text_add(&tl, "%s", "");
	for (int i = 0; i < n; i++) {
		if (!list[i].menu || env_files_check(c->api, &list[i], err, sizeof err) < 0)
			continue;
		snprintf(tag, sizeof tag, "-%d", i);
		text_add(&ti, "item env%s %s\n", tag, list[i].title[0] ? list[i].title :
		    list[i].name);
		text_add(&tl, ":env%s\n", tag);
		env_lines(&tl, base, &list[i], tag);
	}
	free(list);
	*items = text_take(&ti);
	*labels = text_take(&tl);
	if (*items == NULL || *labels == NULL) {
		free(*items);
		free(*labels);
		*items = *labels = NULL;
		return -ENOMEM;
	}
	return 0;
}
