/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The size of an app's pool (manager only): how many workers it wants
 * (run.target, from Processes up to MaxProcesses), grown when connections
 * wait in its listen queue, shrunk after IdleTimeout; the functions the
 * server-wide cap uses are declared in fcgi_pm_pool.h.  Between pool.c
 * and pool_size.c only.
 */
#ifndef FCGI_PM_POOL_SIZE_H
#define FCGI_PM_POOL_SIZE_H

#include "fcgi_pm_pool.h"

/* Once, from fcgi_pm_pool_init(). */
void fcgi_pm_pool_size_init(server_rec *s);

/* A connection waits in APP's listen queue (no worker is in accept()). */
int fcgi_pm_pool_connection_queued(const fcgi_pm_app *app);

/* One tick of the pool's size: says it wants a worker more, or retires
 * one (ALIVE, READY: its current workers, see fcgi_pm_pool_count).
 * Returns milliseconds until it wants to look again, or -1 (a static
 * pool). */
int fcgi_pm_pool_size_tick(fcgi_pm_app *app, apr_time_t now, int alive,
                           int ready);

/* From pool.c: the current roll's workers, starting or ready, and of
 * those the ready ones; ask W to finish and go (the lossless way). */
void fcgi_pm_pool_count(const fcgi_pm_app *app, int *alive, int *ready);
void fcgi_pm_pool_retire(fcgi_pm_app *app, fcgi_pm_worker *w);

#endif /* FCGI_PM_POOL_SIZE_H */
