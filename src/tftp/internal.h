/* TFTP server internals shared by server.c, session.c, send.c, upload.c. */
#ifndef PXED_TFTP_INTERNAL_H
#define PXED_TFTP_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/config.h"
#include "files/files.h"
#include "tftp/codec.h"
#include "tftp/netascii.h"
#include "tftp/server.h"
#include "tftp/transfer.h"

#define TFTP_BATCH_BLOCKS 64           /* blocks read + sent per syscall pair */
#define TFTP_SCRATCH_SIZE (TFTP_BATCH_BLOCKS * (TFTP_BLKSIZE_MAX + TFTP_HEADER_SIZE))
#define TFTP_RECV_BATCH 32             /* datagrams read per readable event */
#define TFTP_PACKET_MAX (TFTP_BLKSIZE_MAX + TFTP_HEADER_SIZE)

enum session_kind { SESSION_READ, SESSION_WRITE };

struct tftp_session {
	struct tftp_server *server;
	struct tftp_session *next, *prev;   /* server's list */
	enum session_kind kind;
	int sock;                           /* our TID: fresh ephemeral port */
	uv_poll_t poll;
	uv_timer_t timer;
	int handles_open;                   /* closes outstanding before free */
	bool closing;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char peer_text[LOG_ADDR_MAX];
	char path[FILES_PATH_MAX];
	uint64_t started_us;
	/* read side */
	int fd;
	uint32_t asked;                     /* the request's options (TFTP_OPT_*) */
	enum tftp_mode mode;
	struct tftp_transfer xfer;
	struct tftp_oack oack;
	bool use_oack;
	/* a SEND action being carried out, possibly over several events */
	uint64_t send_next;                 /* next block index to send */
	uint64_t send_end;                  /* one past the last block */
	bool want_writable;                 /* socket buffer full: wait */
	bool read_pending;                  /* async read into page cache */
	unsigned read_retries;
	bool gso_off;                       /* kernel refused UDP GSO */
	/* netascii */
	struct netascii_encoder enc, enc_next;
	uint64_t in_off, in_off_next;       /* input offset of current / next block */
	uint8_t *ascii_block;               /* last block sent (for resending) */
	size_t ascii_len;
	uint64_t ascii_index;
	/* write side */
	struct files_upload upload;
	bool upload_open;
	uint64_t received;                  /* highest in-order block written */
	uint64_t acked_upto;                /* last block we ACKed */
	uint64_t bytes;
	uint32_t blksize, windowsize;
	uint64_t max_bytes;
	bool lingering;                     /* final ACK sent, waiting for repeats */
	uint64_t last_rx_us;
	/* progress noted once a second (snapshot.c), for the rate */
	uint64_t mark_bytes[2], mark_us[2];     /* [0] the newest */
};

struct tftp_server {
	uv_loop_t *loop;
	struct tftp_server_config tcfg;
	struct config cfg;
	uv_poll_t listen_poll[TFTP_LISTEN_MAX];
	size_t listen_count;
	struct tftp_session *sessions;
	size_t session_count;
	bool stopping;
	struct mtftp_server *mtftp;         /* PXE MTFTP (mtftp.c), or NULL */
	struct rfc2090_server *rfc2090;     /* RFC 2090 (rfc2090.c), made on first use */
	uint8_t *scratch;                   /* TFTP_SCRATCH_SIZE, shared by sessions */
	uint8_t rxbuf[TFTP_RECV_BATCH][TFTP_PACKET_MAX + 1];
};

/* session.c */
int tftp_session_start_read(struct tftp_server *srv, const struct tftp_request *req,
    const struct sockaddr_storage *peer, socklen_t peer_len,
    const struct sockaddr_storage *local, unsigned mtu);
void tftp_session_close(struct tftp_session *s, bool ok, const char *why);
void tftp_session_send_error(struct tftp_session *s, enum tftp_error_code code, const char *msg);
void tftp_session_arm_timer(struct tftp_session *s, uint64_t deadline_us);
int tftp_session_socket(const struct sockaddr_storage *local);
struct tftp_session *tftp_session_new(struct tftp_server *srv, int sock,
    const struct sockaddr_storage *peer, socklen_t peer_len, enum session_kind kind);
void tftp_session_poll(struct tftp_session *s);
void tftp_session_do(struct tftp_session *s, const struct tftp_action *act);
void tftp_session_end_size_query(struct tftp_session *s, const char *how);

/* send.c: carry out the SEND in progress (s->send_next..send_end) */
void tftp_send_continue(struct tftp_session *s);
int tftp_send_oack(struct tftp_session *s);

/* upload.c */
int tftp_session_start_write(struct tftp_server *srv, const struct tftp_request *req,
    const struct sockaddr_storage *peer, socklen_t peer_len,
    const struct sockaddr_storage *local, unsigned mtu);
void tftp_upload_on_packet(struct tftp_session *s, const uint8_t *buf, size_t len, uint64_t now);
void tftp_upload_on_timer(struct tftp_session *s, uint64_t now);

/* read.c */
struct tftp_limits;
void tftp_limits_from_config(const struct config *cfg, unsigned mtu, int family,
    struct tftp_limits *lim);

/* mtftp.c: PXE MTFTP on the mtftp-port sockets (tcfg.mtftp_fds) */
struct mtftp_server;
int tftp_mtftp_start(struct tftp_server *srv);
void tftp_mtftp_stop(struct tftp_server *srv);

/* rfc2090.c: the RFC 2090 multicast option on port 69.  Returns true when
 * the request was taken (joined or started a multicast transfer, or its
 * OACK was sent again); false: serve it by ordinary TFTP. */
struct rfc2090_server;
bool tftp_rfc2090_request(struct tftp_server *srv, const struct tftp_request *req,
    const struct sockaddr_storage *peer, const struct sockaddr_storage *local,
    unsigned ifindex, unsigned mtu);
void tftp_rfc2090_stop(struct tftp_server *srv);

/* server.c */
/* Local address and interface a datagram was sent to, from IP_PKTINFO. */
void tftp_local_from_cmsg(struct msghdr *msg, int family, struct sockaddr_storage *local,
    unsigned *ifindex);
void tftp_observe(struct tftp_session *s, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tftp_server_session_gone(struct tftp_server *srv, struct tftp_session *s);
void tftp_send_error_to(int sock, const struct sockaddr_storage *peer, socklen_t peer_len,
    enum tftp_error_code code, const char *msg);
/* A socket that sends to multicast groups: bound to the request's local
 * address (any port: the transfer's ID), out of the request's interface,
 * TTL 1, not looped back.  Returns the fd or a negative errno. */
int tftp_multicast_socket(const struct sockaddr_in *local, unsigned ifindex);
/* A unicast session with this peer address and port is running. */
bool tftp_server_has_session(const struct tftp_server *srv, const struct sockaddr_storage *peer);

#endif
