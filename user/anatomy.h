/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * anatomy.h - flood anatomy: per group, the traffic by protocol class (exact, from the
 * datapath's class counters), the top UDP source ports and the top targets (from the
 * datapath's packet samples), the reflector-port table, and a flood detector per class.
 *
 * The datapath counts each packet at a prefix id in one class at the id's anatomy slot; a
 * slot stands for one set of groups (the groups whose inclusive counts the id adds to), so
 * a group's class count is the sum of the slots whose set holds it. Userspace gives out the
 * slots on every (re)load and accumulates per-group totals from per-poll deltas, so the
 * totals never go backwards across reloads.
 */
#ifndef PW_ANATOMY_H
#define PW_ANATOMY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detector.h"
#include "exporter.h"
#include "poller.h"
#include "prefixwatch.h"

struct pw_bpf;
struct pw_watch_item;

/* Class name of enum pw_proto ("tcp-syn", ...), "?" out of range. */
const char *pw_proto_name(unsigned int proto);

/* enum pw_proto of a class name, -1 for NULL or an unknown name. */
int pw_proto_index(const char *name);

/* Service of a well-known UDP reflector (amplifier) source port, or NULL. */
const char *pw_reflector_service(uint16_t port);

/*
 * Where the anatomy reads the datapath: the BPF maps, or a fake in tests. (The slots are
 * the poller's to write, in the prefix tables.)
 */
struct pw_anat_source {
	void *ctx;
	/* Per-CPU sums of the class counters of slots 0..@n_slots-1 (n_slots * PW_PROTOS). */
	int (*read_classes)(void *ctx, uint32_t n_slots, struct pw_counter *out);
	/* Append the samples written since the last call (at most @cap) to @out; count in @n. */
	int (*read_samples)(void *ctx, struct pw_sample *out, size_t cap, size_t *n);
};

/* The BPF maps of @b as a source (ctx is an internal state: free with pw_anat_bpf_free). */
int pw_anat_bpf_source(struct pw_bpf *b, struct pw_anat_source *src);
void pw_anat_bpf_free(struct pw_anat_source *src);

/* One group's anatomy. */
struct pw_anat_group {
	char name[PW_GROUP_NAME_MAX + 1];
	struct pw_counter total[PW_PROTOS]; /* since start, monotonic across reloads */
	struct pw_counter delta[PW_PROTOS]; /* over the last interval */
	double pps[PW_PROTOS], bps[PW_PROTOS];
	struct pw_detector det[PW_PROTOS]; /* flood-only detector of each class */
	struct pw_detect_cfg cls_cfg[PW_PROTOS];
	bool announced[PW_PROTOS]; /* a class flood whose start event went out */
	bool quiet;		   /* the group's own flood alarm is on, unannounced */
};

struct pw_anatomy {
	struct pw_anat_source src;
	struct pw_anat_group *g; /* same order as the poller's groups */
	size_t n_groups;
	uint32_t n_slots;   /* slots in use, slot 0 included */
	uint32_t *slot_off; /* groups of slot s: slot_grp[slot_off[s] .. slot_off[s+1]) */
	uint32_t *slot_grp;
	struct pw_counter *raw; /* last read, per slot * PW_PROTOS */
	bool have_raw;
	uint32_t overflow_ids; /* prefixes left in slot 0 because the slots ran out */
	struct pw_sample *smp; /* the samples of the last interval */
	size_t n_smp, cap_smp;
	uint64_t samples_total;
	uint64_t seen_packets; /* the groups' packet counts summed, at the last read */
	double last_dt;
};

struct pw_watch;

/*
 * Give @w a flood anatomy read from the maps of @b (the daemon and replay): its events then
 * carry vectors and targets, and class detectors and class counters join it. 0 or -errno.
 */
int pw_anatomy_attach(struct pw_watch *w, struct pw_bpf *b);
/* Free what pw_anatomy_attach() made; before pw_watch_free(). */
void pw_anatomy_detach(struct pw_watch *w);

/* @src is copied; the anatomy starts empty. */
int pw_anatomy_init(struct pw_anatomy *a, const struct pw_anat_source *src);
void pw_anatomy_free(struct pw_anatomy *a);

/*
 * Give out the slots for the poller's (new) configuration and write them; carry the totals
 * of groups that stay (by name). Returns 0 or -errno.
 */
int pw_anatomy_sync(struct pw_anatomy *a, const struct pw_poller *pl);

/*
 * Read the class counters and the samples after the poller @pl polled an interval of @dt
 * seconds. 0 or -errno.
 */
int pw_anatomy_poll(struct pw_anatomy *a, const struct pw_poller *pl, double dt);

/*
 * Feed each group's class detectors the last interval (flood alarms only); events go to
 * @sink as items with pclass set. A class flood that starts while its group's own flood
 * alarm is on (@group_flood, per group) is not announced, nor is its end: the group's
 * event already carries the anatomy. While a group is in loss (@group_loss), its class
 * detectors are held still: the group's loss alarm speaks for it, and a class baseline
 * that learned the darkness would call the traffic's return a flood.
 */
typedef void (*pw_anat_sink)(void *ctx, const struct pw_watch_item *item,
			     const struct pw_event *ev);
void pw_anatomy_step(struct pw_anatomy *a, const struct pw_poller *pl, double now, double dt,
		     const bool *group_flood, const bool *group_loss, pw_anat_sink sink,
		     void *ctx);

/*
 * For the group's own flood alarm of group @gidx starting (@start) or ending: true when
 * its event is to be left out, because a class flood of the group is already announced
 * at its start (the end of a flood whose start was left out is left out too).
 */
bool pw_anatomy_quiet_flood(struct pw_anatomy *a, size_t gidx, bool start);

/*
 * Append ,"vectors":[...],"targets":[...] of group @gidx over the last interval to @b;
 * with @prefix, only its traffic (from the samples); with @pclass >= 0, targets of that
 * class only.
 */
void pw_anatomy_event_json(const struct pw_anatomy *a, size_t gidx, const struct pw_prefix *prefix,
			   int pclass, double pps, struct pw_buf *b);

/* prefixwatch_group_class_packets_total / _bytes_total. */
void pw_anatomy_render(const struct pw_anatomy *a, struct pw_buf *b);

/*
 * Per-interval computations, exposed for the unit tests.
 */
struct pw_vector {
	char vector[24];
	double packets_share, bytes_share;
	int source_port; /* -1: none holds half of the entry */
	const char *service;
	double key; /* order, largest first: its share of the growth over the baselines */
};

struct pw_target {
	uint8_t family;
	uint8_t addr[16];
	double share;
};

/*
 * Vectors of @d (class deltas over the interval; NULL: from the samples alone) and of
 * the samples @s, largest first, entries under 5% of both shares dropped. "Largest" is the
 * vector's share of the growth over @base (the classes' baselines as counts over the
 * interval; NULL: the sum of its two shares): see order_keys(). Returns how many (at most
 * @max).
 */
size_t pw_anatomy_vectors(const struct pw_counter *d, const struct pw_counter *base,
			  const struct pw_sample *s, size_t n, struct pw_vector *out, size_t max);
/* Top destinations of the samples @s, busiest first. Returns how many (at most @max). */
size_t pw_anatomy_targets(const struct pw_sample *s, size_t n, struct pw_target *out, size_t max);

#endif /* PW_ANATOMY_H */
