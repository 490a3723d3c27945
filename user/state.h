/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * state.h - the detectors' state across restarts: baselines, dispersion, the evidence
 * and alarms in progress (and since when), recent losses, in one file per daemon.
 *
 * The file (DIR/detectors.state) is binary, for this build only: a header with a magic,
 * a format version, a byte-order mark and the size of struct pw_detector (another build
 * whose layout differs is "foreign"; the warm-up samples are not saved), the wall-clock time of the
 * write, then one record per detector keyed by group, prefix and (for a group) the hash of its
 * prefix set, and a 64-bit FNV-1a checksum of everything before it. Written atomically (temp file
 * in DIR, fsync, rename, fsync of DIR). A missing, stale, foreign or corrupt file is logged and
 * ignored: the detectors warm up afresh; it is never fatal.
 */
#ifndef PW_STATE_H
#define PW_STATE_H

#include <stddef.h>

#include "poller.h"
#include "watch.h"

#define PW_STATE_FILE	 "detectors.state"
#define PW_STATE_VERSION 1
/* Saving (daemon.c): every 10 s, longer for large files (at most 100 kB/s), at most 600 s. */
#define PW_STATE_SAVE_MIN   10.0
#define PW_STATE_SAVE_MAX   600.0
#define PW_STATE_WRITE_RATE 100000.0

/* Oldest state taken, when a group's relearn is 0 (never): an hour. */
#define PW_STATE_MAX_AGE 3600.0

/*
 * pw_state_save() - write every detector of @w to @dir/detectors.state, stamped
 * @wall_now (seconds, wall clock). Returns 0 or a negative errno (the old file is then
 * left as it was).
 */
int pw_state_save(const char *dir, const struct pw_watch *w, double wall_now);

/* The size in bytes of the file pw_state_save() writes for @n detectors. */
size_t pw_state_file_size(size_t n);

/*
 * pw_state_load() - restore the detectors of @w (after pw_watch_sync) whose key is in
 * @dir/detectors.state, if the file was written less than the group's relearn (from @pl,
 * or PW_STATE_MAX_AGE when @pl is NULL or relearn is 0) before @wall_now. A restored
 * detector resumes as it was: no warm-up, an alarm in progress stays raised (it is not
 * raised again), and its clock moves on by the time the daemon was down, so windows and
 * relearning count the downtime. Returns how many detectors were restored (0 when the
 * file was missing, stale, foreign or corrupt: each case is logged, never an error).
 */
int pw_state_load(const char *dir, struct pw_watch *w, const struct pw_poller *pl, double wall_now);

#endif /* PW_STATE_H */
