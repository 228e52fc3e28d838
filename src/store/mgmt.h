/* Hosts and their tasks: what the imaging side keeps in the store.
 *
 * Used by the REST API from libmicrohttpd's threads, each through a store
 * connection of its own; every call is one statement (SQLite's own
 * transaction), so nothing here joins the DHCP server's batches.  Task
 * tokens are kept only as SHA-256 hashes. */
#ifndef PXED_STORE_MGMT_H
#define PXED_STORE_MGMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define STORE_MAC_TEXT 18               /* "aa:bb:cc:dd:ee:ff" + NUL */
#define STORE_TASK_LOG_MAX 4096
#define STORE_TASK_PARAMS_MAX 1024
#define STORE_TASK_OPTIONS_MAX 1024
#define STORE_TASK_REPORT_MAX (256u << 10)

struct store_host {
	char mac[STORE_MAC_TEXT];
	char name[64];
	char arch[24];
	char uuid[40];
	int64_t first_seen;
	int64_t last_seen;
	bool approved;
	char *inventory;                /* JSON text or NULL; malloc'd */
	char hostname[64];              /* given by deploys; "": the name */
};

/* local: boot the local disk once (done when its boot script is served).
 * diagnose: hardware tests by the agent; boot: a boot environment once
 * (done when its program has been served; docs/DIAGNOSTICS.md). */
enum task_type {
	TASK_DEPLOY, TASK_CAPTURE, TASK_SHELL, TASK_WIPE, TASK_LOCAL,
	TASK_DIAGNOSE, TASK_BOOT, TASK_SCAN, TASK_RESET_PASSWORD, TASK_RESTORE, TASK_TYPE_COUNT
};
/* What the machine does once its agent succeeded (pxed.after= on the
 * kernel command line): reboot, power off, or stay at a console shell. */
enum task_after { TASK_AFTER_REBOOT, TASK_AFTER_POWEROFF, TASK_AFTER_SHELL, TASK_AFTER_COUNT };
enum task_state {
	TASK_PENDING,                   /* waiting for the host to boot */
	TASK_BOOTING,                   /* boot script served, token issued */
	TASK_RUNNING,                   /* the agent fetched it */
	TASK_DONE, TASK_FAILED, TASK_CANCELLED, TASK_STATE_COUNT
};

#define STORE_ADDR_TEXT 48               /* an IPv4 or IPv6 address as text */

struct store_task {
	int64_t id;
	char mac[STORE_MAC_TEXT];
	enum task_type type;
	char image[72];
	enum task_state state;
	bool verify;
	int64_t created, started, finished;
	char phase[16];
	uint64_t bytes, total, rate, resume_offset;
	char message[256];
	char log_tail[STORE_TASK_LOG_MAX];
	char mcast[72];                 /* multicast session name, or "" */
	bool replace;                   /* a capture may replace an existing image */
	enum task_after after;
	char options[STORE_TASK_OPTIONS_MAX];   /* JSON object: the type's own */
	uint64_t files;                 /* a scan: files done so far */
	char params[STORE_TASK_PARAMS_MAX];     /* JSON object text, or "" */
	char token_addr[STORE_ADDR_TEXT];       /* its token's address, or "" */
};

/* What a new task is. */
struct store_task_spec {
	enum task_type type;
	const char *image;              /* deploy, capture; "" for the others */
	bool verify;
	bool replace;                   /* a capture may overwrite an existing image */
	const char *mcast;              /* multicast session name, or "" */
	enum task_after after;
	const char *options;            /* JSON object text; NULL or "": {} */
	const char *params;             /* JSON object text (api/diag.c), or NULL */
};

/* A task token as the store keeps it: the salt it is derived from (the
 * server's secret makes the token) and the SHA-256 of the token. */
#define STORE_TOKEN_LEN 32
struct store_token {
	uint8_t salt[STORE_TOKEN_LEN];
	uint8_t hash[STORE_TOKEN_LEN];
};

const char *task_type_name(enum task_type t);
int task_type_parse(const char *s);
const char *task_state_name(enum task_state s);
const char *task_after_name(enum task_after a);
int task_after_parse(const char *s);
bool task_state_active(enum task_state s);

/* Canonical MAC text (lower case, colons) from "AA-BB-..", "aabb.." or
 * "aa:bb:..".  0 or -EINVAL. */
int mac_text_canon(const char *in, char out[STORE_MAC_TEXT]);

/* A host seen booting: created (approved = auto_approve) or its last_seen,
 * arch and uuid updated.  Returns 1 when created, 0 when updated. */
int store_host_seen(struct store *st, const char *mac, const char *arch,
    const char *uuid, bool auto_approve, int64_t now);
/* Added by an administrator (approved).  -EEXIST when present: then the
 * name is updated and the host approved. */
int store_host_add(struct store *st, const char *mac, const char *name, int64_t now);
int store_host_approve(struct store *st, const char *mac, bool approved);
int store_host_get(struct store *st, const char *mac, struct store_host *out);
/* The MAC of the host called name (the lowest MAC if several are): 0 or
 * -ENOENT. */
int store_host_by_name(struct store *st, const char *name, char mac[STORE_MAC_TEXT]);
/* Up to max hosts with a MAC above after ("" from the first) and, unless q
 * is "", q in their MAC or name (case-insensitive), ordered by MAC;
 * returns the count or a negative errno. */
int store_host_list(struct store *st, const char *after, const char *q,
    struct store_host *out, size_t max);
/* How many hosts there are (matching q as above), or a negative errno. */
int64_t store_host_count(struct store *st, const char *q);
int store_host_remove(struct store *st, const char *mac);
int store_host_set_inventory(struct store *st, const char *mac, const char *json);
void store_host_free(struct store_host *h);

/* ---- host groups ----
 * A host belongs to any number of groups ("room1", "lab-b"); a group
 * exists while it has members, and removing a host removes its
 * memberships.  Names: 1-63 of [A-Za-z0-9._-], starting with a letter or
 * a digit. */
#define STORE_GROUP_NAME 64

struct store_group {
	char name[STORE_GROUP_NAME];
	unsigned members;
};

bool group_name_valid(const char *name);
/* Put the host into the group: 1 added, 0 a member already, -ENOENT no
 * such host, -EINVAL a bad name. */
int store_group_add(struct store *st, const char *group, const char *mac);
/* Is the host in the group?  1, 0, or -EIO. */
int store_group_has(struct store *st, const char *group, const char *mac);
/* Take the host out of the group: 0, or -ENOENT when it was not in it. */
int store_group_remove(struct store *st, const char *group, const char *mac);
/* Dissolve the group: the number of memberships removed, or -ENOENT. */
int store_group_delete(struct store *st, const char *group);
/* Up to max groups ordered by name, with their member counts; returns the
 * count or a negative errno. */
int store_group_list(struct store *st, struct store_group *out, size_t max);
/* Up to max members of the group (hosts, ordered by MAC; free each with
 * store_host_free); 0 for an unknown group, or a negative errno. */
int store_group_members(struct store *st, const char *group, struct store_host *out,
    size_t max);
/* Up to max groups the host belongs to (with their member counts),
 * ordered by name; returns the count or a negative errno. */
int store_host_groups(struct store *st, const char *mac, struct store_group *out,
    size_t max);

/* New pending task; -EBUSY when the host has an active one, -ENOENT when
 * the host is unknown.  Returns the id (> 0). */
int64_t store_task_add(struct store *st, const char *mac, const struct store_task_spec *spec,
    int64_t now);
int store_task_get(struct store *st, int64_t id, struct store_task *out);
/* The host's pending, booting or running task: 0, or -ENOENT. */
int store_task_active(struct store *st, const char *mac, struct store_task *out);
/* The task whose token hashes to hash, active or ended (a token
 * authorizes nothing once its task has ended; the caller checks). */
int store_task_by_token(struct store *st, const uint8_t hash[32], struct store_task *out);
/* Which tasks a list shows: each field "" (any) or the value it must
 * have; state "active": pending, booting or running. */
struct store_task_filter {
	const char *mac, *state, *type, *image;
};
/* Up to max tasks of the filter (NULL: all) with an id below before (0:
 * from the newest), newest first; the count or a negative errno. */
int store_task_list(struct store *st, int64_t before, const struct store_task_filter *f,
    struct store_task *out, size_t max);
/* How many tasks of the filter there are, or a negative errno. */
int64_t store_task_count(struct store *st, const struct store_task_filter *f);
/* The boot of an active task: its token is issued once and then kept for
 * the task's life.  When it has none yet, fresh is stored, the task goes to
 * booting (a running one stays running) and 1 is returned; otherwise the
 * token issued before is copied to out and 0 is returned (two fetches at
 * once agree on one token).  -ESRCH when the task is not active. */
/* Bind the task's token to addr when it is bound to none yet (the first
 * address wins, also between two requests at once): 0 when it is bound
 * to addr, -EPERM when to another (copied to bound), -ESRCH when the
 * task is not active, -EIO. */
int store_task_bind(struct store *st, int64_t id, const char *addr,
    char bound[STORE_ADDR_TEXT]);
int store_task_boot(struct store *st, int64_t id, const struct store_token *fresh,
    struct store_token *out);
/* booting -> running (the agent asked for its task). */
int store_task_start(struct store *st, int64_t id, int64_t now);
/* Progress of a running task; -ESRCH when it is no longer running. */
int store_task_progress(struct store *st, int64_t id, const char *phase, uint64_t bytes,
    uint64_t total, uint64_t rate, uint64_t resume_offset);
/* The same with the files a scan has done so far. */
int store_task_progress_files(struct store *st, int64_t id, const char *phase,
    uint64_t bytes, uint64_t total, uint64_t rate, uint64_t resume_offset, uint64_t files);
/* End: done or failed (from running/booting), cancelled (from any active
 * state); -ESRCH when the task had ended already.  The token's hash is
 * kept, so that its agent is told why (see store_task_by_token). */
int store_task_finish(struct store *st, int64_t id, enum task_state state,
    const char *message, const char *log_tail, int64_t now);
/* A task no agent runs (local) is done when its boot script is served:
 * pending -> done.  0, or -ESRCH when it was not pending (a concurrent
 * fetch ended it). */
int store_task_served(struct store *st, int64_t id, const char *message, int64_t now);

/* The report a task's agent sent with its result (JSON text: findings of
 * a scan, accounts of a password task), kept as given (the API checked
 * and bounded it).  0 or -ENOENT. */
int store_task_set_report(struct store *st, int64_t id, const char *json);
/* The task's report, malloc'd in *out (NULL when it has none).  0,
 * -ENOENT (no such task) or -ENOMEM. */
int store_task_report(struct store *st, int64_t id, char **out);
/* The hostname deploys give the host ("": its name). 0 or -ENOENT. */
int store_host_set_hostname(struct store *st, const char *mac, const char *hostname);

#endif
