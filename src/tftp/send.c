/* The sending fast path.
 *
 * A batch of up to TFTP_BATCH_BLOCKS blocks is laid out in the server's
 * scratch buffer as ready packets [hdr|data][hdr|data]...; one preadv2()
 * scatters the file data into place, one sendmmsg() sends it as UDP GSO
 * messages (one message carries up to 64 equal segments, the kernel cuts
 * them into datagrams).  No per-block system call.
 *
 * The read uses RWF_NOWAIT: it only succeeds from the page cache, so the
 * loop never waits for a disk.  On a miss the range is read in the libuv
 * thread pool (pulling it into the cache) and the send is tried again. */
#include "tftp/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#define GSO_MAX_SEGMENTS 64
#define GSO_MAX_BYTES 65000
#define READ_RETRIES_BEFORE_BLOCKING 3

int
tftp_send_oack(struct tftp_session *s)
{
	uint8_t buf[512];
	size_t n = tftp_build_oack(buf, sizeof buf, &s->oack);

	if (n == 0)
		return -EMSGSIZE;
	if (sendto(s->sock, buf, n, MSG_DONTWAIT, (struct sockaddr *)&s->peer, s->peer_len) < 0 &&
	    errno != EAGAIN && errno != ENOBUFS)
		return -errno;
	tftp_transfer_oack_sent(&s->xfer, clock_now_us());
	tftp_session_arm_timer(s, s->xfer.deadline_us);
	return 0;
}

/* ---- reading into the cache off the loop ---- */

struct prefetch {
	uv_work_t work;
	struct tftp_session *session;
	int fd;
	uint64_t offset, length;
};

static void
prefetch_work(uv_work_t *w)
{
	struct prefetch *pf = w->data;
	static _Thread_local uint8_t sink[1 << 16];
	uint64_t off = pf->offset, end = pf->offset + pf->length;

	(void)posix_fadvise(pf->fd, (off_t)off, (off_t)pf->length, POSIX_FADV_WILLNEED);
	while (off < end) {
		ssize_t n = pread(pf->fd, sink, (size_t)MIN((uint64_t)sizeof sink, end - off),
		    (off_t)off);
		if (n <= 0)
			break;
		off += (uint64_t)n;
	}
}

static void
prefetch_done(uv_work_t *w, int status)
{
	struct prefetch *pf = w->data;
	struct tftp_session *s = pf->session;

	(void)status;
	close(pf->fd);
	free(pf);
	s->read_pending = false;
	if (s->closing) {
		if (s->handles_open == 0) {
			free(s->ascii_block);
			free(s);
		}
		return;
	}
	tftp_send_continue(s);
}

static void
prefetch_start(struct tftp_session *s, uint64_t offset, uint64_t length)
{
	struct prefetch *pf = calloc(1, sizeof *pf);

	if (pf != NULL)
		pf->fd = dup(s->fd);
	if (pf == NULL || pf->fd < 0) {
		free(pf);
		tftp_session_send_error(s, TFTP_ERR_UNDEFINED, "server out of resources");
		tftp_session_close(s, false, "cannot read ahead");
		return;
	}
	pf->work.data = pf;
	pf->session = s;
	pf->offset = offset;
	pf->length = length;
	s->read_pending = true;
	s->read_retries++;
	log_debug_peer(s->peer_text, NULL,
	    "tftp %s: %s: reading %" PRIu64 " bytes at %" PRIu64 " off the loop",
	    s->peer_text, s->path, length, offset);
	uv_queue_work(s->server->loop, &pf->work, prefetch_work, prefetch_done);
}

/* Read from the page cache, or (after repeated misses) block. */
static ssize_t
read_blocks(struct tftp_session *s, struct iovec *iov, int iovcnt, uint64_t offset)
{
	int flags = s->read_retries < READ_RETRIES_BEFORE_BLOCKING ? RWF_NOWAIT : 0;
	ssize_t n = preadv2(s->fd, iov, iovcnt, (off_t)offset, flags);

	if (n < 0 && errno == EOPNOTSUPP && flags != 0)
		n = preadv2(s->fd, iov, iovcnt, (off_t)offset, 0);
	return n < 0 ? -errno : n;
}

/* ---- octet ---- */

struct batch {
	uint64_t first;
	uint32_t count;
	uint32_t seg;                   /* bytes per full packet: hdr + blksize */
	size_t bytes;                   /* total packet bytes laid out */
};

/* Lay out headers and read data for blocks [first, first+count). */
static int
batch_fill(struct tftp_session *s, struct batch *b)
{
	struct iovec iov[TFTP_BATCH_BLOCKS];
	int iovcnt = 0;
	uint64_t want = 0;
	uint8_t *p = s->server->scratch;

	b->seg = s->xfer.p.blksize + TFTP_HEADER_SIZE;
	b->bytes = 0;
	for (uint32_t i = 0; i < b->count; i++) {
		uint64_t index = b->first + i;
		uint32_t len = tftp_transfer_block_len(&s->xfer, index);
		tftp_build_data_header(p + b->bytes, TFTP_HEADER_SIZE,
		    tftp_transfer_wire(&s->xfer, index));
		if (len > 0) {
			iov[iovcnt].iov_base = p + b->bytes + TFTP_HEADER_SIZE;
			iov[iovcnt].iov_len = len;
			iovcnt++;
		}
		want += len;
		b->bytes += TFTP_HEADER_SIZE + len;
	}
	if (want == 0)
		return 0;
	ssize_t n = read_blocks(s, iov, iovcnt, tftp_transfer_offset(&s->xfer, b->first));
	if (n == (ssize_t)want)
		return 0;
	if ((n == -EAGAIN || (n >= 0 && s->read_retries < READ_RETRIES_BEFORE_BLOCKING)))
		return -EAGAIN;
	return n < 0 ? (int)n : -EIO;   /* the file shrank under us */
}

/* Send the laid-out batch; returns blocks sent (maybe fewer) or -errno. */
static int
batch_send(struct tftp_session *s, const struct batch *b)
{
	struct mmsghdr msgs[TFTP_BATCH_BLOCKS];
	struct iovec iov[TFTP_BATCH_BLOCKS];
	union { char buf[CMSG_SPACE(sizeof(uint16_t))]; struct cmsghdr align; }
	    ctl[TFTP_BATCH_BLOCKS];
	uint32_t per_msg = 1, nmsg = 0, blocks_in[TFTP_BATCH_BLOCKS];
	uint8_t *p = s->server->scratch;
	size_t off = 0;

	if (!s->gso_off && b->count > 1)
		per_msg = MIN((uint32_t)GSO_MAX_SEGMENTS, (uint32_t)(GSO_MAX_BYTES / b->seg));
	if (per_msg == 0)
		per_msg = 1;
	memset(msgs, 0, sizeof msgs[0] * TFTP_BATCH_BLOCKS);
	for (uint32_t done = 0; done < b->count; nmsg++) {
		uint32_t k = MIN(per_msg, b->count - done);
		size_t len = (size_t)k * b->seg;
		if (off + len > b->bytes)
			len = b->bytes - off;
		iov[nmsg].iov_base = p + off;
		iov[nmsg].iov_len = len;
		struct msghdr *m = &msgs[nmsg].msg_hdr;
		m->msg_name = &s->peer;
		m->msg_namelen = s->peer_len;
		m->msg_iov = &iov[nmsg];
		m->msg_iovlen = 1;
		if (k > 1) {
			m->msg_control = ctl[nmsg].buf;
			m->msg_controllen = sizeof ctl[nmsg].buf;
			struct cmsghdr *c = CMSG_FIRSTHDR(m);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			uint16_t gso = (uint16_t)b->seg;
			memcpy(CMSG_DATA(c), &gso, sizeof gso);
		}
		blocks_in[nmsg] = k;
		off += len;
		done += k;
	}
	int r = sendmmsg(s->sock, msgs, nmsg, MSG_DONTWAIT);
	if (r < 0)
		return -errno;
	int sent = 0;
	for (int i = 0; i < r; i++)
		sent += (int)blocks_in[i];
	return sent;
}

static void
octet_continue(struct tftp_session *s)
{
	while (s->send_next < s->send_end && !s->closing) {
		struct batch b = {
			.first = s->send_next,
			.count = (uint32_t)MIN((uint64_t)TFTP_BATCH_BLOCKS, s->send_end - s->send_next),
		};
		int rc = batch_fill(s, &b);
		if (rc == -EAGAIN) {
			prefetch_start(s, tftp_transfer_offset(&s->xfer, b.first),
			    (uint64_t)b.count * s->xfer.p.blksize);
			return;
		}
		if (rc < 0) {
			log_warn_peer(s->peer_text, NULL,
			    "tftp %s: %s: read failed: %s", s->peer_text, s->path, strerror(-rc));
			tftp_session_send_error(s, TFTP_ERR_UNDEFINED, "read error");
			tftp_session_close(s, false, "read error");
			return;
		}
		s->read_retries = 0;
		int sent = batch_send(s, &b);
		if (sent < 0 && (sent == -EIO || sent == -EINVAL) && !s->gso_off && b.count > 1) {
			log_debug_peer(s->peer_text, NULL,
			    "tftp %s: UDP GSO refused (%s), sending datagrams one by one",
			    s->peer_text, strerror(-sent));
			s->gso_off = true;
			continue;
		}
		if (sent < 0 && sent != -EAGAIN && sent != -ENOBUFS) {
			tftp_session_close(s, false, strerror(-sent));
			return;
		}
		if (sent > 0) {
			uint64_t bytes = 0;
			for (int i = 0; i < sent; i++)
				bytes += tftp_transfer_block_len(&s->xfer, b.first + (uint64_t)i);
			STATS_ADD(tftp_bytes_sent, bytes);
			tftp_transfer_sent(&s->xfer, b.first, (uint32_t)sent, clock_now_us());
			s->send_next += (uint64_t)sent;
		}
		if (sent < (int)b.count) {
			s->want_writable = true;
			tftp_session_poll(s);
			break;
		}
	}
	tftp_session_arm_timer(s, s->xfer.deadline_us);
}

/* ---- netascii: lock-step, one block at a time, encoded on the fly ---- */

static int
ascii_produce(struct tftp_session *s, uint64_t index)
{
	uint32_t bs = s->xfer.p.blksize;
	uint8_t raw[TFTP_BLKSIZE_MAX];
	struct iovec iov = { raw, bs };
	size_t used;

	/* index follows the block last produced: continue from its end */
	s->enc = s->enc_next;
	s->in_off = s->in_off_next;
	ssize_t n = read_blocks(s, &iov, 1, s->in_off);
	if (n < 0)
		return (int)n;
	/* a short read before the end of the file is a partial cache hit */
	if ((uint64_t)n < bs && s->in_off + (uint64_t)n < s->xfer.p.size &&
	    s->read_retries < READ_RETRIES_BEFORE_BLOCKING)
		return -EAGAIN;
	s->ascii_len = netascii_encode(&s->enc_next, raw, (size_t)n, &used, s->ascii_block, bs);
	s->in_off_next = s->in_off + used;
	s->ascii_index = index;
	if (s->ascii_len < bs)
		tftp_transfer_set_last(&s->xfer, index);
	return 0;
}

static void
ascii_continue(struct tftp_session *s)
{
	uint64_t index = s->send_next;
	uint8_t pkt[TFTP_PACKET_MAX];

	if (index >= s->send_end)
		return;
	if (index != s->ascii_index) {
		int rc = ascii_produce(s, index);
		if (rc == -EAGAIN) {
			prefetch_start(s, s->in_off_next, s->xfer.p.blksize);
			return;
		}
		if (rc < 0) {
			tftp_session_close(s, false, "read error");
			return;
		}
	}
	s->read_retries = 0;
	tftp_build_data_header(pkt, sizeof pkt, tftp_transfer_wire(&s->xfer, index));
	memcpy(pkt + TFTP_HEADER_SIZE, s->ascii_block, s->ascii_len);
	if (sendto(s->sock, pkt, TFTP_HEADER_SIZE + s->ascii_len, MSG_DONTWAIT,
	    (struct sockaddr *)&s->peer, s->peer_len) >= 0)
		STATS_ADD(tftp_bytes_sent, s->ascii_len);
	tftp_transfer_sent(&s->xfer, index, 1, clock_now_us());
	s->send_next = index + 1;
	tftp_session_arm_timer(s, s->xfer.deadline_us);
}

void
tftp_send_continue(struct tftp_session *s)
{
	if (s->closing || s->read_pending || s->want_writable)
		return;
	if (s->mode == TFTP_MODE_NETASCII)
		ascii_continue(s);
	else
		octet_continue(s);
}
