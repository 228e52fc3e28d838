/* The manifest of a quarantine: /pxed-quarantine/TASK/manifest.json on
 * the filesystem whose files it moved.  Read back from the disk by a
 * restore, so parsed as untrusted (qmanifest.c, pure, fuzzed). */
#ifndef PXED_AGENT_QMANIFEST_H
#define PXED_AGENT_QMANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define QMANIFEST_MAX           (64u << 20)     /* bytes */
#define QMANIFEST_FILES_MAX     100000
#define QMANIFEST_PATH_MAX      4096
#define QMANIFEST_SIG_MAX       256

struct qfile {
	char name[16];                  /* in the quarantine directory: 4-8 digits */
	char *path;                     /* where it was: absolute, normalized (malloc'd) */
	uint64_t size;
	char sha256[65];                /* lower-case hex */
	char signature[QMANIFEST_SIG_MAX];
};

struct qmanifest {
	int64_t task;                   /* the scan task */
	int64_t restored_by;            /* the restore task that put them back; 0: none */
	struct qfile *files;
	size_t nfiles;
};

/* 0, -EINVAL with err (what is wrong), or -ENOMEM.  Free with
 * qmanifest_free (also after a failure). */
int qmanifest_parse(const char *text, size_t len, struct qmanifest *out, char *err,
    size_t errlen);
/* Compact JSON (malloc'd) that qmanifest_parse reads back the same. */
char *qmanifest_format(const struct qmanifest *m);
void qmanifest_free(struct qmanifest *m);
/* A path as the manifest keeps them: absolute, no empty, "." or ".."
 * component, no control character, at most QMANIFEST_PATH_MAX bytes. */
int qmanifest_path_ok(const char *path);

#endif
