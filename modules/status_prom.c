/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The status page in Prometheus text exposition format 0.0.4
 * (?format=prometheus); the other formats are in status_render.c.
 */
#include "fcgi_pm.h"
#include "fcgi_pm_status_snapshot.h"
#include "fcgi_pm_status_render.h"

#include "http_protocol.h"
#include "apr_strings.h"

#include <stdio.h>
#include <string.h>

static const apr_uint32_t app_states[] = {
    FCGI_PM_APP_STARTING, FCGI_PM_APP_RUNNING, FCGI_PM_APP_BACKOFF,
    FCGI_PM_APP_DRAINING
};

static void prom_head(request_rec *r, const char *name, const char *type,
                      const char *help)
{
    ap_rprintf(r, "# HELP %s %s\n# TYPE %s %s\n", name,
               fcgi_pm_status_escape(r->pool, help, ESC_PROM_HELP), name, type);
}

/* LABELS: already escaped, without braces; NULL or "" for none. */
static void prom_sample(request_rec *r, const char *name, const char *labels,
                        double v)
{
    if (labels && *labels) {
        ap_rprintf(r, "%s{%s} %.15g\n", name, labels, v);
    }
    else {
        ap_rprintf(r, "%s %.15g\n", name, v);
    }
}

/* Per-app gauges and counters read from one field each. */
typedef struct {
    const char *name;
    const char *type;
    const char *help;
    size_t offset;                      /* an apr_uint32_t in status_app */
} prom_app_metric;

#define APP_FIELD(f) APR_OFFSETOF(status_app, f)

static const prom_app_metric prom_app_metrics[] = {
    { "fcgi_pm_app_generation", "gauge",
      "Generation of the app's workers (one more at each rolling restart).",
      APP_FIELD(generation) },
    { "fcgi_pm_app_workers_configured", "gauge",
      "Workers the app is configured to keep running (Processes).",
      APP_FIELD(processes) },
    { "fcgi_pm_app_workers_running", "gauge",
      "Worker processes alive, in any state.", APP_FIELD(alive) },
    { "fcgi_pm_app_workers_ready", "gauge",
      "Workers accepting connections (idle or busy).", APP_FIELD(ready) },
    { "fcgi_pm_app_requests_total", "counter",
      "Requests the app has finished serving.", APP_FIELD(requests) },
    { "fcgi_pm_app_requests_in_flight", "gauge",
      "Requests being served or waiting in the app's queue.",
      APP_FIELD(in_flight) },
    { "fcgi_pm_app_restarts_total", "counter",
      "Workers started to replace one that exited.", APP_FIELD(restarts) },
    { "fcgi_pm_app_crashes_total", "counter",
      "Workers that exited on a signal or with a non-zero status.",
      APP_FIELD(crashes) },
    { "fcgi_pm_app_failed_starts", "gauge",
      "Consecutive workers that exited before accepting.",
      APP_FIELD(failed_starts) },
    { "fcgi_pm_app_backoff_seconds", "gauge",
      "Current start-up backoff period, 0 when not backing off.",
      APP_FIELD(backoff_seconds) },
};

void fcgi_pm_status_render_prometheus(request_rec *r, const status_snapshot *s)
{
    apr_pool_t *p = r->pool;
    const char **app_label = apr_pcalloc(p, (s->napps + 1) * sizeof(char *));
    size_t m;
    int i, j, k;

    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    for (i = 0; i < s->napps; i++) {
        app_label[i] = apr_pstrcat(p, "app=\"",
                                   fcgi_pm_status_escape(p, s->apps[i].name, ESC_PROM_LABEL),
                                   "\"", NULL);
    }

    prom_head(r, "fcgi_pm_build_info", "gauge",
              "Release (label version) and manager protocol (label protocol) "
              "of the module that serves this page: always 1.");
    prom_sample(r, "fcgi_pm_build_info",
                apr_psprintf(p, "version=\"%s\",protocol=\"%u\"",
                             fcgi_pm_status_escape(p, FCGI_PM_VERSION, ESC_PROM_LABEL),
                             FCGI_PM_PROTO_VERSION), 1);
    prom_head(r, "fcgi_pm_manager_up", "gauge",
              "1 when the process manager is running.");
    prom_sample(r, "fcgi_pm_manager_up", NULL, s->manager_up);
    if (!s->attached) {
        return;
    }
    prom_head(r, "fcgi_pm_manager_pid", "gauge",
              "Process id of the manager.");
    prom_sample(r, "fcgi_pm_manager_pid", NULL, s->manager_pid);
    if (s->manager_started) {
        prom_head(r, "fcgi_pm_manager_start_time_seconds", "gauge",
                  "Start time of the manager since the epoch.");
        prom_sample(r, "fcgi_pm_manager_start_time_seconds", NULL,
                    fcgi_pm_status_seconds(s->manager_started));
        prom_head(r, "fcgi_pm_manager_uptime_seconds", "gauge",
                  "Seconds since the manager started.");
        prom_sample(r, "fcgi_pm_manager_uptime_seconds", NULL,
                    (double)fcgi_pm_status_age(s, s->manager_started));
    }
    prom_head(r, "fcgi_pm_manager_forks_total", "counter",
              "Managers started by this httpd (more than 1: one died).");
    prom_sample(r, "fcgi_pm_manager_forks_total", NULL, s->manager_forks);
    prom_head(r, "fcgi_pm_generation", "gauge",
              "httpd configuration generation applied by the manager "
              "(1 at start, one more at each graceful or restart).");
    prom_sample(r, "fcgi_pm_generation", NULL, s->generation);
    prom_head(r, "fcgi_pm_gracefuls_total", "counter",
              "Gracefuls and restarts of httpd the process manager survived.");
    prom_sample(r, "fcgi_pm_gracefuls_total", NULL, s->gracefuls);
    prom_head(r, "fcgi_pm_reloads_total", "counter",
              "Configuration generations handed to managers.");
    prom_sample(r, "fcgi_pm_reloads_total", NULL, s->reloads);

    prom_head(r, "fcgi_pm_app_state", "gauge",
              "State of the app: 1 for the current one.");
    for (i = 0; i < s->napps; i++) {
        for (k = 0; k < (int)(sizeof(app_states) / sizeof(app_states[0])); k++) {
            prom_sample(r, "fcgi_pm_app_state",
                        apr_pstrcat(p, app_label[i], ",state=\"",
                                    fcgi_pm_table_app_state_name(app_states[k]),
                                    "\"", NULL),
                        s->apps[i].state == app_states[k]);
        }
    }
    prom_head(r, "fcgi_pm_app_workers", "gauge",
              "Workers by state (ready: accepting, idle or busy unknown).");
    for (i = 0; i < s->napps; i++) {
        for (k = 0; k < ACT_COUNT; k++) {
            prom_sample(r, "fcgi_pm_app_workers",
                        apr_pstrcat(p, app_label[i], ",state=\"", fcgi_pm_status_act_names[k],
                                    "\"", NULL),
                        s->apps[i].count[k]);
        }
    }
    for (m = 0; m < sizeof(prom_app_metrics) / sizeof(prom_app_metrics[0]); m++) {
        const prom_app_metric *pm = &prom_app_metrics[m];
        prom_head(r, pm->name, pm->type, pm->help);
        for (i = 0; i < s->napps; i++) {
            const apr_uint32_t *v = (const apr_uint32_t *)
                ((const char *)&s->apps[i] + pm->offset);
            prom_sample(r, pm->name, app_label[i], *v);
        }
    }
    prom_head(r, "fcgi_pm_app_listen_queue", "gauge",
              "Connections waiting in the app's listen queue.");
    for (i = 0; i < s->napps; i++) {
        if (s->apps[i].queue >= 0) {
            prom_sample(r, "fcgi_pm_app_listen_queue", app_label[i],
                        s->apps[i].queue);
        }
    }
    prom_head(r, "fcgi_pm_app_listen_backlog", "gauge",
              "Size of the app's listen queue.");
    for (i = 0; i < s->napps; i++) {
        if (s->apps[i].queue >= 0) {
            prom_sample(r, "fcgi_pm_app_listen_backlog", app_label[i],
                        s->apps[i].backlog);
        }
    }
    prom_head(r, "fcgi_pm_app_last_exit_time_seconds", "gauge",
              "When a worker of the app last exited, since the epoch.");
    for (i = 0; i < s->napps; i++) {
        if (s->apps[i].last_exit_time) {
            prom_sample(r, "fcgi_pm_app_last_exit_time_seconds", app_label[i],
                        fcgi_pm_status_seconds(s->apps[i].last_exit_time));
        }
    }
    prom_head(r, "fcgi_pm_app_last_exit_code", "gauge",
              "Exit status of the last worker that exited, -1 when it was "
              "killed by a signal.");
    for (i = 0; i < s->napps; i++) {
        int st = s->apps[i].last_exit_status;
        if (s->apps[i].last_exit_time) {
            prom_sample(r, "fcgi_pm_app_last_exit_code", app_label[i],
                        WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        }
    }
    prom_head(r, "fcgi_pm_app_last_exit_signal", "gauge",
              "Signal that killed the last worker that exited, 0 when it "
              "exited by itself.");
    for (i = 0; i < s->napps; i++) {
        int st = s->apps[i].last_exit_status;
        if (s->apps[i].last_exit_time) {
            prom_sample(r, "fcgi_pm_app_last_exit_signal", app_label[i],
                        WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        }
    }

    /* Per worker: labels app and pid. */
    {
        static const char *const names[] = {
            "fcgi_pm_worker_state", "fcgi_pm_worker_generation",
            "fcgi_pm_worker_start_time_seconds",
            "fcgi_pm_worker_resident_memory_bytes",
            "fcgi_pm_worker_cpu_seconds_total"
        };
        static const char *const types[] = {
            "gauge", "gauge", "gauge", "gauge", "counter"
        };
        static const char *const helps[] = {
            "State of the worker (label state): always 1.",
            "App generation the worker was started for.",
            "Start time of the worker since the epoch.",
            "Resident memory of the worker.",
            "CPU time (user and system) used by the worker."
        };

        for (m = 0; m < sizeof(names) / sizeof(names[0]); m++) {
            prom_head(r, names[m], types[m], helps[m]);
            for (i = 0; i < s->napps; i++) {
                const status_app *a = &s->apps[i];
                for (j = 0; j < a->nworkers; j++) {
                    const status_worker *w = &a->workers[j];
                    const char *l = apr_psprintf(p, "%s,pid=\"%ld\"",
                                                 app_label[i], (long)w->pid);
                    switch (m) {
                    case 0:
                        prom_sample(r, names[m],
                                    apr_pstrcat(p, l, ",state=\"",
                                                fcgi_pm_status_act_names[w->act], "\"", NULL),
                                    1);
                        break;
                    case 1:
                        prom_sample(r, names[m], l, w->generation);
                        break;
                    case 2:
                        prom_sample(r, names[m], l, fcgi_pm_status_seconds(w->started));
                        break;
                    case 3:
                        if (w->rss_bytes >= 0) {
                            prom_sample(r, names[m], l, (double)w->rss_bytes);
                        }
                        break;
                    default:
                        if (w->cpu_seconds >= 0) {
                            prom_sample(r, names[m], l, w->cpu_seconds);
                        }
                        break;
                    }
                }
            }
        }
    }
}

