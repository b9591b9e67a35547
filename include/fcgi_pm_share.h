/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server-wide cap on workers, FcgiPmMaxProcesses (manager only).
 *
 * Apps never grow by themselves: a pool that wants one worker more says
 * so (fcgi_pm_pool_wants) and the share gives it one while the server is
 * under the cap.  At the cap, the app with the fewest workers (then the
 * one that has waited longest) is served first, and a worker that serves
 * nothing, above its app's floor, is taken back from the app that has
 * the most of them: a cold on-demand app never waits for another app's
 * IdleTimeout.  Floors (Processes) are never taken back.
 */
#ifndef FCGI_PM_SHARE_H
#define FCGI_PM_SHARE_H

#include "fcgi_pm_pool.h"

/* Once per round of ticks.  Returns milliseconds until it wants to run
 * again (an app still waits), 0 when an app was given a worker (its pool
 * must tick now), or -1. */
int fcgi_pm_share_workers(fcgi_pm_app *apps, int max_total, server_rec *s,
                          apr_time_t now);

#endif /* FCGI_PM_SHARE_H */
