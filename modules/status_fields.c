/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The figures of the status page, defined once (see
 * fcgi_pm_status_fields.h).  docs/STATUS.md explains each one; a field
 * added here must be added there too (t/10-status.t checks it).
 *
 * Words used in one sense only:
 *   ready       a worker accepts connections on the app's socket (it was
 *               seen waiting on it or serving from it): idle, busy, or
 *               "unknown" when the page cannot tell which of the two;
 *   roll        an app's rolling-restart number (one more each time its
 *               workers are replaced as a whole); a worker's roll is the
 *               one it was started for;
 *   config generation   httpd's configuration generation the manager
 *               applied last (1 after the start, +1 per graceful).
 * The former "generation" names stay as aliases (field.old).
 */
#include "fcgi_pm_status_fields.h"
#include "fcgi_pm_status_render.h"
#include "fcgi_pm_spawn.h"

#include <sys/wait.h>

const char *const fcgi_pm_status_act_names[ACT_COUNT] = {
    "starting", "idle", "busy", "unknown", "retiring"
};

/* As fcgi_pm_table_app_state_name() names them, NULL-terminated. */
static const char *const app_states[] = {
    "starting", "running", "backing-off", "draining", NULL
};

/*--------------------------------------------------------------------------
 * Reading a figure
 *------------------------------------------------------------------------*/

static void set_num(status_value *v, double x)
{
    v->known = 1;
    v->num = x;
}

static void set_text(status_value *v, const char *t)
{
    v->known = t != NULL;
    v->text = t;
}

/* A moment: unknown while unset. */
static void set_time(status_value *v, apr_time_t t)
{
    v->known = t != 0;
    v->num = fcgi_pm_status_seconds(t);
}

#define NUM_GETTER(fn, expr)                                                \
    static void fn(const status_where *at, status_value *v)                \
    {                                                                       \
        set_num(v, (double)(expr));                                         \
    }
#define TIME_GETTER(fn, expr)                                               \
    static void fn(const status_where *at, status_value *v)                \
    {                                                                       \
        set_time(v, (expr));                                                \
    }

/* The process manager */
static void srv_version(const status_where *at, status_value *v)
{
    set_text(v, FCGI_PM_VERSION);
}
NUM_GETTER(srv_protocol, FCGI_PM_PROTO_VERSION)
TIME_GETTER(srv_time, at->s->now)
NUM_GETTER(srv_manager_pid, at->s->manager_pid)
NUM_GETTER(srv_manager_up, at->s->manager_up != 0)
TIME_GETTER(srv_manager_started, at->s->manager_started)
NUM_GETTER(srv_manager_uptime, fcgi_pm_status_age(at->s, at->s->manager_started))
NUM_GETTER(srv_config_generation, at->s->config_generation)
NUM_GETTER(srv_gracefuls, at->s->gracefuls)
NUM_GETTER(srv_reloads, at->s->reloads)
NUM_GETTER(srv_manager_forks, at->s->manager_forks)
NUM_GETTER(srv_apps, at->s->napps)
NUM_GETTER(srv_workers, at->s->workers)
NUM_GETTER(srv_busy, at->s->count[ACT_BUSY])
NUM_GETTER(srv_idle, at->s->count[ACT_IDLE])
NUM_GETTER(srv_starting, at->s->count[ACT_STARTING])
NUM_GETTER(srv_retiring, at->s->count[ACT_RETIRING])
NUM_GETTER(srv_unknown, at->s->count[ACT_UNKNOWN])
NUM_GETTER(srv_requests, at->s->requests)
NUM_GETTER(srv_in_flight, at->s->in_flight)

/* An app */
static void app_name(const status_where *at, status_value *v)
{
    set_text(v, at->a->name);
}
static void app_socket(const status_where *at, status_value *v)
{
    set_text(v, at->a->addr);
}
static void app_state(const status_where *at, status_value *v)
{
    set_text(v, fcgi_pm_table_app_state_name(at->a->state));
}
NUM_GETTER(app_roll, at->a->roll)
TIME_GETTER(app_created, at->a->created)
NUM_GETTER(app_configured, at->a->processes)
NUM_GETTER(app_running, at->a->alive)
NUM_GETTER(app_ready, at->a->ready)
NUM_GETTER(app_busy, at->a->count[ACT_BUSY])
NUM_GETTER(app_idle, at->a->count[ACT_IDLE])
NUM_GETTER(app_starting, at->a->count[ACT_STARTING])
NUM_GETTER(app_retiring, at->a->count[ACT_RETIRING])
NUM_GETTER(app_unknown, at->a->count[ACT_UNKNOWN])
NUM_GETTER(app_requests, at->a->requests)
NUM_GETTER(app_in_flight, at->a->in_flight)
NUM_GETTER(app_restarts, at->a->restarts)
NUM_GETTER(app_crashes, at->a->crashes)
NUM_GETTER(app_failed_starts, at->a->failed_starts)
NUM_GETTER(app_backoff_seconds, at->a->backoff_seconds)

static void app_listen_queue(const status_where *at, status_value *v)
{
    v->known = at->a->queue >= 0;
    v->num = (double)at->a->queue;
}

static void app_listen_backlog(const status_where *at, status_value *v)
{
    v->known = at->a->queue >= 0 && at->a->backlog >= 0;
    v->num = (double)at->a->backlog;
}

static void app_backoff_left(const status_where *at, status_value *v)
{
    apr_time_t until = at->a->backoff_until, now = at->s->now;

    set_num(v, until > now ? (double)apr_time_sec(until - now
                                                  + APR_USEC_PER_SEC - 1)
                           : 0);
}

/* The last exit: every part unknown until a worker exited. */
static void app_last_exit(const status_where *at, status_value *v)
{
    set_text(v, at->a->last_exit_time
                ? fcgi_pm_spawn_describe_exit(at->p, at->a->last_exit_status)
                : NULL);
}
TIME_GETTER(app_last_exit_time, at->a->last_exit_time)

static void app_last_exit_code(const status_where *at, status_value *v)
{
    int st = at->a->last_exit_status;

    v->known = at->a->last_exit_time && WIFEXITED(st);
    v->num = v->known ? WEXITSTATUS(st) : 0;
}

static void app_last_exit_signal(const status_where *at, status_value *v)
{
    int st = at->a->last_exit_status;

    v->known = at->a->last_exit_time && WIFSIGNALED(st);
    v->num = v->known ? WTERMSIG(st) : 0;
}

static void app_last_exit_core(const status_where *at, status_value *v)
{
    int st = at->a->last_exit_status;

    v->known = at->a->last_exit_time != 0;
    v->num = WIFSIGNALED(st) && WCOREDUMP(st);
}

/* A worker */
NUM_GETTER(wrk_pid, at->w->pid)
static void wrk_state(const status_where *at, status_value *v)
{
    set_text(v, fcgi_pm_status_act_names[at->w->act]);
}
NUM_GETTER(wrk_adopted, at->w->adopted != 0)
NUM_GETTER(wrk_roll, at->w->roll)
TIME_GETTER(wrk_started, at->w->started)
TIME_GETTER(wrk_ready_at, at->w->ready_at)
NUM_GETTER(wrk_age, fcgi_pm_status_age(at->s, at->w->started))

static void wrk_rss(const status_where *at, status_value *v)
{
    v->known = at->w->rss_bytes >= 0;
    v->num = (double)at->w->rss_bytes;
}

static void wrk_cpu(const status_where *at, status_value *v)
{
    v->known = at->w->cpu_seconds >= 0;
    v->num = at->w->cpu_seconds;
}

/*--------------------------------------------------------------------------
 * The table
 *
 * Order is the order of every format.  Fields of one JSON group, and of
 * one Prometheus family (same name.prom), are next to each other.
 *------------------------------------------------------------------------*/

#define NAMES(json, autokey, prom, html) { json, autokey, prom, html }
#define NO_OLD { NULL, NULL, NULL, NULL }

const status_field fcgi_pm_status_fields[] = {
    /* scope SF_SERVER -------------------------------------------------- */
    { NAMES("version", "Version", "fcgi_pm_build_info", "Version"), NO_OLD,
      SF_SERVER, SF_TEXT, "", 0, NULL, "version", NULL, 0, NULL,
      "Release of the module that serves this page.", srv_version,
      "Release (label version) and manager protocol (label protocol) of "
      "the module that serves this page: always 1." },
    { NAMES("protocol", "Protocol", "fcgi_pm_build_info", "Manager protocol"),
      NO_OLD, SF_SERVER, SF_GAUGE, "", 0, NULL, "protocol", NULL, 0, NULL,
      "Parent-manager protocol of the module that serves this page.",
      srv_protocol, NULL },
    { NAMES("time", "Time", NULL, "Current time"), NO_OLD,
      SF_SERVER, SF_TIME, "seconds", 3, NULL, NULL, NULL, 0, NULL,
      "When the page was made.", srv_time, NULL },
    { NAMES("pid", "ManagerPid", "fcgi_pm_manager_pid", "Manager pid"), NO_OLD,
      SF_SERVER, SF_GAUGE, "", 0, "manager", NULL, NULL, 0, NULL,
      "Process id of the manager (0: none).", srv_manager_pid, NULL },
    { NAMES("up", "ManagerUp", "fcgi_pm_manager_up", "Manager running"), NO_OLD,
      SF_SERVER, SF_FLAG, "", 0, "manager", NULL, NULL, 0, NULL,
      "1 when the process manager is running.", srv_manager_up, NULL },
    { NAMES("started", "ManagerStartTime", "fcgi_pm_manager_start_time_seconds",
            "Manager started"), NO_OLD,
      SF_SERVER, SF_TIME, "seconds", 3, "manager", NULL, NULL, 0, NULL,
      "Start time of the manager since the epoch.", srv_manager_started, NULL },
    { NAMES("uptime_seconds", "ManagerUptime", "fcgi_pm_manager_uptime_seconds",
            "Manager up"), NO_OLD,
      SF_SERVER, SF_GAUGE, "seconds", 0, "manager", NULL, NULL, 0, NULL,
      "Seconds since the manager started.", srv_manager_uptime, NULL },
    { NAMES("config_generation", "ConfigGeneration", "fcgi_pm_config_generation",
            "Config generation"),
      NAMES("generation", "Generation", "fcgi_pm_generation", NULL),
      SF_SERVER, SF_GAUGE, "", 0, "manager", NULL, NULL, 0, NULL,
      "httpd configuration generation applied by the manager (1 at start, "
      "one more at each graceful or restart).", srv_config_generation, NULL },
    { NAMES("gracefuls", "Gracefuls", "fcgi_pm_gracefuls_total", "Gracefuls"),
      NO_OLD, SF_SERVER, SF_COUNTER, "", 0, "manager", NULL, NULL, 0, NULL,
      "Gracefuls and restarts of httpd the process manager survived.",
      srv_gracefuls, NULL },
    { NAMES("reloads", "Reloads", "fcgi_pm_reloads_total", "Configurations received"),
      NO_OLD, SF_SERVER, SF_COUNTER, "", 0, "manager", NULL, NULL, 0, NULL,
      "Configuration generations handed to managers.", srv_reloads, NULL },
    { NAMES("forks", "ManagerForks", "fcgi_pm_manager_forks_total",
            "Managers forked"), NO_OLD,
      SF_SERVER, SF_COUNTER, "", 0, "manager", NULL, NULL, 0, NULL,
      "Managers started by this httpd (more than 1: one died).",
      srv_manager_forks, NULL },
    { NAMES("apps", "Apps", "fcgi_pm_apps", "Apps"), NO_OLD,
      SF_SERVER, SF_GAUGE, "", 0, "totals", NULL, NULL, 0, NULL,
      "Apps in the table (configured, starting or draining).", srv_apps, NULL },
    { NAMES("workers", "Workers", "fcgi_pm_workers_running", "Workers"), NO_OLD,
      SF_SERVER, SF_GAUGE, "", 0, "totals", NULL, NULL, 0, NULL,
      "Worker processes of all apps, in any state.", srv_workers, NULL },
    { NAMES("busy", "BusyWorkers", "fcgi_pm_workers", "Busy"), NO_OLD,
      SF_SERVER, SF_GAUGE, "", 0, "totals", NULL, "state=\"busy\"", 0, NULL,
      "Workers of all apps serving a request.", srv_busy,
      "Workers of all apps by state (starting, idle, busy, unknown, "
      "retiring)." },
    { NAMES("idle", "IdleWorkers", "fcgi_pm_workers", "Idle"), NO_OLD,
      SF_SERVER, SF_GAUGE, "", 0, "totals", NULL, "state=\"idle\"", 0, NULL,
      "Workers of all apps waiting for a request.", srv_idle, NULL },
    { NAMES("starting", "StartingWorkers", "fcgi_pm_workers", "Starting"), NO_OLD,
      SF_SERVER, SF_GAUGE, "", 0, "totals", NULL, "state=\"starting\"", 0, NULL,
      "Workers of all apps started but not ready yet.", srv_starting, NULL },
    { NAMES("retiring", "RetiringWorkers", "fcgi_pm_workers", "Retiring"), NO_OLD,
      SF_SERVER, SF_GAUGE, "", 0, "totals", NULL, "state=\"retiring\"", 0, NULL,
      "Workers of all apps told to finish and exit.", srv_retiring, NULL },
    { NAMES("unknown", "UnknownWorkers", "fcgi_pm_workers", "Ready, unknown"),
      NO_OLD, SF_SERVER, SF_GAUGE, "", 0, "totals", NULL, "state=\"unknown\"",
      0, NULL, "Ready workers of all apps not known to be idle or busy.",
      srv_unknown, NULL },
    { NAMES("requests", "Requests", "fcgi_pm_requests_total", "Requests"), NO_OLD,
      SF_SERVER, SF_COUNTER, "", 0, "totals", NULL, NULL, 0, NULL,
      "Requests all apps finished serving.", srv_requests, NULL },
    { NAMES("in_flight", "InFlight", "fcgi_pm_requests_in_flight", "In flight"),
      NO_OLD, SF_SERVER, SF_GAUGE, "", 0, "totals", NULL, NULL, 0, NULL,
      "Requests being served or waiting in the apps' queues.",
      srv_in_flight, NULL },

    /* scope SF_APP ----------------------------------------------------- */
    { NAMES("name", NULL, NULL, "App"), NO_OLD,
      SF_APP, SF_KEY, "", 0, NULL, "app", NULL, 1, NULL,
      "Name of the app (<FcgiPmApp NAME>).", app_name, NULL },
    { NAMES("socket", "Socket", "fcgi_pm_app_socket_info", "Socket"), NO_OLD,
      SF_APP, SF_TEXT, "", 0, NULL, "socket", NULL, 0, NULL,
      "Listen socket of the app (unix:PATH or tcp:IP:PORT): always 1.",
      app_socket, NULL },
    { NAMES("state", "State", "fcgi_pm_app_state", "State"), NO_OLD,
      SF_APP, SF_STATE, "", 0, NULL, NULL, NULL, 1, app_states,
      "State of the app: 1 for the current one.", app_state, NULL },
    { NAMES("roll", "Roll", "fcgi_pm_app_roll", "Roll"),
      NAMES("generation", "Generation", "fcgi_pm_app_generation", NULL),
      SF_APP, SF_GAUGE, "", 0, NULL, NULL, NULL, 1, NULL,
      "Rolling restarts of the app (one more each time its workers are "
      "replaced as a whole).", app_roll, NULL },
    { NAMES("created", "Created", "fcgi_pm_app_created_time_seconds",
            "Created"), NO_OLD,
      SF_APP, SF_TIME, "seconds", 3, NULL, NULL, NULL, 0, NULL,
      "When the app's slot in the table was claimed, since the epoch.",
      app_created, NULL },
    { NAMES("configured", "Configured", "fcgi_pm_app_workers_configured",
            "Configured"), NO_OLD,
      SF_APP, SF_GAUGE, "", 0, NULL, NULL, NULL, 0, NULL,
      "Workers the app is configured to keep running (Processes).",
      app_configured, NULL },
    { NAMES("running", "Running", "fcgi_pm_app_workers_running", "Running"),
      NO_OLD, SF_APP, SF_GAUGE, "", 0, NULL, NULL, NULL, 0, NULL,
      "Worker processes alive, in any state.", app_running, NULL },
    { NAMES("ready", "Ready", "fcgi_pm_app_workers_ready", "Ready"), NO_OLD,
      SF_APP, SF_GAUGE, "", 0, NULL, NULL, NULL, 1, NULL,
      "Workers accepting connections (idle, busy or unknown).",
      app_ready, NULL },
    { NAMES("busy", "Busy", "fcgi_pm_app_workers", "Busy"), NO_OLD,
      SF_APP, SF_GAUGE, "", 0, NULL, NULL, "state=\"busy\"", 1, NULL,
      "Workers serving a request.", app_busy,
      "Workers by state (starting, idle, busy, unknown: ready but not known "
      "to be idle or busy, retiring)." },
    { NAMES("idle", "Idle", "fcgi_pm_app_workers", "Idle"), NO_OLD,
      SF_APP, SF_GAUGE, "", 0, NULL, NULL, "state=\"idle\"", 1, NULL,
      "Workers waiting for a request.", app_idle, NULL },
    { NAMES("starting", "Starting", "fcgi_pm_app_workers", "Starting"), NO_OLD,
      SF_APP, SF_GAUGE, "", 0, NULL, NULL, "state=\"starting\"", 0, NULL,
      "Workers started but not ready yet.", app_starting, NULL },
    { NAMES("retiring", "Retiring", "fcgi_pm_app_workers", "Retiring"), NO_OLD,
      SF_APP, SF_GAUGE, "", 0, NULL, NULL, "state=\"retiring\"", 0, NULL,
      "Workers told to finish and exit.", app_retiring, NULL },
    { NAMES("unknown", "Unknown", "fcgi_pm_app_workers", "Ready, unknown"),
      NO_OLD, SF_APP, SF_GAUGE, "", 0, NULL, NULL, "state=\"unknown\"", 0, NULL,
      "Ready workers not known to be idle or busy.", app_unknown, NULL },
    { NAMES("requests", "Requests", "fcgi_pm_app_requests_total", "Requests"),
      NO_OLD, SF_APP, SF_COUNTER, "", 0, NULL, NULL, NULL, 1, NULL,
      "Requests the app has finished serving.", app_requests, NULL },
    { NAMES("in_flight", "InFlight", "fcgi_pm_app_requests_in_flight",
            "In flight"), NO_OLD,
      SF_APP, SF_GAUGE, "", 0, NULL, NULL, NULL, 1, NULL,
      "Requests being served or waiting in the app's queue.",
      app_in_flight, NULL },
    { NAMES("listen_queue", "ListenQueue", "fcgi_pm_app_listen_queue",
            "Listen queue"), NO_OLD,
      SF_APP, SF_GAUGE, "connections", 0, NULL, NULL, NULL, 0, NULL,
      "Connections waiting in the app's listen queue.", app_listen_queue, NULL },
    { NAMES("listen_backlog", "ListenBacklog", "fcgi_pm_app_listen_backlog",
            "Listen backlog"), NO_OLD,
      SF_APP, SF_GAUGE, "connections", 0, NULL, NULL, NULL, 0, NULL,
      "Size of the app's listen queue.", app_listen_backlog, NULL },
    { NAMES("restarts", "Restarts", "fcgi_pm_app_restarts_total", "Restarts"),
      NO_OLD, SF_APP, SF_COUNTER, "", 0, NULL, NULL, NULL, 0, NULL,
      "Workers started to replace one that exited.", app_restarts, NULL },
    { NAMES("crashes", "Crashes", "fcgi_pm_app_crashes_total", "Crashes"),
      NO_OLD, SF_APP, SF_COUNTER, "", 0, NULL, NULL, NULL, 1, NULL,
      "Workers that exited on a signal or with a non-zero status.",
      app_crashes, NULL },
    { NAMES("failed_starts", "FailedStarts", "fcgi_pm_app_failed_starts",
            "Failed starts"), NO_OLD,
      SF_APP, SF_GAUGE, "", 0, NULL, NULL, NULL, 0, NULL,
      "Consecutive workers that exited before accepting.",
      app_failed_starts, NULL },
    { NAMES("backoff_seconds", "BackoffSeconds", "fcgi_pm_app_backoff_seconds",
            "Backoff"), NO_OLD,
      SF_APP, SF_GAUGE, "seconds", 0, NULL, NULL, NULL, 0, NULL,
      "Current start-up backoff period, 0 when not backing off.",
      app_backoff_seconds, NULL },
    { NAMES("backoff_left_seconds", "BackoffLeftSeconds",
            "fcgi_pm_app_backoff_left_seconds", "Backoff left"), NO_OLD,
      SF_APP, SF_GAUGE, "seconds", 0, NULL, NULL, NULL, 0, NULL,
      "Seconds until the next start after a backoff, 0 when none is due.",
      app_backoff_left, NULL },
    { NAMES("description", "LastExit", "fcgi_pm_app_last_exit_info",
            "Last exit"), NO_OLD,
      SF_APP, SF_TEXT, "", 0, "last_exit", "description", NULL, 0, NULL,
      "How the last worker that exited ended (label description): always 1.",
      app_last_exit, NULL },
    { NAMES("time", "LastExitTime", "fcgi_pm_app_last_exit_time_seconds",
            "Last exit time"), NO_OLD,
      SF_APP, SF_TIME, "seconds", 3, "last_exit", NULL, NULL, 0, NULL,
      "When a worker of the app last exited, since the epoch.",
      app_last_exit_time, NULL },
    { NAMES("code", "LastExitCode", "fcgi_pm_app_last_exit_code",
            "Exit code"), NO_OLD,
      SF_APP, SF_GAUGE, "", 0, "last_exit", NULL, NULL, 0, NULL,
      "Exit status of the last worker that exited; none when a signal "
      "killed it.", app_last_exit_code, NULL },
    { NAMES("signal", "LastExitSignal", "fcgi_pm_app_last_exit_signal",
            "Exit signal"), NO_OLD,
      SF_APP, SF_GAUGE, "", 0, "last_exit", NULL, NULL, 0, NULL,
      "Signal that killed the last worker that exited; none when it exited "
      "by itself.", app_last_exit_signal, NULL },
    { NAMES("core_dumped", "LastExitCoreDumped",
            "fcgi_pm_app_last_exit_core_dumped", "Core dumped"), NO_OLD,
      SF_APP, SF_FLAG, "", 0, "last_exit", NULL, NULL, 0, NULL,
      "1 when the last worker that exited dumped core.",
      app_last_exit_core, NULL },

    /* scope SF_WORKER -------------------------------------------------- */
    { NAMES("pid", NULL, NULL, "PID"), NO_OLD,
      SF_WORKER, SF_KEY, "", 0, NULL, "pid", NULL, 0, NULL,
      "Process id of the worker (the root of its process tree).",
      wrk_pid, NULL },
    { NAMES("state", "State", "fcgi_pm_worker_state", "State"), NO_OLD,
      SF_WORKER, SF_STATE, "", 0, NULL, "state", NULL, 0, NULL,
      "State of the worker (label state): always 1.", wrk_state, NULL },
    { NAMES("adopted", "Adopted", "fcgi_pm_worker_adopted", "Adopted"), NO_OLD,
      SF_WORKER, SF_FLAG, "", 0, NULL, NULL, NULL, 0, NULL,
      "1 when the worker was taken over from a manager that died.",
      wrk_adopted, NULL },
    { NAMES("roll", "Roll", "fcgi_pm_worker_roll", "Roll"),
      NAMES("generation", "Generation", "fcgi_pm_worker_generation", NULL),
      SF_WORKER, SF_GAUGE, "", 0, NULL, NULL, NULL, 0, NULL,
      "The app's roll the worker was started for.", wrk_roll, NULL },
    { NAMES("started", "StartTime", "fcgi_pm_worker_start_time_seconds",
            "Started"), NO_OLD,
      SF_WORKER, SF_TIME, "seconds", 3, NULL, NULL, NULL, 0, NULL,
      "Start time of the worker since the epoch.", wrk_started, NULL },
    { NAMES("ready_at", "ReadyTime", "fcgi_pm_worker_ready_time_seconds",
            "Ready since"), NO_OLD,
      SF_WORKER, SF_TIME, "seconds", 3, NULL, NULL, NULL, 0, NULL,
      "When the worker was first seen ready, since the epoch.",
      wrk_ready_at, NULL },
    { NAMES("age_seconds", "AgeSeconds", "fcgi_pm_worker_age_seconds", "Age"),
      NO_OLD, SF_WORKER, SF_GAUGE, "seconds", 0, NULL, NULL, NULL, 0, NULL,
      "Seconds since the worker started.", wrk_age, NULL },
    { NAMES("rss_bytes", "RssBytes", "fcgi_pm_worker_resident_memory_bytes",
            "RSS"), NO_OLD,
      SF_WORKER, SF_GAUGE, "bytes", 0, NULL, NULL, NULL, 0, NULL,
      "Resident memory of the worker's root process.", wrk_rss, NULL },
    { NAMES("cpu_seconds", "CpuSeconds", "fcgi_pm_worker_cpu_seconds_total",
            "CPU"), NO_OLD,
      SF_WORKER, SF_COUNTER, "seconds", 2, NULL, NULL, NULL, 0, NULL,
      "CPU time (user and system) used by the worker's root process.",
      wrk_cpu, NULL },
};

const int fcgi_pm_status_nfields =
    (int)(sizeof(fcgi_pm_status_fields) / sizeof(fcgi_pm_status_fields[0]));

void fcgi_pm_status_field_get(const status_field *f, const status_where *at,
                              status_value *v)
{
    v->known = 0;
    v->num = 0;
    v->text = NULL;
    f->get(at, v);
}

const char *fcgi_pm_status_scope_name(status_field_scope scope)
{
    switch (scope) {
    case SF_SERVER: return "server";
    case SF_APP:    return "app";
    default:        return "worker";
    }
}

const char *fcgi_pm_status_type_name(status_field_type type)
{
    switch (type) {
    case SF_KEY:     return "key";
    case SF_TEXT:    return "text";
    case SF_GAUGE:   return "gauge";
    case SF_COUNTER: return "counter";
    case SF_TIME:    return "time";
    case SF_FLAG:    return "flag";
    default:         return "state";
    }
}
