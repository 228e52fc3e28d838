/* libFuzzer harness: a subnet as written in an API path or a [subnet]
 * header, through config_parse_cidr() (the API's CIDR check builds on it).
 * Checks: a parsed subnet has no host bits, a contiguous mask, and its
 * canonical text "A.B.C.D/N" parses back to the same subnet. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[96], canon[48], a[INET_ADDRSTRLEN];
	struct in_addr net, mask, net2, mask2;

	if (size >= sizeof text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_parse_cidr(text, &net, &mask) != 0)
		return 0;
	uint32_t m = ntohl(mask.s_addr);
	if ((net.s_addr & ~mask.s_addr) != 0 || (m != 0 && (~m & (~m + 1)) != 0))
		abort();
	snprintf(canon, sizeof canon, "%s/%d", inet_ntop(AF_INET, &net, a, sizeof a),
	    __builtin_popcount(m));
	if (config_parse_cidr(canon, &net2, &mask2) != 0 || net2.s_addr != net.s_addr ||
	    mask2.s_addr != mask.s_addr)
		abort();
	return 0;
}
