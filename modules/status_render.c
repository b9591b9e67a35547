/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SetHandler fcgi-pm-status and the mod_status section: the formats of
 * the status page (see fcgi_pm_status.h for them and what the figures
 * mean), rendered from a snapshot (fcgi_pm_status_snapshot.h).
 */
#include "fcgi_pm_status.h"
#include "fcgi_pm_status_snapshot.h"
#include "fcgi_pm_status_render.h"
#include "fcgi_pm_status_fields.h"

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

/* A field's number as JSON, ?auto and HTML print it: whole, or with its
 * decimals. */
const char *fcgi_pm_status_number(apr_pool_t *p, const status_field *f,
                                  double x)
{
    return apr_psprintf(p, "%.*f", f->decimals, x);
}

/*--------------------------------------------------------------------------
 * HTML
 *------------------------------------------------------------------------*/

static int html_is_number(const status_field *f)
{
    return f->type == SF_GAUGE || f->type == SF_COUNTER
           || (f->type == SF_KEY && f->scope == SF_WORKER);
}

/* V as a person reads it: times as dates, durations in words, sizes in
 * KiB or MiB. */
static const char *html_value(apr_pool_t *p, const status_field *f,
                              const status_value *v)
{
    if (!v->known) {
        return "-";
    }
    if (v->text) {
        return ap_escape_html(p, v->text);
    }
    switch (f->type) {
    case SF_FLAG:
        return v->num ? "yes" : "no";
    case SF_TIME:
        return human_time(p, (apr_time_t)(v->num * APR_USEC_PER_SEC));
    default:
        break;
    }
    if (!strcmp(f->unit, "bytes")) {
        return human_bytes(p, (apr_int64_t)v->num);
    }
    if (!strcmp(f->unit, "seconds")) {
        return f->decimals ? apr_psprintf(p, "%.*f s", f->decimals, v->num)
                           : duration(p, (apr_int64_t)v->num);
    }
    return fcgi_pm_status_number(p, f, v->num);
}

static void html_td(request_rec *r, const status_field *f,
                    const status_where *at)
{
    status_value v;

    fcgi_pm_status_field_get(f, at, &v);
    ap_rvputs(r, html_is_number(f) ? "<td class=\"n\">" : "<td>",
              html_value(r->pool, f, &v), "</td>", NULL);
}

/* A header row and a row of values: the fields of SCOPE. */
static void html_row_table(request_rec *r, const char *cls,
                           status_field_scope scope, const status_where *at)
{
    int i;

    ap_rvputs(r, "<table class=\"", cls, "\">\n<tr>", NULL);
    for (i = 0; i < fcgi_pm_status_nfields; i++) {
        const status_field *f = &fcgi_pm_status_fields[i];
        if (f->scope == scope) {
            ap_rvputs(r, "<th>", f->name.html, "</th>", NULL);
        }
    }
    ap_rputs("</tr>\n<tr>", r);
    for (i = 0; i < fcgi_pm_status_nfields; i++) {
        const status_field *f = &fcgi_pm_status_fields[i];
        if (f->scope == scope) {
            html_td(r, f, at);
        }
    }
    ap_rputs("</tr>\n</table>\n", r);
}

/* One row per worker, its key (pid) first. */
static void html_workers(request_rec *r, const status_snapshot *s,
                         const status_app *a)
{
    status_where at = { r->pool, s, a, NULL };
    int i, j;

    if (!a->nworkers) {
        ap_rputs("<p>No workers.</p>\n", r);
        return;
    }
    ap_rputs("<table class=\"workers\">\n<tr>", r);
    for (i = 0; i < fcgi_pm_status_nfields; i++) {
        const status_field *f = &fcgi_pm_status_fields[i];
        if (f->scope == SF_WORKER) {
            ap_rvputs(r, "<th>", f->name.html, "</th>", NULL);
        }
    }
    ap_rputs("</tr>\n", r);
    for (j = 0; j < a->nworkers; j++) {
        at.w = &a->workers[j];
        ap_rputs("<tr>", r);
        for (i = 0; i < fcgi_pm_status_nfields; i++) {
            if (fcgi_pm_status_fields[i].scope == SF_WORKER) {
                html_td(r, &fcgi_pm_status_fields[i], &at);
            }
        }
        ap_rputs("</tr>\n", r);
    }
    ap_rputs("</table>\n", r);
}

/* The manager's figures, one per line. */
static void html_server(request_rec *r, const status_snapshot *s)
{
    status_where at = { r->pool, s, NULL, NULL };
    int i;

    ap_rputs("<table class=\"server\">\n", r);
    for (i = 0; i < fcgi_pm_status_nfields; i++) {
        const status_field *f = &fcgi_pm_status_fields[i];
        if (f->scope == SF_SERVER) {
            ap_rvputs(r, "<tr><th>", f->name.html, "</th>", NULL);
            html_td(r, f, &at);
            ap_rputs("</tr>\n", r);
        }
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
    ap_rprintf(r, "<dt>Manager: pid %ld (%s), started %s, up %s</dt></dl>\n",
               (long)s->manager_pid, s->manager_up ? "running" : "not running",
               human_time(p, s->manager_started),
               duration(p, fcgi_pm_status_age(s, s->manager_started)));
    html_server(r, s);
    for (i = 0; i < s->napps; i++) {
        status_where at = { p, s, &s->apps[i], NULL };

        ap_rvputs(r, "<h2>App <code>", ap_escape_html(p, s->apps[i].name),
                  "</code></h2>\n", NULL);
        html_row_table(r, "app", SF_APP, &at);
        html_workers(r, s, &s->apps[i]);
    }
    ap_rputs("</body></html>\n", r);
}

/*--------------------------------------------------------------------------
 * The handler
 *------------------------------------------------------------------------*/

enum { FMT_HTML, FMT_JSON, FMT_PROMETHEUS, FMT_AUTO, FMT_FIELDS, FMT_BAD };

/* ?auto, ?fields, ?format=html|json|prometheus|auto|fields (also after
 * other args). */
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
        else if (!strcmp(tok, "fields")) {
            fmt = FMT_FIELDS;
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
            else if (!strcasecmp(v, "fields")) {
                fmt = FMT_FIELDS;
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
    if (fmt == FMT_FIELDS) {
        fcgi_pm_status_render_fields(r);
        return OK;
    }
    s = fcgi_pm_status_snapshot_take(r->pool, 1);
    switch (fmt) {
    case FMT_JSON:
        fcgi_pm_status_render_json(r, s);
        break;
    case FMT_PROMETHEUS:
        fcgi_pm_status_render_prometheus(r, s);
        break;
    case FMT_AUTO:
        fcgi_pm_status_render_auto(r, s);
        break;
    default:
        render_html(r, s);
        break;
    }
    return OK;
}

/*--------------------------------------------------------------------------
 * The mod_status section: the manager's figures, and the app fields
 * marked brief
 *------------------------------------------------------------------------*/

/* AP_STATUS_NOTABLE: one line per app. */
static void section_app_lines(request_rec *r, const status_snapshot *s)
{
    int i, k;

    for (i = 0; i < s->napps; i++) {
        status_where at = { r->pool, s, &s->apps[i], NULL };
        const char *sep = ": ";

        ap_rvputs(r, "<p>App ", ap_escape_html(r->pool, s->apps[i].name), NULL);
        for (k = 0; k < fcgi_pm_status_nfields; k++) {
            const status_field *f = &fcgi_pm_status_fields[k];
            status_value v;
            if (f->scope != SF_APP || !f->brief || f->type == SF_KEY) {
                continue;
            }
            fcgi_pm_status_field_get(f, &at, &v);
            ap_rvputs(r, sep, f->name.html, " ",
                      html_value(r->pool, f, &v), NULL);
            sep = ", ";
        }
        ap_rputs("</p>\n", r);
    }
}

static void section_app_table(request_rec *r, const status_snapshot *s)
{
    int i, k;

    ap_rputs("<table border=\"0\"><tr>", r);
    for (k = 0; k < fcgi_pm_status_nfields; k++) {
        const status_field *f = &fcgi_pm_status_fields[k];
        if (f->scope == SF_APP && f->brief) {
            ap_rvputs(r, "<th>", f->name.html, "</th>", NULL);
        }
    }
    ap_rputs("</tr>\n", r);
    for (i = 0; i < s->napps; i++) {
        status_where at = { r->pool, s, &s->apps[i], NULL };

        ap_rputs("<tr>", r);
        for (k = 0; k < fcgi_pm_status_nfields; k++) {
            const status_field *f = &fcgi_pm_status_fields[k];
            status_value v;
            if (f->scope == SF_APP && f->brief) {
                fcgi_pm_status_field_get(f, &at, &v);
                ap_rvputs(r, "<td>", html_value(r->pool, f, &v), "</td>",
                          NULL);
            }
        }
        ap_rputs("</tr>\n", r);
    }
    ap_rputs("</table>\n", r);
}

static int status_hook(request_rec *r, int flags)
{
    apr_pool_t *p = r->pool;
    status_snapshot *s = fcgi_pm_status_snapshot_take(p, 0);
    status_where at = { p, s, NULL, NULL };

    if (flags & AP_STATUS_SHORT) {
        fcgi_pm_status_auto_fields(r, SF_SERVER, &at, "FcgiPm");
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
               duration(p, fcgi_pm_status_age(s, s->manager_started)),
               s->gracefuls, s->napps, s->workers, s->count[ACT_BUSY],
               s->requests);
    if (flags & AP_STATUS_NOTABLE) {
        section_app_lines(r, s);
    }
    else {
        section_app_table(r, s);
    }
    return OK;
}

void fcgi_pm_status_register_hooks(apr_pool_t *p)
{
    APR_OPTIONAL_HOOK(ap, status_hook, status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
