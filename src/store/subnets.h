/* Subnets changed while pxed runs (pxectl subnet enable/disable): a mode
 * per CIDR, applied over the config file's [subnet] sections at start-up
 * and at each reload.  Schema 8. */
#ifndef PXED_STORE_SUBNETS_H
#define PXED_STORE_SUBNETS_H

#include <stddef.h>
#include <stdint.h>

struct store;

struct store_subnet {
	char cidr[48];
	char mode[8];                   /* full, proxy, off */
	int64_t changed_ms;
};

/* Record mode for cidr (replacing an earlier change).  0 or -EIO. */
int store_subnet_set(struct store *st, const char *cidr, const char *mode, int64_t changed_ms);
/* Forget the change of cidr (the file's settings stand again).  0,
 * -ENOENT or -EIO. */
int store_subnet_delete(struct store *st, const char *cidr);
/* The change of cidr: 0, -ENOENT or -EIO. */
int store_subnet_get(struct store *st, const char *cidr, struct store_subnet *out);
/* Up to max changes, oldest first; the count or -EIO. */
int store_subnet_list(struct store *st, struct store_subnet *out, size_t max);

#endif
