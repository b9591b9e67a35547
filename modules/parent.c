/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The httpd parent's side of mod_fcgi_pm.
 *
 * What must outlive a configuration generation is kept in the process
 * pool as plain data (pids, descriptors, the table's address): the DSO is
 * unloaded and loaded again at every graceful, so nothing kept there may
 * point into it (no function pointers, no cleanups of ours).  What needs
 * our code (watching the manager) is registered again with each pconf.
 */
#include "fcgi_pm_parent.h"
#include "fcgi_pm_fcgid.h"
#include "fcgi_pm_config.h"
#include "fcgi_pm_manager.h"
#include "fcgi_pm_proc.h"
#include "fcgi_pm_proto.h"
#include "fcgi_pm_sock.h"

#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "apr_strings.h"
#include "apr_thread_proc.h"
#include "mod_unixd.h"
#include "unixd.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

APLOG_USE_MODULE(fcgi_pm);

/*
 * Kept in the process pool under a key that never changes.  Its first
 * four fields are the same in every version of the module: a newer
 * module loaded by a graceful reads them to find the running manager and
 * learn which protocol it speaks (and so whether it must take over).
 */
#define STATE_KEY   "fcgi_pm_parent_state"
#define STATE_MAGIC 0x46435053u  /* "FCPS" */

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t proto;          /* protocol of the running manager */
    pid_t manager_pid;           /* 0: none */
    int ctl_fd;                  /* our end of its control socket, or -1 */
    /* version-specific from here on */
    int post_configs;             /* real post_configs seen */
    apr_time_t forked_at;        /* when the current manager was forked */
    int quick_deaths;            /* managers that died soon after start */
    int refork_pending;          /* re-fork at the next monitor tick */
    unsigned long long manager_start;  /* its start time (clock ticks) */
    pid_t dead_pid;              /* a manager that died, and its start: */
    unsigned long long dead_start;     /* its successor adopts its workers */
} parent_state;

/*
 * Checked at build time (offsets and sizes as on LP64 Linux; other ABIs
 * skip the checks):
 *  - the stable prefix (magic, proto, manager_pid, ctl_fd): a failing
 *    assert there cannot be fixed by bumping anything.  Modules of other
 *    versions read these four fields at these offsets, whatever
 *    FCGI_PM_PROTO_VERSION says: put the field back as it was.
 *  - the rest: a module of the same protocol reuses the whole struct as
 *    it finds it, so a failing assert there means FCGI_PM_PROTO_VERSION
 *    (fcgi_pm.h) must be bumped.  Then update the numbers here.
 * See docs/INTERNALS.md, "Compatibility rules".
 */
#if defined(__LP64__)
#define STATE_AT(field, off, size, fix)                                     \
    _Static_assert(offsetof(parent_state, field) == (off)                  \
                   && sizeof(((parent_state *)0)->field) == (size),        \
                   "parent_state." #field " moved or changed size: " fix)
#define STABLE   "it is part of the stable prefix, put it back"
#define PROTO    "bump FCGI_PM_PROTO_VERSION"
STATE_AT(magic,          0,  4, STABLE);
STATE_AT(proto,          4,  4, STABLE);
STATE_AT(manager_pid,    8,  4, STABLE);
STATE_AT(ctl_fd,         12, 4, STABLE);
STATE_AT(post_configs,    16, 4, PROTO);
STATE_AT(forked_at,      24, 8, PROTO);
STATE_AT(quick_deaths,   32, 4, PROTO);
STATE_AT(refork_pending, 36, 4, PROTO);
STATE_AT(manager_start,  40, 8, PROTO);
STATE_AT(dead_pid,       48, 4, PROTO);
STATE_AT(dead_start,     56, 8, PROTO);
_Static_assert(sizeof(parent_state) == 64,
               "sizeof(parent_state) changed: " PROTO);
#undef STATE_AT
#undef STABLE
#undef PROTO
#endif

#define QUICK_DEATH_SECONDS 10
/* The first start waits this long for the apps' workers (their readiness
 * is judged within a few seconds, see fcgi_pm_pool.h), so that httpd
 * writes its pid file on time even when an app cannot be judged. */
#define FIRST_START_WAIT_MS 5000
#define QUICK_DEATHS_BEFORE_PAUSE 3
/* Interrupted waits for the manager's answers retried, within the wait. */
#define READ_EINTR_MAX 100

/* One configuration generation's view, in pconf. */
typedef struct {
    apr_pool_t *pconf;
    server_rec *s;
    fcgi_pm_server_conf *sc;
    parent_state *state;
    apr_proc_t manager;          /* registered as an "other child" */
    char *answer_buf;            /* for the manager's answers */
} parent_gen;

#define FD_HEADROOM 1024          /* descriptors beside the apps' sockets */

static fcgi_pm_table *table;     /* this generation's pointer to the table */
static parent_gen *current_gen;  /* this generation's context (for monitor) */

fcgi_pm_table *fcgi_pm_parent_table(void)
{
    return table;
}

static parent_state *get_state(apr_pool_t *process_pool)
{
    void *data = NULL;
    parent_state *st, *old;

    apr_pool_userdata_get(&data, STATE_KEY, process_pool);
    old = data;
    if (old && old->magic == STATE_MAGIC && old->proto == FCGI_PM_PROTO_VERSION) {
        return old;
    }
    st = apr_pcalloc(process_pool, sizeof(*st));
    st->magic = STATE_MAGIC;
    st->proto = FCGI_PM_PROTO_VERSION;
    st->ctl_fd = -1;
    if (old && old->magic == STATE_MAGIC) {
        /* Left by another version of this module: only the common prefix
         * can be read.  The manager it names will be taken over. */
        st->proto = old->proto;
        st->manager_pid = old->manager_pid;
        st->ctl_fd = old->ctl_fd;
        st->post_configs = 1;
    }
    apr_pool_userdata_set(st, STATE_KEY, apr_pool_cleanup_null, process_pool);
    return st;
}

static int manager_alive(const parent_state *st)
{
    return st->manager_pid > 0 && kill(st->manager_pid, 0) == 0;
}

/* The start time of our child PID, from /proc: with the pid, what a
 * successor checks its predecessor's workers against. */
static unsigned long long process_start_ticks(pid_t pid)
{
    fcgi_pm_proc_info info;

    return fcgi_pm_proc_info_get(pid, &info) == 0 ? info.start_ticks : 0;
}

/* Fork the manager.  The child never returns into httpd. */
static apr_status_t fork_manager(parent_gen *g)
{
    int sv[2];
    pid_t pid, parent = getpid();

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        return errno;
    }
    pid = fork();
    if (pid < 0) {
        int err = errno;
        close(sv[0]);
        close(sv[1]);
        return err;
    }
    if (pid == 0) {
        close(sv[0]);
        fcgi_pm_manager_main(sv[1], table, g->s, parent);
    }
    close(sv[1]);
    if (g->state->ctl_fd >= 0) {
        close(g->state->ctl_fd);
    }
    g->state->ctl_fd = sv[0];
    g->state->manager_pid = pid;
    g->state->manager_start = process_start_ticks(pid);
    g->state->forked_at = apr_time_now();
    g->state->refork_pending = 0;
    g->state->proto = FCGI_PM_PROTO_VERSION;
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, g->s,
                 "manager started, pid %ld, protocol %u", (long)pid,
                 FCGI_PM_PROTO_VERSION);
    return APR_SUCCESS;
}

static apr_status_t send_app(parent_gen *g, apr_pool_t *p, fcgi_pm_app_conf *app)
{
    fcgi_pm_app_spec spec;
    dev_t dev = 0;
    ino_t ino = 0;

    fcgi_pm_config_app_spec(p, app, &spec);
    if (app->socket_path
        && fcgi_pm_sock_identity(app->socket_path, &dev, &ino) == 0) {
        spec.sock_dev = (long)dev;
        spec.sock_ino = (long)ino;
    }
    return fcgi_pm_proto_send(g->state->ctl_fd, FCGI_PM_MSG_APP,
                              fcgi_pm_proto_app_encode(p, &spec),
                              app->listen_fd, 5000);
}

/* Hand this generation's apps to the manager (BEGIN, APP..., COMMIT). */
static apr_status_t send_generation(parent_gen *g, pid_t takeover)
{
    apr_pool_t *p;
    fcgi_pm_payload *rec;
    apr_status_t rv;
    int i;

    apr_pool_create(&p, g->pconf);
    rec = fcgi_pm_proto_record(p);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_GENERATION, ap_state_query(AP_SQ_CONFIG_GEN));
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_LOG_LEVEL, g->s->log.level);
    fcgi_pm_proto_put(rec, FCGI_PM_K_PID_FILE, fcgi_pm_config_pid_file(p, g->sc));
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_MAX_TOTAL, g->sc->max_processes_total);
    fcgi_pm_proto_put(rec, FCGI_PM_K_SOCKET_DIR,
                      fcgi_pm_config_socket_dir(p, g->sc));
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_HTTPD_GID,
                          (long)ap_unixd_config.group_id);
    if (takeover > 0) {
        fcgi_pm_proto_put_int(rec, FCGI_PM_K_TAKEOVER_PID, (long)takeover);
    }
    if (g->state->dead_pid > 1) {
        /* From our own memory, never from the shared table. */
        fcgi_pm_proto_put_int(rec, FCGI_PM_K_DEAD_PID, (long)g->state->dead_pid);
        fcgi_pm_proto_put(rec, FCGI_PM_K_DEAD_START,
                          apr_psprintf(p, "%llu", g->state->dead_start));
        g->state->dead_pid = 0;
    }
    /* Our stderr is the current error log: after a log rotation and a
     * graceful the manager and the workers write to the new file. */
    rv = fcgi_pm_proto_send(g->state->ctl_fd, FCGI_PM_MSG_BEGIN, rec,
                            STDERR_FILENO, 5000);
    for (i = 0; rv == APR_SUCCESS && i < g->sc->apps->nelts; i++) {
        fcgi_pm_app_conf *app = APR_ARRAY_IDX(g->sc->apps, i, fcgi_pm_app_conf *);
        if (app->listen_fd >= 0) {
            rv = send_app(g, p, app);
        }
    }
    if (rv == APR_SUCCESS) {
        /* mod_fcgid's process classes: one template per server. */
        apr_array_header_t *classes = apr_array_make(p, 4, sizeof(fcgi_pm_payload *));
        fcgi_pm_fcgid_class_records(p, g->s, classes);
        for (i = 0; rv == APR_SUCCESS && i < classes->nelts; i++) {
            rv = fcgi_pm_proto_send(g->state->ctl_fd, FCGI_PM_MSG_CLASS,
                                    APR_ARRAY_IDX(classes, i, fcgi_pm_payload *),
                                    -1, 5000);
        }
    }
    if (rv == APR_SUCCESS) {
        rv = fcgi_pm_proto_send(g->state->ctl_fd, FCGI_PM_MSG_COMMIT, NULL, -1,
                                5000);
    }
    apr_pool_destroy(p);
    return rv;
}

/* Now, on a clock that a change of the system time cannot move. */
static apr_time_t monotonic_now(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return apr_time_now();
    }
    return apr_time_from_sec(ts.tv_sec) + ts.tv_nsec / 1000;
}

/* Read the manager's answers; with WAIT_MS > 0 wait for READY that long.
 * Every way out is bounded: the wait is measured on the monotonic clock
 * and never longer than WAIT_MS, EINTR is retried a bounded number of
 * times, and any other failure (poll() or recvmsg() error, a socket in
 * error, hung up or closed) ends it with one log line. */
static void read_answers(parent_gen *g, int wait_ms)
{
    apr_time_t until = monotonic_now() + apr_time_from_msec(wait_ms);
    fcgi_pm_msg msg;
    int rc, interrupted = 0;

    if (g->state->ctl_fd < 0) {
        return;
    }
    if (!g->answer_buf) {
        g->answer_buf = apr_palloc(g->pconf, FCGI_PM_MSG_MAX);
    }
    for (;;) {
        struct pollfd pfd = { g->state->ctl_fd, POLLIN, 0 };
        int left = 0;

        if (wait_ms > 0) {
            apr_time_t rest = until - monotonic_now();
            if (rest <= 0) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, g->s,
                             "apps not ready after %d s; serving anyway",
                             wait_ms / 1000);
                return;
            }
            /* Rounded up, so that less than 1 ms left is not a spin. */
            left = rest >= apr_time_from_msec(wait_ms)
                   ? wait_ms : (int)((rest + 999) / 1000);
        }
        rc = poll(&pfd, 1, left);
        if (rc < 0 && errno == EINTR && ++interrupted <= READ_EINTR_MAX) {
            continue;
        }
        if (rc < 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, errno, g->s,
                         "cannot wait for the manager's answers");
            return;
        }
        if (rc == 0) {
            if (wait_ms > 0) {
                continue;        /* the deadline is checked above */
            }
            return;              /* nothing more to read now */
        }
        if (!(pfd.revents & POLLIN)) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, g->s,
                         "the manager's control socket is %s",
                         (pfd.revents & POLLNVAL) ? "not open"
                         : (pfd.revents & POLLHUP) ? "closed" : "in error");
            return;
        }
        rc = fcgi_pm_proto_recv(g->state->ctl_fd, g->answer_buf, &msg, 1);
        if (rc < 0 && errno == EAGAIN && wait_ms > 0) {
            continue;            /* poll() blocks again */
        }
        if (rc <= 0) {
            if (rc < 0 && errno != EAGAIN) {
                ap_log_error(APLOG_MARK, APLOG_ERR, errno, g->s,
                             "cannot read the manager's answer");
            }
            else if (rc == 0) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, g->s,
                             "the manager closed its control socket");
            }
            return;
        }
        if (msg.fd >= 0) {
            close(msg.fd);
        }
        if (msg.type == FCGI_PM_MSG_READY && wait_ms > 0) {
            return;
        }
    }
}

static void watch_manager(parent_gen *g);

/* Start a manager (or a successor taking over from TAKEOVER) and give it
 * the apps.  WAIT_MS > 0: wait for the apps to be ready. */
static void start_manager(parent_gen *g, pid_t takeover, int wait_ms)
{
    apr_status_t rv = fork_manager(g);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, g->s, "cannot fork the manager");
        return;
    }
    watch_manager(g);
    rv = send_generation(g, takeover);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, g->s,
                     "cannot hand the apps to the new manager (pid %ld)",
                     (long)g->state->manager_pid);
        return;
    }
    read_answers(g, wait_ms);
}

/*
 * Called by the MPM (apr_proc_other_child_*) about the manager.  Only
 * its death matters: the manager is never stopped from here, since a
 * graceful unregisters it too (APR_OC_REASON_UNREGISTER / RESTART) and it
 * must live on.  httpd's own exit reaches it as SIGTERM (PR_SET_PDEATHSIG).
 */
static void manager_event(int reason, void *data, apr_wait_t status)
{
    parent_gen *g = data;

    if (reason != APR_OC_REASON_DEATH && reason != APR_OC_REASON_LOST) {
        return;
    }
    apr_proc_other_child_unregister(g);
    if (g->manager.pid != g->state->manager_pid) {
        return;                  /* a predecessor that handed over */
    }
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, g->s,
                 "manager pid %ld died (wait status %d); starting a new one "
                 "that takes over the running apps",
                 (long)g->manager.pid, (int)status);
    g->state->dead_pid = g->manager.pid;
    g->state->dead_start = g->state->manager_start;
    g->state->manager_pid = 0;
    if (apr_time_now() - g->state->forked_at
        < apr_time_from_sec(QUICK_DEATH_SECONDS)) {
        g->state->quick_deaths++;
    }
    else {
        g->state->quick_deaths = 0;
    }
    if (g->state->quick_deaths >= QUICK_DEATHS_BEFORE_PAUSE) {
        /* Do not fork in a tight loop: the monitor hook tries again. */
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, g->s,
                     "the manager died %d times within %d s of its start; "
                     "next attempt in a few seconds", g->state->quick_deaths,
                     QUICK_DEATH_SECONDS);
        g->state->refork_pending = 1;
        return;
    }
    start_manager(g, 0, 0);
}

int fcgi_pm_parent_monitor(apr_pool_t *p, server_rec *s)
{
    parent_gen *g = current_gen;

    if (g && g->state->refork_pending && !manager_alive(g->state)) {
        start_manager(g, 0, 0);
    }
    return DECLINED;
}

/* pconf cleanup: runs at every graceful and at stop, before this DSO is
 * unloaded (it was loaded, and its unload registered, before pconf got
 * this cleanup).  Tells the manager that a generation ended. */
static apr_status_t generation_end(void *data)
{
    parent_gen *g = data;

    if (g->state->ctl_fd >= 0
        && g->state->manager_pid == g->manager.pid) {
        (void)fcgi_pm_proto_send(g->state->ctl_fd, FCGI_PM_MSG_END, NULL, -1, 0);
    }
    return APR_SUCCESS;
}

static void watch_manager(parent_gen *g)
{
    if (!g->manager.pid) {
        apr_pool_cleanup_register(g->pconf, g, generation_end,
                                  apr_pool_cleanup_null);
    }
    g->manager.pid = g->state->manager_pid;
    g->manager.in = g->manager.out = g->manager.err = NULL;
    apr_proc_other_child_register(&g->manager, manager_event, g, NULL, g->pconf);
}

/* Open (or keep) every app's listen socket.  The socket directory is
 * checked (and made root:Group 0710) before any socket is bound in it. */
/* The parent holds one listen socket per app, and the manager receives
 * them all: with thousands of apps the usual limit of 1024 descriptors
 * would not do.  Raised (never lowered) to what the apps need plus room
 * for httpd's own; the manager inherits it. */
static void make_room_for_sockets(parent_gen *g)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)g->sc->apps->nelts + FD_HEADROOM, got;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) {
        return;
    }
    got = fcgi_pm_sock_raise_fd_limit(want);
    ap_log_error(APLOG_MARK, got < want ? APLOG_WARNING : APLOG_INFO, 0, g->s,
                 "%d apps: open files limit %lu (wanted %lu)",
                 g->sc->apps->nelts, (unsigned long)got, (unsigned long)want);
}

static void acquire_sockets(parent_gen *g, apr_pool_t *process_pool)
{
    uid_t uid = ap_unixd_config.user_id;
    gid_t gid = ap_unixd_config.group_id;
    const char *dir = fcgi_pm_config_socket_dir(g->pconf, g->sc);
    const char *dir_err = NULL;
    int i;

    make_room_for_sockets(g);
    /* Also without apps: mod_fcgid's classes are made there on demand. */
    dir_err = fcgi_pm_sock_prepare_dir(g->pconf, dir, uid, gid);
    if (dir_err && g->sc->apps->nelts == 0) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, g->s, "socket directory: "
                     "%s (fcgid-script requests will get 503)", dir_err);
    }
    for (i = 0; i < g->sc->apps->nelts; i++) {
        fcgi_pm_app_conf *app = APR_ARRAY_IDX(g->sc->apps, i, fcgi_pm_app_conf *);
        const char *err = NULL;

        if (app->socket_path && dir_err) {
            err = dir_err;
        }
        else {
            app->listen_fd = fcgi_pm_sock_acquire(process_pool, g->pconf, app,
                                                  gid, g->state->post_configs,
                                                  &err);
        }
        if (app->listen_fd < 0) {
            /* httpd keeps running; requests for this app get a 503, and
             * are never handed to whatever holds its address. */
            app->proxy_handler = NULL;
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, g->s,
                         "app %s: no listen socket, the app is not started: %s",
                         app->name, err);
        }
    }
}

int fcgi_pm_parent_post_config(apr_pool_t *pconf, server_rec *s,
                               fcgi_pm_server_conf *sc)
{
    apr_pool_t *process_pool = s->process->pool;
    parent_gen *g;
    int first;
    apr_status_t rv;

    /* httpd reads its configuration twice at start-up; the first pass
     * only checks it and must not leave a manager behind. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    rv = fcgi_pm_table_attach(process_pool, &table);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "cannot create the shared-memory table");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    g = apr_pcalloc(pconf, sizeof(*g));
    g->pconf = pconf;
    g->s = s;
    g->sc = sc;
    g->state = get_state(process_pool);
    first = g->state->post_configs++ == 0;
    current_gen = g;

    if (!sc->apps->nelts && !fcgi_pm_fcgid_in_use()
        && !manager_alive(g->state)) {
        return OK;               /* loaded without apps: nothing to run */
    }
    acquire_sockets(g, process_pool);

    if (manager_alive(g->state) && g->state->proto == FCGI_PM_PROTO_VERSION) {
        watch_manager(g);
        read_answers(g, 0);
        rv = send_generation(g, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                         "cannot hand the new configuration to the manager "
                         "(pid %ld)", (long)g->state->manager_pid);
        }
    }
    else if (manager_alive(g->state)) {
        /* A module of another version forked the running manager (the
         * module file was upgraded): a new manager takes the sockets over
         * and retires the old one once its own workers accept. */
        pid_t old = g->state->manager_pid;
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "manager pid %ld speaks protocol %u, this module %u: "
                     "starting a new manager to take over", (long)old,
                     g->state->proto, FCGI_PM_PROTO_VERSION);
        start_manager(g, old, 0); /* closing the old control socket does
                                   * not stop it: SIGUSR2 from its
                                   * successor will */
    }
    else {
        start_manager(g, 0, first ? FIRST_START_WAIT_MS : 0);
    }
    fcgi_pm_sock_release_unused(process_pool, g->state->post_configs);
    return OK;
}

void fcgi_pm_parent_child_init(apr_pool_t *p, server_rec *s)
{
    void *data = NULL;
    parent_state *st;

    /* httpd's children only route requests: they do not need the
     * manager's control socket (holding it would also keep it open). */
    apr_pool_userdata_get(&data, STATE_KEY, s->process->pool);
    st = data;
    if (st && st->ctl_fd >= 0) {
        close(st->ctl_fd);
        st->ctl_fd = -1;
    }
    fcgi_pm_sock_close_all(s->process->pool);
}
