/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The status page in Prometheus text exposition format 0.0.4
 * (?format=prometheus), a walk over the one table of fields
 * (fcgi_pm_status_fields.h).  The fields that share a metric name form
 * one family: their HELP and TYPE come once, then every sample of the
 * family, app by app (label app) and worker by worker (labels app, pid).
 * A field that is not known for an app or a worker has no sample there.
 */
#include "fcgi_pm.h"
#include "fcgi_pm_status_render.h"

#include "http_protocol.h"
#include "apr_strings.h"

#include <string.h>

#define FIELD(i) (&fcgi_pm_status_fields[i])

typedef struct {
    request_rec *r;
    const status_snapshot *s;
    const char **app_labels;            /* app="NAME", escaped, per app */
} prom_page;

static void prom_head(request_rec *r, const char *name, const char *type,
                      const char *help)
{
    ap_rprintf(r, "# HELP %s %s\n# TYPE %s %s\n", name,
               fcgi_pm_status_escape(r->pool, help, ESC_PROM_HELP), name, type);
}

/* LABELS: already escaped, without braces; "" for none. */
static void prom_sample(request_rec *r, const char *name, const char *labels,
                        double v)
{
    if (*labels) {
        ap_rprintf(r, "%s{%s} %.15g\n", name, labels, v);
    }
    else {
        ap_rprintf(r, "%s %.15g\n", name, v);
    }
}

/* LABELS and MORE joined by a comma. */
static const char *join(apr_pool_t *p, const char *labels, const char *more)
{
    if (!*labels) {
        return more;
    }
    return *more ? apr_pstrcat(p, labels, ",", more, NULL) : labels;
}

/* A value as a label value. */
static const char *label_value(apr_pool_t *p, const status_field *f,
                               const status_value *v)
{
    return fcgi_pm_status_escape(p, v->text ? v->text
                                 : fcgi_pm_status_number(p, f, v->num),
                                 ESC_PROM_LABEL);
}

/* Fields FROM to TO with a prom_label: one sample of value 1 whose labels
 * carry the known ones; none when none is known. */
static void info_sample(request_rec *r, const char *name, int from, int to,
                        const status_where *at, const char *labels)
{
    const char *l = labels;
    int k, known = 0;

    for (k = from; k < to; k++) {
        status_value v;

        fcgi_pm_status_field_get(FIELD(k), at, &v);
        if (v.known) {
            l = join(r->pool, l, apr_pstrcat(r->pool, FIELD(k)->prom_label,
                                             "=\"", label_value(r->pool,
                                                                FIELD(k), &v),
                                             "\"", NULL));
            known = 1;
        }
    }
    if (known) {
        prom_sample(r, name, l, 1);
    }
}

/* Field F under NAME: its value, or for a state without prom_label one
 * sample per state it can take (1 for the current one). */
static void value_samples(request_rec *r, const char *name,
                          const status_field *f, const status_where *at,
                          const char *labels)
{
    status_value v;
    int m;

    fcgi_pm_status_field_get(f, at, &v);
    if (!v.known) {
        return;
    }
    if (f->type == SF_STATE && f->states) {
        for (m = 0; f->states[m]; m++) {
            prom_sample(r, name, join(r->pool, labels,
                                      apr_pstrcat(r->pool, "state=\"",
                                                  f->states[m], "\"", NULL)),
                        v.text && !strcmp(v.text, f->states[m]));
        }
        return;
    }
    prom_sample(r, name, f->prom_extra ? join(r->pool, labels, f->prom_extra)
                                       : labels, v.num);
}

/* The samples of fields FROM to TO (one family, named NAME) at AT. */
static void family_samples(request_rec *r, const char *name, int from, int to,
                           const status_where *at, const char *labels)
{
    int k;

    if (FIELD(from)->prom_label) {
        info_sample(r, name, from, to, at, labels);
        return;
    }
    for (k = from; k < to; k++) {
        value_samples(r, name, FIELD(k), at, labels);
    }
}

/* The family of fields FROM to TO under NAME, for every server, app or
 * worker of their scope. */
static void prom_family(prom_page *pg, const char *name, const char *help,
                        int from, int to)
{
    request_rec *r = pg->r;
    const status_snapshot *s = pg->s;
    status_where at = { r->pool, s, NULL, NULL };
    int i, j;

    prom_head(r, name, FIELD(from)->type == SF_COUNTER ? "counter" : "gauge",
              help);
    if (FIELD(from)->scope == SF_SERVER) {
        family_samples(r, name, from, to, &at, "");
        return;
    }
    for (i = 0; i < s->napps; i++) {
        at.a = &s->apps[i];
        if (FIELD(from)->scope == SF_APP) {
            family_samples(r, name, from, to, &at, pg->app_labels[i]);
            continue;
        }
        for (j = 0; j < at.a->nworkers; j++) {
            at.w = &at.a->workers[j];
            family_samples(r, name, from, to, &at,
                           apr_psprintf(r->pool, "%s,pid=\"%ld\"",
                                        pg->app_labels[i], (long)at.w->pid));
        }
    }
}

/* The index after the fields from I on with I's scope and metric name. */
static int family_end(int i)
{
    int j = i + 1;

    while (j < fcgi_pm_status_nfields
           && FIELD(j)->scope == FIELD(i)->scope && FIELD(j)->name.prom
           && !strcmp(FIELD(j)->name.prom, FIELD(i)->name.prom)) {
        j++;
    }
    return j;
}

void fcgi_pm_status_render_prometheus(request_rec *r, const status_snapshot *s)
{
    apr_pool_t *p = r->pool;
    prom_page pg = { r, s, apr_pcalloc(p, (s->napps + 1) * sizeof(char *)) };
    int i;

    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    for (i = 0; i < s->napps; i++) {
        pg.app_labels[i] = apr_pstrcat(p, "app=\"",
                                       fcgi_pm_status_escape(p, s->apps[i].name,
                                                             ESC_PROM_LABEL),
                                       "\"", NULL);
    }
    for (i = 0; i < fcgi_pm_status_nfields; i++) {
        const status_field *f = FIELD(i);
        int end;

        if (!f->name.prom) {
            continue;
        }
        end = family_end(i);
        prom_family(&pg, f->name.prom, f->family_help ? f->family_help : f->help,
                    i, end);
        if (f->old.prom) {
            prom_family(&pg, f->old.prom,
                        apr_pstrcat(p, "Former name of ", f->name.prom, ": ",
                                    f->help, NULL), i, end);
        }
        i = end - 1;
    }
}
