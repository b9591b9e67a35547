/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SetHandler fcgi-pm-status and the mod_status section: the formats of
 * the status page (see fcgi_pm_status.h for them and what the figures
 * mean), rendered from a snapshot (fcgi_pm_status_snapshot.h).
 */
#include "fcgi_pm_status.h"
#include "fcgi_pm_status_snapshot.h"
#include "fcgi_pm_status_render.h"
#include "fcgi_pm_spawn.h"

#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_hooks.h"
#include "apr_optional_hooks.h"
#include "apr_strings.h"
#include "mod_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_HANDLER      "fcgi-pm-status"

const char *const fcgi_pm_status_act_names[ACT_COUNT] = {
    "starting", "idle", "busy", "ready", "retiring"
};

/*--------------------------------------------------------------------------
 * Helpers for the formats
 *------------------------------------------------------------------------*/

/* Length of the valid UTF-8 sequence at S, 0 when it is not one. */
static int utf8_seq(const unsigned char *s)
{
    int n, i;
    unsigned int c;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2; c = s[0] & 0x1f;
    }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3; c = s[0] & 0x0f;
    }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4; c = s[0] & 0x07;
    }
    else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)))
        || (n == 4 && (c < 0x10000 || c > 0x10ffff))) {
        return 0;
    }
    return n;
}

/* S escaped for a JSON string, a Prometheus label value or HELP text, or
 * a one-line text value; bytes that are not UTF-8 become U+FFFD. */
const char *fcgi_pm_status_escape(apr_pool_t *p, const char *s, int how)
{
    const unsigned char *u = (const unsigned char *)s;
    char *out = apr_palloc(p, strlen(s) * 6 + 1), *o = out;

    while (*u) {
        int n = utf8_seq(u);

        if (n == 0) {
            memcpy(o, how == ESC_TEXT ? "?" : "\xef\xbf\xbd",
                   how == ESC_TEXT ? 1 : 3);
            o += how == ESC_TEXT ? 1 : 3;
            u++;
            continue;
        }
        if (n > 1) {
            memcpy(o, u, n);
            o += n;
            u += n;
            continue;
        }
        switch (how) {
        case ESC_JSON:
            if (*u == '"' || *u == '\\') {
                *o++ = '\\';
                *o++ = (char)*u;
            }
            else if (*u < 0x20 || *u == 0x7f) {
                o += sprintf(o, "\\u%04x", *u);
            }
            else {
                *o++ = (char)*u;
            }
            break;
        case ESC_PROM_LABEL:
        case ESC_PROM_HELP:
            if (*u == '\\' || (*u == '"' && how == ESC_PROM_LABEL)) {
                *o++ = '\\';
                *o++ = (char)*u;
            }
            else if (*u == '\n') {
                *o++ = '\\';
                *o++ = 'n';
            }
            else {
                *o++ = (char)*u;
            }
            break;
        default:
            *o++ = (*u < 0x20 || *u == 0x7f) ? '?' : (char)*u;
            break;
        }
        u++;
    }
    *o = '\0';
    return out;
}

double fcgi_pm_status_seconds(apr_time_t t)
{
    return (double)t / (double)APR_USEC_PER_SEC;
}

apr_int64_t fcgi_pm_status_age(const status_snapshot *s, apr_time_t since)
{
    return since && s->now > since ? apr_time_sec(s->now - since) : 0;
}

/* "1 day 2 hours 3 minutes 4 seconds", as mod_status says it. */
static const char *duration(apr_pool_t *p, apr_int64_t secs)
{
    static const struct { const char *unit; apr_int64_t len; } u[] = {
        { "day", 86400 }, { "hour", 3600 }, { "minute", 60 }, { "second", 1 }
    };
    const char *out = "";
    int i;

    for (i = 0; i < 4; i++) {
        apr_int64_t n = secs / u[i].len;
        if (n > 0 || (i == 3 && !*out)) {
            out = apr_psprintf(p, "%s%s%" APR_INT64_T_FMT " %s%s", out,
                               *out ? " " : "", n, u[i].unit, n == 1 ? "" : "s");
        }
        secs %= u[i].len;
    }
    return out;
}

static const char *human_time(apr_pool_t *p, apr_time_t t)
{
    return t ? ap_ht_time(p, t, "%Y-%m-%d %H:%M:%S %z", 0) : "-";
}

static const char *human_bytes(apr_pool_t *p, apr_int64_t b)
{
    if (b < 0) {
        return "-";
    }
    if (b >= 10 * 1024 * 1024) {
        return apr_psprintf(p, "%.1f MiB", (double)b / (1024.0 * 1024.0));
    }
    return apr_psprintf(p, "%.1f KiB", (double)b / 1024.0);
}

static const char *last_exit(apr_pool_t *p, const status_app *a)
{
    return a->last_exit_time
           ? fcgi_pm_spawn_describe_exit(p, a->last_exit_status) : NULL;
}

static apr_int64_t backoff_left(const status_snapshot *s, const status_app *a)
{
    return a->backoff_until > s->now
           ? apr_time_sec(a->backoff_until - s->now + APR_USEC_PER_SEC - 1) : 0;
}

/*--------------------------------------------------------------------------
 * HTML
 *------------------------------------------------------------------------*/

static void html_cell(request_rec *r, const char *v)
{
    ap_rvputs(r, "<td>", v, "</td>", NULL);
}

static void html_num(request_rec *r, apr_int64_t v)
{
    ap_rprintf(r, "<td class=\"n\">%" APR_INT64_T_FMT "</td>", v);
}

static void render_html_app(request_rec *r, const status_snapshot *s,
                             const status_app *a)
{
    apr_pool_t *p = r->pool;
    const char *ended = last_exit(p, a);
    int j;

    ap_rvputs(r, "<h2>App <code>", ap_escape_html(p, a->name), "</code></h2>\n",
              NULL);
    ap_rputs("<table class=\"app\">\n<tr><th>Socket</th><th>State</th>"
             "<th>Generation</th><th>Configured</th><th>Running</th>"
             "<th>Ready</th><th>Busy</th><th>Idle</th><th>Requests</th>"
             "<th>In flight</th><th>Listen queue</th><th>Restarts</th>"
             "<th>Crashes</th><th>Last exit</th><th>Backoff</th></tr>\n<tr>", r);
    html_cell(r, ap_escape_html(p, a->addr));
    html_cell(r, fcgi_pm_table_app_state_name(a->state));
    html_num(r, a->generation);
    html_num(r, a->processes);
    html_num(r, a->alive);
    html_num(r, a->ready);
    html_num(r, a->count[ACT_BUSY]);
    html_num(r, a->count[ACT_IDLE]);
    html_num(r, a->requests);
    html_num(r, a->in_flight);
    if (a->queue >= 0) {
        ap_rprintf(r, "<td class=\"n\">%ld of %ld</td>", a->queue, a->backlog);
    }
    else {
        html_cell(r, "-");
    }
    html_num(r, a->restarts);
    html_num(r, a->crashes);
    html_cell(r, ended ? apr_pstrcat(p, ap_escape_html(p, ended), ", ",
                                    human_time(p, a->last_exit_time), NULL)
                      : "-");
    html_cell(r, a->backoff_seconds
                 ? apr_psprintf(p, "%u s (%" APR_INT64_T_FMT " s left, %u "
                                "failed starts)", a->backoff_seconds,
                                backoff_left(s, a), a->failed_starts)
                 : "-");
    ap_rputs("</tr>\n</table>\n", r);

    if (!a->nworkers) {
        ap_rputs("<p>No workers.</p>\n", r);
        return;
    }
    ap_rputs("<table class=\"workers\">\n<tr><th>PID</th><th>Generation</th>"
             "<th>State</th><th>Started</th><th>Age</th><th>RSS</th>"
             "<th>CPU</th></tr>\n", r);
    for (j = 0; j < a->nworkers; j++) {
        const status_worker *w = &a->workers[j];
        ap_rputs("<tr>", r);
        html_num(r, w->pid);
        html_num(r, w->generation);
        html_cell(r, apr_pstrcat(p, fcgi_pm_status_act_names[w->act],
                                 w->adopted ? " (adopted)" : "", NULL));
        html_cell(r, human_time(p, w->started));
        html_cell(r, duration(p, fcgi_pm_status_age(s, w->started)));
        html_cell(r, human_bytes(p, w->rss_bytes));
        html_cell(r, w->cpu_seconds >= 0
                     ? apr_psprintf(p, "%.2f s", w->cpu_seconds) : "-");
        ap_rputs("</tr>\n", r);
    }
    ap_rputs("</table>\n", r);
}

static void render_html(request_rec *r, const status_snapshot *s)
{
    apr_pool_t *p = r->pool;
    int i;

    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_rvputs(r, DOCTYPE_HTML_4_01,
              "<html><head>\n<title>FastCGI process manager status</title>\n"
              "<style>\n"
              "body { font-family: sans-serif; }\n"
              "table { border-collapse: collapse; margin-bottom: 1em; }\n"
              "th, td { border: 1px solid #999; padding: 2px 6px; }\n"
              "th { background: #eee; } td.n { text-align: right; }\n"
              "</style>\n</head><body>\n"
              "<h1>FastCGI process manager status for ",
              ap_escape_html(p, ap_get_server_name(r)), "</h1>\n", NULL);
    ap_rvputs(r, "<dl><dt>Current time: ", human_time(p, s->now), "</dt>\n",
              NULL);
    ap_rprintf(r, "<dt>Version: mod_fcgi_pm/%s, manager protocol %u</dt>\n",
               FCGI_PM_VERSION, FCGI_PM_PROTO_VERSION);
    if (!s->attached || (s->manager_pid <= 0 && s->napps == 0)) {
        ap_rputs("<dt>No process manager: no app is configured.</dt></dl>\n"
                 "</body></html>\n", r);
        return;
    }
    ap_rprintf(r, "<dt>Manager: pid %ld (%s), started %s, up %s</dt>\n",
               (long)s->manager_pid, s->manager_up ? "running" : "not running",
               human_time(p, s->manager_started),
               duration(p, fcgi_pm_status_age(s, s->manager_started)));
    ap_rprintf(r, "<dt>Configuration generation %u: %u gracefuls survived; "
               "configurations received: %u; managers forked: %u</dt>\n",
               s->generation, s->gracefuls, s->reloads, s->manager_forks);
    ap_rprintf(r, "<dt>%d apps, %d workers (%d busy, %d idle, %d starting, "
               "%d retiring); %" APR_UINT64_T_FMT " requests served, %"
               APR_UINT64_T_FMT " in flight</dt></dl>\n",
               s->napps, s->workers, s->count[ACT_BUSY], s->count[ACT_IDLE],
               s->count[ACT_STARTING], s->count[ACT_RETIRING], s->requests,
               s->in_flight);
    for (i = 0; i < s->napps; i++) {
        render_html_app(r, s, &s->apps[i]);
    }
    ap_rputs("</body></html>\n", r);
}

/*--------------------------------------------------------------------------
 * JSON
 *------------------------------------------------------------------------*/

static void json_str(request_rec *r, const char *key, const char *v,
                     const char *sep)
{
    ap_rvputs(r, "\"", key, "\": ", NULL);
    if (v) {
        ap_rvputs(r, "\"", fcgi_pm_status_escape(r->pool, v, ESC_JSON), "\"", sep, NULL);
    }
    else {
        ap_rvputs(r, "null", sep, NULL);
    }
}

static void json_int(request_rec *r, const char *key, apr_int64_t v,
                     const char *sep)
{
    ap_rprintf(r, "\"%s\": %" APR_INT64_T_FMT "%s", key, v, sep);
}

static void json_time(request_rec *r, const char *key, apr_time_t t,
                      const char *sep)
{
    if (t) {
        ap_rprintf(r, "\"%s\": %.3f%s", key, fcgi_pm_status_seconds(t), sep);
    }
    else {
        ap_rprintf(r, "\"%s\": null%s", key, sep);
    }
}

static void render_json_app(request_rec *r, const status_snapshot *s,
                            const status_app *a)
{
    const char *ended = last_exit(r->pool, a);
    int j;

    ap_rputs("    {", r);
    json_str(r, "name", a->name, ", ");
    json_str(r, "socket", a->addr, ", ");
    json_str(r, "state", fcgi_pm_table_app_state_name(a->state), ",\n     ");
    json_int(r, "generation", a->generation, ", ");
    json_time(r, "created", a->created, ",\n     ");
    json_int(r, "configured", a->processes, ", ");
    json_int(r, "running", a->alive, ", ");
    json_int(r, "ready", a->ready, ", ");
    json_int(r, "busy", a->count[ACT_BUSY], ", ");
    json_int(r, "idle", a->count[ACT_IDLE], ", ");
    json_int(r, "starting", a->count[ACT_STARTING], ", ");
    json_int(r, "retiring", a->count[ACT_RETIRING], ", ");
    json_int(r, "unknown", a->count[ACT_READY], ",\n     ");
    json_int(r, "requests", a->requests, ", ");
    json_int(r, "in_flight", a->in_flight, ", ");
    if (a->queue >= 0) {
        json_int(r, "listen_queue", a->queue, ", ");
        json_int(r, "listen_backlog", a->backlog, ",\n     ");
    }
    else {
        ap_rputs("\"listen_queue\": null, \"listen_backlog\": null,\n     ", r);
    }
    json_int(r, "restarts", a->restarts, ", ");
    json_int(r, "crashes", a->crashes, ", ");
    json_int(r, "failed_starts", a->failed_starts, ", ");
    json_int(r, "backoff_seconds", a->backoff_seconds, ", ");
    json_int(r, "backoff_left_seconds", backoff_left(s, a), ",\n     ");
    if (ended) {
        int st = a->last_exit_status;
        ap_rputs("\"last_exit\": {", r);
        json_str(r, "description", ended, ", ");
        json_time(r, "time", a->last_exit_time, ", ");
        if (WIFEXITED(st)) {
            json_int(r, "code", WEXITSTATUS(st), ", ");
        }
        else {
            ap_rputs("\"code\": null, ", r);
        }
        if (WIFSIGNALED(st)) {
            json_int(r, "signal", WTERMSIG(st), ", ");
        }
        else {
            ap_rputs("\"signal\": null, ", r);
        }
        ap_rprintf(r, "\"core_dumped\": %s},\n     ",
                   WIFSIGNALED(st) && WCOREDUMP(st) ? "true" : "false");
    }
    else {
        ap_rputs("\"last_exit\": null,\n     ", r);
    }
    ap_rputs("\"workers\": [", r);
    for (j = 0; j < a->nworkers; j++) {
        const status_worker *w = &a->workers[j];
        ap_rputs(j ? ",\n       {" : "\n       {", r);
        json_int(r, "pid", w->pid, ", ");
        json_int(r, "generation", w->generation, ", ");
        json_str(r, "state", fcgi_pm_status_act_names[w->act], ", ");
        ap_rprintf(r, "\"adopted\": %s, ", w->adopted ? "true" : "false");
        json_time(r, "started", w->started, ", ");
        json_time(r, "ready_at", w->ready_at, ", ");
        json_int(r, "age_seconds", fcgi_pm_status_age(s, w->started), ", ");
        if (w->rss_bytes >= 0) {
            json_int(r, "rss_bytes", w->rss_bytes, ", ");
        }
        else {
            ap_rputs("\"rss_bytes\": null, ", r);
        }
        if (w->cpu_seconds >= 0) {
            ap_rprintf(r, "\"cpu_seconds\": %.2f}", w->cpu_seconds);
        }
        else {
            ap_rputs("\"cpu_seconds\": null}", r);
        }
    }
    ap_rputs(a->nworkers ? "\n     ]}" : "]}", r);
}

static void render_json(request_rec *r, const status_snapshot *s)
{
    int i;

    ap_set_content_type(r, "application/json");
    ap_rputs("{\n  ", r);
    json_str(r, "version", FCGI_PM_VERSION, ", ");
    json_int(r, "protocol", FCGI_PM_PROTO_VERSION, ",\n  ");
    ap_rputs("\"manager\": {", r);
    json_int(r, "pid", s->manager_pid, ", ");
    ap_rprintf(r, "\"up\": %s, ", s->manager_up ? "true" : "false");
    json_time(r, "started", s->manager_started, ", ");
    json_int(r, "uptime_seconds", fcgi_pm_status_age(s, s->manager_started), ",\n    ");
    json_int(r, "generation", s->generation, ", ");
    json_int(r, "gracefuls", s->gracefuls, ", ");
    json_int(r, "reloads", s->reloads, ", ");
    json_int(r, "forks", s->manager_forks, "},\n  ");
    json_time(r, "time", s->now, ",\n  ");
    ap_rputs("\"totals\": {", r);
    json_int(r, "apps", s->napps, ", ");
    json_int(r, "workers", s->workers, ", ");
    json_int(r, "busy", s->count[ACT_BUSY], ", ");
    json_int(r, "idle", s->count[ACT_IDLE], ", ");
    json_int(r, "requests", (apr_int64_t)s->requests, ", ");
    json_int(r, "in_flight", (apr_int64_t)s->in_flight, "},\n  ");
    ap_rputs("\"apps\": [", r);
    for (i = 0; i < s->napps; i++) {
        ap_rputs(i ? ",\n" : "\n", r);
        render_json_app(r, s, &s->apps[i]);
    }
    ap_rputs(s->napps ? "\n  ]\n}\n" : "]\n}\n", r);
}

/*--------------------------------------------------------------------------
 * ?auto: "Key: value" lines, like mod_status
 *------------------------------------------------------------------------*/

static void render_auto(request_rec *r, const status_snapshot *s)
{
    apr_pool_t *p = r->pool;
    int i, j;

    ap_set_content_type(r, "text/plain; charset=utf-8");
    ap_rprintf(r, "Version: %s\nProtocol: %u\n", FCGI_PM_VERSION,
               FCGI_PM_PROTO_VERSION);
    ap_rprintf(r, "ManagerPid: %ld\nManagerUp: %d\n", (long)s->manager_pid,
               s->manager_up);
    if (!s->attached) {
        ap_rputs("Apps: 0\n", r);
        return;
    }
    ap_rprintf(r, "ManagerStartTime: %" APR_TIME_T_FMT "\n"
               "ManagerUptime: %" APR_INT64_T_FMT "\n"
               "Generation: %u\nGracefuls: %u\nReloads: %u\nManagerForks: %u\n",
               apr_time_sec(s->manager_started),
               fcgi_pm_status_age(s, s->manager_started), s->generation, s->gracefuls,
               s->reloads, s->manager_forks);
    ap_rprintf(r, "Apps: %d\nWorkers: %d\nBusyWorkers: %d\nIdleWorkers: %d\n"
               "StartingWorkers: %d\nRetiringWorkers: %d\n"
               "Requests: %" APR_UINT64_T_FMT "\nInFlight: %" APR_UINT64_T_FMT
               "\n", s->napps, s->workers, s->count[ACT_BUSY],
               s->count[ACT_IDLE], s->count[ACT_STARTING],
               s->count[ACT_RETIRING], s->requests, s->in_flight);
    ap_rputs("AppNames:", r);
    for (i = 0; i < s->napps; i++) {
        ap_rvputs(r, " ", s->apps[i].name, NULL);
    }
    ap_rputs("\n", r);
    /* App names are letters, digits, '.', '_' and '-': the field is what
     * follows the last dot of a key. */
    for (i = 0; i < s->napps; i++) {
        const status_app *a = &s->apps[i];
        const char *n = a->name, *ended = last_exit(p, a);

        ap_rprintf(r, "App.%s.Socket: %s\n", n, fcgi_pm_status_escape(p, a->addr, ESC_TEXT));
        ap_rprintf(r, "App.%s.State: %s\n", n,
                   fcgi_pm_table_app_state_name(a->state));
        ap_rprintf(r, "App.%s.Generation: %u\n", n, a->generation);
        ap_rprintf(r, "App.%s.Configured: %u\n", n, a->processes);
        ap_rprintf(r, "App.%s.Running: %u\n", n, a->alive);
        ap_rprintf(r, "App.%s.Ready: %u\n", n, a->ready);
        ap_rprintf(r, "App.%s.Busy: %d\n", n, a->count[ACT_BUSY]);
        ap_rprintf(r, "App.%s.Idle: %d\n", n, a->count[ACT_IDLE]);
        ap_rprintf(r, "App.%s.Starting: %d\n", n, a->count[ACT_STARTING]);
        ap_rprintf(r, "App.%s.Retiring: %d\n", n, a->count[ACT_RETIRING]);
        ap_rprintf(r, "App.%s.Requests: %u\n", n, a->requests);
        ap_rprintf(r, "App.%s.InFlight: %u\n", n, a->in_flight);
        if (a->queue >= 0) {
            ap_rprintf(r, "App.%s.ListenQueue: %ld\n", n, a->queue);
            ap_rprintf(r, "App.%s.ListenBacklog: %ld\n", n, a->backlog);
        }
        ap_rprintf(r, "App.%s.Restarts: %u\n", n, a->restarts);
        ap_rprintf(r, "App.%s.Crashes: %u\n", n, a->crashes);
        ap_rprintf(r, "App.%s.FailedStarts: %u\n", n, a->failed_starts);
        ap_rprintf(r, "App.%s.BackoffSeconds: %u\n", n, a->backoff_seconds);
        if (ended) {
            ap_rprintf(r, "App.%s.LastExit: %s\n", n, ended);
            ap_rprintf(r, "App.%s.LastExitTime: %" APR_TIME_T_FMT "\n", n,
                       apr_time_sec(a->last_exit_time));
        }
        ap_rprintf(r, "App.%s.Workers:", n);
        for (j = 0; j < a->nworkers; j++) {
            ap_rprintf(r, " %ld:%s", (long)a->workers[j].pid,
                       fcgi_pm_status_act_names[a->workers[j].act]);
        }
        ap_rputs("\n", r);
    }
}

/*--------------------------------------------------------------------------
 * The handler
 *------------------------------------------------------------------------*/

enum { FMT_HTML, FMT_JSON, FMT_PROMETHEUS, FMT_AUTO, FMT_BAD };

/* ?auto, ?format=html|json|prometheus|auto (also after other args). */
static int requested_format(request_rec *r)
{
    char *args, *tok, *last = NULL;
    int fmt = FMT_HTML;

    if (!r->args) {
        return fmt;
    }
    args = apr_pstrdup(r->pool, r->args);
    for (tok = apr_strtok(args, "&;", &last); tok;
         tok = apr_strtok(NULL, "&;", &last)) {
        if (!strcmp(tok, "auto")) {
            fmt = FMT_AUTO;
        }
        else if (!strncmp(tok, "format=", 7)) {
            const char *v = tok + 7;
            if (!strcasecmp(v, "html")) {
                fmt = FMT_HTML;
            }
            else if (!strcasecmp(v, "json")) {
                fmt = FMT_JSON;
            }
            else if (!strcasecmp(v, "prometheus")
                     || !strcasecmp(v, "openmetrics-text")) {
                fmt = FMT_PROMETHEUS;
            }
            else if (!strcasecmp(v, "auto") || !strcasecmp(v, "text")) {
                fmt = FMT_AUTO;
            }
            else {
                return FMT_BAD;
            }
        }
    }
    return fmt;
}

int fcgi_pm_status_handler(request_rec *r)
{
    status_snapshot *s;
    int fmt;

    if (!r->handler || strcmp(r->handler, STATUS_HANDLER)) {
        return DECLINED;
    }
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    fmt = requested_format(r);
    if (fmt == FMT_BAD) {
        return HTTP_BAD_REQUEST;
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    s = fcgi_pm_status_snapshot_take(r->pool, 1);
    switch (fmt) {
    case FMT_JSON:
        render_json(r, s);
        break;
    case FMT_PROMETHEUS:
        fcgi_pm_status_render_prometheus(r, s);
        break;
    case FMT_AUTO:
        render_auto(r, s);
        break;
    default:
        render_html(r, s);
        break;
    }
    return OK;
}

/*--------------------------------------------------------------------------
 * The mod_status section
 *------------------------------------------------------------------------*/

static int status_hook(request_rec *r, int flags)
{
    apr_pool_t *p = r->pool;
    status_snapshot *s = fcgi_pm_status_snapshot_take(p, 0);
    int i;

    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "FcgiPmVersion: %s\n", FCGI_PM_VERSION);
        ap_rprintf(r, "FcgiPmManagerPid: %ld\nFcgiPmApps: %d\n"
                   "FcgiPmWorkers: %d\nFcgiPmBusyWorkers: %d\n"
                   "FcgiPmIdleWorkers: %d\nFcgiPmRequests: %" APR_UINT64_T_FMT
                   "\nFcgiPmInFlight: %" APR_UINT64_T_FMT "\n",
                   (long)s->manager_pid, s->napps, s->workers,
                   s->count[ACT_BUSY], s->count[ACT_IDLE], s->requests,
                   s->in_flight);
        return OK;
    }
    ap_rputs("<hr />\n<h2>mod_fcgi_pm</h2>\n"
             "<p>Version: mod_fcgi_pm/" FCGI_PM_VERSION "</p>\n", r);
    if (!s->attached || (s->manager_pid <= 0 && s->napps == 0)) {
        ap_rputs("<p>No process manager: no app is configured.</p>\n", r);
        return OK;
    }
    ap_rprintf(r, "<p>Manager pid %ld (%s), up %s, %u gracefuls: %d apps, "
               "%d workers, %d busy, %" APR_UINT64_T_FMT " requests.</p>\n",
               (long)s->manager_pid, s->manager_up ? "running" : "not running",
               duration(p, fcgi_pm_status_age(s, s->manager_started)), s->gracefuls,
               s->napps, s->workers, s->count[ACT_BUSY], s->requests);
    if (flags & AP_STATUS_NOTABLE) {
        for (i = 0; i < s->napps; i++) {
            const status_app *a = &s->apps[i];
            ap_rprintf(r, "<p>App %s: %s, %u ready, %d busy, %u requests, %u "
                       "in flight</p>\n", ap_escape_html(p, a->name),
                       fcgi_pm_table_app_state_name(a->state), a->ready,
                       a->count[ACT_BUSY], a->requests, a->in_flight);
        }
        return OK;
    }
    ap_rputs("<table border=\"0\"><tr><th>App</th><th>State</th>"
             "<th>Generation</th><th>Ready</th><th>Busy</th><th>Idle</th>"
             "<th>Requests</th><th>In flight</th><th>Crashes</th></tr>\n", r);
    for (i = 0; i < s->napps; i++) {
        const status_app *a = &s->apps[i];
        ap_rprintf(r, "<tr><td>%s</td><td>%s</td><td>%u</td><td>%u</td>"
                   "<td>%d</td><td>%d</td><td>%u</td><td>%u</td><td>%u</td>"
                   "</tr>\n", ap_escape_html(p, a->name),
                   fcgi_pm_table_app_state_name(a->state), a->generation,
                   a->ready, a->count[ACT_BUSY], a->count[ACT_IDLE],
                   a->requests, a->in_flight, a->crashes);
    }
    ap_rputs("</table>\n", r);
    return OK;
}

void fcgi_pm_status_register_hooks(apr_pool_t *p)
{
    APR_OPTIONAL_HOOK(ap, status_hook, status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
