/* /api/v1/groups: host groups (docs/API.md), and the hosts a call targets
 * (a list of hosts, a group, or both) for multicast sessions and tasks.
 *
 * A group exists while it has members: adding a host to a new name makes
 * the group, removing its last host ends it. */
#include "api/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

#define GROUPS_MAX 1000                 /* groups listed */
#define HOST_GROUPS_MAX 64              /* groups shown for a host */
#define MEMBERS_MAX 2000                /* hosts shown for a group */

/* ---- the hosts of a call ---- */

/* Add mac to the targets unless it is there: 0, or -E2BIG when full. */
static int
targets_push(struct api_targets *t, const char *mac)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->mac[i], mac) == 0)
			return 0;
	if (t->n == API_TARGETS_MAX)
		return -E2BIG;
	str_copy(t->mac[t->n++], mac, STORE_MAC_TEXT);
	return 0;
}

/* A host argument (MAC or name) of a known host. */
static int
known_host(struct store *st, const char *arg, char mac[STORE_MAC_TEXT])
{
	struct store_host h;

	if (api_resolve_host(st, arg, mac) < 0 || store_host_get(st, mac, &h) < 0)
		return -ENOENT;
	store_host_free(&h);
	return 0;
}

/* The hosts of a JSON array of host arguments, each a known host. */
static int
targets_add_hosts(struct store *st, json_t *hosts, struct api_targets *t,
    struct api_response *rs)
{
	char mac[STORE_MAC_TEXT];
	size_t n = json_array_size(hosts);

	if (!json_is_array(hosts) || n > API_TARGETS_MAX) {
		api_reply_error(rs, 400, "\"hosts\" is an array of at most %d hosts",
		    API_TARGETS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *h = json_string_value(json_array_get(hosts, i));
		if (h == NULL || known_host(st, h, mac) < 0) {
			api_reply_error(rs, 404, "no host %s", h != NULL ? h : "(not a string)");
			return -ENOENT;
		}
		if (targets_push(t, mac) < 0) {
			api_reply_error(rs, 400, "more than %d hosts", API_TARGETS_MAX);
			return -E2BIG;
		}
	}
	return 0;
}

/* The members of a group: at least one. */
static int
targets_add_group(struct store *st, const char *group, struct api_targets *t,
    struct api_response *rs)
{
	struct store_host *list = calloc(API_TARGETS_MAX + 1, sizeof *list);
	int n = list != NULL ? store_group_members(st, group, list, API_TARGETS_MAX + 1) :
	    -ENOMEM;
	int rc = n > 0 ? 0 : n < 0 ? n : -ENOENT;

	for (int i = 0; i < n; i++) {
		if (rc == 0 && targets_push(t, list[i].mac) < 0)
			rc = -E2BIG;
		store_host_free(&list[i]);
	}
	free(list);
	if (rc == -ENOENT)
		api_reply_error(rs, 404, "no group %s (or it has no hosts)", group);
	else if (rc == -E2BIG)
		api_reply_error(rs, 400, "more than %d hosts", API_TARGETS_MAX);
	else if (rc < 0)
		api_reply_error(rs, 500, "cannot read group %s", group);
	return rc;
}

/* None of the targets has an active task. */
static int
targets_idle(struct store *st, const struct api_targets *t, struct api_response *rs)
{
	struct store_task task;

	for (size_t i = 0; i < t->n; i++)
		if (store_task_active(st, t->mac[i], &task) == 0) {
			api_reply_error(rs, 409, "host %s has a task already (cancel it first)",
			    t->mac[i]);
			return -EBUSY;
		}
	return 0;
}

int
api_targets_resolve(struct store *st, json_t *hosts, const char *group,
    struct api_targets *out, struct api_response *rs)
{
	int rc = 0;

	out->n = 0;
	if (hosts != NULL)
		rc = targets_add_hosts(st, hosts, out, rs);
	if (rc == 0 && group != NULL)
		rc = targets_add_group(st, group, out, rs);
	if (rc == 0 && out->n == 0) {
		api_reply_error(rs, 400, "no hosts: give \"hosts\", a \"group\" or both");
		rc = -EINVAL;
	}
	return rc == 0 ? targets_idle(st, out, rs) : rc;
}

int
api_targets_tasks(struct store *st, const struct api_targets *t,
    const struct store_task_spec *spec, json_t *tasks, struct api_response *rs)
{
	int64_t ids[API_TARGETS_MAX];
	struct store_task task;
	size_t made;

	for (made = 0; made < t->n; made++) {
		ids[made] = store_task_add(st, t->mac[made], spec, api_now());
		if (ids[made] < 0 || store_task_get(st, ids[made], &task) < 0)
			break;
		if (tasks != NULL)
			json_array_append_new(tasks, api_task_json(&task));
		api_publish_task(st, ids[made]);
	}
	if (made == t->n)
		return 0;
	api_reply_error(rs, 500, "cannot create the task of %s", t->mac[made]);
	if (ids[made] > 0)
		made++;
	while (made-- > 0)
		(void)store_task_finish(st, ids[made], TASK_CANCELLED,
		    "the other tasks of its call could not be made", "", api_now());
	return -EIO;
}

void
api_group_tasks(struct store *st, const char *group, const struct store_task_spec *spec,
    struct api_response *rs)
{
	struct api_targets *t = malloc(sizeof *t);
	json_t *arr = json_array();

	if (t == NULL || arr == NULL)
		api_reply_error(rs, 500, "out of memory");
	else if (api_targets_resolve(st, NULL, group, t, rs) == 0 &&
	    api_targets_tasks(st, t, spec, arr, rs) == 0) {
		log_info("api: %zu %s tasks for group %s %s", t->n, task_type_name(spec->type),
		    group, spec->image);
		api_reply_stored(rs, 201, json_pack("{s:O}", "tasks", arr), NULL);
	}
	json_decref(arr);
	free(t);
}

/* ---- groups ---- */

json_t *
api_host_groups_json(struct store *st, const char *mac)
{
	struct store_group list[HOST_GROUPS_MAX];
	json_t *arr = json_array();
	int n = store_host_groups(st, mac, list, HOST_GROUPS_MAX);

	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_string(list[i].name));
	return arr;
}

static void
groups_list(struct store *st, struct api_response *rs)
{
	struct store_group *list = calloc(GROUPS_MAX, sizeof *list);
	json_t *arr = json_array();
	int n = list != NULL ? store_group_list(st, list, GROUPS_MAX) : -ENOMEM;

	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:i}", "name", list[i].name,
		    "members", (int)list[i].members));
	free(list);
	if (n < 0) {
		json_decref(arr);
		api_reply_error(rs, 500, "cannot list groups");
		return;
	}
	api_reply_json(rs, 200, json_pack("{s:o}", "groups", arr));
}

/* {"name", "hosts": [HOST...]}; with must_exist, 404 for no members. */
static void
group_show(struct store *st, const char *group, bool must_exist, struct api_response *rs)
{
	struct store_host *list = calloc(MEMBERS_MAX, sizeof *list);
	json_t *arr = json_array();
	int n = list != NULL ? store_group_members(st, group, list, MEMBERS_MAX) : -ENOMEM;

	for (int i = 0; i < n; i++) {
		json_array_append_new(arr, api_host_json(&list[i]));
		store_host_free(&list[i]);
	}
	free(list);
	if (n < 0)
		api_reply_error(rs, 500, "cannot read group %s", group);
	else if (n == 0 && must_exist)
		api_reply_error(rs, 404, "no group %s", group);
	else
		api_reply_json(rs, 200, json_pack("{s:s,s:O}", "name", group, "hosts", arr));
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
group_has_all(struct store *st, const char *group, const struct api_targets *t,
    struct api_response *rs)
{
	size_t i;
	int rc = 1;

	for (i = 0; i < t->n && rc == 1; i++)
		rc = store_group_has(st, group, t->mac[i]);
	if (rc == 1)
		return 0;
	if (rc < 0)
		api_reply_error(rs, 500, "cannot read group %s", group);
	else if (!group_exists(st, group))
		api_reply_error(rs, 404, "no group %s", group);
	else
		api_reply_error(rs, 404, "host %s is not in group %s", t->mac[i - 1], group);
	return rc < 0 ? rc : -ENOENT;
}

/* POST .../add or .../remove {"hosts": [H...]}: every host is checked
 * before the group changes. */
static void
group_change(struct store *st, const char *group, bool add, json_t *body,
    struct api_response *rs)
{
	struct api_targets *t = malloc(sizeof *t);
	int rc = 0;

	if (t == NULL) {
		api_reply_error(rs, 500, "out of memory");
		return;
	}
	t->n = 0;
	if (targets_add_hosts(st, json_object_get(body, "hosts"), t, rs) < 0)
		goto out;
	if (t->n == 0) {
		api_reply_error(rs, 400, "expected {\"hosts\": [HOST...]}");
		goto out;
	}
	if (!add && group_has_all(st, group, t, rs) < 0)
		goto out;
	for (size_t i = 0; i < t->n && rc >= 0; i++)
		rc = add ? store_group_add(st, group, t->mac[i]) :
		    store_group_remove(st, group, t->mac[i]);
	if (rc < 0) {
		api_reply_error(rs, 500, "cannot change group %s", group);
		goto out;
	}
	log_info("api: group %s: %zu host(s) %s", group, t->n, add ? "added" : "removed");
	group_show(st, group, false, rs);
out:
	free(t);
}

static void
group_delete(struct store *st, const char *group, struct api_response *rs)
{
	int rc = store_group_delete(st, group);

	if (rc == -ENOENT) {
		api_reply_error(rs, 404, "no group %s", group);
		return;
	}
	if (rc < 0) {
		api_reply_error(rs, 500, "cannot delete group %s", group);
		return;
	}
	log_info("api: group %s deleted (%d members)", group, rc);
	api_reply_json(rs, 204, NULL);
}

/* The path's group name, checked: false with 400 made. */
static bool
group_arg(struct api_call *c, const char **group)
{
	*group = c->arg[0];
	if (strlen(*group) >= STORE_GROUP_NAME) {
		api_reply_error(c->rs, 400, "a group name has at most %d characters",
		    STORE_GROUP_NAME - 1);
		return false;
	}
	if (!group_name_valid(*group)) {
		api_reply_error(c->rs, 400, "bad group name (letters, digits, '.', '_', '-')");
		return false;
	}
	return true;
}

static void
route_groups_list(struct api_call *c)
{
	groups_list(c->st, c->rs);
}

static void
route_group_show(struct api_call *c)
{
	const char *group;

	if (group_arg(c, &group))
		group_show(c->st, group, true, c->rs);
}

static void
route_group_change(struct api_call *c, bool add)
{
	const char *group;
	json_t *body;

	if (!group_arg(c, &group) || (body = api_body_json(c)) == NULL)
		return;
	group_change(c->st, group, add, body, c->rs);
	json_decref(body);
}

static void
route_group_add(struct api_call *c)
{
	route_group_change(c, true);
}

static void
route_group_remove(struct api_call *c)
{
	route_group_change(c, false);
}

static void
route_group_delete(struct api_call *c)
{
	const char *group;

	if (group_arg(c, &group))
		group_delete(c->st, group, c->rs);
}

/* a body names at most API_TARGETS_MAX hosts of at most 63 characters */
#define GROUP_BODY_MAX (API_TARGETS_MAX * 72 + 64)

const struct api_route api_groups_routes[] = {
	{ "GET", "api/v1/groups", API_READ, .handler = route_groups_list, .statuses = "200",
	    .summary = "host groups and their sizes" },
	{ "GET", "api/v1/groups/{group}", API_READ, .handler = route_group_show,
	    .statuses = "200 400 404",
	    .summary = "a group's hosts" },
	{ "POST", "api/v1/groups/{group}/add", API_ADMIN, .body_max = GROUP_BODY_MAX,
	    .json_max = API_TARGETS_MAX + 4, .handler = route_group_add, .statuses = "200 404",
	    .summary = "add hosts {hosts: [...]} (a new name makes the group)" },
	{ "POST", "api/v1/groups/{group}/remove", API_ADMIN, .body_max = GROUP_BODY_MAX,
	    .json_max = API_TARGETS_MAX + 4, .handler = route_group_remove,
	    .statuses = "200 404",
	    .summary = "remove hosts {hosts: [...]}" },
	{ "DELETE", "api/v1/groups/{group}", API_ADMIN, .handler = route_group_delete,
	    .statuses = "204 400 404",
	    .summary = "delete a group (its hosts stay)" },
	{ NULL },
};
