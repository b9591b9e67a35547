/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dormant apps (manager only): an app at rest (Processes 0, no worker of
 * any kind left, none wanted, configured, the manager not stopping)
 * leaves the manager's tick.  Its listen socket waits in one epoll set
 * instead, whose descriptor sits in the loop's poll set: thousands of
 * on-demand apps cost no system call while nothing comes.  A connection
 * in an app's listen queue makes the epoll set readable; that app wakes
 * (leaves the set, so that the queued connection, level-triggered, cannot
 * make the loop spin) and ticks at once, so the first request waits for
 * one start-up only.
 *
 * The set keeps a pointer to the app: an app leaves it before its record
 * is freed or its listen descriptor closed (fcgi_pm_pool_free() sees to
 * it).  Closing the descriptor would not be enough: httpd's parent holds
 * the same socket, so the registration would outlive it.
 */
#ifndef FCGI_PM_DORMANT_H
#define FCGI_PM_DORMANT_H

#include "fcgi_pm_pool.h"

/* Once, in the manager: the epoll set (without one, apps never sleep and
 * are ticked as before). */
void fcgi_pm_dormant_init(server_rec *s);

/* The epoll set's descriptor for the loop's poll set (-1: none). */
int fcgi_pm_dormant_fd(void);

/* After APP's tick: if it is at rest, it sleeps.  1 when it does. */
int fcgi_pm_dormant_enter(fcgi_pm_app *app, int stopping);

/* In the loop over apps: 1 when APP sleeps and stays asleep (no system
 * call then); one that sleeps but must tick now (removed, stopping, given
 * a worker) is woken first, and 0 returned. */
int fcgi_pm_dormant_skip(fcgi_pm_app *app, int stopping);

/* APP leaves the set, if it is in it. */
void fcgi_pm_dormant_leave(fcgi_pm_app *app);

/* The set was readable: the apps with a connection queued wake.  Returns
 * how many did (their tick is due). */
int fcgi_pm_dormant_wake_queued(void);

#endif /* FCGI_PM_DORMANT_H */
