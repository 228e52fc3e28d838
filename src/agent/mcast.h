/* The receiving side of a multicast deploy session (docs/MULTICAST.md). */
#ifndef PXED_AGENT_MCAST_H
#define PXED_AGENT_MCAST_H

#include <pthread.h>

#include "agent/agent.h"
#include "agent/resume.h"
#include "image/manifest.h"

/* Join the task's session and write every chunk it delivers (each checked
 * against the manifest's SHA-256 before it is written), marking them in
 * r under lock.  Returns 0 when it stopped: all chunks written, the
 * session over, the sender silent for 10 s, or this machine too slow for
 * the session (it says so and leaves); what is missing is then fetched
 * over HTTP by the caller.  -EIO on a disk error (recorded). */
int mcast_receive(struct agent *ag, const struct manifest *m, struct resume *r,
    pthread_mutex_t *lock, struct progress *p);

#endif
