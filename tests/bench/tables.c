// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tables.c - prefix tables shaped like real routing tables, for make bench. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tables.h"

struct len_weight {
	uint8_t len;
	uint16_t per_mille;
};

/* IPv4 default-free zone, roughly as it stood in 2024, plus a tail past /24. */
static const struct len_weight v4_lens[] = {
	{8, 1},	 {10, 1},  {11, 1},  {12, 1},  {13, 1},	 {14, 1},   {15, 2},  {16, 14},
	{17, 9}, {18, 15}, {19, 27}, {20, 45}, {21, 48}, {22, 115}, {23, 95}, {24, 610},
	{25, 2}, {26, 2},  {27, 2},  {28, 2},  {29, 2},	 {30, 1},   {31, 1},  {32, 2},
};

/* IPv6 default-free zone: mostly /29 to /48. */
static const struct len_weight v6_lens[] = {
	{20, 5},   {22, 3},  {24, 5},  {26, 2}, {28, 15}, {29, 50}, {30, 5},  {31, 5},
	{32, 120}, {33, 10}, {34, 10}, {35, 5}, {36, 40}, {37, 5},  {38, 5},  {39, 10},
	{40, 70},  {41, 5},  {42, 10}, {43, 5}, {44, 80}, {45, 10}, {46, 20}, {47, 10},
	{48, 455}, {52, 10}, {56, 15}, {60, 5}, {64, 10},
};

/* Where IPv6 unicast space has been handed out: 2001::/16 and the RIRs' /12s. */
static const struct {
	uint8_t hi[2];
	uint8_t len;
	uint8_t weight;
} v6_regions[] = {
	{{0x20, 0x01}, 16, 10}, {{0x24, 0x00}, 12, 20}, {{0x26, 0x00}, 12, 25},
	{{0x28, 0x00}, 12, 10}, {{0x2a, 0x00}, 12, 30}, {{0x2c, 0x00}, 12, 5},
};

static unsigned int draw_len(const struct len_weight *w, size_t nw, uint64_t *s)
{
	unsigned int r = (unsigned int)(pw_rand(s) % 1000);

	for (size_t i = 0; i < nw; i++) {
		if (r < w[i].per_mille)
			return w[i].len;
		r -= w[i].per_mille;
	}
	return w[nw - 1].len;
}

/* Random bits from bit @from (included) to @to (excluded); bits past @to cleared. */
static void fill_bits(uint8_t *addr, unsigned int from, unsigned int to, unsigned int maxlen,
		      uint64_t *s)
{
	for (unsigned int bit = from; bit < maxlen; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));

		if (bit < to && (pw_rand(s) & 1))
			addr[bit / 8] |= m;
		else
			addr[bit / 8] &= (uint8_t)~m;
	}
}

static uint64_t pfx_hash(const struct pw_prefix *p)
{
	uint64_t h = p->len * 0x9e3779b97f4a7c15ULL;

	for (int i = 0; i < 16; i++)
		h = (h ^ p->addr[i]) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

int pw_table_gen(int family, size_t n, uint64_t seed, struct pw_prefix *out)
{
	const bool v4 = family == AF_INET;
	const struct len_weight *lw = v4 ? v4_lens : v6_lens;
	const size_t nlw =
		v4 ? sizeof(v4_lens) / sizeof(v4_lens[0]) : sizeof(v6_lens) / sizeof(v6_lens[0]);
	const unsigned int maxlen = v4 ? 32 : 128, parent_max = v4 ? 24 : 48;
	size_t hcap = 1, count = 0, nparents = 0;
	uint32_t *hash, *parents;
	uint64_t s = seed;

	while (hcap < 2 * n + 2)
		hcap <<= 1;
	hash = malloc(hcap * sizeof(*hash));
	parents = malloc((n + 1) * sizeof(*parents));
	if (!hash || !parents) {
		free(hash);
		free(parents);
		return -ENOMEM;
	}
	memset(hash, 0xff, hcap * sizeof(*hash));

	while (count < n) {
		struct pw_prefix p = {.family = (uint8_t)family};
		unsigned int len = draw_len(lw, nlw, &s);
		size_t slot;

		/* About half the prefixes are more specifics of an earlier one. */
		if (nparents && pw_rand(&s) % 100 < (v4 ? 45 : 50)) {
			const struct pw_prefix *par = &out[parents[pw_rand(&s) % nparents]];

			for (int tries = 0; len <= par->len && tries < 8; tries++)
				len = draw_len(lw, nlw, &s);
			if (len <= par->len)
				len = par->len + 1 +
				      (unsigned int)(pw_rand(&s) % (parent_max - par->len));
			memcpy(p.addr, par->addr, sizeof(p.addr));
			fill_bits(p.addr, par->len, len, maxlen, &s);
		} else if (v4) {
			/* Unicast space: 1.0.0.0 to 223.255.255.255. */
			p.addr[0] = (uint8_t)(1 + pw_rand(&s) % 223);
			fill_bits(p.addr, 8, len, maxlen, &s);
		} else {
			unsigned int r = (unsigned int)(pw_rand(&s) % 100), i = 0;

			while (r >= v6_regions[i].weight) {
				r -= v6_regions[i].weight;
				i++;
			}
			p.addr[0] = v6_regions[i].hi[0];
			p.addr[1] = v6_regions[i].hi[1];
			fill_bits(p.addr, v6_regions[i].len, len, maxlen, &s);
		}
		p.len = (uint8_t)len;
		fill_bits(p.addr, len, len, maxlen, &s); /* host bits zero */

		for (slot = pfx_hash(&p) & (hcap - 1); hash[slot] != UINT32_MAX;
		     slot = (slot + 1) & (hcap - 1))
			if (pw_prefix_equal(&out[hash[slot]], &p))
				break;
		if (hash[slot] != UINT32_MAX)
			continue; /* drawn before */
		hash[slot] = (uint32_t)count;
		out[count] = p;
		if (len < parent_max)
			parents[nparents++] = (uint32_t)count;
		count++;
	}
	free(hash);
	free(parents);
	return 0;
}

void pw_dests_gen(const struct pw_prefix *table, size_t n_table, size_t n, uint64_t seed,
		  uint8_t *addrs, uint32_t *which)
{
	uint64_t s = seed;

	for (size_t i = 0; i < n; i++) {
		size_t k = pw_rand(&s) % n_table;
		const struct pw_prefix *p = &table[k];
		unsigned int maxlen = p->family == AF_INET ? 32 : 128;
		uint8_t *a = addrs + 16 * i;

		memcpy(a, p->addr, 16);
		fill_bits(a, p->len, maxlen, maxlen, &s);
		which[i] = (uint32_t)k;
	}
}
