/* The TFTP transfers in flight as the API sees them: a copy made on the
 * loop when the API asks through the board (dhcp/board.h), and the
 * progress marks behind each transfer's rate, noted by a once-a-second
 * timer of the daemon.  Nothing here runs on the send path. */
#include "tftp/snapshot.h"
#include "tftp/internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

/* Bytes the client acknowledged (a download) or sent us (an upload). */
static uint64_t
session_bytes(const struct tftp_session *s)
{
	if (s->kind == SESSION_WRITE)
		return s->bytes;
	uint64_t b = s->xfer.acked * s->xfer.p.blksize;
	return s->xfer.p.size_known ? MIN(b, s->xfer.p.size) : b;
}

static uint64_t
session_total(const struct tftp_session *s)
{
	if (s->kind == SESSION_WRITE)
		return (s->oack.present & TFTP_OPT_TSIZE) ? s->oack.tsize : 0;
	return s->xfer.p.size_known ? s->xfer.p.size : 0;
}

void
tftp_server_sample(struct tftp_server *srv)
{
	uint64_t now = clock_now_us();

	if (srv == NULL)
		return;
	for (struct tftp_session *s = srv->sessions; s != NULL; s = s->next) {
		if (s->mark_us[0] == 0) {       /* first mark: the start */
			s->mark_us[0] = s->started_us;
			s->mark_bytes[0] = 0;
		}
		s->mark_us[1] = s->mark_us[0];
		s->mark_bytes[1] = s->mark_bytes[0];
		s->mark_us[0] = now;
		s->mark_bytes[0] = session_bytes(s);
	}
}

/* bytes/s since the older mark (1 to 2 s ago), or since the start. */
static uint64_t
session_rate(const struct tftp_session *s, uint64_t bytes, uint64_t now)
{
	uint64_t from_us = s->mark_us[1] != 0 ? s->mark_us[1] : s->started_us;
	uint64_t from_bytes = s->mark_us[1] != 0 ? s->mark_bytes[1] : 0;

	if (now <= from_us || bytes < from_bytes)
		return 0;
	return (bytes - from_bytes) * 1000000u / (now - from_us);
}

struct tftp_transfers *
tftp_server_transfers(const struct tftp_server *srv, size_t max, size_t *len)
{
	size_t n = srv != NULL ? MIN(srv->session_count, max) : 0;
	struct tftp_transfers *t = calloc(1, sizeof *t + n * sizeof t->item[0]);
	uint64_t now = clock_now_us();
	struct timespec real;

	if (t == NULL)
		return NULL;
	*len = sizeof *t + n * sizeof t->item[0];
	clock_gettime(CLOCK_REALTIME, &real);
	int64_t real_ms = (int64_t)real.tv_sec * 1000 + real.tv_nsec / 1000000;
	for (const struct tftp_session *s = srv != NULL ? srv->sessions : NULL; s != NULL;
	    s = s->next) {
		if (s->closing || s->lingering)
			continue;
		if (t->count == n) {
			t->more++;
			continue;
		}
		struct tftp_transfer_view *v = &t->item[t->count++];
		v->peer = s->peer;
		str_copy(v->file, s->path, sizeof v->file);
		v->upload = s->kind == SESSION_WRITE;
		v->bytes = session_bytes(s);
		v->total = session_total(s);
		v->rate = session_rate(s, v->bytes, now);
		v->started_ms = real_ms - (int64_t)((now - s->started_us) / 1000);
	}
	return t;
}
