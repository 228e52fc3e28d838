/* DHCPv4 server, proxyDHCP and PXE boot server (UDP 4011). */
#ifndef PXED_DHCP_SERVER_H
#define PXED_DHCP_SERVER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/config.h"

struct dhcp_server;
struct store;

/* Is DHCP (or proxyDHCP) configured at all? */
bool dhcp_enabled(const struct config *cfg);

/* Sockets for ports 67 and 4011, opened as root before privileges drop
 * (one pair per interface when cfg->interface lists some).  Returns 0 or
 * a negative errno; logs. */
#define DHCP_SOCKETS_MAX 16
struct dhcp_sockets {
	int fd[DHCP_SOCKETS_MAX];
	bool is_pxe_port[DHCP_SOCKETS_MAX];
	size_t count;
};
int dhcp_sockets_open(struct dhcp_sockets *socks, const struct config *cfg);
void dhcp_sockets_close(struct dhcp_sockets *socks);

/* Check the DHCP parts of a configuration (ranges inside subnets, hosts,
 * boot rules) the way the server will read them.  0 or -EINVAL + err. */
int dhcp_config_check(const struct config *cfg, char *err, size_t err_size);

int dhcp_server_start(struct dhcp_server **out, uv_loop_t *loop, const struct config *cfg,
    const struct dhcp_sockets *socks, struct store *store);
void dhcp_server_stop(struct dhcp_server *srv);

/* The MAC that holds a lease on addr (for the boot timeline of TFTP and
 * HTTP transfers); returns its length, 0 when unknown. */
size_t dhcp_server_mac_of(struct dhcp_server *srv, struct in_addr addr, uint8_t mac[16]);

#endif
