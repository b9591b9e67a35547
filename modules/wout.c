/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Workers' stderr streams (see fcgi_pm_wout.h): one pipe per worker,
 * polled by the manager's loop, each read in bounded slices
 * (fcgi_pm_wlog.h) under its app's rate limit.
 */
#include "fcgi_pm_wout.h"

#include "http_log.h"
#include "apr_strings.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

APLOG_USE_MODULE(fcgi_pm);

#define WOUT_LINGER_MAX   64    /* streams of reaped workers kept open */

typedef struct {
    pid_t pid;                    /* 0: a free entry */
    int lingering;                /* reaped, a descendant holds the pipe */
    apr_time_t reaped_at;
    char app[FCGI_PM_NAME_MAX];
    fcgi_pm_wlog log;
} mgr_wout;

static struct {
    mgr_wout *wout;
    int n_wout;
    fcgi_pm_wlog_limit orphans;   /* streams of apps no longer known */
    int fixed;                    /* the caller's entries, first in ... */
    struct pollfd *pfd;           /* ... the poll set: fixed + n_wout */
    int *pfd_wout;                /* pfd index -> wout index */
} W;

static server_rec *S;
static fcgi_pm_app *const *APPS_HEAD;
#define APPS APPS_HEAD

void fcgi_pm_wout_init(server_rec *s, fcgi_pm_app *const *apps, int fixed)
{
    S = s;
    APPS_HEAD = apps;
    W.fixed = fixed;
    W.pfd = calloc(fixed, sizeof(*W.pfd));
    W.pfd_wout = calloc(fixed, sizeof(*W.pfd_wout));
}

struct pollfd *fcgi_pm_wout_pollfds(void)
{
    return W.pfd;
}

/* -------------------------------------------------------- worker stderr */

/* Each worker writes to a pipe of its own (fcgi_pm_wlog.h), opened at
 * spawn, polled by the main loop, drained when it is reaped.  A process
 * the worker started may still hold the pipe then: it stays open (still
 * logged under the worker's pid) until its end, at most WOUT_LINGER_MAX
 * of them, the oldest closed first.
 * Hooks: fcgi_pm_wout_open (before fork), fcgi_pm_wout_started (after fork), the poll set
 * (fcgi_pm_wout_poll_set / fcgi_pm_wout_poll_done), fcgi_pm_wout_reaped, fcgi_pm_wout_tick, fcgi_pm_wout_close_all. */

static fcgi_pm_wlog_limit *wout_limit(const mgr_wout *o, const char **name)
{
    fcgi_pm_app *app;

    for (app = *APPS; app && strcmp(app->name, o->app); app = app->next) {
    }
    *name = o->app;
    return app ? &app->run.wlog_limit : &W.orphans;
}

static void wout_free(mgr_wout *o, apr_time_t now)
{
    const char *name;
    fcgi_pm_wlog_limit *lim = wout_limit(o, &name);

    fcgi_pm_wlog_close(&o->log, lim, S, name, o->pid, now);
    o->pid = 0;
    o->lingering = 0;
}

/* Returns 1 at the end of the stream. */
static int wout_drain(mgr_wout *o, apr_time_t now)
{
    const char *name;
    fcgi_pm_wlog_limit *lim = wout_limit(o, &name);

    if (fcgi_pm_wlog_drain(&o->log, lim, S, name, o->pid, now) == 0) {
        return 0;
    }
    if (o->lingering) {
        wout_free(o, now);
    }
    return 1;
}

/* A stream for a worker of APP about to be forked: its index, and in
 * *CHILD_FD what becomes the worker's fd 2 (/dev/null when no pipe can be
 * had); -1 when even that failed. */
int fcgi_pm_wout_open(const fcgi_pm_app *app, int *child_fd)
{
    apr_status_t rv;
    int i;

    for (i = 0; i < W.n_wout && W.wout[i].pid; i++) {
    }
    if (i == W.n_wout) {
        int n = W.n_wout ? 2 * W.n_wout : 16;
        mgr_wout *bigger = realloc(W.wout, n * sizeof(*bigger));
        struct pollfd *pfd = realloc(W.pfd, (n + W.fixed) * sizeof(*pfd));
        int *map;

        if (pfd) {
            W.pfd = pfd;
        }
        map = realloc(W.pfd_wout, (n + W.fixed) * sizeof(*map));
        if (map) {
            W.pfd_wout = map;
        }
        if (bigger) {
            W.wout = bigger;
        }
        if (!bigger || !pfd || !map) {
            ap_log_error(APLOG_MARK, APLOG_ERR, APR_ENOMEM, S,
                         "app %s: no memory for a worker's stderr", app->name);
            *child_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
            return -1;
        }
        for (; W.n_wout < n; W.n_wout++) {
            memset(&W.wout[W.n_wout], 0, sizeof(mgr_wout));
            W.wout[W.n_wout].log.fd = -1;
        }
    }
    rv = fcgi_pm_wlog_open(&W.wout[i].log, child_fd);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, S,
                     "app %s: cannot make a pipe for a worker's stderr; "
                     "it goes to /dev/null", app->name);
        *child_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        return -1;
    }
    W.wout[i].pid = -1;           /* taken; the pid follows the fork */
    apr_cpystrn(W.wout[i].app, app->name, sizeof(W.wout[i].app));
    return i;
}

/* After the fork (PID, or -1 when it failed): our copy of the write end
 * goes, else the stream would never end. */
void fcgi_pm_wout_started(int i, int child_fd, pid_t pid)
{
    if (child_fd >= 0) {
        close(child_fd);
    }
    if (i < 0) {
        return;
    }
    if (pid > 0) {
        W.wout[i].pid = pid;
        return;
    }
    fcgi_pm_wlog_close(&W.wout[i].log, &W.orphans, S, W.wout[i].app,
                       0, apr_time_now());
    W.wout[i].pid = 0;
}

/* PID was reaped: its last words (bounded); the stream goes at its end,
 * now unless a descendant holds it. */
void fcgi_pm_wout_reaped(pid_t pid)
{
    apr_time_t now = apr_time_now();
    mgr_wout *o = NULL, *oldest = NULL;
    int i, lingering = 0;

    for (i = 0; i < W.n_wout; i++) {
        mgr_wout *e = &W.wout[i];
        if (e->pid == pid && !e->lingering) {
            o = e;
        }
        else if (e->pid && e->lingering) {
            lingering++;
            if (!oldest || e->reaped_at < oldest->reaped_at) {
                oldest = e;
            }
        }
    }
    if (pid <= 0 || !o) {
        return;
    }
    if (wout_drain(o, now)) {
        o->pid = 0;               /* ended, closed: the usual case */
        return;
    }
    o->lingering = 1;
    o->reaped_at = now;
    if (lingering >= WOUT_LINGER_MAX) {
        wout_free(oldest, now);
    }
}

/* Adds every open stream to W.pfd from index N; returns the new count. */
int fcgi_pm_wout_poll_set(int n)
{
    int i;

    for (i = 0; i < W.n_wout; i++) {
        if (W.wout[i].pid > 0 && W.wout[i].log.fd >= 0) {
            W.pfd[n].fd = W.wout[i].log.fd;
            W.pfd[n].events = POLLIN;
            W.pfd[n].revents = 0;
            W.pfd_wout[n++] = i;
        }
    }
    return n;
}

/* Drains the streams poll() found readable (or ended), FROM..N-1: each
 * one bounded slice, so that every worker gets its turn.  Returns 1 when
 * one was drained. */
int fcgi_pm_wout_poll_done(int from, int n)
{
    apr_time_t now = apr_time_now();
    int k, any = 0;

    for (k = from; k < n; k++) {
        if (W.pfd[k].revents) {
            wout_drain(&W.wout[W.pfd_wout[k]], now);
            any = 1;
        }
    }
    return any;
}

/* Suppressed-lines reports that are due; ms until the next one, -1: none. */
int fcgi_pm_wout_tick(apr_time_t now)
{
    fcgi_pm_app *app;
    int ms, wait_ms = fcgi_pm_wlog_tick(&W.orphans, S, "(removed)",
                                        now);

    for (app = *APPS; app; app = app->next) {
        ms = fcgi_pm_wlog_tick(&app->run.wlog_limit, S, app->name, now);
        if (ms >= 0 && (wait_ms < 0 || ms < wait_ms)) {
            wait_ms = ms;
        }
    }
    return wait_ms;
}

/* The manager leaves: what is left of every stream, and every count. */
void fcgi_pm_wout_close_all(void)
{
    fcgi_pm_app *app;
    int i;

    for (i = 0; i < W.n_wout; i++) {
        if (W.wout[i].pid) {
            wout_free(&W.wout[i], apr_time_now());
        }
    }
    for (app = *APPS; app; app = app->next) {
        fcgi_pm_wlog_flush(&app->run.wlog_limit, S, app->name);
    }
    fcgi_pm_wlog_flush(&W.orphans, S, "(removed)");
}

