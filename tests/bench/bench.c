// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench - make bench: the cost of prefixwatch's lookup and count at full-table scale, and
 * of what the daemon does around it. Run as root: bench BUILD_DIR.
 *
 * Per table (IPv4 1k, 100k, 1M prefixes; IPv6 1k, 200k; shaped like the Internet's, see
 * tables.h), in one process and one run:
 *   hot     the real XDP program on one frame, BPF_PROG_TEST_RUN with a large repeat,
 *           against a program that only returns XDP_PASS, and against the real program
 *           with a BPF LPM trie as its lookup (lpm-reference);
 *   spread  the real lookup-and-count code in a bpf_loop over 1M destinations drawn
 *           across the table, against the count floor (the same loop only adding to a
 *           counter at a pseudo-random index of an array as large as pw_counters) and
 *           against the same loop with the LPM trie. The prefixwatch and LPM loops must
 *           count every destination at the same prefix: the run stops if they do not.
 * Each case prints one line "bench: case=... family=... prefixes=N dist=hot|spread
 * ns_per_pkt=X": of several interleaved runs, the fastest (hot) or the median (spread).
 * Then the flood anatomy's cost: the real program against itself without the anatomy,
 * hot, over several loads of both (dist=hot-loads; "bench BUILD_DIR hot" runs this alone).
 *
 * Then: loading 1M IPv4 prefixes from a prefix file (config parser, poller, tables), a
 * poll at 1M, /metrics at 100k, map memory as bpftool reports it, reloads of 1M under
 * load (every frame counted once, at the old prefix or the new), the daemon's peak RSS at
 * 1M prefixes (the real daemon on a veth in a namespace), and replay's speed; and the
 * detectors' rebuild at 100k per-prefix detectors ("bench BUILD_DIR watch_sync" runs that
 * case alone); and, at 1M prefixes with export = group and export = prefix, a poll and
 * map memory, measured and by the formula at 64 and 128 CPUs ("bench BUILD_DIR memory"
 * runs that case alone).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench.skel.h"
#include "config.h"
#include "exporter.h"
#include "frames.h"
#include "loader.h"
#include "log.h"
#include "poller.h"
#include "tables.h"
#include "watch.h"

#define N_DESTS	   (1U << 20) /* destinations of a spread run */
#define HOT_REPEAT 500000     /* frames of a hot run */
#define RUNS	   5	      /* runs per measurement; the median is reported */

struct lpm_key {
	uint32_t prefixlen;
	uint8_t addr[16];
};

static const char *build_dir;
static struct pw_bpf *rb;	     /* the real object */
static struct bench *sk;	     /* the bench programs, on the real object's maps */
static uint8_t *dests_v4, *dests_v6; /* 8 (4 used) and 16 bytes a destination */
static uint64_t *floor_idx;
static char tmpdir[64];

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double min_of(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

/* One BPF_PROG_TEST_RUN of @fd on @data, @repeat times; the kernel's ns per run. */
static uint32_t test_run(int fd, const void *data, size_t len, int repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = (uint32_t)len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		die("BPF_PROG_TEST_RUN: %s", strerror(errno));
	return o.duration;
}

/*
 * ns per frame of a hot run: the kernel's own timer, in whole ns (it divides by the
 * repeat count). Not the wall clock: each BPF_PROG_TEST_RUN of an XDP program also sleeps
 * some 20 ms (outside the timer) on this kernel, and the timer stops while another task
 * has the CPU.
 */
static double hot_ns(int fd, const void *data, size_t len)
{
	return test_run(fd, data, len, HOT_REPEAT);
}

/* ns per destination of a spread run: one program run, never preempted. */
static double spread_ns(int fd, const void *data, size_t len)
{
	return (double)test_run(fd, data, len, 1) / N_DESTS;
}

static void build_frame(struct frame *f, int family, const uint8_t *addr)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, text, sizeof(text));
	if (family == AF_INET) {
		frame_eth(f, ETH_P_IP);
		frame_ipv4(f, text, 5, 0);
	} else {
		frame_eth(f, ETH_P_IPV6);
		frame_ipv6(f, text);
	}
	frame_pad(f, 64);
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (!m)
		die("no map %s", name);
	return bpf_map__fd(m);
}

/* bytes_memlock of a map, as bpftool prints it; 0 if bpftool cannot tell. */
static unsigned long long bpftool_memlock(const char *what)
{
	unsigned long long v = 0;
	char cmd[512], out[4096];
	size_t n;
	char *p;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "bpftool -j map show %s 2>/dev/null", what);
	f = popen(cmd, "r");
	if (!f)
		return 0;
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	p = strstr(out, "\"bytes_memlock\":");
	if (p)
		v = strtoull(p + strlen("\"bytes_memlock\":"), NULL, 10);
	return v;
}

static unsigned long long memlock_of_fd(int fd)
{
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	char what[32];

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	snprintf(what, sizeof(what), "id %u", info.id);
	return bpftool_memlock(what);
}

static double mib(unsigned long long bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

/* The N_DESTS values of @value_size bytes (a multiple of 8) of an mmapable array. */
static void *map_mem(struct bpf_map *m, uint32_t value_size)
{
	void *p;

	if (bpf_map__value_size(m) != value_size || bpf_map__max_entries(m) < N_DESTS)
		die("map %s: unexpected layout", bpf_map__name(m));
	p = mmap(NULL, (size_t)N_DESTS * value_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(m), 0);
	if (p == MAP_FAILED)
		die("map %s: %s", bpf_map__name(m), strerror(errno));
	return p;
}

/* ---- the reference tables ---- */

static void lpm_keys(const struct pw_prefix *t, size_t n, struct lpm_key **keys, uint32_t **vals,
		     size_t *key_size)
{
	*key_size = t[0].family == AF_INET ? 8 : 20;
	*keys = calloc(n, sizeof(**keys));
	*vals = calloc(n, sizeof(**vals));
	if (!*keys || !*vals)
		die("out of memory");
	for (size_t i = 0; i < n; i++) {
		/* Packed to the map's key size: prefixlen then the address bytes. */
		uint8_t *k = (uint8_t *)*keys + i * *key_size;
		uint32_t plen = t[i].len;

		memcpy(k, &plen, 4);
		memcpy(k + 4, t[i].addr, *key_size - 4);
		(*vals)[i] = (uint32_t)i;
	}
}

/* Make @t (ids = index) the content of the reference trie of its family; @old is its last. */
static void lpm_fill(const struct pw_prefix *t, size_t n, const struct pw_prefix *old, size_t n_old)
{
	int fd = t[0].family == AF_INET ? bpf_map__fd(sk->maps.ref_v4)
					: bpf_map__fd(sk->maps.ref_v6);
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct lpm_key *keys;
	uint32_t *vals;
	size_t ks;

	if (old && n_old) {
		lpm_keys(old, n_old, &keys, &vals, &ks);
		for (size_t done = 0; done < n_old;) {
			uint32_t count = (uint32_t)(n_old - done < 65536 ? n_old - done : 65536);

			if (bpf_map_delete_batch(fd, (uint8_t *)keys + done * ks, &count, &opts))
				die("empty the LPM trie: %s", strerror(errno));
			done += count;
		}
		free(keys);
		free(vals);
	}
	lpm_keys(t, n, &keys, &vals, &ks);
	for (size_t done = 0; done < n;) {
		uint32_t count = (uint32_t)(n - done < 65536 ? n - done : 65536);

		if (bpf_map_update_batch(fd, (uint8_t *)keys + done * ks, vals + done, &count,
					 &opts))
			die("fill the LPM trie: %s", strerror(errno));
		done += count;
	}
	free(keys);
	free(vals);
}

/* ---- one table ---- */

struct result {
	int family;
	size_t n;
	double reload_ms, load_lpm_ms;
	double hot_pass, hot_pw, hot_lpm, hot_parse, hot_noiface, hot_noanat;
	double sp_floor, sp_pw, sp_lpm;
	uint32_t used_units;
};

static const char *fam_name(int family)
{
	return family == AF_INET ? "ipv4" : "ipv6";
}

/* Every id's and class's packet count, summed over CPUs, into @buf (max_ids + classes). */
static void read_all(struct pw_counter *buf)
{
	uint32_t max = pw_bpf_max_ids(rb);

	if (pw_bpf_read_counters(rb, max, buf) || pw_bpf_read_classes(rb, buf + max))
		die("read the counters");
}

/*
 * The prefixwatch and LPM loops over the same destinations must move every counter by
 * the same amount: the new structure and the kernel's LPM trie agree on every lookup.
 */
static void cross_check(int pw_fd, int lpm_fd, struct frame *f)
{
	size_t n = (size_t)pw_bpf_max_ids(rb) + PW_CLASS_MAX;
	struct pw_counter *a = calloc(n, sizeof(*a)), *b = calloc(n, sizeof(*b));
	struct pw_counter *c = calloc(n, sizeof(*c));
	uint64_t counted = 0, unmatched = 0;
	size_t diff = 0;

	if (!a || !b || !c)
		die("out of memory");
	read_all(a);
	test_run(pw_fd, f->data, f->len, 1);
	read_all(b);
	test_run(lpm_fd, f->data, f->len, 1);
	read_all(c);
	for (size_t i = 0; i < n; i++) {
		if (b[i].packets - a[i].packets != c[i].packets - b[i].packets)
			diff++;
		counted += b[i].packets - a[i].packets;
		if (i >= n - PW_CLASS_MAX)
			unmatched += b[i].packets - a[i].packets;
	}
	if (diff)
		die("prefixwatch and the LPM trie disagree on %zu counters", diff);
	/* Every destination lies in the prefix it was drawn from. */
	if (counted != N_DESTS || unmatched)
		die("%llu of %u destinations counted, %llu unmatched: the destinations are wrong",
		    (unsigned long long)counted, N_DESTS, (unsigned long long)unmatched);
	free(a);
	free(b);
	free(c);
}

static void run_table(struct result *r, int family, size_t n, const struct pw_prefix *t,
		      const struct pw_prefix *old, size_t n_old)
{

	uint32_t *ids = malloc(n * sizeof(*ids)), *which = malloc(N_DESTS * sizeof(*which));
	uint8_t *addrs = malloc((size_t)N_DESTS * 16);
	double v[9][RUNS], reload[3];
	static struct frame f;
	uint32_t used[2], size[2];
	int pw_fd = pw_bpf_prog_fd(rb);
	int sp_pw, sp_lpm;

	if (!ids || !which || !addrs)
		die("out of memory");
	memset(r, 0, sizeof(*r));
	r->family = family;
	r->n = n;
	for (size_t i = 0; i < n; i++)
		ids[i] = (uint32_t)i;
	for (int k = 0; k < 3; k++) {
		double t0 = now();
		int err = pw_bpf_set_prefixes(rb, t, ids, n);

		if (err)
			die("load %zu %s prefixes: %s", n, fam_name(family), strerror(-err));
		reload[k] = now() - t0;
	}
	r->reload_ms = median(reload, 3) * 1e3;
	pw_bpf_table_units(rb, used, size);
	r->used_units = used[family == AF_INET ? 0 : 1];
	{
		double t0 = now();

		lpm_fill(t, n, old, n_old);
		r->load_lpm_ms = (now() - t0) * 1e3;
	}

	pw_dests_gen(t, n, N_DESTS, 0xde57 + n + (unsigned int)family, addrs, which);
	for (uint32_t i = 0; i < N_DESTS; i++) {
		if (family == AF_INET)
			memcpy(dests_v4 + (size_t)i * 8, addrs + (size_t)i * 16, 4);
		else
			memcpy(dests_v6 + (size_t)i * 16, addrs + (size_t)i * 16, 16);
		floor_idx[i] = which[i];
	}
	sk->bss->n_dests = N_DESTS;
	build_frame(&f, family, addrs);

	sp_pw = bpf_program__fd(family == AF_INET ? sk->progs.spread_pw_v4
						  : sk->progs.spread_pw_v6);
	sp_lpm = bpf_program__fd(family == AF_INET ? sk->progs.spread_lpm_v4
						   : sk->progs.spread_lpm_v6);
	cross_check(sp_pw, sp_lpm, &f);

	/* Interleaved, so that a slow moment of the machine hits every program alike. */
	for (int k = 0; k < RUNS; k++) {
		const int fds[6] = {bpf_program__fd(sk->progs.xdp_pass), pw_fd,
				    bpf_program__fd(sk->progs.xdp_lpm),
				    bpf_program__fd(sk->progs.xdp_parse_only),
				    bpf_program__fd(sk->progs.xdp_no_iface),
				    bpf_program__fd(sk->progs.xdp_no_anatomy)};

		for (int p = 0; p < 6; p++)
			v[p][k] = hot_ns(fds[p], f.data, f.len);
		v[6][k] = spread_ns(bpf_program__fd(sk->progs.spread_floor), f.data, f.len);
		v[7][k] = spread_ns(sp_pw, f.data, f.len);
		v[8][k] = spread_ns(sp_lpm, f.data, f.len);
	}
	r->hot_pass = min_of(v[0], RUNS);
	r->hot_pw = min_of(v[1], RUNS);
	r->hot_lpm = min_of(v[2], RUNS);
	r->hot_parse = min_of(v[3], RUNS);
	r->hot_noiface = min_of(v[4], RUNS);
	r->hot_noanat = min_of(v[5], RUNS);
	r->sp_floor = median(v[6], RUNS);
	r->sp_pw = median(v[7], RUNS);
	r->sp_lpm = median(v[8], RUNS);
	free(ids);
	free(which);
	free(addrs);
}

/* ---- around the lookup: the daemon's own code ---- */

static void write_prefix_file(const char *path, const struct pw_prefix *t, size_t n)
{
	char buf[PW_PREFIX_STRLEN];
	FILE *f = fopen(path, "w");

	if (!f)
		die("%s: %s", path, strerror(errno));
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", pw_prefix_format(&t[i], buf, sizeof(buf)));
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}

static void write_config(const char *path, const char *sensor, const char *export,
			 const char *prefix_file)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("%s: %s", path, strerror(errno));
	fprintf(f, "%s[group all]\nexport = %s\nprefix_file = %s\n", sensor, export, prefix_file);
	if (fclose(f))
		die("%s: %s", path, strerror(errno));
}

static int src_read(void *ctx, uint32_t n, struct pw_counter *out)
{
	return pw_bpf_read_counters(ctx, n, out);
}

static int src_set(void *ctx, const struct pw_prefix *pfx, const uint32_t *ids, size_t n)
{
	return pw_bpf_set_prefixes(ctx, pfx, ids, n);
}

static void load_config(const char *path, struct pw_config *cfg)
{
	char err[1024];

	if (pw_config_load(path, cfg, err, sizeof(err)))
		die("%s", err);
}

struct around {
	double parse_s, apply_s, poll_1m_ms, poll_100k_ms, reapply_s;
	double render_prefix_ms, render_group_ms;
	size_t page_prefix, page_group;
};

static double render_ms(struct pw_poller *pl, size_t *size)
{
	struct pw_export_input in = {.pl = pl};
	struct pw_watch w;
	double v[RUNS];

	pw_watch_init(&w, NULL, NULL);
	if (pw_watch_sync(&w, pl, 1.0))
		die("watch: out of memory");
	in.extra = pw_watch_render;
	in.extra_ctx = &w;
	if (pw_bpf_read_classes(rb, in.classes))
		die("read the classes");
	for (int k = 0; k < RUNS; k++) {
		struct pw_buf b = {0};
		double t0 = now();

		pw_render_metrics(&in, &b);
		v[k] = (now() - t0) * 1e3;
		if (b.oom)
			die("render: out of memory");
		*size = b.len;
		pw_buf_free(&b);
	}
	pw_watch_free(&w);
	return median(v, RUNS);
}

static double poll_ms(struct pw_poller *pl, double t)
{
	double v[RUNS];

	for (int k = 0; k < RUNS; k++) {
		double t0 = now();

		if (pw_poller_poll(pl, t + k + 1))
			die("poll");
		v[k] = (now() - t0) * 1e3;
	}
	return median(v, RUNS);
}

static void run_around(struct around *a, const struct pw_prefix *v4_1m, size_t n1m)
{
	char pfx1m[128], pfx100k[128], cfg[128];
	struct pw_source src = {.ctx = rb,
				.max_ids = pw_bpf_max_ids(rb),
				.read_counters = src_read,
				.set_prefixes = src_set};
	struct pw_config c;
	struct pw_poller pl;
	double t0;

	snprintf(pfx1m, sizeof(pfx1m), "%s/v4-1m.prefixes", tmpdir);
	snprintf(pfx100k, sizeof(pfx100k), "%s/v4-100k.prefixes", tmpdir);
	snprintf(cfg, sizeof(cfg), "%s/bench.ini", tmpdir);
	write_prefix_file(pfx1m, v4_1m, n1m);
	write_prefix_file(pfx100k, v4_1m, 100000);

	/* 1M prefixes from a file: parse, then the poller's apply (ids, tables, flip). */
	write_config(cfg, "", "group", pfx1m);
	t0 = now();
	load_config(cfg, &c);
	a->parse_s = now() - t0;
	if (pw_poller_init(&pl, &src))
		die("poller: out of memory");
	t0 = now();
	if (pw_poller_apply(&pl, &c, 1.0))
		die("apply 1M prefixes");
	a->apply_s = now() - t0;
	a->poll_1m_ms = poll_ms(&pl, 1.0);
	/* A reload of the same 1M: settling poll, tables, flip. */
	load_config(cfg, &c);
	t0 = now();
	if (pw_poller_apply(&pl, &c, 10.0))
		die("reload 1M prefixes");
	a->reapply_s = now() - t0;
	pw_poller_free(&pl);

	/* /metrics at 100k prefixes, with their series (export = prefix) and without. */
	write_config(cfg, "", "prefix", pfx100k);
	load_config(cfg, &c);
	if (pw_poller_init(&pl, &src) || pw_poller_apply(&pl, &c, 1.0))
		die("apply 100k prefixes");
	a->poll_100k_ms = poll_ms(&pl, 1.0);
	a->render_prefix_ms = render_ms(&pl, &a->page_prefix);
	pw_poller_free(&pl);
	write_config(cfg, "", "group", pfx100k);
	load_config(cfg, &c);
	if (pw_poller_init(&pl, &src) || pw_poller_apply(&pl, &c, 1.0))
		die("apply 100k prefixes");
	poll_ms(&pl, 1.0);
	a->render_group_ms = render_ms(&pl, &a->page_group);
	pw_poller_free(&pl);
}

/* ---- reloads under load ---- */

struct hammer {
	int fd;
	struct frame f;
	volatile int stop;
	uint64_t frames;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;

	while (!h->stop) {
		test_run(h->fd, h->f.data, h->f.len, 20000);
		h->frames += 20000;
	}
	return NULL;
}

struct under_load {
	int swaps;
	uint64_t frames, at_old_or_new, elsewhere;
	double reload_ms;
};

/*
 * Frames to one destination run without pause while the 1M-prefix set is swapped between
 * two id assignments: each frame must be counted once, at the prefix's id in the old set
 * or in the new one, and nothing anywhere else.
 */
static void run_under_load(struct under_load *u, const struct pw_prefix *t, size_t n)
{
	size_t nc = (size_t)pw_bpf_max_ids(rb) + PW_CLASS_MAX;
	struct pw_counter *before = calloc(nc, sizeof(*before)),
			  *after = calloc(nc, sizeof(*after));
	uint32_t *x = malloc(n * sizeof(*x)), *y = malloc(n * sizeof(*y));
	static struct hammer h;
	uint8_t addr[16];
	uint32_t which;
	pthread_t th;
	double spent = 0;

	if (!before || !after || !x || !y)
		die("out of memory");
	for (size_t i = 0; i < n; i++) {
		x[i] = (uint32_t)i;
		y[i] = (uint32_t)((i + 1) % n);
	}
	pw_dests_gen(t, n, 1, 77, addr, &which);
	if (pw_bpf_set_prefixes(rb, t, x, n))
		die("load 1M prefixes");
	h.fd = pw_bpf_prog_fd(rb);
	build_frame(&h.f, AF_INET, addr);
	/* Which prefix holds it: the LPM trie, filled with the same table, says. */
	{
		struct lpm_key k = {.prefixlen = 32};
		uint32_t id;

		memcpy(k.addr, addr, 4);
		if (bpf_map_lookup_elem(bpf_map__fd(sk->maps.ref_v4), &k, &id))
			die("reference lookup");
		which = id;
	}
	read_all(before);
	if (pthread_create(&th, NULL, hammer_main, &h))
		die("pthread_create");
	u->swaps = 6;
	for (int s = 0; s < u->swaps; s++) {
		double t0 = now();

		if (pw_bpf_set_prefixes(rb, t, s % 2 ? x : y, n))
			die("reload 1M prefixes");
		spent += now() - t0;
	}
	h.stop = 1;
	pthread_join(th, NULL);
	read_all(after);
	u->frames = h.frames;
	u->reload_ms = spent / u->swaps * 1e3;
	u->at_old_or_new = after[x[which]].packets - before[x[which]].packets +
			   after[y[which]].packets - before[y[which]].packets;
	u->elsewhere = 0;
	for (size_t i = 0; i < nc; i++)
		if (i != x[which] && i != y[which])
			u->elsewhere += after[i].packets - before[i].packets;
	free(before);
	free(after);
	free(x);
	free(y);
}

/* ---- the real daemon ---- */

struct daemon_figures {
	bool ran;
	char why[256];
	double start_s;
	unsigned long long hwm_kb, rss_kb, tables_memlock, counters_memlock;
};

static unsigned long long status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = strtoull(line + strlen(field) + 1, NULL, 10);
	fclose(f);
	return v;
}

static bool file_has(const char *path, const char *needle)
{
	char buf[65536];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

static void run_daemon(struct daemon_figures *d)
{
	char ns[32], cmd[512], cfg[128], log[128], pin[64], pfx[128], sensor[320], what[128];
	pid_t pid;
	double t0;

	memset(d, 0, sizeof(*d));
	snprintf(ns, sizeof(ns), "pwbench%d", (int)getpid());
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/pwbench-%d", (int)getpid());
	snprintf(cfg, sizeof(cfg), "%s/daemon.ini", tmpdir);
	snprintf(log, sizeof(log), "%s/daemon.err", tmpdir);
	snprintf(pfx, sizeof(pfx), "%s/v4-1m.prefixes", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "ip netns add %s && ip -n %s link add pwb0 type veth peer name pwb1 && "
		 "ip -n %s link set pwb0 up && ip -n %s link set pwb1 up",
		 ns, ns, ns, ns);
	if (system(cmd)) {
		snprintf(d->why, sizeof(d->why), "cannot make a namespace and veth (%s)", cmd);
		snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ns);
		(void)!system(cmd);
		return;
	}
	/* Its state in the bench's own directory: nothing left in /var/lib after the run. */
	snprintf(sensor, sizeof(sensor),
		 "[sensor]\ninterface = pwb0\nlisten = off\ninterval = 1\npin_dir = %s\n"
		 "state_dir = %s\n",
		 pin, tmpdir);
	write_config(cfg, sensor, "group", pfx);

	t0 = now();
	pid = fork();
	if (pid == 0) {
		char netns[64], daemon[256];
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int null = open("/dev/null", O_WRONLY);

		snprintf(netns, sizeof(netns), "--net=/run/netns/%s", ns);
		snprintf(daemon, sizeof(daemon), "%s/prefixwatch", build_dir);
		dup2(fd, 2);
		dup2(null, 1);
		execlp("nsenter", "nsenter", netns, daemon, "run", "-c", cfg, (char *)NULL);
		_exit(127);
	}
	while (pid > 0 && now() - t0 < 240 && !file_has(log, "watching")) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			pid = -1;
			break;
		}
		usleep(20000);
	}
	if (pid > 0 && file_has(log, "watching")) {
		d->start_s = now() - t0;
		sleep(3); /* a few polls */
		d->hwm_kb = status_kb(pid, "VmHWM:");
		d->rss_kb = status_kb(pid, "VmRSS:");
		for (int i = 0; i < 4; i++) {
			static const char *const t[] = {"pw_v4_0", "pw_v4_1", "pw_v6_0", "pw_v6_1"};

			snprintf(what, sizeof(what), "pinned %s/%s", pin, t[i]);
			d->tables_memlock += bpftool_memlock(what);
		}
		snprintf(what, sizeof(what), "pinned %s/pw_counters", pin);
		d->counters_memlock = bpftool_memlock(what);
		d->ran = true;
	} else {
		char first[160] = "";
		FILE *f = fopen(log, "r");

		if (f && fgets(first, sizeof(first), f))
			first[strcspn(first, "\n")] = '\0';
		if (f)
			fclose(f);
		snprintf(d->why, sizeof(d->why), "the daemon did not start: %s", first);
	}
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "ip netns del %s", ns);
	(void)!system(cmd);
}

/* ---- replay ---- */

struct replay_figures {
	bool ran;
	size_t frames;
	double seconds;
};

static void run_replay(struct replay_figures *rp, const struct pw_prefix *v4,
		       const struct pw_prefix *v6)
{
	char pfx[128], cfg[128], cap[128], cmd[1024], text[INET6_ADDRSTRLEN];
	uint8_t addrs[16 * 100];
	uint32_t which[100];
	FILE *f;
	double t0;
	int rc;

	memset(rp, 0, sizeof(*rp));
	snprintf(pfx, sizeof(pfx), "%s/replay.prefixes", tmpdir);
	snprintf(cfg, sizeof(cfg), "%s/replay.ini", tmpdir);
	snprintf(cap, sizeof(cap), "%s/replay.pcap", tmpdir);
	f = fopen(pfx, "w");
	if (!f)
		die("%s: %s", pfx, strerror(errno));
	for (size_t i = 0; i < 1000; i++) {
		char buf[PW_PREFIX_STRLEN];

		fprintf(f, "%s\n%s\n", pw_prefix_format(&v4[i], buf, sizeof(buf)),
			pw_prefix_format(&v6[i], text, sizeof(text)));
	}
	fclose(f);
	write_config(cfg, "", "prefix", pfx);

	/* 100 flows of 2000 frames over 10 s, to destinations across both tables. */
	snprintf(cmd, sizeof(cmd), "%s/tests/pcapgen %s 2>/dev/null", build_dir, cap);
	f = popen(cmd, "w");
	if (!f)
		die("pcapgen: %s", strerror(errno));
	pw_dests_gen(v4, 1000, 70, 5, addrs, which);
	for (int i = 0; i < 70; i++)
		fprintf(f, "0 10 200 ipv4 %s 100\n",
			inet_ntop(AF_INET, addrs + 16 * i, text, sizeof(text)));
	pw_dests_gen(v6, 1000, 30, 6, addrs, which);
	for (int i = 0; i < 30; i++)
		fprintf(f, "0 10 200 ipv6 %s 100\n",
			inet_ntop(AF_INET6, addrs + 16 * i, text, sizeof(text)));
	if (pclose(f))
		die("pcapgen failed (is %s/tests/pcapgen built?)", build_dir);
	rp->frames = 100 * 2000;

	snprintf(cmd, sizeof(cmd), "%s/prefixwatch replay -c %s %s >/dev/null 2>%s/replay.err",
		 build_dir, cfg, cap, tmpdir);
	t0 = now();
	rc = system(cmd);
	rp->seconds = now() - t0;
	rp->ran = rc == 0;
}

/* ---- main ---- */

/* The prefix files and captures (tens of MB) go, whatever the outcome. */
static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	(void)!system(cmd);
}

/* ---- the detectors' rebuild (pw_watch_sync), in userspace alone ---- */

struct mem_source {
	struct pw_counter *c;
};

static int mem_read(void *ctx, uint32_t n, struct pw_counter *out)
{
	memcpy(out, ((struct mem_source *)ctx)->c, n * sizeof(*out));
	return 0;
}

static int mem_set(void *ctx, const struct pw_prefix *pfx, const uint32_t *ids, size_t n)
{
	(void)ctx, (void)pfx, (void)ids, (void)n;
	return 0;
}

/* A config of one per-prefix group of @n prefixes of @t starting at @from (sorted). */
static void one_group(struct pw_config *cfg, const struct pw_prefix *t, size_t from, size_t n)
{
	struct pw_group *g;
	size_t k = 0;

	pw_config_defaults(cfg);
	cfg->groups = calloc(1, sizeof(*cfg->groups));
	if (!cfg->groups)
		die("out of memory");
	g = &cfg->groups[0];
	cfg->n_groups = 1;
	snprintf(g->name, sizeof(g->name), "bench");
	pw_detect_defaults(&g->det);
	g->per_prefix = true;
	g->prefixes = malloc(n * sizeof(*g->prefixes));
	if (!g->prefixes)
		die("out of memory");
	memcpy(g->prefixes, t + from, n * sizeof(*g->prefixes));
	qsort(g->prefixes, n, sizeof(*g->prefixes), pw_prefix_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || !pw_prefix_equal(&g->prefixes[k - 1], &g->prefixes[i]))
			g->prefixes[k++] = g->prefixes[i];
	g->n_prefixes = g->cap = k;
}

/*
 * pw_watch_sync at @n per-prefix detectors: at start (no detector to carry over), then a
 * reload that drops 1% of the prefixes and adds as many (every other detector carried).
 * Prints "bench: case=watch_sync ..." lines; the median of RUNS.
 */
static void run_watch_sync(size_t n)
{
	size_t extra = n / 100, max_ids = n + extra;
	struct pw_prefix *t = malloc(max_ids * sizeof(*t));
	struct mem_source ms = { calloc(max_ids, sizeof(struct pw_counter)) };
	struct pw_source src = { .ctx = &ms, .max_ids = (uint32_t)max_ids,
				 .read_counters = mem_read, .set_prefixes = mem_set };
	double start[RUNS], reload[RUNS];

	if (!t || !ms.c || pw_table_gen(AF_INET, max_ids, 0x77617463, t))
		die("out of memory");
	for (int run = 0; run < RUNS; run++) {
		struct pw_poller pl;
		struct pw_watch w;
		struct pw_config cfg;
		double t0;

		if (pw_poller_init(&pl, &src))
			die("out of memory");
		pw_watch_init(&w, NULL, NULL);
		one_group(&cfg, t, 0, n);
		if (pw_poller_apply(&pl, &cfg, 1))
			die("apply %zu prefixes", n);
		t0 = now();
		if (pw_watch_sync(&w, &pl, 1))
			die("watch sync: out of memory");
		start[run] = (now() - t0) * 1e3;
		one_group(&cfg, t, extra, n);
		if (pw_poller_apply(&pl, &cfg, 2))
			die("apply %zu prefixes", n);
		t0 = now();
		if (pw_watch_sync(&w, &pl, 2))
			die("watch sync: out of memory");
		reload[run] = (now() - t0) * 1e3;
		pw_watch_free(&w);
		pw_poller_free(&pl);
	}
	printf("bench: case=watch_sync step=start prefixes=%zu ms=%.1f\n", n, median(start, RUNS));
	printf("bench: case=watch_sync step=reload prefixes=%zu ms=%.1f\n", n,
	       median(reload, RUNS));
	free(t);
	free(ms.c);
}

static void print_header(void)
{
	char date[64], cpu[128] = "?", line[256];
	struct utsname u;
	time_t t = time(NULL);
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10)) {
			char *p = strchr(line, ':');

			snprintf(cpu, sizeof(cpu), "%s", p ? p + 2 : line);
			cpu[strcspn(cpu, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&t));
	printf("prefixwatch bench, %s: Linux %s, %s, %ld CPUs\n", date, u.release, cpu,
	       sysconf(_SC_NPROCESSORS_ONLN));
}

static void print_bench_line(const char *c, int family, size_t n, const char *dist, double ns)
{
	printf("bench: case=%s family=%s prefixes=%zu dist=%s ns_per_pkt=%.2f\n", c,
	       fam_name(family), n, dist, ns);
}

static const char *verdict(bool met)
{
	return met ? "met" : "NOT met";
}

/* ---- memory and poll by export mode ---- */

/* Tolerance of the memory formula against the kernel's figure at this machine's CPUs. */
#define MEM_TOLERANCE_FRAC 0.01	      /* 1 % ... */
#define MEM_TOLERANCE_BYTES (64 << 10) /* ... plus 64 KiB for the maps' headers */

static bool percpu_type(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static uint64_t round8(uint64_t v)
{
	return (v + 7) & ~7ULL;
}

static uint64_t page_align(uint64_t v)
{
	return (v + 4095) & ~4095ULL;
}

/*
 * map_formula() - the bytes a map takes on @cpus CPUs: what docs/performance.md states,
 * after the kernel's own accounting (map_mem_usage: array_map_mem_usage,
 * htab_map_mem_usage). An array: a header, then each value rounded to 8 bytes (page
 * aligned when mmapable); a per-CPU array: a pointer per entry and a value per entry per
 * CPU; a preallocated hash: a 16-byte bucket per entry rounded up to a power of two, a
 * 48-byte element header with the key and a value (per CPU for per-CPU hashes) per entry,
 * and 8 lock counters per CPU. The headers (a few hundred bytes) are left to the tolerance.
 */
static uint64_t map_formula(enum bpf_map_type type, uint32_t flags, uint32_t key_size,
			    uint32_t value_size, uint32_t entries, unsigned int cpus)
{
	uint64_t v = round8(value_size), n = entries;

	switch (type) {
	case BPF_MAP_TYPE_ARRAY:
		return flags & BPF_F_MMAPABLE ? page_align(n * v) : n * v;
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		return n * 8 + n * v * cpus;
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH: {
		bool pc = type == BPF_MAP_TYPE_PERCPU_HASH;
		uint64_t buckets = 1, elem = 48 + round8(key_size) + (pc ? 8 : v);

		while (buckets < n)
			buckets <<= 1;
		return 16 * buckets + 4ULL * cpus * 8 + elem * (pc ? n : n + cpus) +
		       (pc ? v * cpus * n : 8ULL * cpus);
	}
	default:
		return n * v;
	}
}

/* The kernel's charge for the map behind @fd: "memlock" in its fdinfo (bytes_memlock). */
static uint64_t fdinfo_memlock(int fd)
{
	char path[64], line[256];
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %" SCNu64, &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * 1M IPv4 prefixes in one group, with export = group and export = prefix, sized as the
 * daemon sizes its maps (pw_bpf_size with room to grow): the poller's poll, then map
 * memory, measured (fdinfo) at this machine's CPUs and by the formula at 64 and 128.
 * The run stops when the formula and the kernel disagree by more than the tolerance.
 */
static void run_memory_poll(const struct pw_prefix *v4_1m, size_t n)
{
	static const char *const exports[] = { "group", "prefix" };
	const unsigned int cpus_at[] = { 64, 128 };
	char pfx[160], cfgp[160], err[1024];

	snprintf(pfx, sizeof(pfx), "%s/mem-v4.prefixes", tmpdir);
	snprintf(cfgp, sizeof(cfgp), "%s/mem.ini", tmpdir);
	write_prefix_file(pfx, v4_1m, n);
	for (int e = 0; e < 2; e++) {
		unsigned int ncpus = (unsigned int)libbpf_num_possible_cpus();
		uint64_t meas[2] = { 0, 0 }, form[2] = { 0, 0 }, at[2][2] = { { 0 } };
		struct pw_bpf_opts o;
		struct pw_poller pl;
		struct pw_source src;
		struct pw_config c;
		struct pw_bpf *b;
		struct bpf_map *m;

		write_config(cfgp, "", exports[e], pfx);
		load_config(cfgp, &c);
		if (pw_bpf_size(&c, true, &o, err, sizeof(err)))
			die("%s", err);
		if (pw_bpf_open(&o, &b) || pw_bpf_load(b))
			die("load the BPF object");
		src = (struct pw_source){ .ctx = b,
					  .max_ids = pw_bpf_max_ids(b),
					  .read_counters = src_read,
					  .set_prefixes = src_set };
		if (pw_poller_init(&pl, &src) || pw_poller_apply(&pl, &c, 1.0))
			die("apply %zu prefixes", n);
		printf("bench: case=poll prefixes=%zu export=%s ms=%.3f\n", n, exports[e],
		       poll_ms(&pl, 1.0));
		bpf_object__for_each_map(m, pw_bpf_object(b)) {
			enum bpf_map_type t = bpf_map__type(m);
			int pc = percpu_type(t);

			meas[pc] += fdinfo_memlock(bpf_map__fd(m));
			form[pc] += map_formula(t, bpf_map__map_flags(m), bpf_map__key_size(m),
						bpf_map__value_size(m), bpf_map__max_entries(m),
						ncpus);
			for (int k = 0; k < 2; k++)
				at[k][pc] += map_formula(t, bpf_map__map_flags(m),
							 bpf_map__key_size(m),
							 bpf_map__value_size(m),
							 bpf_map__max_entries(m), cpus_at[k]);
		}
		printf("bench: case=memory prefixes=%zu export=%s cpus=%u counters_bytes=%" PRIu64
		       " tables_bytes=%" PRIu64 "\n",
		       n, exports[e], ncpus, meas[1], meas[0]);
		for (int k = 0; k < 2; k++)
			printf("bench: case=memory prefixes=%zu export=%s cpus=%u counters_bytes=%" PRIu64
			       " tables_bytes=%" PRIu64 "\n",
			       n, exports[e], cpus_at[k], at[k][1], at[k][0]);
		printf("  memory at %u CPUs, kernel against formula: counters %" PRIu64 " / %" PRIu64
		       ", tables %" PRIu64 " / %" PRIu64 " bytes; %u counter ids\n",
		       ncpus, meas[1], form[1], meas[0], form[0], pw_bpf_max_ids(b));
		for (int pc = 0; pc < 2; pc++) {
			double d = (double)meas[pc] - (double)form[pc];

			if (!meas[pc] ||
			    (d < 0 ? -d : d) > MEM_TOLERANCE_FRAC * (double)meas[pc] + MEM_TOLERANCE_BYTES)
				die("the memory formula is off: %s %" PRIu64 " bytes by the kernel, %" PRIu64
				    " by the formula",
				    pc ? "counters" : "tables", meas[pc], form[pc]);
		}
		pw_poller_free(&pl);
		pw_bpf_close(b);
	}
}

/*
 * On these shared virtual CPUs a hot run goes either at full speed or, at random moments
 * (another guest on the core, a slower clock), up to twice as slow: more than the few ns
 * the anatomy costs, and the median of a few runs lands in either mode. Where a program's
 * code lands in memory moves it a little too. So "bench BUILD_DIR hot" loads the bench
 * programs LAYOUTS times, runs xdp_pass, xdp_real (the real program, compiled again into
 * the bench object) and xdp_no_anatomy (the same without the anatomy) in LAYOUT_ROUNDS
 * interleaved rounds on each load, takes each program's fastest round (noise only adds),
 * and reports the median over loads.
 */
#define LAYOUTS	      7
#define LAYOUT_ROUNDS 11

struct hot_figures {
	double pass, pw, noanat, anat; /* anat: the median of per-load differences */
};

static struct bench *bench_load(void)
{
	struct bench *b = bench__open();
	struct bpf_map *m;
	int err;

	if (!b)
		die("open the bench programs: %s", strerror(errno));
	bpf_object__for_each_map(m, b->obj)
	{
		if (strncmp(bpf_map__name(m), "pw_", 3))
			continue;
		if (bpf_map__reuse_fd(m, map_fd(pw_bpf_object(rb), bpf_map__name(m))))
			die("share map %s", bpf_map__name(m));
	}
	bpf_map__set_max_entries(b->maps.floor_counters, pw_bpf_max_ids(rb));
	b->rodata->pw_v4_l1_bits = pw_bpf_v4_l1_bits(rb);
	err = bench__load(b);
	if (err)
		die("load the bench programs: %s", strerror(-err));
	return b;
}

/* The hot figures of @t4 and @t6 (small tables, one of each family), over several loads. */
static void run_hot(const struct pw_prefix *t4, size_t n4, const struct pw_prefix *t6,
		    size_t n6, struct hot_figures fig[2])
{
	size_t n = n4 + n6;
	struct pw_prefix *all = malloc(n * sizeof(*all));
	uint32_t *ids = malloc(n * sizeof(*ids)), which;
	double v[2][4][LAYOUTS];
	static struct frame f[2];
	uint8_t addr[16];
	int err;

	if (!all || !ids)
		die("out of memory");
	memcpy(all, t4, n4 * sizeof(*all));
	memcpy(all + n4, t6, n6 * sizeof(*all));
	for (size_t i = 0; i < n; i++)
		ids[i] = (uint32_t)i;
	err = pw_bpf_set_prefixes(rb, all, ids, n);
	if (err)
		die("load the hot tables: %s", strerror(-err));
	pw_dests_gen(t4, n4, 1, 0x407, addr, &which);
	build_frame(&f[0], AF_INET, addr);
	pw_dests_gen(t6, n6, 1, 0x406, addr, &which);
	build_frame(&f[1], AF_INET6, addr);
	for (int l = 0; l < LAYOUTS; l++) {
		struct bench *b = bench_load();
		const int fds[3] = {bpf_program__fd(b->progs.xdp_pass),
				    bpf_program__fd(b->progs.xdp_real),
				    bpf_program__fd(b->progs.xdp_no_anatomy)};

		for (int fam = 0; fam < 2; fam++) {
			double r[3][LAYOUT_ROUNDS];

			for (int k = 0; k < LAYOUT_ROUNDS; k++)
				for (int p = 0; p < 3; p++)
					r[p][k] = hot_ns(fds[p], f[fam].data, f[fam].len);
			for (int p = 0; p < 3; p++)
				v[fam][p][l] = min_of(r[p], LAYOUT_ROUNDS);
			v[fam][3][l] = v[fam][1][l] - v[fam][2][l];
			if (getenv("PW_BENCH_DEBUG")) {
				for (int p = 0; p < 3; p++) {
					printf("  load %d fam %d prog %d:", l, fam, p);
					for (int k = 0; k < LAYOUT_ROUNDS; k++)
						printf(" %.0f", r[p][k]);
					printf("\n");
				}
			}
		}
		bench__destroy(b);
	}
	for (int fam = 0; fam < 2; fam++) {
		fig[fam].pass = median(v[fam][0], LAYOUTS);
		fig[fam].pw = median(v[fam][1], LAYOUTS);
		fig[fam].noanat = median(v[fam][2], LAYOUTS);
		fig[fam].anat = median(v[fam][3], LAYOUTS);
	}
	free(all);
	free(ids);
}

static void print_hot(const struct hot_figures fig[2], size_t n4, size_t n6)
{
	printf("\nHot, ns per packet: %d loads of the programs, %d interleaved rounds of %d frames "
	       "each;\nthe median over loads of each load's fastest round:\n",
	       LAYOUTS, LAYOUT_ROUNDS, HOT_REPEAT);
	for (int fam = 0; fam < 2; fam++) {
		const struct hot_figures *h = &fig[fam];

		printf("  %s: xdp-pass %.0f, prefixwatch %.0f (%.2fx), without the anatomy %.0f "
		       "(%.2fx): the anatomy costs %.1f ns a packet\n",
		       fam ? "ipv6" : "ipv4", h->pass, h->pw, h->pw / h->pass, h->noanat,
		       h->noanat / h->pass, h->anat);
	}
	for (int fam = 0; fam < 2; fam++) {
		int family = fam ? AF_INET6 : AF_INET;
		size_t n = fam ? n6 : n4;

		print_bench_line("xdp-pass", family, n, "hot-loads", fig[fam].pass);
		print_bench_line("prefixwatch", family, n, "hot-loads", fig[fam].pw);
		print_bench_line("prefixwatch-no-anatomy", family, n, "hot-loads",
				 fig[fam].noanat);
	}
}

int main(int argc, char **argv)
{
	static const struct {
		int family;
		size_t n;
	} tables[] = {
		{AF_INET, 1000},  {AF_INET, 100000},  {AF_INET, 1000000},
		{AF_INET6, 1000}, {AF_INET6, 200000},
	};
	enum { NT = sizeof(tables) / sizeof(tables[0]) };
	struct pw_bpf_opts o = {.max_v4 = PW_MAX_PREFIXES_V4, .max_v6 = PW_MAX_PREFIXES_V6};
	struct pw_prefix *t[NT];
	struct result res[NT];
	struct around a;
	struct under_load ul;
	struct daemon_figures dm;
	struct replay_figures rp;
	unsigned long long mem_tables = 0, mem_counters, mem_lpm4, mem_lpm6;
	uint32_t used[2], size[2];
	struct hot_figures hot[2];
	bool hot_only;
	int err;

	build_dir = argc > 1 ? argv[1] : "build";
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* "bench BUILD_DIR watch_sync": that case alone (userspace only, seconds). */
	if (argc > 2 && !strcmp(argv[2], "watch_sync")) {
		run_watch_sync(100000);
		return 0;
	}
	if (geteuid() != 0)
		die("needs root (BPF_PROG_TEST_RUN, maps of hundreds of MB, a network namespace)");
	setvbuf(stdout, NULL, _IOLBF, 0);
	pw_log_set_level(PW_LOG_WARN);
	pw_log_hook_libbpf();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pwbench.XXXXXX");
	if (!mkdtemp(tmpdir))
		die("mkdtemp: %s", strerror(errno));
	atexit(remove_tmpdir);

	/* "bench BUILD_DIR memory": memory and poll by export mode alone (a minute). */
	if (argc > 2 && !strcmp(argv[2], "memory")) {
		struct pw_prefix *v4 = malloc(1000000 * sizeof(*v4));

		if (!v4 || pw_table_gen(AF_INET, 1000000, 0x7077 + 2, v4))
			die("out of memory");
		run_memory_poll(v4, 1000000);
		free(v4);
		return 0;
	}

	hot_only = argc > 2 && !strcmp(argv[2], "hot");
	print_header();
	printf("generating tables ...\n");
	for (int i = 0; i < NT; i++) {
		t[i] = NULL;
		/* "bench BUILD_DIR hot": the hot cases of the small tables alone (seconds). */
		if (hot_only && tables[i].n > 1000)
			continue;
		t[i] = malloc(tables[i].n * sizeof(*t[i]));
		if (!t[i] || pw_table_gen(tables[i].family, tables[i].n, 0x7077 + i, t[i]))
			die("out of memory");
	}

	/* The real object, at the compiled-in capacity: 1,048,576 IPv4 and 262,144 IPv6. */
	err = pw_bpf_open(&o, &rb);
	if (!err)
		err = pw_bpf_load(rb);
	if (err)
		die("load prefixwatch: %s", strerror(-err));
	sk = bench_load();
	dests_v4 = map_mem(sk->maps.bench_dests_v4, 8);
	dests_v6 = map_mem(sk->maps.bench_dests_v6, 16);
	floor_idx = map_mem(sk->maps.bench_floor_idx, 8);
	if (hot_only) {
		run_hot(t[0], tables[0].n, t[3], tables[3].n, hot);
		print_hot(hot, tables[0].n, tables[3].n);
		return 0;
	}

	printf("\nLookup and count, ns per packet, %d interleaved runs; hot: %d frames to one "
	       "destination, the fastest run\n(the kernel's timer: whole ns; see run_hot() for "
	       "why the fastest); spread: %u destinations across the\ntable, the median run. "
	       "lookup = spread minus the count floor.\n\n",
	       RUNS, HOT_REPEAT, N_DESTS);
	printf("%-4s %8s %9s | %8s %11s %8s %6s | %7s %11s %8s | %7s %7s %7s\n", "", "", "", "hot",
	       "", "", "", "spread", "", "", "lookup", "", "");
	printf("%-4s %8s %9s | %8s %11s %8s %6s | %7s %11s %8s | %7s %7s %7s\n", "fam", "prefixes",
	       "reload ms", "xdp-pass", "prefixwatch", "lpm-ref", "ratio", "floor", "prefixwatch",
	       "lpm-ref", "pw", "lpm", "lpm/pw");
	for (int i = 0; i < NT; i++) {
		struct result *r = &res[i];
		/* The last table of this family loaded in the reference trie. */
		int prev = i > 0 && tables[i - 1].family == tables[i].family ? i - 1 : -1;

		run_table(r, tables[i].family, tables[i].n, t[i], prev >= 0 ? t[prev] : NULL,
			  prev >= 0 ? tables[prev].n : 0);
		printf("%-4s %8zu %9.1f | %8.1f %11.1f %8.1f %5.2fx | %7.1f %11.1f %8.1f | %7.1f "
		       "%7.1f %6.1fx\n",
		       fam_name(r->family), r->n, r->reload_ms, r->hot_pass, r->hot_pw, r->hot_lpm,
		       r->hot_pw / r->hot_pass, r->sp_floor, r->sp_pw, r->sp_lpm,
		       r->sp_pw - r->sp_floor, r->sp_lpm - r->sp_floor,
		       (r->sp_lpm - r->sp_floor) / (r->sp_pw - r->sp_floor));
	}
	printf("\n");
	for (int i = 0; i < NT; i++) {
		struct result *r = &res[i];

		print_bench_line("xdp-pass", r->family, r->n, "hot", r->hot_pass);
		print_bench_line("prefixwatch", r->family, r->n, "hot", r->hot_pw);
		print_bench_line("lpm-reference", r->family, r->n, "hot", r->hot_lpm);
		print_bench_line("count-floor", r->family, r->n, "spread", r->sp_floor);
		print_bench_line("prefixwatch", r->family, r->n, "spread", r->sp_pw);
		print_bench_line("lpm-reference", r->family, r->n, "spread", r->sp_lpm);
	}
	run_hot(t[0], tables[0].n, t[3], tables[3].n, hot);
	print_hot(hot, tables[0].n, tables[3].n);
	run_watch_sync(100000);

	printf("\nWhere the hot cost goes (ns per packet over xdp-pass; median of the tables):\n");
	{
		double parse[NT], noif[NT], full[NT];

		for (int i = 0; i < NT; i++) {
			parse[i] = res[i].hot_parse - res[i].hot_pass;
			noif[i] = res[i].hot_noiface - res[i].hot_pass;
			full[i] = res[i].hot_pw - res[i].hot_pass;
		}
		printf("  parsing only %.1f; + frame length (bpf_xdp_get_buff_len), lookup and "
		       "count "
		       "%.1f; + the interface counter (an array slot by ifindex) %.1f\n",
		       median(parse, NT), median(noif, NT), median(full, NT));
	}

	printf("\nTargets:\n");
	{
		double worst = 0;
		const struct result *v4m = &res[2], *v6m = &res[4];
		double own4 = v4m->sp_pw - v4m->sp_floor, ref4 = v4m->sp_lpm - v4m->sp_floor;
		double own6 = v6m->sp_pw - v6m->sp_floor, ref6 = v6m->sp_lpm - v6m->sp_floor;
		double lo = 1e9, hi = 0;

		for (int i = 0; i < NT; i++)
			if (res[i].hot_pw / res[i].hot_pass > worst)
				worst = res[i].hot_pw / res[i].hot_pass;
		for (int i = 0; i < 3; i++) {
			double own = res[i].sp_pw - res[i].sp_floor;

			lo = own < lo ? own : lo;
			hi = own > hi ? own : hi;
		}
		printf("  hot, every table: prefixwatch within 1.5x xdp-pass: worst %.2fx: %s\n",
		       worst, verdict(worst <= 1.5));
		printf("  hot: the flood anatomy at most 5 ns a packet: ipv4 %.1f, ipv6 %.1f ns: %s\n",
		       hot[0].anat, hot[1].anat, verdict(hot[0].anat <= 5 && hot[1].anat <= 5));
		printf("  spread, IPv4 1M: lookup 5x below the LPM trie's: %.1f vs %.1f ns, %.1fx: "
		       "%s\n",
		       own4, ref4, ref4 / own4, verdict(ref4 >= 5 * own4));
		printf("  spread, IPv4 1M: prefixwatch within 2x the count floor: %.1f vs %.1f ns, "
		       "%.2fx: %s\n",
		       v4m->sp_pw, v4m->sp_floor, v4m->sp_pw / v4m->sp_floor,
		       verdict(v4m->sp_pw <= 2 * v4m->sp_floor));
		printf("  spread, IPv6 200k: lookup 3x below the LPM trie's: %.1f vs %.1f ns, "
		       "%.1fx: %s\n",
		       own6, ref6, ref6 / own6, verdict(ref6 >= 3 * own6));
		printf("  IPv4 lookup cost from 1k to 1M prefixes: %.1f to %.1f ns (the LPM trie: "
		       "%.1f to %.1f)\n",
		       lo, hi, res[0].sp_lpm - res[0].sp_floor, ref4);
	}

	printf("\nAround the lookup:\n");
	pw_bpf_table_units(rb, used, size);
	printf("  reload (fill the idle tables, flip, wait for readers):");
	for (int i = 0; i < NT; i++)
		printf(" %s %zu: %.1f ms;", fam_name(res[i].family), res[i].n, res[i].reload_ms);
	printf("\n  the LPM trie, for comparison: %s 1M filled in %.0f ms (batched updates)\n",
	       "ipv4", res[2].load_lpm_ms);

	run_around(&a, t[2], tables[2].n);
	printf("  load 1M IPv4 prefixes from a prefix file: %.2f s (parse %.2f s, poller and "
	       "tables %.2f s); a reload of them %.2f s\n",
	       a.parse_s + a.apply_s, a.parse_s, a.apply_s, a.reapply_s);
	printf("  one poll: %.1f ms at 1M prefixes (export = group), %.1f ms at 100k (export = prefix)\n",
	       a.poll_1m_ms, a.poll_100k_ms);
	run_memory_poll(t[2], tables[2].n);
	printf("  /metrics at 100k prefixes: %.1f ms, %.1f MB (export = prefix); %.2f ms, %zu "
	       "bytes (export = group)\n",
	       a.render_prefix_ms, mib(a.page_prefix), a.render_group_ms, a.page_group);

	/* Memory now: the real tables hold the 1M IPv4 prefixes, the references their last. */
	pw_bpf_table_units(rb, used, size);
	{
		static const char *const names[] = {"pw_v4_0", "pw_v4_1", "pw_v6_0", "pw_v6_1"};

		for (int i = 0; i < 4; i++)
			mem_tables += memlock_of_fd(map_fd(pw_bpf_object(rb), names[i]));
	}
	mem_counters = memlock_of_fd(map_fd(pw_bpf_object(rb), "pw_counters"));
	mem_lpm4 = memlock_of_fd(bpf_map__fd(sk->maps.ref_v4));
	mem_lpm6 = memlock_of_fd(bpf_map__fd(sk->maps.ref_v6));
	printf("  map memory (bpftool bytes_memlock), capacity %u IPv4 + %u IPv6 prefixes: "
	       "tables %.1f MB (2 copies x 2 families), pw_counters %.1f MB\n",
	       pw_bpf_max_v4(rb), pw_bpf_max_v6(rb), mib(mem_tables), mib(mem_counters));
	printf("    in use: IPv4 1M prefixes %.1f MB of a %.1f MB table; IPv6 200k %.1f MB of "
	       "%.1f MB; the LPM tries: IPv4 1M %.1f MB, IPv6 200k %.1f MB\n",
	       mib((unsigned long long)res[2].used_units * 64),
	       mib((unsigned long long)size[0] * 64),
	       mib((unsigned long long)res[4].used_units * 64),
	       mib((unsigned long long)size[1] * 64), mib(mem_lpm4), mib(mem_lpm6));

	run_under_load(&ul, t[2], tables[2].n);
	printf("  %d reloads of 1M IPv4 prefixes under load (%.1f ms each): %llu frames run, "
	       "%llu counted at the old or new prefix, %llu elsewhere: %s\n",
	       ul.swaps, ul.reload_ms, (unsigned long long)ul.frames,
	       (unsigned long long)ul.at_old_or_new, (unsigned long long)ul.elsewhere,
	       ul.frames == ul.at_old_or_new && !ul.elsewhere ? "exact" : "NOT EXACT");

	run_daemon(&dm);
	if (dm.ran)
		printf("  the daemon at 1M IPv4 prefixes (export = group): up in %.1f s, peak RSS "
		       "%.0f MB (now %.0f MB); its maps: tables %.0f MB, pw_counters %.0f MB\n",
		       dm.start_s, dm.hwm_kb / 1024.0, dm.rss_kb / 1024.0, mib(dm.tables_memlock),
		       mib(dm.counters_memlock));
	else
		printf("  the daemon at 1M prefixes: not measured: %s\n", dm.why);

	run_replay(&rp, t[0], t[3]);
	if (rp.ran)
		printf("  replay: %zu frames in %.2f s: %.0f frames/s (1k IPv4 + 1k IPv6 "
		       "prefixes)\n",
		       rp.frames, rp.seconds, rp.frames / rp.seconds);
	else {
		char cmd[256];

		printf("  replay: failed:\n");
		snprintf(cmd, sizeof(cmd), "sed 's/^/    /' %s/replay.err | head -5", tmpdir);
		(void)!system(cmd);
	}

	if (!rp.ran || !dm.ran || ul.frames != ul.at_old_or_new || ul.elsewhere)
		return 1;
	bench__destroy(sk);
	pw_bpf_close(rb);
	for (int i = 0; i < NT; i++)
		free(t[i]);
	return 0;
}
