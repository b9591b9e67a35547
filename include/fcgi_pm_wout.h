/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Workers' stderr streams (manager only): each worker writes to a pipe
 * of its own, opened at spawn and polled by the manager's loop; its lines
 * go to the error log as "app NAME: worker PID: LINE", bounded and rate
 * limited per app (fcgi_pm_wlog.h).  A process the worker started may
 * still hold the pipe when the worker is reaped: the stream then stays
 * open (at most a bounded number of them) until its end.
 */
#ifndef FCGI_PM_WOUT_H
#define FCGI_PM_WOUT_H

#include "fcgi_pm_pool.h"

#include <poll.h>

/* Once: what to log with; where the manager's list of apps is (for each
 * stream's rate limit, looked up by name); how many entries of the poll
 * set belong to the caller (its own descriptors, before the streams). */
void fcgi_pm_wout_init(server_rec *s, fcgi_pm_app *const *apps, int fixed);

/* The poll set (the caller's FIXED entries, then room for every
 * stream).  It moves when streams are added: ask again each loop. */
struct pollfd *fcgi_pm_wout_pollfds(void);

/* A stream for a worker of APP about to be forked: its index (-1: none),
 * and in *CHILD_FD what becomes the worker's fd 2 (/dev/null when no pipe
 * can be had); *CHILD_FD is -1 when even that failed. */
int fcgi_pm_wout_open(const fcgi_pm_app *app, int *child_fd);

/* After the fork (PID, or -1 when it failed): the manager's copy of the
 * write end is closed. */
void fcgi_pm_wout_started(int idx, int child_fd, pid_t pid);

/* PID was reaped: its last words (bounded); the stream ends or lingers. */
void fcgi_pm_wout_reaped(pid_t pid);

/* Add every open stream to the poll set from index N; the new count. */
int fcgi_pm_wout_poll_set(int n);

/* Drain the streams poll() found ready among FROM..N-1, one bounded slice
 * each.  1 when one was drained. */
int fcgi_pm_wout_poll_done(int from, int n);

/* "N lines suppressed" reports that are due: ms until the next, -1 none. */
int fcgi_pm_wout_tick(apr_time_t now);

/* The manager leaves: what is left of every stream. */
void fcgi_pm_wout_close_all(void);

#endif /* FCGI_PM_WOUT_H */
