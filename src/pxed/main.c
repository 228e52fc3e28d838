/* pxed: the daemon.  Start-up order: flags and config, open the root and
 * bind every socket as root, drop privileges, read the API token, enter
 * the sandbox (pxed/sandbox.h), then serve from one libuv loop (TFTP,
 * DHCP), DHCP's store worker thread (its writes to the state store), the
 * reload's store reader (pxed/reload.h) and libmicrohttpd's threads
 * (HTTP). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "boot/policy.h"
#include "core/config.h"
#include "core/inflight.h"
#include "core/log.h"
#include "dhcp/board.h"
#include "core/util.h"
#include "http/pin.h"
#include "dhcp/server.h"
#include "dhcp/share.h"
#include "files/files.h"
#include "api/api.h"
#include "http/server.h"
#include "image/sources.h"
#include "mcast/fec.h"
#include "pxed/listen.h"
#include "pxed/reload.h"
#include "pxed/sandbox.h"
#include "store/store.h"
#include "store/subnets.h"
#include "tftp/mtftp_files.h"
#include "tftp/server.h"
#include "tftp/snapshot.h"

#include "core/version.h"

struct daemon {
	uv_loop_t *loop;
	struct config cfg;
	struct config_args args;
	struct files_root root;
	struct files_root ui;           /* the console's files; dirfd -1: none */
	char *tls_cert, *tls_key;       /* PEM, read as root (https-port) */
	char host_name[64];             /* server-name's default, read before the sandbox */
	int write_dirfd;
	struct listeners listeners;
	struct dhcp_sockets dhcp_socks;
	struct store *store;
	struct dhcp_server *dhcp;
	struct share_thread *beat;      /* no DHCP on a shared database: the heartbeat */
	struct tftp_server *tftp;
	struct http_server *http;
	struct api *mgmt;
	struct reloader *reloader;          /* reloads: their store reads off the loop */
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_async_t ask;                     /* the API asks (dhcp/board.h) */
	struct dhcp_board *board;
	struct inflight *inflight;          /* HTTP downloads in flight (the API lists them) */
	uv_timer_t events;                  /* reports the sandbox's refusals */
	uv_timer_t sample;                  /* notes transfers' progress (their rates) */
};

#define SANDBOX_REPORT_MS 500
#define SAMPLE_MS 1000
#define TRANSFERS_MAX 1000                  /* TFTP transfers in one snapshot */
/* HTTP downloads listed: one per connection, and each worker thread may
 * accept one connection past http-max-connections (http/server.c) */
#define INFLIGHT_SLACK 64

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Resolve the user to run as: --user, else pxed, else nobody. */
static const struct passwd *
run_as_user(const struct config *cfg)
{
	if (cfg->user[0] != '\0')
		return getpwnam(cfg->user);
	const struct passwd *pw = getpwnam("pxed");
	return pw != NULL ? pw : getpwnam("nobody");
}

/* Clear every capability left: a service started as its user with
 * AmbientCapabilities=CAP_NET_BIND_SERVICE (the systemd unit) needed it
 * only to bind.  Returns 0 (*had says whether there were any) or -errno. */
static int
drop_capabilities(bool *had)
{
	cap_t none = cap_init(), now = NULL;
	int rc = 0;

	if (none == NULL)
		return -ENOMEM;
	now = cap_get_proc();
	*had = now == NULL || cap_compare(now, none) != 0;
	cap_free(now);
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() != 0)
		rc = -errno;
	if (rc == 0 && cap_set_proc(none) != 0)
		rc = -errno;
	now = rc == 0 ? cap_get_proc() : NULL;
	if (rc == 0 && (now == NULL || cap_compare(now, none) != 0))
		rc = -EPERM;
	cap_free(now);
	cap_free(none);
	return rc;
}

static int
drop_privileges(const struct config *cfg)
{
	const struct passwd *pw = NULL;
	bool had_caps;

	if (geteuid() == 0) {
		pw = run_as_user(cfg);
		if (pw == NULL) {
			log_error("user %s does not exist", cfg->user[0] ? cfg->user : "nobody");
			return -ENOENT;
		}
		if (pw->pw_uid == 0) {
			log_warn("running as root (--user %s): privileges not dropped", pw->pw_name);
			return 0;
		}
		if (setgroups(0, NULL) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
			log_error("cannot drop privileges to %s: %s", pw->pw_name, strerror(errno));
			return -errno;
		}
		if (setuid(0) == 0) {
			log_error("privileges could be regained after dropping them");
			return -EPERM;
		}
	}
	int rc = drop_capabilities(&had_caps);
	if (rc != 0) {
		log_error("cannot drop capabilities: %s", strerror(-rc));
		return rc;
	}
	(void)prctl(PR_SET_DUMPABLE, 1);
	if (pw != NULL)
		log_info("running as user %s (uid %u)", pw->pw_name, (unsigned)pw->pw_uid);
	else if (had_caps)
		log_info("running as uid %u: capabilities dropped", (unsigned)geteuid());
	return 0;
}

/* Where the state store is: the state-url, else state-dir (its pxed.db). */
static const char *
state_where(const struct config *cfg)
{
	return cfg->state_url[0] != '\0' ? cfg->state_url : cfg->state_dir;
}

static int
prepare_state_dir(const struct config *cfg)
{
	if (mkdir(cfg->state_dir, 0750) != 0 && errno != EEXIST) {
		log_error("state-dir %s: %s", cfg->state_dir, strerror(errno));
		return -errno;
	}
	const struct passwd *pw = geteuid() == 0 ? run_as_user(cfg) : NULL;
	if (pw != NULL && chown(cfg->state_dir, pw->pw_uid, pw->pw_gid) != 0)
		log_warn("state-dir %s: chown: %s", cfg->state_dir, strerror(errno));
	return 0;
}

static int
open_files(struct daemon *d)
{
	int rc = files_root_open(&d->root, d->cfg.root, d->cfg.tftp_case_fallback);

	if (rc != 0) {
		log_error("root %s: %s", d->cfg.root, strerror(-rc));
		return rc;
	}
	d->ui.dirfd = -1;
	if (d->cfg.ui_dir[0] != '\0') {
		rc = files_root_open(&d->ui, d->cfg.ui_dir, false);
		if (rc != 0)
			log_info("console: ui-dir %s: %s: /ui/ answers 404", d->cfg.ui_dir,
			    strerror(-rc));
		else
			log_info("console: %s served under /ui/", d->cfg.ui_dir);
	}
	d->write_dirfd = -1;
	if (d->cfg.tftp_write[0] != '\0') {
		d->write_dirfd = open(d->cfg.tftp_write, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (d->write_dirfd < 0) {
			log_error("tftp-write %s: %s", d->cfg.tftp_write, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* A TFTP transfer's event goes into the boot timeline of the MAC that
 * holds the client's address. */
static void
observe_transfer(void *arg, const struct sockaddr_storage *peer, const char *kind,
    const char *detail)
{
	struct daemon *d = arg;
	uint8_t mac[16];
	struct timespec ts;

	if (d->dhcp == NULL || peer->ss_family != AF_INET)
		return;
	size_t n = dhcp_server_mac_of(d->dhcp,
	    ((const struct sockaddr_in *)(const void *)peer)->sin_addr, mac);
	if (n == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	dhcp_server_event(d->dhcp, mac, n, kind, detail,
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The subnets changed with pxectl (read from the state store) over cfg's. */
static int
subnets_apply(struct config *cfg, const struct store_subnet *changes, size_t n, char *err,
    size_t err_size)
{
	for (size_t i = 0; i < n; i++) {
		int rc = config_subnet_override(cfg, changes[i].cidr, changes[i].mode,
		    changes[i].changed_ms, err, err_size);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The same read on the loop: at start only, when nothing is served yet. */
static int
subnets_from_store(struct daemon *d, struct config *cfg, char *err, size_t err_size)
{
	static struct store_subnet changes[CONFIG_SUBNETS_MAX];
	int n = d->store != NULL ? store_subnet_list(d->store, changes, CONFIG_SUBNETS_MAX) : 0;

	if (n < 0) {
		snprintf(err, err_size, "store: the subnets changed with pxectl cannot be read");
		return n;
	}
	return subnets_apply(cfg, changes, (size_t)n, err, err_size);
}

/* One service and its sockets into the status list (none: not listed). */
static void
service_add(struct api_service *list, size_t *n, const char *name, const char *mode,
    const int *fds, size_t count)
{
	if (count == 0 || *n >= API_SERVICES_MAX)
		return;
	struct api_service *sv = &list[(*n)++];
	sv->name = name;
	sv->mode = mode;
	sv->count = MIN(count, (size_t)API_SERVICE_ADDRS_MAX);
	for (size_t i = 0; i < sv->count; i++)
		listener_name(fds[i], sv->listen[i], sizeof sv->listen[i]);
}

/* What runs, for /api/v1/status: each service and the sockets it has. */
static void
describe_services(struct daemon *d, struct api_config *mcfg)
{
	static struct api_service list[API_SERVICES_MAX];
	int dhcp[DHCP_SOCKETS_MAX], pxe[DHCP_SOCKETS_MAX];
	size_t n = 0, nd = 0, np = 0;

	service_add(list, &n, "tftp", NULL, d->listeners.udp, d->listeners.udp_count);
	service_add(list, &n, "http", NULL, d->listeners.tcp, d->listeners.tcp_count);
	service_add(list, &n, "mtftp", NULL, d->listeners.mtftp, d->listeners.mtftp_count);
	for (size_t i = 0; i < d->dhcp_socks.count; i++) {
		if (d->dhcp_socks.is_pxe_port[i])
			pxe[np++] = d->dhcp_socks.fd[i];
		else
			dhcp[nd++] = d->dhcp_socks.fd[i];
	}
	service_add(list, &n, "dhcp", d->cfg.proxy ? "proxy" : "server", dhcp, nd);
	service_add(list, &n, "pxe", NULL, pxe, np);
	mcfg->services = list;
	mcfg->services_count = n;
}

/* DHCP when it is configured: the state store, the subnets changed with
 * pxectl over the file's, the server on the loop. */
static int
start_dhcp(struct daemon *d)
{
	char err[512];
	int rc;

	if (!dhcp_enabled(&d->cfg))
		return 0;
	rc = store_open(&d->store, state_where(&d->cfg));
	if (rc == 0 && subnets_from_store(d, &d->cfg, err, sizeof err) != 0)
		log_warn("%s", err);
	if (rc == 0)
		rc = dhcp_server_start(&d->dhcp, d->loop, &d->cfg, &d->dhcp_socks, d->store,
		    state_where(&d->cfg));
	return rc;
}

/* What runs here, published with the heartbeat for the other servers'
 * API: DHCP's share thread beats when DHCP runs; without DHCP on a shared
 * database a thread only beats (no subnets: it takes no bucket). */
static void
beat_start(struct daemon *d)
{
	const char *where = state_where(&d->cfg);

	if (d->dhcp != NULL) {
		dhcp_share_running(d->dhcp, api_running_text, d->mgmt);
		return;
	}
	if (strcmp(store_engine_of(where), "postgresql") != 0 ||
	    share_thread_start_beat(&d->beat, where, d->cfg.server_name) != 0)
		return;
	share_thread_set_running(d->beat, api_running_text, d->mgmt);
	log_info("%s: no DHCP here; heartbeat on the shared database (what runs here is"
	    " listed by the other servers)", d->cfg.server_name);
}

/* The bound sockets to the services that serve them; HTTPS's certificate
 * to HTTP, and its key's pin to the API (the agents' pxed.pin=). */
static void
hand_sockets(const struct daemon *d, struct tftp_server_config *tcfg, struct http_config *hcfg,
    struct api_config *mcfg)
{
	memcpy(tcfg->listen_fds, d->listeners.udp, sizeof(int) * d->listeners.udp_count);
	tcfg->listen_count = d->listeners.udp_count;
	memcpy(tcfg->mtftp_fds, d->listeners.mtftp, sizeof(int) * d->listeners.mtftp_count);
	tcfg->mtftp_count = d->listeners.mtftp_count;
	memcpy(hcfg->listen_fds, d->listeners.tcp, sizeof(int) * d->listeners.tcp_count);
	hcfg->listen_count = d->listeners.tcp_count;
	memcpy(hcfg->tls_fds, d->listeners.tls, sizeof(int) * d->listeners.tls_count);
	hcfg->tls_count = d->listeners.tls_count;
	hcfg->tls_cert_pem = d->tls_cert;
	hcfg->tls_key_pem = d->tls_key;
	hcfg->https_port = d->cfg.https_port;
	mcfg->https_port = d->listeners.tls_count > 0 ? d->cfg.https_port : 0;
	if (mcfg->https_port != 0 &&
	    tls_key_pin(d->tls_cert, mcfg->tls_pin, sizeof mcfg->tls_pin) < 0)
		log_warn("tls-cert: no key to pin: agents stay on plain HTTP");
}

/* No server-name set: the host name (read at start, before the sandbox). */
static void
server_name_default(struct config *c, const char *host_name)
{
	if (c->server_name[0] == '\0')
		str_copy(c->server_name, host_name, sizeof c->server_name);
}

/* server-name's default, the host name, read before the sandbox (uname
 * is not in its list); the API names its entries with it. */
static void
server_name_resolve(struct daemon *d)
{
	if (gethostname(d->host_name, sizeof d->host_name - 1) != 0)
		d->host_name[0] = '\0';
	server_name_default(&d->cfg, d->host_name);
	if (d->mgmt != NULL)
		api_set_server_name(d->mgmt, d->cfg.server_name);
}

static int start_reloader(struct daemon *d);

static int
start_services(struct daemon *d)
{
	struct tftp_server_config tcfg = { .root = &d->root, .write_dirfd = d->write_dirfd,
		.observe = observe_transfer, .observe_arg = d };
	struct http_config hcfg = {
		.root = &d->root,
		.ui = d->ui.dirfd >= 0 ? &d->ui : NULL,
		.inflight = d->inflight,
		.max_connections = d->cfg.http_max_connections,
		.max_per_ip = d->cfg.http_max_per_ip,
		.idle_timeout_s = d->cfg.http_timeout,
		.header_timeout_s = d->cfg.http_header_timeout,
		.threads = d->cfg.http_threads,
		.body_memory_mb = d->cfg.http_body_memory_mb,
		.body_min_rate = d->cfg.http_body_min_rate,
	};
	struct api_config mcfg = {
		.state_dir = d->cfg.state_dir, .state = state_where(&d->cfg),
		.image_dir = d->cfg.image_dir,
		.clamav_db_dir = d->cfg.clamav_db_dir,
		.image_repo = d->cfg.image_repo,
		.token_file = d->cfg.api_token_file, .host_approval = d->cfg.host_approval,
		.no_task_menu = strcmp(d->cfg.no_task, "menu") == 0,
		.no_task_menu_timeout = d->cfg.no_task_menu_timeout,
		.bootenv_url = d->cfg.bootenv_url, .bootenv_args = d->cfg.bootenv_args,
		.chunk_mb = d->cfg.image_chunk_mb, .level = d->cfg.image_level,
		.mcast_group = d->cfg.mcast_group, .mcast_port = d->cfg.mcast_port,
		.mcast_ttl = d->cfg.mcast_ttl, .mcast_slice = d->cfg.mcast_slice,
		.mcast_start_after = d->cfg.mcast_start_after,
		.mcast_rate_mbit = d->cfg.mcast_rate_mbit,
		.mcast_min_rate_mbit = d->cfg.mcast_min_rate_mbit,
		.mcast_fec = d->cfg.mcast_fec,
		.timeline = dhcp_enabled(&d->cfg),
		.hosts_max = d->cfg.hosts_max,
		.host_register_rate = d->cfg.host_register_rate,
		.task_token_bind = d->cfg.task_token_bind,
		.counters_need_read = strcmp(d->cfg.metrics_auth, "read") == 0,
		.board = d->board,
		.root = &d->root, .environments = d->cfg.environment,
		.environment_count = d->cfg.environment_count, .memtest_dir = d->cfg.memtest_dir,
		.subnets = d->cfg.subnet, .subnet_count = d->cfg.subnet_count,
		.inflight = d->inflight,
	};
	int rc;

	describe_services(d, &mcfg);
	hand_sockets(d, &tcfg, &hcfg, &mcfg);
	if (tcfg.listen_count > 0 || tcfg.mtftp_count > 0) {
		rc = tftp_server_start(&d->tftp, d->loop, &tcfg, &d->cfg);
		if (rc != 0)
			return rc;
	}
	if (hcfg.listen_count + hcfg.tls_count > 0) {
		rc = api_open(&d->mgmt, &mcfg);         /* reads the token file */
		if (rc != 0)
			return rc;
		api_chunk_sources_set(d->mgmt, &d->cfg);
	}
	server_name_resolve(d);
	/* before the first thread (HTTP's, libuv's pool, multicast senders):
	 * they inherit it */
	rc = sandbox_enter(&d->cfg);
	if (rc != 0)
		return rc;
	if (d->mgmt != NULL) {
		hcfg.api = d->mgmt;
		rc = http_server_start(&d->http, &hcfg);
		if (rc != 0)
			return rc;
	}
	rc = start_dhcp(d);
	if (rc != 0)
		return rc;
	rc = start_reloader(d);
	if (rc != 0)
		return rc;
	if (d->mgmt != NULL)    /* what runs here, published with the heartbeat */
		beat_start(d);
	log_info("pxed %s serving %s: tftp port %u, http port %u", PXED_VERSION, d->cfg.root,
	    d->cfg.tftp_port, d->cfg.http_port);
	return 0;
}

static void
on_stop_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	log_info("signal %d: shutting down", signum);
	board_close(d->board);          /* an API call waiting for the loop returns */
	reloader_stop(d->reloader);
	d->reloader = NULL;
	dhcp_server_stop(d->dhcp);
	d->dhcp = NULL;
	if (d->beat != NULL)
		share_thread_stop(d->beat, DHCP_SHARE_STOP_MS);
	d->beat = NULL;
	http_server_stop(d->http);
	d->http = NULL;
	api_close(d->mgmt);
	d->mgmt = NULL;
	tftp_server_stop(d->tftp);
	d->tftp = NULL;
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
	uv_close((uv_handle_t *)&d->events, NULL);
	uv_close((uv_handle_t *)&d->sample, NULL);
	uv_close((uv_handle_t *)&d->ask, NULL);
}

static void
log_change(void *arg, const struct config_change *c)
{
	const char *id = c->id != NULL ? c->id : "";
	char where[160];

	(void)arg;
	snprintf(where, sizeof where, "%s%s%s", c->section != NULL ? c->section : "",
	    c->section != NULL ? " " : "", c->section != NULL ? id : "");
	if (c->name == NULL && c->restart)
		log_warn("reload: %s %s: takes effect at the next restart", where,
		    c->old_value == NULL ? "added" : "removed");
	else if (c->name == NULL)
		log_info("reload: %s %s%s%s%s", where, c->old_value == NULL ? "added" : "removed",
		    c->new_value != NULL && c->new_value[0] ? " (" : "",
		    c->new_value != NULL ? c->new_value : "",
		    c->new_value != NULL && c->new_value[0] ? ")" : "");
	else if (c->restart)
		log_warn("reload: %s%s%s changed (%s -> %s): takes effect at the next restart",
		    where, where[0] ? ": " : "", c->name, c->old_value[0] ? c->old_value : "(none)",
		    c->new_value[0] ? c->new_value : "(none)");
	else
		log_info("reload: %s%s%s %s -> %s", where, where[0] ? ": " : "", c->name,
		    c->old_value[0] ? c->old_value : "(none)", c->new_value[0] ? c->new_value : "(none)");
}

/* log-format, checked when the config was read */
static enum log_format
log_format_of(const struct config *cfg)
{
	enum log_format f = LOG_FORMAT_TEXT;

	(void)log_format_parse(cfg->log_format, &f);
	return f;
}

/* A reload's configuration: the file as read when its round began (the
 * reloader runs one round at a time). */
static struct config reload_next;

/* A reload begins (pxed/reload.h): re-read the file. */
static int
reload_prepare(void *arg, char *err, size_t err_size)
{
	struct daemon *d = arg;

	return config_load(&reload_next, &d->args, err, err_size) != 0 ? -EINVAL : 0;
}

/* The store's reads are in: the subnets changed with pxectl over the
 * file's, then every change that can be applied while running; the rest
 * is named.  On an error the running configuration stays whole. */
static int
reload_apply(void *arg, const struct reload_reads *reads, char *err, size_t err_size)
{
	struct daemon *d = arg;
	static struct config applied;           /* reload_next as applied */
	static struct mtftp_files mtftp;
	struct config *next = &reload_next;

	if ((reads != NULL && subnets_apply(next, reads->subnet, reads->subnet_count, err,
	    err_size) != 0) || mtftp_files_build(next, &mtftp, err, err_size) != 0)
		return -EINVAL;
	server_name_default(next, d->host_name);        /* as at start: not a change */
	applied = *next;
	config_keep_restart(&applied, &d->cfg); /* listen, ports ...: as running */
	if (d->dhcp == NULL && dhcp_enabled(&applied)) {
		log_warn("reload: DHCP was off at start (no subnet, dhcp-range or proxy): "
		    "it starts at the next restart");
	} else if (d->dhcp != NULL) {
		int rc = dhcp_server_reload(d->dhcp, &applied, reads != NULL ? &reads->leases : NULL,
		    err, err_size);
		if (rc != 0)
			return rc;
	}
	size_t changes = config_diff(&d->cfg, next, log_change, NULL);
	d->cfg = applied;
	log_set_level(d->cfg.log_level);
	log_set_format(log_format_of(&d->cfg));
	if (d->tftp != NULL)
		tftp_server_reconfigure(d->tftp, &d->cfg);
	if (d->mgmt != NULL)
		api_chunk_sources_set(d->mgmt, &d->cfg);
	snprintf(err, err_size, "configuration reloaded: %zu change(s)", changes);
	return 0;
}

/* A reload's outcome: logged, and told to the API's askers up to ticket. */
static void
reload_done(void *arg, uint64_t ticket, int rc, const char *msg)
{
	struct daemon *d = arg;
	const char *who = ticket > 0 ? " (asked through the API)" : "";

	if (rc != 0)
		log_error("reload refused, keeping the running configuration: %s%s", msg, who);
	else
		log_info("%s%s", msg, who);
	if (ticket > 0)
		board_reload_done(d->board, ticket, rc, msg, d->dhcp != NULL);
}

/* The store is read on the loop at start only: the reloader's reader has
 * the connection from then on. */
static int
start_reloader(struct daemon *d)
{
	struct reload_ops ops = { reload_prepare, reload_apply, reload_done, d };
	int rc = reloader_start(&d->reloader, d->loop, d->store, d->dhcp != NULL, &ops);

	if (rc == 0)
		d->store = NULL;
	return rc;
}

/* SIGHUP: re-read the file, apply what can change while running. */
static void
on_reload_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	(void)signum;
	reloader_ask(d->reloader, 0);
}

/* The snapshots the API asked for, made here on the loop: a copy of the
 * running configuration, the TFTP transfers in flight. */
static void
answer_snapshots(struct daemon *d, unsigned what)
{
	if (what & BOARD_CONFIG) {
		struct config *copy = malloc(sizeof *copy);
		if (copy != NULL)
			*copy = d->cfg;
		board_put(d->board, BOARD_CONFIG, copy, sizeof *copy);
	}
	if (what & BOARD_TRANSFERS) {
		size_t len = 0;
		struct tftp_transfers *t = tftp_server_transfers(d->tftp, TRANSFERS_MAX, &len);
		board_put(d->board, BOARD_TRANSFERS, t, len);
	}
}

/* The API asks (dhcp/board.h): a reload (answered when it is done), the
 * subnets' views, snapshots. */
static void
on_ask(uv_async_t *h)
{
	struct daemon *d = h->data;
	static struct dhcp_views views;
	uint64_t ticket, reload_ticket;

	unsigned what = board_take(d->board, &ticket, &reload_ticket);
	if (what & BOARD_RELOAD)        /* answered when done (reload_done) */
		reloader_ask(d->reloader, reload_ticket);
	answer_snapshots(d, what);
	if (d->dhcp != NULL)
		dhcp_server_views(d->dhcp, &views);
	board_done(d->board, ticket, d->dhcp != NULL ? &views : NULL);
}

static void
wake_loop(void *arg)
{
	uv_async_send(arg);
}

/* The seccomp filter's refusals, reported twice a second.  The loop writes
 * nothing to the store itself: DHCP's leases and the boot events go
 * through the DHCP server's store worker (dhcp/store_worker.h). */
static void
report_sandbox(uv_timer_t *h)
{
	(void)h;
	sandbox_report(false);          /* calls the seccomp filter refused */
}

static void
sample_transfers(uv_timer_t *h)
{
	struct daemon *d = h->data;

	tftp_server_sample(d->tftp);
	inflight_sample(d->inflight);
}

static void
watch_signals(struct daemon *d)
{
	uv_signal_init(d->loop, &d->sig_term);
	uv_signal_init(d->loop, &d->sig_int);
	uv_signal_init(d->loop, &d->sig_hup);
	d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
	uv_signal_start(&d->sig_term, on_stop_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_stop_signal, SIGINT);
	uv_signal_start(&d->sig_hup, on_reload_signal, SIGHUP);
	uv_async_init(d->loop, &d->ask, on_ask);
	d->ask.data = d;
	uv_timer_init(d->loop, &d->events);
	d->events.data = d;
	uv_timer_start(&d->events, report_sandbox, SANDBOX_REPORT_MS, SANDBOX_REPORT_MS);
	uv_timer_init(d->loop, &d->sample);
	d->sample.data = d;
	uv_timer_start(&d->sample, sample_transfers, SAMPLE_MS, SAMPLE_MS);
}

static int
load_config(struct daemon *d, int argc, char **argv)
{
	char err[512];

	config_validator_register("boot", boot_rule_check);   /* by the policy that reads them */
	config_validator_register("mcast-fec", mcast_fec_check);
	config_validator_register("no-task", api_no_task_check);
	config_validator_register("metrics-auth", api_metrics_auth_check);
	config_validator_register("log-format", log_format_check);
	config_validator_register("state-url", store_url_check);
	config_validator_register("chunk-sources", chunk_sources_check);
	config_validator_register("image-repo", api_image_repo_check);
	if (config_args_parse(argc, argv, &d->args) != 0)
		return 2;
	if (d->args.help) {
		config_usage(stdout, "pxed");
		return 0;
	}
	if (d->args.version) {
		printf("pxed %s\n", PXED_VERSION);
		return 0;
	}
	if (config_load(&d->cfg, &d->args, err, sizeof err) != 0) {
		fprintf(stderr, "pxed: %s\n", err);
		return 1;
	}
	static struct mtftp_files mtftp;
	if (mtftp_files_build(&d->cfg, &mtftp, err, sizeof err) != 0) {
		fprintf(stderr, "pxed: %s\n", err);
		return 1;
	}
	if (dhcp_enabled(&d->cfg) && dhcp_config_check(&d->cfg, err, sizeof err) != 0) {
		fprintf(stderr, "pxed: %s\n", err);
		return 1;
	}
	if (d->args.check_config) {
		config_print(&d->cfg, stdout);
		return 0;
	}
	return -1;
}

/* A PEM file of at most 1 MiB, NUL-terminated, or NULL (logged). */
static char *
read_pem(const char *what, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = fd >= 0 ? malloc(1u << 20) : NULL;
	ssize_t n = buf != NULL ? read(fd, buf, (1u << 20) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0 || n == (1 << 20) - 1) {
		log_error("%s %s: %s", what, path, fd < 0 ? strerror(errno) :
		    n <= 0 ? "empty or unreadable" : "larger than 1 MiB");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* HTTPS: the certificate and key, read as root before privileges go. */
static int
read_tls(struct daemon *d)
{
	if (!listeners_https(&d->cfg))
		return 0;
	d->tls_cert = read_pem("tls-cert", d->cfg.tls_cert);
	d->tls_key = read_pem("tls-key", d->cfg.tls_key);
	return d->tls_cert != NULL && d->tls_key != NULL ? 0 : -EINVAL;
}

/* The torture build (make torture, tests/torture/alloc_fail.c) defines it:
 * allocations after start-up are counted and the Nth one fails. */
extern void alloc_fail_arm(void) __attribute__((weak));

static int
serve(struct daemon *d)
{
	if (!d->cfg.foreground && daemon(0, 0) != 0) {
		fprintf(stderr, "pxed: cannot go to the background: %s\n", strerror(errno));
		return 1;
	}
	log_init("pxed", d->cfg.foreground, d->cfg.log_level);
	log_set_format(log_format_of(&d->cfg));
	raise_fd_limit();
	if (open_files(d) != 0 || prepare_state_dir(&d->cfg) != 0 || read_tls(d) != 0 ||
	    listeners_open(&d->listeners, &d->cfg) != 0 ||
	    dhcp_sockets_open(&d->dhcp_socks, &d->cfg) != 0 || drop_privileges(&d->cfg) != 0)
		return 1;
	d->loop = uv_default_loop();
	watch_signals(d);
	if (board_create(&d->board, wake_loop, &d->ask) != 0 ||
	    inflight_create(&d->inflight, d->cfg.http_max_connections + INFLIGHT_SLACK) != 0)
		return 1;
	if (start_services(d) != 0)
		return 1;
	if (alloc_fail_arm != NULL)     /* the torture build only */
		alloc_fail_arm();
	uv_run(d->loop, UV_RUN_DEFAULT);
	sandbox_report(true);
	store_close(d->store);
	dhcp_sockets_close(&d->dhcp_socks);
	listeners_close(&d->listeners);
	files_root_close(&d->root);
	if (d->ui.dirfd >= 0)
		files_root_close(&d->ui);
	free(d->tls_cert);
	free(d->tls_key);
	if (d->write_dirfd >= 0)
		close(d->write_dirfd);
	uv_loop_close(d->loop);
	board_free(d->board);
	inflight_free(d->inflight);
	log_info("stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	static struct daemon d = { .ui.dirfd = -1 };
	int rc = load_config(&d, argc, argv);

	if (rc >= 0)
		return rc;
	return serve(&d);
}
