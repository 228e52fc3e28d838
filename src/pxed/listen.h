/* The daemon's listening sockets, opened as root before privileges go. */
#ifndef PXED_PXED_LISTEN_H
#define PXED_PXED_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

#define LISTENERS_MAX 16

struct listeners {
	int udp[LISTENERS_MAX];         /* TFTP */
	size_t udp_count;
	int mtftp[LISTENERS_MAX];       /* PXE MTFTP opens (IPv4) */
	size_t mtftp_count;
	int tcp[LISTENERS_MAX];         /* HTTP */
	size_t tcp_count;
	int tls[LISTENERS_MAX];         /* HTTPS (when tls-cert and tls-key are set) */
	size_t tls_count;
};

/* Is HTTPS configured: a port, a certificate and a key? */
bool listeners_https(const struct config *cfg);
/* One socket per (listen address x interface); every address of both
 * families when none is given.  Returns 0 or a negative errno (logged). */
int listeners_open(struct listeners *l, const struct config *cfg);
/* The address a socket is bound to, as "0.0.0.0:69" or "[::]:80", with
 * "%IFNAME" when it is bound to a device; returns buf. */
const char *listener_name(int fd, char *buf, size_t size);
void listeners_close(struct listeners *l);

#endif
