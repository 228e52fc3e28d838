/* A multicast deploy session on the server: one image sent to a group
 * of receivers by a thread of its own (the engine decides, this file does
 * the sockets, the chunk files and the start conditions).
 *
 * The session waits until min_receivers have joined (their agents fetched
 * their tasks), or start_after_s has passed since the first join, or it is
 * told to start now; then it sends (engine.h) until done.  Receivers learn
 * the group, port, session id and their own id from their task, and send
 * STATUS to the session's control port. */
#ifndef PXED_MCAST_SESSION_H
#define PXED_MCAST_SESSION_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/manifest.h"
#include "image/repo.h"
#include "mcast/engine.h"

#define MCAST_NAME_MAX 64

enum mcast_session_state {
	MCAST_WAITING, MCAST_SENDING, MCAST_FINISHED, MCAST_CANCELLED, MCAST_FAILED,
};

struct mcast_session;

struct mcast_session_config {
	char name[MCAST_NAME_MAX + 1];
	char image[IMAGE_NAME_MAX + 1];
	const struct image_repo *repo;  /* outlives the session */
	struct in_addr group;
	uint16_t port;                  /* data port on the group */
	unsigned ttl;
	uint64_t rate_max, rate_min;    /* payload bytes per second */
	uint32_t slice;
	unsigned min_receivers;
	unsigned hosts;                 /* machines the session is for */
	unsigned start_after_s;         /* after the first join; also how long a
	                                 * started session waits for missing hosts */
	unsigned fec_k, fec_m;          /* forward error correction; 0, 0: off */
	/* called on the session's thread when it starts sending, about once a
	 * second while it sends, and when it ends (NULL: none); it may read
	 * the session (mcast_session_info) */
	void (*on_change)(struct mcast_session *s, void *arg);
	void *on_change_arg;
};

struct mcast_rx_public {
	uint64_t id;
	uint32_t done, total;
	const char *state;              /* "receiving", "complete", "leaving", "gone", "waiting" */
};

struct mcast_session_info {
	enum mcast_session_state state;
	char error[128];
	uint64_t session_id;
	uint16_t control_port;
	uint16_t pass;
	uint64_t rate;                  /* bytes per second now */
	uint64_t bytes_sent;            /* payload, data and parity */
	uint64_t parity_sent;           /* parity pieces */
	uint32_t chunks;
	uint64_t image_bytes;           /* compressed bytes of one pass */
	size_t nrx;
	struct mcast_rx_public rx[MCAST_RECEIVERS_MAX];
	int64_t created, started, finished;
};

struct mcast_session;

/* Load the image's chunk sizes, open the control socket, start the
 * thread (waiting).  0 or a negative errno with a reason in err. */
int mcast_session_create(struct mcast_session **out, const struct mcast_session_config *cfg,
    char *err, size_t errlen);
/* A receiver joins (its agent fetched its task); local is the server's
 * address the agent reached (the interface to send on), host names the
 * machine (its task).  One receiver per machine: an agent started again
 * joins again for the same host and gets a new id, and the old id is
 * revoked (the engine ignores its packets).  Returns its id (never 0), or
 * 0 when the session no longer takes receivers. */
uint64_t mcast_session_join(struct mcast_session *s, struct in_addr local, uint64_t host);
/* The machine host will not take part (its task ended): its receiver id is
 * revoked and the session no longer waits for it. */
void mcast_session_leave(struct mcast_session *s, uint64_t host);
void mcast_session_start_now(struct mcast_session *s);
void mcast_session_cancel(struct mcast_session *s);
/* Stop the thread and free.  NULL is allowed. */
void mcast_session_destroy(struct mcast_session *s);
void mcast_session_info(struct mcast_session *s, struct mcast_session_info *out);
const char *mcast_session_state_name(enum mcast_session_state st);
const struct mcast_session_config *mcast_session_config(const struct mcast_session *s);
/* The compressed size of each chunk's frame (receivers check DATA against
 * them); *n gets the count.  Valid as long as the session. */
const uint32_t *mcast_session_frames(const struct mcast_session *s, uint32_t *n);

#endif
