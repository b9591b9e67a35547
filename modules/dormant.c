/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dormant apps (see fcgi_pm_dormant.h): one epoll set of the listen
 * sockets of apps at rest.
 */
#include "fcgi_pm_dormant.h"

#include "http_log.h"

#include <sys/epoll.h>
#include <errno.h>
#include <unistd.h>

APLOG_USE_MODULE(fcgi_pm);

#define WAKE_BATCH  64          /* events read per epoll_wait() */

static server_rec *S;
static int epfd = -1;
static int add_failed_said;     /* epoll_ctl(ADD) failures are logged once */

void fcgi_pm_dormant_init(server_rec *s)
{
    S = s;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, S,
                     "manager: no epoll set for apps at rest: their listen "
                     "queues are polled at every tick instead");
    }
}

int fcgi_pm_dormant_fd(void)
{
    return epfd;
}

/* At rest: nothing of the pool is left to look after, and nothing will
 * change until a connection comes (or the configuration, or a stop). */
static int at_rest(const fcgi_pm_app *app, int stopping)
{
    const fcgi_pm_pool_state *r = &app->run;

    return !stopping && app->config_state == FCGI_PM_APP_CONFIGURED
           && app->listen_fd >= 0 && r->nworkers == 0 && r->target == 0
           && r->wants_since == 0;
}

int fcgi_pm_dormant_enter(fcgi_pm_app *app, int stopping)
{
    struct epoll_event ev;

    if (app->dormant) {
        return 1;
    }
    if (epfd < 0 || !at_rest(app, stopping)) {
        return 0;
    }
    ev.events = EPOLLIN;
    ev.data.ptr = app;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, app->listen_fd, &ev) != 0) {
        ap_log_error(APLOG_MARK, add_failed_said ? APLOG_DEBUG : APLOG_WARNING,
                     errno, S, "app %s: cannot add its socket to the epoll "
                     "set of apps at rest (fs.epoll.max_user_watches?): its "
                     "listen queue is polled at every tick instead",
                     app->name);
        add_failed_said = 1;
        return 0;
    }
    app->dormant = 1;
    app->dormant_fd = app->listen_fd;
    ap_log_error(APLOG_MARK, APLOG_TRACE1, 0, S,
                 "app %s: at rest, no worker: waiting for a connection",
                 app->name);
    return 1;
}

void fcgi_pm_dormant_leave(fcgi_pm_app *app)
{
    if (!app->dormant) {
        return;
    }
    /* The descriptor is still open (it is closed only after this): the
     * registration is the one made for it, not one of a reused number. */
    if (epoll_ctl(epfd, EPOLL_CTL_DEL, app->dormant_fd, NULL) != 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, S,
                     "app %s: cannot remove its socket (fd %d) from the "
                     "epoll set of apps at rest", app->name, app->dormant_fd);
    }
    app->dormant = 0;
    app->dormant_fd = -1;
}

int fcgi_pm_dormant_skip(fcgi_pm_app *app, int stopping)
{
    if (!app->dormant) {
        return 0;
    }
    if (at_rest(app, stopping)) {
        return 1;
    }
    fcgi_pm_dormant_leave(app);
    return 0;
}

int fcgi_pm_dormant_wake_queued(void)
{
    struct epoll_event ev[WAKE_BATCH];
    int n, i, woken = 0;

    if (epfd < 0) {
        return 0;
    }
    do {
        n = epoll_wait(epfd, ev, WAKE_BATCH, 0);
        if (n < 0 && errno != EINTR) {
            ap_log_error(APLOG_MARK, APLOG_ERR, errno, S,
                         "manager: epoll_wait on the apps at rest");
        }
        for (i = 0; i < n; i++) {
            fcgi_pm_app *app = ev[i].data.ptr;
            ap_log_error(APLOG_MARK, APLOG_TRACE1, 0, S,
                         "app %s: a connection waits: waking", app->name);
            fcgi_pm_dormant_leave(app);
            woken++;
        }
    } while (n == WAKE_BATCH);
    return woken;
}
