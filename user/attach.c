// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* attach.c - attach the program to interfaces through libxdp's dispatcher. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include "attach.h"
#include "loader.h"

struct pw_attacher {
	struct xdp_program *prog;
};

int pw_attacher_new(struct pw_bpf *b, struct pw_attacher **out, char *err, size_t errlen)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .obj = pw_bpf_object(b),
			    .prog_name = pw_bpf_prog_name());
	struct pw_attacher *a = calloc(1, sizeof(*a));
	long e;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->prog = xdp_program__create(&opts);
	e = libxdp_get_error(a->prog);
	if (e) {
		snprintf(err, errlen, "cannot prepare the XDP program: %s", strerror((int)-e));
		free(a);
		return (int)e;
	}
	*out = a;
	return 0;
}

static int try_attach(struct pw_attacher *a, unsigned int ifindex, enum xdp_attach_mode m)
{
	return xdp_program__attach(a->prog, (int)ifindex, m, 0);
}

int pw_attach(struct pw_attacher *a, const char *ifname, enum pw_attach_mode mode,
	      const char **used, unsigned int *attached_ifindex, char *err, size_t errlen)
{
	unsigned int ifindex = if_nametoindex(ifname);
	int e;

	if (!ifindex) {
		e = -errno;
		snprintf(err, errlen, "attach to %s: no such interface (check the name with 'ip link')",
			 ifname);
		return e ? e : -ENODEV;
	}
	if (mode != PW_MODE_SKB) {
		e = try_attach(a, ifindex, XDP_MODE_NATIVE);
		if (!e) {
			*used = "native";
			*attached_ifindex = ifindex;
			return 0;
		}
		if (mode == PW_MODE_NATIVE) {
			snprintf(err, errlen,
				 "attach to %s in native mode: %s (try --mode skb, or see 'ip link show %s' for another XDP program)",
				 ifname, strerror(-e), ifname);
			return e;
		}
	}
	e = try_attach(a, ifindex, XDP_MODE_SKB);
	if (!e) {
		*used = "skb";
		*attached_ifindex = ifindex;
		return 0;
	}
	snprintf(err, errlen,
		 "attach to %s in %s mode: %s (is another XDP program attached without libxdp? see 'xdp-loader status %s')",
		 ifname, mode == PW_MODE_AUTO ? "native and skb" : "skb", strerror(-e), ifname);
	return e;
}

int pw_detach(struct pw_attacher *a, unsigned int ifindex, const char *used)
{
	enum xdp_attach_mode m = used && !strcmp(used, "skb") ? XDP_MODE_SKB : XDP_MODE_NATIVE;

	return xdp_program__detach(a->prog, (int)ifindex, m, 0);
}

void pw_attacher_free(struct pw_attacher *a)
{
	if (!a)
		return;
	xdp_program__close(a->prog);
	free(a);
}

/* True when the program @prog_fd uses the map whose id is @map_id. */
static bool uses_map(int prog_fd, uint32_t map_id)
{
	uint32_t ids[64];
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (uint64_t)(unsigned long)ids;
	if (prog_fd < 0 || bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return false;
	for (uint32_t i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i] == map_id)
			return true;
	return false;
}

int pw_remove_stale(const char *ifname, const char *pin_dir)
{
	struct bpf_map_info minfo = { 0 };
	uint32_t mlen = sizeof(minfo);
	struct xdp_multiprog *mp;
	unsigned int ifindex = if_nametoindex(ifname);
	char path[4200];
	int removed = 0, fd;

	if (!ifindex)
		return 0;
	snprintf(path, sizeof(path), "%s/pw_counters", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &minfo, &mlen)) {
		close(fd);
		return 0;
	}
	close(fd);
	mp = xdp_multiprog__get_from_ifindex((int)ifindex);
	if (!mp || libxdp_get_error(mp))
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		struct xdp_program *p = xdp_multiprog__main_prog(mp);

		if (p && uses_map(xdp_program__fd(p), minfo.id) && !xdp_multiprog__detach(mp))
			removed = 1;
	} else {
		struct xdp_program *p;

		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			if (uses_map(xdp_program__fd(p), minfo.id) &&
			    !xdp_program__detach(p, (int)ifindex, xdp_multiprog__attach_mode(mp), 0)) {
				removed = 1;
				break;
			}
	}
	xdp_multiprog__close(mp);
	return removed;
}
