/* The REST API (docs/API.md): hosts, groups, tasks, images, multicast
 * sessions, boot timelines, status and metrics, the agent's endpoints and
 * the per-host boot script.
 *
 * Pure of libmicrohttpd: http/server.c hands over a request in two steps.
 * api_call_begin() runs as soon as the request line and headers are in,
 * before a byte of the body is read: it finds the route, checks the
 * credentials and the declared length against the route's limit, and
 * either refuses (401, 403, 404, 405, 409, 413) or admits the request.  An
 * admitted call then gets its body (buffered by the server up to the
 * route's limit, or fed to the route as it arrives for the routes that
 * stream) and api_call_answer() builds the response.  Runs in
 * libmicrohttpd's threads; each thread has its own store connection. */
#ifndef PXED_API_API_H
#define PXED_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "image/repo.h"

#define API_QUERY_MAX 8                 /* query arguments kept */
#define API_QUERY_VALUE_MAX 128         /* bytes of one decoded value */

#define API_SERVICES_MAX 8
#define API_SERVICE_ADDRS_MAX 16
#define API_SERVICE_ADDR_LEN 96

/* A service pxed runs and the sockets it listens on, for the status. */
struct api_service {
	const char *name;               /* "tftp", "http", "mtftp", "dhcp", "pxe" */
	const char *mode;               /* dhcp: "server" or "proxy"; else NULL */
	size_t count;                   /* sockets listed below */
	char listen[API_SERVICE_ADDRS_MAX][API_SERVICE_ADDR_LEN];  /* "0.0.0.0:67%eth0" */
};

struct api_config {
	const char *state_dir;
	const char *state;              /* the state store: state_dir or a postgresql:// URL */
	const char *image_dir;
	const char *clamav_db_dir;      /* scan tasks' signatures, served at /clamav/ */
	const char *image_repo;         /* "local", or the URL of the pxed holding it */
	const char *token_file;         /* the administrator's API token */
	bool host_approval;             /* unknown hosts boot locally until approved */
	bool no_task_menu;              /* a host with no task gets a menu (else: local) */
	unsigned no_task_menu_timeout;  /* seconds before the menu boots the local disk */
	const char *bootenv_url;        /* path under the HTTP root, or http://... */
	const char *bootenv_args;       /* extra kernel command line */
	unsigned chunk_mb;              /* capture chunk size */
	unsigned level;                 /* capture zstd level */
	struct in_addr mcast_group;     /* multicast deploy sessions */
	unsigned mcast_port, mcast_ttl, mcast_slice, mcast_start_after;
	unsigned mcast_rate_mbit, mcast_min_rate_mbit;
	const char *mcast_fec;          /* "off" or "K,M" (checked at start-up) */
	bool timeline;                  /* HTTP downloads go into boot timelines */
	unsigned hosts_max;             /* hosts a boot script may register (total) */
	unsigned host_register_rate;    /* registrations by boot script per minute */
	bool counters_need_read;        /* metrics-auth = read: status and metrics too */
	bool task_token_bind;           /* a task's token works from one address only */
	unsigned https_port;            /* HTTPS served (0: not): reads and changes
	                                 * need it, or a request from this machine */
	char tls_pin[64];               /* its key's pin (http/pin.h): with it, agents
	                                 * are sent to HTTPS and check the key */
	struct dhcp_board *board;       /* the DHCP engine on the loop (dhcp/board.h) */
	struct inflight *inflight;      /* HTTP downloads in flight (core/inflight.h) */
	const struct api_service *services;     /* what runs (lives as long as the api) */
	size_t services_count;
	/* diagnose and repair (docs/DIAGNOSTICS.md) */
	const struct files_root *root;  /* the served root: environments' files */
	const struct config_environment *environments;  /* [environment NAME] */
	size_t environment_count;
	const char *memtest_dir;        /* Debian's memtest86+, or "" */
	const struct config_subnet *subnets;    /* [subnet CIDR]: where to wake hosts */
	size_t subnet_count;
};

struct api;
struct api_call;
struct dhcp_board;
struct files_root;
struct config_environment;
struct config_subnet;
struct inflight;

struct api_query_arg {
	char key[32];                   /* as sent (printable ASCII only) */
	char value[API_QUERY_VALUE_MAX];        /* percent-decoded */
};

/* What the server knows when the headers are in.  The strings need only
 * live through api_call_begin(): the call keeps copies of what it needs. */
struct api_request {
	const char *method;
	const char *path;               /* normalized, no leading slash: "api/v1/hosts" */
	const char *authorization;      /* header value or NULL */
	const char *host;               /* Host header or NULL */
	const char *last_event_id;      /* Last-Event-ID header or NULL */
	struct in_addr local4;          /* the server address the client reached */
	struct in_addr peer4;           /* the client's IPv4 address (0: IPv6) */
	const char *peer;               /* client address, printable, for the log */
	bool secure;                    /* over TLS, or from this machine */
	bool has_length;                /* Content-Length was sent */
	uint64_t length;                /* its value */
	struct api_query_arg query[API_QUERY_MAX];
	size_t nquery;
};

/* A response made as it is sent (Server-Sent Events): read returns the
 * bytes it put in buf (> 0), 0 when it has nothing now (the server parks
 * the connection until api_streams_wake() or 15 s pass, then asks again),
 * or -1 at the end.  done frees ctx when the connection ends. */
struct api_stream {
	long (*read)(void *ctx, char *buf, size_t max);
	void (*done)(void *ctx);
	void *ctx;
};

struct api_response {
	unsigned status;
	char *body;                     /* malloc'd or NULL */
	size_t len;
	const char *type;
	char allow[48];                 /* 405: the methods the path takes */
	char location[96];              /* "": none; else a Location header */
	struct api_stream stream;       /* stream.read != NULL: a stream, no body */
};

/* rs made as the JSON error {"error": message, "code": ...} of status:
 * for the HTTP server's own refusals of an API request (its size, memory). */
void api_error_response(struct api_response *rs, unsigned status, const char *message);

/* Read (create) the API token, open the image repository.  0 or -errno. */
int api_open(struct api **out, const struct api_config *cfg);
void api_close(struct api *a);

/* Does path belong to the API ("api/..." or "metrics")? */
bool api_owns(const char *path);

/* Admit a request or refuse it (rs made, *out NULL).  0 when admitted. */
int api_call_begin(struct api *a, const struct api_request *rq, struct api_call **out,
    struct api_response *rs);
/* The body bytes the admitted call takes (0: none). */
size_t api_call_body_max(const struct api_call *c);
/* Does the route take its body as it arrives (api_call_feed) rather than
 * buffered by the server? */
bool api_call_streams(const struct api_call *c);
/* Body bytes of a streaming call.  0, or a negative errno with rs made:
 * the request is answered with it and the rest of the body dropped. */
int api_call_feed(struct api_call *c, const char *data, size_t len, struct api_response *rs);
/* The response, once the whole body is in (body: the buffered body of a
 * route that does not stream, else NULL). */
void api_call_answer(struct api_call *c, const char *body, size_t len,
    struct api_response *rs);
/* Free the call (an unfinished streaming body is dropped).  NULL is
 * allowed. */
void api_call_end(struct api_call *c);

/* A boot file sent over HTTP to peer, for the boot timeline of the MAC
 * that holds the address. */
void api_timeline_http(struct api *a, struct in_addr peer, const char *path, uint64_t bytes,
    uint64_t ms, bool ok);

/* The metrics-auth setting's check: "open" or "read".  0 or -EINVAL. */
int api_metrics_auth_check(const char *value, char *err, size_t size);
/* The no-task setting's check: "local" or "menu".  0 or -EINVAL (err). */
int api_no_task_check(const char *value, char *err, size_t size);

/* The chunk sources by subnet from cfg (core/config.h): at start and at
 * every reload.  Agents fetching their task from then on get them. */
struct config;
void api_chunk_sources_set(struct api *a, const struct config *cfg);
/* server-name (this server's, in the database shared with others): call
 * before the HTTP threads start. */
void api_set_server_name(struct api *a, const char *name);
/* What this server runs, published with its heartbeat (the share
 * thread's callback, dhcp/share_thread.h): {"transfers": [...], "mcast":
 * [...]}, at most API_RUNNING_MAX of each, as malloc'd JSON text, or NULL
 * (the loop did not answer).  api is a struct api; st the caller's store
 * connection (the clients' MACs). */
struct store;
char *api_running_text(void *api, struct store *st);
/* The image-repo setting's check: local or an http(s):// URL. */
int api_image_repo_check(const char *value, char *err, size_t size);

/* The repository directory fd, for serving images/chunks/ as files. */
int api_image_dirfd(const struct api *a);
/* The ClamAV database directory (O_PATH), or -1 when it could not be
 * opened at start-up (logged). */
int api_clamav_dirfd(const struct api *a);

/* A file pxed serves from outside its root (Debian's memtest86+: path
 * "pxed-builtin/memtest86+/NAME"): its root in *root and its name there,
 * or NULL for any other path. */
const char *api_builtin_file(const struct api *a, const char *path,
    const struct files_root **root);

/* The i-th name of the memtest86+ files served from memtest-dir, NULL
 * past the last (pxed/sandbox.c lets the daemon read those alone). */
const char *api_memtest_file(size_t i);

#endif
