#include "pxed/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "tftp/server.h"

static int
tcp_listen_socket(int family, const char *addr, unsigned port, const char *ifname)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, on = 1, err;

	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		if (addr != NULL && inet_pton(AF_INET, addr, &in->sin_addr) != 1)
			return -EINVAL;
		len = sizeof *in;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		if (addr != NULL && inet_pton(AF_INET6, addr, &in6->sin6_addr) != 1)
			return -EINVAL;
		len = sizeof *in6;
	}
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
	    (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) ||
	    (ifname != NULL && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
	    (socklen_t)strlen(ifname)) != 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 512) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int
family_of(const char *addr)
{
	struct in6_addr a6;

	if (addr == NULL)
		return AF_UNSPEC;
	return inet_pton(AF_INET6, addr, &a6) == 1 ? AF_INET6 : AF_INET;
}

/* Open the sockets for one address (NULL: wildcard of family) and
 * interface (NULL: any).  A wildcard IPv6 socket that cannot be made
 * (IPv6 disabled) is skipped with a warning. */
static int
open_one(struct listeners *l, const struct config *cfg, int family, const char *addr,
    const char *ifname)
{
	const char *shown = addr != NULL ? addr : (family == AF_INET ? "0.0.0.0" : "::");
	bool optional = addr == NULL && family == AF_INET6;
	int fd;

	if (cfg->tftp_port != 0 && l->udp_count < LISTENERS_MAX) {
		fd = tftp_listen_socket(family, addr, cfg->tftp_port, ifname);
		if (fd < 0 && !optional) {
			log_error("tftp: cannot listen on %s port %u%s%s: %s", shown, cfg->tftp_port,
			    ifname ? " on " : "", ifname ? ifname : "", strerror(-fd));
			return fd;
		}
		if (fd >= 0)
			l->udp[l->udp_count++] = fd;
		else
			log_warn("tftp: no IPv6 listener: %s", strerror(-fd));
	}
	if (family == AF_INET && cfg->mtftp_port != 0 && cfg->mtftp_file.count > 0 &&
	    l->mtftp_count < LISTENERS_MAX) {
		fd = tftp_listen_socket(family, addr, cfg->mtftp_port, ifname);
		if (fd < 0) {
			log_error("mtftp: cannot listen on %s port %u: %s", shown, cfg->mtftp_port,
			    strerror(-fd));
			return fd;
		}
		l->mtftp[l->mtftp_count++] = fd;
	}
	if (cfg->http_port != 0 && l->tcp_count < LISTENERS_MAX) {
		fd = tcp_listen_socket(family, addr, cfg->http_port, ifname);
		if (fd < 0 && !optional) {
			log_error("http: cannot listen on %s port %u: %s", shown, cfg->http_port,
			    strerror(-fd));
			return fd;
		}
		if (fd >= 0)
			l->tcp[l->tcp_count++] = fd;
	}
	if (listeners_https(cfg) && l->tls_count < LISTENERS_MAX) {
		fd = tcp_listen_socket(family, addr, cfg->https_port, ifname);
		if (fd < 0 && !optional) {
			log_error("https: cannot listen on %s port %u: %s", shown, cfg->https_port,
			    strerror(-fd));
			return fd;
		}
		if (fd >= 0)
			l->tls[l->tls_count++] = fd;
	}
	return 0;
}

bool
listeners_https(const struct config *cfg)
{
	return cfg->https_port != 0 && cfg->tls_cert[0] != '\0' && cfg->tls_key[0] != '\0';
}

static int
open_addresses(struct listeners *l, const struct config *cfg, const char *ifname)
{
	int rc = 0;

	if (cfg->listen.count == 0) {
		rc = open_one(l, cfg, AF_INET, NULL, ifname);
		if (rc == 0)
			rc = open_one(l, cfg, AF_INET6, NULL, ifname);
		return rc;
	}
	for (size_t i = 0; i < cfg->listen.count && rc == 0; i++) {
		const char *a = cfg->listen.item[i];
		rc = open_one(l, cfg, family_of(a), a, ifname);
	}
	return rc;
}

int
listeners_open(struct listeners *l, const struct config *cfg)
{
	int rc = 0;

	memset(l, 0, sizeof *l);
	if (cfg->interface.count == 0)
		rc = open_addresses(l, cfg, NULL);
	for (size_t i = 0; i < cfg->interface.count && rc == 0; i++)
		rc = open_addresses(l, cfg, cfg->interface.item[i]);
	if (rc != 0)
		listeners_close(l);
	return rc;
}

const char *
listener_name(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char addr[LOG_ADDR_MAX], dev[IFNAMSIZ + 1] = "";
	socklen_t dev_len = sizeof dev - 1;

	memset(&ss, 0, sizeof ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		ss.ss_family = AF_UNSPEC;
	log_addr((const struct sockaddr *)&ss, addr, sizeof addr);
	if (getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &dev_len) != 0)
		dev_len = 0;
	dev[dev_len < sizeof dev ? dev_len : sizeof dev - 1] = '\0';
	snprintf(buf, size, "%s%s%s", addr, dev[0] != '\0' ? "%" : "", dev);
	return buf;
}

void
listeners_close(struct listeners *l)
{
	for (size_t i = 0; i < l->udp_count; i++)
		close(l->udp[i]);
	for (size_t i = 0; i < l->tcp_count; i++)
		close(l->tcp[i]);
	for (size_t i = 0; i < l->tls_count; i++)
		close(l->tls[i]);
	for (size_t i = 0; i < l->mtftp_count; i++)
		close(l->mtftp[i]);
	l->udp_count = l->tcp_count = l->mtftp_count = l->tls_count = 0;
}
