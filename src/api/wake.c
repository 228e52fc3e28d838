/* Wake-on-LAN (docs/DIAGNOSTICS.md): magic packets (6 x 0xff, 16 x the
 * MAC, and the SecureOn password when the host has one) to UDP port 9 of
 * the broadcast address of the subnet the host was last seen on: the
 * address its boot script was fetched from (else its newest DHCP lease).
 * On a subnet of one of pxed's interfaces, the kernel sends the subnet's
 * broadcast out of that interface as a link-layer broadcast; on a subnet
 * behind a relay (a [subnet CIDR] of the config file), it is a directed
 * broadcast routed to the subnet's router, which must forward directed
 * broadcasts (Linux: net.ipv4.conf.*.bc_forwarding=1; Cisco: ip
 * directed-broadcast).  A plain UDP socket with SO_BROADCAST does both,
 * without privileges.  Each is sent WAKE_COPIES times. */
#include "api/diag.h"
#include "api/envs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "store/diag.h"

#define WAKE_PORT 9
#define WAKE_COPIES 3
#define WAKE_GAP_US 20000
#define WAKE_GROUP_MAX 256

/* The magic packet of mac (and password, 6 bytes, or NULL): its length. */
size_t
wake_packet(const uint8_t mac[6], const uint8_t *password, uint8_t out[WAKE_PACKET_MAX])
{
	size_t n = 6;

	memset(out, 0xff, 6);
	for (int i = 0; i < 16; i++, n += 6)
		memcpy(out + n, mac, 6);
	if (password != NULL) {
		memcpy(out + n, password, 6);
		n += 6;
	}
	return n;
}

/* Where to send for a host at addr: the broadcast address of a subnet of
 * one of our interfaces (its name in via), else of a configured subnet. */
static int
wake_target(const struct api *a, struct in_addr addr, struct in_addr *bcast, char *via,
    size_t size)
{
	struct ifaddrs *ifs, *i;
	uint32_t h = ntohl(addr.s_addr);
	int rc = -ENOENT;

	if (getifaddrs(&ifs) == 0) {
		for (i = ifs; i != NULL && rc < 0; i = i->ifa_next) {
			const struct sockaddr_in *ia = (const void *)i->ifa_addr;
			const struct sockaddr_in *im = (const void *)i->ifa_netmask;
			if (ia == NULL || im == NULL || ia->sin_family != AF_INET ||
			    (i->ifa_flags & IFF_LOOPBACK) != 0)
				continue;
			uint32_t mask = ntohl(im->sin_addr.s_addr), mine = ntohl(ia->sin_addr.s_addr);
			if (mask != 0 && mask != 0xffffffffu && (mine & mask) == (h & mask)) {
				bcast->s_addr = htonl((h & mask) | ~mask);
				snprintf(via, size, "interface %s", i->ifa_name);
				rc = 0;
			}
		}
		freeifaddrs(ifs);
	}
	for (size_t k = 0; a->envs != NULL && k < a->envs->nsubnets && rc < 0; k++) {
		const struct config_subnet *s = &a->envs->subnets[k];
		uint32_t mask = ntohl(s->netmask.s_addr);
		if (mask != 0xffffffffu && (h & mask) == ntohl(s->network.s_addr)) {
			bcast->s_addr = htonl((h & mask) | ~mask);
			snprintf(via, size, "routed to subnet %s", s->name);
			rc = 0;
		}
	}
	return rc;
}

/* Send the packet WAKE_COPIES times: the count sent, or -errno. */
static int
wake_send(struct in_addr bcast, const uint8_t *pkt, size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(WAKE_PORT),
		.sin_addr = bcast };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1, sent = 0, err = 0;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0)
		err = errno;
	for (int i = 0; i < WAKE_COPIES && err == 0; i++) {
		if (i > 0)
			usleep(WAKE_GAP_US);
		if (sendto(fd, pkt, len, 0, (const struct sockaddr *)&to, sizeof to) == (ssize_t)len)
			sent++;
		else
			err = errno;
	}
	close(fd);
	return sent > 0 ? sent : -(err != 0 ? err : EIO);
}

int
api_wake_host(struct api *a, struct store *st, const char *mac, json_t **report)
{
	char addr_text[INET_ADDRSTRLEN], bcast_text[INET_ADDRSTRLEN], via[96];
	uint8_t raw[6], pw[6], pkt[WAKE_PACKET_MAX];
	struct store_host_where w;
	struct in_addr addr, bcast;
	int rc;

	*report = NULL;
	if (config_parse_mac(mac, raw) < 0 || store_host_where(st, mac, &w) < 0) {
		*report = json_pack("{s:s,s:s}", "host", mac, "error", "no such host");
		return -ENOENT;
	}
	addr = w.last_addr.s_addr != 0 ? w.last_addr : w.lease_addr;
	inet_ntop(AF_INET, &addr, addr_text, sizeof addr_text);
	if (addr.s_addr == 0 || wake_target(a, addr, &bcast, via, sizeof via) < 0) {
		*report = json_pack("{s:s,s:s}", "host", mac, "error", addr.s_addr == 0 ?
		    "never seen: no address known (it has not booted from pxed)" :
		    "no subnet known for its address: add a [subnet CIDR] section");
		if (addr.s_addr != 0)
			json_object_set_new(*report, "address", json_string(addr_text));
		return -ENOENT;
	}
	bool with_pw = w.wol_password[0] != '\0' && config_parse_mac(w.wol_password, pw) == 0;
	rc = wake_send(bcast, pkt, wake_packet(raw, with_pw ? pw : NULL, pkt));
	inet_ntop(AF_INET, &bcast, bcast_text, sizeof bcast_text);
	*report = json_pack("{s:s,s:s,s:s,s:i,s:s,s:i,s:b}", "host", mac, "address", addr_text,
	    "broadcast", bcast_text, "port", WAKE_PORT, "via", via, "packets", rc > 0 ? rc : 0,
	    "password", with_pw);
	if (rc < 0) {
		json_object_set_new(*report, "error", json_string(strerror(-rc)));
		log_warn_peer(NULL, mac, "api: wake %s: to %s: %s", mac, bcast_text, strerror(-rc));
		return -EIO;
	}
	log_info_peer(NULL, mac, "api: wake %s (last at %s): %d magic packets to %s:%d, %s%s", mac,
	    addr_text, rc, bcast_text, WAKE_PORT, via, with_pw ? ", with its SecureOn password" : "");
	return 0;
}

/* 200 {"wake": [REPORT]} when one packet at least left; else 409, an
 * error ({"error", "code"}) that still carries every member's report. */
static void
reply_wake(struct api_call *c, json_t *reports, bool any_ok)
{
	if (any_ok)
		api_reply_json(c->rs, 200, json_pack("{s:o}", "wake", reports));
	else
		api_reply_json(c->rs, 409, json_pack("{s:s,s:s,s:o}", "error",
		    "no member could be woken (see each one's report)", "code",
		    api_error_code(409), "wake", reports));
}

static void
host_wake(struct api_call *c)
{
	char mac[STORE_MAC_TEXT];
	json_t *report;
	int rc;

	if (api_resolve_host(c->st, c->arg[0], mac) < 0) {
		api_reply_error(c->rs, 404, "no host %s", c->arg[0]);
		return;
	}
	rc = api_wake_host(c->api, c->st, mac, &report);
	if (rc < 0 && report != NULL && json_is_string(json_object_get(report, "error"))) {
		api_reply_error(c->rs, 409, "cannot wake %s: %s", mac,
		    json_string_value(json_object_get(report, "error")));
		json_decref(report);
		return;
	}
	reply_wake(c, json_pack("[o]", report), rc == 0);
}

static void
group_wake(struct api_call *c)
{
	struct store_host *hosts = calloc(WAKE_GROUP_MAX, sizeof *hosts);
	int n = hosts != NULL ? store_group_members(c->st, c->arg[0], hosts, WAKE_GROUP_MAX) :
	    -ENOMEM;
	json_t *reports, *r;
	bool any = false;

	if (n <= 0) {
		free(hosts);
		api_reply_error(c->rs, n == 0 ? 404 : 500, "no group %.64s", c->arg[0]);
		return;
	}
	reports = json_array();
	for (int i = 0; i < n; i++) {
		any |= api_wake_host(c->api, c->st, hosts[i].mac, &r) == 0;
		json_array_append_new(reports, r != NULL ? r : json_null());
		store_host_free(&hosts[i]);
	}
	free(hosts);
	reply_wake(c, reports, any);
}

/* PUT /api/v1/hosts/{host}/wol {"password": "11:22:33:44:55:66" or ""}. */
static void
host_wol(struct api_call *c)
{
	json_t *body = api_body_json(c);
	const char *pw = NULL;
	char mac[STORE_MAC_TEXT], canon[STORE_MAC_TEXT] = "";

	if (body == NULL)
		return;
	if (json_unpack(body, "{s:s}", "password", &pw) < 0 ||
	    (pw[0] != '\0' && mac_text_canon(pw, canon) < 0)) {
		api_reply_error(c->rs, 400, "expected {\"password\": six bytes in hex like"
		    " 11:22:33:44:55:66, or \"\" for none}");
	} else if (api_resolve_host(c->st, c->arg[0], mac) < 0 ||
	    store_host_set_wol_password(c->st, mac, canon) < 0) {
		api_reply_error(c->rs, 404, "no host %s", c->arg[0]);
	} else {
		log_info_peer(c->peer, mac, "api: host %s: SecureOn password %s", mac,
		    canon[0] ? "set" : "cleared");
		api_reply_json(c->rs, 200, json_pack("{s:s,s:b}", "host", mac, "wol_password",
		    canon[0] != '\0'));
	}
	json_decref(body);
}

const struct api_route api_wake_routes[] = {
	{ "POST", "api/v1/hosts/{host}/wake", API_ADMIN, .handler = host_wake,
	    .statuses = "200 404 409",
	    .summary = "Wake-on-LAN: magic packets on the subnet the host was last seen on" },
	{ "POST", "api/v1/groups/{name}/wake", API_ADMIN, .handler = group_wake,
	    .statuses = "200 404 409",
	    .summary = "wake every host of the group" },
	{ "PUT", "api/v1/hosts/{host}/wol", API_ADMIN, .body_max = 1024, .json_max = 8,
	    .handler = host_wol, .statuses = "200 404",
	    .summary = "the host's SecureOn password (\"\": none)" },
	{ NULL },
};
