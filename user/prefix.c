// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* prefix.c - IPv4 and IPv6 CIDR prefixes: parse, print, compare, contain. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "prefix.h"

unsigned int pw_prefix_maxlen(const struct pw_prefix *p)
{
	return p->family == AF_INET ? 32 : 128;
}

static bool host_bits_zero(const uint8_t *addr, unsigned int len, unsigned int maxlen)
{
	for (unsigned int bit = len; bit < maxlen; bit++)
		if (addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

int pw_prefix_parse(const char *text, struct pw_prefix *out, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash, *p;
	unsigned long len = 0;
	size_t alen;

	memset(out, 0, sizeof(*out));
	if (!text || !*text) {
		snprintf(err, errlen, "empty prefix");
		return -1;
	}
	slash = strchr(text, '/');
	if (!slash) {
		snprintf(err, errlen, "'%.64s' is not a prefix: missing '/length'", text);
		return -1;
	}
	alen = (size_t)(slash - text);
	if (alen == 0 || alen >= sizeof(addr)) {
		snprintf(err, errlen, "'%.64s' is not a prefix: bad address", text);
		return -1;
	}
	memcpy(addr, text, alen);
	addr[alen] = '\0';

	p = slash + 1;
	if (!*p || strlen(p) > 3) {
		snprintf(err, errlen, "'%.64s': prefix length must be a number", text);
		return -1;
	}
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(err, errlen, "'%.64s': prefix length must be a number", text);
			return -1;
		}
		len = len * 10 + (unsigned long)(*p - '0');
	}

	if (strchr(addr, ':')) {
		out->family = AF_INET6;
		if (inet_pton(AF_INET6, addr, out->addr) != 1) {
			snprintf(err, errlen, "'%.64s' is not a valid IPv6 address", addr);
			return -1;
		}
	} else {
		out->family = AF_INET;
		if (inet_pton(AF_INET, addr, out->addr) != 1) {
			snprintf(err, errlen, "'%.64s' is not a valid IPv4 address", addr);
			return -1;
		}
	}
	if (len > pw_prefix_maxlen(out)) {
		snprintf(err, errlen, "'%.64s': prefix length %lu exceeds %u", text, len,
			 pw_prefix_maxlen(out));
		return -1;
	}
	out->len = (uint8_t)len;
	if (!host_bits_zero(out->addr, out->len, pw_prefix_maxlen(out))) {
		struct pw_prefix net = *out;
		char buf[PW_PREFIX_STRLEN];

		for (unsigned int bit = net.len; bit < pw_prefix_maxlen(&net); bit++)
			net.addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
		snprintf(err, errlen, "'%.64s' has host bits set (did you mean %s?)", text,
			 pw_prefix_format(&net, buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

const char *pw_prefix_format(const struct pw_prefix *p, char *buf, size_t buflen)
{
	char addr[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family, p->addr, addr, sizeof(addr)))
		snprintf(addr, sizeof(addr), "?");
	snprintf(buf, buflen, "%s/%u", addr, p->len);
	return buf;
}

bool pw_prefix_contains(const struct pw_prefix *outer, const struct pw_prefix *inner)
{
	unsigned int full, rest;

	if (outer->family != inner->family || outer->len > inner->len)
		return false;
	full = outer->len / 8;
	rest = outer->len % 8;
	if (memcmp(outer->addr, inner->addr, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((outer->addr[full] & mask) != (inner->addr[full] & mask))
			return false;
	}
	return true;
}

int pw_prefix_cmp(const void *a, const void *b)
{
	const struct pw_prefix *x = a, *y = b;
	int r;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	r = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (r)
		return r;
	return (int)x->len - (int)y->len;
}

bool pw_prefix_equal(const struct pw_prefix *a, const struct pw_prefix *b)
{
	return pw_prefix_cmp(a, b) == 0;
}
