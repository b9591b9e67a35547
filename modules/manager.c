/*
 * The persistent manager.
 *
 * Forked once by the httpd parent; lives until httpd exits.  It never
 * returns into httpd's code and never uses a configuration pool: each
 * generation's apps arrive as messages (fcgi_pm_proto.h) and are kept in
 * pools of the manager's own.  Signal handlers only write to a self-pipe;
 * the loop below does the work:
 *
 *   SIGCHLD  reap workers          SIGHUP   roll every app (new code)
 *   SIGTERM  stop: retire workers, remove sockets, exit (httpd is gone:
 *            the kernel sends it through PR_SET_PDEATHSIG)
 *   SIGUSR2  hand over to a newer manager: retire workers, keep sockets
 *
 * Rolling restart: new workers start on the app's listen socket; only
 * when enough of them are blocked in accept() are the old ones retired,
 * each only while idle (see fcgi_pm_spawn_try_retire), SIGKILL after
 * ShutdownTimeout.  The listen socket is never closed while the app is
 * configured, so no connection is refused or dropped meanwhile.
 */
#include "fcgi_pm_manager.h"
#include "fcgi_pm_proc.h"
#include "fcgi_pm_pidfile.h"
#include "fcgi_pm_proto.h"
#include "fcgi_pm_sock.h"
#include "fcgi_pm_spawn.h"

#include "http_log.h"
#include "apr_strings.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

APLOG_USE_MODULE(fcgi_pm);

#define BUSY_TICK_MS      20    /* while workers start or wait to retire */
#define ADOPTED_TICK_MS   200   /* watching workers that are not our children */
#define FILE_TICK_MS      1000  /* watching RestartFile */
#define MAX_BACKOFF_S     60
#define BLIND_READY_S     2     /* see worker_ready() */
#define TAKEOVER_WAIT_S   60    /* retire a predecessor at the latest then */
#define UNLOADED_WAIT_S   30    /* END without a new BEGIN: module unloaded */

typedef struct mgr_app mgr_app;
struct mgr_app {
    mgr_app *next;
    apr_pool_t *pool;             /* everything of this app below */
    const char *name;
    const char *record;           /* as received: the app's fingerprint */
    apr_size_t record_len;
    char **argv;
    char **envp;
    const char *workdir;
    const char *socket_path;
    const char *addr;             /* "unix:/path" or "tcp:host:port" */
    const char *restart_file;
    apr_time_t restart_file_mtime;
    uid_t uid;
    gid_t gid;
    gid_t *groups;                /* issue 8: the record's "groups" */
    int ngroups;                  /* -1: none in the record */
    int processes;
    int shutdown_timeout;
    int restart_on_graceful;
    dev_t sock_dev;
    ino_t sock_ino;
    int listen_fd;                /* -1: adopted from a dead manager, unknown */
    int configured;               /* in the last generation received */
    fcgi_pm_app_slot *slot;
};

static struct {
    apr_pool_t *pool;
    fcgi_pm_table *t;
    server_rec *s;
    pid_t parent;
    int ctl;                      /* -1 after the parent closed it */
    int log_r, log_w;             /* workers' stderr: datagrams with creds */
    int sig_r, sig_w;
    char *msgbuf;
    mgr_app *apps;
    mgr_app *incoming;            /* generation being received */
    apr_uint32_t incoming_gen;
    const char *pid_file;
    pid_t takeover_pid;           /* predecessor to retire when we are ready */
    apr_time_t takeover_by;
    int ready_pending;            /* READY owed to the parent */
    int applied;                  /* generations applied since we started */
    apr_time_t orphaned_at;       /* END received, no BEGIN since (or 0) */
    int stopping;                 /* STOP_* */
} M;

enum { STOP_NONE = 0, STOP_EXIT, STOP_HANDOVER };

/* ---------------------------------------------------------------- signals */

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    ssize_t ignored = write(M.sig_w, &c, 1);

    (void)ignored;
    errno = saved;
}

static void setup_signals(void)
{
    static const int handled[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGUSR2 };
    struct sigaction sa;
    sigset_t none;
    int fds[2], sig;
    size_t i;

    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        _exit(1);
    }
    M.sig_r = fds[0];
    M.sig_w = fds[1];
    /* Drop httpd's handlers: they belong to the parent's code paths. */
    for (sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            signal(sig, SIG_DFL);
        }
    }
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    /* SA_NOCLDSTOP: retiring stops workers for a moment; not an event. */
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    for (i = 0; i < sizeof(handled) / sizeof(handled[0]); i++) {
        sigaction(handled[i], &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGUSR1, SIG_IGN);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ------------------------------------------------------------- small tools */

static double seconds_since(apr_time_t t)
{
    return (double)(apr_time_now() - t) / APR_USEC_PER_SEC;
}

/* Where the kernel reads our command line from: fields 48 and 49 of
 * /proc/self/stat (arg_start, arg_end). */
static int argv_area(char **start, char **end)
{
    char buf[2048];
    const char *f = fcgi_pm_proc_stat(0, buf, sizeof(buf));
    unsigned long a = 0, b = 0;

    f = f ? fcgi_pm_proc_stat_field(f, 48) : NULL;
    if (!f || sscanf(f, "%lu %lu", &a, &b) != 2 || b <= a) {
        return -1;
    }
    *start = (char *)a;
    *end = (char *)b;
    return 0;
}

/* Overwrite httpd's command line so that ps shows what we are. */
static void set_title(const char *title)
{
    char *start, *end;
    size_t len = strlen(title);

    prctl(PR_SET_NAME, "fcgi-pm-mgr", 0, 0, 0);
    if (argv_area(&start, &end) != 0 || (size_t)(end - start) <= len) {
        return;
    }
    memset(start, 0, end - start);
    memcpy(start, title, len);
}

static void write_pid_file(void)
{
    apr_status_t rv;

    if (!M.pid_file) {
        return;
    }
    rv = fcgi_pm_pidfile_write(M.pid_file, getpid());
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, M.s,
                     "cannot write pid file %s", M.pid_file);
    }
}

static void remove_pid_file(void)
{
    if (M.pid_file) {
        fcgi_pm_pidfile_remove_if(M.pid_file, getpid());
    }
}

/* --------------------------------------------------------------- workers */

static void spawn_one(mgr_app *app)
{
    fcgi_pm_spawn_spec spec;
    fcgi_pm_worker_slot *w;
    pid_t pid;

    spec.app = app->name;
    spec.argv = app->argv;
    spec.envp = app->envp;
    spec.workdir = app->workdir;
    spec.uid = app->uid;
    spec.gid = app->gid;
    spec.groups = app->groups;
    spec.ngroups = app->ngroups;
    spec.listen_fd = app->listen_fd;
    spec.stderr_fd = M.log_w;
    pid = fcgi_pm_spawn_worker(&spec);
    if (pid < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, M.s,
                     "app %s: cannot fork a worker", app->name);
        return;
    }
    w = fcgi_pm_table_claim_worker(app->slot, pid, app->slot->generation);
    if (!w) {
        /* Cannot happen: at most 2 x MaxProcesses are alive. */
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, M.s,
                     "app %s: worker %ld has no table slot; stopping it",
                     app->name, (long)pid);
        kill(pid, SIGKILL);
        return;
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, M.s,
                 "app %s: worker %ld started (generation %u)",
                 app->name, (long)pid, app->slot->generation);
}

/* Ask W to finish and go: STARTING ones serve nothing yet and get
 * SIGTERM; the others are retired when idle (see the tick). */
static void retire(mgr_app *app, fcgi_pm_worker_slot *w)
{
    if (w->state == FCGI_PM_WORKER_RETIRING) {
        return;
    }
    if (w->state == FCGI_PM_WORKER_STARTING) {
        kill(w->pid, SIGTERM);
        w->signalled = 1;
    }
    w->kill_at = apr_time_now() + apr_time_from_sec(app->shutdown_timeout);
    w->state = FCGI_PM_WORKER_RETIRING;
}

static void retire_all(mgr_app *app)
{
    int j;

    for (j = 0; j < FCGI_PM_WORKER_SLOTS; j++) {
        if (app->slot->workers[j].pid) {
            retire(app, &app->slot->workers[j]);
        }
    }
}

/* Start a new generation of workers for APP; the old ones stay until the
 * new ones accept. */
static void roll(mgr_app *app, const char *why)
{
    fcgi_pm_app_slot *a = app->slot;
    int j;

    a->generation++;
    a->backoff_step = 0;
    a->backoff_until = 0;
    a->failed_starts = 0;
    for (j = 0; j < FCGI_PM_WORKER_SLOTS; j++) {
        fcgi_pm_worker_slot *w = &a->workers[j];
        if (w->pid && w->state == FCGI_PM_WORKER_STARTING) {
            retire(app, w);       /* an unfinished earlier roll */
        }
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, M.s,
                 "app %s: rolling restart to generation %u (%s)",
                 app->name, a->generation, why);
}

static void start_failed(mgr_app *app, pid_t pid, const char *how, double lived)
{
    fcgi_pm_app_slot *a = app->slot;
    apr_time_t now = apr_time_now();

    a->failed_starts++;
    if (now < a->backoff_until) {
        return;                   /* same backoff step: logged already */
    }
    a->backoff_step++;
    a->backoff_seconds = a->backoff_step > 7 ? MAX_BACKOFF_S
                         : (1u << (a->backoff_step - 1));
    if (a->backoff_seconds > MAX_BACKOFF_S) {
        a->backoff_seconds = MAX_BACKOFF_S;
    }
    a->backoff_until = now + apr_time_from_sec(a->backoff_seconds);
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, M.s,
                 "app %s: backing off for %u s: worker %ld %s after %.2f s, "
                 "before accepting (%u start-up failures in a row)",
                 app->name, a->backoff_seconds, (long)pid, how, lived,
                 a->failed_starts);
}

static mgr_app *app_of_slot(fcgi_pm_app_slot *slot)
{
    mgr_app *app;

    for (app = M.apps; app && app->slot != slot; app = app->next) {
    }
    return app;
}

/* A worker is gone: log how, count it, decide whether it is replaced. */
static void worker_gone(mgr_app *app, fcgi_pm_worker_slot *w, int status,
                        int known_status)
{
    fcgi_pm_app_slot *a = app->slot;
    apr_pool_t *p;
    const char *how;
    double lived = seconds_since(w->started);
    int was_ready = w->ready_at != 0;
    int retiring = w->state == FCGI_PM_WORKER_RETIRING;
    int current = !retiring && !w->adopted && w->generation == a->generation
                  && app->configured && M.stopping == STOP_NONE;
    pid_t pid = w->pid;

    apr_pool_create(&p, M.pool);
    how = known_status ? fcgi_pm_spawn_describe_exit(p, status) : "exited";
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, M.s,
                 "app %s: worker %ld exited: %s after %.1f s (generation %u%s)",
                 app->name, (long)pid, how, lived, w->generation,
                 retiring ? ", retired" : "");
    if (known_status) {
        a->last_exit_status = status;
        a->last_exit_time = apr_time_now();
        if (!retiring && (WIFSIGNALED(status)
                          || (WIFEXITED(status) && WEXITSTATUS(status)))) {
            a->crashes++;
        }
    }
    w->state = FCGI_PM_WORKER_FREE;
    w->pid = 0;
    if (current) {
        if (was_ready) {
            a->restarts++;        /* replaced by the next tick */
        }
        else {
            start_failed(app, pid, how, lived);
        }
    }
    fcgi_pm_table_recount(a);
    apr_pool_destroy(p);
}

static void reap_children(void)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        fcgi_pm_app_slot *slot = NULL;
        fcgi_pm_worker_slot *w = fcgi_pm_table_find_worker(M.t, pid, &slot);
        mgr_app *app = w ? app_of_slot(slot) : NULL;

        if (app) {
            worker_gone(app, w, status, 1);
        }
        else if (w) {
            w->pid = 0;
            w->state = FCGI_PM_WORKER_FREE;
            fcgi_pm_table_recount(slot);
        }
    }
}

/* -------------------------------------------------------------- the tick */

/* Connections queued while no worker exists and the app backs off would
 * wait for nothing: close them so that httpd answers 503 at once.  Only
 * done with no worker alive, so that no worker races us for them. */
static void refuse_queued(mgr_app *app)
{
    int n;

    if (app->listen_fd < 0) {
        return;
    }
    for (n = 0; n < 10000; n++) {
        struct pollfd pfd = { app->listen_fd, POLLIN, 0 };
        int c;
        if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & POLLIN)) {
            return;
        }
        c = accept4(app->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            return;
        }
        close(c);
    }
}

static void update_app_state(mgr_app *app)
{
    fcgi_pm_app_slot *a = app->slot;
    apr_uint32_t state;

    fcgi_pm_table_recount(a);
    if (!app->configured || M.stopping) {
        state = FCGI_PM_APP_DRAINING;
    }
    else if (a->ready > 0) {
        state = FCGI_PM_APP_RUNNING;
    }
    else if (a->backoff_step > 0) {
        state = FCGI_PM_APP_BACKOFF;
    }
    else {
        state = FCGI_PM_APP_STARTING;
    }
    a->state = state;
    if (state == FCGI_PM_APP_BACKOFF && a->alive == 0) {
        refuse_queued(app);
    }
}

/* Is a starting worker accepting now?  Where the kernel does not show
 * what a process waits in, a worker alive for BLIND_READY_S counts as
 * ready (said once in the log): rolling restarts then rely on that. */
static int worker_ready(fcgi_pm_worker_slot *w, apr_time_t now)
{
    static int said;
    int accepting = fcgi_pm_spawn_is_accepting(w->pid);

    if (accepting >= 0) {
        return accepting;
    }
    if (!said++) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, M.s,
                     "cannot read /proc/PID/syscall of workers: a worker "
                     "counts as ready %d s after its start", BLIND_READY_S);
    }
    return now - w->started >= apr_time_from_sec(BLIND_READY_S);
}

/* Workers of the wanted generation: alive (not retiring) and accepting. */
static void count_current(mgr_app *app, int *alive, int *ready)
{
    int j;

    *alive = *ready = 0;
    for (j = 0; j < FCGI_PM_WORKER_SLOTS; j++) {
        fcgi_pm_worker_slot *w = &app->slot->workers[j];
        if (w->pid && !w->adopted && w->state != FCGI_PM_WORKER_RETIRING
            && w->generation == app->slot->generation) {
            (*alive)++;
            if (w->state == FCGI_PM_WORKER_READY) {
                (*ready)++;
            }
        }
    }
}

/* Returns the milliseconds until this app needs the next tick, -1: none. */
static int tick_app(mgr_app *app, apr_time_t now)
{
    fcgi_pm_app_slot *a = app->slot;
    int j, alive, ready, wait_ms = -1;

#define SOONER(ms) do { int ms_ = (ms); \
        if (wait_ms < 0 || ms_ < wait_ms) wait_ms = ms_; } while (0)

    if (!app->configured || M.stopping) {
        retire_all(app);
    }
    else if (app->listen_fd < 0) {
        /* Adopted from a dead manager, configuration not received yet:
         * its workers serve on as they are. */
    }
    else {
        count_current(app, &alive, &ready);
        if (ready >= app->processes) {
            /* The new generation accepts: retire everything older. */
            for (j = 0; j < FCGI_PM_WORKER_SLOTS; j++) {
                fcgi_pm_worker_slot *w = &a->workers[j];
                if (w->pid && (w->adopted || w->generation != a->generation)) {
                    retire(app, w);   /* handled by the loop below */
                }
            }
        }
        if (alive < app->processes && app->listen_fd >= 0) {
            if (now >= a->backoff_until) {
                for (; alive < app->processes; alive++) {
                    spawn_one(app);
                }
                SOONER(BUSY_TICK_MS);
            }
            else {
                SOONER((int)apr_time_as_msec(a->backoff_until - now) + 1);
            }
        }
    }
    for (j = 0; j < FCGI_PM_WORKER_SLOTS; j++) {
        fcgi_pm_worker_slot *w = &a->workers[j];
        if (!w->pid) {
            continue;
        }
        if (w->adopted) {
            if (!fcgi_pm_spawn_alive(w->pid)) {
                worker_gone(app, w, 0, 0);
                continue;
            }
            SOONER(ADOPTED_TICK_MS);
        }
        if (w->state == FCGI_PM_WORKER_STARTING) {
            if (worker_ready(w, now)) {
                w->state = FCGI_PM_WORKER_READY;
                w->ready_at = now;
                a->failed_starts = 0;
                a->backoff_step = 0;
                a->backoff_until = 0;
                ap_log_error(APLOG_MARK, APLOG_INFO, 0, M.s,
                             "app %s: worker %ld accepting after %.2f s",
                             app->name, (long)w->pid, seconds_since(w->started));
                SOONER(0);        /* older workers may retire now */
            }
            else {
                SOONER(BUSY_TICK_MS);
            }
        }
        if (w->state == FCGI_PM_WORKER_RETIRING) {
            if (!w->signalled) {
                if (fcgi_pm_spawn_try_retire(w->pid) != 0) {
                    w->signalled = 1;
                }
                else {
                    SOONER(BUSY_TICK_MS);
                }
            }
            if (now >= w->kill_at) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, M.s,
                             "app %s: worker %ld still running %d s after it "
                             "was retired (ShutdownTimeout); killing it",
                             app->name, (long)w->pid, app->shutdown_timeout);
                kill(w->pid, SIGKILL);
                w->kill_at = now + apr_time_from_sec(3600);
            }
            else {
                SOONER((int)apr_time_as_msec(w->kill_at - now) + 1);
            }
        }
    }

    if (app->restart_file) {
        SOONER(FILE_TICK_MS);
    }
    update_app_state(app);
    return wait_ms;
#undef SOONER
}

static void free_app(mgr_app *app)
{
    if (app->listen_fd >= 0) {
        close(app->listen_fd);
    }
    apr_pool_destroy(app->pool);
}

/* A removed app whose workers are all gone: its socket goes too. */
static void remove_drained(mgr_app *app)
{
    if (app->socket_path && M.stopping != STOP_HANDOVER) {
        fcgi_pm_sock_unlink_if_ours(app->socket_path, app->sock_dev,
                                    app->sock_ino);
    }
    if (M.stopping == STOP_NONE) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, M.s,
                     "app %s: removed, its workers have drained", app->name);
    }
    fcgi_pm_table_release_app(app->slot);
    free_app(app);
}

static void check_restart_file(mgr_app *app)
{
    struct stat st;
    apr_time_t mtime;

    if (!app->restart_file || stat(app->restart_file, &st) != 0) {
        return;
    }
    mtime = apr_time_from_sec(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1000;
    if (app->restart_file_mtime && mtime != app->restart_file_mtime) {
        roll(app, "RestartFile touched");
    }
    app->restart_file_mtime = mtime;
}

/* Every app up (or backing off)?  Then READY is owed and a predecessor
 * can go. */
static int all_apps_up(void)
{
    mgr_app *app;

    for (app = M.apps; app; app = app->next) {
        int alive, ready;
        if (!app->configured) {
            continue;
        }
        count_current(app, &alive, &ready);
        if (ready < app->processes && app->slot->state != FCGI_PM_APP_BACKOFF) {
            return 0;
        }
    }
    return 1;
}

static void send_ready(void)
{
    if (M.ctl >= 0) {
        /* A full socket only means the parent is not listening. */
        (void)fcgi_pm_proto_send(M.ctl, FCGI_PM_MSG_READY, NULL, -1, 0);
    }
    M.ready_pending = 0;
}

/* Returns the poll timeout for the loop. */
static int tick(void)
{
    apr_time_t now = apr_time_now();
    mgr_app **pp = &M.apps;
    int wait_ms = -1;

    while (*pp) {
        mgr_app *app = *pp;
        int ms;
        check_restart_file(app);
        ms = tick_app(app, now);
        if ((!app->configured || M.stopping) && app->slot->alive == 0) {
            *pp = app->next;
            remove_drained(app);
            continue;
        }
        if (ms >= 0 && (wait_ms < 0 || ms < wait_ms)) {
            wait_ms = ms;
        }
        pp = &app->next;
    }
    if (M.stopping == STOP_NONE && M.applied
        && (M.ready_pending || M.takeover_pid) && all_apps_up()) {
        if (M.ready_pending) {
            send_ready();
        }
        if (M.takeover_pid) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, M.s,
                         "apps ready: telling the previous manager (pid %ld) "
                         "to retire", (long)M.takeover_pid);
            kill(M.takeover_pid, SIGUSR2);
            M.takeover_pid = 0;
        }
    }
    if (M.orphaned_at && M.stopping == STOP_NONE) {
        if (now - M.orphaned_at >= apr_time_from_sec(UNLOADED_WAIT_S)) {
            /* httpd lives on but no longer loads mod_fcgi_pm (a2dismod and
             * a reload).  Socket files are left: nobody routes to them, and
             * a later start replaces them. */
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, M.s,
                         "httpd reloaded without mod_fcgi_pm %d s ago: "
                         "retiring every worker", UNLOADED_WAIT_S);
            M.stopping = STOP_HANDOVER;
            wait_ms = 0;
        }
        else if (wait_ms < 0 || wait_ms > 1000) {
            wait_ms = 1000;
        }
    }
    if (M.takeover_pid) {
        if (now >= M.takeover_by) {
            kill(M.takeover_pid, SIGUSR2);
            M.takeover_pid = 0;
        }
        else if (wait_ms < 0 || wait_ms > 1000) {
            wait_ms = 1000;
        }
    }
    return wait_ms;
}

/* ------------------------------------------------------- configuration */

static char **string_vector(apr_pool_t *p, apr_array_header_t *a)
{
    *(const char **)apr_array_push(a) = NULL;
    return (char **)a->elts;
}

/* issue 8: "groups" = comma-separated gids (may be empty), decided by the
 * parent; the worker gets exactly these with setgroups().  -1 when
 * malformed (a gid 0, or not a number). */
static int parse_groups(apr_pool_t *p, const char *v, gid_t **out)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(gid_t));
    const char *c = v;

    while (*c) {
        char *end = NULL;
        long g;
        if (*c < '0' || *c > '9') {
            return -1;
        }
        errno = 0;
        g = strtol(c, &end, 10);
        if (errno || g <= 0 || (long)(gid_t)g != g || (*end && *end != ',')
            || a->nelts >= 65536) {
            return -1;
        }
        APR_ARRAY_PUSH(a, gid_t) = (gid_t)g;
        c = *end ? end + 1 : end;
    }
    *out = (gid_t *)a->elts;
    return a->nelts;
}

/* An APP record, with its listen socket FD, into a new mgr_app. */
static mgr_app *parse_app(const fcgi_pm_msg *msg)
{
    apr_pool_t *p;
    mgr_app *app;
    apr_array_header_t *argv, *env;
    const char *pos = msg->payload, *end = msg->payload + msg->len, *k, *v;

    apr_pool_create(&p, M.pool);
    app = apr_pcalloc(p, sizeof(*app));
    app->pool = p;
    app->listen_fd = msg->fd;
    app->record = apr_pmemdup(p, msg->payload, msg->len);
    app->record_len = msg->len;
    argv = apr_array_make(p, 4, sizeof(char *));
    env = apr_array_make(p, 4, sizeof(char *));
    app->ngroups = -1;
    while (fcgi_pm_proto_next(&pos, end, &k, &v)) {
        if (!strcmp(k, "groups")) {                         /* issue 8 */
            app->ngroups = parse_groups(p, v, &app->groups);
            if (app->ngroups < 0) {
                app->name = NULL;     /* refused below */
                break;
            }
            continue;
        }
        if (!strcmp(k, "name"))               app->name = apr_pstrdup(p, v);
        else if (!strcmp(k, "socket_path"))   app->socket_path = apr_pstrdup(p, v);
        else if (!strcmp(k, "addr"))          app->addr = apr_pstrdup(p, v);
        else if (!strcmp(k, "arg"))           APR_ARRAY_PUSH(argv, char *) = apr_pstrdup(p, v);
        else if (!strcmp(k, "env"))           APR_ARRAY_PUSH(env, char *) = apr_pstrdup(p, v);
        else if (!strcmp(k, "processes"))     app->processes = atoi(v);
        else if (!strcmp(k, "uid"))           app->uid = (uid_t)atol(v);
        else if (!strcmp(k, "gid"))           app->gid = (gid_t)atol(v);
        else if (!strcmp(k, "workdir"))       app->workdir = *v ? apr_pstrdup(p, v) : NULL;
        else if (!strcmp(k, "restart_on_graceful")) app->restart_on_graceful = atoi(v);
        else if (!strcmp(k, "shutdown_timeout"))    app->shutdown_timeout = atoi(v);
        else if (!strcmp(k, "restart_file"))  app->restart_file = apr_pstrdup(p, v);
        else if (!strcmp(k, "sock_dev"))      app->sock_dev = (dev_t)atol(v);
        else if (!strcmp(k, "sock_ino"))      app->sock_ino = (ino_t)atol(v);
    }
    if (!app->name || !app->addr || argv->nelts == 0 || app->processes < 1
        || app->processes > FCGI_PM_MAX_PROCESSES || app->listen_fd < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, M.s,
                     "ignoring a malformed app record from httpd");
        free_app(app);
        return NULL;
    }
    app->argv = string_vector(p, argv);
    app->envp = string_vector(p, env);
    return app;
}

static mgr_app *find_app(const char *name)
{
    mgr_app *app;

    for (app = M.apps; app && strcmp(app->name, name); app = app->next) {
    }
    return app;
}

/* Two descriptors for the same socket (the parent sends a fresh copy of
 * each listen socket with every generation)? */
static int same_socket(int a, int b)
{
    struct stat sa, sb;

    return a >= 0 && b >= 0 && fstat(a, &sa) == 0 && fstat(b, &sb) == 0
           && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* NEW replaces OLD (same name): keep the table slot and the socket. */
static void replace_app(mgr_app *old, mgr_app *new)
{
    int adopted = old->listen_fd < 0;
    int changed = old->record_len != new->record_len
                  || memcmp(old->record, new->record, new->record_len) != 0;
    int new_socket = !adopted && !same_socket(old->listen_fd, new->listen_fd);

    new->slot = old->slot;
    new->restart_file_mtime = old->restart_file_mtime;
    if (adopted) {
        roll(new, "taking over the workers of a manager that died");
    }
    else if (changed || new_socket) {
        roll(new, "configuration changed");
    }
    else if (new->restart_on_graceful) {
        roll(new, "graceful restart");
    }
    if (new_socket && old->socket_path) {
        /* The parent made a new socket: the old file is gone already. */
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, M.s,
                     "app %s: listen socket replaced", new->name);
    }
}

static mgr_app *add_app(mgr_app *app)
{
    fcgi_pm_app_slot *slot = fcgi_pm_table_find_app(M.t, app->name);

    if (!slot) {
        slot = fcgi_pm_table_claim_app(M.t, app->name, app->addr);
    }
    if (!slot) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, M.s,
                     "app %s: the table is full; not started", app->name);
        free_app(app);
        return NULL;
    }
    app->slot = slot;
    slot->processes = app->processes;
    return app;
}

/* COMMIT: the generation received replaces the running one. */
static void apply_generation(void)
{
    mgr_app *app, *next, *kept = NULL, *old;

    for (app = M.apps; app; app = app->next) {
        app->configured = 0;
    }
    for (app = M.incoming; app; app = next) {
        next = app->next;
        app->configured = 1;
        old = find_app(app->name);
        if (old) {
            replace_app(old, app);
            old->configured = -1;     /* marked for freeing below */
        }
        else if (!add_app(app)) {
            continue;
        }
        app->slot->processes = app->processes;
        apr_cpystrn(app->slot->addr, app->addr, sizeof(app->slot->addr));
        app->next = kept;
        kept = app;
    }
    M.incoming = NULL;
    /* Unconfigured apps stay until drained; replaced ones go now. */
    for (app = M.apps; app; app = next) {
        next = app->next;
        if (app->configured == -1) {
            free_app(app);
        }
        else {
            if (!app->configured) {
                ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, M.s,
                             "app %s: no longer configured; draining",
                             app->name);
            }
            app->next = kept;
            kept = app;
        }
    }
    M.apps = kept;
    M.t->generation = M.incoming_gen;
    M.t->reloads++;
    M.applied++;
    M.ready_pending = 1;
    write_pid_file();
}

static void handle_begin(const fcgi_pm_msg *msg)
{
    const char *pos = msg->payload, *end = msg->payload + msg->len, *k, *v;
    mgr_app *app, *next;

    for (app = M.incoming; app; app = next) {   /* an unfinished one */
        next = app->next;
        free_app(app);
    }
    M.incoming = NULL;
    if (msg->fd >= 0) {
        /* httpd's current error log becomes ours (and our workers'). */
        if (dup2(msg->fd, STDERR_FILENO) < 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, errno, M.s,
                         "cannot switch to httpd's current error log");
        }
        close(msg->fd);
    }
    while (fcgi_pm_proto_next(&pos, end, &k, &v)) {
        if (!strcmp(k, "generation")) {
            M.incoming_gen = (apr_uint32_t)atol(v);
        }
        else if (!strcmp(k, "log_level")) {
            M.s->log.level = atoi(v);
        }
        else if (!strcmp(k, "pid_file")
                 && (!M.pid_file || strcmp(M.pid_file, v) != 0)) {
            M.pid_file = apr_pstrdup(M.pool, v);
        }
        else if (!strcmp(k, "takeover_pid")) {
            M.takeover_pid = (pid_t)atol(v);
            M.takeover_by = apr_time_now() + apr_time_from_sec(TAKEOVER_WAIT_S);
        }
    }
}

static void read_control(void)
{
    fcgi_pm_msg msg;
    int rc = fcgi_pm_proto_recv(M.ctl, M.msgbuf, &msg, 1);

    if (rc < 0 && errno == EAGAIN) {
        return;
    }
    if (rc <= 0) {
        if (rc < 0 && errno != ECONNRESET) {
            ap_log_error(APLOG_MARK, APLOG_ERR, errno, M.s,
                         "bad message on the control socket; closing it");
        }
        close(M.ctl);
        M.ctl = -1;
        /* httpd's death arrives as SIGTERM; a closed socket with httpd
         * alive means a newer manager took over: wait for its SIGUSR2. */
        if (getppid() != M.parent) {
            M.stopping = STOP_EXIT;
        }
        return;
    }
    if (msg.proto != FCGI_PM_PROTO_VERSION) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, M.s,
                     "ignoring a message of protocol %u (this manager speaks %u)",
                     msg.proto, FCGI_PM_PROTO_VERSION);
        if (msg.fd >= 0) {
            close(msg.fd);
        }
        return;
    }
    switch (msg.type) {
    case FCGI_PM_MSG_BEGIN:
        M.orphaned_at = 0;
        handle_begin(&msg);
        break;
    case FCGI_PM_MSG_END:
        M.orphaned_at = apr_time_now();
        break;
    case FCGI_PM_MSG_APP: {
        mgr_app *app = parse_app(&msg);
        if (app) {
            app->next = M.incoming;
            M.incoming = app;
        }
        break;
    }
    case FCGI_PM_MSG_COMMIT:
        apply_generation();
        break;
    default:
        if (msg.fd >= 0) {
            close(msg.fd);
        }
    }
}

/* Apps left in the table by a manager that died: known by name until
 * the parent sends their configuration again; their workers live on. */
static void adopt_table(void)
{
    int i, j;

    for (i = 0; i < FCGI_PM_MAX_APPS; i++) {
        fcgi_pm_app_slot *a = &M.t->apps[i];
        apr_pool_t *p;
        mgr_app *app;

        if (a->state == FCGI_PM_APP_FREE) {
            continue;
        }
        for (j = 0; j < FCGI_PM_WORKER_SLOTS; j++) {
            fcgi_pm_worker_slot *w = &a->workers[j];
            if (w->pid && fcgi_pm_spawn_alive(w->pid)) {
                w->adopted = 1;
            }
            else {
                w->pid = 0;
                w->state = FCGI_PM_WORKER_FREE;
            }
        }
        apr_pool_create(&p, M.pool);
        app = apr_pcalloc(p, sizeof(*app));
        app->pool = p;
        app->name = apr_pstrdup(p, a->name);
        app->listen_fd = -1;
        app->configured = 1;      /* until the first generation says */
        app->shutdown_timeout = FCGI_PM_DEFAULT_SHUTDOWN_TIMEOUT;
        app->slot = a;
        app->next = M.apps;
        M.apps = app;
        fcgi_pm_table_recount(a);
    }
}

/* ------------------------------------------------------- worker stderr */

static void forward_worker_output(void)
{
    char buf[8192], *line, *nl;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct ucred))];
    } ctl;
    struct iovec iov = { buf, sizeof(buf) - 1 };
    struct msghdr mh;
    struct cmsghdr *cm;
    ssize_t n;
    int count;

    for (count = 0; count < 64; count++) {
        pid_t pid = 0;
        fcgi_pm_app_slot *slot = NULL;
        const char *name = "?";

        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof(ctl.buf);
        n = recvmsg(M.log_r, &mh, MSG_DONTWAIT);
        if (n <= 0) {
            return;
        }
        buf[n] = '\0';
        for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level == SOL_SOCKET
                && cm->cmsg_type == SCM_CREDENTIALS) {
                struct ucred cred;
                memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
                pid = cred.pid;
            }
        }
        if (pid && fcgi_pm_table_find_worker(M.t, pid, &slot) && slot) {
            name = slot->name;
        }
        for (line = buf; line && *line; line = nl) {
            nl = strchr(line, '\n');
            if (nl) {
                *nl++ = '\0';
            }
            if (*line) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, M.s,
                             "app %s: worker %ld: %s", name, (long)pid, line);
            }
        }
    }
}

/* ---------------------------------------------------------------- main */

static void handle_signals(void)
{
    unsigned char sigs[64];
    ssize_t n, i;
    mgr_app *app;

    while ((n = read(M.sig_r, sigs, sizeof(sigs))) > 0) {
        for (i = 0; i < n; i++) {
            switch (sigs[i]) {
            case SIGCHLD:
                /* Their last words first, while their pids still name
                 * their app. */
                forward_worker_output();
                reap_children();
                break;
            case SIGHUP:
                ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, M.s,
                             "SIGHUP: rolling restart of every app");
                for (app = M.apps; app; app = app->next) {
                    if (app->configured && M.stopping == STOP_NONE) {
                        roll(app, "SIGHUP");
                    }
                }
                break;
            case SIGTERM:
            case SIGINT:
                if (M.stopping != STOP_EXIT) {
                    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, M.s,
                                 "stopping: retiring every worker");
                }
                M.stopping = STOP_EXIT;
                break;
            case SIGUSR2:
                if (M.stopping == STOP_NONE) {
                    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, M.s,
                                 "a newer manager took over: retiring "
                                 "every worker");
                    M.stopping = STOP_HANDOVER;
                }
                break;
            }
        }
    }
}

static void init_manager(int ctl, fcgi_pm_table *table, server_rec *s,
                         pid_t parent)
{
    int keep[3], sv[2], one = 1, devnull;

    /* Own session: httpd's signals to its process group (restart, stop)
     * must not reach us or our workers. */
    pid_t sid = setsid();
    memset(&M, 0, sizeof(M));
    M.t = table;
    M.s = s;
    M.parent = parent;
    M.ctl = ctl;
    setup_signals();
    if (sid < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, M.s,
                     "manager: setsid failed; httpd's signals may reach it");
    }
    /* httpd's death (stop, crash) reaches us as SIGTERM. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, M.s,
                     "manager: PR_SET_PDEATHSIG failed");
    }
    if (getppid() != parent) {
        raise(SIGTERM);
    }
    /* Keep only the control socket, the signal pipe and stderr: above
     * all not httpd's listening sockets, which a stopped httpd must be
     * able to bind again. */
    keep[0] = ctl;
    keep[1] = M.sig_r;
    keep[2] = M.sig_w;
    fcgi_pm_sock_close_fds_except(keep, 3);
    devnull = open("/dev/null", O_RDWR);
    if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0
        || dup2(devnull, STDOUT_FILENO) < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, M.s,
                     "manager: cannot attach stdin/stdout to /dev/null");
    }
    if (devnull > STDERR_FILENO) {
        close(devnull);
    }
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, errno, M.s,
                     "manager: cannot create the workers' log socket");
        _exit(1);
    }
    M.log_r = sv[0];
    M.log_w = sv[1];
    if (setsockopt(M.log_r, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) != 0) {
        /* Lines still arrive, only without the worker's pid. */
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, M.s,
                     "manager: SO_PASSCRED failed");
    }
    apr_pool_create(&M.pool, NULL);
    M.msgbuf = apr_palloc(M.pool, FCGI_PM_MSG_MAX);
    set_title("fcgi-pm: manager");
    M.t->manager_pid = getpid();
    M.t->manager_started = apr_time_now();
    M.t->manager_forks++;
    adopt_table();
}

void fcgi_pm_manager_main(int ctl, fcgi_pm_table *table, server_rec *s,
                          pid_t parent)
{
    init_manager(ctl, table, s, parent);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, M.s, "manager running, pid %ld",
                 (long)getpid());
    for (;;) {
        struct pollfd pfd[3];
        int timeout = tick(), nfds = 0;

        if (M.stopping && !M.apps) {
            break;
        }
        pfd[nfds].fd = M.sig_r;
        pfd[nfds++].events = POLLIN;
        pfd[nfds].fd = M.log_r;
        pfd[nfds++].events = POLLIN;
        if (M.ctl >= 0) {
            pfd[nfds].fd = M.ctl;
            pfd[nfds++].events = POLLIN;
        }
        if (poll(pfd, nfds, timeout) < 0 && errno != EINTR) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, errno, M.s, "manager: poll");
            sleep(1);
            continue;
        }
        if (pfd[0].revents) {
            handle_signals();
        }
        if (pfd[1].revents) {
            forward_worker_output();
        }
        if (nfds > 2 && pfd[2].revents) {
            read_control();
        }
    }
    forward_worker_output();
    if (M.stopping == STOP_EXIT) {
        remove_pid_file();
    }
    if (M.t->manager_pid == getpid()) {
        M.t->manager_pid = 0;
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, M.s, "manager pid %ld exiting",
                 (long)getpid());
    _exit(0);
}
