/* The task pxed assigned to this machine: GET /api/v1/agent/task. */
#ifndef PXED_AGENT_TASK_H
#define PXED_AGENT_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/manifest.h"
#include "image/sources.h"

#define TASK_DISK_MAX 256
#define TASK_URL_MAX 1024
#define TASK_CHUNK_SIZE_DEFAULT (4u << 20)
#define TASK_LEVEL_DEFAULT 3

enum task_type { TASK_DEPLOY, TASK_CAPTURE, TASK_WIPE, TASK_SHELL };

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
	uint64_t resume_offset;
	char chunk_url[TASK_URL_MAX];           /* ends with '/' when set */
	struct chunk_sources sources;           /* tried before chunk_url (deploy) */
	uint64_t chunk_size;
	int level;
	struct manifest manifest;               /* deploy only */
	struct agent_mcast mcast;               /* deploy only, optional */
};

/* Parse and check the task JSON (the manifest too, for a deploy).
 * 0, -EINVAL with a reason in err, or -ENOMEM.  On success free with
 * task_free. */
int task_parse(const char *text, size_t len, struct agent_task *t, char *err, size_t errlen);
void task_free(struct agent_task *t);

const char *task_type_name(enum task_type type);

#endif
