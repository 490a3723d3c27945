/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * poller.h - from the kernel's per-id counters to what is reported: inclusive counts per
 * configured prefix and per group, their rates, and reloads that keep them monotonic.
 *
 * The kernel counts each packet once, at the most specific configured prefix. Sorting the
 * distinct prefixes by (family, address, length) puts every prefix's more specifics right
 * after it, so a prefix's inclusive count is a range sum over that order, and a group's is
 * the sum of the ranges of its outermost prefixes (each address once, even where the
 * group's prefixes overlap).
 *
 * Counters are shared: the kernel counts a packet at the counter id of its most specific
 * prefix, and prefixes share an id when nothing can tell them apart. A prefix is *read*
 * when something reads its count on its own (a group with export = prefix or per_prefix =
 * yes). A prefix's *class* is the pair (the groups it counts towards, its nearest read
 * prefix, itself included): prefixes of one class share one id, so the counters needed
 * are the classes, a handful for a full table in one export = group group.
 */
#ifndef PW_POLLER_H
#define PW_POLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "prefixwatch.h"

/* Where the poller reads counters and writes prefix tables: the BPF maps, or a fake. */
struct pw_source {
	void *ctx;
	uint32_t max_ids;
	int (*read_counters)(void *ctx, uint32_t n, struct pw_counter *out);
	/* @refs: each prefix's PW_REF, its counter id and anatomy slot */
	int (*set_prefixes)(void *ctx, const struct pw_prefix *pfx, const uint32_t *refs,
			    size_t n);
	/* Monotonic seconds, to time a reload's flip; NULL: the @now given to the apply. */
	double (*clock)(void *ctx);
};

struct pw_rate {
	double pps;
	double bps; /* bits per second */
};

/* One distinct configured prefix, in sorted order. */
struct pw_pentry {
	struct pw_prefix pfx;
	uint32_t id;	      /* kernel counter id: its class's */
	uint32_t end;	      /* index one past its last more specific prefix */
	uint32_t cls;	      /* its class */
	bool read;	      /* read on its own: in and rate are kept only then */
	struct pw_counter in; /* inclusive count since start (read prefixes) */
	struct pw_rate rate;
	struct pw_counter from; /* count the next rate starts from, at time from_t */
	double from_t;
};

/* A class of prefixes that share a counter: same groups, same nearest read prefix. */
struct pw_pclass {
	uint32_t id;	   /* kernel counter id */
	int32_t rd;	   /* index in the read list of its nearest read prefix, or -1 */
	uint32_t set, n_set; /* its groups: indices, sorted, at pw_classes.pool[set] */
	uint32_t slot;	     /* anatomy slot of its set of groups: 0 for none (prefixwatch.h) */
};

struct pw_classes {
	struct pw_pclass *c;
	size_t n;
	uint32_t *pool;	  /* group index lists of the classes */
	uint32_t *rd;	  /* sorted-order indices of the read prefixes */
	uint32_t *rd_end; /* per read prefix: one past its last read more specific, in rd */
	size_t n_rd;
	size_t n_sets;		/* distinct sets of groups, the empty one included */
	uint32_t n_slots;	/* one past the highest anatomy slot in use */
	size_t n_unslotted;	/* prefixes in a group but left without a slot (too many sets) */
};

struct pw_gview {
	const struct pw_group *cfg;
	uint32_t *members;   /* sorted-order indices of the group's prefixes */
	size_t n_members;
	uint32_t *outer;     /* the members not inside another member */
	size_t n_outer;
	uint32_t *cls;	     /* the classes counted into the group */
	size_t n_cls;
	struct pw_counter in; /* inclusive count since start */
	struct pw_rate rate;
	struct pw_counter from; /* count the next rate starts from, at time from_t */
	double from_t;
	/*
	 * Added to the computed count (modulo 2^64) so a group that survives a reload
	 * continues from where it was, even when its prefixes changed.
	 */
	struct pw_counter offset;
};

struct pw_poller {
	struct pw_source src;
	struct pw_config cfg; /* the live config (owned) */
	bool have_cfg;
	struct pw_pentry *p;
	size_t n;
	struct pw_gview *g;
	size_t n_groups;
	struct pw_classes cl;
	/* per kernel id: raw value when the id was given out, and carried-in totals */
	struct pw_counter *base, *carry, *raw;
	uint8_t *used; /* per id: 1 when in the live set */
	uint32_t id_hi; /* one past the highest id ever used */
	double last_poll; /* time of the last poll, seconds; 0 before the first */
	double last_dt;
};

int pw_poller_init(struct pw_poller *pl, const struct pw_source *src);
void pw_poller_free(struct pw_poller *pl);

/*
 * pw_poller_apply() - make @cfg the live configuration (the first, or a reload).
 * Takes ownership of @cfg's allocations on success. A class that stays (same group names,
 * same nearest read prefix) keeps its id and its counts; the counts of a class that goes
 * pass to the class of its read prefix's nearest enclosing read prefix of the new set, so
 * no read prefix's inclusive count goes backwards; a group that stays (by name) continues
 * from its count, whatever its prefixes became. A prefix read only from now on starts at
 * zero; so does a new group, but for the history of the read prefixes it holds. @now is
 * the time of the first apply (the start of the first rates). The next rate of a read
 * prefix or group that stays starts at the last poll, as if there had been no reload, so
 * it holds the packets that arrived while the reload ran; that of a new one starts at the
 * flip (timed by the source's clock). Returns 0, or -errno with nothing changed.
 */
int pw_poller_apply(struct pw_poller *pl, struct pw_config *cfg, double now);

/*
 * pw_poller_ids_needed() - the counter ids @cfg takes: its classes. Returns the count, or
 * -ENOMEM.
 */
long pw_poller_ids_needed(const struct pw_config *cfg);

/* Read the counters and update counts and rates. Returns 0 or -errno. */
int pw_poller_poll(struct pw_poller *pl, double now);

/* Index of @pfx in sorted order, or -1. */
long pw_poller_find(const struct pw_poller *pl, const struct pw_prefix *pfx);

#endif /* PW_POLLER_H */
