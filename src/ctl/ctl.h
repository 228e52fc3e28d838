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
	const char *scope;              /* token create --scope read|admin */
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
int ctl_token(const struct ctl *c, int argc, char **argv);

#endif
