/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the status page's renderers share (status_render.c: HTML, JSON,
 * ?auto, the mod_status section; status_prom.c: Prometheus).  Internal to
 * the status page.
 */
#ifndef FCGI_PM_STATUS_RENDER_H
#define FCGI_PM_STATUS_RENDER_H

#include "httpd.h"
#include "fcgi_pm_status_snapshot.h"

/* A worker's activity (ACT_*) as the page names it. */
extern const char *const fcgi_pm_status_act_names[ACT_COUNT];

enum { ESC_JSON, ESC_PROM_LABEL, ESC_PROM_HELP, ESC_TEXT };

/* S escaped for a JSON string, a Prometheus label value or HELP text, or
 * a one-line text value (HOW: ESC_*); bytes that are not UTF-8 become
 * U+FFFD. */
const char *fcgi_pm_status_escape(apr_pool_t *p, const char *s, int how);

/* T in seconds. */
double fcgi_pm_status_seconds(apr_time_t t);

/* Whole seconds from SINCE to the snapshot's time (0 when unset). */
apr_int64_t fcgi_pm_status_age(const status_snapshot *s, apr_time_t since);

void fcgi_pm_status_render_prometheus(request_rec *r, const status_snapshot *s);

#endif /* FCGI_PM_STATUS_RENDER_H */
