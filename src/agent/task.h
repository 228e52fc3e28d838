/* The task pxed assigned to this machine: GET /api/v1/agent/task. */
#ifndef PXED_AGENT_TASK_H
#define PXED_AGENT_TASK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag_names.h"
#include "image/manifest.h"
#include "image/sources.h"

#define TASK_DISK_MAX 256
#define TASK_URL_MAX 1024
#define TASK_CHUNK_SIZE_DEFAULT (4u << 20)
#define TASK_LEVEL_DEFAULT 3

enum task_type {
	TASK_DEPLOY, TASK_CAPTURE, TASK_WIPE, TASK_SHELL, TASK_DIAGNOSE, TASK_SCAN,
	TASK_RESET_PASSWORD, TASK_RESTORE
};

/* The "params" of a diagnose or wipe task (params.c). */
struct task_params {
	unsigned tests;                         /* diagnose: DIAG_TEST_BIT()s */
	bool destructive;                       /* diagnose: disk-write allowed */
	unsigned duration;                      /* diagnose: seconds of memory, cpu, network */
	uint64_t memory_mb;                     /* diagnose: at most this much memory (0: no cap) */
	char network_url[TASK_URL_MAX];         /* diagnose: a file to time a download of */
	char mac[18];                           /* the host's MAC ("" unknown) */
	enum wipe_level level;                  /* wipe */
};

/* A deploy's multicast session (docs/MULTICAST.md); on = false: none. */
struct agent_mcast {
	bool on;
	char name[72];
	char group[16];                         /* dotted IPv4 */
	uint16_t port;
	uint64_t session;
	uint64_t receiver;
	char control[16];                       /* the server's address */
	uint16_t control_port;
	uint32_t chunks;
	uint32_t slice;                         /* payload bytes per datagram */
	unsigned fec_k, fec_m;                  /* parity per group; 0, 0: no FEC */
	uint32_t *frames;                       /* each chunk's frame size; malloc'd */
};

struct agent_task {
	int64_t id;
	enum task_type type;
	char image[IMAGE_NAME_MAX + 1];         /* "" when none */
	char disk[TASK_DISK_MAX];               /* "" when the server left it null */
	bool verify;
	bool outside_partitions;                /* capture: free space too */
	bool raw_encrypted;                     /* capture: BitLocker taken whole */
	bool no_grow;                           /* deploy: the last partition stays */
	char hostname[64];                      /* deploy: the machine's name, or "" */
	bool quarantine;                        /* scan: infected files moved */
	char user[256];                         /* reset-password: the account */
	bool unlock, enable, list;              /* reset-password */
	char windows[256];                      /* reset-password: "N" or "DISK:N" */
	int64_t restore_of;                     /* restore: the scan task */
	uint64_t resume_offset;
	char chunk_url[TASK_URL_MAX];           /* ends with '/' when set */
	struct chunk_sources sources;           /* tried before chunk_url (deploy) */
	uint64_t chunk_size;
	int level;
	struct manifest manifest;               /* deploy only */
	struct agent_mcast mcast;               /* deploy only, optional */
	struct task_params params;              /* diagnose, wipe */
};

/* Parse and check the task JSON (the manifest too, for a deploy).
 * 0, -EINVAL with a reason in err, or -ENOMEM.  On success free with
 * task_free. */
int task_parse(const char *text, size_t len, struct agent_task *t, char *err, size_t errlen);
void task_free(struct agent_task *t);
/* params.c: the task's "params" member into t->params (absent: the
 * defaults); 0 or -EINVAL with a reason in err. */
struct json_t;
int task_params_parse(struct json_t *root, struct agent_task *t, char *err, size_t errlen);

const char *task_type_name(enum task_type type);
/* The reason into err (vsnprintf); returns -EINVAL. */
int task_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What a report may weigh as compact JSON: within pxed's 256 KiB. */
#define TASK_REPORT_SEND_MAX (200u << 10)
/* The report within max bytes of compact JSON: its longest list halved
 * until it fits, "truncated": true then (counts elsewhere stay exact); an
 * object that still does not fit is emptied. */
void task_report_bound(json_t *report, size_t max);

#endif
