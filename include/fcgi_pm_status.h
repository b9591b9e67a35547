/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fcgi-pm-status handler and the mod_status section.
 *
 * SetHandler fcgi-pm-status renders the shared-memory table:
 *   (default)            HTML, one table per app, like mod_status
 *   ?format=json         JSON (application/json)
 *   ?format=prometheus   Prometheus text exposition format 0.0.4,
 *                        metric names fcgi_pm_*, labels app, pid, state
 *   ?auto (?format=auto) "Key: value" lines, like mod_status ?auto
 *   ?fields              the table of fields itself (tab-separated)
 *
 * Every figure is defined once, in the table of fields
 * (fcgi_pm_status_fields.h, status_fields.c), which every format walks;
 * docs/STATUS.md gives the meaning, unit and names of each.  The words
 * have one sense each: "ready" workers accept connections and are idle,
 * busy or unknown (not looked at yet); "roll" is an app's rolling-restart
 * number; "config_generation" is httpd's configuration generation the
 * manager applied (both were "generation", still given as an alias).
 *
 * The table is read without locks and without waiting for the manager
 * or the workers: each slot is copied first, then checked.  Nothing from
 * the apps' environment or command line is shown.
 */
#ifndef FCGI_PM_STATUS_H
#define FCGI_PM_STATUS_H

#include "fcgi_pm.h"

/* handler hook: SetHandler fcgi-pm-status. */
int fcgi_pm_status_handler(request_rec *r);

/* Optional hooks (mod_status: a short section in /server-status). */
void fcgi_pm_status_register_hooks(apr_pool_t *p);

#endif /* FCGI_PM_STATUS_H */
