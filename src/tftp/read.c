/* Starting a read transfer (RRQ): resolve the file, negotiate, go. */
#include "tftp/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "tftp/negotiate.h"

/* Map a files_* error to the TFTP error a client should see. */
static enum tftp_error_code
file_error_code(int err, const char **msg)
{
	switch (err) {
	case -ENOENT:
		*msg = "file not found";
		return TFTP_ERR_NOT_FOUND;
	case -EISDIR:
	case -EINVAL:
		*msg = "not a regular file";
		return TFTP_ERR_NOT_FOUND;
	case -ENAMETOOLONG:
		*msg = "file name too long";
		return TFTP_ERR_ACCESS;
	case -EMFILE:
	case -ENFILE:
	case -ENOMEM:
		*msg = "server out of resources";
		return TFTP_ERR_UNDEFINED;
	default:
		*msg = "access violation";
		return TFTP_ERR_ACCESS;
	}
}

void
tftp_limits_from_config(const struct config *cfg, unsigned mtu, int family,
    struct tftp_limits *lim)
{
	lim->blksize_max = cfg->tftp_blksize_max;
	lim->mtu_blksize = tftp_mtu_blksize(mtu, family);
	lim->allow_fragments = cfg->tftp_allow_fragments;
	lim->window_max = cfg->tftp_window_max;
	lim->rollover = cfg->tftp_rollover;
	lim->min_rto_us = (uint64_t)cfg->tftp_min_rto_ms * 1000u;
	lim->max_rto_us = (uint64_t)cfg->tftp_max_rto_ms * 1000u;
	lim->idle_timeout_us = (uint64_t)cfg->tftp_session_timeout * 1000000u;
}

/* Resolve and open the file; on failure answer the client and log. */
static int
open_file(struct tftp_session *s, const struct tftp_request *req, struct stat *st)
{
	const struct files_root *root = s->server->tcfg.root;
	char name[256], resolved[FILES_PATH_MAX];
	const char *msg;
	int fd;

	log_printable(req->filename, req->filename_len, name, sizeof name);
	fd = files_path_normalize(req->filename, req->filename_len, root->path,
	    s->path, sizeof s->path);
	if (fd == 0)
		fd = files_open_read(root, s->path, st, resolved);
	if (fd < 0) {
		enum tftp_error_code code = file_error_code(fd, &msg);
		if (code == TFTP_ERR_ACCESS)
			log_warn_peer(s->peer_text, NULL,
			    "tftp %s: RRQ %s refused: %s (%s)", s->peer_text, name, msg,
			    strerror(-fd));
		else
			log_info_peer(s->peer_text, NULL,
			    "tftp %s: RRQ %s: %s", s->peer_text, name, msg);
		tftp_session_send_error(s, code, msg);
		tftp_observe(s, "tftp-failed", "%s: %s", name, msg);
		return fd;
	}
	str_copy(s->path, resolved, sizeof s->path);
	return fd;
}

int
tftp_session_start_read(struct tftp_server *srv, const struct tftp_request *req,
    const struct sockaddr_storage *peer, socklen_t peer_len,
    const struct sockaddr_storage *local, unsigned mtu)
{
	struct tftp_limits lim;
	struct tftp_transfer_params params;
	struct tftp_action act;
	struct stat st;
	int sock = tftp_session_socket(local);

	if (sock < 0)
		return sock;
	struct tftp_session *s = tftp_session_new(srv, sock, peer, peer_len, SESSION_READ);
	if (s == NULL) {
		close(sock);
		return -ENOMEM;
	}
	s->asked = req->present;
	if (req->option_error != NULL) {
		log_info_peer(s->peer_text, NULL,
		    "tftp %s: RRQ refused: option %s out of range", s->peer_text,
		    req->option_error);
		tftp_session_send_error(s, TFTP_ERR_OPTION, "option negotiation refused");
		tftp_session_close(s, false, NULL);
		return 0;
	}
	s->fd = open_file(s, req, &st);
	if (s->fd < 0) {
		tftp_session_close(s, false, NULL);
		return 0;
	}
	(void)posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	s->mode = req->mode;
	tftp_limits_from_config(&srv->cfg, mtu, peer->ss_family, &lim);
	s->use_oack = tftp_negotiate(req, &lim, (uint64_t)st.st_size, &s->oack, &params);
	log_info_peer(s->peer_text, NULL,
	    "tftp %s: RRQ %s %s (%" PRIu64 " bytes) blksize %u window %u%s",
	    s->peer_text, s->path, req->mode == TFTP_MODE_OCTET ? "octet" : "netascii",
	    (uint64_t)st.st_size, params.blksize, params.windowsize,
	    (req->present & TFTP_OPT_TSIZE) ? " tsize" : "");
	tftp_observe(s, "tftp-start", "%s %" PRIu64 " bytes, blksize %u, window %u", s->path,
	    (uint64_t)st.st_size, params.blksize, params.windowsize);
	if (req->mode == TFTP_MODE_NETASCII) {
		s->ascii_block = malloc(params.blksize);
		if (s->ascii_block == NULL) {
			tftp_session_close(s, false, "out of memory");
			return -ENOMEM;
		}
	}
	tftp_transfer_start(&s->xfer, &params, clock_now_us(), &act);
	tftp_session_do(s, &act);
	return 0;
}
