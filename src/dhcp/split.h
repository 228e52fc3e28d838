/* The load-balancing split of clients between servers sharing one
 * database, in the spirit of RFC 3074: a client's hardware address
 * (chaddr) hashes into one of 256 buckets, and each bucket belongs to one
 * live server.  Pure functions: every server computes the same split from
 * the same list of live servers. */
#ifndef PXED_DHCP_SPLIT_H
#define PXED_DHCP_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPLIT_BUCKETS 256
#define SPLIT_SERVERS_MAX 32
#define SPLIT_NAME_MAX 64

/* RFC 3074 section 6's hash: Pearson's, its table, seeded with len. */
uint8_t split_hash(const uint8_t *key, size_t len);

/* The bucket of an IPv4 address (network order bytes): the pool picks
 * free addresses from its own buckets first, so servers offering at the
 * same time rarely pick the same one. */
uint8_t split_addr_bucket(uint32_t host_order);

/* owner[b]: the index in names[] (n live servers, any order, distinct)
 * of bucket b's server: the highest of a hash of (name, b) -- rendezvous
 * hashing, so when a server leaves only its buckets move, spread over the
 * others, and when it comes back it takes the same ones back.  Ties go to
 * the name first in byte order.  n == 0: every owner is 0. */
void split_owners(const char (*names)[SPLIT_NAME_MAX], size_t n, uint8_t owner[SPLIT_BUCKETS]);

#endif
