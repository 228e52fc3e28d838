/* A task's token bound to an address (task-token-bind, schema 14).
 *
 * Anyone who can reach pxed can fetch any MAC's boot script, and a task's
 * script carries its token.  So the token is bound to the first address
 * that fetched the script (or, for a token issued before binding existed,
 * that used it); a script or an agent request for the task from any other
 * address is answered 403 without the token, logged (at most once per task
 * every 10 s: a flood makes no flood of lines) and written into the
 * machine's boot timeline as task-token-refused.  docs/IMAGING.md, "Task
 * tokens", says what this stops and what it does not. */
#include "api/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include "core/log.h"
#include "core/stats.h"
#include "core/util.h"

#define REFUSAL_LOG_US 10000000u        /* per task, at most */
#define REFUSALS_KEPT 64                /* tasks whose last refusal is kept */

static pthread_mutex_t refusals_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int64_t task;
	uint64_t at_us;
	uint64_t count;                 /* refused since the last line */
} refusals[REFUSALS_KEPT];

void
api_peer_address(const char *peer, char *out, size_t size)
{
	const char *end;

	if (peer[0] == '[') {
		end = strchr(peer, ']');
		peer++;
	} else {
		end = strrchr(peer, ':');
	}
	if (end == NULL)
		end = peer + strlen(peer);
	snprintf(out, size, "%.*s", (int)(end - peer), peer);
}

/* Log this refusal unless one of the same task was within REFUSAL_LOG_US:
 * true with the refusals counted since (this one included) in *count. */
static bool
refusal_to_log(int64_t task, uint64_t *count)
{
	uint64_t now = clock_now_us();
	size_t slot = 0;
	bool log_it;

	pthread_mutex_lock(&refusals_lock);
	for (size_t i = 0; i < REFUSALS_KEPT; i++) {
		if (refusals[i].task == task) {
			slot = i;
			break;
		}
		if (refusals[i].at_us < refusals[slot].at_us)
			slot = i;               /* else the oldest is reused */
	}
	if (refusals[slot].task != task) {
		refusals[slot].task = task;
		refusals[slot].at_us = 0;
		refusals[slot].count = 0;
	}
	refusals[slot].count++;
	log_it = refusals[slot].at_us == 0 || now - refusals[slot].at_us >= REFUSAL_LOG_US;
	if (log_it) {
		*count = refusals[slot].count;
		refusals[slot].count = 0;
		refusals[slot].at_us = now;
	}
	pthread_mutex_unlock(&refusals_lock);
	return log_it;
}

int
api_task_token_bind(struct api_call *c, const struct store_task *t, const char *what)
{
	char addr[STORE_ADDR_TEXT], bound[STORE_ADDR_TEXT] = "";
	uint64_t count = 0;
	int rc;

	if (!c->api->cfg.task_token_bind)
		return 0;
	api_peer_address(c->peer, addr, sizeof addr);
	rc = store_task_bind(c->st, t->id, addr, bound);
	if (rc == 0)
		return 0;
	if (rc == -ESRCH)
		return rc;              /* ended a moment ago: the caller answers */
	if (rc != -EPERM) {
		api_reply_error(c->rs, 503, "state store unavailable");
		return rc;
	}
	STATS_ADD(api_task_tokens_refused, 1);
	if (refusal_to_log(t->id, &count)) {
		log_warn_peer(c->peer, t->mac,
		    "api: %s: %s of task %" PRId64 " (host %s) from %s, its token is bound to"
		    " %s: refused (403; %" PRIu64 " refused since the last such line)", c->peer,
		    what, t->id, t->mac, addr, bound, count);
		api_event(c->st, t->mac, "task-token-refused", "task %" PRId64 ": %s from %s"
		    " (bound to %s)", t->id, what, addr, bound);
	}
	api_reply_error(c->rs, 403, "task %" PRId64 "'s token is bound to another address",
	    t->id);
	return -EPERM;
}
