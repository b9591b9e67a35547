/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The persistent manager: its event loop, signals and the configuration
 * generations it receives.
 *
 * Forked once by the httpd parent; lives until httpd exits.  It never
 * returns into httpd's code and never uses a configuration pool: each
 * generation's apps arrive as messages (fcgi_pm_proto.h) and are kept in
 * pools of the manager's own.  Each app's workers are run by the pool
 * (fcgi_pm_pool.h), whose state is private to this process.  Signal
 * handlers only write to a self-pipe; the loop below does the work:
 *
 *   SIGCHLD  reap workers          SIGHUP   roll every app (new code)
 *   SIGTERM  stop: retire workers, remove sockets, exit (httpd is gone:
 *            the kernel sends it through PR_SET_PDEATHSIG)
 *   SIGUSR2  hand over to a newer manager: retire workers, keep sockets
 *
 * The manager is a child subreaper: processes forked by a worker that
 * dies become its children, so nothing of a worker's tree escapes it.
 */
#include "fcgi_pm_manager.h"
#include "fcgi_pm_adopt.h"
#include "fcgi_pm_dormant.h"
#include "fcgi_pm_pool.h"
#include "fcgi_pm_scripts.h"
#include "fcgi_pm_apps.h"
#include "fcgi_pm_fcgid.h"
#include "fcgi_pm_share.h"
#include "fcgi_pm_proc.h"
#include "fcgi_pm_pidfile.h"
#include "fcgi_pm_proto.h"
#include "fcgi_pm_sock.h"
#include "fcgi_pm_spawn.h"
#include "fcgi_pm_wout.h"

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

#define TAKEOVER_WAIT_S   60    /* retire a predecessor at the latest then */
#define UNLOADED_WAIT_S   30    /* END without a new BEGIN: module unloaded */
#define CONTROL_BATCH     20000 /* messages read in a row at most */
#define MANAGER_MAX_FREE  (1024 * 1024) /* bytes the pools keep when freed */

static struct {
    apr_pool_t *pool;
    fcgi_pm_table *t;
    server_rec *s;
    pid_t parent;
    int ctl;                      /* -1 after the parent closed it */
    apr_time_t tick_due;          /* 0: tick at the next iteration */
    int sig_r, sig_w;
    char *msgbuf;
    fcgi_pm_app *apps;
    fcgi_pm_app *incoming;        /* generation being received */
    apr_uint32_t incoming_gen;
    const char *pid_file;
    pid_t takeover_pid;           /* predecessor to retire when we are ready */
    int takeover_pidfd;           /* ... pinned (see pin_predecessor()) */
    apr_time_t takeover_by;
    pid_t dead_pid;               /* a predecessor that died: adopt its */
    unsigned long long dead_start;/* workers at the next COMMIT */
    int ready_pending;            /* READY owed to the parent */
    int applied;                  /* a generation was applied since we started */
    apr_time_t orphaned_at;       /* END received, no BEGIN since (or 0) */
    int stopping;                 /* STOP_* */
    int max_total;                /* FcgiPmMaxProcesses */
} mgr;                            /* the manager's state: one per process */

enum { STOP_NONE = 0, STOP_EXIT, STOP_HANDOVER };

/* The loop's own descriptors, first in its poll set (the workers' stderr
 * streams follow, see fcgi_pm_wout.h).  One more: a name here, its fd in
 * poll_fixed(), its handling after the poll. */
enum { POLL_SIGNALS, POLL_CONTROL, POLL_DORMANT, POLL_SPAWN, POLL_FIXED };

/* ---------------------------------------------------------------- signals */

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    ssize_t ignored = write(mgr.sig_w, &c, 1);

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
    mgr.sig_r = fds[0];
    mgr.sig_w = fds[1];
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

    if (!mgr.pid_file) {
        return;
    }
    rv = fcgi_pm_pidfile_write(mgr.pid_file, getpid());
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, mgr.s,
                     "cannot write pid file %s", mgr.pid_file);
    }
}

static void remove_pid_file(void)
{
    if (mgr.pid_file) {
        fcgi_pm_pidfile_remove_if(mgr.pid_file, getpid());
    }
}

/* ------------------------------------------------------------- takeover */

/* The manager we take over from (a module upgrade) is not our child but
 * our sibling: root signals it only through a pidfd opened first and
 * checked after (a root process of httpd's parent, older than us), so a
 * pid that was reused by then is never signalled. */
static void pin_predecessor(pid_t pid)
{
    fcgi_pm_proc_info them, us;
    int fd;

    if (mgr.takeover_pidfd >= 0) {
        close(mgr.takeover_pidfd);
        mgr.takeover_pidfd = -1;
    }
    mgr.takeover_pid = 0;
    if (pid <= 1 || pid == getpid()) {
        return;
    }
    fd = fcgi_pm_spawn_pidfd(pid);
    if (fd < 0 || fcgi_pm_proc_info_get(pid, &them) != 0
        || fcgi_pm_proc_info_get(getpid(), &us) != 0
        || them.ppid != getppid() || them.uid != 0
        || them.start_ticks > us.start_ticks) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, mgr.s,
                     "pid %ld is not a previous manager (gone, or not httpd's "
                     "root child older than us): not signalling it",
                     (long)pid);
        if (fd >= 0) {
            close(fd);
        }
        return;
    }
    mgr.takeover_pid = pid;
    mgr.takeover_pidfd = fd;
    mgr.takeover_by = apr_time_now() + apr_time_from_sec(TAKEOVER_WAIT_S);
}

/* SIGUSR2 (hand over) to the pinned predecessor, once. */
static void retire_predecessor(void)
{
    if (mgr.takeover_pidfd >= 0
        && fcgi_pm_spawn_signal(mgr.takeover_pid, mgr.takeover_pidfd, SIGUSR2) != 0
        && errno != ESRCH) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, mgr.s,
                     "cannot tell the previous manager (pid %ld) to retire",
                     (long)mgr.takeover_pid);
    }
    if (mgr.takeover_pidfd >= 0) {
        close(mgr.takeover_pidfd);
    }
    mgr.takeover_pidfd = -1;
    mgr.takeover_pid = 0;
}

/* ------------------------------------------------------------------ apps */

/* A removed app whose workers are all gone: its socket goes too. */
static void remove_drained(fcgi_pm_app *app)
{
    if (app->socket_path && mgr.stopping != STOP_HANDOVER) {
        fcgi_pm_sock_unlink_if_ours(app->socket_path, app->sock_dev,
                                    app->sock_ino);
    }
    if (mgr.stopping == STOP_NONE) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, mgr.s,
                     "app %s: removed, its workers have drained", app->name);
    }
    fcgi_pm_wlog_flush(&app->run.wlog_limit, mgr.s, app->name);
    fcgi_pm_table_release_app(app->slot);
    fcgi_pm_pool_free(app);
}

static void check_restart_file(fcgi_pm_app *app)
{
    struct stat st;
    apr_time_t mtime;

    if (!app->restart_file || stat(app->restart_file, &st) != 0) {
        return;
    }
    mtime = apr_time_from_sec(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1000;
    if (app->restart_file_mtime && mtime != app->restart_file_mtime) {
        fcgi_pm_pool_roll(app, "RestartFile touched");
    }
    app->restart_file_mtime = mtime;
}

/* Every configured app up (or backing off)?  Then READY is owed and a
 * predecessor can go. */
static int all_apps_up(void)
{
    fcgi_pm_app *app;

    for (app = mgr.apps; app; app = app->next) {
        if (app->config_state == FCGI_PM_APP_CONFIGURED
            && !fcgi_pm_pool_up(app)) {
            return 0;
        }
    }
    return 1;
}

static void send_ready(void)
{
    if (mgr.ctl >= 0) {
        /* A full socket only means the parent is not listening. */
        (void)fcgi_pm_proto_send(mgr.ctl, FCGI_PM_MSG_READY, NULL, -1, 0);
    }
    mgr.ready_pending = 0;
}

/* Returns the poll timeout for the loop. */
static int tick(void)
{
    apr_time_t now = apr_time_now();
    fcgi_pm_app **pp = &mgr.apps;
    int wait_ms = -1;

    while (*pp) {
        fcgi_pm_app *app = *pp;
        int ms;
        if (fcgi_pm_dormant_skip(app, mgr.stopping != STOP_NONE)) {
            pp = &app->next;      /* at rest: a connection wakes it */
            continue;
        }
        check_restart_file(app);
        ms = fcgi_pm_pool_tick(app, now, mgr.stopping != STOP_NONE);
        if ((app->config_state != FCGI_PM_APP_CONFIGURED || mgr.stopping)
            && fcgi_pm_pool_alive(app) == 0) {
            *pp = app->next;
            remove_drained(app);
            continue;
        }
        if (ms >= 0 && (wait_ms < 0 || ms < wait_ms)) {
            wait_ms = ms;
        }
        pp = &app->next;
    }
    if (mgr.stopping == STOP_NONE) {
        int ms = fcgi_pm_share_workers(mgr.apps, mgr.max_total, mgr.s, now);
        if (ms >= 0 && (wait_ms < 0 || ms < wait_ms)) {
            wait_ms = ms;
        }
    }
    {
        int ms = fcgi_pm_wout_tick(now);
        if (ms >= 0 && (wait_ms < 0 || ms < wait_ms)) {
            wait_ms = ms;
        }
    }
    if (mgr.stopping == STOP_NONE && mgr.applied
        && (mgr.ready_pending || mgr.takeover_pid) && all_apps_up()) {
        if (mgr.ready_pending) {
            send_ready();
        }
        if (mgr.takeover_pid > 1) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, mgr.s,
                         "apps ready: telling the previous manager (pid %ld) "
                         "to retire", (long)mgr.takeover_pid);
            retire_predecessor();
        }
    }
    if (mgr.orphaned_at && mgr.stopping == STOP_NONE) {
        if (now - mgr.orphaned_at >= apr_time_from_sec(UNLOADED_WAIT_S)) {
            /* httpd lives on but no longer loads mod_fcgi_pm (a2dismod and
             * a reload).  Socket files are left: nobody routes to them, and
             * a later start replaces them. */
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, mgr.s,
                         "httpd reloaded without mod_fcgi_pm %d s ago: "
                         "retiring every worker", UNLOADED_WAIT_S);
            mgr.stopping = STOP_HANDOVER;
            wait_ms = 0;
        }
        else if (wait_ms < 0 || wait_ms > 1000) {
            wait_ms = 1000;
        }
    }
    if (mgr.takeover_pid > 1) {
        if (now >= mgr.takeover_by) {
            retire_predecessor();
        }
        else if (wait_ms < 0 || wait_ms > 1000) {
            wait_ms = 1000;
        }
    }
    return wait_ms;
}

/* ------------------------------------------------------- configuration */
/* COMMIT: the generation received replaces the running one. */
static void apply_generation(void)
{
    fcgi_pm_app *app, *next, *kept = NULL, *old;

    for (app = mgr.apps; app; app = app->next) {
        if (app->config_state == FCGI_PM_APP_CONFIGURED && !app->dynamic) {
            app->config_state = FCGI_PM_APP_REMOVED;
        }
    }
    fcgi_pm_scripts_commit();
    fcgi_pm_apps_refresh_classes();
    for (app = mgr.incoming; app; app = next) {
        next = app->next;
        app->config_state = FCGI_PM_APP_CONFIGURED;
        old = fcgi_pm_apps_find(app->name);
        if (old && old->config_state != FCGI_PM_APP_REPLACED) {
            fcgi_pm_apps_replace(old, app);
            old->config_state = FCGI_PM_APP_REPLACED;
        }
        else if (!fcgi_pm_apps_add(app)) {
            continue;
        }
        app->slot->processes = app->processes;
        apr_cpystrn(app->slot->addr, app->addr, sizeof(app->slot->addr));
        app->next = kept;
        kept = app;
    }
    mgr.incoming = NULL;
    /* Removed apps stay until drained; replaced ones go now. */
    for (app = mgr.apps; app; app = next) {
        next = app->next;
        if (app->config_state == FCGI_PM_APP_REPLACED) {
            fcgi_pm_pool_free(app);
            continue;
        }
        if (!app->removal_said && !(app->dynamic
                                    && app->config_state == FCGI_PM_APP_CONFIGURED)) {
            /* Once, when it leaves the configuration: an app still
             * draining at later gracefuls is not announced again. */
            app->removal_said = 1;
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, mgr.s,
                         "app %s: no longer configured; draining", app->name);
        }
        app->next = kept;
        kept = app;
    }
    mgr.apps = kept;
    fcgi_pm_apps_release_unowned();
    if (mgr.dead_pid > 1) {
        fcgi_pm_adopt_predecessor(mgr.s, mgr.apps, mgr.dead_pid, mgr.dead_start);
        mgr.dead_pid = 0;
    }
    mgr.t->config_generation = mgr.incoming_gen;
    mgr.t->reloads++;
    mgr.applied = 1;
    mgr.ready_pending = 1;
    write_pid_file();
}

static void handle_begin(const fcgi_pm_msg *msg)
{
    const char *pos = msg->payload, *end = msg->payload + msg->len, *k, *v;
    const char *socket_dir = "";
    gid_t httpd_gid = 0;
    fcgi_pm_app *app, *next;

    for (app = mgr.incoming; app; app = next) {   /* an unfinished one */
        next = app->next;
        fcgi_pm_pool_free(app);
    }
    mgr.incoming = NULL;
    if (msg->fd >= 0) {
        /* httpd's current error log becomes ours (and our workers'). */
        if (dup2(msg->fd, STDERR_FILENO) < 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, errno, mgr.s,
                         "cannot switch to httpd's current error log");
        }
        close(msg->fd);
    }
    while (fcgi_pm_proto_next(&pos, end, &k, &v)) {
        if (!strcmp(k, FCGI_PM_K_GENERATION)) {
            mgr.incoming_gen = (apr_uint32_t)atol(v);
        }
        else if (!strcmp(k, FCGI_PM_K_LOG_LEVEL)) {
            mgr.s->log.level = atoi(v);
        }
        else if (!strcmp(k, FCGI_PM_K_PID_FILE)
                 && (!mgr.pid_file || strcmp(mgr.pid_file, v) != 0)) {
            mgr.pid_file = apr_pstrdup(mgr.pool, v);
        }
        else if (!strcmp(k, FCGI_PM_K_TAKEOVER_PID)) {
            pin_predecessor((pid_t)atol(v));
        }
        else if (!strcmp(k, FCGI_PM_K_DEAD_PID)) {
            mgr.dead_pid = (pid_t)atol(v);
        }
        else if (!strcmp(k, FCGI_PM_K_DEAD_START)) {
            mgr.dead_start = strtoull(v, NULL, 10);
        }
        else if (!strcmp(k, FCGI_PM_K_MAX_TOTAL)) {
            mgr.max_total = atoi(v);
        }
        else if (!strcmp(k, FCGI_PM_K_SOCKET_DIR)) {
            socket_dir = v;
        }
        else if (!strcmp(k, FCGI_PM_K_HTTPD_GID)) {
            httpd_gid = (gid_t)atol(v);
        }
    }
    fcgi_pm_scripts_begin(socket_dir, httpd_gid);
}

/* One message from the parent, if one is there.  Returns 1 when it read
 * one (0: none, or the socket is closed), and sets *TICK when the pools
 * must be looked at now (an APP record alone changes nothing before its
 * COMMIT). */
static int read_one_message(int *tick)
{
    fcgi_pm_msg msg;
    int rc = fcgi_pm_proto_recv(mgr.ctl, mgr.msgbuf, &msg, 1);

    if (rc < 0 && errno == EAGAIN) {
        return 0;
    }
    *tick = 1;
    if (rc <= 0) {
        if (rc < 0 && errno != ECONNRESET) {
            ap_log_error(APLOG_MARK, APLOG_ERR, errno, mgr.s,
                         "bad message on the control socket; closing it");
        }
        close(mgr.ctl);
        mgr.ctl = -1;
        /* httpd's death arrives as SIGTERM; a closed socket with httpd
         * alive means a newer manager took over: wait for its SIGUSR2. */
        if (getppid() != mgr.parent) {
            mgr.stopping = STOP_EXIT;
        }
        return 0;
    }
    if (msg.proto != FCGI_PM_PROTO_VERSION) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, mgr.s,
                     "ignoring a message of protocol %u (this manager speaks %u)",
                     msg.proto, FCGI_PM_PROTO_VERSION);
        if (msg.fd >= 0) {
            close(msg.fd);
        }
        return 1;
    }
    switch (msg.type) {
    case FCGI_PM_MSG_BEGIN:
        mgr.orphaned_at = 0;
        handle_begin(&msg);
        break;
    case FCGI_PM_MSG_END:
        mgr.orphaned_at = apr_time_now();
        break;
    case FCGI_PM_MSG_CLASS:
        *tick = 0;
        fcgi_pm_scripts_class(&msg);
        if (msg.fd >= 0) {
            close(msg.fd);
        }
        break;
    case FCGI_PM_MSG_APP: {
        fcgi_pm_app *app = fcgi_pm_apps_parse_record(msg.payload, msg.len, msg.fd);
        *tick = 0;
        if (app) {
            app->next = mgr.incoming;
            mgr.incoming = app;
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
    return 1;
}

/* Every message waiting (a graceful sends one per app: the pools are not
 * looked at between two of them), a bounded number per call. */
static int read_control(void)
{
    int n, tick = 0, any_tick = 0;

    for (n = 0; n < CONTROL_BATCH && mgr.ctl >= 0; n++) {
        if (!read_one_message(&tick)) {
            break;
        }
        any_tick |= tick;
    }
    return any_tick || mgr.ctl < 0;
}

/* ---------------------------------------------------------------- main */

static void reap_children(void)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        fcgi_pm_wout_reaped(pid);     /* its last words before "exited" */
        (void)fcgi_pm_pool_reaped(mgr.apps, pid, status, mgr.stopping != STOP_NONE);
    }
}

static void handle_signals(void)
{
    unsigned char sigs[64];
    ssize_t n, i;
    fcgi_pm_app *app;

    while ((n = read(mgr.sig_r, sigs, sizeof(sigs))) > 0) {
        for (i = 0; i < n; i++) {
            switch (sigs[i]) {
            case SIGCHLD:
                reap_children();
                break;
            case SIGHUP:
                ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, mgr.s,
                             "SIGHUP: rolling restart of every app");
                for (app = mgr.apps; app; app = app->next) {
                    if (app->config_state == FCGI_PM_APP_CONFIGURED
                        && mgr.stopping == STOP_NONE) {
                        fcgi_pm_pool_roll(app, "SIGHUP");
                    }
                }
                break;
            case SIGTERM:
            case SIGINT:
                if (mgr.stopping != STOP_EXIT) {
                    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, mgr.s,
                                 "stopping: retiring every worker");
                }
                mgr.stopping = STOP_EXIT;
                break;
            case SIGUSR2:
                if (mgr.stopping == STOP_NONE) {
                    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, mgr.s,
                                 "a newer manager took over: retiring "
                                 "every worker");
                    mgr.stopping = STOP_HANDOVER;
                }
                break;
            }
        }
    }
}

/* The manager's own pool, with an allocator of its own that gives freed
 * memory back: a graceful builds every app's record anew (one pool each)
 * before it frees the old ones, and an allocator that kept them all
 * would hold a second set of records for good. */
static void create_manager_pool(void)
{
    apr_allocator_t *a = NULL;

    if (apr_allocator_create(&a) == APR_SUCCESS
        && apr_pool_create_ex(&mgr.pool, NULL, NULL, a) == APR_SUCCESS) {
        apr_allocator_max_free_set(a, MANAGER_MAX_FREE);
        apr_allocator_owner_set(a, mgr.pool);   /* freed with the pool */
        return;
    }
    if (a) {
        apr_allocator_destroy(a);
    }
    apr_pool_create(&mgr.pool, NULL);
}

static void init_manager(int ctl, fcgi_pm_table *table, server_rec *s,
                         pid_t parent)
{
    int keep[3], devnull;

    /* Own session: httpd's signals to its process group (restart, stop)
     * must not reach us or our workers. */
    pid_t sid = setsid();
    memset(&mgr, 0, sizeof(mgr));
    mgr.takeover_pidfd = -1;
    mgr.t = table;
    mgr.s = s;
    mgr.parent = parent;
    mgr.ctl = ctl;
    setup_signals();
    if (sid < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, mgr.s,
                     "manager: setsid failed; httpd's signals may reach it");
    }
    /* httpd's death (stop, crash) reaches us as SIGTERM. */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, mgr.s,
                     "manager: PR_SET_PDEATHSIG failed");
    }
    /* Orphans of our workers' trees become our children. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, errno, mgr.s,
                     "manager: PR_SET_CHILD_SUBREAPER failed: processes "
                     "left by a dead worker escape the manager");
    }
    if (getppid() != parent) {
        raise(SIGTERM);
    }
    /* Keep only the control socket, the signal pipe and stderr: above
     * all not httpd's listening sockets, which a stopped httpd must be
     * able to bind again. */
    keep[0] = ctl;
    keep[1] = mgr.sig_r;
    keep[2] = mgr.sig_w;
    fcgi_pm_sock_close_fds_except(keep, 3);
    devnull = open("/dev/null", O_RDWR);
    if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0
        || dup2(devnull, STDOUT_FILENO) < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, mgr.s,
                     "manager: cannot attach stdin/stdout to /dev/null");
    }
    if (devnull > STDERR_FILENO) {
        close(devnull);
    }
    create_manager_pool();
    mgr.msgbuf = apr_palloc(mgr.pool, FCGI_PM_MSG_MAX);
    fcgi_pm_pool_init(mgr.s);
    fcgi_pm_spawn_raise_fd_limit(mgr.s);
    fcgi_pm_wout_init(mgr.s, &mgr.apps, POLL_FIXED);
    fcgi_pm_dormant_init(mgr.s);
    fcgi_pm_scripts_init(mgr.s, mgr.pool);
    fcgi_pm_apps_init(mgr.pool, mgr.s, mgr.t, &mgr.apps);
    set_title("fcgi-pm: manager");
    mgr.t->manager_pid = getpid();
    mgr.t->manager_started = apr_time_now();
    mgr.t->manager_forks++;
}

/* The fixed head of the loop's poll set (POLL_*). */
static void poll_fixed(struct pollfd *pfd)
{
    int i;

    pfd[POLL_SIGNALS].fd = mgr.sig_r;
    pfd[POLL_CONTROL].fd = mgr.ctl;     /* -1 (ignored by poll) once closed */
    pfd[POLL_DORMANT].fd = fcgi_pm_dormant_fd();
    pfd[POLL_SPAWN].fd = fcgi_pm_scripts_fd();   /* fcgid-script's asks */
    for (i = 0; i < POLL_FIXED; i++) {
        pfd[i].events = POLLIN;
        pfd[i].revents = 0;
    }
}

void fcgi_pm_manager_main(int ctl, fcgi_pm_table *table, server_rec *s,
                          pid_t parent)
{
    init_manager(ctl, table, s, parent);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, mgr.s,
                 "manager running, pid %ld, mod_fcgi_pm/%s, protocol %u",
                 (long)getpid(), FCGI_PM_VERSION, FCGI_PM_PROTO_VERSION);
    for (;;) {
        struct pollfd *pfd;
        apr_time_t now = apr_time_now();
        int timeout, nfds;

        /* The tick runs when due, or after a signal or a message: not on
         * every line a worker writes. */
        if (mgr.tick_due == 0 || now >= mgr.tick_due) {
            timeout = tick();
            mgr.tick_due = timeout < 0 ? APR_INT64_MAX
                                     : now + apr_time_from_msec(timeout);
        }
        if (mgr.stopping && !mgr.apps) {
            break;
        }
        timeout = mgr.tick_due - now > apr_time_from_sec(3600) ? -1
                  : (int)apr_time_as_msec(mgr.tick_due - now) + 1;
        pfd = fcgi_pm_wout_pollfds();
        poll_fixed(pfd);
        nfds = fcgi_pm_wout_poll_set(POLL_FIXED);
        pfd = fcgi_pm_wout_pollfds();
        if (poll(pfd, nfds, timeout) < 0 && errno != EINTR) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, errno, mgr.s, "manager: poll");
            sleep(1);
            continue;
        }
        /* Output first: a SIGCHLD below closes the streams it reaps. */
        if (fcgi_pm_wout_poll_done(POLL_FIXED, nfds)) {
            apr_time_t report_by = apr_time_now()
                + apr_time_from_msec(FCGI_PM_WLOG_REPORT_MS);
            if (mgr.tick_due > report_by) {
                mgr.tick_due = report_by;   /* "suppressed" reports */
            }
        }
        if (pfd[POLL_SIGNALS].revents) {
            handle_signals();
            mgr.tick_due = 0;
        }
        if (pfd[POLL_CONTROL].revents && read_control()) {
            mgr.tick_due = 0;
        }
        if (pfd[POLL_DORMANT].revents && fcgi_pm_dormant_wake_queued()) {
            mgr.tick_due = 0;
        }
        if (pfd[POLL_SPAWN].revents
            && fcgi_pm_apps_serve_classes(mgr.stopping != STOP_NONE) > 0) {
            mgr.tick_due = 0;
        }
    }
    fcgi_pm_wout_close_all();
    fcgi_pm_scripts_close(mgr.stopping == STOP_EXIT);
    if (mgr.stopping == STOP_EXIT) {
        remove_pid_file();
    }
    if (mgr.t->manager_pid == getpid()) {
        mgr.t->manager_pid = 0;
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, mgr.s, "manager pid %ld exiting",
                 (long)getpid());
    _exit(0);
}
