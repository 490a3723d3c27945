// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_cidr.c - libFuzzer target: pw_prefix_parse() on any string, and the round trip
 * parse -> format -> parse -> format, which must reach a fixed point at once: the same
 * prefix and the same canonical text.
 */
#include <sys/socket.h>

#include "fuzz_common.h"
#include "prefix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512], out1[PW_PREFIX_STRLEN], out2[PW_PREFIX_STRLEN], err[256];
	struct pw_prefix p, q;

	if (size >= sizeof(text))
		return -1;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 0x5a, sizeof(err));
	if (pw_prefix_parse(text, &p, err, sizeof(err))) {
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) && err[0], "no reason given");
		return 0;
	}
	FUZZ_ASSERT(p.family == AF_INET || p.family == AF_INET6, "family %u", p.family);
	FUZZ_ASSERT(p.len <= pw_prefix_maxlen(&p), "'%s': length %u", text, p.len);
	pw_prefix_format(&p, out1, sizeof(out1));
	FUZZ_ASSERT(pw_prefix_parse(out1, &q, err, sizeof(err)) == 0, "'%s' -> '%s': %s", text,
		    out1, err);
	FUZZ_ASSERT(pw_prefix_equal(&p, &q) && !memcmp(&p, &q, sizeof(p)),
		    "'%s' -> '%s' parses to another prefix", text, out1);
	pw_prefix_format(&q, out2, sizeof(out2));
	FUZZ_ASSERT(!strcmp(out1, out2), "'%s' -> '%s' -> '%s'", text, out1, out2);
	FUZZ_ASSERT(pw_prefix_contains(&p, &q) && pw_prefix_contains(&q, &p), "'%s'", out1);
	/* Only a prefix of the other family, or a longer one, is ever outside it. */
	if (p.len > 0) {
		struct pw_prefix up = p;

		up.len--;
		up.addr[up.len / 8] &= (uint8_t) ~(0x80 >> (up.len % 8));
		FUZZ_ASSERT(pw_prefix_contains(&up, &p) && !pw_prefix_contains(&p, &up) &&
				    pw_prefix_cmp(&up, &p) < 0,
			    "'%s' and its parent", out1);
	}
	return 0;
}
