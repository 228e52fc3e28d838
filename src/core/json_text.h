/* JSON text of a jansson value that is whole or nothing.
 *
 * jansson 2.14's json_dumps() goes on when the write of an object's key
 * fails for want of memory and returns the rest: text that is not JSON
 * ({"mac":"..",":"n58"...}), which a reply or a file would then carry.
 * json_text() dumps through its own buffer and returns NULL when any
 * write failed. */
#ifndef PXED_CORE_JSON_TEXT_H
#define PXED_CORE_JSON_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* The text of v (malloc'd, NUL-terminated; its length in *len when len is
 * not NULL), dumped with jansson's flags (JSON_COMPACT ...); NULL when v
 * is NULL or memory ran out. */
char *json_text(const json_t *v, size_t flags, size_t *len);

#endif
