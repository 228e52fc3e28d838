/* bench/storm: a boot storm in one process.  N simulated UEFI PXE clients,
 * each identified by its MAC (DHCP) and then by the address it was given
 * (TFTP, HTTP), boot the way a UEFI machine chaining into iPXE does:
 *
 *   1. DHCP as EDK2's PXE client: DISCOVER / OFFER / REQUEST / ACK with
 *      options 60 (PXEClient:Arch:00007:UNDI:003000), 93, 94, 97, 55, 57,
 *      the BROADCAST flag; retransmissions at 4, 8, 16, 32 s;
 *   2. TFTP of the boot file the OFFER named, as EDK2 (Mtftp4Dxe) does: a
 *      size query (tsize 0, blksize, windowsize: the OACK answered with
 *      ERROR 8), then the download (blksize 1468, windowsize 4) from the
 *      same port; an unexpected block is answered at once with an ACK of
 *      the last block in order; a window is ACKed after windowsize blocks;
 *      the last ACK is resent after 4 s, 6 times;
 *   3. iPXE's DHCP: DISCOVER / OFFER / REQUEST / ACK again with iPXE's
 *      options (77 "iPXE", 175, 61, 60 ...:003016), no BROADCAST flag,
 *      retransmissions at 1, 2, 4, 8 s;
 *   4. HTTP (libcurl, one keep-alive connection from the client's address):
 *      the script the second ACK names, then every "kernel" and "initrd"
 *      URL in it, in order.
 * With --http-loop S there is no DHCP and no TFTP: each client takes an
 * address of --addresses (client i the i-th, round the list) and fetches
 * --urls in turn over one keep-alive connection, again and again for S
 * seconds (the HTTP server under many clients); the latency of every
 * request is kept, small files' (up to 64 KiB) apart from large ones'.
 * Every byte received (TFTP and HTTP) is compared with the file of the
 * same name under --root.  DHCP goes relay-style (giaddr = one of --relay,
 * replies to giaddr:67; perfdhcp's way), so one socket serves every MAC;
 * the addresses handed out must be local to the client namespace (an
 * "ip route add local CIDR dev lo" route makes a whole subnet local).
 *
 * All clients live in one thread: epoll over the DHCP socket, one UDP
 * socket per TFTP transfer and libcurl's sockets (multi socket API).
 * Everything is bounded: clients (STORM_CLIENTS_MAX), files, script size,
 * URL length, retries, and the whole run (--deadline-s). */
#ifndef STORM_H
#define STORM_H

#include <curl/curl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORM_CLIENTS_MAX 4096
#define STORM_RELAYS_MAX 8
#define STORM_TIMEOUTS_MAX 8
#define STORM_FILES_MAX 16
#define STORM_PATH_MAX 256
#define STORM_SCRIPT_MAX 4096
#define STORM_URLS_MAX 4               /* kernel, initrd(s) per script */
#define STORM_URL_MAX 256
#define STORM_ERRORS_SHOWN 20          /* failure lines on stderr */
/* The clients' DHCP and TFTP sockets queue ahead of their TCP (SO_PRIORITY
 * 6: pfifo_fast's first band; nothing changes on the wire): the client
 * namespace's one queue stands for the ports of hundreds of machines, and
 * no machine's DHCP request waits behind another's HTTP ACKs. */
#define STORM_PRIORITY 6
#define STORM_ADDRESSES_MAX 4096
#define STORM_SMALL_MAX (64 << 10)     /* a "small" file (a script) */
#define STORM_LATENCIES_MAX (4u << 20) /* requests timed, of each kind */

/* epoll tags: the kind in the high 32 bits of data.u64 */
enum storm_tag { TAG_DHCP = 1, TAG_TFTP, TAG_CURL };
#define STORM_TAG(kind, value) (((uint64_t)(kind) << 32) | (uint32_t)(value))

enum storm_step { STEP_DHCP, STEP_TFTP, STEP_IPXE_DHCP, STEP_HTTP, STEP_COUNT };

enum client_state {
	C_WAITING,                      /* not started yet (ramp) */
	C_DISCOVER,
	C_REQUEST,
	C_TFTP_SIZE,                    /* size query sent, OACK awaited */
	C_TFTP_DATA,
	C_HTTP,
	C_DONE,
	C_FAILED,
};

struct storm_options {
	struct in_addr server;          /* DHCP requests go to server:67 */
	struct in_addr relay[STORM_RELAYS_MAX];
	unsigned relays;
	unsigned clients;
	const char *root;
	unsigned ramp_ms;               /* starts spread over this long */
	unsigned dhcp_timeouts_ms[STORM_TIMEOUTS_MAX];
	unsigned dhcp_timeouts;
	unsigned ipxe_timeouts_ms[STORM_TIMEOUTS_MAX];
	unsigned ipxe_timeouts;
	unsigned tftp_timeout_ms;
	unsigned tftp_retries;
	unsigned blksize;
	unsigned windowsize;
	bool size_query;
	unsigned http_stall_s;          /* an HTTP transfer idle this long fails */
	unsigned http_loop_s;           /* 0: a boot; else the HTTP loop's length */
	char loop_urls[STORM_URLS_MAX + 1][STORM_URL_MAX];
	unsigned loop_url_count;
	struct in_addr address[STORM_ADDRESSES_MAX];
	unsigned addresses;
	unsigned deadline_s;
	uint8_t mac_prefix[3];
};

struct storm_file {                     /* a file under --root, mapped */
	char path[STORM_PATH_MAX];
	const uint8_t *data;
	size_t len;
};

struct dhcp_lease {
	struct in_addr yiaddr;
	struct in_addr server_id;
	struct in_addr next_server;     /* siaddr, else option 66 */
	char file[128];                 /* file field, else option 67 */
};

struct client {
	unsigned index;
	enum client_state state;
	bool ipxe;                      /* the second (iPXE) DHCP exchange */
	uint8_t mac[6];
	uint32_t xid;
	struct in_addr giaddr;
	struct dhcp_lease lease;
	struct in_addr first_addr;      /* from the firmware's exchange */
	uint64_t start_us, start_at_us, offer_us, tftp_end_us, end_us;
	uint64_t sent_us;               /* the last DHCP message sent */
	uint64_t offer_wait_us;         /* OFFER after the last DISCOVER sent */
	uint64_t due_us;                /* retransmission; UINT64_MAX: none */
	unsigned tries;
	/* TFTP */
	int fd;
	struct sockaddr_in tid;
	bool tid_known;
	const struct storm_file *boot;
	uint32_t blksize, windowsize;
	uint64_t next;                  /* block expected, 1-based, unwrapped */
	uint32_t in_window;
	uint16_t last_ack;
	uint64_t tftp_bytes;
	/* HTTP */
	CURL *easy;
	char base[STORM_URL_MAX];       /* http://host[:port]/dir/ of the script */
	char url[STORM_URLS_MAX + 1][STORM_URL_MAX];
	unsigned urls, url_next;
	char *script;                   /* while the script is read */
	size_t script_len;
	const struct storm_file *http_file;
	uint64_t http_off, http_bytes;
	uint64_t request_us;            /* when the current request began */
	unsigned requests;
	/* outcome */
	enum storm_step failed_step;
	const char *why;
	unsigned dhcp_resent, ipxe_resent, tftp_timeouts;
	unsigned tftp_timeouts_at[3];  /* size query, download request, data */
};

struct storm {
	struct storm_options o;
	int ep;
	int dhcp_fd;
	struct client *c;
	unsigned finished;
	uint32_t xid_base;
	struct storm_file files[STORM_FILES_MAX];
	unsigned nfiles;
	CURLM *multi;
	uint64_t curl_due_us;
	uint64_t t0_us;
	unsigned errors_shown;
	/* the HTTP loop */
	uint64_t loop_end_us;
	uint64_t *lat_small, *lat_large; /* request latencies, us */
	size_t n_small, n_large;
};

/* main.c */
void storm_fail(struct storm *s, struct client *c, enum storm_step step, const char *why);
void storm_watch(struct storm *s, int fd, uint64_t tag);
const struct storm_file *storm_file(struct storm *s, const char *path);

/* dhcp.c */
int storm_dhcp_open(struct storm *s);
void storm_dhcp_start(struct storm *s, struct client *c, bool ipxe, uint64_t now);
void storm_dhcp_readable(struct storm *s, uint64_t now);
void storm_dhcp_timeout(struct storm *s, struct client *c, uint64_t now);

/* tftp.c */
void storm_tftp_start(struct storm *s, struct client *c, uint64_t now);
void storm_tftp_readable(struct storm *s, struct client *c, uint64_t now);
void storm_tftp_timeout(struct storm *s, struct client *c, uint64_t now);
void storm_tftp_close(struct storm *s, struct client *c);

/* http.c */
int storm_http_setup(struct storm *s);
void storm_http_cleanup(struct storm *s);
void storm_http_start(struct storm *s, struct client *c, uint64_t now);
void storm_http_loop_start(struct storm *s, struct client *c, uint64_t now);
void storm_http_event(struct storm *s, int fd, uint32_t events);
void storm_http_timer(struct storm *s);

/* report.c */
void storm_report(const struct storm *s, uint64_t end_us);
void storm_report_loop(struct storm *s, uint64_t end_us);

#endif
