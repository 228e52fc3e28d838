/* A local Windows account's F and V values: parsed and changed in place
 * (src/agent/sam.c, pure, fuzzed). */
#ifndef PXED_AGENT_SAM_H
#define PXED_AGENT_SAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAM_ACB_DISABLED 0x0001
#define SAM_ACB_LOCKED   0x0400
#define SAM_NAME_MAX     256             /* UTF-8 bytes kept of a name */

struct sam_user {
	uint32_t rid;
	char name[SAM_NAME_MAX];        /* UTF-8, control characters as '?' */
	uint16_t acb;                   /* account control bits */
	uint16_t failed;                /* failed logons */
	bool disabled, locked, has_password;
};

/* 0, or -EINVAL when F or V is too short or an entry lies outside V. */
int sam_user_parse(const uint8_t *f, size_t flen, const uint8_t *v, size_t vlen,
    struct sam_user *out);
/* The LM and NT hashes and their histories zeroed and their lengths set
 * to 0 (no password), V's size unchanged.  0 or -EINVAL (nothing changed). */
int sam_v_blank(uint8_t *v, size_t vlen);
/* enable: the disabled bit cleared; unlock: the locked-out bit and the
 * failed logon count cleared.  0 or -EINVAL. */
int sam_f_change(uint8_t *f, size_t flen, bool unlock, bool enable);
/* Account names compared as Windows does (ASCII letters without case). */
bool sam_user_name_equal(const char *a, const char *b);

#endif
