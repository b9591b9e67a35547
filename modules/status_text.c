/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The status page's machine-read text formats, each a walk over the one
 * table of fields (fcgi_pm_status_fields.h): ?format=json, ?auto (and the
 * mod_status section's FcgiPm* lines) and ?fields, the table itself.
 */
#include "fcgi_pm_status_render.h"

#include "http_protocol.h"
#include "apr_strings.h"

#include <string.h>

#define FIELD(i) (&fcgi_pm_status_fields[i])

/*--------------------------------------------------------------------------
 * JSON
 *------------------------------------------------------------------------*/

static void json_value(request_rec *r, const status_field *f,
                       const status_value *v)
{
    if (!v->known) {
        ap_rputs("null", r);
    }
    else if (f->type == SF_FLAG) {
        ap_rputs(v->num ? "true" : "false", r);
    }
    else if (v->text) {
        ap_rvputs(r, "\"", fcgi_pm_status_escape(r->pool, v->text, ESC_JSON),
                  "\"", NULL);
    }
    else {
        ap_rprintf(r, "%.*f", f->decimals, v->num);
    }
}

/* KEY, on a line of its own at indent IND; KEY is one of the table's
 * names (no escaping needed). */
static void json_key(request_rec *r, int *first, const char *ind,
                     const char *key)
{
    ap_rvputs(r, *first ? "\n" : ",\n", ind, "\"", key, "\": ", NULL);
    *first = 0;
}

/* F under its name and its former one. */
static void json_field(request_rec *r, int *first, const char *ind,
                       const status_field *f, const status_value *v)
{
    json_key(r, first, ind, f->name.json);
    json_value(r, f, v);
    if (f->old.json) {
        json_key(r, first, ind, f->old.json);
        json_value(r, f, v);
    }
}

/* The index after the fields from I on that share I's scope and JSON
 * group. */
static int json_group_end(int i)
{
    const status_field *f = FIELD(i);
    int j = i + 1;

    while (j < fcgi_pm_status_nfields && FIELD(j)->scope == f->scope
           && FIELD(j)->json_group
           && !strcmp(FIELD(j)->json_group, f->json_group)) {
        j++;
    }
    return j;
}

/* Fields FROM to TO (one group) as an object; null when none is known. */
static void json_group(request_rec *r, int *first, const char *ind,
                       int from, int to, const status_where *at)
{
    status_value *v = apr_pcalloc(r->pool, (to - from) * sizeof(*v));
    const char *inner = apr_pstrcat(r->pool, ind, "  ", NULL);
    int k, known = 0, inner_first = 1;

    for (k = from; k < to; k++) {
        fcgi_pm_status_field_get(FIELD(k), at, &v[k - from]);
        known |= v[k - from].known;
    }
    json_key(r, first, ind, FIELD(from)->json_group);
    if (!known) {
        ap_rputs("null", r);
        return;
    }
    ap_rputs("{", r);
    for (k = from; k < to; k++) {
        json_field(r, &inner_first, inner, FIELD(k), &v[k - from]);
    }
    ap_rvputs(r, "\n", ind, "}", NULL);
}

/* The members of SCOPE's fields at AT. */
static void json_fields(request_rec *r, status_field_scope scope,
                        const status_where *at, const char *ind, int *first)
{
    int i;

    for (i = 0; i < fcgi_pm_status_nfields; i++) {
        status_value v;

        if (FIELD(i)->scope != scope) {
            continue;
        }
        if (FIELD(i)->json_group) {
            int end = json_group_end(i);
            json_group(r, first, ind, i, end, at);
            i = end - 1;
            continue;
        }
        fcgi_pm_status_field_get(FIELD(i), at, &v);
        json_field(r, first, ind, FIELD(i), &v);
    }
}

static void json_app(request_rec *r, const status_snapshot *s,
                     const status_app *a)
{
    status_where at = { r->pool, s, a, NULL };
    int j, first = 1;

    ap_rputs("    {", r);
    json_fields(r, SF_APP, &at, "      ", &first);
    json_key(r, &first, "      ", "workers");
    ap_rputs("[", r);
    for (j = 0; j < a->nworkers; j++) {
        int wfirst = 1;

        at.w = &a->workers[j];
        ap_rputs(j ? ",\n        {" : "\n        {", r);
        json_fields(r, SF_WORKER, &at, "          ", &wfirst);
        ap_rputs("\n        }", r);
    }
    ap_rputs(a->nworkers ? "\n      ]\n    }" : "]\n    }", r);
}

void fcgi_pm_status_render_json(request_rec *r, const status_snapshot *s)
{
    status_where at = { r->pool, s, NULL, NULL };
    int i, first = 1;

    ap_set_content_type(r, "application/json");
    ap_rputs("{", r);
    json_fields(r, SF_SERVER, &at, "  ", &first);
    json_key(r, &first, "  ", "apps");
    ap_rputs("[", r);
    for (i = 0; i < s->napps; i++) {
        ap_rputs(i ? ",\n" : "\n", r);
        json_app(r, s, &s->apps[i]);
    }
    ap_rputs(s->napps ? "\n  ]\n}\n" : "]\n}\n", r);
}

/*--------------------------------------------------------------------------
 * ?auto: "Key: value" lines, like mod_status
 *------------------------------------------------------------------------*/

/* "PREFIXKEY: value": times in whole seconds, flags 0 or 1, text on one
 * line.  Numbers are printed straight into the answer: a page of many
 * apps allocates nothing per figure. */
static void auto_line(request_rec *r, const char *prefix, const char *key,
                      const status_field *f, const status_value *v)
{
    if (v->text) {
        ap_rvputs(r, prefix, key, ": ",
                  fcgi_pm_status_escape(r->pool, v->text, ESC_TEXT), "\n",
                  NULL);
    }
    else if (f->type == SF_TIME) {
        ap_rprintf(r, "%s%s: %" APR_INT64_T_FMT "\n", prefix, key,
                   (apr_int64_t)v->num);
    }
    else {
        ap_rprintf(r, "%s%s: %.*f\n", prefix, key, f->decimals, v->num);
    }
}

void fcgi_pm_status_auto_fields(request_rec *r, status_field_scope scope,
                                const status_where *at, const char *prefix)
{
    int i;

    for (i = 0; i < fcgi_pm_status_nfields; i++) {
        const status_field *f = FIELD(i);
        status_value v;

        if (f->scope != scope || f->type == SF_KEY || !f->name.autokey) {
            continue;
        }
        fcgi_pm_status_field_get(f, at, &v);
        if (!v.known) {
            continue;
        }
        auto_line(r, prefix, f->name.autokey, f, &v);
        if (f->old.autokey) {
            auto_line(r, prefix, f->old.autokey, f, &v);
        }
    }
}

/* App names are letters, digits, '.', '_' and '-': an app's field is
 * what follows the last dot of "App.NAME.Field".  Workers have lines of
 * their own, "Worker.PID.Field". */
void fcgi_pm_status_render_auto(request_rec *r, const status_snapshot *s)
{
    apr_pool_t *p = r->pool;
    status_where at = { p, s, NULL, NULL };
    int i, j;

    ap_set_content_type(r, "text/plain; charset=utf-8");
    fcgi_pm_status_auto_fields(r, SF_SERVER, &at, "");
    if (!s->attached) {
        return;
    }
    ap_rputs("AppNames:", r);
    for (i = 0; i < s->napps; i++) {
        ap_rvputs(r, " ", fcgi_pm_status_escape(p, s->apps[i].name, ESC_TEXT),
                  NULL);
    }
    ap_rputs("\n", r);
    for (i = 0; i < s->napps; i++) {
        const status_app *a = &s->apps[i];
        const char *name = fcgi_pm_status_escape(p, a->name, ESC_TEXT);
        const char *prefix = apr_pstrcat(p, "App.", name, ".", NULL);
        at.a = a;
        at.w = NULL;
        fcgi_pm_status_auto_fields(r, SF_APP, &at, prefix);
        ap_rvputs(r, prefix, "Workers:", NULL);
        for (j = 0; j < a->nworkers; j++) {
            ap_rprintf(r, " %ld:%s", (long)a->workers[j].pid,
                       fcgi_pm_status_act_names[a->workers[j].act]);
        }
        ap_rputs("\n", r);
        for (j = 0; j < a->nworkers; j++) {
            const char *wp = apr_psprintf(p, "Worker.%ld.",
                                          (long)a->workers[j].pid);
            at.w = &a->workers[j];
            ap_rvputs(r, wp, "App: ", name, "\n", NULL);
            fcgi_pm_status_auto_fields(r, SF_WORKER, &at, wp);
        }
    }
}

/*--------------------------------------------------------------------------
 * ?fields: the table, one tab-separated line per field
 *------------------------------------------------------------------------*/

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

void fcgi_pm_status_render_fields(request_rec *r)
{
    int i;

    ap_set_content_type(r, "text/plain; charset=utf-8");
    ap_rputs("# scope\ttype\tunit\tjson\tauto\tprometheus\tprom_label"
             "\tprom_extra\thtml\tbrief\told_json\told_auto\told_prometheus"
             "\thelp\n", r);
    for (i = 0; i < fcgi_pm_status_nfields; i++) {
        const status_field *f = FIELD(i);
        const char *json = f->json_group
                           ? apr_pstrcat(r->pool, f->json_group, ".",
                                         f->name.json, NULL)
                           : f->name.json;
        const char *old_json = f->old.json && f->json_group
                               ? apr_pstrcat(r->pool, f->json_group, ".",
                                             f->old.json, NULL)
                               : f->old.json;

        ap_rvputs(r, fcgi_pm_status_scope_name(f->scope), "\t",
                  fcgi_pm_status_type_name(f->type), "\t", or_dash(f->unit),
                  "\t", json, "\t", or_dash(f->name.autokey), "\t",
                  or_dash(f->name.prom), "\t", or_dash(f->prom_label), "\t",
                  or_dash(f->prom_extra), "\t", or_dash(f->name.html), "\t",
                  f->brief ? "1" : "0", "\t", or_dash(old_json), "\t",
                  or_dash(f->old.autokey), "\t", or_dash(f->old.prom), "\t",
                  f->help, "\n", NULL);
    }
}
