/* Chunk sources by subnet: which mirrors or caches an agent tries before
 * this server (docs/IMAGING.md, "Chunks from caches").
 *
 * The table is made from the configuration at start and at every reload
 * (main.c calls api_chunk_sources_set) and read by the API threads when an
 * agent fetches its task: the subnet is the most specific [subnet] holding
 * the address the agent's request comes from (the address it has on the
 * subnet it booted from); a subnet without its own chunk-sources gets the
 * global one.  The values were checked when the file was read
 * (chunk_sources_check); one that no longer parses is logged and left out. */
#include "api/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "image/sources.h"

struct api_chunk_sources {
	struct chunk_sources global;
	size_t count;
	struct chunk_sources_rule rule[CONFIG_SUBNETS_MAX];
};

static void
sources_parse_logged(const char *where, const char *text, struct chunk_sources *out)
{
	char err[256];

	if (text[0] != '\0' && chunk_sources_parse(text, out, err, sizeof err) < 0) {
		log_error("api: chunk-sources of %s left out: %s", where, err);
		memset(out, 0, sizeof *out);
	}
}

void
api_chunk_sources_set(struct api *a, const struct config *cfg)
{
	struct api_chunk_sources *t = calloc(1, sizeof *t), *old;

	if (t == NULL) {
		log_error("api: out of memory for the chunk sources: kept as they were");
		return;
	}
	sources_parse_logged("the global setting", cfg->chunk_sources, &t->global);
	for (size_t i = 0; i < cfg->subnet_count; i++) {
		const struct config_subnet *sn = &cfg->subnet[i];
		struct chunk_sources_rule *r = &t->rule[t->count];
		if (sn->chunk_sources[0] == '\0')
			continue;
		r->network = sn->network;
		r->netmask = sn->netmask;
		sources_parse_logged(sn->name, sn->chunk_sources, &r->sources);
		t->count++;
	}
	pthread_rwlock_wrlock(&a->sources_lock);
	old = a->sources;
	a->sources = t;
	pthread_rwlock_unlock(&a->sources_lock);
	free(old);
}

void
api_chunk_sources_free(struct api *a)
{
	free(a->sources);
	a->sources = NULL;
}

json_t *
api_chunk_sources_json(struct api *a, struct in_addr peer, char *where, size_t size)
{
	const struct chunk_sources_rule *r = NULL;
	const struct chunk_sources *s = NULL;
	char addr[INET_ADDRSTRLEN] = "", net[INET_ADDRSTRLEN] = "";
	json_t *list = json_array();

	inet_ntop(AF_INET, &peer, addr, sizeof addr);
	snprintf(where, size, "%s: no cache", addr);
	pthread_rwlock_rdlock(&a->sources_lock);
	if (a->sources != NULL && peer.s_addr != 0)
		r = chunk_sources_pick(a->sources->rule, a->sources->count, peer);
	if (a->sources != NULL)
		s = r != NULL ? &r->sources : &a->sources->global;
	for (size_t i = 0; list != NULL && s != NULL && i < s->count; i++)
		json_array_append_new(list, json_string(s->url[i]));
	if (r != NULL) {
		inet_ntop(AF_INET, &r->network, net, sizeof net);
		snprintf(where, size, "%s: subnet %s/%d's", addr, net,
		    __builtin_popcount(r->netmask.s_addr));
	} else if (s != NULL && s->count > 0) {
		snprintf(where, size, "%s: the global ones", addr);
	}
	pthread_rwlock_unlock(&a->sources_lock);
	return list;
}

bool
api_repo_local(const struct api *a)
{
	const char *repo = a->cfg.image_repo;

	return repo == NULL || repo[0] == '\0' || strcmp(repo, "local") == 0;
}

int
api_image_repo_check(const char *value, char *err, size_t size)
{
	size_t skip = strncmp(value, "http://", 7) == 0 ? 7 : strncmp(value, "https://", 8) == 0 ?
	    8 : 0;

	if (strcmp(value, "local") == 0)
		return 0;
	for (const char *p = value; skip > 0 && *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\')
			skip = 0;
	if (skip == 0 || value[skip] == '\0' || value[skip] == '/') {
		snprintf(err, size, "'%.64s' is not local or the http:// URL of the pxed that "
		    "holds the repository", value);
		return -EINVAL;
	}
	return 0;
}
