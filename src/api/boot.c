/* The per-host boot script: what a network-booting machine does next.
 *
 * iPXE, GRUB and PXELINUX fetch it by MAC (script_name).  A host awaiting
 * approval boots its local disk.  A host with a task boots the imaging
 * environment for it, except a local task: the local disk, once, and the
 * task is done.  A host with no task boots its local disk or, with
 * no-task = menu, gets a menu: the local disk (the default, after
 * no-task-menu-timeout) or the imaging environment's console shell,
 * which runs no task.
 *
 * A task token is issued when the host first fetches its boot script (the
 * token rides on the kernel command line) and stays the same for the
 * task's life: a script fetched again (a reboot, a second agent) carries
 * the same token, so a running agent is never cut off.  The store keeps a
 * random salt and the token's SHA-256; the token is HMAC-SHA256 of the
 * salt under a key only pxed holds (the API token's hash), so the
 * database alone gives no token.  docs/IMAGING.md has the kernel command
 * line and the trust model. */
#include "api/diag.h"
#include "api/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <arpa/inet.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"
#include "image/chunk.h"

/* What fetched the script: iPXE (MAC.ipxe), GRUB (MAC.grub, via
 * "configfile (http,SERVER)/api/v1/boot/${net_default_mac}.grub") or
 * PXELINUX with HTTP (lpxelinux.0: MAC.pxelinux or, with path prefix
 * http://SERVER/api/v1/boot/, pxelinux.cfg/01-MAC). */
enum script_kind { SCRIPT_IPXE, SCRIPT_GRUB, SCRIPT_PXELINUX };

static const struct {
	const char *suffix;
	const char *head;       /* first line */
	const char *local;      /* boot the local disk */
} script_kinds[] = {
	[SCRIPT_IPXE] = { ".ipxe", "#!ipxe\n", "exit\n" },
	[SCRIPT_GRUB] = { ".grub", "", "exit\n" },
	[SCRIPT_PXELINUX] = { ".pxelinux", "", "DEFAULT local\nLABEL local\n  LOCALBOOT 0\n" },
};

/* PXELINUX's TIMEOUT is in tenths of a second, at most 35996 (syslinux
 * docs); a larger one wraps. */
#define PXELINUX_TIMEOUT_MAX 35990u
#define MENU_LOCAL "Boot from local disk"
#define MENU_SHELL "Imaging environment: shell"

int
api_no_task_check(const char *value, char *err, size_t size)
{
	if (strcmp(value, "local") == 0 || strcmp(value, "menu") == 0)
		return 0;
	snprintf(err, size, "'%.32s' is not local or menu", value);
	return -EINVAL;
}

/* text (n bytes, n < 0: asprintf failed) as the answer. */
static void
script_reply(struct api_response *rs, char *text, int n)
{
	api_reply_text(rs, 200, "text/plain", n < 0 ? NULL : text, n < 0 ? 0 : (size_t)n);
}

static void
script_local(struct api_response *rs, enum script_kind kind, const char *why)
{
	char *text = NULL;
	int n = asprintf(&text, "%s# %s: boot from the local disk\n%s", script_kinds[kind].head,
	    why, script_kinds[kind].local);

	script_reply(rs, text, n);
}

/* The Host header goes into scripts and kernel command lines: only the
 * bytes of a host name, an IPv4 or a bracketed IPv6 address and a port
 * are taken, up to the first other byte (found by fuzz_boot_script: a
 * control byte went into the script).  Without one, the address the
 * client reached. */
void
api_server_base(const struct api_call *c, char *out, size_t size)
{
	static const char host_bytes[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]";
	size_t n = strspn(c->host, host_bytes);
	char addr[INET_ADDRSTRLEN] = "127.0.0.1";

	if (n > 0) {
		snprintf(out, size, "http://%.*s", (int)MIN(n, 200u), c->host);
		return;
	}
	if (c->local4.s_addr != 0)
		inet_ntop(AF_INET, &c->local4, addr, sizeof addr);
	snprintf(out, size, "http://%s", addr);
}

/* The token of a salt (hex) and its hash. */
static void
token_derive(const struct api *m, const uint8_t salt[STORE_TOKEN_LEN],
    char hex[TOKEN_HEX + 1], uint8_t hash[STORE_TOKEN_LEN])
{
	static const char label[] = "pxed task token\n";
	uint8_t msg[sizeof label - 1 + STORE_TOKEN_LEN], raw[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	memcpy(msg, label, sizeof label - 1);
	memcpy(msg + sizeof label - 1, salt, STORE_TOKEN_LEN);
	HMAC(EVP_sha256(), m->admin_hash, sizeof m->admin_hash, msg, sizeof msg, raw, &len);
	sha256_hex(raw, hex);
	chunk_sha256(hex, TOKEN_HEX, hash);
}

/* The task's token in hex: issued now (1), or the one issued before (0);
 * -EKEYREJECTED when that one was made under another API token, else a
 * negative errno. */
static int
task_token(const struct api *m, struct store *st, int64_t id, char hex[TOKEN_HEX + 1])
{
	struct store_token fresh, got;
	uint8_t hash[STORE_TOKEN_LEN];
	int rc;

	if (getrandom(fresh.salt, sizeof fresh.salt, 0) != (ssize_t)sizeof fresh.salt)
		return -EIO;
	token_derive(m, fresh.salt, hex, fresh.hash);
	rc = store_task_boot(st, id, &fresh, &got);
	if (rc == 1)
		api_publish_task(st, id);       /* booting */
	if (rc != 0)
		return rc;
	token_derive(m, got.salt, hex, hash);
	return CRYPTO_memcmp(hash, got.hash, sizeof hash) == 0 ? 0 : -EKEYREJECTED;
}

/* The server the agent talks to: with HTTPS served and its key pinned,
 * the same host on https-port (the agent checks the key: pxed.pin=), else
 * base.  The boot files themselves stay on base: firmware and iPXE. */
static void
agent_server(const struct api *m, const char *base, char *out, size_t size)
{
	const char *host = base + 7;    /* after "http://" */
	size_t n = strlen(host);
	const char *colon = strrchr(host, ':');

	if (m->cfg.https_port == 0 || m->cfg.tls_pin[0] == '\0' ||
	    strncmp(base, "http://", 7) != 0) {
		str_copy(out, base, size);
		return;
	}
	if (colon != NULL && strchr(colon, ']') == NULL)
		n = (size_t)(colon - host);     /* the port goes, not an IPv6's colons */
	if (m->cfg.https_port == 443)
		snprintf(out, size, "https://%.*s", (int)n, host);
	else
		snprintf(out, size, "https://%.*s:%u", (int)n, host, m->cfg.https_port);
}

/* The kernel command line: the task's (its id, token and after action),
 * or with t NULL the console shell with no task. */
static void
bootenv_args(const struct api *m, const char *base, const char *mac,
    const struct store_task *t, const char *token, char *out, size_t size)
{
	char task[128] = "";

	char server[320], pin[96] = "";

	if (t != NULL)
		snprintf(task, sizeof task, " pxed.task=%" PRId64 " pxed.token=%s", t->id, token);
	agent_server(m, base, server, sizeof server);
	if (strncmp(server, "https://", 8) == 0)
		snprintf(pin, sizeof pin, " pxed.pin=%s", m->cfg.tls_pin);
	snprintf(out, size, "console=tty0 console=ttyS0 pxed.server=%s%s%s pxed.mac=%s"
	    " pxed.after=%s %s", server, task, pin, mac,
	    t != NULL ? task_after_name(t->after) : "shell", m->bootenv_args);
}

/* Where vmlinuz and initrd are: bootenv-url if it is a URL, else under
 * base.  GRUB names it (http,HOST)/PATH. */
static void
bootenv_where(const struct api *m, const char *base, enum script_kind kind, char *out,
    size_t size)
{
	char url[768];
	const char *path;

	if (strncmp(m->bootenv_url, "http://", 7) == 0 ||
	    strncmp(m->bootenv_url, "https://", 8) == 0)
		str_copy(url, m->bootenv_url, sizeof url);
	else
		snprintf(url, sizeof url, "%s/%s", base, m->bootenv_url);
	path = strchr(url + 7, '/');
	if (kind == SCRIPT_GRUB && strncmp(url, "http://", 7) == 0 && path != NULL)
		snprintf(out, size, "(http,%.*s)%s", (int)(path - url - 7), url + 7, path);
	else
		str_copy(out, url, size);
}

/* The lines that load the imaging environment with the kernel command
 * line args and boot it (malloc'd; NULL when out of memory); layer, when
 * not NULL, is a layer the task needs (api_task_layers: build/bootenv/
 * NAME.initrd, loaded after the imaging initrd and unpacked over it). */
static char *
bootenv_lines(const struct api *m, const char *base, enum script_kind kind,
    const char *args, const char *layer)
{
	char env[800], more[900] = "", *text = NULL;
	int n;

	bootenv_where(m, base, kind, env, sizeof env);
	if (kind == SCRIPT_GRUB) {
		if (layer != NULL)
			snprintf(more, sizeof more, " %s/%s.initrd", env, layer);
		n = asprintf(&text, "linux %s/vmlinuz %s\ninitrd %s/initrd%s\nboot\n", env, args,
		    env, more);
	} else if (kind == SCRIPT_PXELINUX) {
		if (layer != NULL)
			snprintf(more, sizeof more, ",%s/%s.initrd", env, layer);
		n = asprintf(&text, "  KERNEL %s/vmlinuz\n  INITRD %s/initrd%s\n  APPEND %s\n",
		    env, env, more, args);
	} else {
		if (layer != NULL)
			snprintf(more, sizeof more, "initrd --name %s %s/%s.initrd\n", layer, env,
			    layer);
		n = asprintf(&text, "kernel %s/vmlinuz initrd=initrd%s%s %s\n"
		    "initrd --name initrd %s/initrd\n%sboot\n", env, layer != NULL ? " initrd=" : "",
		    layer != NULL ? layer : "", args, env, more);
	}
	return n < 0 ? NULL : text;
}

static void
script_task(struct api *m, const struct api_call *c, const struct store_task *t,
    const char *token, enum script_kind kind, struct api_response *rs)
{
	char base[256], args[1400], *lines, *text = NULL;
	const char *layer[1];
	int n = -1;

	api_server_base(c, base, sizeof base);
	bootenv_args(m, base, t->mac, t, token, args, sizeof args);
	lines = bootenv_lines(m, base, kind, args, api_task_layers(t, layer, 1) > 0 ? layer[0] :
	    NULL);
	if (lines != NULL)
		n = asprintf(&text, "%s# pxed task %" PRId64 ": %s %s\n%s%s",
		    script_kinds[kind].head, t->id, task_type_name(t->type), t->image,
		    kind == SCRIPT_PXELINUX ? "DEFAULT pxed\nLABEL pxed\n" : "", lines);
	free(lines);
	script_reply(rs, text, n);
}

/* The GRUB or PXELINUX no-task menu around shell, the lines that boot
 * the shell: the local disk is the default, after secs (0: waits for a
 * choice). */
static int
menu_text(enum script_kind kind, unsigned secs, const char *shell, char **text)
{
	if (kind == SCRIPT_GRUB)
		return asprintf(text, "# no task: menu, the local disk after %u s\n"
		    "set default=0\nset timeout=%d\nmenuentry '" MENU_LOCAL "' {\n  exit\n}\n"
		    "menuentry '" MENU_SHELL "' {\n%s}\n", secs, secs > 0 ? (int)secs : -1, shell);
	if (kind == SCRIPT_PXELINUX)
		return asprintf(text, "# no task: menu, the local disk after %u s\n"
		    "DEFAULT local\nPROMPT 1\nTIMEOUT %u\n"
		    "SAY pxed: local = " MENU_LOCAL " (default), shell = " MENU_SHELL "\n"
		    "LABEL local\n  MENU LABEL " MENU_LOCAL "\n  LOCALBOOT 0\n"
		    "LABEL shell\n  MENU LABEL " MENU_SHELL "\n%s", secs,
		    MIN(secs * 10, PXELINUX_TIMEOUT_MAX), shell);
	return -1;
}

/* The iPXE no-task menu: the local disk, the shell, and the environments
 * offered in menus (items and their labels from api_env_menu). */
static int
menu_text_ipxe(const char *mac, unsigned secs, const char *shell, const char *items,
    const char *labels, char **text)
{
	char wait[48] = "";

	if (secs > 0)
		snprintf(wait, sizeof wait, " --timeout %u", secs * 1000);
	return asprintf(text, "#!ipxe\n# no task: menu, the local disk after %u s\n"
	    "menu pxed: no task for %s\nitem local " MENU_LOCAL "\nitem shell " MENU_SHELL "\n"
	    "%schoose --default local%s target || goto local\ngoto ${target}\n"
	    ":local\nexit\n:shell\n%s%s", secs, mac, items, wait, shell, labels);
}

/* A host with no task: its local disk, or the menu (no-task = menu). */
static void
script_no_task(const struct api *m, const struct api_call *c, const char *mac,
    enum script_kind kind, struct api_response *rs)
{
	char base[256], args[1400], *shell, *text = NULL, *items = NULL, *labels = NULL;
	int n = -1;

	if (!m->cfg.no_task_menu) {
		script_local(rs, kind, "no task");
		return;
	}
	api_server_base(c, base, sizeof base);
	bootenv_args(m, base, mac, NULL, "", args, sizeof args);
	shell = bootenv_lines(m, base, kind, args, NULL);
	if (shell != NULL && kind == SCRIPT_IPXE && api_env_menu(c, &items, &labels) == 0)
		n = menu_text_ipxe(mac, m->cfg.no_task_menu_timeout, shell, items, labels, &text);
	else if (shell != NULL && kind != SCRIPT_IPXE)
		n = menu_text(kind, m->cfg.no_task_menu_timeout, shell, &text);
	free(shell);
	free(items);
	free(labels);
	script_reply(rs, text, n);
}

/* A local task: the local disk, and the task is done (once: a second
 * fetch at the same moment boots locally too, the task ends once). */
static void
script_local_task(struct store *st, const struct api_call *c, const struct store_task *t,
    enum script_kind kind, struct api_response *rs)
{
	char why[64];

	if (store_task_served(st, t->id, "booted the local disk", api_now()) == 0) {
		log_info_peer(c->peer, t->mac,
		    "api: %s: host %s boots its local disk: task %" PRId64 " done", c->peer,
		    t->mac, t->id);
		api_event(st, t->mac, "boot-script", "task %" PRId64 ": local (done)", t->id);
		api_publish_task(st, t->id);
	}
	snprintf(why, sizeof why, "pxed task %" PRId64 ": local", t->id);
	script_local(rs, kind, why);
}

/* A task run by the agent: its token, then the script. */
static void
script_agent_task(struct api *m, struct store *st, struct api_call *c,
    const struct store_task *t, enum script_kind kind, struct api_response *rs)
{
	char token[TOKEN_HEX + 1];
	int issued = task_token(m, st, t->id, token);

	if (issued == -EKEYREJECTED) {
		log_warn("api: task %" PRId64 ": its token was issued under another API token;"
		    " cancel the task and create it again", t->id);
		script_local(rs, kind, "task token issued under another API token");
		return;
	}
	if (issued < 0) {
		api_reply_error(rs, 503, "cannot issue a task token");
		return;
	}
	int bound = api_task_token_bind(c, t, "boot script");
	if (bound == -ESRCH) {
		script_local(rs, kind, "the task has just ended");
		return;
	}
	if (bound < 0)
		return;                 /* another address: no token (token_bind.c) */
	log_info_peer(c->peer, t->mac,
	    "api: %s: host %s boots for task %" PRId64 " (%s, %s token)", c->peer, t->mac,
	    t->id, task_type_name(t->type), issued ? "new" : "same");
	api_event(st, t->mac, "boot-script", "task %" PRId64 ": %s %s", t->id,
	    task_type_name(t->type), t->image);
	script_task(m, c, t, token, kind, rs);
}

/* "MAC.ipxe", "MAC.grub", "MAC.pxelinux" or "pxelinux.cfg/01-MAC": the MAC
 * text in arg and the kind; -1 when the name is none of these. */
static int
script_name(const char *file, char *arg, size_t size)
{
	size_t len = strlen(file);

	if (strncmp(file, "pxelinux.cfg/01-", 16) == 0 && len - 16 < size) {
		str_copy(arg, file + 16, size);
		return SCRIPT_PXELINUX;
	}
	for (size_t k = 0; k < ARRAY_SIZE(script_kinds); k++) {
		size_t sl = strlen(script_kinds[k].suffix);
		if (len > sl && len - sl < size && strcmp(file + len - sl, script_kinds[k].suffix) == 0) {
			str_copy(arg, file, len - sl + 1);
			return (int)k;
		}
	}
	return -1;
}

/* The registration bucket of subnet net (lock held): found, or a new full
 * one in place of the least recently used. */
static struct register_bucket *
register_bucket(struct api *a, uint32_t net, uint64_t now)
{
	struct register_bucket *oldest = NULL;

	for (size_t i = 0; i < a->register_buckets; i++) {
		if (a->register_bucket[i].net == net)
			return &a->register_bucket[i];
		if (oldest == NULL || a->register_bucket[i].at_us < oldest->at_us)
			oldest = &a->register_bucket[i];
	}
	if (a->register_buckets < API_REGISTER_BUCKETS)
		oldest = &a->register_bucket[a->register_buckets++];
	*oldest = (struct register_bucket){ .net = net, .tokens = a->cfg.host_register_rate,
		.at_us = now };
	return oldest;
}

/* May a boot-script fetch register one more host?  A bucket of
 * host-register-rate a minute per subnet the fetches come from (a /24),
 * so a flood from one subnet does not keep another's machines from
 * registering, and a cap of hosts-max in all: anyone can fetch a script
 * for any MAC, so registration is bounded; a refusal is counted, and
 * logged at most once a minute. */
static bool
register_allowed(struct api *a, struct store *st, const struct api_call *c, const char *mac)
{
	uint64_t now = clock_now_us(), refused = 0;
	int64_t hosts = store_host_count(st, "");
	struct register_bucket *b;
	const char *peer = c->peer;
	bool ok, log_it;

	pthread_mutex_lock(&a->register_lock);
	b = register_bucket(a, ntohl(c->peer4.s_addr) & 0xffffff00u, now);
	b->tokens += (double)(now - b->at_us) * a->cfg.host_register_rate / 60e6;
	if (b->tokens > a->cfg.host_register_rate)
		b->tokens = a->cfg.host_register_rate;
	b->at_us = now;
	ok = hosts >= 0 && hosts < (int64_t)a->cfg.hosts_max && b->tokens >= 1;
	if (ok)
		b->tokens -= 1;
	else
		refused = ++a->register_refused;
	log_it = !ok && (a->register_logged_us == 0 || now - a->register_logged_us > 60000000);
	if (log_it)
		a->register_logged_us = now;
	pthread_mutex_unlock(&a->register_lock);
	STATS_ADD(api_hosts_refused, ok ? 0 : 1);
	if (log_it)
		log_warn_peer(peer, mac,
		    "api: %s: host %s not registered: %s (%" PRIu64 " refused so far)", peer,
		    mac, hosts >= (int64_t)a->cfg.hosts_max ? "hosts-max reached" :
		    "host-register-rate exceeded", refused);
	return ok;
}

/* The host mac seen booting (registered when new and allowed); its
 * script. */
static void
script_host(struct api *m, struct store *st, struct api_call *c, const char *mac,
    enum script_kind kind, struct api_response *rs)
{
	struct store_host h;
	struct store_task t;
	int known = store_host_get(st, mac, &h);
	int created;

	if (known < 0 && known != -ENOENT) {
		api_reply_error(rs, 503, "state store unavailable");
		return;
	}
	if (known == 0)
		store_host_free(&h);
	if (known == -ENOENT && !register_allowed(m, st, c, mac)) {
		script_local(rs, kind, "host not registered");
		return;
	}
	created = store_host_seen(st, mac, "", "", !m->cfg.host_approval, api_now());
	api_host_seen_from(c, mac);
	if (created == 1) {
		log_info_peer(NULL, mac, "api: new host %s registered%s", mac,
		    m->cfg.host_approval ? " (waits for approval)" : "");
		api_publish_host(mac, "added");
	}
	if (store_host_get(st, mac, &h) < 0) {
		api_reply_error(rs, 503, "state store unavailable");
		return;
	}
	if (!h.approved)
		script_local(rs, kind, "host not approved");
	else if (store_task_active(st, mac, &t) < 0)
		script_no_task(m, c, mac, kind, rs);
	else if (t.type == TASK_LOCAL)
		script_local_task(st, c, &t, kind, rs);
	else if (t.type == TASK_BOOT && kind == SCRIPT_IPXE)
		api_env_task_script(c, &t, rs);
	else if (t.type == TASK_BOOT)
		script_local(rs, kind, "boot environments need iPXE: booting the local disk");
	else
		script_agent_task(m, st, c, &t, kind, rs);
	store_host_free(&h);
}

static void
boot_script(struct api_call *c)
{
	char mac[STORE_MAC_TEXT], arg[64];
	int kind = script_name(c->arg[0], arg, sizeof arg);

	if (kind < 0) {
		api_reply_error(c->rs, 404, "expected api/v1/boot/MAC.ipxe, MAC.grub, MAC.pxelinux"
		    " or pxelinux.cfg/01-MAC");
		return;
	}
	if (mac_text_canon(arg, mac) < 0) {
		api_reply_error(c->rs, 404, "%s is not a MAC address", arg);
		return;
	}
	script_host(c->api, c->st, c, mac, (enum script_kind)kind, c->rs);
}

const struct api_route api_boot_routes[] = {
	{ "GET", "api/v1/boot/{file*}", API_OPEN, .handler = boot_script,
	    .statuses = "200 403 404",
	    .summary = "a machine's boot script: MAC.ipxe, MAC.grub, MAC.pxelinux,"
	    " pxelinux.cfg/01-MAC" },
	{ NULL },
};
