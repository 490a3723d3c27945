/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* attach.h - attach the program to interfaces through libxdp's dispatcher. */
#ifndef PW_ATTACH_H
#define PW_ATTACH_H

#include <stddef.h>

#include "config.h"

struct pw_bpf;
struct pw_attacher;

/* Prepare to attach the (not yet loaded) object of @b; libxdp loads it on first attach. */
int pw_attacher_new(struct pw_bpf *b, struct pw_attacher **out, char *err, size_t errlen);

/*
 * Attach to @ifname. @mode auto tries native XDP, then generic (skb). On success returns
 * 0, the mode used ("native" or "skb") in @used and the interface's index in @ifindex; on
 * failure -errno with a message that names the interface, the mode, the reason and what
 * to try.
 */
int pw_attach(struct pw_attacher *a, const char *ifname, enum pw_attach_mode mode,
	      const char **used, unsigned int *ifindex, char *err, size_t errlen);
/*
 * Detach from the interface @ifindex (mode as returned by pw_attach). By index, not name:
 * an interface renamed since keeps its index. Returns 0 or -errno.
 */
int pw_detach(struct pw_attacher *a, unsigned int ifindex, const char *used);
/*
 * Remove from @ifname a prefixwatch program that an earlier run left attached when it was
 * killed: only one whose maps are those pinned under @pin_dir (so another instance's
 * program, pinned elsewhere, is never touched). Returns 1 when one was removed, else 0.
 */
int pw_remove_stale(const char *ifname, const char *pin_dir);

void pw_attacher_free(struct pw_attacher *a);

#endif /* PW_ATTACH_H */
