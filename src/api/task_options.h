/* A task's own options (POST /api/v1/tasks -> the store -> the agent's
 * task) and the report its agent sends with the result.  Pure of
 * libmicrohttpd and of the store connection: JSON in, JSON text out. */
#ifndef PXED_API_TASK_OPTIONS_H
#define PXED_API_TASK_OPTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/mgmt.h"

/* The options of a task of this type found in body, checked (a key of
 * another type's is refused; false booleans are dropped), as compact JSON
 * text in out.  0, or -EINVAL / -ENOMEM with err. */
int task_options_parse(enum task_type type, json_t *body, char *out, size_t size,
    char *err, size_t errlen);

/* The stored options text as an object (an empty one when unparsable). */
json_t *task_options_json(const char *text);

/* A host name deploys can give a machine: 1-63 letters, digits and inner
 * hyphens (one DNS label). */
bool task_hostname_valid(const char *name);

/* An agent's report checked (an object; strings, arrays and nesting
 * bounded) and dumped into *out (malloc'd).  0, -EINVAL, -E2BIG (over
 * STORE_TASK_REPORT_MAX) or -ENOMEM. */
int task_report_text(json_t *report, char **out);

/* ---- the API's glue ---- */
struct api_call;
struct api_response;
struct store;

/* POST /api/v1/tasks: the options of type from body into out.  0, or
 * -EINVAL with the reply made (400; a reset-password or restore for a
 * group too). */
int api_task_options(json_t *body, enum task_type type, bool group, char *out, size_t size,
    struct api_response *rs);
/* A restore's "of" names a finished scan with quarantine of host mac.
 * 0, or a negative errno with the reply made (404, 409). */
int api_task_restore_check(struct store *st, const char *mac, const char *options,
    struct api_response *rs);
/* "report" (or null) into a task's JSON. */
void api_task_json_report(struct store *st, json_t *o, int64_t id);
/* The agent's task: the options merged in, and for a deploy the host's
 * "hostname" (its hostname, else its name when that is a valid one). */
int api_agent_task_extra(struct store *st, json_t *o, const struct store_task *t);
/* The "report" of an agent's result stored.  0 (also when there is none),
 * or a negative errno with the reply made (400, 413, 500). */
int api_agent_report(struct store *st, const struct store_task *t, json_t *body,
    struct api_response *rs);
/* PUT /api/v1/hosts/{host}/hostname {"hostname": "..."}. */
void api_host_hostname(struct api_call *c);

#endif
