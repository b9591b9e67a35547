/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the status page's renderers share: status_render.c (HTML, the
 * mod_status section, the handler), status_text.c (JSON, ?auto, ?fields)
 * and status_prom.c (Prometheus).  Each of them walks the one table of
 * fields (fcgi_pm_status_fields.h).  Internal to the status page.
 */
#ifndef FCGI_PM_STATUS_RENDER_H
#define FCGI_PM_STATUS_RENDER_H

#include "httpd.h"
#include "fcgi_pm_status_snapshot.h"
#include "fcgi_pm_status_fields.h"

enum { ESC_JSON, ESC_PROM_LABEL, ESC_PROM_HELP, ESC_TEXT };

/* S escaped for a JSON string, a Prometheus label value or HELP text, or
 * a one-line text value (HOW: ESC_*); bytes that are not UTF-8 become
 * U+FFFD. */
const char *fcgi_pm_status_escape(apr_pool_t *p, const char *s, int how);

/* T in seconds. */
double fcgi_pm_status_seconds(apr_time_t t);

/* Whole seconds from SINCE to the snapshot's time (0 when unset). */
apr_int64_t fcgi_pm_status_age(const status_snapshot *s, apr_time_t since);

/* X with F's decimals. */
const char *fcgi_pm_status_number(apr_pool_t *p, const status_field *f,
                                  double x);

/* "PREFIXKey: value" lines for the known fields of SCOPE at AT (?auto,
 * and the mod_status section's with PREFIX "FcgiPm"). */
void fcgi_pm_status_auto_fields(request_rec *r, status_field_scope scope,
                                const status_where *at, const char *prefix);

void fcgi_pm_status_render_json(request_rec *r, const status_snapshot *s);
void fcgi_pm_status_render_auto(request_rec *r, const status_snapshot *s);
void fcgi_pm_status_render_fields(request_rec *r);
void fcgi_pm_status_render_prometheus(request_rec *r, const status_snapshot *s);

#endif /* FCGI_PM_STATUS_RENDER_H */
