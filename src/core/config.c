#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include "core/util.h"

enum setting_type {
	T_STRING, T_PATH, T_UINT, T_BOOL, T_LOGLEVEL, T_LIST, T_SHORT_LIST, T_ADDR,
	T_DURATION,
};

struct setting {
	const char *name;
	enum setting_type type;
	size_t offset;
	size_t size;                    /* strings: buffer size */
	unsigned min, max;              /* T_UINT */
	const char *def;
	const char *help;
	bool restart;                   /* a reload cannot apply it: the next start does */
};

#define SETTING(type_, n, t, field, mn, mx, d, h) \
	{ n, t, offsetof(type_, field), sizeof(((type_ *)0)->field), mn, mx, d, h, false }
#define S(...) SETTING(struct config, __VA_ARGS__)
/* A setting read once at start-up (sockets, files, threads, the imaging
 * and multicast services): a reload names it in the log and keeps the
 * running value (man/pxed.conf.5, RELOAD). */
#define SR(n, t, field, mn, mx, d, h) \
	{ n, t, offsetof(struct config, field), sizeof(((struct config *)0)->field), mn, mx, d, h, \
	  true }
#define SN(...) SETTING(struct config_subnet, __VA_ARGS__)
#define HO(...) SETTING(struct config_host, __VA_ARGS__)
#define RE(...) SETTING(struct config_relay, __VA_ARGS__)
#define EN(...) SETTING(struct config_environment, __VA_ARGS__)

static const struct setting settings[] = {
	SR("root", T_PATH, root, 0, 0, "/srv/pxed",
	    "directory served over TFTP and HTTP (read-only)"),
	SR("listen", T_LIST, listen, 0, 0, "",
	    "address to listen on (repeatable; default: all IPv4 and IPv6)"),
	SR("interface", T_LIST, interface, 0, 0, "",
	    "serve only on this interface (repeatable; default: all)"),
	SR("tftp-port", T_UINT, tftp_port, 0, 65535, "69", "TFTP port (0 disables TFTP)"),
	SR("http-port", T_UINT, http_port, 0, 65535, "80", "HTTP port (0 disables HTTP)"),
	SR("https-port", T_UINT, https_port, 0, 65535, "443",
	    "HTTPS port, served when tls-cert and tls-key are set (0 disables HTTPS)"),
	SR("tls-cert", T_PATH, tls_cert, 0, 0, "",
	    "PEM certificate (chain) of the HTTPS server: the API and the console over TLS"),
	SR("tls-key", T_PATH, tls_key, 0, 0, "",
	    "PEM private key of tls-cert (read as root at start, before privileges go)"),
	SR("state-dir", T_PATH, state_dir, 0, 0, "/var/lib/pxed", "directory for pxed's state"),
	SR("state-url", T_STRING, state_url, 0, 0, "",
	    "the state store in PostgreSQL (postgresql://...), shared by several pxed"
	    " (default: SQLite, state-dir/pxed.db)"),
	SR("server-name", T_STRING, server_name, 0, 0, "",
	    "this server's name among servers sharing state-url: its heartbeat row and its"
	    " share of DHCP clients (default: the host name)"),
	SR("foreground", T_BOOL, foreground, 0, 0, "no",
	    "stay in the foreground and log to stderr (else syslog)"),
	S("log-level", T_LOGLEVEL, log_level, 0, 0, "info", "error, warn, info or debug"),
	S("log-format", T_STRING, log_format, 0, 0, "text",
	    "text, or json: one JSON object a line (time, level, message, peer, mac)"),
	SR("user", T_STRING, user, 0, 0, "",
	    "user to run as after binding (default: pxed if it exists, else nobody)"),
	SR("tftp-write", T_PATH, tftp_write, 0, 0, "",
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
	S("tftp-min-rto-ms", T_UINT, tftp_min_rto_ms, 1, 60000, "2",
	    "lower bound of the retransmission timeout, ms"),
	S("tftp-max-rto-ms", T_UINT, tftp_max_rto_ms, 10, 255000, "2000",
	    "upper bound of the retransmission timeout, ms (a client's timeout option overrides)"),
	S("tftp-session-timeout", T_UINT, tftp_session_timeout, 1, 3600, "20",
	    "abort a TFTP transfer after this many seconds without progress"),
	SR("tftp-case-fallback", T_BOOL, tftp_case_fallback, 0, 0, "yes",
	    "try a case-insensitive match when a file is missing (Windows clients)"),
	SR("mtftp-file", T_LIST, mtftp_file, 0, 0, "",
	    "PXE MTFTP for a boot file: 'FILE GROUP CPORT', e.g. undionly.kpxe 239.255.1.2 3001 "
	    "(repeatable)"),
	SR("mtftp-port", T_UINT, mtftp_port, 0, 65535, "1759",
	    "PXE MTFTP server port, where clients open (43.3; 0 disables MTFTP)"),
	S("mtftp-timeout", T_UINT, mtftp_timeout, 0, 255, "1",
	    "seconds a PXE client listens before opening an MTFTP transfer (43.4)"),
	S("mtftp-delay", T_UINT, mtftp_delay, 0, 255, "1",
	    "seconds a PXE client listens before reopening an MTFTP transfer (43.5)"),
	S("mtftp", T_BOOL, mtftp, 0, 0, "no",
	    "advertise MTFTP (option 43.1-5) to BIOS PXE clients on every subnet"),
	S("tftp-multicast", T_BOOL, tftp_multicast, 0, 0, "no",
	    "grant the RFC 2090 multicast option to octet read requests (experimental)"),
	SR("tftp-multicast-group", T_ADDR, tftp_multicast_group, 0, 0, "239.255.69.1",
	    "first RFC 2090 multicast group (each file being multicast takes the next of 64)"),
	SR("tftp-multicast-port", T_UINT, tftp_multicast_port, 1, 65535, "1758",
	    "UDP port of RFC 2090 multicast data on its group"),
	SR("http-max-connections", T_UINT, http_max_connections, 1, 65536, "512",
	    "concurrent HTTP connections"),
	SR("http-max-per-ip", T_UINT, http_max_per_ip, 0, 65536, "64",
	    "concurrent HTTP connections from one address (0: no limit)"),
	SR("http-timeout", T_UINT, http_timeout, 1, 3600, "60", "HTTP idle timeout, seconds"),
	SR("http-header-timeout", T_UINT, http_header_timeout, 0, 3600, "10",
	    "seconds a connection's first request line and headers may take (0: no limit)"),
	SR("http-threads", T_UINT, http_threads, 1, 64, "2", "HTTP worker threads"),
	SR("http-body-memory-mb", T_UINT, http_body_memory_mb, 1, 65536, "256",
	    "memory all request bodies in flight may hold together, MiB (past it: 503)"),
	SR("http-body-min-rate", T_UINT, http_body_min_rate, 0, 1073741824, "4096",
	    "slowest request body accepted after its first 10 s, bytes/s (0: no limit)"),
	SR("dhcp-port", T_UINT, dhcp_port, 1, 65535, "67", "DHCP server port"),
	SR("pxe-port", T_UINT, pxe_port, 0, 65535, "4011",
	    "PXE boot server port (0 disables it)"),
	S("proxy", T_BOOL, proxy, 0, 0, "no",
	    "proxyDHCP: answer PXE clients only, give no addresses (another server does)"),
	S("boot", T_LIST, boot, 0, 0, "",
	    "boot rule 'CLASS TARGET' or CLASS=TARGET, e.g. bios=undionly.kpxe (repeatable)"),
	S("dhcp-range", T_LIST, dhcp_range, 0, 0, "",
	    "serve addresses FIRST,LAST[,NETMASK][,LEASETIME] (repeatable; turns DHCP on)"),
	S("dhcp-router", T_ADDR, dhcp_router, 0, 0, "",
	    "default router for subnets that do not name one"),
	S("dhcp-dns", T_SHORT_LIST, dhcp_dns, 0, 0, "",
	    "DNS server for subnets that do not name one (repeatable)"),
	S("dhcp-domain", T_STRING, dhcp_domain, 0, 0, "",
	    "domain name for subnets that do not name one"),
	S("dhcp-lease-time", T_DURATION, dhcp_lease_time, 60, CONFIG_INFINITE, "12h",
	    "lease time for subnets that do not set one (s, m, h, d or infinite)"),
	S("dhcp-host", T_LIST, dhcp_host, 0, 0, "",
	    "reservation MAC,ADDRESS[,NAME] (repeatable)"),
	S("dhcp-new-client-rate", T_UINT, dhcp_new_client_rate, 0, 1000000, "200",
	    "addresses offered a second to new clients in one subnet (0: no limit)"),
	S("dhcp-relay-rate", T_UINT, dhcp_relay_rate, 0, 1000000, "400",
	    "addresses offered a second to new clients through one relay (0: no limit)"),
	S("dhcp-pool-reserve", T_UINT, dhcp_pool_reserve, 0, 50, "10",
	    "percent of each pool kept for known clients ([host], a lease before)"),
	S("dhcp-outage-lease-time", T_UINT, dhcp_outage_lease_time, 0, 86400, "300",
	    "seconds of lease at most given to a renewal answered from memory while the state "
	    "store does not answer, never past the stored lease's end (0: none answered)"),
	S("dhcp-pool-low", T_UINT, dhcp_pool_low, 0, 100, "20",
	    "alarm when fewer than this percent of a pool's addresses are free (0: never)"),
	S("dhcp-rogue-probe", T_UINT, dhcp_rogue_probe, 0, 86400, "300",
	    "seconds between DISCOVERs sent to find other DHCP servers on full-mode subnets "
	    "(0: only listen)"),
	S("dhcp-rogue-allow", T_SHORT_LIST, dhcp_rogue_allow, 0, 0, "",
	    "another DHCP server expected on full-mode subnets (a failover peer; repeatable)"),
	S("pxe-menu", T_LIST, pxe_menu, 0, 0, "",
	    "PXE boot menu item 'TEXT | TARGET' (repeatable; TARGET a file or local)"),
	S("pxe-prompt", T_STRING, pxe_prompt, 0, 0, "Press F8 for the boot menu",
	    "prompt shown by PXE firmware before the menu"),
	S("pxe-menu-timeout", T_UINT, pxe_menu_timeout, 0, 255, "10",
	    "seconds before the first menu item boots (0: at once, 255: wait)"),
	SR("ui-dir", T_PATH, ui_dir, 0, 0, "/usr/share/pxed/ui",
	    "the web console's files, served under /ui/ (missing: no console)"),
	SR("image-dir", T_PATH, image_dir, 0, 0, "",
	    "image repository: chunks and manifests (default: state-dir/images)"),
	S("clamav-db-dir", T_PATH, clamav_db_dir, 0, 0, "/var/lib/clamav",
	    "ClamAV signature database served to scan tasks at /clamav/ (kept current by freshclam)"),
	SR("api-token-file", T_PATH, api_token_file, 0, 0, "",
	    "file with the REST API's token, created if missing (default: state-dir/api-token)"),
	SR("host-approval", T_BOOL, host_approval, 0, 0, "no",
	    "new hosts boot their local disk until an administrator approves them"),
	SR("metrics-auth", T_STRING, metrics_auth, 0, 0, "open",
	    "who may read /metrics and /api/v1/status: open (anyone) or read (a token)"),
	SR("hosts-max", T_UINT, hosts_max, 1, 10000000, "100000",
	    "hosts a boot-script fetch may register while fewer are known"),
	SR("host-register-rate", T_UINT, host_register_rate, 1, 1000000, "120",
	    "hosts boot-script fetches may register a minute (burst as large)"),
	SR("sandbox", T_BOOL, sandbox, 0, 0, "yes",
	    "once its sockets are bound: Landlock (root read-only; state, images, uploads"
	    " read-write; nothing else, no execution) and a seccomp list of system calls"),
	SR("task-token-bind", T_BOOL, task_token_bind, 0, 0, "yes",
	    "a task's token works only from the first address that fetched its boot script "
	    "or used it"),
	SR("no-task", T_STRING, no_task, 0, 0, "local",
	    "what a host with no task boots: local (its disk) or menu (local disk or the "
	    "imaging environment's shell)"),
	SR("no-task-menu-timeout", T_UINT, no_task_menu_timeout, 0, 3600, "10",
	    "seconds before the no-task menu boots the local disk (0: wait for a choice)"),
	SR("bootenv-url", T_STRING, bootenv_url, 0, 0, "bootenv",
	    "where vmlinuz and initrd of the imaging environment are: a path under root, or a URL"),
	SR("bootenv-args", T_STRING, bootenv_args, 0, 0, "quiet",
	    "extra kernel command line for the imaging environment"),
	SR("image-repo", T_STRING, image_repo, 0, 0, "local",
	    "local: image-dir is the repository and takes captures; or the URL of the pxed "
	    "that holds it: image-dir is a read-only mirror, captures are refused (409)"),
	S("chunk-sources", T_STRING, chunk_sources, 0, 0, "",
	    "HTTP mirrors or caches of the repository's chunks/ the agent tries before this "
	    "server, in order (space-separated http:// URLs, or none; a [subnet]'s own wins)"),
	SR("image-chunk-mb", T_UINT, image_chunk_mb, 1, 16, "4",
	    "chunk size of new captures, MiB"),
	SR("image-level", T_UINT, image_level, 1, 19, "3",
	    "zstd level of new captures (1 fastest .. 19 smallest)"),
	SR("memtest-dir", T_PATH, memtest_dir, 0, 0, "/boot",
	    "where Debian's memtest86+ package put memtest86+x64.bin and .efi: the environment "
	    "memtest86+ boots them ('' turns it off)"),
	SR("mcast-group", T_ADDR, mcast_group, 0, 0, "239.255.42.1",
	    "first multicast group for deploy sessions (sessions take the next ones)"),
	SR("mcast-port", T_UINT, mcast_port, 1024, 65535, "9000",
	    "UDP port of multicast deploy sessions' data on their group"),
	SR("mcast-ttl", T_UINT, mcast_ttl, 1, 255, "1",
	    "multicast TTL (1: the server's own segment; raise it to cross routers)"),
	SR("mcast-rate-mbit", T_UINT, mcast_rate_mbit, 1, 100000, "900",
	    "highest multicast send rate, Mbit/s of payload"),
	SR("mcast-min-rate-mbit", T_UINT, mcast_min_rate_mbit, 1, 100000, "40",
	    "floor: slower receivers leave the session and finish over HTTP"),
	SR("mcast-slice", T_UINT, mcast_slice, 512, 8900, "1400",
	    "payload bytes per multicast datagram (8900 with jumbo frames)"),
	SR("mcast-start-after", T_UINT, mcast_start_after, 0, 86400, "300",
	    "seconds after a session's first receiver joined before it starts anyway"),
	SR("mcast-fec", T_STRING, mcast_fec, 0, 0, "off",
	    "forward error correction of multicast deploys: off, or K,M: M parity slices "
	    "after each K data slices (e.g. 32,4)"),
};

_Static_assert(ARRAY_SIZE(settings) <= CONFIG_SETTINGS_MAX,
    "struct config's source[] has a place per main setting: raise CONFIG_SETTINGS_MAX");

/* [subnet CIDR] */
static const struct setting subnet_settings[] = {
	SN("range", T_SHORT_LIST, range, 0, 0, "", "addresses to lease: FIRST LAST (repeatable)"),
	SN("router", T_ADDR, router, 0, 0, "", "router (option 3)"),
	SN("dns", T_SHORT_LIST, dns, 0, 0, "", "DNS server (option 6, repeatable)"),
	SN("domain", T_STRING, domain, 0, 0, "", "domain name (option 15)"),
	SN("lease-time", T_DURATION, lease_time, 60, CONFIG_INFINITE, "",
	    "lease time (default: dhcp-lease-time)"),
	SN("pxe", T_BOOL, pxe, 0, 0, "yes", "answer network-boot clients on this subnet"),
	SN("proxy", T_BOOL, proxy, 0, 0, "no", "proxyDHCP on this subnet: no addresses"),
	SN("boot", T_LIST, boot, 0, 0, "", "boot rule for this subnet (repeatable)"),
	SN("exclude", T_LIST, exclude, 0, 0, "", "address or FIRST-LAST never leased"),
	SN("next-server", T_ADDR, next_server, 0, 0, "",
	    "boot server address (default: pxed's address on the subnet)"),
	SN("mtftp", T_BOOL, mtftp, 0, 0, "no",
	    "advertise MTFTP (option 43.1-5) to BIOS PXE clients on this subnet"),
	SN("chunk-sources", T_STRING, chunk_sources, 0, 0, "",
	    "chunk mirrors or caches for agents on this subnet, tried before this server "
	    "(space-separated http:// URLs, or none; default: chunk-sources)"),
};

/* [host MAC] */
static const struct setting host_settings[] = {
	HO("address", T_ADDR, address, 0, 0, "", "reserved address"),
	HO("hostname", T_STRING, hostname, 0, 0, "", "host name (option 12)"),
	HO("client-id", T_STRING, client_id, 0, 0, "",
	    "also match a client sending this option 61 (hex bytes, e.g. 01:52:54:00:12:34:56)"),
	HO("boot", T_SHORT_LIST, boot, 0, 0, "", "boot rule for this host (repeatable)"),
};

/* [relay ID] */
static const struct setting relay_settings[] = {
	RE("match", T_STRING, match, 0, 0, "circuit-id",
	    "which option 82 sub-option ID is: circuit-id or remote-id"),
	RE("boot", T_SHORT_LIST, boot, 0, 0, "", "boot rule for clients behind it (repeatable)"),
};

/* [environment NAME] */
static const struct setting environment_settings[] = {
	EN("kind", T_STRING, kind, 0, 0, "linux",
	    "linux (kernel + initrds), chain (a BIOS and/or UEFI program) or wimboot (Windows PE)"),
	EN("title", T_STRING, title, 0, 0, "", "the name shown in the no-task menu"),
	EN("menu", T_BOOL, menu, 0, 0, "no", "offer it in the no-task menu"),
	EN("kernel", T_STRING, kernel, 0, 0, "", "linux: the kernel, a path under root or a URL"),
	EN("initrd", T_LIST, initrd, 0, 0, "", "linux: an initrd (repeatable, loaded in order)"),
	EN("args", T_STRING, args, 0, 0, "", "the command line of the kernel or program"),
	EN("bios", T_STRING, bios, 0, 0, "", "chain: the program BIOS machines boot"),
	EN("efi", T_STRING, efi, 0, 0, "", "chain: the program UEFI machines boot"),
	EN("wimboot", T_STRING, wimboot, 0, 0, "", "wimboot: iPXE's wimboot, supplied by you"),
	EN("bcd", T_STRING, bcd, 0, 0, "", "wimboot: the BCD file (optional)"),
	EN("boot-sdi", T_STRING, boot_sdi, 0, 0, "", "wimboot: boot.sdi (optional)"),
	EN("boot-wim", T_STRING, boot_wim, 0, 0, "", "wimboot: boot.wim"),
};

struct section_def {
	const char *name;               /* NULL for the main section */
	const struct setting *settings;
	size_t count;
	bool restart;                   /* read only at start-up (as SR settings) */
};

static const struct section_def section_main = { NULL, settings, ARRAY_SIZE(settings) };
static const struct section_def section_subnet = {
	"subnet", subnet_settings, ARRAY_SIZE(subnet_settings) };
static const struct section_def section_host = {
	"host", host_settings, ARRAY_SIZE(host_settings) };
static const struct section_def section_relay = {
	"relay", relay_settings, ARRAY_SIZE(relay_settings) };
/* the API copies the environments when it starts */
static const struct section_def section_environment = {
	"environment", environment_settings, ARRAY_SIZE(environment_settings), true };

#define VALIDATORS_MAX 8
static struct { const char *name; config_validator fn; } validators[VALIDATORS_MAX];

void
config_validator_register(const char *setting, config_validator fn)
{
	for (size_t i = 0; i < VALIDATORS_MAX; i++) {
		if (validators[i].name == NULL || strcmp(validators[i].name, setting) == 0) {
			validators[i].name = setting;
			validators[i].fn = fn;
			return;
		}
	}
}

static config_validator
validator_find(const char *setting)
{
	for (size_t i = 0; i < VALIDATORS_MAX && validators[i].name != NULL; i++)
		if (strcmp(validators[i].name, setting) == 0)
			return validators[i].fn;
	return NULL;
}

const char *const *
config_setting_names(void)
{
	static const char *names[ARRAY_SIZE(settings) + 1];

	for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
		names[i] = settings[i].name;
	return names;
}

const char *const *
config_section_setting_names(const char *section)
{
	static const char *names[16];
	const struct section_def *sec = strcmp(section, "host") == 0 ? &section_host
	    : strcmp(section, "relay") == 0 ? &section_relay
	    : strcmp(section, "environment") == 0 ? &section_environment : &section_subnet;
	size_t n = MIN(sec->count, ARRAY_SIZE(names) - 1);

	for (size_t i = 0; i < n; i++)
		names[i] = sec->settings[i].name;
	names[n] = NULL;
	return names;
}

static const struct setting *
section_find(const struct section_def *sec, const char *name)
{
	for (size_t i = 0; i < sec->count; i++)
		if (strcmp(sec->settings[i].name, name) == 0)
			return &sec->settings[i];
	return NULL;
}

static const struct setting *
setting_find(const char *name)
{
	return section_find(&section_main, name);
}

int
config_parse_cidr(const char *text, struct in_addr *network, struct in_addr *mask)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	uint64_t bits;

	if (slash == NULL || (size_t)(slash - text) >= sizeof addr)
		return -EINVAL;
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	if (inet_pton(AF_INET, addr, network) != 1 ||
	    parse_u64(slash + 1, strlen(slash + 1), 0, 32, &bits) != 0)
		return -EINVAL;
	mask->s_addr = bits == 0 ? 0 : htonl(0xffffffffu << (32 - bits));
	network->s_addr &= mask->s_addr;
	return 0;
}

int
config_parse_mac(const char *text, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (strlen(text) != 17 || sscanf(text, "%2x%*[:-]%2x%*[:-]%2x%*[:-]%2x%*[:-]%2x%*[:-]%2x%c",
	    &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int
config_parse_duration(const char *text, unsigned *out)
{
	static const struct { char suffix; uint64_t mul; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	size_t len = strlen(text);
	uint64_t n, mul = 1;

	if (strcasecmp(text, "infinite") == 0) {
		*out = CONFIG_INFINITE;
		return 0;
	}
	for (size_t i = 0; len > 1 && i < ARRAY_SIZE(units); i++) {
		if (text[len - 1] == units[i].suffix) {
			mul = units[i].mul;
			len--;
		}
	}
	if (parse_u64(text, len, 0, UINT32_MAX, &n) != 0 || n * mul >= CONFIG_INFINITE)
		return -EINVAL;
	*out = (unsigned)(n * mul);
	return 0;
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

static int
list_append(char (*items)[CONFIG_ITEM_MAX], size_t *count, size_t max,
    const struct setting *s, const char *value, char *err, size_t err_size)
{
	if (value[0] == '\0')
		return 0;
	if (*count >= max) {
		snprintf(err, err_size, "%s: more than %zu values", s->name, max);
		return -EINVAL;
	}
	if (str_copy(items[*count], value, CONFIG_ITEM_MAX) >= CONFIG_ITEM_MAX) {
		snprintf(err, err_size, "%s: value too long", s->name);
		return -EINVAL;
	}
	(*count)++;
	return 0;
}

static int setting_store(void *base, const struct setting *s, const char *value,
    char *err, size_t err_size);

/* Check value with the owner's validator, then store it into base. */
static int
setting_apply(void *base, const struct setting *s, const char *value,
    char *err, size_t err_size)
{
	config_validator check = validator_find(s->name);
	char msg[256];

	if (check != NULL && value[0] != '\0' && check(value, msg, sizeof msg) != 0) {
		snprintf(err, err_size, "%s: %s", s->name, msg);
		return -EINVAL;
	}
	return setting_store(base, s, value, err, err_size);
}

/* Store value into the field s describes; on error describe it in err. */
static int
setting_store(void *base, const struct setting *s, const char *value,
    char *err, size_t err_size)
{
	char *field = (char *)base + s->offset;
	uint64_t n;

	switch (s->type) {
	case T_ADDR:
		/* empty: none, for a setting whose default is none (not
		 * mcast-group: 0.0.0.0 is no group; found by fuzz_config) */
		if (value[0] == '\0' && s->def[0] == '\0') {
			((struct in_addr *)(void *)field)->s_addr = 0;
			return 0;
		}
		if (inet_pton(AF_INET, value, field) != 1) {
			snprintf(err, err_size, "%s: '%s' is not an IPv4 address", s->name, value);
			return -EINVAL;
		}
		return 0;
	case T_DURATION:
		/* empty: unset, for a setting whose default is unset (a
		 * subnet's lease-time falls back to dhcp-lease-time); a
		 * setting with a default needs a duration (found by
		 * fuzz_config: "dhcp-lease-time =" gave 0 s leases) */
		if (value[0] == '\0' && s->def[0] == '\0') {
			*(unsigned *)(void *)field = 0;
			return 0;
		}
		if (config_parse_duration(value, (unsigned *)(void *)field) != 0 ||
		    *(unsigned *)(void *)field < s->min) {
			snprintf(err, err_size, "%s: '%s' is not a duration of at least %u s "
			    "(N, Ns, Nm, Nh, Nd or infinite)", s->name, value, s->min);
			return -EINVAL;
		}
		return 0;
	case T_SHORT_LIST: {
		struct config_short_list *l = (struct config_short_list *)(void *)field;
		return list_append(l->item, &l->count, CONFIG_SHORT_LIST_MAX, s, value, err, err_size);
	}
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
		return list_append(l->item, &l->count, CONFIG_LIST_MAX, s, value, err, err_size);
	}
	}
	return -EINVAL;
}

static void
section_defaults(void *base, const struct section_def *sec)
{
	char err[256];

	for (size_t i = 0; i < sec->count; i++)
		(void)setting_store(base, &sec->settings[i], sec->settings[i].def, err, sizeof err);
}

static void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	section_defaults(cfg, &section_main);
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

/* Where the lines of the file go: the main settings or a section. */
struct parse_state {
	struct config *cfg;
	const struct section_def *sec;
	void *base;
};

static int
section_subnet_open(struct parse_state *st, const char *arg, char *err, size_t err_size)
{
	struct config *cfg = st->cfg;
	struct config_subnet *sn;

	if (cfg->subnet_count >= CONFIG_SUBNETS_MAX) {
		snprintf(err, err_size, "more than %d subnets", CONFIG_SUBNETS_MAX);
		return -EINVAL;
	}
	sn = &cfg->subnet[cfg->subnet_count];
	memset(sn, 0, sizeof *sn);
	section_defaults(sn, &section_subnet);
	if (config_parse_cidr(arg, &sn->network, &sn->netmask) != 0) {
		snprintf(err, err_size, "[subnet %s]: not a subnet like 192.0.2.0/24", arg);
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->subnet_count; i++) {
		if (cfg->subnet[i].network.s_addr == sn->network.s_addr &&
		    cfg->subnet[i].netmask.s_addr == sn->netmask.s_addr) {
			snprintf(err, err_size, "[subnet %s]: defined twice", arg);
			return -EINVAL;
		}
	}
	str_copy(sn->name, arg, sizeof sn->name);
	sn->in_file = true;
	cfg->subnet_count++;
	st->sec = &section_subnet;
	st->base = sn;
	return 0;
}

static int
section_host_open(struct parse_state *st, const char *arg, char *err, size_t err_size)
{
	struct config *cfg = st->cfg;
	struct config_host *h;

	if (cfg->host_count >= CONFIG_HOSTS_MAX) {
		snprintf(err, err_size, "more than %d hosts", CONFIG_HOSTS_MAX);
		return -EINVAL;
	}
	h = &cfg->host[cfg->host_count];
	memset(h, 0, sizeof *h);
	if (config_parse_mac(arg, h->mac) != 0) {
		snprintf(err, err_size, "[host %s]: not a MAC address like 52:54:00:12:34:56", arg);
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->host_count; i++) {
		if (memcmp(cfg->host[i].mac, h->mac, 6) == 0) {
			snprintf(err, err_size, "[host %s]: defined twice", arg);
			return -EINVAL;
		}
	}
	str_copy(h->name, arg, sizeof h->name);
	cfg->host_count++;
	st->sec = &section_host;
	st->base = h;
	return 0;
}

static int
section_relay_open(struct parse_state *st, const char *arg, char *err, size_t err_size)
{
	struct config *cfg = st->cfg;
	struct config_relay *r;

	if (cfg->relay_count >= CONFIG_RELAYS_MAX || *arg == '\0' ||
	    strlen(arg) >= sizeof r->name) {
		snprintf(err, err_size, "[relay %s]: %s", arg, *arg == '\0' ? "needs an ID" :
		    "too many relay sections or ID too long");
		return -EINVAL;
	}
	r = &cfg->relay[cfg->relay_count++];
	memset(r, 0, sizeof *r);
	section_defaults(r, &section_relay);
	str_copy(r->name, arg, sizeof r->name);
	st->sec = &section_relay;
	st->base = r;
	return 0;
}

/* [environment NAME]: NAME is 1-63 of [A-Za-z0-9._+-], as the API's. */
static int
section_environment_open(struct parse_state *st, const char *arg, char *err, size_t err_size)
{
	struct config *cfg = st->cfg;
	struct config_environment *e;
	size_t n = strlen(arg);

	if (cfg->environment_count >= CONFIG_ENVIRONMENTS_MAX || n == 0 || n >= sizeof e->name ||
	    strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-") != n) {
		snprintf(err, err_size, "[environment %s]: %s", arg,
		    cfg->environment_count >= CONFIG_ENVIRONMENTS_MAX ? "too many environments" :
		    "NAME is 1-63 of A-Z a-z 0-9 . _ + -");
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->environment_count; i++) {
		if (strcmp(cfg->environment[i].name, arg) == 0) {
			snprintf(err, err_size, "[environment %s]: defined twice", arg);
			return -EINVAL;
		}
	}
	e = &cfg->environment[cfg->environment_count++];
	memset(e, 0, sizeof *e);
	section_defaults(e, &section_environment);
	str_copy(e->name, arg, sizeof e->name);
	st->sec = &section_environment;
	st->base = e;
	return 0;
}

/* "[subnet CIDR]", "[host MAC]", "[relay ID]", "[environment NAME]" or
 * "[global]". */
static int
section_open(struct parse_state *st, char *header, char *err, size_t err_size)
{
	size_t len = strlen(header);
	char *kind, *arg;

	if (len < 2 || header[len - 1] != ']') {
		snprintf(err, err_size, "section header without ']'");
		return -EINVAL;
	}
	header[len - 1] = '\0';
	kind = trim(header + 1);
	arg = kind + strcspn(kind, " \t");
	if (*arg != '\0')
		*arg++ = '\0';
	arg = trim(arg);
	if (strcmp(kind, "global") == 0 && *arg == '\0') {
		st->sec = &section_main;
		st->base = st->cfg;
		return 0;
	}
	if (strcmp(kind, "subnet") == 0)
		return section_subnet_open(st, arg, err, err_size);
	if (strcmp(kind, "host") == 0)
		return section_host_open(st, arg, err, err_size);
	if (strcmp(kind, "relay") == 0)
		return section_relay_open(st, arg, err, err_size);
	if (strcmp(kind, "environment") == 0)
		return section_environment_open(st, arg, err, err_size);
	snprintf(err, err_size, "unknown section [%s] (subnet, host, relay, environment or"
	    " global)", kind);
	return -EINVAL;
}

/* One line of the file: "name = value", "name value" or "name" (bool). */
static int
config_line(struct parse_state *st, char *line, char *err, size_t err_size)
{
	char *hash = strchr(line, '#');
	char *name, *value;
	size_t len;

	if (hash != NULL)
		*hash = '\0';
	name = trim(line);
	if (*name == '\0')
		return 0;
	if (*name == '[')
		return section_open(st, name, err, err_size);
	len = strcspn(name, " \t=");
	value = name + len;
	if (*value != '\0') {
		*value++ = '\0';
		value = trim(value);
		if (*value == '=')
			value = trim(value + 1);
	}
	const struct setting *s = section_find(st->sec, name);
	if (s == NULL) {
		if (st->sec->name != NULL)
			snprintf(err, err_size, "unknown setting '%s' in a [%s] section", name,
			    st->sec->name);
		else
			snprintf(err, err_size, "unknown setting '%s'", name);
		return -EINVAL;
	}
	if (*value == '\0' && s->type == T_BOOL)
		value = "yes";
	if (st->sec == &section_subnet)
		((struct config_subnet *)st->base)->given |= 1u << (s - subnet_settings);
	if (st->sec == &section_main)
		st->cfg->source[s - settings] = CONFIG_SOURCE_FILE;
	return setting_apply(st->base, s, value, err, err_size);
}

static int
config_file(struct config *cfg, const char *path, char *err, size_t err_size)
{
	char line[2048], msg[512];
	unsigned lineno = 0;
	int rc = 0;
	FILE *f = fopen(path, "re");
	struct parse_state st = { cfg, &section_main, cfg };

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
		rc = config_line(&st, line, msg, sizeof msg);
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

	if (cleared[idx])
		return;
	if (s->type == T_LIST)
		((struct config_list *)(void *)((char *)cfg + s->offset))->count = 0;
	if (s->type == T_SHORT_LIST)
		((struct config_short_list *)(void *)((char *)cfg + s->offset))->count = 0;
	cleared[idx] = true;
}

/* Rules between settings, once everything is read. */
static int
config_check(const struct config *cfg, char *err, size_t err_size)
{
	uint32_t first = ntohl(cfg->tftp_multicast_group.s_addr);

	/* 64 groups from the first, all in 224.0.0.0/4 */
	if (cfg->tftp_multicast && ((first >> 28) != 0xe || ((first + 63) >> 28) != 0xe)) {
		snprintf(err, err_size, "tftp-multicast-group: not a multicast address "
		    "(224.0.0.0 - 239.255.255.192)");
		return -EINVAL;
	}
	return 0;
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
		cfg->source[s - settings] = CONFIG_SOURCE_FLAG;
	}
	return config_check(cfg, err, err_size);
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
	if (value == NULL && s != NULL && s->type == T_BOOL) {
		bool ignored;
		/* "--flag", or "--flag no" when the next word is a boolean */
		if (*i + 1 < argc && parse_bool(argv[*i + 1], &ignored) == 0)
			value = argv[++*i];
		else
			value = "yes";
	}
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
list_print(const char *name, const char (*items)[CONFIG_ITEM_MAX], size_t count, FILE *out)
{
	if (count == 0)
		fprintf(out, "# %s (none)\n", name);
	for (size_t i = 0; i < count; i++)
		fprintf(out, "%s = %s\n", name, items[i]);
}

static void
setting_print(const void *base, const struct setting *s, FILE *out)
{
	const char *field = (const char *)base + s->offset;
	char addr[INET_ADDRSTRLEN];
	unsigned u = 0;

	if (s->type == T_UINT || s->type == T_DURATION)
		u = *(const unsigned *)(const void *)field;
	switch (s->type) {
	case T_STRING:
	case T_PATH:
		fprintf(out, "%s = %s\n", s->name, field);
		break;
	case T_UINT:
		fprintf(out, "%s = %u\n", s->name, u);
		break;
	case T_DURATION:
		if (u == CONFIG_INFINITE)
			fprintf(out, "%s = infinite\n", s->name);
		else if (u == 0)
			fprintf(out, "# %s (default)\n", s->name);
		else
			fprintf(out, "%s = %u\n", s->name, u);
		break;
	case T_BOOL:
		fprintf(out, "%s = %s\n", s->name,
		    *(const bool *)(const void *)field ? "yes" : "no");
		break;
	case T_LOGLEVEL:
		fprintf(out, "%s = %s\n", s->name,
		    log_level_name(*(const enum log_level *)(const void *)field));
		break;
	case T_ADDR:
		if (((const struct in_addr *)(const void *)field)->s_addr == 0)
			fprintf(out, "# %s (none)\n", s->name);
		else
			fprintf(out, "%s = %s\n", s->name,
			    inet_ntop(AF_INET, field, addr, sizeof addr));
		break;
	case T_LIST: {
		const struct config_list *l = (const struct config_list *)(const void *)field;
		list_print(s->name, l->item, l->count, out);
		break;
	}
	case T_SHORT_LIST: {
		const struct config_short_list *l =
		    (const struct config_short_list *)(const void *)field;
		list_print(s->name, l->item, l->count, out);
		break;
	}
	}
}

static void
section_print(const void *base, const struct section_def *sec, FILE *out)
{
	for (size_t i = 0; i < sec->count; i++)
		setting_print(base, &sec->settings[i], out);
}

void
config_print(const struct config *cfg, FILE *out)
{
	if (cfg->config_file[0] != '\0')
		fprintf(out, "# effective configuration (file %s, then flags)\n", cfg->config_file);
	else
		fprintf(out, "# effective configuration (defaults, then flags)\n");
	section_print(cfg, &section_main, out);
	for (size_t i = 0; i < cfg->subnet_count; i++) {
		fprintf(out, "\n[subnet %s]\n", cfg->subnet[i].name);
		section_print(&cfg->subnet[i], &section_subnet, out);
	}
	for (size_t i = 0; i < cfg->host_count; i++) {
		fprintf(out, "\n[host %s]\n", cfg->host[i].name);
		section_print(&cfg->host[i], &section_host, out);
	}
	for (size_t i = 0; i < cfg->relay_count; i++) {
		fprintf(out, "\n[relay %s]\n", cfg->relay[i].name);
		section_print(&cfg->relay[i], &section_relay, out);
	}
	for (size_t i = 0; i < cfg->environment_count; i++) {
		fprintf(out, "\n[environment %s]\n", cfg->environment[i].name);
		section_print(&cfg->environment[i], &section_environment, out);
	}
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

const char *const *
config_restart_setting_names(void)
{
	static const char *names[ARRAY_SIZE(settings) + 1];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
		if (settings[i].restart)
			names[n++] = settings[i].name;
	names[n] = NULL;
	return names;
}

/* A setting's value as one line of text: lists joined by ", ". */
static const char *
setting_text(const void *base, const struct setting *s, char *buf, size_t size)
{
	const char *field = (const char *)base + s->offset;
	const char (*items)[CONFIG_ITEM_MAX] = NULL;
	size_t count = 0, o = 0;

	buf[0] = '\0';
	switch (s->type) {
	case T_STRING:
	case T_PATH:
		str_copy(buf, field, size);
		break;
	case T_UINT:
	case T_DURATION: {
		unsigned u = *(const unsigned *)(const void *)field;
		if (s->type == T_DURATION && u == CONFIG_INFINITE)
			str_copy(buf, "infinite", size);
		else if (s->type == T_UINT || u != 0)
			snprintf(buf, size, "%u", u);
		break;
	}
	case T_BOOL:
		str_copy(buf, *(const bool *)(const void *)field ? "yes" : "no", size);
		break;
	case T_LOGLEVEL:
		str_copy(buf, log_level_name(*(const enum log_level *)(const void *)field), size);
		break;
	case T_ADDR:
		if (((const struct in_addr *)(const void *)field)->s_addr != 0)
			inet_ntop(AF_INET, field, buf, (socklen_t)size);
		break;
	case T_LIST:
		items = ((const struct config_list *)(const void *)field)->item;
		count = ((const struct config_list *)(const void *)field)->count;
		break;
	case T_SHORT_LIST:
		items = ((const struct config_short_list *)(const void *)field)->item;
		count = ((const struct config_short_list *)(const void *)field)->count;
		break;
	}
	for (size_t i = 0; i < count && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i > 0 ? ", " : "", items[i]);
	return buf;
}

#define CONFIG_TEXT_MAX 2200            /* a list of 16 items of 128 */

/* The differences between two sections of the same kind. */
static size_t
section_diff(const void *a, const void *b, const struct section_def *sec, const char *id,
    config_change_fn fn, void *arg)
{
	static char old_text[CONFIG_TEXT_MAX], new_text[CONFIG_TEXT_MAX];
	size_t n = 0;

	for (size_t i = 0; i < sec->count; i++) {
		const struct setting *s = &sec->settings[i];
		setting_text(a, s, old_text, sizeof old_text);
		setting_text(b, s, new_text, sizeof new_text);
		if (strcmp(old_text, new_text) == 0 || strcmp(s->name, "config") == 0)
			continue;
		struct config_change c = { sec->name, id, s->name, old_text, new_text,
			s->restart || sec->restart };
		fn(arg, &c);
		n++;
	}
	return n;
}

/* The index of the subnet network/mask in cfg, or subnet_count. */
static size_t
subnet_index(const struct config *cfg, struct in_addr network, struct in_addr mask)
{
	size_t i = 0;

	while (i < cfg->subnet_count && (cfg->subnet[i].network.s_addr != network.s_addr ||
	    cfg->subnet[i].netmask.s_addr != mask.s_addr))
		i++;
	return i;
}

static const struct config_subnet *
subnet_find(const struct config *cfg, struct in_addr network, struct in_addr mask)
{
	size_t i = subnet_index(cfg, network, mask);

	return i < cfg->subnet_count ? &cfg->subnet[i] : NULL;
}

static size_t
subnets_diff(const struct config *a, const struct config *b, config_change_fn fn, void *arg)
{
	size_t n = 0;

	for (size_t i = 0; i < a->subnet_count; i++) {
		const struct config_subnet *x = &a->subnet[i];
		const struct config_subnet *y = subnet_find(b, x->network, x->netmask);
		if (y == NULL) {
			struct config_change c = { "subnet", x->name, NULL, "", NULL, false };
			fn(arg, &c);
			n++;
			continue;
		}
		n += section_diff(x, y, &section_subnet, x->name, fn, arg);
		const char *mx = config_subnet_mode(a, x), *my = config_subnet_mode(b, y);
		if (strcmp(mx, my) != 0) {
			struct config_change c = { "subnet", x->name, "served", mx, my, false };
			fn(arg, &c);
			n++;
		}
	}
	for (size_t i = 0; i < b->subnet_count; i++) {
		if (subnet_find(a, b->subnet[i].network, b->subnet[i].netmask) == NULL) {
			struct config_change c = { "subnet", b->subnet[i].name, NULL, NULL,
				config_subnet_mode(b, &b->subnet[i]), false };
			fn(arg, &c);
			n++;
		}
	}
	return n;
}

/* Hosts (by MAC) or relays (by ID): added, removed, changed. */
static size_t
entries_diff(const void *a, size_t a_count, const void *b, size_t b_count, size_t stride,
    size_t id_offset, const struct section_def *sec, config_change_fn fn, void *arg)
{
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++) {
		const char *from = pass == 0 ? a : b, *to = pass == 0 ? b : a;
		size_t from_count = pass == 0 ? a_count : b_count, to_count = pass == 0 ? b_count : a_count;
		for (size_t i = 0; i < from_count; i++) {
			const char *x = from + i * stride, *y = NULL;
			for (size_t j = 0; j < to_count && y == NULL; j++)
				if (strcasecmp(x + id_offset, to + j * stride + id_offset) == 0)
					y = to + j * stride;
			if (y != NULL && pass == 0)
				n += section_diff(x, y, sec, x + id_offset, fn, arg);
			if (y != NULL)
				continue;
			struct config_change c = { sec->name, x + id_offset, NULL,
				pass == 0 ? "" : NULL, pass == 0 ? NULL : "", sec->restart };
			fn(arg, &c);
			n++;
		}
	}
	return n;
}

size_t
config_diff(const struct config *a, const struct config *b, config_change_fn fn, void *arg)
{
	size_t n = section_diff(a, b, &section_main, "", fn, arg);

	n += subnets_diff(a, b, fn, arg);
	n += entries_diff(a->host, a->host_count, b->host, b->host_count, sizeof a->host[0],
	    offsetof(struct config_host, name), &section_host, fn, arg);
	n += entries_diff(a->relay, a->relay_count, b->relay, b->relay_count, sizeof a->relay[0],
	    offsetof(struct config_relay, name), &section_relay, fn, arg);
	n += entries_diff(a->environment, a->environment_count, b->environment,
	    b->environment_count, sizeof a->environment[0],
	    offsetof(struct config_environment, name), &section_environment, fn, arg);
	return n;
}

void
config_keep_restart(struct config *next, const struct config *running)
{
	char wanted[CONFIG_TEXT_MAX], kept[CONFIG_TEXT_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		const struct setting *s = &settings[i];
		if (!s->restart)
			continue;
		setting_text(next, s, wanted, sizeof wanted);
		setting_text(running, s, kept, sizeof kept);
		next->restart_pending[i] = strcmp(wanted, kept) != 0;
		memcpy((char *)next + s->offset, (const char *)running + s->offset, s->size);
		next->source[i] = running->source[i];
	}
	memcpy(next->environment, running->environment, sizeof next->environment);
	next->environment_count = running->environment_count;
}

static const char *const source_names[] = {
	[CONFIG_SOURCE_DEFAULT] = "default", [CONFIG_SOURCE_FILE] = "file",
	[CONFIG_SOURCE_FLAG] = "flag",
};

void
config_describe(const struct config *cfg, config_describe_fn fn, void *arg)
{
	char text[CONFIG_TEXT_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		uint8_t src = cfg->source[i];
		setting_text(cfg, &settings[i], text, sizeof text);
		fn(arg, settings[i].name, text,
		    src < ARRAY_SIZE(source_names) ? source_names[src] : "default");
	}
}

size_t
config_restart_needed(const struct config *cfg, const char **names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(settings) && n < max; i++)
		if (settings[i].restart && cfg->restart_pending[i])
			names[n++] = settings[i].name;
	return n;
}

const char *
config_subnet_mode(const struct config *cfg, const struct config_subnet *sn)
{
	if (sn->off || !sn->pxe)
		return sn->off || sn->proxy || sn->range.count == 0 ? "off" : "full";
	if (sn->proxy || sn->range.count == 0)
		return "proxy";
	(void)cfg;
	return "full";
}

int
config_subnet_override(struct config *cfg, const char *cidr, const char *mode,
    int64_t changed_ms, char *err, size_t err_size)
{
	struct in_addr net, mask;
	struct config_subnet *sn;

	if (config_parse_cidr(cidr, &net, &mask) != 0) {
		snprintf(err, err_size, "%s: not a subnet like 198.51.100.0/24", cidr);
		return -EINVAL;
	}
	size_t i = subnet_index(cfg, net, mask);
	sn = &cfg->subnet[i];
	if (i == cfg->subnet_count) {
		if (cfg->subnet_count >= CONFIG_SUBNETS_MAX) {
			snprintf(err, err_size, "%s: more than %d subnets", cidr, CONFIG_SUBNETS_MAX);
			return -ENOSPC;
		}
		cfg->subnet_count++;
		memset(sn, 0, sizeof *sn);
		section_defaults(sn, &section_subnet);
		sn->network = net;
		sn->netmask = mask;
		str_copy(sn->name, cidr, sizeof sn->name);
	}
	if (strcmp(mode, "off") == 0) {
		sn->off = true;
	} else if (strcmp(mode, "proxy") == 0 || strcmp(mode, "full") == 0) {
		sn->off = false;
		sn->pxe = true;
		sn->proxy = mode[0] == 'p';
	} else {
		snprintf(err, err_size, "%s: mode '%s' is not full, proxy or off", cidr, mode);
		return -EINVAL;
	}
	str_copy(sn->changed_by, mode, sizeof sn->changed_by);
	sn->changed_ms = changed_ms;
	return 0;
}

/* Subnet settings that fall back to a global one when not given. */
static const struct { const char *name; const char *global; } subnet_globals[] = {
	{ "router", "dhcp-router" }, { "dns", "dhcp-dns" }, { "domain", "dhcp-domain" },
	{ "lease-time", "dhcp-lease-time" },
};

void
config_subnet_describe(const struct config *cfg, const struct config_subnet *sn,
    config_describe_fn fn, void *arg)
{
	char text[CONFIG_TEXT_MAX];     /* not static: API threads call it too */

	for (size_t i = 0; i < section_subnet.count; i++) {
		const struct setting *s = &section_subnet.settings[i];
		const char *source = sn->given & (1u << i) ? "file" : "default";
		setting_text(sn, s, text, sizeof text);
		for (size_t g = 0; g < ARRAY_SIZE(subnet_globals) && text[0] == '\0'; g++) {
			if (strcmp(subnet_globals[g].name, s->name) != 0)
				continue;
			setting_text(cfg, setting_find(subnet_globals[g].global), text, sizeof text);
			source = text[0] != '\0' ? "global" : source;
		}
		if (sn->changed_by[0] != '\0' && sn->changed_by[0] != 'o' &&
		    (strcmp(s->name, "pxe") == 0 || strcmp(s->name, "proxy") == 0))
			source = "pxectl";
		fn(arg, s->name, text, source);
	}
}
