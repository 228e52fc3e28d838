/* The names diagnose and repair share between pxed, pxectl and pxe-agent:
 * the hardware tests of a diagnose task and the levels of a wipe
 * (docs/DIAGNOSTICS.md).  Pure. */
#ifndef PXED_CORE_DIAG_NAMES_H
#define PXED_CORE_DIAG_NAMES_H

#include <stdbool.h>

enum diag_test {
	DIAG_INVENTORY, DIAG_SMART, DIAG_DISK_READ, DIAG_DISK_WRITE, DIAG_MEMORY, DIAG_CPU,
	DIAG_NETWORK, DIAG_TEST_COUNT
};

#define DIAG_TEST_BIT(t) (1u << (t))
/* What a diagnose task runs when it names no tests: all but disk-write. */
#define DIAG_TESTS_DEFAULT ((DIAG_TEST_BIT(DIAG_TEST_COUNT) - 1) & ~DIAG_TEST_BIT(DIAG_DISK_WRITE))
/* Tests that destroy data: refused unless the task says destructive. */
#define DIAG_TESTS_DESTRUCTIVE DIAG_TEST_BIT(DIAG_DISK_WRITE)
#define DIAG_DURATION_DEFAULT 60        /* seconds: memory, cpu, network */
#define DIAG_DURATION_MAX 86400

/* "inventory", ...; "?" out of range. */
const char *diag_test_name(enum diag_test t);
/* The test called name, or -1. */
int diag_test_parse(const char *name);

enum wipe_level { WIPE_FAST, WIPE_ZERO, WIPE_RANDOM, WIPE_SANITIZE, WIPE_LEVEL_COUNT };
const char *wipe_level_name(enum wipe_level l);
int wipe_level_parse(const char *name);

#endif
