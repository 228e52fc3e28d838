/* Registry hives (SYSTEM, SAM) edited in memory with libhivex
 * (src/agent/hive.c). */
#ifndef PXED_AGENT_HIVE_H
#define PXED_AGENT_HIVE_H

#include <hivex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hive;

/* A hive from its bytes (copied).  0, or a negative errno (-EINVAL and
 * friends: hivex refused it as damaged). */
int hive_open(const uint8_t *data, size_t len, bool write, struct hive **out);
void hive_close(struct hive *hv);
hive_h *hive_handle(struct hive *hv);
/* The key at path (names, matched without case as Windows does) from the
 * root: 0 when one is missing. */
hive_node_h hive_find(struct hive *hv, const char *const *path, size_t n);
/* A value's raw bytes (malloc'd), at most max.  0, -ENOENT, -EFBIG, -EINVAL. */
int hive_value_bytes(struct hive *hv, hive_node_h node, const char *key, size_t max,
    uint8_t **data, size_t *len, hive_type *type);
/* Sets (adds or replaces) a value. */
int hive_set_bytes(struct hive *hv, hive_node_h node, const char *key, hive_type type,
    const void *data, size_t len);
/* A REG_SZ value from ASCII text (UTF-16LE, NUL-terminated). */
int hive_set_string(struct hive *hv, hive_node_h node, const char *key, const char *ascii);
/* The hive's bytes after the changes (malloc'd). */
int hive_commit(struct hive *hv, uint8_t **data, size_t *len);

#endif
