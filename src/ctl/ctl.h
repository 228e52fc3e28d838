/* pxectl's parts: the HTTP client (pxectl.c) and the commands. */
#ifndef PXED_CTL_CTL_H
#define PXED_CTL_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_TABLE_COLS 12
#define CTL_CONFIG_DEFAULT "/etc/pxed/pxed.conf"      /* pxed's, read for its address */

/* A table printed with every column as wide as its widest cell. */
struct ctl_table {
	size_t cols, rows, cap;
	const char *head[CTL_TABLE_COLS];
	bool right[CTL_TABLE_COLS];     /* numbers: aligned right */
	char **cell;                    /* rows x cols, copies */
	bool oom;
};

struct ctl {
	const char *server;             /* "http://127.0.0.1" */
	const char *token;              /* API token or NULL */
	const char *cacert;             /* CA of an https:// server (--cacert), or NULL */
	bool json;                      /* print the server's JSON */
	const char *mcast;              /* task deploy --multicast NAME */
	bool replace;                   /* task capture --replace */
	const char *group;              /* task deploy --group NAME */
	long min_receivers, start_after, rate_mbit;     /* -1: the server's default */
	const char *fec;                /* --fec off|K,M; NULL: the server's default */
	const char *after;              /* --after reboot|poweroff|shell; NULL: the default */
	const char *scope;              /* token create --scope read|admin */
	bool proxy;                     /* subnet enable --proxy */
	/* diagnose and repair (diag.c) */
	const char *tests;              /* task diagnose --tests LIST */
	bool destructive;               /* task diagnose --destructive */
	long duration;                  /* task diagnose --duration S; -1: the default */
	long memory_mb;                 /* task diagnose --memory-mb N; -1: most of the free */
	const char *level;              /* task wipe --level L */
	bool verify;                    /* task wipe --verify */
	bool wake;                      /* any task --wake */
	unsigned task_flags;            /* CTL_NO_GROW...: the task's boolean options */
	const char *user;               /* reset-password --user NAME */
	const char *windows;            /* reset-password --windows PATH */
};

enum {
	CTL_NO_GROW = 1u << 0, CTL_OUTSIDE = 1u << 1, CTL_RAW_ENCRYPTED = 1u << 2,
	CTL_QUARANTINE = 1u << 3, CTL_UNLOCK = 1u << 4, CTL_ENABLE = 1u << 5,
	CTL_LIST = 1u << 6,
};

/* method server+path with an optional JSON body and the token.  Returns
 * the HTTP status (0 when the server could not be reached; printed) and
 * the parsed answer in *out (NULL when none or not JSON). */
long ctl_request(const struct ctl *c, const char *method, const char *path, json_t *body,
    json_t **out);
/* GET server+path: the HTTP status (0: none, said why) and the answer's
 * text in *out (malloc'd, "" when none). */
long ctl_request_text(const struct ctl *c, const char *path, char **out);
/* Print the server's {"error": ...} (or the status) for a failed call. */
void ctl_print_error(const char *what, long status, json_t *answer);
void ctl_print_json(json_t *v);
/* A JSON string as a terminal may print it (control characters escaped;
 * with lines, newlines and tabs kept); "" for anything else.  Valid until
 * eight more calls. */
const char *ctl_text(json_t *v, bool lines);

/* Helpers of the commands (imaging.c): a string member of o as a
 * terminal may print it ("" when absent), a number member (0). */
const char *ctl_str(json_t *o, const char *key);
json_int_t ctl_num(json_t *o, const char *key);
/* Run a call (body is consumed); on success print its JSON (--json) or
 * hand the answer to show.  0, or 1 with the error printed. */
int ctl_call(const struct ctl *c, const char *method, const char *path, json_t *body,
    const char *what, void (*show)(json_t *));

/* subnets.c: "subnet ...", "reload". */
int ctl_subnet(const struct ctl *c, int argc, char **argv);
int ctl_reload(const struct ctl *c);
/* table.c.  heads: the column titles; a leading '>' aligns the column
 * right (numbers).  cells: one string per column (copied).  print writes
 * the title line and the rows after indent, then frees the table. */
void ctl_table_begin(struct ctl_table *t, size_t cols, const char *const heads[]);
void ctl_table_add(struct ctl_table *t, const char *const cells[]);
void ctl_table_print(struct ctl_table *t, const char *indent);
void ctl_table_free(struct ctl_table *t);
/* "1.5 MiB", "2026-12-07 11:48:00" (local time; "-" for 0), "4.2 MiB/s",
 * "3.2 s" / "2 min 5 s" / "1 h 02 min" into out; return out. */
const char *ctl_size(int64_t bytes, char *out, size_t size);
const char *ctl_when(int64_t unix_s, char *out, size_t size);
const char *ctl_rate(int64_t bytes_per_s, char *out, size_t size);
const char *ctl_duration(int64_t ms, char *out, size_t size);

/* local.c: the local pxed's API URL and token file from its config file
 * at path.  0 (both set), 1 (no such file and it was not given: keep the
 * defaults), -1 (it cannot be used: said why). */
int ctl_local_defaults(const char *path, bool given, char *server, size_t server_size,
    char *token_file, size_t token_size);

/* views.c: "config", "transfers", "stats boots [HOURS]"; the table of
 * transfers in flight (also status's section). */
int ctl_config(const struct ctl *c);
int ctl_transfers(const struct ctl *c);
int ctl_stats(const struct ctl *c, int argc, char **argv);
void ctl_show_transfers(json_t *answer);

/* imaging.c: "host ...", "group ...", "image ...", "task ..."; argv after
 * the noun. */
int ctl_host(const struct ctl *c, int argc, char **argv);
int ctl_image(const struct ctl *c, int argc, char **argv);
int ctl_task(const struct ctl *c, int argc, char **argv);
/* prefix + the escaped argument + suffix (a static buffer). */
char *ctl_path3(const char *prefix, const char *arg, const char *suffix);
void ctl_show_task(json_t *t);
void ctl_show_host(json_t *h);

/* fstasks.c: the task option flag arg stands for (CTL_...), or 0. */
unsigned ctl_task_flag(const char *arg);
/* body with --after and the task's options; NULL stays NULL. */
json_t *ctl_with_options(const struct ctl *c, json_t *body);
/* A task's "report" (findings, accounts), escaped for the terminal. */
void ctl_show_report(json_t *task);
/* task scan | reset-password | restore: the exit status, or -1 when verb
 * is none of them (or the arguments do not fit). */
int ctl_task_fs(const struct ctl *c, const char *verb, int argc, char **argv);
/* host set HOST hostname=NAME */
int ctl_host_set(const struct ctl *c, int argc, char **argv);
int ctl_mcast(const struct ctl *c, int argc, char **argv);
int ctl_group(const struct ctl *c, int argc, char **argv);
int ctl_token(const struct ctl *c, int argc, char **argv);
int ctl_watch(const struct ctl *c, int argc, char **argv);
/* Tables of {"tasks": [...]} and of the sessions of {"sessions": [...]}
 * that have not ended (pxectl status). */
void ctl_show_tasks(json_t *answer);
void ctl_show_subnets(json_t *answer);
void ctl_show_sessions_running(json_t *answer);

/* diag.c: "task diagnose|memtest|boot|wipe", "wake", "env", "host wol",
 * and what "host show" and "task show" print of them. */
int ctl_task_diag(const struct ctl *c, int argc, char **argv);   /* -1: not one of them */
int ctl_wake(const struct ctl *c, int argc, char **argv);
int ctl_env(const struct ctl *c, int argc, char **argv);
int ctl_host_wol(const struct ctl *c, int argc, char **argv);
void ctl_show_host_diag(json_t *h);
void ctl_show_task_diag(json_t *t);

#endif
