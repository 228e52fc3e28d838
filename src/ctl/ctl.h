/* pxectl's parts: the HTTP client (pxectl.c) and the commands. */
#ifndef PXED_CTL_CTL_H
#define PXED_CTL_CTL_H

#include <jansson.h>
#include <stdbool.h>

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

/* Helpers of the commands (imaging.c): a string or number member of o
 * ("" / 0 when absent); unix seconds as local time ("-" for 0). */
const char *ctl_str(json_t *o, const char *key);
json_int_t ctl_num(json_t *o, const char *key);
void ctl_when(json_int_t t, char *out, size_t size);
/* bytes as "1.5 MiB". */
void ctl_size(json_int_t bytes, char *out, size_t size);
/* Run a call (body is consumed); on success print its JSON (--json) or
 * hand the answer to show.  0, or 1 with the error printed. */
int ctl_call(const struct ctl *c, const char *method, const char *path, json_t *body,
    const char *what, void (*show)(json_t *));

/* subnets.c: "subnet ...", "reload". */
int ctl_subnet(const struct ctl *c, int argc, char **argv);
int ctl_reload(const struct ctl *c);

/* views.c: "config", "transfers", "stats boots [HOURS]"; the transfers
 * section of "status" (nothing printed without a read token). */
int ctl_config(const struct ctl *c);
int ctl_transfers(const struct ctl *c);
int ctl_stats(const struct ctl *c, int argc, char **argv);
void ctl_status_transfers(const struct ctl *c);

/* imaging.c: "host ...", "group ...", "image ...", "task ..."; argv after
 * the noun. */
int ctl_host(const struct ctl *c, int argc, char **argv);
int ctl_image(const struct ctl *c, int argc, char **argv);
int ctl_task(const struct ctl *c, int argc, char **argv);
int ctl_mcast(const struct ctl *c, int argc, char **argv);
int ctl_group(const struct ctl *c, int argc, char **argv);
int ctl_token(const struct ctl *c, int argc, char **argv);
int ctl_watch(const struct ctl *c, int argc, char **argv);

#endif
