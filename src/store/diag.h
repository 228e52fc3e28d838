/* Diagnose and repair in the store (schema 12): the results of
 * hardware tests, wipe certificates, boot environments made through the
 * API, where a host was last seen and its Wake-on-LAN password.
 *
 * Used from libmicrohttpd's threads, each through a store connection of
 * its own; every call is one statement (or one short transaction). */
#ifndef PXED_STORE_DIAG_H
#define PXED_STORE_DIAG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/mgmt.h"

struct store;

#define STORE_DIAG_NAME 24
#define STORE_DIAG_SUMMARY 256
#define STORE_DIAG_REPORTS_KEPT 20      /* diagnose reports each host keeps */

/* One test of a diagnose task. */
struct store_diag_result {
	int64_t id;
	int64_t task;
	char mac[STORE_MAC_TEXT];
	char name[STORE_DIAG_NAME];     /* "smart", "disk-read", ... */
	char status[12];                /* pass, fail, skipped, error */
	int64_t started;                /* Unix seconds */
	int64_t duration_ms;
	char summary[STORE_DIAG_SUMMARY];
	char *details;                  /* JSON text, malloc'd (NULL: "{}") */
};

/* Insert the result (a result of the same task and test replaces it:
 * an agent may send it again) and keep the host's newest
 * STORE_DIAG_REPORTS_KEPT reports.  0, -ENOENT (no such host) or -EIO. */
int store_diag_put(struct store *st, const struct store_diag_result *r);
/* Up to max results of a task, in the order they were first sent; the
 * count or -EIO.  Free each with store_diag_free. */
int store_diag_of_task(struct store *st, int64_t task, struct store_diag_result *out,
    size_t max);
/* The newest result of each test of the host, by test name; the count or
 * -EIO. */
int store_diag_latest(struct store *st, const char *mac, struct store_diag_result *out,
    size_t max);
/* The ids of the host's diagnose reports that have results, newest
 * first (at most max); the count or -EIO. */
int store_diag_reports(struct store *st, const char *mac, int64_t *out, size_t max);
void store_diag_free(struct store_diag_result *r);

/* A wipe certificate: what was wiped, how, and whether it reads back. */
struct store_wipe_cert {
	int64_t id;
	int64_t task;
	char mac[STORE_MAC_TEXT];
	char disk[256];
	char model[64];
	char serial[64];
	uint64_t size;
	char method[32];                /* fast, zero, random, sanitize-... */
	int64_t started, finished;      /* Unix seconds */
	uint64_t bytes_written;
	uint64_t write_ms;              /* the write pass, its sync included */
	char verify[8];                 /* pass, fail, none */
	uint64_t bytes_verified;
	bool ok;
	char message[256];
};

/* Insert (the same task and disk again replaces it).  0 or -EIO. */
int store_wipe_put(struct store *st, const struct store_wipe_cert *c);
/* Up to max certificates with an id below before (0: from the newest),
 * newest first, of the host mac ("": of every host); the count or -EIO. */
int store_wipe_list(struct store *st, const char *mac, int64_t before,
    struct store_wipe_cert *out, size_t max);
/* How many certificates the host has ("": every host), or -EIO. */
int64_t store_wipe_count(struct store *st, const char *mac);

/* A boot environment made through the API: its definition as JSON text. */
int store_env_put(struct store *st, const char *name, const char *json, int64_t now);
/* 0 with *json malloc'd, -ENOENT or -EIO. */
int store_env_get(struct store *st, const char *name, char **json);
/* Up to max names ordered by name (each STORE_ENV_NAME bytes); the count
 * or -EIO. */
#define STORE_ENV_NAME 64
int store_env_names(struct store *st, char (*out)[STORE_ENV_NAME], size_t max);
/* 0 or -ENOENT. */
int store_env_remove(struct store *st, const char *name);

/* ---- where a host is, for Wake-on-LAN ---- */

/* The address the host was last seen at (a boot script or an agent
 * request came from it).  0 or -ENOENT (no such host) or -EIO. */
int store_host_seen_at(struct store *st, const char *mac, struct in_addr addr);
/* The host's SecureOn password ("" none, else six bytes as
 * "aa:bb:cc:dd:ee:ff").  0, -ENOENT or -EIO. */
int store_host_set_wol_password(struct store *st, const char *mac, const char *password);
struct store_host_where {
	struct in_addr last_addr;       /* 0: never seen by HTTP */
	struct in_addr lease_addr;      /* its newest DHCP lease (any state); 0: none */
	char wol_password[STORE_MAC_TEXT];      /* "aa:bb:cc:dd:ee:ff" or "" */
};
int store_host_where(struct store *st, const char *mac, struct store_host_where *out);

/* ---- task states of tasks no agent runs (boot) ---- */

/* pending -> booting (its script was served): 0, or -ESRCH when it was not
 * pending or booting. */
int store_task_booted(struct store *st, int64_t id, int64_t now);
/* booting -> done with message: 0, or -ESRCH when it was not booting. */
int store_task_served_done(struct store *st, int64_t id, const char *message, int64_t now);

#endif
