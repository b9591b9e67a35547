/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FcgiPmMaxProcesses: who gets the next worker (see fcgi_pm_share.h).
 */
#include "fcgi_pm_share.h"

#include "http_log.h"
#include "apr_strings.h"

APLOG_USE_MODULE(fcgi_pm);

#define RECLAIM_EVERY_MS  200   /* at most one worker taken back this often */
#define RECLAIM_WAIT_MS   100   /* ... for an app that waited this long */

/* The waiting app served first: the fewest workers, then the longest
 * wait. */
static fcgi_pm_app *next_in_line(fcgi_pm_app *apps)
{
    fcgi_pm_app *app, *best = NULL;
    int best_n = 0;

    for (app = apps; app; app = app->next) {
        apr_time_t since = fcgi_pm_pool_wants(app);
        int n;
        if (!since) {
            continue;
        }
        n = fcgi_pm_pool_counted(app);
        if (!best || n < best_n
            || (n == best_n && since < fcgi_pm_pool_wants(best))) {
            best = app;
            best_n = n;
        }
    }
    return best;
}

/* At the cap, for WANTER: an app with an idle worker above its floor
 * gives it back.  First an app that waits for nothing (the one with the
 * most workers); else one that waits too but has more workers than
 * WANTER would have with it (taking fewer would only move the shortage). */
static int take_back_for(fcgi_pm_app *apps, fcgi_pm_app *wanter, int max_total,
                         server_rec *s, apr_time_t now)
{
    fcgi_pm_app *app, *donor = NULL;
    fcgi_pm_worker *spare = NULL, *w;
    int wanter_n = fcgi_pm_pool_counted(wanter), most = 0, donor_waits = 1;

    for (app = apps; app; app = app->next) {
        int n = fcgi_pm_pool_counted(app);
        int waits = fcgi_pm_pool_wants(app) != 0;
        if (app == wanter || (waits && n <= wanter_n + 1)
            || (waits && !donor_waits) || (waits == donor_waits && n <= most)
            || (w = fcgi_pm_pool_spare(app)) == NULL) {
            continue;
        }
        donor = app;
        spare = w;
        most = n;
        donor_waits = waits;
    }
    if (!donor) {
        return 0;
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                 "FcgiPmMaxProcesses %d reached: app %s gives its idle worker "
                 "%ld back (it has %d) for app %s, waiting %.1f s with %d",
                 max_total, donor->name, (long)spare->pid, most, wanter->name,
                 (double)(now - fcgi_pm_pool_wants(wanter)) / APR_USEC_PER_SEC,
                 fcgi_pm_pool_counted(wanter));
    fcgi_pm_pool_give_back(donor, spare);
    return 1;
}

int fcgi_pm_share_workers(fcgi_pm_app *apps, int max_total, server_rec *s,
                          apr_time_t now)
{
    static apr_time_t last_take_back, last_said;
    fcgi_pm_app *app;
    int total = 0, granted = 0;

    for (app = apps; app; app = app->next) {
        total += fcgi_pm_pool_counted(app);
    }
    while ((app = next_in_line(apps)) != NULL) {
        apr_time_t waited = now - fcgi_pm_pool_wants(app);
        if (max_total <= 0 || total < max_total) {
            char note[80] = "";
            if (max_total > 0 && waited > apr_time_from_msec(RECLAIM_WAIT_MS)) {
                apr_snprintf(note, sizeof(note), " after %.1f s at "
                             "FcgiPmMaxProcesses %d",
                             (double)waited / APR_USEC_PER_SEC, max_total);
            }
            fcgi_pm_pool_grant(app, now, note);
            total++;
            granted = 1;
            continue;
        }
        if (now - last_said >= apr_time_from_sec(10)) {
            last_said = now;
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                         "FcgiPmMaxProcesses %d reached: app %s waits for a "
                         "worker (it has %d)", max_total, app->name,
                         fcgi_pm_pool_counted(app));
        }
        if (waited >= apr_time_from_msec(RECLAIM_WAIT_MS)
            && now - last_take_back >= apr_time_from_msec(RECLAIM_EVERY_MS)
            && take_back_for(apps, app, max_total, s, now)) {
            last_take_back = now;
        }
        return granted ? 0 : RECLAIM_EVERY_MS / 2;
    }
    return granted ? 0 : -1;
}
