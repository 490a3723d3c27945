// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* anatomy.c - protocol classes, top UDP source ports and targets of each group's traffic. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "anatomy.h"
#include "loader.h"
#include "log.h"
#include "watch.h"

const char *pw_proto_name(unsigned int proto)
{
	static const char *const names[PW_PROTOS] = {
		"tcp-syn", "tcp-synack", "tcp-rst",	 "tcp-ack", "tcp-other",
		"udp",	   "icmp",	 "ip-fragments", "other",
	};

	return proto < PW_PROTOS ? names[proto] : "?";
}

int pw_proto_index(const char *name)
{
	for (unsigned int c = 0; name && c < PW_PROTOS; c++)
		if (!strcmp(name, pw_proto_name(c)))
			return (int)c;
	return -1;
}

/*
 * Well-known UDP reflectors: services that answer a small spoofed request with a larger
 * reply, named by the source port of the replies a victim receives (US-CERT TA14-017A,
 * Shadowserver's scans, and the attacks seen since: WS-Discovery, ARMS, Plex, Ubiquiti).
 */
static const struct {
	uint16_t port;
	const char *service;
} reflectors[] = {
	{17, "qotd"},	    {19, "chargen"},	  {53, "dns"},		{69, "tftp"},
	{111, "portmap"},   {123, "ntp"},	  {137, "netbios"},	{161, "snmp"},
	{389, "cldap"},	    {427, "slp"},	  {443, "quic"},	{500, "isakmp"},
	{520, "rip"},	    {623, "ipmi"},	  {1194, "openvpn"},	{1434, "mssql"},
	{1701, "l2tp"},	    {1900, "ssdp"},	  {3283, "arms"},	{3478, "stun"},
	{3702, "wsd"},	    {4500, "isakmp"},	  {5060, "sip"},	{5351, "nat-pmp"},
	{5353, "mdns"},	    {5683, "coap"},	  {6881, "bittorrent"}, {10001, "ubnt"},
	{10074, "mitel"},   {11211, "memcached"}, {27015, "steam"},	{32414, "plex"},
	{33848, "jenkins"}, {37810, "dvr"},	  {47808, "bacnet"},
};

const char *pw_reflector_service(uint16_t port)
{
	for (size_t i = 0; i < sizeof(reflectors) / sizeof(reflectors[0]); i++)
		if (reflectors[i].port == port)
			return reflectors[i].service;
	return NULL;
}

/* ---- the BPF maps as a source ---- */

struct bpf_src {
	int fd_anat, fd_samples, fd_head;
	int ncpus;
	uint32_t *last_seq;	      /* per CPU: the highest sequence number read */
	uint64_t *heads, *last_heads; /* per CPU: pw_sample_head (values are 8-byte slots) */
	struct pw_counter *vals;
	struct pw_sample *svals;
	uint32_t *keys;
};

static int bpf_read_classes(void *ctx, uint32_t n_slots, struct pw_counter *out)
{
	struct bpf_src *s = ctx;
	uint32_t n = n_slots * PW_PROTOS, done = 0, token = 0;

	if (n_slots > PW_MAX_SLOTS)
		return -ERANGE;
	memset(out, 0, n * sizeof(*out));
	while (done < n) {
		uint32_t count = n - done, next = 0;
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		int err = bpf_map_lookup_batch(s->fd_anat, done ? &token : NULL, &next, s->keys,
					       s->vals, &count, &opts);

		token = next;
		if (err && errno != ENOENT)
			return -errno;
		for (uint32_t i = 0; i < count; i++) {
			if (s->keys[i] >= n)
				continue;
			for (int c = 0; c < s->ncpus; c++) {
				out[s->keys[i]].packets +=
					s->vals[(size_t)i * s->ncpus + c].packets;
				out[s->keys[i]].bytes += s->vals[(size_t)i * s->ncpus + c].bytes;
			}
		}
		done += count;
		if (err || count == 0)
			break;
	}
	return 0;
}

static int bpf_read_samples(void *ctx, struct pw_sample *out, size_t cap, size_t *n)
{
	struct bpf_src *s = ctx;
	uint32_t count = PW_SAMPLE_RING, next = 0, zero = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	*n = 0;
	/*
	 * The rings are read only when a CPU wrote to its ring since the last read: an idle
	 * poll (replay walks through long gaps one empty interval at a time) costs one lookup.
	 */
	if (bpf_map_lookup_elem(s->fd_head, &zero, s->heads))
		return -errno;
	if (!memcmp(s->heads, s->last_heads, (size_t)s->ncpus * sizeof(*s->heads)))
		return 0;
	memcpy(s->last_heads, s->heads, (size_t)s->ncpus * sizeof(*s->heads));
	if (bpf_map_lookup_batch(s->fd_samples, NULL, &next, s->keys, s->svals, &count, &opts) &&
	    errno != ENOENT)
		return -errno;
	for (int c = 0; c < s->ncpus; c++) {
		uint32_t last = s->last_seq[c], hi = last;

		for (uint32_t i = 0; i < count; i++) {
			const struct pw_sample *v = &s->svals[(size_t)i * s->ncpus + c];

			/* Newer than the last read (the sequence may wrap). */
			if (!v->seq || (int32_t)(v->seq - last) <= 0)
				continue;
			if ((int32_t)(v->seq - hi) > 0)
				hi = v->seq;
			if (*n < cap)
				out[(*n)++] = *v;
		}
		s->last_seq[c] = hi;
	}
	return 0;
}

int pw_anat_bpf_source(struct pw_bpf *b, struct pw_anat_source *src)
{
	struct bpf_object *obj = pw_bpf_object(b);
	struct bpf_src *s = calloc(1, sizeof(*s));
	size_t nk = PW_MAX_SLOTS * PW_PROTOS;

	if (!s)
		return -ENOMEM;
	s->ncpus = libbpf_num_possible_cpus();
	s->fd_anat = bpf_object__find_map_fd_by_name(obj, PW_MAP_ANATOMY);
	s->fd_samples = bpf_object__find_map_fd_by_name(obj, PW_MAP_SAMPLES);
	s->fd_head = bpf_object__find_map_fd_by_name(obj, PW_MAP_SAMPLE_HEAD);
	if (s->ncpus <= 0 || s->fd_anat < 0 || s->fd_samples < 0 || s->fd_head < 0) {
		free(s);
		return -ENOENT;
	}
	s->last_seq = calloc((size_t)s->ncpus, sizeof(*s->last_seq));
	s->heads = calloc((size_t)s->ncpus, sizeof(*s->heads));
	s->last_heads = calloc((size_t)s->ncpus, sizeof(*s->last_heads));
	s->keys = calloc(nk, sizeof(*s->keys));
	s->vals = calloc(nk * (size_t)s->ncpus, sizeof(*s->vals));
	s->svals = calloc((size_t)PW_SAMPLE_RING * (size_t)s->ncpus, sizeof(*s->svals));
	*src = (struct pw_anat_source){.ctx = s,
				       .read_classes = bpf_read_classes,
				       .read_samples = bpf_read_samples};
	if (!s->last_seq || !s->heads || !s->last_heads || !s->keys || !s->vals || !s->svals) {
		pw_anat_bpf_free(src);
		return -ENOMEM;
	}
	return 0;
}

void pw_anat_bpf_free(struct pw_anat_source *src)
{
	struct bpf_src *s = src->ctx;

	if (!s)
		return;
	free(s->last_seq);
	free(s->heads);
	free(s->last_heads);
	free(s->keys);
	free(s->vals);
	free(s->svals);
	free(s);
	src->ctx = NULL;
}

int pw_anatomy_attach(struct pw_watch *w, struct pw_bpf *b)
{
	struct pw_anatomy *a = calloc(1, sizeof(*a));
	struct pw_anat_source src;
	int err;

	if (!a)
		return -ENOMEM;
	err = pw_anat_bpf_source(b, &src);
	if (err) {
		free(a);
		return err;
	}
	err = pw_anatomy_init(a, &src);
	if (err) {
		pw_anat_bpf_free(&src);
		free(a);
		return err;
	}
	w->anat = a;
	return 0;
}

void pw_anatomy_detach(struct pw_watch *w)
{
	if (!w->anat)
		return;
	pw_anat_bpf_free(&w->anat->src);
	pw_anatomy_free(w->anat);
	free(w->anat);
	w->anat = NULL;
}

/* ---- slots and per-group totals ---- */

int pw_anatomy_init(struct pw_anatomy *a, const struct pw_anat_source *src)
{
	memset(a, 0, sizeof(*a));
	a->src = *src;
	a->raw = calloc(PW_MAX_SLOTS * PW_PROTOS, sizeof(*a->raw));
	return a->raw ? 0 : -ENOMEM;
}

void pw_anatomy_free(struct pw_anatomy *a)
{
	free(a->g);
	free(a->slot_off);
	free(a->slot_grp);
	free(a->raw);
	free(a->smp);
	memset(a, 0, sizeof(*a));
}

/* Add the class counts since the last read to the groups of their slots. */
static int settle(struct pw_anatomy *a)
{
	static struct pw_counter cur[PW_MAX_SLOTS * PW_PROTOS];
	int err;

	if (!a->src.read_classes || a->n_slots == 0)
		return 0;
	err = a->src.read_classes(a->src.ctx, a->n_slots, cur);
	if (err)
		return err;
	for (size_t g = 0; g < a->n_groups; g++)
		memset(a->g[g].delta, 0, sizeof(a->g[g].delta));
	for (uint32_t s = 1; s < a->n_slots; s++) {
		for (unsigned int c = 0; c < PW_PROTOS; c++) {
			size_t k = (size_t)s * PW_PROTOS + c;
			struct pw_counter d = {cur[k].packets - a->raw[k].packets,
					       cur[k].bytes - a->raw[k].bytes};

			if (!a->have_raw)
				d = (struct pw_counter){0, 0};
			for (uint32_t j = a->slot_off[s]; j < a->slot_off[s + 1]; j++) {
				struct pw_anat_group *g = &a->g[a->slot_grp[j]];

				g->delta[c].packets += d.packets;
				g->delta[c].bytes += d.bytes;
				g->total[c].packets += d.packets;
				g->total[c].bytes += d.bytes;
			}
		}
	}
	memcpy(a->raw, cur, (size_t)a->n_slots * PW_PROTOS * sizeof(*cur));
	a->have_raw = true;
	return 0;
}

int pw_anatomy_sync(struct pw_anatomy *a, const struct pw_poller *pl)
{
	const struct pw_classes *cl = &pl->cl;
	uint32_t *slot_off = NULL, *slot_grp = NULL, *rep = NULL;
	struct pw_anat_group *g = NULL;
	uint32_t n_slots = cl->n_slots ? cl->n_slots : 1, off = 0;
	size_t total = 0;
	int err = -ENOMEM;

	/* What came in under the old slots goes to the old groups first. */
	settle(a);
	g = calloc(pl->n_groups + 1, sizeof(*g));
	rep = calloc(n_slots, sizeof(*rep));
	if (!g || !rep)
		goto out;
	/*
	 * The poller gave each set of groups its slot (poller.c, build_view) and wrote it into
	 * the tables; a slot's groups are those of any class in it (rep: one of them, + 1).
	 */
	for (size_t c = 0; c < cl->n; c++) {
		uint32_t s = cl->c[c].slot;

		if (s && s < n_slots && !rep[s]) {
			rep[s] = (uint32_t)c + 1;
			total += cl->c[c].n_set;
		}
	}
	slot_grp = calloc(total + 1, sizeof(*slot_grp));
	slot_off = calloc(PW_MAX_SLOTS + 1, sizeof(*slot_off));
	if (!slot_grp || !slot_off)
		goto out;
	for (uint32_t s = 1; s < n_slots; s++) {
		slot_off[s] = off;
		if (rep[s]) {
			const struct pw_pclass *c = &cl->c[rep[s] - 1];

			memcpy(&slot_grp[off], &cl->pool[c->set], c->n_set * sizeof(*slot_grp));
			off += c->n_set;
		}
	}
	for (uint32_t s = n_slots; s <= PW_MAX_SLOTS; s++)
		slot_off[s] = off;
	if (cl->n_unslotted)
		pw_warn("flood anatomy: more than %d distinct sets of overlapping groups; %zu "
			"prefixes are left out of the class counts",
			PW_MAX_SLOTS - 1, cl->n_unslotted);
	/* Groups that stay (by name) keep their totals and detectors. */
	for (size_t gi = 0; gi < pl->n_groups; gi++) {
		snprintf(g[gi].name, sizeof(g[gi].name), "%s", pl->g[gi].cfg->name);
		for (size_t o = 0; o < a->n_groups; o++) {
			if (strcmp(a->g[o].name, g[gi].name))
				continue;
			memcpy(g[gi].total, a->g[o].total, sizeof(g[gi].total));
			memcpy(g[gi].det, a->g[o].det, sizeof(g[gi].det));
			memcpy(g[gi].announced, a->g[o].announced, sizeof(g[gi].announced));
			g[gi].quiet = a->g[o].quiet;
		}
		for (unsigned int c = 0; c < PW_PROTOS; c++) {
			const struct pw_detect_cfg *gc = &pl->g[gi].cfg->det;
			struct pw_detect_cfg *cc = &g[gi].cls_cfg[c];

			*cc = *gc;
			cc->loss = false;
			cc->unstable_losses = 0;
			cc->flood_bps = 0;
			cc->flood_pps = c == PW_PROTO_TCP_SYN	 ? gc->flood_syn_pps
					: c == PW_PROTO_UDP	 ? gc->flood_udp_pps
					: c == PW_PROTO_ICMP	 ? gc->flood_icmp_pps
					: c == PW_PROTO_FRAGMENT ? gc->flood_fragment_pps
								 : 0;
		}
	}
	free(a->g);
	free(a->slot_off);
	free(a->slot_grp);
	a->g = g;
	a->n_groups = pl->n_groups;
	a->slot_off = slot_off;
	a->slot_grp = slot_grp;
	a->n_slots = n_slots;
	a->overflow_ids = (uint32_t)cl->n_unslotted;
	g = NULL;
	slot_off = slot_grp = NULL;
	/*
	 * The raw counts stay: what a slot counts from here on goes to its new groups. The
	 * packets counted between the flip to the new tables (which carry the new slots) and
	 * the settle above went to the old groups of their slot: the few milliseconds of a
	 * reload; none is lost. The first time, what the maps hold already (a pinned map
	 * taken over) is the starting point.
	 */
	if (!a->have_raw)
		settle(a);
	err = 0;
out:
	free(rep);
	free(g);
	free(slot_off);
	free(slot_grp);
	return err;
}

int pw_anatomy_poll(struct pw_anatomy *a, const struct pw_poller *pl, double dt)
{
	size_t want = (size_t)PW_SAMPLE_RING * 256;
	uint64_t seen = 0;
	int err;

	a->last_dt = dt;
	/*
	 * Every packet in a class was counted at a prefix first: when no group's count moved,
	 * no class did, and the maps need not be read (replay walks long gaps of a capture one
	 * empty interval at a time). A packet that lands between the two reads is found by
	 * the next read.
	 */
	for (size_t gi = 0; gi < pl->n_groups; gi++)
		seen += pl->g[gi].in.packets;
	if (a->have_raw && seen == a->seen_packets) {
		for (size_t gi = 0; gi < a->n_groups; gi++) {
			memset(a->g[gi].delta, 0, sizeof(a->g[gi].delta));
			memset(a->g[gi].pps, 0, sizeof(a->g[gi].pps));
			memset(a->g[gi].bps, 0, sizeof(a->g[gi].bps));
		}
		a->n_smp = 0;
		return 0;
	}
	a->seen_packets = seen;
	err = settle(a);
	if (err) {
		pw_warn("flood anatomy: cannot read the class counters: %s", strerror(-err));
		return err;
	}
	for (size_t gi = 0; gi < a->n_groups; gi++)
		for (unsigned int c = 0; c < PW_PROTOS; c++) {
			a->g[gi].pps[c] = dt > 0 ? (double)a->g[gi].delta[c].packets / dt : 0;
			a->g[gi].bps[c] = dt > 0 ? (double)a->g[gi].delta[c].bytes * 8 / dt : 0;
		}
	a->n_smp = 0;
	if (!a->src.read_samples)
		return 0;
	if (!a->smp) {
		a->smp = calloc(want, sizeof(*a->smp));
		if (!a->smp)
			return -ENOMEM;
		a->cap_smp = want;
	}
	err = a->src.read_samples(a->src.ctx, a->smp, a->cap_smp, &a->n_smp);
	if (err)
		pw_warn("flood anatomy: cannot read the samples: %s", strerror(-err));
	a->samples_total += a->n_smp;
	return err;
}

static bool slot_has_group(const struct pw_anatomy *a, uint32_t slot, size_t gidx)
{
	if (slot == 0 || slot >= a->n_slots)
		return false;
	for (uint32_t j = a->slot_off[slot]; j < a->slot_off[slot + 1]; j++)
		if (a->slot_grp[j] == gidx)
			return true;
	return false;
}

void pw_anatomy_step(struct pw_anatomy *a, const struct pw_poller *pl, double now, double dt,
		     const bool *group_flood, const bool *group_loss, pw_anat_sink sink,
		     void *ctx)
{
	if (!(dt > 0))
		return;
	for (size_t gi = 0; gi < a->n_groups && gi < pl->n_groups; gi++) {
		struct pw_anat_group *g = &a->g[gi];
		unsigned int order[PW_PROTOS];
		bool told = group_flood && group_flood[gi];

		if (group_loss && group_loss[gi])
			continue;

		/* Classes by rate, largest first: of several starting at once, the largest speaks.
		 */
		for (unsigned int c = 0; c < PW_PROTOS; c++) {
			unsigned int k = c;

			told = told || g->announced[c];
			for (; k > 0 && g->pps[order[k - 1]] < g->pps[c]; k--)
				order[k] = order[k - 1];
			order[k] = c;
		}
		for (unsigned int i = 0; i < PW_PROTOS; i++) {
			unsigned int c = order[i];
			struct pw_event ev[PW_ALARM_KINDS * 2];
			struct pw_watch_item it;
			int ne = pw_detector_step(&g->det[c], &g->cls_cfg[c], now, dt, g->pps[c],
						  g->bps[c], ev);

			if (!ne)
				continue;
			memset(&it, 0, sizeof(it));
			snprintf(it.group, sizeof(it.group), "%s", g->name);
			it.gidx = gi;
			it.pclass = pw_proto_name(c);
			it.anat = a;
			for (int e = 0; e < ne; e++) {
				if (ev[e].kind != PW_ALARM_FLOOD)
					continue;
				/* One flood at a time per group: the group's own, or one class's.
				 */
				if (ev[e].start && told)
					continue;
				if (!ev[e].start && !g->announced[c])
					continue;
				g->announced[c] = ev[e].start;
				told = told || ev[e].start;
				if (sink)
					sink(ctx, &it, &ev[e]);
			}
		}
	}
}

bool pw_anatomy_quiet_flood(struct pw_anatomy *a, size_t gidx, bool start)
{
	struct pw_anat_group *g;
	bool q;

	if (gidx >= a->n_groups)
		return false;
	g = &a->g[gidx];
	if (!start) {
		q = g->quiet;
		g->quiet = false;
		return q;
	}
	g->quiet = false;
	for (unsigned int c = 0; c < PW_PROTOS; c++)
		g->quiet = g->quiet || g->announced[c];
	return g->quiet;
}

/* ---- vectors and targets ---- */

static bool in_prefix(const struct pw_sample *s, const struct pw_prefix *p)
{
	struct pw_prefix h = {.family = s->family == 6 ? AF_INET6 : AF_INET,
			      .len = s->family == 6 ? 128 : 32};

	memcpy(h.addr, s->daddr, 16);
	return pw_prefix_contains(p, &h);
}

struct port_count {
	uint16_t port;
	double n, bytes;
};

static int cmp_port(const void *x, const void *y)
{
	const struct port_count *a = x, *b = y;

	return a->port < b->port ? -1 : a->port > b->port;
}

/* The port holding the most of @p[0..n), or -1 when none holds at least half of @total. */
static int half_port(struct port_count *p, size_t n, double total)
{
	size_t best = 0;
	double run = 0, best_n = 0;

	if (!n || total <= 0)
		return -1;
	qsort(p, n, sizeof(*p), cmp_port);
	for (size_t i = 0; i < n; i++) {
		run = i && p[i].port == p[i - 1].port ? run + p[i].n : p[i].n;
		if (run > best_n) {
			best_n = run;
			best = i;
		}
	}
	return best_n * 2 >= total ? p[best].port : -1;
}

/* The vector a sample belongs to (as pw_anatomy_vectors() splits them). */
static const char *sample_vector(const struct pw_sample *x)
{
	bool udp = x->pclass == PW_PROTO_UDP ||
		   (x->pclass == PW_PROTO_FRAGMENT && (x->flags & PW_SAMPLE_PORT_FROM_FRAG));

	if (!udp)
		return pw_proto_name(x->pclass);
	if ((x->flags & PW_SAMPLE_PORT) && pw_reflector_service(x->sport))
		return "udp-amplification";
	return "udp";
}

static int cmp_vec(const void *x, const void *y)
{
	const struct pw_vector *a = x, *b = y;
	/*
	 * Largest by the mean of both shares: by packets alone a DNS amplification in big
	 * fragments would trail the victim's own small TCP segments, by bytes alone a SYN
	 * flood would trail the network's data transfers.
	 */
	double ka = a->key, kb = b->key;

	return ka > kb ? -1 : ka < kb;
}

/* Measured in bytes (a bandwidth attack), else in packets. */
static bool bytes_vector(const char *name)
{
	return !strcmp(name, "udp-amplification") || !strcmp(name, "udp") ||
	       !strcmp(name, "ip-fragments");
}

/*
 * Order key of each vector: its share of what grew over the baselines @base (expected
 * packets and bytes per class over the interval), in packets for packet floods (TCP
 * flags, ICMP, other) and in bytes for UDP and fragments: an amplification is a bandwidth
 * attack, a SYN flood a packet one, and what was there before (a network's own data
 * transfers) is not the attack. Without baselines, or with nothing above them, the sum of
 * the two shares.
 */
static void order_keys(struct pw_vector *v, size_t k, const struct pw_counter *base, double tp,
		       double tb)
{
	double bp = 0, bb = 0, fam_p = 0, fam_b = 0, xp, xb;

	for (size_t i = 0; i < k; i++)
		v[i].key = v[i].packets_share + v[i].bytes_share;
	if (!base)
		return;
	for (unsigned int c = 0; c < PW_PROTOS; c++) {
		bp += (double)base[c].packets;
		bb += (double)base[c].bytes;
	}
	xp = tp - bp;
	xb = tb - bb;
	if (xp <= 0 || xb <= 0)
		return;
	for (size_t i = 0; i < k; i++)
		if (bytes_vector(v[i].vector)) {
			fam_p += v[i].packets_share * tp;
			fam_b += v[i].bytes_share * tb;
		}
	for (size_t i = 0; i < k; i++) {
		bool by_bytes = bytes_vector(v[i].vector);
		double val = by_bytes ? v[i].bytes_share * tb : v[i].packets_share * tp, was;
		int c = pw_proto_index(v[i].vector);

		if (by_bytes) /* the UDP family's baseline, shared as the family is now */
			was = fam_b > 0 ? (double)(base[PW_PROTO_UDP].bytes +
						   base[PW_PROTO_FRAGMENT].bytes) *
						  val / fam_b
					: 0;
		else
			was = c >= 0 ? (double)base[c].packets : 0;
		v[i].key = fmax(0, val - was) / (by_bytes ? xb : xp);
	}
	(void)fam_p;
}

size_t pw_anatomy_vectors(const struct pw_counter *d, const struct pw_counter *base,
			  const struct pw_sample *s, size_t n, struct pw_vector *out, size_t max)
{
	double P[PW_PROTOS] = {0}, B[PW_PROTOS] = {0}, tp = 0, tb = 0;
	double fr_n = 0, fr_b = 0, fa_n = 0, fa_b = 0, un = 0, ub = 0, rn = 0, rb = 0;
	struct port_count *refl = calloc(n + 1, sizeof(*refl)),
			  *plain = calloc(n + 1, sizeof(*plain));
	size_t n_refl = 0, n_plain = 0, k = 0;
	struct pw_vector v[PW_PROTOS + 2];
	double up, ubytes, amp_p = 0, amp_b = 0;

	if (!refl || !plain)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct pw_sample *x = &s[i];
		bool udp = x->pclass == PW_PROTO_UDP || (x->pclass == PW_PROTO_FRAGMENT &&
							 (x->flags & PW_SAMPLE_PORT_FROM_FRAG));

		if (!d && x->pclass < PW_PROTOS) {
			P[x->pclass] += 1;
			B[x->pclass] += x->bytes;
		}
		if (x->pclass == PW_PROTO_FRAGMENT) {
			fr_n += 1;
			fr_b += x->bytes;
			if (udp) {
				fa_n += 1;
				fa_b += x->bytes;
			}
		}
		if (!udp || !(x->flags & PW_SAMPLE_PORT))
			continue;
		un += 1;
		ub += x->bytes;
		if (pw_reflector_service(x->sport)) {
			rn += 1;
			rb += x->bytes;
			refl[n_refl++] = (struct port_count){x->sport, 1, x->bytes};
		} else {
			plain[n_plain++] = (struct port_count){x->sport, 1, x->bytes};
		}
	}
	if (d)
		for (unsigned int c = 0; c < PW_PROTOS; c++) {
			P[c] = (double)d[c].packets;
			B[c] = (double)d[c].bytes;
		}
	for (unsigned int c = 0; c < PW_PROTOS; c++) {
		tp += P[c];
		tb += B[c];
	}
	if (tp <= 0)
		goto out;
	/* Non-first fragments whose first fragment was UDP join their datagram's entry. */
	if (fr_n > 0) {
		double mp = P[PW_PROTO_FRAGMENT] * fa_n / fr_n;
		double mb = fr_b > 0 ? B[PW_PROTO_FRAGMENT] * fa_b / fr_b : 0;

		P[PW_PROTO_FRAGMENT] -= mp;
		B[PW_PROTO_FRAGMENT] -= mb;
		P[PW_PROTO_UDP] += mp;
		B[PW_PROTO_UDP] += mb;
	}
	up = P[PW_PROTO_UDP];
	ubytes = B[PW_PROTO_UDP];
	if (un > 0) {
		amp_p = up * rn / un;
		amp_b = ub > 0 ? ubytes * rb / ub : 0;
	}
	for (unsigned int c = 0; c < PW_PROTOS; c++) {
		double p = P[c], b = B[c];

		if (c == PW_PROTO_UDP) {
			p -= amp_p;
			b -= amp_b;
		}
		v[k] = (struct pw_vector){.packets_share = p / tp,
					  .bytes_share = tb > 0 ? b / tb : 0,
					  .source_port = -1};
		snprintf(v[k].vector, sizeof(v[k].vector), "%s", pw_proto_name(c));
		if (c == PW_PROTO_UDP)
			v[k].source_port = half_port(plain, n_plain, un - rn);
		k++;
	}
	if (amp_p > 0 || amp_b > 0) {
		v[k] = (struct pw_vector){.packets_share = amp_p / tp,
					  .bytes_share = tb > 0 ? amp_b / tb : 0,
					  .source_port = half_port(refl, n_refl, rn)};
		snprintf(v[k].vector, sizeof(v[k].vector), "udp-amplification");
		if (v[k].source_port >= 0)
			v[k].service = pw_reflector_service((uint16_t)v[k].source_port);
		k++;
	}
	order_keys(v, k, d ? base : NULL, tp, tb);
	qsort(v, k, sizeof(v[0]), cmp_vec);
	{
		size_t m = 0;

		for (size_t i = 0; i < k && m < max; i++)
			if (v[i].packets_share >= 0.05 || v[i].bytes_share >= 0.05)
				out[m++] = v[i];
		k = m;
	}
out:
	free(refl);
	free(plain);
	return tp > 0 ? k : 0;
}

static int cmp_addr(const void *x, const void *y)
{
	const struct pw_sample *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->daddr, b->daddr, 16);
}

static int cmp_target(const void *x, const void *y)
{
	const struct pw_target *a = x, *b = y;

	if (a->share != b->share)
		return a->share > b->share ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

size_t pw_anatomy_targets(const struct pw_sample *s, size_t n, struct pw_target *out, size_t max)
{
	struct pw_sample *c = malloc((n + 1) * sizeof(*c));
	struct pw_target *t = calloc(n + 1, sizeof(*t));
	size_t nt = 0;

	if (!c || !t || !n)
		goto out;
	memcpy(c, s, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_addr);
	for (size_t i = 0; i < n; i++) {
		if (i && !cmp_addr(&c[i], &c[i - 1])) {
			t[nt - 1].share += 1.0 / (double)n;
			continue;
		}
		t[nt].family = c[i].family;
		memcpy(t[nt].addr, c[i].daddr, 16);
		t[nt++].share = 1.0 / (double)n;
	}
	qsort(t, nt, sizeof(*t), cmp_target);
	if (nt > max)
		nt = max;
	memcpy(out, t, nt * sizeof(*t));
out:
	free(c);
	free(t);
	return nt;
}

static void num(struct pw_buf *b, double v)
{
	if (!isfinite(v))
		v = 0;
	pw_buf_printf(b, "%.4g", v);
}

void pw_anatomy_event_json(const struct pw_anatomy *a, size_t gidx, const struct pw_prefix *prefix,
			   int pclass, double pps, struct pw_buf *b)
{
	struct pw_sample *mine = malloc((a->n_smp + 1) * sizeof(*mine)), *cls;
	struct pw_counter base[PW_PROTOS];
	const char *lead;
	struct pw_vector v[PW_PROTOS + 2];
	struct pw_target t[5];
	size_t n = 0, nc = 0, nv, nt;

	if (!mine || gidx >= a->n_groups) {
		free(mine);
		pw_buf_printf(b, ",\"vectors\":[],\"targets\":[]");
		return;
	}
	for (size_t i = 0; i < a->n_smp; i++)
		if (slot_has_group(a, a->smp[i].slot, gidx) &&
		    (!prefix || in_prefix(&a->smp[i], prefix)))
			mine[n++] = a->smp[i];
	/* A group's class shares are exact; a prefix's come from its samples. */
	/* The baselines of the class detectors, as counts over the interval. */
	for (unsigned int c = 0; c < PW_PROTOS; c++) {
		base[c].packets = (uint64_t)(a->g[gidx].det[c].base_pps * a->last_dt);
		base[c].bytes = (uint64_t)(a->g[gidx].det[c].base_bps / 8 * a->last_dt);
	}
	nv = pw_anatomy_vectors(prefix ? NULL : a->g[gidx].delta, base, mine, n, v, PW_PROTOS + 2);
	pw_buf_printf(b, ",\"vectors\":[");
	for (size_t i = 0; i < nv; i++) {
		pw_buf_printf(b, "%s{\"vector\":\"%s\",\"packets_share\":", i ? "," : "",
			      v[i].vector);
		num(b, v[i].packets_share);
		pw_buf_printf(b, ",\"bytes_share\":");
		num(b, v[i].bytes_share);
		if (v[i].source_port >= 0)
			pw_buf_printf(b, ",\"source_port\":%d", v[i].source_port);
		if (v[i].service)
			pw_buf_printf(b, ",\"service\":\"%s\"", v[i].service);
		pw_buf_printf(b, "}");
	}
	/*
	 * The targets are those of the flood's own traffic, not of everything the group
	 * receives (a carpet's hosts each get less than the group's busy servers): of the
	 * leading vector, or for a class flood of the leading vector of that class.
	 */
	lead = nv ? v[0].vector : NULL;
	if (pclass >= 0) {
		lead = pw_proto_name((unsigned int)pclass);
		for (size_t i = 0;
		     i < nv && (pclass == PW_PROTO_UDP || pclass == PW_PROTO_FRAGMENT); i++)
			if (!strcmp(v[i].vector, "udp-amplification") ||
			    !strcmp(v[i].vector, "udp") || !strcmp(v[i].vector, "ip-fragments")) {
				lead = v[i].vector;
				break;
			}
	}
	cls = mine;
	nc = 0;
	for (size_t i = 0; lead && i < n; i++)
		if (!strcmp(sample_vector(&mine[i]), lead))
			cls[nc++] = mine[i];
	if (!nc)
		nc = n; /* no sample of it: all of the group's */
	nt = pw_anatomy_targets(cls, nc, t, 5);
	pw_buf_printf(b, "],\"targets\":[");
	for (size_t i = 0; i < nt; i++) {
		char txt[INET6_ADDRSTRLEN];

		inet_ntop(t[i].family == 6 ? AF_INET6 : AF_INET, t[i].addr, txt, sizeof(txt));
		pw_buf_printf(b, "%s{\"address\":\"%s\",\"pps\":", i ? "," : "", txt);
		num(b, t[i].share * pps);
		pw_buf_printf(b, ",\"share\":");
		num(b, t[i].share);
		pw_buf_printf(b, "}");
	}
	pw_buf_printf(b, "]");
	free(mine);
}

void pw_anatomy_render(const struct pw_anatomy *a, struct pw_buf *b)
{
	static const char *const what[2] = {"packets", "bytes"};

	for (int k = 0; k < 2; k++) {
		pw_buf_printf(b,
			      "# HELP prefixwatch_group_class_%s_total %s to the group's prefixes, "
			      "by protocol class (inclusive, like the group totals).\n"
			      "# TYPE prefixwatch_group_class_%s_total counter\n",
			      what[k], k ? "Bytes" : "Packets", what[k]);
		for (size_t gi = 0; gi < a->n_groups; gi++)
			for (unsigned int c = 0; c < PW_PROTOS; c++)
				pw_buf_printf(b,
					      "prefixwatch_group_class_%s_total{group=\"%s\",class="
					      "\"%s\"} %llu\n",
					      what[k], a->g[gi].name, pw_proto_name(c),
					      (unsigned long long)(k ? a->g[gi].total[c].bytes
								     : a->g[gi].total[c].packets));
	}
}
