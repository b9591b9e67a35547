/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The status page's snapshot of the table (see fcgi_pm_status_snapshot.h;
 * the formats are rendered in status_render.c).
 *
 * Everything is rendered from a snapshot taken first: each app slot of
 * the shared table is copied to a local struct and checked (state in
 * range, names NUL-terminated, worker pids > 0), then looked up in /proc
 * and in the kernel's socket diagnostics.  No lock is taken and no other
 * process is waited for; the work per request is bounded (at most
 * STATUS_MAX_PROBES workers looked at in /proc, one netlink dump of the
 * listening sockets, see sockdiag.c).
 */
#include "fcgi_pm_status_snapshot.h"
#include "fcgi_pm_proc.h"
#include "fcgi_pm_parent.h"
#include "fcgi_pm_sock.h"
#include "fcgi_pm_sockdiag.h"
#include "fcgi_pm_table.h"

#include "http_core.h"
#include "apr_strings.h"

#include <sys/stat.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATUS_MAX_PROBES   1024        /* workers looked at in /proc */



/*--------------------------------------------------------------------------
 * Snapshot of the table
 *------------------------------------------------------------------------*/

/* Copy app slot A; 0 when it is free or changed hands while copied. */
static int copy_app(apr_pool_t *p, fcgi_pm_table *t, const fcgi_pm_app_slot *a,
                    status_app *out)
{
    status_worker tmp[FCGI_PM_WORKER_SLOTS];
    const fcgi_pm_worker_slot *ws = fcgi_pm_table_workers(t, a);
    int j, n = 0, published;

    memset(out, 0, sizeof(*out));
    out->state = a->state;
    if (out->state < FCGI_PM_APP_STARTING || out->state > FCGI_PM_APP_DRAINING) {
        return 0;
    }
    memcpy(out->name, (const void *)a->name, sizeof(out->name));
    out->name[sizeof(out->name) - 1] = '\0';
    memcpy(out->addr, (const void *)a->addr, sizeof(out->addr));
    out->addr[sizeof(out->addr) - 1] = '\0';
    out->roll = a->roll;
    out->processes = a->processes;
    out->ready = a->ready;
    out->alive = a->alive;
    out->requests = a->requests;
    out->in_flight = a->in_flight;
    out->restarts = a->restarts;
    out->crashes = a->crashes;
    out->failed_starts = a->failed_starts;
    out->backoff_seconds = a->backoff_seconds;
    out->backoff_until = a->backoff_until;
    out->created = a->created;
    out->last_exit_time = a->last_exit_time;
    out->last_exit_status = a->last_exit_status;
    /* Workers are published from the first slot on, ALIVE of them at
     * most: slots beyond were never written, and reading them would give
     * the segment memory for nothing. */
    published = a->alive < FCGI_PM_WORKER_SLOTS ? (int)a->alive
                                                : FCGI_PM_WORKER_SLOTS;
    for (j = 0; j < published; j++) {
        fcgi_pm_worker_slot w;

        memcpy(&w, (const void *)&ws[j], sizeof(w));
        if (w.pid <= 0 || w.state < FCGI_PM_WORKER_STARTING
            || w.state > FCGI_PM_WORKER_RETIRING) {
            continue;
        }
        tmp[n].pid = w.pid;
        tmp[n].state = w.state;
        tmp[n].roll = w.roll;
        tmp[n].adopted = w.adopted != 0;
        tmp[n].act = ACT_UNKNOWN;
        tmp[n].activity = w.activity;
        tmp[n].started = w.started;
        tmp[n].ready_at = w.ready_at;
        tmp[n].rss_bytes = -1;
        tmp[n].cpu_seconds = -1;
        n++;
    }
    /* Released (and maybe claimed by another app) while we copied? */
    if (a->state == FCGI_PM_APP_FREE
        || strncmp((const char *)a->name, out->name, sizeof(out->name)) != 0) {
        return 0;
    }
    if (!out->name[0]) {
        return 0;
    }
    out->nworkers = n;
    out->workers = apr_pmemdup(p, tmp, n ? n * sizeof(tmp[0]) : 1);
    out->queue = -1;
    out->backlog = -1;
    return 1;
}

/* The manager publishes busy/idle once a second; where this process may
 * look at a worker (same user), what it holds right now is fresher.  The
 * connections accepted on the app's socket are read once per app. */
static void serving_now(status_app *a, int *probes)
{
    fcgi_pm_proc_conns c;
    int j;

    memset(&c, 0, sizeof(c));
    c.unix_path = fcgi_pm_sock_addr_path(a->addr);
    c.tcp_port = fcgi_pm_sock_addr_port(a->addr);
    if (!a->nworkers || (!c.unix_path && !c.tcp_port)
        || fcgi_pm_proc_conns_read(&c) != 0) {
        fcgi_pm_proc_conns_free(&c);
        return;
    }
    for (j = 0; j < a->nworkers && *probes < STATUS_MAX_PROBES; j++) {
        status_worker *w = &a->workers[j];
        int serving;
        if (w->state != FCGI_PM_WORKER_READY
            || w->activity == FCGI_PM_ACTIVITY_BUSY) {
            continue;
        }
        (*probes)++;
        serving = fcgi_pm_proc_serving(w->pid, &c);
        if (serving >= 0) {
            w->activity = serving ? FCGI_PM_ACTIVITY_BUSY : FCGI_PM_ACTIVITY_IDLE;
        }
    }
    fcgi_pm_proc_conns_free(&c);
}

/* What the manager published (see serving_now). */
static int worker_activity(const status_worker *w, int *probes)
{
    (void)probes;
    switch (w->state) {
    case FCGI_PM_WORKER_STARTING:
        return ACT_STARTING;
    case FCGI_PM_WORKER_RETIRING:
        return ACT_RETIRING;
    default:
        break;
    }
    switch (w->activity) {
    case FCGI_PM_ACTIVITY_IDLE: return ACT_IDLE;
    case FCGI_PM_ACTIVITY_BUSY: return ACT_BUSY;
    default:                    return ACT_UNKNOWN;
    }
}

/* RSS and CPU time from /proc/PID/stat (readable for any process).  A
 * pid that is no longer the manager's child (reused) tells nothing. */
static void worker_proc_stat(status_worker *w, pid_t manager)
{
    long tick, page;
    char buf[1024], *end;
    const char *s = fcgi_pm_proc_stat(w->pid, buf, sizeof(buf));
    unsigned long long f[25];
    int i;

    if (!s) {
        return;
    }
    s = fcgi_pm_proc_stat_field(s, 4);
    /* Fields 4 (ppid) to 24 (rss), numbered as in proc(5). */
    for (i = 4; s && i <= 24; i++) {
        f[i] = strtoull(s, &end, 10);
        if (end == s) {
            return;
        }
        s = end;
    }
    if (!s) {
        return;
    }
    if (!w->adopted && manager > 0 && (pid_t)f[4] != manager) {
        return;
    }
    tick = sysconf(_SC_CLK_TCK);
    page = sysconf(_SC_PAGESIZE);
    if (tick > 0) {
        w->cpu_seconds = (double)(f[14] + f[15]) / (double)tick;
    }
    if (page > 0) {
        w->rss_bytes = (apr_int64_t)f[24] * page;
    }
}

/* Listen queues, from the kernel's socket diagnostics (sockdiag.c). */
static void listen_queues(apr_pool_t *p, status_snapshot *s)
{
    fcgi_pm_sockdiag_listener *l;
    int i;

    if (!s->napps) {
        return;
    }
    l = apr_pcalloc(p, s->napps * sizeof(*l));
    for (i = 0; i < s->napps; i++) {
        l[i].addr = s->apps[i].addr;
    }
    fcgi_pm_sockdiag_listen_queues(p, l, s->napps);
    for (i = 0; i < s->napps; i++) {
        s->apps[i].queue = l[i].queue;
        s->apps[i].backlog = l[i].backlog;
    }
}

/*--------------------------------------------------------------------------
 * The snapshot as a whole
 *------------------------------------------------------------------------*/

static int pid_exists(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* FULL: also RSS/CPU of each worker and the listen queues. */
status_snapshot *fcgi_pm_status_snapshot_take(apr_pool_t *p, int full)
{
    fcgi_pm_table *t = fcgi_pm_parent_table();
    status_snapshot *s = apr_pcalloc(p, sizeof(*s));
    int i, j, used, probes = 0, stats = 0;

    s->now = apr_time_now();
    if (!t || t->magic != FCGI_PM_TABLE_MAGIC
        || t->layout != FCGI_PM_TABLE_LAYOUT) {
        s->apps = apr_pcalloc(p, sizeof(status_app));
        return s;
    }
    s->attached = 1;
    s->manager_pid = t->manager_pid;
    s->manager_up = pid_exists(s->manager_pid);
    s->config_generation = t->config_generation;
    s->gracefuls = s->config_generation > 1 ? s->config_generation - 1 : 0;
    s->reloads = t->reloads;
    s->manager_forks = t->manager_forks;
    s->manager_started = t->manager_started;
    s->created = t->created;

    for (i = 0, used = 0; i < FCGI_PM_TABLE_APPS; i++) {
        used += t->apps[i].state != FCGI_PM_APP_FREE;
    }
    s->apps = apr_pcalloc(p, (used + 1) * sizeof(status_app));
    for (i = 0; i < FCGI_PM_TABLE_APPS && s->napps < used; i++) {
        if (t->apps[i].state == FCGI_PM_APP_FREE) {
            continue;
        }
        if (copy_app(p, t, &t->apps[i], &s->apps[s->napps])) {
            s->napps++;
        }
    }
    for (i = 0; i < s->napps; i++) {
        status_app *a = &s->apps[i];

        /* Backoff is "current" only while it lasts. */
        if (a->state != FCGI_PM_APP_BACKOFF && a->backoff_until <= s->now) {
            a->backoff_seconds = 0;
        }
        serving_now(a, &probes);
        for (j = 0; j < a->nworkers; j++) {
            status_worker *w = &a->workers[j];
            w->act = worker_activity(w, &probes);
            if (full && stats++ < STATUS_MAX_PROBES) {
                worker_proc_stat(w, s->manager_pid);
            }
            a->count[w->act]++;
            s->count[w->act]++;
        }
        s->workers += a->nworkers;
        s->requests += a->requests;
        s->in_flight += a->in_flight;
    }
    if (full) {
        listen_queues(p, s);
    }
    return s;
}
