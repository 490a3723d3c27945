/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lookup.h - destination address to prefix id: the one interface the XDP program uses
 * to find which configured prefix a packet belongs to.
 *
 * Each family has PW_TABLES longest-prefix-match tables; pw_active names the live one.
 * A reload fills the idle table and then flips pw_active with one map update, so every
 * packet sees either the whole old prefix set or the whole new one, never a mix.
 */
#ifndef PW_LOOKUP_H
#define PW_LOOKUP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "prefixwatch.h"

#define PW_LPM_MAP(name, keytype, maxent)                                                  \
	struct {                                                                           \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                                       \
		__type(key, keytype);                                                      \
		__type(value, struct pw_prefix_id);                                        \
		__uint(max_entries, maxent);                                               \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                      \
	} name SEC(".maps")

/* IPv4 prefix tables: prefix -> counter id; written by userspace only. */
PW_LPM_MAP(pw_v4_0, struct pw_key_v4, PW_MAX_PREFIXES_V4);
PW_LPM_MAP(pw_v4_1, struct pw_key_v4, PW_MAX_PREFIXES_V4);
/* IPv6 prefix tables: prefix -> counter id; written by userspace only. */
PW_LPM_MAP(pw_v6_0, struct pw_key_v6, PW_MAX_PREFIXES_V6);
PW_LPM_MAP(pw_v6_1, struct pw_key_v6, PW_MAX_PREFIXES_V6);

/* Index (0 or 1) of the live table of both families; written by userspace on reload. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} pw_active SEC(".maps");

static __always_inline __u32 pw_active_table(void)
{
	__u32 zero = 0;
	__u32 *active = bpf_map_lookup_elem(&pw_active, &zero);

	return active ? *active : 0;
}

/**
 * pw_lookup_v4() - id of the most specific IPv4 prefix holding @daddr.
 * Returns 0 and sets @id on a match, -1 when no prefix holds the address.
 */
static __always_inline int pw_lookup_v4(const void *daddr, __u32 *id)
{
	struct pw_key_v4 key = { .prefixlen = 32 };
	struct pw_prefix_id *v;

	__builtin_memcpy(key.addr, daddr, sizeof(key.addr));
	if (pw_active_table())
		v = bpf_map_lookup_elem(&pw_v4_1, &key);
	else
		v = bpf_map_lookup_elem(&pw_v4_0, &key);
	if (!v)
		return -1;
	*id = v->id;
	return 0;
}

/**
 * pw_lookup_v6() - id of the most specific IPv6 prefix holding @daddr.
 * Returns 0 and sets @id on a match, -1 when no prefix holds the address.
 */
static __always_inline int pw_lookup_v6(const void *daddr, __u32 *id)
{
	struct pw_key_v6 key = { .prefixlen = 128 };
	struct pw_prefix_id *v;

	__builtin_memcpy(key.addr, daddr, sizeof(key.addr));
	if (pw_active_table())
		v = bpf_map_lookup_elem(&pw_v6_1, &key);
	else
		v = bpf_map_lookup_elem(&pw_v6_0, &key);
	if (!v)
		return -1;
	*id = v->id;
	return 0;
}

#endif /* PW_LOOKUP_H */
