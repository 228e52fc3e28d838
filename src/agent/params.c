/* The "params" of a task (api/diag.c makes them): which tests a diagnose
 * runs and for how long, how a wipe wipes.  Checked member by member, as
 * the rest of the task (task.c); the server checked them too, but the
 * agent trusts no answer: a destructive test without "destructive" is
 * refused here again. */
#include "agent/task.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

/* "tests": an array of test names (absent or empty: the default set). */
static int
params_tests(json_t *arr, struct task_params *p, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	p->tests = 0;
	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > 4 * DIAG_TEST_COUNT)
		return task_error(err, errlen, "params \"tests\" is not a list of test names");
	json_array_foreach(arr, i, v) {
		int t = json_is_string(v) ? diag_test_parse(json_string_value(v)) : -1;
		if (t < 0)
			return task_error(err, errlen, "params: unknown test \"%.32s\"",
			    json_is_string(v) ? json_string_value(v) : "?");
		p->tests |= DIAG_TEST_BIT(t);
	}
	return 0;
}

static int
params_text(json_t *o, const char *key, char *out, size_t size, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= size ||
	    json_string_length(v) != strlen(json_string_value(v)))
		return task_error(err, errlen, "params \"%s\" is not a string that fits", key);
	str_copy(out, json_string_value(v), size);
	return 0;
}

static int
params_members(json_t *o, struct task_params *p, char *err, size_t errlen)
{
	json_t *destructive = json_object_get(o, "destructive");
	json_t *duration = json_object_get(o, "duration"), *mem = json_object_get(o, "memory_mb");
	char level[16];
	int l;

	if (params_tests(json_object_get(o, "tests"), p, err, errlen) < 0 ||
	    params_text(o, "network_url", p->network_url, sizeof p->network_url, err,
	    errlen) < 0 || params_text(o, "mac", p->mac, sizeof p->mac, err, errlen) < 0 ||
	    params_text(o, "level", level, sizeof level, err, errlen) < 0)
		return -EINVAL;
	if (destructive != NULL && !json_is_boolean(destructive))
		return task_error(err, errlen, "params \"destructive\" is not a boolean");
	p->destructive = json_is_true(destructive);
	if (duration != NULL && (!json_is_integer(duration) || json_integer_value(duration) < 1 ||
	    json_integer_value(duration) > DIAG_DURATION_MAX))
		return task_error(err, errlen, "params \"duration\" is not 1..%d seconds",
		    DIAG_DURATION_MAX);
	if (duration != NULL)
		p->duration = (unsigned)json_integer_value(duration);
	if (mem != NULL && (!json_is_integer(mem) || json_integer_value(mem) < 1))
		return task_error(err, errlen, "params \"memory_mb\" is not a positive integer");
	if (mem != NULL)
		p->memory_mb = (uint64_t)json_integer_value(mem);
	l = level[0] != '\0' ? wipe_level_parse(level) : WIPE_FAST;
	if (l < 0)
		return task_error(err, errlen, "params: unknown wipe level \"%s\"", level);
	p->level = (enum wipe_level)l;
	return 0;
}

int
task_params_parse(json_t *root, struct agent_task *t, char *err, size_t errlen)
{
	json_t *o = json_object_get(root, "params");
	struct task_params *p = &t->params;

	memset(p, 0, sizeof *p);
	p->duration = DIAG_DURATION_DEFAULT;
	if (o != NULL && !json_is_null(o) && !json_is_object(o))
		return task_error(err, errlen, "task \"params\" is not an object");
	if (o != NULL && json_is_object(o) && params_members(o, p, err, errlen) < 0)
		return -EINVAL;
	if (t->type != TASK_DIAGNOSE)
		return 0;
	if (p->tests == 0)
		p->tests = DIAG_TESTS_DEFAULT;
	if ((p->tests & DIAG_TESTS_DESTRUCTIVE) != 0 && !p->destructive)
		return task_error(err, errlen, "disk-write destroys the disks' data: refused"
		    " without \"destructive\": true");
	return 0;
}
