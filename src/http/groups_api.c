/* /api/v1/groups: host groups (docs/API.md), and the hosts a call targets
 * (a list of hosts, a group, or both) for multicast sessions and tasks.
 *
 * A group exists while it has members: adding a host to a new name makes
 * the group, removing its last host ends it. */
#include "http/mgmt_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define GROUPS_MAX 1000                 /* groups listed */
#define HOST_GROUPS_MAX 64              /* groups shown for a host */

/* ---- the hosts of a call ---- */

/* Add mac to the targets unless it is there: 0, or -E2BIG when full. */
static int
targets_push(struct mgmt_targets *t, const char *mac)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->mac[i], mac) == 0)
			return 0;
	if (t->n == MGMT_TARGETS_MAX)
		return -E2BIG;
	str_copy(t->mac[t->n++], mac, STORE_MAC_TEXT);
	return 0;
}

/* A host argument (MAC or name) of a known host. */
static int
known_host(struct store *st, const char *arg, char mac[STORE_MAC_TEXT])
{
	struct store_host h;

	if (mgmt_resolve_host(st, arg, mac) < 0 || store_host_get(st, mac, &h) < 0)
		return -ENOENT;
	store_host_free(&h);
	return 0;
}

/* The hosts of a JSON array of host arguments, each a known host. */
static int
targets_add_hosts(struct store *st, json_t *hosts, struct mgmt_targets *t,
    struct mgmt_response *rs)
{
	char mac[STORE_MAC_TEXT];
	size_t n = json_array_size(hosts);

	if (!json_is_array(hosts) || n > MGMT_TARGETS_MAX) {
		mgmt_reply_error(rs, 400, "\"hosts\" is an array of at most %d hosts",
		    MGMT_TARGETS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *h = json_string_value(json_array_get(hosts, i));
		if (h == NULL || known_host(st, h, mac) < 0) {
			mgmt_reply_error(rs, 404, "no host %s", h != NULL ? h : "(not a string)");
			return -ENOENT;
		}
		if (targets_push(t, mac) < 0) {
			mgmt_reply_error(rs, 400, "more than %d hosts", MGMT_TARGETS_MAX);
			return -E2BIG;
		}
	}
	return 0;
}

/* The members of a group: at least one. */
static int
targets_add_group(struct store *st, const char *group, struct mgmt_targets *t,
    struct mgmt_response *rs)
{
	struct store_host *list = calloc(MGMT_TARGETS_MAX + 1, sizeof *list);
	int n = list != NULL ? store_group_members(st, group, list, MGMT_TARGETS_MAX + 1) :
	    -ENOMEM;
	int rc = n > 0 ? 0 : n < 0 ? n : -ENOENT;

	for (int i = 0; i < n; i++) {
		if (rc == 0 && targets_push(t, list[i].mac) < 0)
			rc = -E2BIG;
		store_host_free(&list[i]);
	}
	free(list);
	if (rc == -ENOENT)
		mgmt_reply_error(rs, 404, "no group %s (or it has no hosts)", group);
	else if (rc == -E2BIG)
		mgmt_reply_error(rs, 400, "more than %d hosts", MGMT_TARGETS_MAX);
	else if (rc < 0)
		mgmt_reply_error(rs, 500, "cannot read group %s", group);
	return rc;
}

/* None of the targets has an active task. */
static int
targets_idle(struct store *st, const struct mgmt_targets *t, struct mgmt_response *rs)
{
	struct store_task task;

	for (size_t i = 0; i < t->n; i++)
		if (store_task_active(st, t->mac[i], &task) == 0) {
			mgmt_reply_error(rs, 409, "host %s has a task already (cancel it first)",
			    t->mac[i]);
			return -EBUSY;
		}
	return 0;
}

int
mgmt_targets_resolve(struct store *st, json_t *hosts, const char *group,
    struct mgmt_targets *out, struct mgmt_response *rs)
{
	int rc = 0;

	out->n = 0;
	if (hosts != NULL)
		rc = targets_add_hosts(st, hosts, out, rs);
	if (rc == 0 && group != NULL)
		rc = targets_add_group(st, group, out, rs);
	if (rc == 0 && out->n == 0) {
		mgmt_reply_error(rs, 400, "no hosts: give \"hosts\", a \"group\" or both");
		rc = -EINVAL;
	}
	return rc == 0 ? targets_idle(st, out, rs) : rc;
}

int
mgmt_targets_tasks(struct store *st, const struct mgmt_targets *t,
    const struct store_task_spec *spec, json_t *tasks, struct mgmt_response *rs)
{
	int64_t ids[MGMT_TARGETS_MAX];
	struct store_task task;
	size_t made;

	for (made = 0; made < t->n; made++) {
		ids[made] = store_task_add(st, t->mac[made], spec, mgmt_now());
		if (ids[made] < 0 || store_task_get(st, ids[made], &task) < 0)
			break;
		if (tasks != NULL)
			json_array_append_new(tasks, mgmt_task_json(&task));
	}
	if (made == t->n)
		return 0;
	mgmt_reply_error(rs, 500, "cannot create the task of %s", t->mac[made]);
	if (ids[made] > 0)
		made++;
	while (made-- > 0)
		(void)store_task_finish(st, ids[made], TASK_CANCELLED,
		    "the other tasks of its call could not be made", "", mgmt_now());
	return -EIO;
}

void
mgmt_group_tasks(struct store *st, const char *group, const struct store_task_spec *spec,
    struct mgmt_response *rs)
{
	struct mgmt_targets *t = malloc(sizeof *t);
	json_t *arr = json_array();

	if (t == NULL || arr == NULL)
		mgmt_reply_error(rs, 500, "out of memory");
	else if (mgmt_targets_resolve(st, NULL, group, t, rs) == 0 &&
	    mgmt_targets_tasks(st, t, spec, arr, rs) == 0) {
		log_info("api: %zu %s tasks for group %s %s", t->n, task_type_name(spec->type),
		    group, spec->image);
		mgmt_reply_json(rs, 201, json_pack("{s:O}", "tasks", arr));
	}
	json_decref(arr);
	free(t);
}

/* ---- groups ---- */

json_t *
mgmt_host_groups_json(struct store *st, const char *mac)
{
	struct store_group list[HOST_GROUPS_MAX];
	json_t *arr = json_array();
	int n = store_host_groups(st, mac, list, HOST_GROUPS_MAX);

	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_string(list[i].name));
	return arr;
}

static void
groups_list(struct store *st, struct mgmt_response *rs)
{
	struct store_group *list = calloc(GROUPS_MAX, sizeof *list);
	json_t *arr = json_array();
	int n = list != NULL ? store_group_list(st, list, GROUPS_MAX) : -ENOMEM;

	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:i}", "name", list[i].name,
		    "members", (int)list[i].members));
	free(list);
	mgmt_reply_list(rs, "groups", arr, n);
}

/* {"name", "hosts": [HOST...]}; with must_exist, 404 for no members. */
static void
group_show(struct store *st, const char *group, bool must_exist, struct mgmt_response *rs)
{
	struct store_host *list = calloc(MGMT_LIST_MAX, sizeof *list);
	json_t *arr = json_array();
	int n = list != NULL ? store_group_members(st, group, list, MGMT_LIST_MAX) : -ENOMEM;

	for (int i = 0; i < n; i++) {
		json_array_append_new(arr, mgmt_host_json(&list[i]));
		store_host_free(&list[i]);
	}
	free(list);
	if (n < 0)
		mgmt_reply_error(rs, 500, "cannot read group %s", group);
	else if (n == 0 && must_exist)
		mgmt_reply_error(rs, 404, "no group %s", group);
	else
		mgmt_reply_json(rs, 200, json_pack("{s:s,s:O}", "name", group, "hosts", arr));
	json_decref(arr);
}

/* Does the group have a member? */
static bool
group_exists(struct store *st, const char *group)
{
	struct store_host h;
	int n = store_group_members(st, group, &h, 1);

	if (n > 0)
		store_host_free(&h);
	return n > 0;
}

/* Before a removal: the group has every one of the hosts. */
static int
group_has_all(struct store *st, const char *group, const struct mgmt_targets *t,
    struct mgmt_response *rs)
{
	size_t i;
	int rc = 1;

	for (i = 0; i < t->n && rc == 1; i++)
		rc = store_group_has(st, group, t->mac[i]);
	if (rc == 1)
		return 0;
	if (rc < 0)
		mgmt_reply_error(rs, 500, "cannot read group %s", group);
	else if (!group_exists(st, group))
		mgmt_reply_error(rs, 404, "no group %s", group);
	else
		mgmt_reply_error(rs, 404, "host %s is not in group %s", t->mac[i - 1], group);
	return rc < 0 ? rc : -ENOENT;
}

/* POST .../add or .../remove {"hosts": [H...]}: every host is checked
 * before the group changes. */
static void
group_change(struct store *st, const char *group, bool add, const struct mgmt_request *rq,
    struct mgmt_response *rs)
{
	json_t *body = mgmt_body_json(rq, rs);
	struct mgmt_targets *t = malloc(sizeof *t);
	int rc = 0;

	if (body == NULL || t == NULL) {
		if (t == NULL)
			mgmt_reply_error(rs, 500, "out of memory");
		goto out;
	}
	t->n = 0;
	if (targets_add_hosts(st, json_object_get(body, "hosts"), t, rs) < 0)
		goto out;
	if (t->n == 0) {
		mgmt_reply_error(rs, 400, "expected {\"hosts\": [HOST...]}");
		goto out;
	}
	if (!add && group_has_all(st, group, t, rs) < 0)
		goto out;
	for (size_t i = 0; i < t->n && rc >= 0; i++)
		rc = add ? store_group_add(st, group, t->mac[i]) :
		    store_group_remove(st, group, t->mac[i]);
	if (rc < 0) {
		mgmt_reply_error(rs, 500, "cannot change group %s", group);
		goto out;
	}
	log_info("api: group %s: %zu host(s) %s", group, t->n, add ? "added" : "removed");
	group_show(st, group, false, rs);
out:
	json_decref(body);
	free(t);
}

static void
group_delete(struct store *st, const char *group, struct mgmt_response *rs)
{
	int rc = store_group_delete(st, group);

	if (rc == -ENOENT) {
		mgmt_reply_error(rs, 404, "no group %s", group);
		return;
	}
	if (rc < 0) {
		mgmt_reply_error(rs, 500, "cannot delete group %s", group);
		return;
	}
	log_info("api: group %s deleted (%d members)", group, rc);
	mgmt_reply_json(rs, 204, NULL);
}

/* The writes: POST NAME/add, POST NAME/remove, DELETE NAME. */
static void
group_write(struct store *st, const char *group, const char *sub, const struct mgmt_request *rq,
    struct mgmt_response *rs)
{
	bool post = strcmp(rq->method, "POST") == 0;

	if (post && (strcmp(sub, "/add") == 0 || strcmp(sub, "/remove") == 0))
		group_change(st, group, sub[1] == 'a', rq, rs);
	else if (sub[0] == '\0' && strcmp(rq->method, "DELETE") == 0)
		group_delete(st, group, rs);
	else
		mgmt_reply_error(rs, 405, "not allowed");
}

void
mgmt_groups(struct mgmt *m, struct store *st, const struct mgmt_request *rq, const char *rest,
    struct mgmt_response *rs)
{
	bool get = strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
	size_t len = strcspn(rest, "/");
	char group[STORE_GROUP_NAME];

	if (*rest == '\0') {
		if (get)
			groups_list(st, rs);
		else
			mgmt_reply_error(rs, 405, "not allowed");
		return;
	}
	if (!get && !mgmt_is_admin(m, rq)) {
		mgmt_reply_error(rs, 401, "a valid API token is required");
		return;
	}
	if (len >= sizeof group) {
		mgmt_reply_error(rs, 400, "a group name has at most %d characters",
		    STORE_GROUP_NAME - 1);
		return;
	}
	str_copy(group, rest, len + 1);
	if (!group_name_valid(group))
		mgmt_reply_error(rs, 400, "bad group name (letters, digits, '.', '_', '-')");
	else if (get && rest[len] == '\0')
		group_show(st, group, true, rs);
	else if (get)
		mgmt_reply_error(rs, 405, "not allowed");
	else
		group_write(st, group, rest + len, rq, rs);
}
