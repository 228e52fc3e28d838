/* Write transfers (WRQ), refused unless tftp-write names a directory.
 * Data goes to a hidden temporary file that is linked into place only
 * when the final block has arrived: a half upload is never visible, and an
 * existing file is never replaced. */
#include "tftp/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"
#include "tftp/negotiate.h"

#define UPLOAD_REACK_US 1000000u
#define UPLOAD_LINGER_US 2000000u

static void
send_ack(struct tftp_session *s, uint64_t index)
{
	uint8_t buf[TFTP_HEADER_SIZE];

	tftp_build_ack(buf, sizeof buf, tftp_index_to_wire(index, s->xfer.p.wrap_to_one));
	(void)sendto(s->sock, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&s->peer,
	    s->peer_len);
	s->acked_upto = index;
}

static enum tftp_error_code
upload_error(int err, const char **msg)
{
	switch (err) {
	case -EEXIST:
		*msg = "file exists";
		return TFTP_ERR_FILE_EXISTS;
	case -ENOSPC:
	case -EDQUOT:
	case -EFBIG:
		*msg = "disk full or file too large";
		return TFTP_ERR_DISK_FULL;
	default:
		*msg = "access violation";
		return TFTP_ERR_ACCESS;
	}
}

static int
upload_open(struct tftp_session *s, const struct tftp_request *req)
{
	char name[256];
	const char *msg;
	int rc;

	log_printable(req->filename, req->filename_len, name, sizeof name);
	if (s->server->tcfg.write_dirfd < 0) {
		log_info_peer(s->peer_text, NULL,
		    "tftp %s: WRQ %s refused: uploads are disabled", s->peer_text, name);
		tftp_session_send_error(s, TFTP_ERR_ACCESS, "uploads are disabled");
		return -EACCES;
	}
	rc = files_path_normalize(req->filename, req->filename_len, NULL, s->path, sizeof s->path);
	if (rc == 0)
		rc = files_upload_begin(&s->upload, s->server->tcfg.write_dirfd, s->path);
	if (rc < 0) {
		enum tftp_error_code code = upload_error(rc, &msg);
		log_warn_peer(s->peer_text, NULL,
		    "tftp %s: WRQ %s refused: %s (%s)", s->peer_text, name, msg, strerror(-rc));
		tftp_session_send_error(s, code, msg);
		return rc;
	}
	s->upload_open = true;
	return 0;
}

int
tftp_session_start_write(struct tftp_server *srv, const struct tftp_request *req,
    const struct sockaddr_storage *peer, socklen_t peer_len,
    const struct sockaddr_storage *local, unsigned mtu)
{
	struct tftp_limits lim;
	struct tftp_transfer_params p;
	int sock = tftp_session_socket(local);

	if (sock < 0)
		return sock;
	struct tftp_session *s = tftp_session_new(srv, sock, peer, peer_len, SESSION_WRITE);
	if (s == NULL) {
		close(sock);
		return -ENOMEM;
	}
	s->max_bytes = (uint64_t)srv->cfg.tftp_write_max_mb << 20;
	if (req->option_error != NULL || req->mode != TFTP_MODE_OCTET) {
		tftp_session_send_error(s, req->option_error ? TFTP_ERR_OPTION : TFTP_ERR_ILLEGAL_OP,
		    req->option_error ? "option negotiation refused" : "uploads are octet only");
		tftp_session_close(s, false, "bad WRQ");
		return 0;
	}
	if ((req->present & TFTP_OPT_TSIZE) && req->tsize > s->max_bytes) {
		tftp_session_send_error(s, TFTP_ERR_DISK_FULL, "file too large");
		tftp_session_close(s, false, "WRQ too large");
		return 0;
	}
	if (upload_open(s, req) != 0) {
		tftp_session_close(s, false, NULL);
		return 0;
	}
	tftp_limits_from_config(&srv->cfg, mtu, peer->ss_family, &lim);
	s->use_oack = tftp_negotiate(req, &lim, req->tsize, &s->oack, &p);
	if (req->present & TFTP_OPT_TSIZE) {
		s->oack.present |= TFTP_OPT_TSIZE;
		s->oack.tsize = req->tsize;
	}
	s->xfer.p = p;
	s->blksize = p.blksize;
	s->windowsize = p.windowsize;
	s->last_rx_us = clock_now_us();
	log_info_peer(s->peer_text, NULL,
	    "tftp %s: WRQ %s blksize %u window %u", s->peer_text, s->path, p.blksize,
	    p.windowsize);
	if (s->use_oack) {
		uint8_t buf[512];
		size_t n = tftp_build_oack(buf, sizeof buf, &s->oack);
		(void)sendto(s->sock, buf, n, MSG_DONTWAIT, (struct sockaddr *)&s->peer, s->peer_len);
	} else {
		send_ack(s, 0);
	}
	tftp_session_arm_timer(s, s->last_rx_us + UPLOAD_REACK_US);
	return 0;
}

static void
upload_finish(struct tftp_session *s, uint64_t now)
{
	int rc = files_upload_commit(&s->upload);

	s->upload_open = false;
	if (rc != 0) {
		const char *msg;
		enum tftp_error_code code = upload_error(rc, &msg);
		log_warn_peer(s->peer_text, NULL,
		    "tftp %s: upload %s failed at commit: %s", s->peer_text, s->path,
		    strerror(-rc));
		tftp_session_send_error(s, code, msg);
		tftp_session_close(s, false, NULL);
		return;
	}
	send_ack(s, s->received);
	log_info_peer(s->peer_text, NULL,
	    "tftp %s: received %s (%" PRIu64 " bytes) in %" PRIu64 " ms", s->peer_text,
	    s->path, s->bytes, (now - s->started_us) / 1000);
	s->lingering = true;
	tftp_session_arm_timer(s, now + UPLOAD_LINGER_US);
}

static int
upload_store(struct tftp_session *s, uint64_t index, const uint8_t *data, size_t len)
{
	if (s->bytes + len > s->max_bytes)
		return -EFBIG;
	off_t off = (off_t)((index - 1) * s->blksize);
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(s->upload.fd, data + done, len - done, off + (off_t)done);
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	s->bytes += len;
	STATS_ADD(tftp_bytes_received, len);
	return 0;
}

static void
upload_data(struct tftp_session *s, uint16_t wire, const uint8_t *data, size_t len,
    uint64_t now)
{
	uint64_t index = tftp_wire_to_index(wire, s->received, s->received + s->windowsize,
	    s->xfer.p.wrap_to_one);

	if (index != s->received + 1 || len > s->blksize) {
		send_ack(s, s->received);      /* gap or repeat: say where we are */
		return;
	}
	if (s->lingering)
		return;
	int rc = upload_store(s, index, data, len);
	if (rc != 0) {
		const char *msg;
		enum tftp_error_code code = upload_error(rc, &msg);
		tftp_session_send_error(s, code, msg);
		log_warn_peer(s->peer_text, NULL,
		    "tftp %s: upload %s failed: %s", s->peer_text, s->path, strerror(-rc));
		tftp_session_close(s, false, NULL);
		return;
	}
	s->received = index;
	s->last_rx_us = now;
	if (len < s->blksize) {
		upload_finish(s, now);
		return;
	}
	if (s->received - s->acked_upto >= s->windowsize)
		send_ack(s, s->received);
	tftp_session_arm_timer(s, now + UPLOAD_REACK_US);
}

void
tftp_upload_on_packet(struct tftp_session *s, const uint8_t *buf, size_t len, uint64_t now)
{
	uint16_t op, num;

	if (tftp_packet_header(buf, len, &op, &num) != 0) {
		STATS_ADD(tftp_bad_packets, 1);
		return;
	}
	if (op == TFTP_DATA) {
		upload_data(s, num, buf + TFTP_HEADER_SIZE, len - TFTP_HEADER_SIZE, now);
	} else if (op == TFTP_ERROR) {
		log_info_peer(s->peer_text, NULL,
		    "tftp %s: client aborted upload of %s", s->peer_text, s->path);
		tftp_session_close(s, false, NULL);
	} else {
		STATS_ADD(tftp_bad_packets, 1);
	}
}

void
tftp_upload_on_timer(struct tftp_session *s, uint64_t now)
{
	if (s->lingering) {
		tftp_session_close(s, true, NULL);
		return;
	}
	if (now - s->last_rx_us >= s->xfer.p.idle_timeout_us) {
		log_info_peer(s->peer_text, NULL,
		    "tftp %s: upload %s abandoned: no data for %u s", s->peer_text, s->path,
		    s->server->cfg.tftp_session_timeout);
		tftp_session_send_error(s, TFTP_ERR_UNDEFINED, "timeout");
		tftp_session_close(s, false, NULL);
		return;
	}
	if (s->received == 0 && s->use_oack) {
		uint8_t buf[512];
		size_t n = tftp_build_oack(buf, sizeof buf, &s->oack);
		(void)sendto(s->sock, buf, n, MSG_DONTWAIT, (struct sockaddr *)&s->peer, s->peer_len);
	} else {
		send_ack(s, s->received);
	}
	tftp_session_arm_timer(s, now + UPLOAD_REACK_US);
}
