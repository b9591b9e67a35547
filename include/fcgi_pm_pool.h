/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One app's pool of workers, as the manager knows it (manager only).
 *
 * This is the manager's private, authoritative state: pids, pidfds,
 * phases, deadlines.  It lives in the manager's own memory and is never
 * read back from the shared table, which httpd's children can write; the
 * table only receives a copy for the router and the status page
 * (fcgi_pm_pool_publish).  Root signals only processes listed here: the
 * roots it forked (or proved to be its predecessor's), and the processes
 * of their trees, each checked and pinned by a pidfd before it is kept.
 *
 * A worker is the process the manager forked and its descendants (see
 * fcgi_pm_spawn.h).  Its phase comes from what the kernel shows
 * (fcgi_pm_proc_look_at): it is READY for good once any process of its
 * tree waited for connections on the app's socket or held one accepted
 * there; BUSY while one holds such a connection.
 */
#ifndef FCGI_PM_POOL_H
#define FCGI_PM_POOL_H

#include "fcgi_pm.h"
#include "fcgi_pm_table.h"
#include "fcgi_pm_tree.h"
#include "fcgi_pm_wlog.h"

typedef enum {
    FCGI_PM_APP_CONFIGURED,       /* in the last generation received */
    FCGI_PM_APP_REMOVED,          /* not in it: draining */
    FCGI_PM_APP_REPLACED          /* superseded by a new record: free it */
} fcgi_pm_app_config_state;

/* What an app's pool has learnt while it runs: it moves whole to the
 * app's next record when a graceful sends one (fcgi_pm_pool_take_over). */
typedef struct {
    fcgi_pm_worker *workers;
    int nworkers, workers_cap;
    apr_uint32_t roll;            /* bumped by each rolling restart */
    int target;                   /* workers wanted now: Processes up to
                                   * MaxProcesses (see grow_or_shrink()) */
    apr_time_t queue_seen;        /* a connection waited in the listen
                                   * queue at the last ticks since then */
    apr_time_t last_grow;
    int published;                /* worker slots written at the last publish */
    apr_time_t wants_since;       /* wants one worker more (fcgi_pm_share) */
    apr_uint64_t busy_sum;        /* busy workers summed over ... */
    apr_uint32_t busy_samples;    /* ... this many ticks ... */
    int busy_peak;                /* ... the most at one sample */
    apr_time_t busy_since;        /* ... since then (IdleTimeout window) */
    apr_time_t busy_sampled;      /* the last of them */
    int blind_said;
    /* start-up failures and backoff */
    apr_uint32_t failed_starts;
    apr_uint32_t backoff_step;
    apr_uint32_t backoff_seconds;
    apr_time_t backoff_until;
    apr_time_t last_proven;       /* a worker last seen waiting or serving */
    apr_time_t quick_exits_since;
    int quick_exits;
    fcgi_pm_wlog_limit wlog_limit;  /* its workers' stderr (kept on reload) */
    /* published counters */
    apr_uint32_t restarts;
    apr_uint32_t crashes;
    apr_time_t last_exit_time;
    int last_exit_status;
} fcgi_pm_pool_state;

typedef struct fcgi_pm_app fcgi_pm_app;
struct fcgi_pm_app {
    fcgi_pm_app *next;
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
    gid_t *groups;
    int ngroups;
    int processes;                /* the floor */
    int keep_processes;           /* once started, kept through IdleTimeout
                                   * (FcgidMinProcessesPerClass) */
    int lifetime;                 /* FcgidProcessLifeTime (0: none) */
    int exec_check;               /* FCGI_PM_EXEC_* for the worker */
    const char *docroot;
    /* mod_fcgid's classes (scripts.c): made on a child's request, not
     * sent by the parent; what they were asked for. */
    int dynamic;
    const char *class_key, *class_kind, *class_command;
    int max_processes;            /* the ceiling (>= processes) */
    int idle_timeout;             /* seconds; 0: never shrink */
    int max_requests;             /* MaxRequests (0: none) */
    int max_request_time;         /* MaxRequestTime, seconds (0: none) */
    int shutdown_timeout;
    int restart_on_graceful;
    int stop_signal;
    int tcp_port;
    dev_t sock_dev;
    ino_t sock_ino;
    int listen_fd;
    unsigned long listen_ino;     /* the socket's inode, as /proc shows it */
    int dormant;                  /* at rest, out of the tick: listen_fd ... */
    int dormant_fd;               /* ... is in dormant.c's epoll set as this */
    fcgi_pm_app_config_state config_state;
    int removal_said;             /* "no longer configured" was logged */
    fcgi_pm_app_slot *slot;       /* where it is published */
    fcgi_pm_worker_slot *wslots;  /* ... and its workers */
    fcgi_pm_pool_state run;       /* moves whole to the next record */
};

/* Once, in the manager: what to log with. */
void fcgi_pm_pool_init(server_rec *s);

/* The work of one tick for APP (spawn, look, retire, kill).  STOPPING:
 * every worker goes.  Returns milliseconds until it needs the next tick,
 * or -1 for none (an app left at rest sleeps: fcgi_pm_dormant.h). */
int fcgi_pm_pool_tick(fcgi_pm_app *app, apr_time_t now, int stopping);

/* NEW is the next record of OLD's app: the workers, counters and backoff
 * move over; OLD keeps nothing to free but its configuration. */
void fcgi_pm_pool_take_over(fcgi_pm_app *new, fcgi_pm_app *old);

/* Start a new roll: new workers, then the older ones retire. */
void fcgi_pm_pool_roll(fcgi_pm_app *app, const char *why);

/* waitpid() told that PID ended with STATUS.  1 when it was one of ours. */
int fcgi_pm_pool_reaped(fcgi_pm_app *apps, pid_t pid, int status,
                        int stopping);

/* Workers whose trees still have a process. */
int fcgi_pm_pool_alive(const fcgi_pm_app *app);

/* Every worker the app wants is ready, or it backs off. */
int fcgi_pm_pool_up(const fcgi_pm_app *app);

/* Take over a predecessor's worker tree ROOT with its MEMBERS (pids
 * already checked by the caller); every process of it is continued. */
void fcgi_pm_pool_adopt(fcgi_pm_app *app, pid_t root, const pid_t *members,
                        int n);

/* The server-wide cap (see fcgi_pm_share.h).  An app does not grow by
 * itself: it says since when it wants one worker more (0: it does not),
 * and fcgi_pm_pool_grant() gives it one (NOTE is added to the log line).
 * Counted: its workers of the current roll, starting or ready (retiring
 * ones are on their way out: a roll is not held back by the cap). */
apr_time_t fcgi_pm_pool_wants(const fcgi_pm_app *app);
int fcgi_pm_pool_counted(const fcgi_pm_app *app);
void fcgi_pm_pool_grant(fcgi_pm_app *app, apr_time_t now, const char *note);

/* A worker above the app's floor that serves nothing now, the least
 * recently active (NULL: none); fcgi_pm_pool_give_back() retires it for
 * good (the pool's size goes down by one). */
fcgi_pm_worker *fcgi_pm_pool_spare(fcgi_pm_app *app);
void fcgi_pm_pool_give_back(fcgi_pm_app *app, fcgi_pm_worker *w);

/* Copy the pool's state into its table slot. */
void fcgi_pm_pool_publish(fcgi_pm_app *app, int stopping);

/* Close what the app holds (pidfds, listen socket; it leaves the epoll
 * set of apps at rest first) and free it. */
void fcgi_pm_pool_free(fcgi_pm_app *app);

#endif /* FCGI_PM_POOL_H */
