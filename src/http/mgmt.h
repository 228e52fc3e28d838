/* The management side of the HTTP server: the REST API for hosts, images
 * and tasks, the agent's API, and the per-host iPXE boot script.
 *
 * Pure of libmicrohttpd: server.c hands over a parsed request (method,
 * normalized path, two headers, the whole body) and sends back the
 * response built here.  Runs in libmicrohttpd's threads; every call opens
 * a store connection of its own.  docs/API.md describes the endpoints. */
#ifndef PXED_HTTP_MGMT_H
#define PXED_HTTP_MGMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "image/repo.h"

#define MGMT_JSON_BODY_MAX (1u << 20)          /* API requests */
#define MGMT_MANIFEST_BODY_MAX (64u << 20)     /* a manifest upload */
#define MGMT_CHUNK_BODY_MAX (IMAGE_CHUNK_MAX + (IMAGE_CHUNK_MAX >> 7) + 4096)

struct mgmt_config {
	const char *state_dir;
	const char *image_dir;
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
	struct dhcp_board *board;       /* the DHCP engine on the loop (dhcp/board.h) */
};

struct mgmt;
struct dhcp_board;

struct mgmt_request {
	const char *method;
	const char *path;               /* normalized, no leading slash: "api/v1/hosts" */
	const char *authorization;      /* header value or NULL */
	const char *host;               /* Host header or NULL */
	struct in_addr local4;          /* the server address the client reached */
	const char *peer;               /* client address, for the log */
	const char *body;
	size_t body_len;
};

struct mgmt_response {
	unsigned status;
	char *body;                     /* malloc'd or NULL */
	size_t len;
	const char *type;
};

/* Read (create) the API token, open the image repository.  0 or -errno. */
int mgmt_open(struct mgmt **out, const struct mgmt_config *cfg);
void mgmt_close(struct mgmt *m);

/* Does path belong to the management side? */
bool mgmt_owns(const char *path);
/* The largest body accepted for method + path (0: none). */
size_t mgmt_body_limit(const char *method, const char *path);
void mgmt_answer(struct mgmt *m, const struct mgmt_request *rq, struct mgmt_response *rs);

/* The no-task setting's check: "local" or "menu".  0 or -EINVAL (err). */
int mgmt_no_task_check(const char *value, char *err, size_t size);

/* The repository directory fd, for serving images/chunks/ as files. */
int mgmt_image_dirfd(const struct mgmt *m);

#endif
