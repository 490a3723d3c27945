// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ifaces.c - the daemon's interface table: one entry per interface the config names, at
 * most PW_MAX_INTERFACES. Attach and detach through attach.c, count each interface in the
 * program's per-interface slots, and follow interfaces that disappear, come back or are
 * renamed.
 */
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "ifaces.h"
#include "log.h"

static struct pw_iface *find_iface(struct pw_daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_ifaces; i++)
		if (!strcmp(d->ifaces[i].st.name, name))
			return &d->ifaces[i];
	return NULL;
}

/*
 * Add @name to the table: the one place that bounds it. The table never holds more than
 * PW_MAX_INTERFACES, as the config cannot name more and the unwanted go first.
 */
static struct pw_iface *add_iface(struct pw_daemon *d, const char *name)
{
	struct pw_iface *f;

	if (d->n_ifaces >= PW_MAX_INTERFACES)
		return NULL;
	f = &d->ifaces[d->n_ifaces++];
	memset(f, 0, sizeof(*f));
	snprintf(f->st.name, sizeof(f->st.name), "%s", name);
	return f;
}

/* Detach by index, so an interface renamed meanwhile is found all the same. */
static void detach_iface(struct pw_daemon *d, struct pw_iface *f)
{
	int err;

	if (!f->st.attached)
		return;
	err = pw_detach(d->att, f->st.ifindex, f->st.mode);

	if (err)
		pw_warn("detach from %s failed: %s", f->st.name, strerror(-err));
	else
		pw_info("detached from %s", f->st.name);
	pw_bpf_iface_del(d->bpf, f->st.ifindex);
	f->st.attached = false;
}

static int attach_iface(struct pw_daemon *d, struct pw_iface *f, enum pw_attach_mode mode,
			char *err, size_t errlen)
{
	unsigned int ifindex;
	const char *used;
	int e;

	e = pw_attach(d->att, f->st.name, mode, &used, &ifindex, err, errlen);
	if (e)
		return e;
	f->st.attached = true;
	f->st.mode = used;
	f->st.ifindex = ifindex;
	if (pw_bpf_iface_add(d->bpf, ifindex))
		pw_warn("cannot count interface %s", f->st.name);
	return 0;
}

int pw_ifaces_sync(struct pw_daemon *d, const struct pw_config *cfg)
{
	char err[512];
	size_t out = 0;
	int failed = 0;

	for (size_t i = 0; i < d->n_ifaces; i++) {
		struct pw_iface *f = &d->ifaces[i];
		bool wanted = false;

		for (size_t j = 0; j < cfg->n_ifaces && !wanted; j++)
			wanted = !strcmp(f->st.name, cfg->ifaces[j]);
		if (!wanted) {
			detach_iface(d, f);
			continue;
		}
		d->ifaces[out++] = *f;
	}
	d->n_ifaces = out;
	for (size_t i = 0; i < cfg->n_ifaces; i++) {
		struct pw_iface *f = find_iface(d, cfg->ifaces[i]);

		if (!f)
			f = add_iface(d, cfg->ifaces[i]);
		if (!f) {
			pw_err("attach to %s: more than %d interfaces", cfg->ifaces[i],
			       PW_MAX_INTERFACES);
			failed = 1;
			continue;
		}
		if (f->st.attached)
			continue;
		if (attach_iface(d, f, cfg->mode, err, sizeof(err))) {
			pw_err("%s", err);
			failed = 1;
			continue;
		}
		pw_info("attached to %s in %s mode", f->st.name, f->st.mode);
	}
	return failed ? -1 : 0;
}

/*
 * The interface of @f no longer answers to its name. Deleted (or moved to another
 * namespace), it took the program with it. Renamed, it still carries the program: detach
 * by index, so nothing is left behind on an interface the config does not name. Either
 * way its counts carry over to its next life under the name.
 */
static void iface_lost(struct pw_daemon *d, struct pw_iface *f)
{
	char now_name[IF_NAMESIZE];

	if (if_indextoname(f->st.ifindex, now_name)) {
		pw_warn("interface %s was renamed to %s: detached from it; attached again when an interface named %s appears",
			f->st.name, now_name, f->st.name);
		detach_iface(d, f);
	} else {
		pw_warn("interface %s disappeared; counting goes on elsewhere, and it is attached again when it returns",
			f->st.name);
		pw_bpf_iface_del(d->bpf, f->st.ifindex);
		f->st.attached = false;
	}
	f->base = f->st.c;
	f->warned = false;
}

/* Interfaces that disappear or are renamed; attach again to those that are back. */
static void check_ifaces(struct pw_daemon *d)
{
	char err[512];

	for (size_t i = 0; i < d->n_ifaces; i++) {
		struct pw_iface *f = &d->ifaces[i];
		unsigned int idx = if_nametoindex(f->st.name);

		if (f->st.attached && idx != f->st.ifindex)
			iface_lost(d, f);
		if (f->st.attached || !idx)
			continue;
		if (attach_iface(d, f, d->mode, err, sizeof(err))) {
			if (!f->warned)
				pw_warn("interface %s is back but %s", f->st.name, err);
			f->warned = true;
			continue;
		}
		pw_info("interface %s is back: attached again in %s mode", f->st.name, f->st.mode);
	}
}

void pw_ifaces_poll(struct pw_daemon *d)
{
	check_ifaces(d);
	for (size_t i = 0; i < d->n_ifaces; i++) {
		struct pw_iface *f = &d->ifaces[i];
		struct pw_counter c;

		if (f->st.attached && pw_bpf_iface_read(d->bpf, f->st.ifindex, &c) == 0) {
			f->st.c.packets = f->base.packets + c.packets;
			f->st.c.bytes = f->base.bytes + c.bytes;
		}
	}
}

void pw_ifaces_detach_all(struct pw_daemon *d)
{
	for (size_t i = 0; i < d->n_ifaces; i++)
		detach_iface(d, &d->ifaces[i]);
}
