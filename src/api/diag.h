/* Diagnose and repair on the API side (docs/DIAGNOSTICS.md): the hooks the
 * resources call (tasks.c, hosts.c, agent.c, boot.c, clients.c) and what
 * they share.  diag.c: task parameters, the agent's results and wipe
 * certificates, reports and health; envs.c, env_boot.c: boot
 * environments; wake.c: Wake-on-LAN. */
#ifndef PXED_API_DIAG_H
#define PXED_API_DIAG_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/internal.h"

/* ---- diag.c ---- */

/* The "params" of a new task from its body (tests, destructive,
 * duration; level; environment), checked, into params (JSON text) and
 * spec; a boot task's environment name goes into spec->image.  0, or
 * -EINVAL/-ENOENT with the reply made (400, 404, 422). */
int api_task_params(struct api_call *c, int type, json_t *body, struct store_task_spec *spec,
    char *params, size_t size);
/* After POST /api/v1/tasks answered 201: with "wake": true in the body,
 * wake the hosts that got a task and add what was sent to the answer. */
void api_task_created(struct api_call *c, json_t *body);
/* GET /api/v1/tasks/ID: a diagnose task's report, a wipe's certificates. */
void api_task_extras(struct api_call *c, const struct store_task *t, json_t *o);
/* GET /api/v1/hosts/HOST: the latest verdict of each test, the wipe
 * certificates, where the host was last seen. */
void api_host_extras(struct api_call *c, const char *mac, json_t *o);
/* GET /api/v1/agent/task: what a diagnose or wipe agent needs (the
 * params, the URL of a file to time a download of, the host's MAC). */
void api_agent_task_extras(struct api_call *c, const struct store_task *t, json_t *o);
/* The layers of the imaging environment the task needs ("diag"), into
 * out; their count. */
size_t api_task_layers(const struct store_task *t, const char **out, size_t max);
/* The host fetched its boot script or called as an agent from the
 * call's peer address: remembered for Wake-on-LAN. */
void api_host_seen_from(const struct api_call *c, const char *mac);

/* ---- envs.c, env_boot.c ---- */

int api_envs_open(struct api *a);
void api_envs_close(struct api *a);
/* Is there an environment called name?  0, -ENOENT, or -EIO. */
int api_env_exists(struct api *a, struct store *st, const char *name, char *err, size_t size);
/* The iPXE script of boot task t (boot.c, for iPXE clients only). */
void api_env_task_script(const struct api_call *c, const struct store_task *t,
    struct api_response *rs);
/* The no-task menu's environments: "item" lines into *items and their
 * labels and lines into *labels (malloc'd, "" when none).  0 or -ENOMEM. */
int api_env_menu(const struct api_call *c, char **items, char **labels);
/* A file served over HTTP to peer (clients.c; bytes of it sent): ends a
 * boot task whose program it was, when it went whole. */
void api_env_served(struct api *a, struct in_addr peer, const char *path, uint64_t bytes,
    bool ok);

/* ---- wake.c ---- */

#define WAKE_PACKET_MAX (6 + 16 * 6 + 6)
/* The magic packet of mac (with password, 6 bytes, unless NULL) into out:
 * its length.  Pure. */
size_t wake_packet(const uint8_t mac[6], const uint8_t *password, uint8_t out[WAKE_PACKET_MAX]);

/* Send the host's magic packets on the subnet it was last seen on;
 * *report (new) says where.  0, or -ENOENT (not known where), -EIO. */
int api_wake_host(struct api *a, struct store *st, const char *mac, json_t **report);

#endif
