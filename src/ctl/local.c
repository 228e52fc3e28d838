/* pxectl's defaults for the pxed on this machine, from pxed's own config
 * file (default /etc/pxed/pxed.conf): where its HTTP API listens and
 * which file holds the API token.  The file is read with the daemon's
 * parser (core/config.c), so both agree on every setting. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "core/util.h"
#include "ctl/ctl.h"

/* The first IPv4 address of interface name into out; 0 or -ENOENT. */
static int
interface_addr(const char *name, char *out, size_t size)
{
	struct ifaddrs *list, *i;
	int rc = -ENOENT;

	if (getifaddrs(&list) != 0)
		return -errno;
	for (i = list; i != NULL && rc != 0; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    strcmp(i->ifa_name, name) != 0)
			continue;
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)i->ifa_addr;
		if (inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)size) != NULL)
			rc = 0;
	}
	freeifaddrs(list);
	return rc;
}

/* The host part of the URL: the first listen address (a wildcard: the
 * loopback of its family), else the first interface's IPv4 address, else
 * 127.0.0.1. */
static void
local_host(const struct config *cfg, char *out, size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	struct in6_addr a6;

	if (cfg->listen.count > 0) {
		const char *a = cfg->listen.item[0];
		if (strcmp(a, "0.0.0.0") == 0)
			snprintf(out, size, "127.0.0.1");
		else if (strcmp(a, "::") == 0)
			snprintf(out, size, "[::1]");
		else if (inet_pton(AF_INET6, a, &a6) == 1)
			snprintf(out, size, "[%s]", a);
		else
			snprintf(out, size, "%s", a);
	} else if (cfg->interface.count > 0 &&
	    interface_addr(cfg->interface.item[0], addr, sizeof addr) == 0) {
		snprintf(out, size, "%s", addr);
	} else {
		snprintf(out, size, "127.0.0.1");
	}
}

int
ctl_local_defaults(const char *path, bool given, char *server, size_t server_size,
    char *token_file, size_t token_size)
{
	static struct config cfg;
	struct config_args args = { .count = 1 };
	char err[512], host[CONFIG_ITEM_MAX + 2];

	if (access(path, R_OK) != 0) {
		if (!given)
			return 1;
		fprintf(stderr, "pxectl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	args.set[0] = (struct config_override){ .name = "config", .value = path };
	if (config_load(&cfg, &args, err, sizeof err) != 0) {
		fprintf(stderr, "pxectl: %s\n", err);
		return -1;
	}
	if (cfg.http_port == 0) {
		fprintf(stderr, "pxectl: %s: http-port = 0: pxed serves no API\n", path);
		return -1;
	}
	local_host(&cfg, host, sizeof host);
	if (cfg.http_port == 80)
		snprintf(server, server_size, "http://%s", host);
	else
		snprintf(server, server_size, "http://%s:%u", host, cfg.http_port);
	if (cfg.api_token_file[0] != '\0')
		str_copy(token_file, cfg.api_token_file, token_size);
	else
		snprintf(token_file, token_size, "%s/api-token", cfg.state_dir);
	return 0;
}
