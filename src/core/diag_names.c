/* See diag_names.h. */
#include "core/diag_names.h"

#include <string.h>

#include "core/util.h"

static const char *const test_names[DIAG_TEST_COUNT] = {
	[DIAG_INVENTORY] = "inventory", [DIAG_SMART] = "smart",
	[DIAG_DISK_READ] = "disk-read", [DIAG_DISK_WRITE] = "disk-write",
	[DIAG_MEMORY] = "memory", [DIAG_CPU] = "cpu", [DIAG_NETWORK] = "network",
};

static const char *const level_names[WIPE_LEVEL_COUNT] = {
	[WIPE_FAST] = "fast", [WIPE_ZERO] = "zero", [WIPE_RANDOM] = "random",
	[WIPE_SANITIZE] = "sanitize",
};

static int
index_of(const char *const *names, int count, const char *name)
{
	for (int i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *
diag_test_name(enum diag_test t)
{
	return (unsigned)t < DIAG_TEST_COUNT ? test_names[t] : "?";
}

int
diag_test_parse(const char *name)
{
	return index_of(test_names, DIAG_TEST_COUNT, name);
}

const char *
wipe_level_name(enum wipe_level l)
{
	return (unsigned)l < WIPE_LEVEL_COUNT ? level_names[l] : "?";
}

int
wipe_level_parse(const char *name)
{
	return index_of(level_names, WIPE_LEVEL_COUNT, name);
}
