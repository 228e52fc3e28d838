/* pxectl's parts: the HTTP client (pxectl.c) and the commands. */
#ifndef PXED_CTL_CTL_H
#define PXED_CTL_CTL_H

#include <jansson.h>
#include <stdbool.h>

struct ctl {
	const char *server;             /* "http://127.0.0.1" */
	const char *token;              /* API token or NULL */
	bool json;                      /* print the server's JSON */
	const char *mcast;              /* task deploy --multicast NAME */
	bool replace;                   /* task capture --replace */
	const char *group;              /* task deploy --group NAME */
	long min_receivers, start_after, rate_mbit;     /* -1: the server's default */
	const char *fec;                /* --fec off|K,M; NULL: the server's default */
	const char *after;              /* --after reboot|poweroff|shell; NULL: the default */
	/* diagnose and repair (diag.c) */
	const char *tests;              /* task diagnose --tests LIST */
	bool destructive;               /* task diagnose --destructive */
	long duration;                  /* task diagnose --duration S; -1: the default */
	long memory_mb;                 /* task diagnose --memory-mb N; -1: most of the free */
	const char *level;              /* task wipe --level L */
	bool verify;                    /* task wipe --verify */
	bool wake;                      /* any task --wake */
};

/* method server+path with an optional JSON body and the token.  Returns
 * the HTTP status (0 when the server could not be reached; printed) and
 * the parsed answer in *out (NULL when none or not JSON). */
long ctl_request(const struct ctl *c, const char *method, const char *path, json_t *body,
    json_t **out);
/* Print the server's {"error": ...} (or the status) for a failed call. */
void ctl_print_error(const char *what, long status, json_t *answer);
void ctl_print_json(json_t *v);
/* A JSON string as a terminal may print it (control characters escaped;
 * with lines, newlines and tabs kept); "" for anything else.  Valid until
 * eight more calls. */
const char *ctl_text(json_t *v, bool lines);

/* imaging.c: "host ...", "group ...", "image ...", "task ..."; argv after
 * the noun. */
int ctl_host(const struct ctl *c, int argc, char **argv);
int ctl_image(const struct ctl *c, int argc, char **argv);
int ctl_task(const struct ctl *c, int argc, char **argv);
int ctl_mcast(const struct ctl *c, int argc, char **argv);
int ctl_group(const struct ctl *c, int argc, char **argv);

/* diag.c: "task diagnose|memtest|boot|wipe", "wake", "env", "host wol",
 * and what "host show" and "task show" print of them. */
int ctl_task_diag(const struct ctl *c, int argc, char **argv);   /* -1: not one of them */
int ctl_wake(const struct ctl *c, int argc, char **argv);
int ctl_env(const struct ctl *c, int argc, char **argv);
int ctl_host_wol(const struct ctl *c, int argc, char **argv);
void ctl_show_host_diag(json_t *h);
void ctl_show_task_diag(json_t *t);
/* imaging.c's helpers, for diag.c: a member's text (as ctl_text) or
 * integer, ... */
const char *ctl_str(json_t *o, const char *key);
json_int_t ctl_num(json_t *o, const char *key);
int ctl_call(const struct ctl *c, const char *method, const char *path, json_t *body,
    const char *what, void (*show)(json_t *));
const char *ctl_path(const char *prefix, const char *arg, const char *suffix);
void ctl_when(json_int_t t, char *out, size_t size);
void ctl_size(json_int_t bytes, char *out, size_t size);
void ctl_show_task(json_t *t);

#endif
