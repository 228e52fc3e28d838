/* Shared by the management API's files (mgmt.c, agent.c). */
#ifndef PXED_HTTP_MGMT_INTERNAL_H
#define PXED_HTTP_MGMT_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "http/mgmt.h"
#include "mcast/session.h"
#include <pthread.h>
#include "store/images.h"
#include "store/mgmt.h"
#include "store/store.h"

#define TOKEN_BYTES 32
#define TOKEN_HEX (2 * TOKEN_BYTES)
#define MGMT_MCAST_MAX 32            /* sessions kept (finished ones too) */
#define MGMT_LIST_MAX 2000           /* hosts, tasks in a list */
#define MGMT_TARGETS_MAX 256         /* hosts one call acts on */

struct mgmt {
	struct mgmt_config cfg;
	struct image_repo repo;
	uint8_t admin_hash[32];         /* SHA-256 of the API token */
	char state_dir[1024];
	char bootenv_url[512];
	char bootenv_args[512];
	pthread_mutex_t mcast_lock;     /* guards the sessions table */
	pthread_mutex_t repo_lock;      /* publish, image removal, chunk collection and
	                                 * the creation of capture tasks (images_api.c) */
	struct mcast_session *mcast[MGMT_MCAST_MAX];
	unsigned mcast_seq;             /* sessions created: picks the group */
};

void mgmt_reply_json(struct mgmt_response *rs, unsigned status, json_t *body);
void mgmt_reply_error(struct mgmt_response *rs, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mgmt_reply_text(struct mgmt_response *rs, unsigned status, const char *type,
    char *text, size_t len);
/* 200 {"KEY": arr} for a list of n items, or 500 "cannot list KEY" (arr
 * dropped) when n is a negative errno. */
void mgmt_reply_list(struct mgmt_response *rs, const char *key, json_t *arr, int n);
/* The bearer token of the request hashed, or false when absent/malformed. */
bool mgmt_bearer_hash(const struct mgmt_request *rq, uint8_t hash[32]);
struct store *mgmt_store(const struct mgmt *m, struct mgmt_response *rs);
json_t *mgmt_task_json(const struct store_task *t);
json_t *mgmt_host_json(const struct store_host *h);
json_t *mgmt_body_json(const struct mgmt_request *rq, struct mgmt_response *rs);
int64_t mgmt_now(void);
bool mgmt_is_admin(const struct mgmt *m, const struct mgmt_request *rq);
/* A MAC, or the name of a known host. */
int mgmt_resolve_host(struct store *st, const char *arg, char mac[STORE_MAC_TEXT]);
void mgmt_event(struct store *st, const char *mac, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A task's after action: text (NULL: the type's default, shell for a
 * shell task, else reboot).  0, or -EINVAL with the reply made (400). */
int mgmt_task_after(enum task_type type, const char *text, enum task_after *out,
    struct mgmt_response *rs);

/* groups_api.c */
void mgmt_groups(struct mgmt *m, struct store *st, const struct mgmt_request *rq,
    const char *rest, struct mgmt_response *rs);
/* The hosts a call acts on, each once. */
struct mgmt_targets {
	size_t n;
	char mac[MGMT_TARGETS_MAX][STORE_MAC_TEXT];
};
/* The hosts of hosts (a JSON array of MACs or names, or NULL) and the
 * members of group (or NULL): at least one, every one known and without an
 * active task.  0, or a negative errno with the reply made (400, 404,
 * 409). */
int mgmt_targets_resolve(struct store *st, json_t *hosts, const char *group,
    struct mgmt_targets *out, struct mgmt_response *rs);
/* A task of spec for each target, its JSON appended to tasks (or NULL).
 * 0, or -EIO with the reply made (500) and the tasks made cancelled. */
int mgmt_targets_tasks(struct store *st, const struct mgmt_targets *t,
    const struct store_task_spec *spec, json_t *tasks, struct mgmt_response *rs);
/* POST /api/v1/tasks with "group": a task for each member (201 {"tasks"}),
 * or none when one is unknown or busy. */
void mgmt_group_tasks(struct store *st, const char *group, const struct store_task_spec *spec,
    struct mgmt_response *rs);
/* The names of the groups the host is in. */
json_t *mgmt_host_groups_json(struct store *st, const char *mac);

/* mcast_api.c */
void mgmt_mcast(struct mgmt *m, struct store *st, const struct mgmt_request *rq,
    const char *rest, struct mgmt_response *rs);
/* The multicast part of a deploy task's answer (NULL: unicast), after
 * joining the task's session. */
json_t *mgmt_mcast_join(struct mgmt *m, const struct mgmt_request *rq, const char *name,
    int64_t task);
void mgmt_mcast_close(struct mgmt *m);

/* images_api.c */
void mgmt_images(struct mgmt *m, struct store *st, const struct mgmt_request *rq,
    const char *rest, struct mgmt_response *rs);
/* Publish a capture task's manifest and write its catalogue row, under
 * repo_lock: repo_publish's answer (a row that cannot be written is
 * logged; the image stands and its row is made at the next start). */
int mgmt_image_publish(struct mgmt *m, struct store *st, const struct store_task *t,
    const char *text, size_t len, char *err, size_t errlen);
/* Task t has ended as how: for a capture that did not end done, delete
 * the chunks no published manifest names, unless a capture is still
 * active (checked under repo_lock).  Logs what was freed.  Call it after
 * every end of a capture task: a failure, a cancel, an expiry, the
 * removal of its host. */
void mgmt_capture_ended(struct mgmt *m, struct store *st, const struct store_task *t,
    enum task_state how);
/* At start-up: the image catalogue made to agree with the repository
 * (logged). */
void mgmt_images_reconcile(struct mgmt *m);

/* subnets_api.c */
void mgmt_subnets(struct mgmt *m, struct store *st, const struct mgmt_request *rq,
    const char *rest, struct mgmt_response *rs);
void mgmt_reload(struct mgmt *m, const struct mgmt_request *rq, struct mgmt_response *rs);

/* agent.c */
void mgmt_agent(struct mgmt *m, const struct mgmt_request *rq, const char *sub,
    struct mgmt_response *rs);

/* boot_script.c */
/* "http://HOST" the client reached us by, for URLs in answers. */
void mgmt_server_base(const struct mgmt_request *rq, char *out, size_t size);
void mgmt_boot_script(struct mgmt *m, const struct mgmt_request *rq, const char *file,
    struct mgmt_response *rs);

#endif
