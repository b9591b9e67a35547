/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The figures of the status page, defined once (status_fields.c).
 *
 * Every format (HTML, JSON, Prometheus, ?auto, the mod_status section)
 * walks this one table: a new figure is one entry there, and it shows up
 * in every format with the same meaning.  Each entry gives the figure's
 * name in each format (the formats have their own conventions: snake_case
 * keys in JSON, CamelCase in ?auto, fcgi_pm_*_total and unit suffixes in
 * Prometheus), its scope, its type, its unit, its help text (the
 * Prometheus HELP line; docs/STATUS.md explains it at length) and the
 * function that reads it from the snapshot.  ?fields prints the table;
 * t/10-status.t checks docs/STATUS.md and every format against it.
 * Internal to the status page.
 */
#ifndef FCGI_PM_STATUS_FIELDS_H
#define FCGI_PM_STATUS_FIELDS_H

#include "fcgi_pm_status_snapshot.h"

/* Whose figure it is: the process manager as a whole, one app, one
 * worker. */
typedef enum {
    SF_SERVER = 0,
    SF_APP,
    SF_WORKER,
    SF_SCOPES
} status_field_scope;

typedef enum {
    SF_KEY,         /* names the app or the worker: JSON key, Prometheus
                     * label (prom_label), ?auto key part, HTML heading */
    SF_TEXT,        /* a string */
    SF_GAUGE,       /* a number that goes up and down */
    SF_COUNTER,     /* a number that only grows while httpd runs */
    SF_TIME,        /* a moment, seconds since the epoch */
    SF_FLAG,        /* 0 or 1: JSON false/true */
    SF_STATE        /* one name of STATES: Prometheus one sample per name */
} status_field_type;

/* A figure as read from the snapshot.  Not KNOWN: JSON null, "-" in
 * HTML, left out of ?auto and Prometheus. */
typedef struct {
    int known;
    double num;                 /* numbers, times, flags */
    const char *text;           /* SF_KEY, SF_TEXT, SF_STATE */
} status_value;

/* Where a figure is read from: the snapshot, and the app and worker
 * being rendered (NULL for the scopes above them). */
typedef struct {
    apr_pool_t *p;
    const status_snapshot *s;
    const status_app *a;
    const status_worker *w;
} status_where;

/* Names of one figure in each format; NULL: not in that format under
 * that name. */
typedef struct {
    const char *json;
    const char *autokey;        /* ?auto (and FcgiPm... in mod_status) */
    const char *prom;           /* metric (family) name */
    const char *html;           /* column heading */
} status_names;

typedef struct {
    status_names name;          /* the current names; name.json is the
                                 * figure's name in docs/STATUS.md */
    status_names old;           /* former names still printed (aliases) */
    status_field_scope scope;
    status_field_type type;
    const char *unit;           /* "" for a plain count */
    int decimals;               /* digits after the point in JSON, HTML */
    const char *json_group;     /* JSON: inside this object, NULL: none */
    const char *prom_label;     /* Prometheus: a label of PROM (an info
                                 * metric, value 1), not its value */
    const char *prom_extra;     /* Prometheus: a fixed label, NULL: none */
    int brief;                  /* also in the mod_status section's table */
    const char *const *states;  /* SF_STATE: every name it can take */
    const char *help;
    void (*get)(const status_where *at, status_value *v);
    const char *family_help;    /* Prometheus HELP of a family of several
                                 * fields, on its first; NULL: help */
} status_field;

extern const status_field fcgi_pm_status_fields[];
extern const int fcgi_pm_status_nfields;

/* A worker's activity (ACT_*) as the page names it. */
extern const char *const fcgi_pm_status_act_names[ACT_COUNT];

/* F's value at AT. */
void fcgi_pm_status_field_get(const status_field *f, const status_where *at,
                              status_value *v);

/* Names of scopes and types as ?fields and docs/STATUS.md give them. */
const char *fcgi_pm_status_scope_name(status_field_scope scope);
const char *fcgi_pm_status_type_name(status_field_type type);

#endif /* FCGI_PM_STATUS_FIELDS_H */
