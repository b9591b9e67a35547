/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The status page's snapshot of the shared table (status.c), and what
 * the table of fields (status_fields.c) reads from it.  Private to the
 * status page.
 */
#ifndef FCGI_PM_STATUS_SNAPSHOT_H
#define FCGI_PM_STATUS_SNAPSHOT_H

#include "fcgi_pm_table.h"

/* What a worker is doing, as the status page tells it. */
enum {
    ACT_STARTING = 0,
    ACT_IDLE,
    ACT_BUSY,
    ACT_UNKNOWN,                        /* ready: idle or busy not known */
    ACT_RETIRING,
    ACT_COUNT
};

typedef struct {
    pid_t pid;
    apr_uint32_t state;                 /* fcgi_pm_worker_state */
    apr_uint32_t roll;                  /* the app's roll it serves */
    int adopted;
    apr_uint32_t activity;              /* as the manager published it */
    int act;                            /* ACT_* */
    apr_time_t started;
    apr_time_t ready_at;
    apr_int64_t rss_bytes;              /* -1: unknown */
    double cpu_seconds;                 /* < 0: unknown */
} status_worker;

typedef struct {
    char name[FCGI_PM_NAME_MAX];
    char addr[FCGI_PM_ADDR_MAX];
    apr_uint32_t state;                 /* fcgi_pm_app_state */
    apr_uint32_t roll;                  /* of its current workers */
    apr_uint32_t processes;
    apr_uint32_t ready;
    apr_uint32_t alive;
    apr_uint32_t requests;
    apr_uint32_t in_flight;
    apr_uint32_t restarts;
    apr_uint32_t crashes;
    apr_uint32_t failed_starts;
    apr_uint32_t backoff_seconds;       /* of the current step, 0: none */
    apr_time_t backoff_until;
    apr_time_t created;
    apr_time_t last_exit_time;          /* 0: no worker exited yet */
    int last_exit_status;               /* raw wait status */
    int nworkers;
    status_worker *workers;
    int count[ACT_COUNT];
    long queue;                         /* pending connections, -1: unknown */
    long backlog;                       /* listen backlog, -1: unknown */
} status_app;

typedef struct {
    int attached;                       /* the table exists */
    pid_t manager_pid;
    int manager_up;
    apr_uint32_t config_generation;     /* httpd's configuration generation */
    apr_uint32_t gracefuls;             /* generations after the first */
    apr_uint32_t reloads;
    apr_uint32_t manager_forks;
    apr_time_t manager_started;
    apr_time_t created;
    apr_time_t now;
    int napps;
    status_app *apps;
    /* totals over the apps */
    apr_uint64_t requests;
    apr_uint64_t in_flight;
    int workers;
    int count[ACT_COUNT];
} status_snapshot;

/* Copy and check the table; with FULL also each worker's RSS/CPU and the
 * listen queues. */
status_snapshot *fcgi_pm_status_snapshot_take(apr_pool_t *p, int full);

#endif /* FCGI_PM_STATUS_SNAPSHOT_H */
