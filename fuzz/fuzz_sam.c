/* libFuzzer harness: a SAM account's F and V values from disk (any
 * bytes; the first byte says how many of the rest are F) parsed by
 * src/agent/sam.c: whatever parses has a printable name; unlocking and
 * enabling F always works, blanking V works unless a hash lies over the
 * name, and then both parse back without a password, not locked, not
 * disabled, with the same RID and name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sam.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sam_user u, again;
	size_t flen;
	uint8_t *f, *v;

	if (size < 1)
		return 0;
	flen = (size_t)data[0] * 2 < size - 1 ? (size_t)data[0] * 2 : size - 1;
	f = malloc(flen ? flen : 1);
	v = malloc(size - 1 - flen ? size - 1 - flen : 1);
	memcpy(f, data + 1, flen);
	memcpy(v, data + 1 + flen, size - 1 - flen);
	if (sam_user_parse(f, flen, v, size - 1 - flen, &u) == 0) {
		for (size_t i = 0; u.name[i] != '\0'; i++)
			if ((unsigned char)u.name[i] < 0x20 || u.name[i] == 0x7f)
				abort();
		if (sam_f_change(f, flen, true, true) != 0)
			abort();
		if (sam_v_blank(v, size - 1 - flen) == 0 && (sam_user_parse(f, flen, v, size - 1 - flen, &again) != 0 || again.has_password ||
		    again.locked || again.disabled || again.rid != u.rid ||
		    strcmp(again.name, u.name) != 0))
			abort();
	}
	free(f);
	free(v);
	return 0;
}
