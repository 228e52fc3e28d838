/* pxed: the daemon.  Start-up order: flags and config, open the root and
 * bind every socket as root, drop privileges, then serve from one libuv
 * loop (TFTP) and libmicrohttpd's threads (HTTP). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "boot/policy.h"
#include "core/config.h"
#include "core/log.h"
#include "dhcp/server.h"
#include "files/files.h"
#include "api/api.h"
#include "http/server.h"
#include "mcast/fec.h"
#include "pxed/listen.h"
#include "store/store.h"
#include "tftp/mtftp_files.h"
#include "tftp/server.h"

#include "core/version.h"

struct daemon {
	uv_loop_t *loop;
	struct config cfg;
	struct config_args args;
	struct files_root root;
	int write_dirfd;
	struct listeners listeners;
	struct dhcp_sockets dhcp_socks;
	struct store *store;
	struct dhcp_server *dhcp;
	struct tftp_server *tftp;
	struct http_server *http;
	struct api *mgmt;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_prepare_t commit;                /* ends each loop turn's store batch */
	uv_timer_t events;                  /* writes queued boot events */
};

#define EVENTS_FLUSH_MS 500

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

static int
drop_privileges(const struct config *cfg)
{
	if (geteuid() != 0)
		return 0;
	const struct passwd *pw = run_as_user(cfg);
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
	(void)prctl(PR_SET_DUMPABLE, 1);
	log_info("running as user %s (uid %u)", pw->pw_name, (unsigned)pw->pw_uid);
	return 0;
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

	if (d->store == NULL || d->dhcp == NULL || peer->ss_family != AF_INET)
		return;
	size_t n = dhcp_server_mac_of(d->dhcp,
	    ((const struct sockaddr_in *)(const void *)peer)->sin_addr, mac);
	if (n == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	(void)store_event_add(d->store, mac, n, kind, detail,
	    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
start_services(struct daemon *d)
{
	struct tftp_server_config tcfg = { .root = &d->root, .write_dirfd = d->write_dirfd,
		.observe = observe_transfer, .observe_arg = d };
	struct http_config hcfg = {
		.root = &d->root,
		.max_connections = d->cfg.http_max_connections,
		.max_per_ip = d->cfg.http_max_per_ip,
		.idle_timeout_s = d->cfg.http_timeout,
		.threads = d->cfg.http_threads,
		.body_memory_mb = d->cfg.http_body_memory_mb,
		.body_min_rate = d->cfg.http_body_min_rate,
	};
	struct api_config mcfg = {
		.state_dir = d->cfg.state_dir, .image_dir = d->cfg.image_dir,
		.clamav_db_dir = d->cfg.clamav_db_dir,
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
	};
	int rc;

	memcpy(tcfg.listen_fds, d->listeners.udp, sizeof(int) * d->listeners.udp_count);
	tcfg.listen_count = d->listeners.udp_count;
	memcpy(tcfg.mtftp_fds, d->listeners.mtftp, sizeof(int) * d->listeners.mtftp_count);
	tcfg.mtftp_count = d->listeners.mtftp_count;
	memcpy(hcfg.listen_fds, d->listeners.tcp, sizeof(int) * d->listeners.tcp_count);
	hcfg.listen_count = d->listeners.tcp_count;
	if (tcfg.listen_count > 0 || tcfg.mtftp_count > 0) {
		rc = tftp_server_start(&d->tftp, d->loop, &tcfg, &d->cfg);
		if (rc != 0)
			return rc;
	}
	if (hcfg.listen_count > 0) {
		rc = api_open(&d->mgmt, &mcfg);
		if (rc != 0)
			return rc;
		hcfg.api = d->mgmt;
		rc = http_server_start(&d->http, &hcfg);
		if (rc != 0)
			return rc;
	}
	if (dhcp_enabled(&d->cfg)) {
		rc = store_open(&d->store, d->cfg.state_dir);
		if (rc == 0)
			store_set_host_approval(d->store, d->cfg.host_approval);
		if (rc == 0)
			rc = dhcp_server_start(&d->dhcp, d->loop, &d->cfg, &d->dhcp_socks, d->store);
		if (rc != 0)
			return rc;
	}
	log_info("pxed %s serving %s: tftp port %u, http port %u", PXED_VERSION, d->cfg.root,
	    d->cfg.tftp_port, d->cfg.http_port);
	return 0;
}

static void
on_stop_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	log_info("signal %d: shutting down", signum);
	dhcp_server_stop(d->dhcp);
	d->dhcp = NULL;
	http_server_stop(d->http);
	d->http = NULL;
	api_close(d->mgmt);
	d->mgmt = NULL;
	tftp_server_stop(d->tftp);
	d->tftp = NULL;
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
	uv_close((uv_handle_t *)&d->commit, NULL);
	uv_close((uv_handle_t *)&d->events, NULL);
}

/* SIGHUP: re-read the file, apply what can change while running. */
static void
on_reload_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;
	struct config next;
	char err[512];

	(void)signum;
	if (config_load(&next, &d->args, err, sizeof err) != 0) {
		log_error("reload refused, keeping the running configuration: %s", err);
		return;
	}
	if (strcmp(next.root, d->cfg.root) != 0 || next.tftp_port != d->cfg.tftp_port ||
	    next.http_port != d->cfg.http_port ||
	    memcmp(&next.listen, &d->cfg.listen, sizeof next.listen) != 0 ||
	    memcmp(&next.interface, &d->cfg.interface, sizeof next.interface) != 0 ||
	    strcmp(next.tftp_write, d->cfg.tftp_write) != 0 || strcmp(next.user, d->cfg.user) != 0)
		log_warn("reload: root, ports, listen, interface, tftp-write and user "
		    "take effect at the next restart");
	log_set_level(next.log_level);
	d->cfg.log_level = next.log_level;
	struct config keep = d->cfg;
	d->cfg = next;
	memcpy(d->cfg.root, keep.root, sizeof keep.root);
	memcpy(d->cfg.tftp_write, keep.tftp_write, sizeof keep.tftp_write);
	if (d->tftp != NULL)
		tftp_server_reconfigure(d->tftp, &d->cfg);
	log_info("configuration reloaded");
}

/* Writes made during a loop turn (boot events) are committed before the
 * loop waits again; DHCP commits its own batches before sending ACKs. */
static void
commit_turn(uv_prepare_t *h)
{
	struct daemon *d = h->data;

	if (d->store != NULL && store_pending(d->store) && store_commit(d->store) != 0)
		log_error("store: commit failed");
}

static void
flush_events(uv_timer_t *h)
{
	struct daemon *d = h->data;

	if (d->store != NULL && store_events_queued(d->store) > 0 &&
	    store_events_flush(d->store) != 0)
		log_error("store: boot events not written");
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
	uv_prepare_init(d->loop, &d->commit);
	d->commit.data = d;
	uv_prepare_start(&d->commit, commit_turn);
	uv_timer_init(d->loop, &d->events);
	d->events.data = d;
	uv_timer_start(&d->events, flush_events, EVENTS_FLUSH_MS, EVENTS_FLUSH_MS);
}

/* "boot" values are checked by the policy that will read them. */
static int
boot_spec_check(const char *value, char *err, size_t err_size)
{
	static struct boot_rules scratch;

	scratch.count = 0;
	return boot_rules_add(&scratch, value, err, err_size);
}

static int
load_config(struct daemon *d, int argc, char **argv)
{
	char err[512];

	config_validator_register("boot", boot_spec_check);
	config_validator_register("mcast-fec", mcast_fec_check);
	config_validator_register("no-task", api_no_task_check);
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

static int
serve(struct daemon *d)
{
	if (!d->cfg.foreground && daemon(0, 0) != 0) {
		fprintf(stderr, "pxed: cannot go to the background: %s\n", strerror(errno));
		return 1;
	}
	log_init("pxed", d->cfg.foreground, d->cfg.log_level);
	raise_fd_limit();
	if (open_files(d) != 0 || prepare_state_dir(&d->cfg) != 0 ||
	    listeners_open(&d->listeners, &d->cfg) != 0 ||
	    dhcp_sockets_open(&d->dhcp_socks, &d->cfg) != 0 || drop_privileges(&d->cfg) != 0)
		return 1;
	d->loop = uv_default_loop();
	watch_signals(d);
	if (start_services(d) != 0)
		return 1;
	uv_run(d->loop, UV_RUN_DEFAULT);
	store_close(d->store);
	dhcp_sockets_close(&d->dhcp_socks);
	listeners_close(&d->listeners);
	files_root_close(&d->root);
	if (d->write_dirfd >= 0)
		close(d->write_dirfd);
	uv_loop_close(d->loop);
	log_info("stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	static struct daemon d;
	int rc = load_config(&d, argc, argv);

	if (rc >= 0)
		return rc;
	return serve(&d);
}
