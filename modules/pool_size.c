/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The size of an app's pool (see fcgi_pm_pool_size.h): MaxProcesses,
 * IdleTimeout, Processes 0, and the pool's side of FcgiPmMaxProcesses
 * (the decisions across apps are share.c's).
 */
#include "fcgi_pm_pool_size.h"

#include "http_log.h"

#include <poll.h>

APLOG_USE_MODULE(fcgi_pm);

#define GROW_WAIT_MS      100   /* a connection queued this long: grow */
#define GROW_EVERY_MS     200   /* at most one more worker this often */
#define BUSY_SAMPLE_MS    100   /* see shrink_when_idle() */

static server_rec *S;

void fcgi_pm_pool_size_init(server_rec *s)
{
    S = s;
}

/* A connection waits in the listen queue: no worker is in accept() on
 * it (one that is takes it at once).  Nothing is accepted here. */
int fcgi_pm_pool_connection_queued(const fcgi_pm_app *app)
{
    struct pollfd pfd = { app->listen_fd, POLLIN, 0 };

    return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* W is a ready worker of the pool's current roll, ours. */
static int serves_current_roll(const fcgi_pm_pool_state *r,
                               const fcgi_pm_worker *w)
{
    return w->phase == FCGI_PM_WORKER_READY && w->roll == r->roll
           && !w->adopted && !w->root_exited;
}

/* Of those, the one that serves nothing now and was active least
 * recently (NULL: none): the one to retire when the pool shrinks or
 * gives a worker back. */
static fcgi_pm_worker *least_active_idle(fcgi_pm_app *app)
{
    fcgi_pm_pool_state *r = &app->run;
    fcgi_pm_worker *victim = NULL;
    int i;

    for (i = 0; i < r->nworkers; i++) {
        fcgi_pm_worker *w = &r->workers[i];
        if (serves_current_roll(r, w) && !w->busy
            && (!victim || w->active_at < victim->active_at)) {
            victim = w;
        }
    }
    return victim;
}

/* Over a whole IdleTimeout without a queued connection, the pool keeps
 * what it needed: the most workers busy at one sample (every
 * BUSY_SAMPLE_MS, from each worker's last look), never below Processes
 * (or FcgidMinProcessesPerClass).  A queued connection later grows it
 * again (fcgi_pm_pool_size_tick).
 * The others retire at once, the least recently active first, each only
 * while idle (retiring never cuts a request).  Requests go round the
 * waiting workers, so no single worker stays idle under light load: the
 * pool's peak is what tells. */
static void shrink_when_idle(fcgi_pm_app *app, apr_time_t now)
{
    fcgi_pm_pool_state *r = &app->run;
    int floor = app->keep_processes > app->processes ? app->keep_processes
                                                     : app->processes;
    int i, busy = 0, needed, before;

    for (i = 0; i < r->nworkers; i++) {
        busy += serves_current_roll(r, &r->workers[i]) && r->workers[i].busy;
    }
    if (r->queue_seen || !r->busy_since) {
        r->busy_since = now;
        r->busy_sum = 0;
        r->busy_samples = 0;
        r->busy_peak = 0;
        return;
    }
    if (now - r->busy_sampled >= apr_time_from_msec(BUSY_SAMPLE_MS)) {
        r->busy_sampled = now;
        r->busy_sum += busy;
        r->busy_samples++;
        if (busy > r->busy_peak) {
            r->busy_peak = busy;
        }
    }
    if (app->idle_timeout <= 0 || r->target <= floor
        || now - r->busy_since < apr_time_from_sec(app->idle_timeout)
        || r->busy_samples == 0) {
        return;
    }
    needed = r->busy_peak;
    if (needed < floor) {
        needed = floor;
    }
    before = r->target;
    while (r->target > needed) {
        fcgi_pm_worker *victim = least_active_idle(app);
        if (!victim) {
            break;
        }
        r->target--;
        fcgi_pm_pool_retire(app, victim);
    }
    if (r->target < before) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, S,
                     "app %s: at most %d of %d workers busy (%.1f on average) "
                     "for %d s: retiring %d (Processes %d)", app->name,
                     r->busy_peak, before,
                     (double)r->busy_sum / r->busy_samples, app->idle_timeout,
                     before - r->target, app->processes);
    }
    r->busy_since = now;
    r->busy_sum = 0;
    r->busy_samples = 0;
    r->busy_peak = 0;
}

/* FcgidProcessLifeTime: an idle worker older than that retires while the
 * pool has more than it keeps (FcgidMinProcessesPerClass, Processes);
 * one at a time, and never a busy one. */
static void retire_old_idle(fcgi_pm_app *app, apr_time_t now)
{
    fcgi_pm_pool_state *r = &app->run;
    int floor = app->keep_processes > app->processes ? app->keep_processes
                                                     : app->processes;
    int i;

    if (app->lifetime <= 0 || r->target <= floor) {
        return;
    }
    for (i = 0; i < r->nworkers; i++) {
        fcgi_pm_worker *w = &r->workers[i];
        if (serves_current_roll(r, w) && !w->busy
            && now - w->started >= apr_time_from_sec(app->lifetime)) {
            r->target--;
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, S,
                         "app %s: worker %ld idle and older than "
                         "FcgidProcessLifeTime %d s: retiring it", app->name,
                         (long)w->pid, app->lifetime);
            fcgi_pm_pool_retire(app, w);
            return;
        }
    }
}

/* Dynamic pools (MaxProcesses above Processes): one worker more when a
 * connection has waited GROW_WAIT_MS in the queue while every worker of
 * the current roll was up (all busy), at most one per GROW_EVERY_MS and
 * never while one is still starting; one less, down to Processes, see
 * shrink_when_idle().  Returns milliseconds until it wants to look again,
 * or -1. */
int fcgi_pm_pool_size_tick(fcgi_pm_app *app, apr_time_t now, int alive, int ready)
{
    fcgi_pm_pool_state *r = &app->run;

    if (r->target < app->processes) {
        r->target = app->processes;
    }
    if (r->target > app->max_processes) {
        r->target = app->max_processes;
    }
    if (app->max_processes <= app->processes) {
        return -1;
    }
    if (!fcgi_pm_pool_connection_queued(app)) {
        r->queue_seen = 0;
        r->wants_since = 0;
    }
    else if (r->target == 0) {
        /* Processes 0, none running: the first connection starts one
         * (it waits in the queue meanwhile). */
        if (!r->wants_since) {
            r->wants_since = now;
        }
    }
    else if (!r->queue_seen) {
        r->queue_seen = now;
    }
    else if (now - r->queue_seen >= apr_time_from_msec(GROW_WAIT_MS)
             && r->target < app->max_processes && alive >= r->target
             && ready == alive
             && now - r->last_grow >= apr_time_from_msec(GROW_EVERY_MS)
             && !r->wants_since) {
        r->wants_since = now;
    }
    shrink_when_idle(app, now);
    retire_old_idle(app, now);
    return GROW_WAIT_MS;
}

/* --------------------------------------------- the server-wide cap */

apr_time_t fcgi_pm_pool_wants(const fcgi_pm_app *app)
{
    return app->config_state == FCGI_PM_APP_CONFIGURED ? app->run.wants_since : 0;
}

int fcgi_pm_pool_counted(const fcgi_pm_app *app)
{
    int alive, ready;

    fcgi_pm_pool_count(app, &alive, &ready);
    return alive;
}

void fcgi_pm_pool_grant(fcgi_pm_app *app, apr_time_t now, const char *note)
{
    fcgi_pm_pool_state *r = &app->run;
    int alive = fcgi_pm_pool_counted(app);

    r->wants_since = 0;
    if (r->target >= app->max_processes) {
        return;
    }
    r->target++;
    r->last_grow = now;
    r->queue_seen = 0;
    /* A new IdleTimeout window starts with the new worker: the one
     * before may be as old as the app's last worker (an app at rest is
     * not sampled), its samples those of an empty pool. */
    r->busy_since = 0;
    if (r->target == 1 && app->processes == 0) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, S,
                     "app %s: a connection waits: starting a worker "
                     "(Processes 0)%s", app->name, note);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, S,
                     "app %s: connections wait, %d workers busy: growing to "
                     "%d (MaxProcesses %d)%s", app->name, alive, r->target,
                     app->max_processes, note);
    }
}

fcgi_pm_worker *fcgi_pm_pool_spare(fcgi_pm_app *app)
{
    if (app->config_state != FCGI_PM_APP_CONFIGURED
        || app->run.target <= app->processes) {
        return NULL;
    }
    return least_active_idle(app);
}

void fcgi_pm_pool_give_back(fcgi_pm_app *app, fcgi_pm_worker *w)
{
    app->run.target--;
    fcgi_pm_pool_retire(app, w);
}
