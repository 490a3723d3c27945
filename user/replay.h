/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * replay.h - run a capture through the real XDP program (BPF_PROG_TEST_RUN), cut intervals
 * on the capture's own timestamps, and run the daemon's detectors on them.
 */
#ifndef PW_REPLAY_H
#define PW_REPLAY_H

#include "config.h"

/*
 * pw_replay() - replay @capture (pcap or pcapng) under @cfg (taken over and freed).
 * Events go to stdout as JSON lines, the summary to stderr. Returns an exit status:
 * 0, 1 (cannot load the program), or 2 (unreadable or unsupported capture).
 */
int pw_replay(struct pw_config *cfg, const char *capture);

#endif /* PW_REPLAY_H */
