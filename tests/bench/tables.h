/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tables.h - prefix tables shaped like real routing tables, and destinations drawn across
 * them, for make bench. Seeded: the same arguments give the same table on every machine.
 */
#ifndef PW_BENCH_TABLES_H
#define PW_BENCH_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "prefix.h"

/* splitmix64: small, fast, good enough to draw tables and addresses. */
static inline uint64_t pw_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * pw_table_gen() - @n distinct prefixes of @family (AF_INET or AF_INET6), in random order.
 *
 * IPv4: lengths as in the IPv4 default-free zone (/24 about 60%, then /22, /23, /21, /20,
 * a few shorter than /16 and a small tail of /25../32); IPv6: /48 about 40%, /32, /44,
 * /40, /36, /29, inside the RIRs' /12s. About half of the prefixes are drawn inside an
 * earlier one, so tables hold nested prefixes as real ones do. Returns 0 or -ENOMEM.
 */
int pw_table_gen(int family, size_t n, uint64_t seed, struct pw_prefix *out);

/*
 * pw_dests_gen() - @n destinations drawn across @table: a random prefix, then random host
 * bits. Destination i goes to @addrs + 16 * i (network order; IPv4 in the first 4 bytes)
 * and the index in @table of the prefix it was drawn from to @which[i].
 */
void pw_dests_gen(const struct pw_prefix *table, size_t n_table, size_t n, uint64_t seed,
		  uint8_t *addrs, uint32_t *which);

#endif /* PW_BENCH_TABLES_H */
