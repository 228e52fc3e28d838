/* A local account of a Windows SAM hive, from its F and V values (the
 * bytes of SAM\Domains\Account\Users\<RID>): parsed with a cursor and
 * changed in place, never resized.  Pure: disk bytes in, a description or
 * the same bytes changed out; fuzzed (fuzz/fuzz_sam.c).
 *
 * F (fixed, 0x50 bytes here at least): RID at 0x30, the account control
 * bits at 0x38 (0x0001 disabled, 0x0400 locked out), the failed logons
 * since the last good one at 0x40.  V: a table of 17 entries of 12 bytes
 * (offset, length, unused) ending at 0xCC, the data after it; entry 1
 * (at 0x0C) is the account name (UTF-16LE), entries at 0x9C and 0xA8 the
 * LM and NT hashes, 0xB4 and 0xC0 their histories.  A hash entry shorter
 * than 16 bytes holds no hash. */
#include "agent/sam.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "core/cursor.h"

#define F_RID_AT        0x30
#define F_ACB_AT        0x38
#define F_FAILED_AT     0x40
#define F_MIN           0x44
#define V_TABLE         0xcc
#define V_NAME_AT       0x0c
#define V_LM_AT         0x9c
#define V_NT_AT         0xa8
#define V_NT_HISTORY_AT 0xb4
#define V_LM_HISTORY_AT 0xc0
#define HASH_MIN        16

static const unsigned hash_entries[] = { V_LM_AT, V_NT_AT, V_NT_HISTORY_AT, V_LM_HISTORY_AT };

static bool
le16_at(const uint8_t *p, size_t len, size_t at, uint16_t *out)
{
	struct cursor c = cursor_make(p, len);

	return cursor_skip(&c, at) && cursor_le16(&c, out);
}

static bool
le32_at(const uint8_t *p, size_t len, size_t at, uint32_t *out)
{
	struct cursor c = cursor_make(p, len);

	return cursor_skip(&c, at) && cursor_le32(&c, out);
}

static void
put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof v);
}

static void
put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof v);
}

/* A V entry's data: [V_TABLE + off, + len) inside v.  false when outside. */
static bool
v_entry(const uint8_t *v, size_t vlen, unsigned at, uint32_t *off, uint32_t *len)
{
	if (!le32_at(v, vlen, at, off) || !le32_at(v, vlen, at + 4, len))
		return false;
	return *off <= vlen - V_TABLE && *len <= vlen - V_TABLE - *off;
}

/* UTF-16LE into UTF-8 (surrogate pairs joined; a lone one becomes U+FFFD);
 * NUL and control characters become '?'.  Bounded by size. */
static void
utf16_to_utf8(const uint8_t *s, size_t bytes, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i + 1 < bytes; i += 2) {
		uint32_t c = (uint32_t)s[i] | (uint32_t)s[i + 1] << 8;
		if (c >= 0xd800 && c < 0xdc00 && i + 3 < bytes) {
			uint32_t lo = (uint32_t)s[i + 2] | (uint32_t)s[i + 3] << 8;
			if (lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			}
		}
		if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd;
		if (c < 0x20 || c == 0x7f)
			c = '?';
		uint8_t b[4];
		size_t n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
		if (n == 1)
			b[0] = (uint8_t)c;
		else if (n == 2)
			b[0] = (uint8_t)(0xc0 | c >> 6);
		else if (n == 3)
			b[0] = (uint8_t)(0xe0 | c >> 12);
		else
			b[0] = (uint8_t)(0xf0 | c >> 18);
		for (size_t k = 1; k < n; k++)
			b[k] = (uint8_t)(0x80 | ((c >> (6 * (n - 1 - k))) & 0x3f));
		if (o + n + 1 > size)
			break;
		memcpy(out + o, b, n);
		o += n;
	}
	out[o] = '\0';
}

int
sam_user_parse(const uint8_t *f, size_t flen, const uint8_t *v, size_t vlen,
    struct sam_user *out)
{
	uint32_t off, len, lm_len = 0, nt_len = 0;
	uint16_t acb, failed;

	memset(out, 0, sizeof *out);
	if (!le32_at(f, flen, F_RID_AT, &out->rid) || !le16_at(f, flen, F_ACB_AT, &acb) ||
	    !le16_at(f, flen, F_FAILED_AT, &failed) || flen < F_MIN)
		return -EINVAL;
	if (vlen < V_TABLE || !v_entry(v, vlen, V_NAME_AT, &off, &len) || len == 0 ||
	    !v_entry(v, vlen, V_LM_AT, &off, &lm_len) ||
	    !v_entry(v, vlen, V_NT_AT, &off, &nt_len))
		return -EINVAL;
	v_entry(v, vlen, V_NAME_AT, &off, &len);
	utf16_to_utf8(v + V_TABLE + off, len, out->name, sizeof out->name);
	out->acb = acb;
	out->failed = failed;
	out->disabled = (acb & SAM_ACB_DISABLED) != 0;
	out->locked = (acb & SAM_ACB_LOCKED) != 0;
	out->has_password = lm_len >= HASH_MIN || nt_len >= HASH_MIN;
	return 0;
}

int
sam_v_blank(uint8_t *v, size_t vlen)
{
	uint32_t off, len, name_off, name_len;

	if (vlen < V_TABLE || !v_entry(v, vlen, V_NAME_AT, &name_off, &name_len))
		return -EINVAL;
	/* a hash lying over the name is a damaged V: nothing is changed */
	for (size_t i = 0; i < sizeof hash_entries / sizeof hash_entries[0]; i++)
		if (!v_entry(v, vlen, hash_entries[i], &off, &len) ||
		    (len > 0 && name_len > 0 && off < name_off + name_len &&
		    name_off < off + len))
			return -EINVAL;
	for (size_t i = 0; i < sizeof hash_entries / sizeof hash_entries[0]; i++) {
		v_entry(v, vlen, hash_entries[i], &off, &len);
		memset(v + V_TABLE + off, 0, len);      /* the hash bytes are gone */
		put32(v + hash_entries[i] + 4, 0);
	}
	return 0;
}

int
sam_f_change(uint8_t *f, size_t flen, bool unlock, bool enable)
{
	uint16_t acb;

	if (flen < F_MIN || !le16_at(f, flen, F_ACB_AT, &acb))
		return -EINVAL;
	if (enable)
		acb &= (uint16_t)~SAM_ACB_DISABLED;
	if (unlock) {
		acb &= (uint16_t)~SAM_ACB_LOCKED;
		put16(f + F_FAILED_AT, 0);
	}
	put16(f + F_ACB_AT, acb);
	return 0;
}

bool
sam_user_name_equal(const char *a, const char *b)
{
	size_t i;

	/* Windows matches account names without case (ASCII here) */
	for (i = 0; a[i] != '\0' && b[i] != '\0'; i++) {
		char x = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] + 32) : a[i];
		char y = b[i] >= 'A' && b[i] <= 'Z' ? (char)(b[i] + 32) : b[i];
		if (x != y)
			return false;
	}
	return a[i] == b[i];
}
