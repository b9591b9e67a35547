/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One app's pool of workers (see fcgi_pm_pool.h).
 *
 * Rules, in one place:
 *  - readiness: a worker is READY for good once any process of its tree
 *    was seen waiting for connections on the app's socket (accept(), an
 *    epoll set that holds it, poll()/select() while holding it) or holding
 *    a connection accepted there.  One that is never seen either, but
 *    holds the socket after BLIND_READY_S, counts as ready (said once).
 *  - exits: a worker that was ready and exits is a recycle, replaced at
 *    once.  Only one that dies before it was ever ready is a start-up
 *    failure and counts toward backoff.
 *  - retiring: the stop signal goes only when it cannot cut a request:
 *    every process of the tree is seen (from /proc, without stopping
 *    anything) holding no accepted connection and with every thread in a
 *    system call; then the tree is stopped, looked at again, signalled and
 *    continued.  For StopSignal USR1 (libfcgi, php-cgi, FCGI.pm: the
 *    handler only sets a flag that every thread reads before its next
 *    accept()), a busy worker may also be stopped and signalled in a
 *    thread that no request can lose: a single-threaded worker standing in
 *    its own code, in no system call (on a CPU or preempted); or, by tgkill(), a thread of a
 *    multi-threaded one that waits in accept() on the app's socket (it
 *    ends there; the others end after their current request).  A busy
 *    worker is otherwise left alone, looked at less and less often.  A
 *    tree that ignores its stop signal is killed once it is seen idle
 *    (checked again while stopped); SIGKILL to every process of the tree
 *    after ShutdownTimeout whatever it does.
 */
#include "fcgi_pm_pool.h"
#include "fcgi_pm_dormant.h"
#include "fcgi_pm_pool_size.h"
#include "fcgi_pm_proc.h"
#include "fcgi_pm_spawn.h"
#include "fcgi_pm_tree.h"
#include "fcgi_pm_wout.h"

#include "http_log.h"
#include "apr_strings.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <poll.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

APLOG_USE_MODULE(fcgi_pm);

#define STARTING_LOOK_MS  10    /* a new worker: is it ready yet? */
#define READY_LOOK_MS     500   /* idle/busy for the status page */
#define LIMIT_LOOK_MS     100   /* ... requests counted or timed */
#define RETIRE_LOOK_MS    20    /* a retiring worker, first look */
#define RETIRE_LOOK_MAX   160   /* ... backing off while it is busy */
#define ADOPTED_LOOK_MS   200   /* an adopted root: still there? */
#define BLIND_READY_S     3     /* see the rules above */
#define IGNORED_STOP_S    2     /* see tick_retiring() */
#define MAX_BACKOFF_S     60
#define QUICK_EXITS_MAX   20    /* clean exits per second before backoff */

static server_rec *S;

void fcgi_pm_pool_init(server_rec *s)
{
    S = s;
    fcgi_pm_pool_size_init(s);
}

static double seconds_since(apr_time_t t)
{
    return (double)(apr_time_now() - t) / APR_USEC_PER_SEC;
}

/* What signal_safely() sends. */
enum {
    SEND_STOP,      /* the stop signal, to the root (or what is left) */
    SEND_THREAD,    /* USR1 again, only to a thread waiting in accept() */
    SEND_KILL       /* SIGKILL to every process (it ignored its stop signal) */
};

/* One attempt to signal W (see SEND_*) at a moment that cannot cut a
 * request.  1: sent; 0: not now; -1: nothing left to signal. */
static int signal_safely(fcgi_pm_app *app, fcgi_pm_worker *w, int what)
{
    fcgi_pm_tree_look_result before, after;
    int idle, usr1_one, own_code, in_accept, sent = 0;
    fcgi_pm_tree_look(w, app->listen_ino, app->socket_path, app->tcp_port, &before);
    if (before.nprocs == 0) {
        return fcgi_pm_tree_alive(w) ? 0 : -1;
    }
    w->busy = before.busy;
    idle = what != SEND_THREAD && !before.busy && before.in_calls;
    usr1_one = what != SEND_KILL && app->stop_signal == SIGUSR1
               && before.nprocs == 1 && !w->root_exited;
    /* In its own code: on a CPU, or preempted there (a loaded machine). */
    own_code = what == SEND_STOP && usr1_one && before.busy
               && (before.running || before.user_single);
    in_accept = usr1_one && before.root_accept_tid > 0 && before.stop_safe;
    if (!idle && !own_code && !in_accept) {
        return 0;                 /* do not even stop it: back off */
    }
    if (own_code && !idle && !in_accept && !fcgi_pm_proc_in_own_code(w->pid)) {
        /* The look takes milliseconds: a worker that went into a call
         * since (a recv() with a timeout) would see EINTR on SIGCONT. */
        return 0;
    }
    fcgi_pm_tree_signal(w, SIGSTOP);
    if (fcgi_pm_tree_stopped(w)) {
        fcgi_pm_tree_look(w, app->listen_ino, app->socket_path, app->tcp_port, &after);
        if (idle && after.nprocs > 0 && !after.busy) {
            /* Stopped, nothing can be accepted: what it holds now is
             * what it will hold when it gets the signal. */
            if (what == SEND_KILL) {
                fcgi_pm_tree_signal(w, SIGKILL);
            }
            else {
                fcgi_pm_tree_signal_stop(w, app->stop_signal);
            }
            sent = 1;
        }
        else if (own_code && after.user_single) {
            /* In its own code: the handler runs there, no call breaks. */
            fcgi_pm_tree_signal_stop(w, app->stop_signal);
            sent = 1;
        }
        else if (in_accept && after.root_accept_tid > 0) {
            /* That thread either waits in accept(), which the signal
             * ends, or has just got a connection and runs the handler
             * before it returns with it: no request loses a call. */
            sent = fcgi_pm_tree_signal_thread(w, after.root_accept_tid,
                                              app->stop_signal) == 0;
        }
    }
    fcgi_pm_tree_signal(w, SIGCONT);
    return sent;
}

/* ------------------------------------------------------------- workers */

static fcgi_pm_worker *worker_new(fcgi_pm_app *app)
{
    fcgi_pm_worker *w;

    if (app->run.nworkers == app->run.workers_cap) {
        int cap = app->run.workers_cap ? app->run.workers_cap * 2 : 8;
        fcgi_pm_worker *bigger = realloc(app->run.workers, cap * sizeof(*bigger));
        if (!bigger) {
            return NULL;
        }
        app->run.workers = bigger;
        app->run.workers_cap = cap;
    }
    w = &app->run.workers[app->run.nworkers++];
    memset(w, 0, sizeof(*w));
    w->pidfd = -1;
    w->started = apr_time_now();
    w->active_at = w->started;
    w->phase = FCGI_PM_WORKER_STARTING;
    w->roll = app->run.roll;
    return w;
}

static void worker_free(fcgi_pm_app *app, int i)
{
    fcgi_pm_worker *w = &app->run.workers[i];

    while (w->nmembers > 0) {
        fcgi_pm_tree_member_drop(w, w->nmembers - 1);
    }
    free(w->members);
    if (w->pidfd >= 0) {
        close(w->pidfd);
    }
    app->run.workers[i] = app->run.workers[--app->run.nworkers];
}

static void spawn_one(fcgi_pm_app *app)
{
    fcgi_pm_spawn_spec spec;
    fcgi_pm_worker *w;
    fcgi_pm_proc_info info;
    pid_t pid;
    int pidfd, out, child_err;

    /* Room first: a spawn never happens without a place to keep it. */
    if (!(w = worker_new(app))) {
        ap_log_error(APLOG_MARK, APLOG_ERR, ENOMEM, S,
                     "app %s: no memory for a worker", app->name);
        return;
    }
    out = fcgi_pm_wout_open(app, &child_err);
    if (child_err < 0) {
        app->run.nworkers--;
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, S,
                     "app %s: no stderr for a worker; not started", app->name);
        return;
    }
    spec.app = app->name;
    spec.exec_check = app->exec_check;
    spec.docroot = app->docroot;
    spec.argv = app->argv;
    spec.envp = app->envp;
    spec.workdir = app->workdir;
    spec.uid = app->uid;
    spec.gid = app->gid;
    spec.groups = app->groups;
    spec.ngroups = app->ngroups;
    spec.listen_fd = app->listen_fd;
    spec.stderr_fd = child_err;
    fcgi_pm_spawn_reset_listen_flags(app->listen_fd);
    pid = fcgi_pm_spawn_worker(&spec, &pidfd);
    fcgi_pm_wout_started(out, child_err, pid);
    if (pid < 0) {
        app->run.nworkers--;
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, S,
                     "app %s: cannot fork a worker", app->name);
        return;
    }
    w->pid = pid;
    w->pidfd = pidfd;
    if (fcgi_pm_proc_info_get(pid, &info) == 0) {
        w->start_ticks = info.start_ticks;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, S,
                 "app %s: worker %ld started (roll %u)", app->name, (long)pid,
                 app->run.roll);
}

/* Ask W to finish and go; the tick sends the signal at a safe moment. */
void fcgi_pm_pool_retire(fcgi_pm_app *app, fcgi_pm_worker *w)
{
    if (w->phase == FCGI_PM_WORKER_RETIRING) {
        return;
    }
    w->phase = FCGI_PM_WORKER_RETIRING;
    w->kill_at = apr_time_now() + apr_time_from_sec(app->shutdown_timeout);
    w->next_look = 0;
    w->look_ms = RETIRE_LOOK_MS;
}

void fcgi_pm_pool_take_over(fcgi_pm_app *new, fcgi_pm_app *old)
{
    new->run = old->run;
    memset(&old->run, 0, sizeof(old->run));
}

void fcgi_pm_pool_roll(fcgi_pm_app *app, const char *why)
{
    int i;

    app->run.roll++;
    app->run.backoff_step = 0;
    app->run.backoff_until = 0;
    app->run.failed_starts = 0;
    /* A roll still starting is superseded: its unready workers go. */
    for (i = 0; i < app->run.nworkers; i++) {
        fcgi_pm_worker *w = &app->run.workers[i];
        if (w->phase == FCGI_PM_WORKER_STARTING) {
            fcgi_pm_pool_retire(app, w);
        }
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, S,
                 "app %s: rolling restart to roll %u (%s)", app->name,
                 app->run.roll, why);
}

static void start_failed(fcgi_pm_app *app, pid_t pid, const char *how,
                         double lived)
{
    apr_time_t now = apr_time_now();

    app->run.failed_starts++;
    if (now < app->run.backoff_until) {
        return;                   /* same backoff step: logged already */
    }
    if (app->run.backoff_step <= 7) {
        app->run.backoff_step++;  /* beyond 7 the cap holds: no wrap to 0 */
    }
    app->run.backoff_seconds = app->run.backoff_step > 7 ? MAX_BACKOFF_S
                           : (1u << (app->run.backoff_step - 1));
    if (app->run.backoff_seconds > MAX_BACKOFF_S) {
        app->run.backoff_seconds = MAX_BACKOFF_S;
    }
    app->run.backoff_until = now + apr_time_from_sec(app->run.backoff_seconds);
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, S,
                 "app %s: backing off for %u s: worker %ld %s after %.2f s, "
                 "before it was ready (%u start-up failures in a row)",
                 app->name, app->run.backoff_seconds, (long)pid, how, lived,
                 app->run.failed_starts);
}

/* Has a worker of APP proven lately that the app serves? */
static int served_lately(const fcgi_pm_app *app, apr_time_t now)
{
    return app->run.last_proven && now - app->run.last_proven < apr_time_from_sec(60);
}

/* An exit that says nothing of start-up: status 0 while the app serves (php-cgi leaving after PHP_FCGI_MAX_REQUESTS before
 * a look caught it serving).  Bounded, so that a program that exits at
 * once still backs off. */
static int clean_recycle(fcgi_pm_app *app, fcgi_pm_worker *w, int status,
                         apr_time_t now)
{
    /* A worker counted ready (seen waiting, or assumed so after a while)
     * or one that ran a second, leaving with status 0, has served:
     * php-cgi at PHP_FCGI_MAX_REQUESTS under saturation is never seen
     * waiting, and a slow manager's looks may miss it serving. */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0
        || !(served_lately(app, now) || w->phase == FCGI_PM_WORKER_READY
             || now - w->started >= apr_time_from_sec(1))) {
        return 0;
    }
    if (now - app->run.quick_exits_since > apr_time_from_sec(1)) {
        app->run.quick_exits_since = now;
        app->run.quick_exits = 0;
    }
    return ++app->run.quick_exits <= QUICK_EXITS_MAX;
}

/* W's root ended (STATUS known unless KNOWN is 0): log, count, classify. */
static void root_ended(fcgi_pm_app *app, fcgi_pm_worker *w, int status,
                       int known, int stopping)
{
    apr_pool_t *p;
    const char *how;
    apr_time_t now = apr_time_now();
    double lived = seconds_since(w->started);
    int retiring = w->phase == FCGI_PM_WORKER_RETIRING;
    int current = !retiring && !w->adopted && w->roll == app->run.roll
                  && app->config_state == FCGI_PM_APP_CONFIGURED && !stopping;

    w->root_exited = 1;
    if (w->pidfd >= 0) {
        close(w->pidfd);
        w->pidfd = -1;
    }
    apr_pool_create(&p, app->pool);
    how = known ? fcgi_pm_spawn_describe_exit(p, status) : "exited";
    if (known) {
        app->run.last_exit_status = status;
        app->run.last_exit_time = now;
        if (!retiring && (WIFSIGNALED(status)
                          || (WIFEXITED(status) && WEXITSTATUS(status)))) {
            app->run.crashes++;
        }
    }
    if (retiring || !current) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, S,
                     "app %s: worker %ld %s after %.1f s (roll %u, retired)",
                     app->name, (long)w->pid, how, lived, w->roll);
    }
    else if (w->proven || (known && clean_recycle(app, w, status, now))) {
        app->run.restarts++;
        ap_log_error(APLOG_MARK,
                     known && (WIFSIGNALED(status) || WEXITSTATUS(status))
                     ? APLOG_NOTICE : APLOG_INFO, 0, S,
                     "app %s: worker %ld %s after %.1f s (roll %u); "
                     "recycled: replacing it", app->name, (long)w->pid, how,
                     lived, w->roll);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, S,
                     "app %s: worker %ld %s after %.1f s (roll %u), before "
                     "it was ready", app->name, (long)w->pid, how, lived,
                     w->roll);
        start_failed(app, w->pid, how, lived);
    }
    apr_pool_destroy(p);
    /* What is left of its tree (fcgiwrap -c's children when their parent
     * died) serves old code: it goes too. */
    fcgi_pm_tree_refresh(w);
    if (w->nmembers > 0) {
        fcgi_pm_pool_retire(app, w);
        w->signalled = 0;
    }
}

int fcgi_pm_pool_reaped(fcgi_pm_app *apps, pid_t pid, int status, int stopping)
{
    fcgi_pm_app *app;
    int i, m;

    for (app = apps; app; app = app->next) {
        for (i = 0; i < app->run.nworkers; i++) {
            fcgi_pm_worker *w = &app->run.workers[i];
            if (w->pid == pid && !w->adopted && !w->root_exited) {
                root_ended(app, w, status, 1, stopping);
                return 1;
            }
            if ((m = fcgi_pm_tree_member_index(w, pid)) >= 0) {
                fcgi_pm_tree_member_drop(w, m);
                return 1;
            }
        }
    }
    return 0;
}

void fcgi_pm_pool_adopt(fcgi_pm_app *app, pid_t root, const pid_t *members,
                        int n)
{
    fcgi_pm_proc_info info;
    fcgi_pm_worker *w;
    int i;

    if (root <= 1 || !(w = worker_new(app))) {
        return;
    }
    w->pid = root;
    w->pidfd = fcgi_pm_spawn_pidfd(root);
    if (fcgi_pm_proc_info_get(root, &info) != 0) {
        if (w->pidfd >= 0) {
            close(w->pidfd);
        }
        app->run.nworkers--;
        return;
    }
    w->start_ticks = info.start_ticks;
    w->adopted = 1;
    w->proven = 1;
    w->phase = FCGI_PM_WORKER_READY;
    w->ready_at = w->started;
    w->roll = app->run.roll - 1;      /* an older roll: replaced, then retired */
    for (i = 0; i < n; i++) {
        fcgi_pm_tree_member_add(w, members[i], 0);
    }
    /* A manager killed between SIGSTOP and SIGCONT leaves it stopped. */
    fcgi_pm_tree_signal(w, SIGCONT);
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, S,
                 "app %s: worker %ld (and %d more processes of its tree) "
                 "taken over from the previous manager", app->name,
                 (long)root, w->nmembers);
}

/* An adopted root is not our child: no SIGCHLD tells when it ends. */
static void check_adopted(fcgi_pm_app *app, fcgi_pm_worker *w, int stopping)
{
    fcgi_pm_proc_info info;
    int gone;

    if (!w->adopted || w->root_exited) {
        return;
    }
    gone = fcgi_pm_spawn_pidfd_exited(w->pidfd);
    if (gone < 0) {
        gone = fcgi_pm_proc_info_get(w->pid, &info) != 0
               || info.start_ticks != w->start_ticks || info.state == 'Z';
    }
    if (gone) {
        root_ended(app, w, 0, 0, stopping);
    }
}

/* ---------------------------------------------------------------- tick */

static void note_ready(fcgi_pm_app *app, fcgi_pm_worker *w, apr_time_t now,
                       const char *how)
{
    w->proven = 1;
    if (w->phase == FCGI_PM_WORKER_STARTING) {
        w->phase = FCGI_PM_WORKER_READY;
    }
    w->ready_at = now;
    app->run.last_proven = now;
    app->run.failed_starts = 0;
    app->run.backoff_step = 0;
    app->run.backoff_until = 0;
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, S,
                 "app %s: worker %ld ready after %.2f s (%s)", app->name,
                 (long)w->pid, seconds_since(w->started), how);
}

/* SIGKILL to every process of W's tree (refreshed by the caller), and
 * again a second later for processes it forked meanwhile. */
static void kill_tree(fcgi_pm_worker *w, apr_time_t now)
{
    fcgi_pm_tree_signal(w, SIGKILL);
    w->kill_at = now + apr_time_from_sec(1);
}

/* How often a ready worker is looked at: more often when its requests
 * are counted (MaxRequests) or timed (MaxRequestTime). */
static int look_ms(const fcgi_pm_app *app)
{
    int ms = READY_LOOK_MS;

    if (app->max_requests > 0) {
        ms = LIMIT_LOOK_MS;
    }
    if (app->max_request_time > 0 && app->max_request_time * 1000 / 4 < ms) {
        ms = app->max_request_time * 1000 / 4;
    }
    return ms < LIMIT_LOOK_MS ? LIMIT_LOOK_MS : ms;
}

/* Each request comes on a connection of its own (mod_proxy_fcgi does not
 * keep them for unix sockets unless told to), so the connection a worker
 * holds, told by its socket's inode, names the request it serves: the
 * same inode look after look is one request going on; a new one, another
 * request.  Requests shorter than the time between two looks are not
 * seen: requests_seen is a lower bound. */
static void follow_request(fcgi_pm_worker *w, unsigned long conn_ino,
                           apr_time_t now)
{
    if (conn_ino && conn_ino != w->conn_ino) {
        w->conn_since = now;
        w->requests_seen++;
    }
    w->conn_ino = conn_ino;
}

/* MaxRequestTime and MaxRequests.  Returns 1 when W was retired or
 * killed. */
static int enforce_request_limits(fcgi_pm_app *app, fcgi_pm_worker *w,
                                  apr_time_t now)
{
    if (app->max_request_time > 0 && w->conn_ino
        && now - w->conn_since >= apr_time_from_sec(app->max_request_time)) {
        /* httpd has answered 504 at MaxRequestTime (the proxy worker's
         * timeout); the worker itself may loop for ever: it goes now,
         * with whatever else its tree serves. */
        fcgi_pm_tree_refresh(w);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, S,
                     "app %s: worker %ld busy on one request for %.1f s "
                     "(MaxRequestTime %d s): killing it and %d more "
                     "processes of its tree", app->name, (long)w->pid,
                     seconds_since(w->conn_since), app->max_request_time,
                     w->nmembers);
        fcgi_pm_pool_retire(app, w);
        w->signalled = 1;
        w->signalled_at = now;
        kill_tree(w, now);
        return 1;
    }
    if (app->max_requests > 0 && w->requests_seen >= (apr_uint32_t)app->max_requests
        && w->phase == FCGI_PM_WORKER_READY) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, S,
                     "app %s: worker %ld seen serving %u requests "
                     "(MaxRequests %d): retiring it", app->name, (long)w->pid,
                     w->requests_seen, app->max_requests);
        fcgi_pm_pool_retire(app, w);
        return 1;
    }
    return 0;
}

/* Look at a worker that is not retiring: ready yet?  busy? */
static int look_live(fcgi_pm_app *app, fcgi_pm_worker *w, apr_time_t now)
{
    fcgi_pm_tree_look_result t;

    if (now < w->next_look) {
        return (int)apr_time_as_msec(w->next_look - now) + 1;
    }
    fcgi_pm_tree_look(w, app->listen_ino, app->socket_path, app->tcp_port, &t);
    w->busy = t.busy;
    follow_request(w, t.conn_ino, now);
    if (w->busy || t.waiting) {
        app->run.last_proven = now;
    }
    if (app->max_processes > app->processes) {
        /* Active: a look saw it hold a connection, or it made a read or
         * write call since the last look (a look every 500 ms alone would
         * miss short requests).  Picks whom shrink_when_idle() retires. */
        unsigned long long io = fcgi_pm_tree_io_calls(w);
        if (w->busy || io != w->io_calls) {
            w->active_at = now;
        }
        w->io_calls = io;
    }
    ap_log_error(APLOG_MARK, APLOG_TRACE1, 0, S,
                 "app %s: worker %ld: %d processes, busy %d, waiting %d, "
                 "holds socket %d, in calls %d, running %d", app->name,
                 (long)w->pid, t.nprocs, t.busy, t.waiting, t.holds_listen,
                 t.in_calls, t.running);
    if (!w->proven) {
        if (t.busy || t.waiting) {
            note_ready(app, w, now, t.busy ? "serving" : "waiting for "
                       "connections");
        }
        else if (t.holds_listen
                 && now - w->started >= apr_time_from_sec(BLIND_READY_S)) {
            if (!app->run.blind_said) {
                app->run.blind_said = 1;
                ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, S,
                             "app %s: worker %ld shows no wait on the socket "
                             "after %d s (poll() on another descriptor?): "
                             "counted as ready", app->name, (long)w->pid,
                             BLIND_READY_S);
            }
            note_ready(app, w, now, "assumed");
        }
    }
    if (enforce_request_limits(app, w, now)) {
        return 0;
    }
    w->next_look = now + apr_time_from_msec(w->proven ? look_ms(app)
                                                       : STARTING_LOOK_MS);
    return w->proven ? look_ms(app) : STARTING_LOOK_MS;
}

static int tick_retiring(fcgi_pm_app *app, fcgi_pm_worker *w, apr_time_t now)
{
    if (now >= w->kill_at) {
        fcgi_pm_tree_refresh(w);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, S,
                     "app %s: worker %ld still running %d s after it was "
                     "retired (ShutdownTimeout); killing it and %d more "
                     "processes of its tree", app->name, (long)w->pid,
                     app->shutdown_timeout, w->nmembers);
        kill_tree(w, now);
        return 1000;
    }
    if (w->signalled) {
        int until_kill = (int)apr_time_as_msec(w->kill_at - now) + 1;
        if (now < w->next_look) {
            return (int)apr_time_as_msec(w->next_look - now) + 1;
        }
        /* Waiting for the tree to go; orphans appear as our children.  A
         * tree still there IGNORED_STOP_S after its stop signal ignored it
         * (Go ignores USR1): it is killed at a moment when it serves
         * nothing, rather than at ShutdownTimeout whatever it does. */
        if (now - w->signalled_at >= apr_time_from_sec(IGNORED_STOP_S)
            && signal_safely(app, w, SEND_KILL) == 1) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, S,
                         "app %s: worker %ld still running %.1f s after its "
                         "stop signal; killed while it served no request",
                         app->name, (long)w->pid,
                         (double)(now - w->signalled_at) / APR_USEC_PER_SEC);
        }
        else if (app->stop_signal == SIGUSR1) {
            /* USR1 only sets a flag, read before each accept(): a thread
             * that already waited in accept() when it was set waits on
             * (multi-threaded libfcgi): USR1 to such a thread ends it. */
            (void)signal_safely(app, w, SEND_THREAD);
        }
        else {
            fcgi_pm_tree_refresh(w);
        }
        w->next_look = now + apr_time_from_msec(200);
        return until_kill < 200 ? until_kill : 200;
    }
    if (signal_safely(app, w, SEND_STOP) != 0) {
        w->signalled = 1;
        w->signalled_at = now;
        w->next_look = now + apr_time_from_msec(200);
        return 200;
    }
    w->next_look = now + apr_time_from_msec(w->look_ms);
    if (w->look_ms < RETIRE_LOOK_MAX) {
        w->look_ms *= 2;
    }
    if (!w->busy) {
        w->look_ms = RETIRE_LOOK_MS;
    }
    return w->look_ms;
}

void fcgi_pm_pool_count(const fcgi_pm_app *app, int *alive, int *ready)
{
    int i;

    *alive = *ready = 0;
    for (i = 0; i < app->run.nworkers; i++) {
        const fcgi_pm_worker *w = &app->run.workers[i];
        if (!w->root_exited && !w->adopted && w->roll == app->run.roll
            && w->phase != FCGI_PM_WORKER_RETIRING) {
            (*alive)++;
            *ready += w->phase == FCGI_PM_WORKER_READY;
        }
    }
}


int fcgi_pm_pool_tick(fcgi_pm_app *app, apr_time_t now, int stopping)
{
    int i, alive, ready, wait_ms = -1;

#define SOONER(ms) do { int ms_ = (ms); \
        if (wait_ms < 0 || ms_ < wait_ms) wait_ms = ms_; } while (0)

    for (i = 0; i < app->run.nworkers; i++) {
        check_adopted(app, &app->run.workers[i], stopping);
        if (app->run.workers[i].adopted && !app->run.workers[i].root_exited) {
            SOONER(ADOPTED_LOOK_MS);
        }
    }
    if (app->config_state != FCGI_PM_APP_CONFIGURED || stopping
        || app->listen_fd < 0) {
        for (i = 0; i < app->run.nworkers; i++) {
            fcgi_pm_pool_retire(app, &app->run.workers[i]);
        }
    }
    else {
        fcgi_pm_pool_count(app, &alive, &ready);
        {
            int grow_ms = fcgi_pm_pool_size_tick(app, now, alive, ready);
            if (grow_ms >= 0) {
                SOONER(grow_ms);
            }
        }
        fcgi_pm_pool_count(app, &alive, &ready);
        if (ready >= app->processes) {
            /* The current roll serves: everything older goes. */
            for (i = 0; i < app->run.nworkers; i++) {
                fcgi_pm_worker *w = &app->run.workers[i];
                if (w->adopted || w->roll != app->run.roll) {
                    fcgi_pm_pool_retire(app, w);
                }
            }
        }
        if (alive < app->run.target) {
            if (now >= app->run.backoff_until) {
                for (; alive < app->run.target; alive++) {
                    spawn_one(app);
                }
                SOONER(STARTING_LOOK_MS);
            }
            else {
                SOONER((int)apr_time_as_msec(app->run.backoff_until - now) + 1);
            }
        }
    }
    for (i = 0; i < app->run.nworkers; i++) {
        fcgi_pm_worker *w = &app->run.workers[i];
        if (w->phase == FCGI_PM_WORKER_RETIRING) {
            SOONER(tick_retiring(app, w, now));
        }
        else if (!w->root_exited) {
            SOONER(look_live(app, w, now));
        }
    }
    /* Trees that are gone entirely leave the pool.  What is left of a
     * tree whose root ended is retiring: tick_retiring keeps its list of
     * processes up to date. */
    for (i = app->run.nworkers - 1; i >= 0; i--) {
        if (!fcgi_pm_tree_alive(&app->run.workers[i])) {
            worker_free(app, i);
        }
    }
    if (app->restart_file) {
        SOONER(1000);
    }
    fcgi_pm_pool_publish(app, stopping);
    if (fcgi_pm_dormant_enter(app, stopping)) {
        return -1;                /* a connection wakes it */
    }
    return wait_ms;
#undef SOONER
}

int fcgi_pm_pool_alive(const fcgi_pm_app *app)
{
    int i, n = 0;

    for (i = 0; i < app->run.nworkers; i++) {
        n += fcgi_pm_tree_alive(&app->run.workers[i]);
    }
    return n;
}

int fcgi_pm_pool_up(const fcgi_pm_app *app)
{
    int alive, ready;

    fcgi_pm_pool_count(app, &alive, &ready);
    return ready >= app->processes || app->run.backoff_step > 0;
}

/* ------------------------------------------------------------ publish */

/* Connections queued while no worker exists and the app backs off would
 * wait for nothing: close them so that httpd answers 503 at once.  Only
 * done with no worker alive, so that no worker races us for them. */
static void refuse_queued(fcgi_pm_app *app)
{
    int n;

    for (n = 0; app->listen_fd >= 0 && n < 10000; n++) {
        int c;
        if (!fcgi_pm_pool_connection_queued(app)) {
            return;
        }
        c = accept4(app->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            return;
        }
        close(c);
    }
}

void fcgi_pm_pool_publish(fcgi_pm_app *app, int stopping)
{
    fcgi_pm_app_slot *a = app->slot;
    apr_uint32_t ready = 0, alive = 0, state;
    int i, j = 0;

    for (i = 0; i < app->run.nworkers; i++) {
        const fcgi_pm_worker *w = &app->run.workers[i];
        if (!fcgi_pm_tree_alive(w)) {
            continue;
        }
        alive++;
        ready += w->phase == FCGI_PM_WORKER_READY;
        if (j < FCGI_PM_WORKER_SLOTS) {
            fcgi_pm_worker_slot *s = &app->wslots[j++];
            s->pid = w->root_exited && w->nmembers ? w->members[0].pid : w->pid;
            s->state = w->phase;
            s->roll = w->roll;
            s->adopted = w->adopted;
            s->signalled = w->signalled;
            s->activity = !w->proven ? FCGI_PM_ACTIVITY_UNKNOWN
                          : w->busy ? FCGI_PM_ACTIVITY_BUSY
                          : FCGI_PM_ACTIVITY_IDLE;
            s->processes = 1 + w->nmembers - (w->root_exited ? 1 : 0);
            s->started = w->started;
            s->ready_at = w->ready_at;
            s->kill_at = w->kill_at;
        }
    }
    /* Only the slots written before: the others were never written (an
     * app without workers leaves its worker slots' memory untouched). */
    for (i = j; i < app->run.published; i++) {
        app->wslots[i].pid = 0;
        app->wslots[i].state = FCGI_PM_WORKER_FREE;
    }
    app->run.published = j;
    if (app->config_state != FCGI_PM_APP_CONFIGURED || stopping) {
        state = FCGI_PM_APP_DRAINING;
    }
    else if (ready > 0 || (app->processes == 0 && app->run.target == 0
                           && app->run.backoff_step == 0)) {
        state = FCGI_PM_APP_RUNNING;    /* (Processes 0 and none needed) */
    }
    else if (app->run.backoff_step > 0) {
        state = FCGI_PM_APP_BACKOFF;
    }
    else {
        state = FCGI_PM_APP_STARTING;
    }
    a->roll = app->run.roll;
    a->processes = app->processes;
    a->ready = ready;
    a->alive = alive;
    a->restarts = app->run.restarts;
    a->crashes = app->run.crashes;
    a->failed_starts = app->run.failed_starts;
    a->backoff_step = app->run.backoff_step;
    a->backoff_seconds = app->run.backoff_seconds;
    a->backoff_until = app->run.backoff_until;
    a->last_exit_time = app->run.last_exit_time;
    a->last_exit_status = app->run.last_exit_status;
    a->state = state;
    if (state == FCGI_PM_APP_BACKOFF && alive == 0) {
        refuse_queued(app);
    }
}

void fcgi_pm_pool_free(fcgi_pm_app *app)
{
    while (app->run.nworkers > 0) {
        worker_free(app, app->run.nworkers - 1);
    }
    free(app->run.workers);
    fcgi_pm_dormant_leave(app);   /* before the close: see the header */
    if (app->listen_fd >= 0) {
        close(app->listen_fd);
    }
    apr_pool_destroy(app->pool);
}
