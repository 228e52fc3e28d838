/* TFTP listener: receives requests on port 69, applies the caps, and
 * starts one session per transfer on a fresh port. */
#include "tftp/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"

static int
set_pktinfo(int fd, int family)
{
	int on = 1;

	if (family == AF_INET)
		return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0)
		return -1;
	return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
}

static int
sockaddr_parse(int family, const char *addr, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		if (addr != NULL && inet_pton(AF_INET, addr, &in->sin_addr) != 1)
			return -EINVAL;
		*len = sizeof *in;
		return 0;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((uint16_t)port);
	if (addr != NULL && inet_pton(AF_INET6, addr, &in6->sin6_addr) != 1)
		return -EINVAL;
	*len = sizeof *in6;
	return 0;
}

/* A boot storm (a room of machines powered on at once) sends hundreds of
 * requests in a burst: give port 69 a deep queue.  Called as root, so the
 * FORCE variant may exceed net.core.rmem_max. */
#define LISTEN_RCVBUF (4 << 20)

int
tftp_listen_socket(int family, const char *addr, unsigned port, const char *ifname)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err, on = 1, rcvbuf = LISTEN_RCVBUF;

	if (sockaddr_parse(family, addr, port, &ss, &len) != 0)
		return -EINVAL;
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (set_pktinfo(fd, family) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
	    (ifname != NULL && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
	    (socklen_t)strlen(ifname)) != 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int
tftp_multicast_socket(const struct sockaddr_in *local, unsigned ifindex)
{
	struct sockaddr_in bind_to = *local;
	struct ip_mreqn mif = { .imr_address = local->sin_addr, .imr_ifindex = (int)ifindex };
	int fd, ttl = 1, loop = 0, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	bind_to.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&bind_to, sizeof bind_to) != 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof mif) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

void
tftp_send_error_to(int sock, const struct sockaddr_storage *peer, socklen_t peer_len,
    enum tftp_error_code code, const char *msg)
{
	uint8_t buf[600];
	size_t n = tftp_build_error(buf, sizeof buf, code, msg);

	if (n > 0)
		(void)sendto(sock, buf, n, MSG_DONTWAIT, (const struct sockaddr *)peer, peer_len);
}

/* The MTU of the interface a request came in on; 1500 when unknown. */
static unsigned
interface_mtu(int sock, unsigned ifindex)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof ifr);
	if (ifindex == 0 || if_indextoname(ifindex, ifr.ifr_name) == NULL)
		return 1500;
	if (ioctl(sock, SIOCGIFMTU, &ifr) != 0 || ifr.ifr_mtu < 576)
		return 1500;
	return (unsigned)ifr.ifr_mtu;
}

void
tftp_local_from_cmsg(struct msghdr *msg, int family, struct sockaddr_storage *local,
    unsigned *ifindex)
{
	memset(local, 0, sizeof *local);
	local->ss_family = (sa_family_t)family;
	*ifindex = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			((struct sockaddr_in *)local)->sin_addr = pi.ipi_spec_dst;
			*ifindex = (unsigned)pi.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi6;
			memcpy(&pi6, CMSG_DATA(c), sizeof pi6);
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)local;
			in6->sin6_addr = pi6.ipi6_addr;
			if (IN6_IS_ADDR_LINKLOCAL(&pi6.ipi6_addr))
				in6->sin6_scope_id = pi6.ipi6_ifindex;
			*ifindex = pi6.ipi6_ifindex;
		}
	}
}

static bool
same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

static bool
same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (!same_host(a, b))
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_port ==
		    ((const struct sockaddr_in *)b)->sin_port;
	return ((const struct sockaddr_in6 *)a)->sin6_port ==
	    ((const struct sockaddr_in6 *)b)->sin6_port;
}

bool
tftp_server_has_session(const struct tftp_server *srv, const struct sockaddr_storage *peer)
{
	for (const struct tftp_session *s = srv->sessions; s != NULL; s = s->next)
		if (same_endpoint(&s->peer, peer))
			return true;
	return false;
}

/* EDK2 ends its size query (tsize, blksize, windowsize) with ERROR 8 and at
 * once sends its download's RRQ (blksize, windowsize) from the same port:
 * the RRQ may be read before the ERROR.  A request asking other options
 * than the one whose OACK is still unanswered is that next request, not a
 * repeat: the query is over. */
static bool
supersedes(const struct tftp_session *s, const struct tftp_request *req)
{
	return s->kind == SESSION_READ && !s->closing && s->xfer.oack_pending &&
	    req->present != s->asked;
}

/* A retransmitted request for a transfer already running is ignored; the
 * caps on sessions (total and per client) are checked here. */
static const char *
admission(struct tftp_server *srv, const struct sockaddr_storage *peer,
    const struct tftp_request *req, bool *duplicate)
{
	size_t from_host = 0;

	*duplicate = false;
	for (struct tftp_session *s = srv->sessions; s != NULL; s = s->next) {
		if (same_endpoint(&s->peer, peer) && supersedes(s, req)) {
			tftp_session_end_size_query(s, "the next request came");
			return admission(srv, peer, req, duplicate);     /* one fewer */
		}
		if (same_endpoint(&s->peer, peer)) {
			*duplicate = true;
			return NULL;
		}
		if (same_host(&s->peer, peer))
			from_host++;
	}
	if (srv->session_count >= srv->cfg.tftp_max_sessions)
		return "server busy: too many transfers";
	if (from_host >= srv->cfg.tftp_max_per_client)
		return "too many transfers from this address";
	return NULL;
}

static void
handle_request(struct tftp_server *srv, int lfd, const uint8_t *buf, size_t len,
    const struct sockaddr_storage *peer, socklen_t peer_len, struct msghdr *msg)
{
	struct tftp_request req;
	struct sockaddr_storage local;
	char who[LOG_ADDR_MAX], name[256];
	const char *why;
	unsigned ifindex;
	bool dup;

	log_addr((const struct sockaddr *)peer, who, sizeof who);
	STATS_ADD(tftp_requests, 1);
	int rc = tftp_request_parse(buf, len, &req, &why);
	if (rc != 0) {
		STATS_ADD(tftp_bad_packets, 1);
		log_debug_peer(who, NULL,
		    "tftp %s: bad request (%zu bytes): %s", who, len, why);
		if (rc != -EPROTO)      /* DATA/ACK/... on port 69: silence */
			tftp_send_error_to(lfd, peer, peer_len, TFTP_ERR_ILLEGAL_OP, why);
		return;
	}
	log_printable(req.filename, req.filename_len, name, sizeof name);
	tftp_local_from_cmsg(msg, peer->ss_family, &local, &ifindex);
	if ((req.present & TFTP_OPT_MULTICAST) && srv->cfg.tftp_multicast &&
	    tftp_rfc2090_request(srv, &req, peer, &local, ifindex, interface_mtu(lfd, ifindex)))
		return;
	const char *refusal = admission(srv, peer, &req, &dup);
	if (dup) {
		log_debug_peer(who, NULL,
		    "tftp %s: repeated request for %s ignored", who, name);
		return;
	}
	if (refusal != NULL) {
		STATS_ADD(tftp_refused, 1);
		log_warn_peer(who, NULL,
		    "tftp %s: %s refused: %s", who, name, refusal);
		tftp_send_error_to(lfd, peer, peer_len, TFTP_ERR_UNDEFINED, refusal);
		return;
	}
	unsigned mtu = interface_mtu(lfd, ifindex);
	if (req.op == TFTP_RRQ)
		rc = tftp_session_start_read(srv, &req, peer, peer_len, &local, mtu);
	else
		rc = tftp_session_start_write(srv, &req, peer, peer_len, &local, mtu);
	if (rc == -EMFILE || rc == -ENFILE || rc == -ENOMEM) {
		log_warn_peer(who, NULL,
		    "tftp %s: %s: out of resources: %s", who, name, strerror(-rc));
		tftp_send_error_to(lfd, peer, peer_len, TFTP_ERR_UNDEFINED, "server out of resources");
	}
}

static void
listener_readable(uv_poll_t *poll, int status, int events)
{
	struct tftp_server *srv = poll->data;
	int lfd;

	if (status < 0 || !(events & UV_READABLE) || srv->stopping)
		return;
	uv_fileno((uv_handle_t *)poll, &lfd);
	for (int i = 0; i < TFTP_RECV_BATCH; i++) {
		struct sockaddr_storage peer;
		union { char buf[256]; struct cmsghdr align; } control;
		struct iovec iov = { srv->rxbuf[0], sizeof srv->rxbuf[0] };
		struct msghdr msg = {
			.msg_name = &peer, .msg_namelen = sizeof peer,
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = control.buf, .msg_controllen = sizeof control.buf,
		};
		ssize_t n = recvmsg(lfd, &msg, MSG_DONTWAIT);
		if (n < 0)
			break;
		if (msg.msg_flags & MSG_TRUNC) {
			STATS_ADD(tftp_bad_packets, 1);
			continue;
		}
		handle_request(srv, lfd, srv->rxbuf[0], (size_t)n, &peer, msg.msg_namelen, &msg);
	}
}

void
tftp_observe(struct tftp_session *s, const char *kind, const char *fmt, ...)
{
	const struct tftp_server_config *t = &s->server->tcfg;
	char detail[256];
	va_list ap;

	if (t->observe == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	t->observe(t->observe_arg, &s->peer, kind, detail);
}

void
tftp_server_session_gone(struct tftp_server *srv, struct tftp_session *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		srv->sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	srv->session_count--;
	STATS_SUB(tftp_sessions_active, 1);
}

int
tftp_server_start(struct tftp_server **out, uv_loop_t *loop,
    const struct tftp_server_config *tcfg, const struct config *cfg)
{
	struct tftp_server *srv = calloc(1, sizeof *srv);

	if (srv == NULL)
		return -ENOMEM;
	srv->scratch = malloc(TFTP_SCRATCH_SIZE);
	if (srv->scratch == NULL) {
		free(srv);
		return -ENOMEM;
	}
	srv->loop = loop;
	srv->tcfg = *tcfg;
	srv->cfg = *cfg;
	for (size_t i = 0; i < tcfg->listen_count; i++) {
		uv_poll_init(loop, &srv->listen_poll[i], tcfg->listen_fds[i]);
		srv->listen_poll[i].data = srv;
		uv_poll_start(&srv->listen_poll[i], UV_READABLE, listener_readable);
	}
	srv->listen_count = tcfg->listen_count;
	int rc = tftp_mtftp_start(srv);
	if (rc != 0) {
		tftp_server_stop(srv);
		return rc;
	}
	*out = srv;
	return 0;
}

void
tftp_server_reconfigure(struct tftp_server *srv, const struct config *cfg)
{
	srv->cfg = *cfg;
}

static void
listener_closed(uv_handle_t *h)
{
	struct tftp_server *srv = h->data;

	if (--srv->listen_count == 0) {
		free(srv->scratch);
		free(srv);
	}
}

void
tftp_server_stop(struct tftp_server *srv)
{
	if (srv == NULL)
		return;
	srv->stopping = true;
	tftp_mtftp_stop(srv);
	tftp_rfc2090_stop(srv);
	while (srv->sessions != NULL)
		tftp_session_close(srv->sessions, false, "server shutting down");
	size_t n = srv->listen_count;
	if (n == 0) {
		free(srv->scratch);
		free(srv);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uv_poll_stop(&srv->listen_poll[i]);
		uv_close((uv_handle_t *)&srv->listen_poll[i], listener_closed);
	}
}
