/* TFTP server: the I/O glue between sockets, the libuv loop, the codec
 * (codec.h) and the engine (transfer.h). */
#ifndef PXED_TFTP_SERVER_H
#define PXED_TFTP_SERVER_H

#include <stddef.h>
#include <uv.h>

#include "core/config.h"
#include "files/files.h"

#define TFTP_LISTEN_MAX 32

struct tftp_server;

struct tftp_server_config {
	int listen_fds[TFTP_LISTEN_MAX];  /* bound UDP sockets (IP_PKTINFO on) */
	size_t listen_count;
	int mtftp_fds[TFTP_LISTEN_MAX];   /* PXE MTFTP opens (mtftp-port), IPv4 */
	size_t mtftp_count;
	const struct files_root *root;
	int write_dirfd;                  /* -1: uploads refused */
	/* Told of each transfer's start, end and failure (kind "tftp-start",
	 * "tftp-done", "tftp-failed"), for the boot timeline.  May be NULL. */
	void (*observe)(void *arg, const struct sockaddr_storage *peer, const char *kind,
	    const char *detail);
	void *observe_arg;
};

/* Create a UDP socket bound to addr:port (NULL addr: the wildcard of
 * family), with packet-info delivery on; optionally bound to a device.
 * Called before privileges are dropped.  Returns an fd or negative errno. */
int tftp_listen_socket(int family, const char *addr, unsigned port, const char *ifname);

int tftp_server_start(struct tftp_server **out, uv_loop_t *loop,
    const struct tftp_server_config *tcfg, const struct config *cfg);
/* Apply the reloadable settings (limits, timers, window caps, log). */
void tftp_server_reconfigure(struct tftp_server *server, const struct config *cfg);
/* Abort every transfer, close every handle; the loop then drains. */
void tftp_server_stop(struct tftp_server *server);

#endif
