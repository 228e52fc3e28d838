/* Boot rules and the decision for a classified client (boot/policy.h).
 * Pure: no sockets, no clock, no logging. */
#include "boot/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "boot/quirks.h"
#include "core/util.h"

#define TARGET_LOCAL "local"
#define URL_SCHEME "http://"
#define NEXT_SERVER_VAR "${next-server}"
#define MAC_VAR "${mac}"
#define CLASS_NAME_MAX 16               /* longest class name + NUL, rounded */

static bool
is_http_class(enum boot_class cls)
{
	return cls == BOOT_CLASS_EFI32_HTTP || cls == BOOT_CLASS_EFI64_HTTP ||
	    cls == BOOT_CLASS_ARM32_HTTP || cls == BOOT_CLASS_ARM64_HTTP;
}

/* "http://" (any case) followed by at least one byte. */
static bool
is_http_url(const char *s)
{
	size_t n = strlen(URL_SCHEME);

	return strncasecmp(s, URL_SCHEME, n) == 0 && s[n] != '\0';
}

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

__attribute__((format(printf, 3, 4))) static int
fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err && err_size > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* "CLASS" at the start of *p (after blanks), up to a blank or '='. */
static enum boot_class
parse_class(const char **p, char *name, size_t name_size)
{
	const char *s = *p;

	while (is_blank(*s))
		s++;
	size_t len = strcspn(s, " \t=");
	*p = s + len;
	if (len >= name_size) {
		str_copy(name, "(too long)", name_size);
		return BOOT_CLASS_NONE;
	}
	memcpy(name, s, len);
	name[len] = '\0';
	return boot_class_parse(name);
}

/* Target: the rest after blanks, one optional '=', blanks; trailing junk
 * removed (quirk (c)).  Checks everything boot_rules_add promises. */
static int
parse_target(const char *s, enum boot_class cls, char *target, char *err, size_t err_size)
{
	while (is_blank(*s))
		s++;
	if (*s == '=')
		s++;
	while (is_blank(*s))
		s++;
	size_t len = boot_name_clean(target, BOOT_TARGET_MAX, (const uint8_t *)s, strlen(s));
	if (len == 0)
		return fail(err, err_size, "boot rule for %s: missing target",
		    boot_class_name(cls));
	if (len >= BOOT_TARGET_MAX)
		return fail(err, err_size, "boot rule for %s: target longer than %d bytes",
		    boot_class_name(cls), BOOT_TARGET_MAX - 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)target[i];
		if (ch <= ' ' || ch == 0x7f)
			return fail(err, err_size,
			    "boot rule for %s: target contains a space or control byte",
			    boot_class_name(cls));
	}
	if (is_http_class(cls) && !is_http_url(target) && strcmp(target, TARGET_LOCAL) != 0)
		return fail(err, err_size, "boot rule for %s: target must be an http:// URL",
		    boot_class_name(cls));
	return 0;
}

int
boot_rules_add(struct boot_rules *r, const char *spec, char *err, size_t err_size)
{
	char name[CLASS_NAME_MAX];
	char target[BOOT_TARGET_MAX];
	const char *p = spec;
	size_t i;

	enum boot_class cls = parse_class(&p, name, sizeof name);
	if (cls == BOOT_CLASS_NONE)
		return fail(err, err_size, "unknown boot class \"%s\" (bios, efi32, efi64, "
		    "arm32, arm64, efi32-http, efi64-http, arm32-http, arm64-http, ipxe)", name);
	int rc = parse_target(p, cls, target, err, err_size);
	if (rc < 0)
		return rc;
	for (i = 0; i < r->count && r->rule[i].cls != cls; i++)
		;
	if (i == r->count) {
		/* cannot happen: fewer classes than slots */
		if (r->count >= BOOT_RULES_MAX)
			return fail(err, err_size, "too many boot rules");
		r->count++;
	}
	r->rule[i].cls = cls;
	str_copy(r->rule[i].target, target, sizeof r->rule[i].target);
	return 0;
}

static const struct boot_rule *
find_in(const struct boot_rules *r, enum boot_class cls)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->count && i < BOOT_RULES_MAX; i++) {
		if (r->rule[i].cls == cls)
			return &r->rule[i];
	}
	return NULL;
}

/* host > subnet > global; *matched names the level that had the rule. */
static const struct boot_rule *
find_rule(const struct boot_rules *const levels[3], enum boot_class cls, const char **matched)
{
	static const char *const names[3] = { "host", "subnet", "global" };

	for (size_t i = 0; i < 3; i++) {
		const struct boot_rule *rule = find_in(levels[i], cls);
		if (rule) {
			*matched = names[i];
			return rule;
		}
	}
	return NULL;
}

static int
append(char *out, size_t size, size_t *used, const char *s, size_t len)
{
	if (len >= size - *used)
		return -ENAMETOOLONG;
	memcpy(out + *used, s, len);
	*used += len;
	out[*used] = '\0';
	return 0;
}

/* The value of the variable at the start of s ("${next-server}" or
 * "${mac}") and its length, or 0 when none starts there. */
static size_t
url_var(const char *s, struct in_addr next_server, const struct boot_client *c,
    char *value, size_t size)
{
	if (strncmp(s, NEXT_SERVER_VAR, strlen(NEXT_SERVER_VAR)) == 0) {
		if (!inet_ntop(AF_INET, &next_server, value, (socklen_t)size))
			return 0;
		return strlen(NEXT_SERVER_VAR);
	}
	if (strncmp(s, MAC_VAR, strlen(MAC_VAR)) == 0 && c->mac_len > 0 &&
	    size >= (size_t)c->mac_len * 3) {
		size_t o = 0;
		for (size_t i = 0; i < c->mac_len; i++)
			o += (size_t)snprintf(value + o, size - o, "%s%02x", i ? "-" : "",
			    c->mac[i]);
		return strlen(MAC_VAR);
	}
	return 0;
}

/* Copy url to out with ${next-server} replaced by the dotted address and
 * ${mac} by the client's MAC (aa-bb-cc-dd-ee-ff).  -ENAMETOOLONG when the
 * result does not fit. */
static int
expand_url(const char *url, struct in_addr next_server, const struct boot_client *c,
    char *out, size_t size)
{
	char value[64];
	size_t used = 0;

	out[0] = '\0';
	for (;;) {
		const char *hit = strstr(url, "${");
		size_t lit = hit ? (size_t)(hit - url) : strlen(url), var;
		if (append(out, size, &used, url, lit) < 0)
			return -ENAMETOOLONG;
		if (!hit)
			return 0;
		var = url_var(hit, next_server, c, value, sizeof value);
		if (var == 0) {         /* not ours (iPXE expands its own) */
			if (append(out, size, &used, hit, 2) < 0)
				return -ENAMETOOLONG;
			url = hit + 2;
			continue;
		}
		if (append(out, size, &used, value, strlen(value)) < 0)
			return -ENAMETOOLONG;
		url = hit + var;
	}
}

static void
apply_target(const char *target, struct in_addr next_server, const struct boot_client *c,
    struct boot_decision *d)
{
	if (strcmp(target, TARGET_LOCAL) == 0) {
		d->kind = BOOT_LOCAL;
	} else if (is_http_url(target)) {
		if (expand_url(target, next_server, c, d->file, sizeof d->file) == 0) {
			d->kind = BOOT_HTTP;
		} else {
			d->kind = BOOT_NOTHING;
			d->file[0] = '\0';
		}
	} else {
		d->kind = BOOT_TFTP;
		str_copy(d->file, target, sizeof d->file);
	}
}

/* PXE MTFTP only for BIOS PXE ROMs: EDK2 discards offers carrying 43.1-5
 * (it has no MTFTP), and iPXE is given scripts. */
static void
decide_mtftp(const struct boot_rules *scope, const struct boot_client *c,
    struct boot_decision *d)
{
	if (scope == NULL || scope->mtftp == NULL || d->kind != BOOT_TFTP ||
	    !d->vendor_pxe_client || c->cls != BOOT_CLASS_BIOS)
		return;
	d->mtftp = mtftp_files_find(scope->mtftp, d->file);
	d->mtftp_table = d->mtftp != NULL ? scope->mtftp : NULL;
}

/* A UEFI HTTP boot client without a *-http rule: the file of its
 * architecture's TFTP rule (efi64 for efi64-http ...), over pxed's HTTP.
 * True when that gave a decision. */
static bool
decide_http_from_tftp(const struct boot_rules *const levels[3], const struct boot_client *c,
    struct in_addr next_server, unsigned port, struct boot_decision *d)
{
	enum boot_class tftp_cls = c->cls - (BOOT_CLASS_EFI32_HTTP - BOOT_CLASS_EFI32);
	const struct boot_rule *rule = find_rule(levels, tftp_cls, &d->matched);
	char addr[INET_ADDRSTRLEN], portpart[16] = "";

	if (rule == NULL || is_http_url(rule->target) || strcmp(rule->target, TARGET_LOCAL) == 0 ||
	    inet_ntop(AF_INET, &next_server, addr, sizeof addr) == NULL)
		return false;
	if (port != 80)
		snprintf(portpart, sizeof portpart, ":%u", port);
	if ((size_t)snprintf(d->file, sizeof d->file, "http://%s%s/%s", addr, portpart,
	    rule->target + (rule->target[0] == '/')) >= sizeof d->file) {
		d->file[0] = '\0';
		return false;
	}
	d->kind = BOOT_HTTP;
	d->vendor_http_client = true;
	return true;
}

void
boot_decide(const struct boot_rules *global, const struct boot_rules *subnet,
    const struct boot_rules *host, const struct boot_client *c,
    struct in_addr next_server, struct boot_decision *d)
{
	const struct boot_rules *const levels[3] = { host, subnet, global };
	const struct boot_rule *rule = NULL;

	memset(d, 0, sizeof *d);
	d->kind = BOOT_NOTHING;
	d->matched = "none";
	d->cls = c->cls;
	if (c->cls == BOOT_CLASS_NONE)
		return;
	rule = find_rule(levels, c->cls, &d->matched);
	if (!rule && c->cls == BOOT_CLASS_IPXE) {
		/* no "ipxe" rule anywhere: boot it like its architecture */
		enum boot_class arch = boot_arch_class(c);
		if (arch != BOOT_CLASS_NONE)
			rule = find_rule(levels, arch, &d->matched);
	}
	if (!rule && is_http_class(c->cls) && global != NULL && global->http_port != 0) {
		decide_http_from_tftp(levels, c, next_server, global->http_port, d);
		return;
	}
	if (!rule)
		return;
	d->cls = rule->cls;
	apply_target(rule->target, next_server, c, d);
	if (d->kind == BOOT_NOTHING)
		return;
	d->vendor_http_client = is_http_class(d->cls);
	d->vendor_pxe_client = c->pxe_client && (d->kind == BOOT_TFTP || d->kind == BOOT_LOCAL);
	decide_mtftp(subnet != NULL ? subnet : global, c, d);
}

int
boot_rule_check(const char *spec, char *err, size_t err_size)
{
	static struct boot_rules scratch;       /* config loads on one thread */

	scratch.count = 0;
	return boot_rules_add(&scratch, spec, err, err_size);
}
