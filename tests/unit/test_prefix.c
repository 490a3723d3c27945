// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* test_prefix.c - CIDR parsing, canonical output, containment and order. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "prefix.h"

struct good {
	const char *in;
	const char *canonical;
	int family;
	unsigned int len;
};

static const struct good goods[] = {
	{ "10.0.0.0/8", "10.0.0.0/8", AF_INET, 8 },
	{ "0.0.0.0/0", "0.0.0.0/0", AF_INET, 0 },
	{ "175.45.176.0/22", "175.45.176.0/22", AF_INET, 22 },
	{ "192.0.2.1/32", "192.0.2.1/32", AF_INET, 32 },
	{ "255.255.255.255/32", "255.255.255.255/32", AF_INET, 32 },
	{ "10.0.0.0/08", "10.0.0.0/8", AF_INET, 8 },
	{ "::/0", "::/0", AF_INET6, 0 },
	{ "2001:DB8::/32", "2001:db8::/32", AF_INET6, 32 },
	{ "2001:0db8:0000:0000:0000:0000:0000:0000/32", "2001:db8::/32", AF_INET6, 32 },
	{ "2001:db8:0:0:1:0:0:1/128", "2001:db8::1:0:0:1/128", AF_INET6, 128 },
	{ "fe80::/10", "fe80::/10", AF_INET6, 10 },
	{ "::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104", AF_INET6, 104 },
	{ "2001:db8:1::/48", "2001:db8:1::/48", AF_INET6, 48 },
};

static void test_parse_and_format(void **state)
{
	char err[256], buf[PW_PREFIX_STRLEN];
	struct pw_prefix p;

	(void)state;
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		if (pw_prefix_parse(goods[i].in, &p, err, sizeof(err)))
			fail_msg("%s: refused: %s", goods[i].in, err);
		assert_int_equal(p.family, goods[i].family);
		assert_int_equal(p.len, goods[i].len);
		assert_string_equal(pw_prefix_format(&p, buf, sizeof(buf)), goods[i].canonical);
	}
}

struct bad {
	const char *in;
	const char *reason; /* a word the error must contain */
};

static const struct bad bads[] = {
	{ "", "empty" },
	{ "10.0.0.0", "missing" },
	{ "10.0.0.1/8", "host bits" },
	{ "10.0.0.0/33", "exceeds 32" },
	{ "2001:db8::/129", "exceeds 128" },
	{ "2001:db8::1/64", "host bits" },
	{ "garbage", "missing" },
	{ "garbage/8", "not a valid IPv4" },
	{ "10.0.0/8", "not a valid IPv4" },
	{ "10.0.0.0/", "number" },
	{ "10.0.0.0/8x", "number" },
	{ "10.0.0.0/-1", "number" },
	{ "10.0.0.0/ 8", "number" },
	{ "10.0.0.0/0008", "number" },
	{ "/8", "bad address" },
	{ "2001:db8::g/32", "not a valid IPv6" },
	{ "1.2.3.4.5/32", "not a valid IPv4" },
	{ " 10.0.0.0/8", "not a valid IPv4" },
	{ "10.0.0.0/8/8", "number" },
};

static void test_errors(void **state)
{
	char err[256];
	struct pw_prefix p;

	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		err[0] = '\0';
		if (pw_prefix_parse(bads[i].in, &p, err, sizeof(err)) == 0)
			fail_msg("'%s' was accepted", bads[i].in);
		if (!strstr(err, bads[i].reason))
			fail_msg("'%s': error '%s' lacks '%s'", bads[i].in, err, bads[i].reason);
	}
}

static void test_host_bits_hint(void **state)
{
	char err[256];
	struct pw_prefix p;

	(void)state;
	assert_int_equal(pw_prefix_parse("175.45.177.0/22", &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "did you mean 175.45.176.0/22?"));
}

/*
 * "ADDR/len" where ADDR has the single bit @bit set (bit 0 the address's first); @len
 * and @bit chosen by the caller.
 */
static void one_bit(int family, unsigned int bit, unsigned int len, char *out, size_t outlen)
{
	uint8_t a[16] = { 0 };
	char txt[INET6_ADDRSTRLEN];

	a[bit / 8] = (uint8_t)(0x80 >> (bit % 8));
	assert_non_null(inet_ntop(family, a, txt, sizeof(txt)));
	snprintf(out, outlen, "%s/%u", txt, len);
}

/*
 * The host-bit check covers every host bit, the first one included: at each length, an
 * address whose only bit is the first host bit (10.128.0.0/8) is refused, and one whose
 * only bit is the last network bit (1.0.0.0/8) is accepted.
 * Every other bad case has a stray bit further right, which a check starting one bit
 * late still sees.
 */
static void test_first_host_bit(void **state)
{
	static const unsigned int v4[] = { 0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31 };
	static const unsigned int v6[] = { 0, 1, 8, 31, 32, 33, 47, 48, 56, 63, 64, 65, 96, 127 };
	char txt[64], err[256];
	struct pw_prefix p;

	(void)state;
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		one_bit(AF_INET, v4[i], v4[i], txt, sizeof(txt));
		if (pw_prefix_parse(txt, &p, err, sizeof(err)) == 0)
			fail_msg("'%s' (first host bit set) was accepted", txt);
		if (!strstr(err, "host bits"))
			fail_msg("'%s': error '%s' lacks 'host bits'", txt, err);
		if (v4[i] == 0)
			continue;
		one_bit(AF_INET, v4[i] - 1, v4[i], txt, sizeof(txt));
		if (pw_prefix_parse(txt, &p, err, sizeof(err)))
			fail_msg("'%s' (last network bit set) refused: %s", txt, err);
	}
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		one_bit(AF_INET6, v6[i], v6[i], txt, sizeof(txt));
		if (pw_prefix_parse(txt, &p, err, sizeof(err)) == 0)
			fail_msg("'%s' (first host bit set) was accepted", txt);
		if (!strstr(err, "host bits"))
			fail_msg("'%s': error '%s' lacks 'host bits'", txt, err);
		if (v6[i] == 0)
			continue;
		one_bit(AF_INET6, v6[i] - 1, v6[i], txt, sizeof(txt));
		if (pw_prefix_parse(txt, &p, err, sizeof(err)))
			fail_msg("'%s' (last network bit set) refused: %s", txt, err);
	}
	/* the case from the review, spelled out */
	assert_int_equal(pw_prefix_parse("10.128.0.0/8", &p, err, sizeof(err)), -1);
	assert_int_equal(pw_prefix_parse("2001:db8:8000::/32", &p, err, sizeof(err)), -1);
}

static struct pw_prefix P(const char *s)
{
	struct pw_prefix p;
	char err[256];

	if (pw_prefix_parse(s, &p, err, sizeof(err)))
		fail_msg("%s: %s", s, err);
	return p;
}

static void test_contains(void **state)
{
	struct pw_prefix a = P("10.0.0.0/8"), b = P("10.1.0.0/16"), c = P("11.0.0.0/8");
	struct pw_prefix d = P("0.0.0.0/0"), e = P("::/0"), f = P("2001:db8::/32");
	struct pw_prefix g = P("10.0.0.0/9"), h = P("10.128.0.0/9");

	(void)state;
	assert_true(pw_prefix_contains(&a, &b));
	assert_false(pw_prefix_contains(&b, &a));
	assert_true(pw_prefix_contains(&a, &a));
	assert_false(pw_prefix_contains(&a, &c));
	assert_true(pw_prefix_contains(&d, &c));
	assert_false(pw_prefix_contains(&d, &f)); /* families never mix */
	assert_true(pw_prefix_contains(&e, &f));
	assert_true(pw_prefix_contains(&a, &g));
	assert_true(pw_prefix_contains(&a, &h));
	assert_false(pw_prefix_contains(&g, &h));
	assert_false(pw_prefix_contains(&h, &b)); /* 10.1/16 lies in the lower /9 */
	assert_true(pw_prefix_contains(&g, &b));
}

static void test_order(void **state)
{
	struct pw_prefix a = P("10.0.0.0/8"), b = P("10.0.0.0/16"), c = P("2001:db8::/32");

	(void)state;
	assert_true(pw_prefix_cmp(&a, &b) < 0);
	assert_true(pw_prefix_cmp(&b, &a) > 0);
	assert_true(pw_prefix_cmp(&a, &c) < 0);
	assert_int_equal(pw_prefix_cmp(&a, &a), 0);
	assert_true(pw_prefix_equal(&a, &a));
	assert_false(pw_prefix_equal(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_format), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_host_bits_hint),	 cmocka_unit_test(test_first_host_bit),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests_name("prefix", tests, NULL, NULL);
}
