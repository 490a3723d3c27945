/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* prefix.h - IPv4 and IPv6 CIDR prefixes: parse, print, compare, contain. */
#ifndef PW_PREFIX_H
#define PW_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest text of a prefix: an IPv6 address, '/', three digits, NUL. */
#define PW_PREFIX_STRLEN (46 + 4 + 1)

struct pw_prefix {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t len;	/* prefix length in bits */
	uint8_t addr[16]; /* network byte order; host bits are zero; IPv4 uses the first 4 */
};

/**
 * pw_prefix_parse() - parse "a.b.c.d/n" or "x:y::z/n".
 * @text: the prefix, without surrounding blanks
 * @out:  the parsed prefix
 * @err:  on failure, receives a one-line reason (no location)
 *
 * Host bits must be zero: "10.0.0.1/8" is refused rather than silently truncated,
 * because it is more often a typo than a wish. Returns 0 or -1.
 */
int pw_prefix_parse(const char *text, struct pw_prefix *out, char *err, size_t errlen);

/* Canonical text (inet_ntop form, IPv6 compressed lower case) into @buf. */
const char *pw_prefix_format(const struct pw_prefix *p, char *buf, size_t buflen);

/* Number of address bits of the family: 32 or 128. */
unsigned int pw_prefix_maxlen(const struct pw_prefix *p);

/* True when @outer holds every address of @inner (a prefix holds itself). */
bool pw_prefix_contains(const struct pw_prefix *outer, const struct pw_prefix *inner);

/* Total order: family, then address, then length. For qsort and bsearch. */
int pw_prefix_cmp(const void *a, const void *b);

bool pw_prefix_equal(const struct pw_prefix *a, const struct pw_prefix *b);

#endif /* PW_PREFIX_H */
