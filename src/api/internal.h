/* Shared by the API's files: the route table, the call, replies.
 *
 * Each resource file (hosts.c, tasks.c, groups.c, images.c, mcast.c,
 * agent.c, boot.c, clients.c, status.c, subnets.c, leases.c, events.c,
 * tokens.c, config.c, transfers.c, stats.c) declares its routes in a table
 * next to its handlers; router.c matches a request against every table,
 * checks the route's credentials and body limit before the body is read,
 * and calls the handler with the whole call. */
#ifndef PXED_API_INTERNAL_H
#define PXED_API_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "api/api.h"
#include "mcast/session.h"
#include "store/images.h"
#include "store/mgmt.h"
#include "store/store.h"
#include "store/tokens.h"

#define TOKEN_BYTES 32
#define TOKEN_HEX (2 * TOKEN_BYTES)
#define API_MCAST_MAX 32            /* sessions kept (finished ones too) */
#define API_TARGETS_MAX 256         /* hosts one call acts on */
#define API_ARG_MAX 160             /* bytes of one {…} path segment */
#define API_ARGS_MAX 2              /* {…} segments in one route */
#define API_PAGE_MAX 1000           /* items in one page of a list */
#define API_PAGE_DEFAULT 500
#define API_REGISTER_BUCKETS 1024       /* subnets registering hosts, tracked */

struct api {
	struct api_config cfg;
	struct image_repo repo;
	uint8_t admin_hash[32];         /* SHA-256 of the API token */
	char state[1024];               /* the state store (store_open's where) */
	char server_name[STORE_SERVER_NAME_MAX];        /* server-name: set before threads */
	char bootenv_url[512];
	char bootenv_args[512];
	uint64_t started_us;            /* api_open(), for the uptime */
	pthread_mutex_t mcast_lock;     /* guards the sessions table */
	pthread_mutex_t repo_lock;      /* publish, image removal, chunk collection,
	                                 * the creation of capture tasks and their
	                                 * end (images.c) */
	struct mcast_session *mcast[API_MCAST_MAX];
	unsigned mcast_seq;             /* sessions created: picks the group */
	pthread_mutex_t register_lock;  /* the registration buckets below */
	/* boot-script registrations allowed now, per subnet of the fetching
	 * address (a /24; IPv6 shares one), the least recently used replaced */
	struct register_bucket {
		uint32_t net;           /* the /24, host order; 0: IPv6 */
		double tokens;
		uint64_t at_us;         /* when last filled */
	} register_bucket[API_REGISTER_BUCKETS];
	size_t register_buckets;
	uint64_t register_refused;      /* registrations refused (rate or cap) */
	uint64_t register_logged_us;    /* last refusal logged */
	struct api_envs *envs;          /* boot environments (envs.c) */
	int clamav_dirfd;               /* clamav-db-dir, O_PATH; -1: none */
	pthread_rwlock_t sources_lock;  /* guards sources (chunk_sources.c) */
	struct api_chunk_sources *sources;      /* chunk sources by subnet */
};

/* Who may call a route. */
enum api_auth {
	API_OPEN,                       /* anyone: boot scripts */
	API_COUNTERS,                   /* status and metrics: open, or read (metrics-auth) */
	API_READ,                       /* reads: a token of the read or admin scope */
	API_ADMIN,                      /* changes: a token of the admin scope */
	API_TASK,                       /* the agent: its task's token */
};

struct api_call;
typedef void api_handler(struct api_call *c);

/* A route that takes its body as it arrives (the manifest upload). */
struct api_stream_ops {
	int (*begin)(struct api_call *c);       /* 0, or -errno with c->rs made */
	int (*feed)(struct api_call *c, const char *data, size_t len);  /* likewise */
	void (*abort)(struct api_call *c);      /* the call ends unanswered */
};

struct api_route {
	const char *method;             /* "GET" (HEAD too), "POST", "PUT", "DELETE" */
	const char *path;               /* "api/v1/hosts/{host}/approve"; {x*}: the rest */
	enum api_auth auth;
	unsigned task_types;            /* API_TASK: 1 << type allowed (0: any) */
	bool running;                   /* API_TASK: the agent has fetched the task */
	size_t body_max;                /* bytes of body taken (0: none) */
	unsigned json_max;              /* values a JSON body may hold (0: not JSON) */
	api_handler *handler;
	const struct api_stream_ops *stream;
	const char *summary;            /* one line, for the API document */
	/* the statuses the handler answers, "200 404"; those of the checks
	 * before it (401, 403, 409 of a task, 413, 400 of a JSON body) and
	 * 5XX are added by the API document (openapi.c) */
	const char *statuses;
	const char *query;              /* its query arguments, "limit after q" */
	/* answers when this thread cannot open the state store (c->st NULL;
	 * else such a request is refused with 503) */
	bool no_store;
};

#define API_TASK_TYPE(t) (1u << (t))

/* Every resource's table, NULL-method terminated (router.c lists them). */
extern const struct api_route api_hosts_routes[];
extern const struct api_route api_tasks_routes[];
extern const struct api_route api_groups_routes[];
extern const struct api_route api_images_routes[];
extern const struct api_route api_mcast_routes[];
extern const struct api_route api_agent_routes[];
extern const struct api_route api_boot_routes[];
extern const struct api_route api_clients_routes[];
extern const struct api_route api_status_routes[];
extern const struct api_route api_scan_routes[];
extern const struct api_route api_tokens_routes[];
extern const struct api_route api_subnets_routes[];
extern const struct api_route api_events_routes[];
extern const struct api_route api_leases_routes[];
extern const struct api_route api_openapi_routes[];
extern const struct api_route api_config_routes[];
extern const struct api_route api_transfers_routes[];
extern const struct api_route api_stats_routes[];
extern const struct api_route api_envs_routes[];        /* api/diag.h */
extern const struct api_route api_diag_routes[];
extern const struct api_route api_wake_routes[];

/* openapi.c: every status r may answer (its handler's and those of the
 * router's checks), sorted, into out; the count. */
size_t api_route_all_statuses(const struct api_route *r, unsigned *out, size_t max);
/* router.c: every table, for the API document: count, and the tables. */
extern const struct api_route *const api_route_tables[];
extern const size_t api_route_table_count;

/* One request from admission to its end. */
struct api_call {
	struct api *api;
	const struct api_route *route;
	struct store *st;               /* this thread's store connection */
	struct api_response *rs;        /* set while answering */
	char method[8];
	char path[1024];
	char host[256];                 /* Host header ("" when none) */
	char last_event_id[24];         /* Last-Event-ID header ("" when none) */
	char peer[64];                  /* printable client address */
	struct in_addr local4, peer4;
	char arg[API_ARGS_MAX][API_ARG_MAX];    /* the {…} segments, in order */
	struct api_query_arg query[API_QUERY_MAX];
	size_t nquery;
	const char *body;               /* the buffered body while answering */
	size_t body_len;
	struct store_task task;         /* API_TASK: the token's task */
	void *stream;                   /* a streaming route's state */
};

/* ---- replies (reply.c) ---- */
void api_reply_json(struct api_response *rs, unsigned status, json_t *body);
void api_reply_error(struct api_response *rs, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The stable code of an error status: "not_found", "conflict" ... */
const char *api_error_code(unsigned status);
void api_reply_text(struct api_response *rs, unsigned status, const char *type,
    char *text, size_t len);
/* The answer to a change already stored (a host, a task): body (taken
 * over) as JSON with status; when it cannot be made (body NULL, or out of
 * memory) the same status without a body, counted and logged -- never a
 * 500 for what was done, which a client would retry into a 200 or a 409.
 * location (or NULL): the object's path, in a Location header either way. */
void api_reply_stored(struct api_response *rs, unsigned status, json_t *body,
    const char *location);
/* The call's JSON body, parsed only when its shape fits the route
 * (json_max values, 32 levels); NULL with 400 made otherwise. */
json_t *api_body_json(struct api_call *c);
/* A JSON string of text from outside (an agent, a client, a disk): valid
 * UTF-8 whatever it holds (bad bytes become U+FFFD). */
json_t *api_json_text(const char *text);
int64_t api_now(void);

/* Tell the listeners of /api/v1/events (core/bus.h): an event of kind
 * with data (taken over).  A task's and a host's events: */
void api_publish(const char *kind, json_t *data);
void api_publish_task(struct store *st, int64_t id);
void api_publish_host(const char *mac, const char *change);

/* A query argument's value, or NULL. */
const char *api_query(const struct api_call *c, const char *key);
/* A page of a list: ?limit=N (1..API_PAGE_MAX) and ?after=KEY.  0, or
 * -EINVAL with 400 made. */
int api_page(struct api_call *c, unsigned *limit, const char **after);
/* {"KEY": items, "total": total, "next": the last key or null}: next is set
 * when the page is full (more may follow). */
void api_reply_page(struct api_call *c, const char *key, json_t *items, int64_t total,
    unsigned limit, const char *last);

/* ---- credentials (api.c) ---- */
/* The bearer token of the header hashed, or false when absent/malformed. */
bool api_bearer_hash(const char *authorization, uint8_t hash[32]);
/* The scope the request's bearer token grants (TOKEN_READ, TOKEN_ADMIN:
 * the token file's or a token made with pxectl token create), or -1 for
 * none or an unknown token. */
int api_scope(const struct api *a, struct store *st, const char *authorization);

/* ---- task tokens bound to an address (token_bind.c) ---- */
/* The address of a printable peer ("192.0.2.5:1234", "[2001:db8::1]:80"). */
void api_peer_address(const char *peer, char *out, size_t size);
/* Task t's token used by the call (what: "boot script", "agent request"):
 * 0 when its address may (the token is bound to it now, or binding is
 * off); -EPERM (403 made in c->rs: another address), -ESRCH (the task
 * has just ended: nothing made) or -EIO (503 made). */
int api_task_token_bind(struct api_call *c, const struct store_task *t, const char *what);

/* ---- shared by the resources ---- */
json_t *api_task_json(const struct store_task *t);
json_t *api_host_json(const struct store_host *h);
/* A MAC, or the name of a known host. */
int api_resolve_host(struct store *st, const char *arg, char mac[STORE_MAC_TEXT]);
void api_event(struct store *st, const char *mac, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A task's after action: text (NULL: the type's default, shell for a
 * shell task, else reboot).  0, or -EINVAL with the reply made (400). */
int api_task_after(enum task_type type, const char *text, enum task_after *out,
    struct api_response *rs);
/* End task t as how (TASK_CANCELLED, ...) with message and log (NULL:
 * the task's own): under repo_lock for a capture, so a publish sees either
 * the running task or none (images.c); unless done, its multicast receiver
 * leaves its session; a capture's orphan chunks are collected.  0, or -EALREADY when
 * it had ended. */
int api_task_end(struct api *a, struct store *st, const struct store_task *t,
    enum task_state how, const char *message, const char *log);

/* chunk_sources.c: the chunk sources of an agent at peer (a JSON array of
 * URLs, tried before this server), and in where a line for the log: whose
 * they are. */
json_t *api_chunk_sources_json(struct api *a, struct in_addr peer, char *where, size_t size);
void api_chunk_sources_free(struct api *a);
/* Does this server hold the image repository (image-repo = local)? */
bool api_repo_local(const struct api *a);

/* groups.c: the hosts a call acts on, each once. */
struct api_targets {
	size_t n;
	char mac[API_TARGETS_MAX][STORE_MAC_TEXT];
};
/* The hosts of hosts (a JSON array of MACs or names, or NULL) and the
 * members of group (or NULL): at least one, every one known and without an
 * active task.  0, or a negative errno with the reply made (400, 404,
 * 409). */
int api_targets_resolve(struct store *st, json_t *hosts, const char *group,
    struct api_targets *out, struct api_response *rs);
/* A task of spec for each target, its JSON appended to tasks (or NULL).
 * 0, or -EIO with the reply made (500) and the tasks made cancelled. */
int api_targets_tasks(struct store *st, const struct api_targets *t,
    const struct store_task_spec *spec, json_t *tasks, struct api_response *rs);
/* POST /api/v1/tasks with "group": a task for each member (201 {"tasks"}),
 * or none when one is unknown or busy. */
void api_group_tasks(struct store *st, const char *group, const struct store_task_spec *spec,
    struct api_response *rs);
/* The names of the groups the host is in. */
json_t *api_host_groups_json(struct store *st, const char *mac);

/* mcast.c */
/* The multicast part of a deploy task's answer (NULL: unicast), after
 * joining the task's session. */
json_t *api_mcast_join(struct api_call *c, const char *name, int64_t task);
/* This server's multicast sessions, as GET /api/v1/mcast lists them. */
json_t *api_mcast_sessions_json(struct api *m);
/* The TFTP and HTTP transfers in flight here, oldest first, at most max
 * (*more: how many more): 0 with *list, or -ETIMEDOUT/-ECANCELED (the loop
 * did not answer), -ENOMEM, -EPROTO. */
int api_transfers_json(struct api *a, struct store *st, size_t max, json_t **list,
    size_t *more);

/* What the servers sharing one database run (api/running.c): each
 * publishes its transfers and multicast sessions with its heartbeat, at
 * most API_RUNNING_MAX of each; the list routes show the other live
 * servers' too, each entry with a "server" field. */
#define API_RUNNING_MAX 256
/* Sharing (PostgreSQL): mark o (an object) as this server's. */
void api_running_mark(struct api_call *c, json_t *o);
/* Sharing: mark list's entries as this server's and append the entries
 * under key ("transfers", "mcast") of the other live servers, list kept
 * at most max long: how many were left out. */
size_t api_running_merge(struct api_call *c, const char *key, json_t *list, size_t max);
/* The entry called name under key that another live server runs (a new
 * reference; server gets its name), or NULL. */
json_t *api_running_find(struct api_call *c, const char *key, const char *name,
    char *server, size_t server_size);
/* Task ended: its receiver leaves its session (its id is refused). */
void api_mcast_leave(struct api *a, const char *name, int64_t task);
void api_mcast_close(struct api *a);

/* images.c */
/* Publish capture task t's manifest, uploaded and checked in u, and write
 * its catalogue row, under repo_lock, if t is still running then:
 * repo_upload_publish's answer, or -ECANCELED when the task has ended (a
 * row that cannot be written is logged; the image stands and its row is
 * made at the next start). */
int api_image_publish(struct api *a, struct store *st, const struct store_task *t,
    struct repo_upload *u, char *err, size_t errlen);
/* Task t has ended as how: for a capture that did not end done, delete
 * the chunks no published manifest names, unless a capture is still
 * active (checked under repo_lock).  Logs what was freed.  Call it after
 * every end of a capture task: a failure, a cancel, an expiry, the
 * removal of its host. */
void api_capture_ended(struct api *a, struct store *st, const struct store_task *t,
    enum task_state how);
/* At start-up: the image catalogue made to agree with the repository
 * (logged). */
void api_images_reconcile(struct api *a);

/* scan_db.c: clamav-db-dir opened (O_PATH) before privileges are dropped,
 * or -1 (logged; scan tasks then fail saying so). */
int api_clamav_open(const char *dir);
/* A snapshot of the loop's data (dhcp/board.h: BOARD_CONFIG,
 * BOARD_TRANSFERS) of at least min_len bytes, malloc'd into *data: 0, or a
 * negative errno with the reply made (503: the loop did not answer in
 * time or pxed is stopping; 500). */
int api_board_snapshot(struct api *a, unsigned what, size_t min_len, void **data,
    size_t *len, struct api_response *rs);

/* boot.c: "http://HOST" the client reached us by, for URLs in answers. */
void api_server_base(const struct api_call *c, char *out, size_t size);

/* store_cache.c: this thread's store connection (opened on first use,
 * closed when the thread ends; never close it), or NULL. */
struct store *api_thread_store(const char *where);
/* Close the calling thread's connection now (a test or fuzzer that
 * starts over with a new state directory). */
void api_thread_store_drop(void);

/* status.c: text of /metrics (Prometheus) and of /api/v1/status (JSON)
 * from the counters in core/stats.h; malloc'd, NUL-terminated, or NULL. */
char *api_metrics_text(size_t *len);
char *api_status_json(uint64_t uptime_s, const struct api_service *services, size_t count,
    const char *where, struct store *st, size_t *len);

#endif
