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
 *
 * Every format, and the mod_status section, first names the release of the
 * module that serves the page (FCGI_PM_VERSION; "version", "protocol";
 * Prometheus: fcgi_pm_build_info{version,protocol} 1).  A manager started
 * by an earlier module of the same protocol may still run older code.
 *
 * Manager figures: pid, start time, uptime, "generation" (the httpd
 * configuration generation the manager applied last, AP_SQ_CONFIG_GEN: 1
 * after the start, one more at each graceful or restart), "gracefuls"
 * (generation - 1: the gracefuls and restarts the process manager went
 * through without being restarted; a manager re-forked after a crash
 * inherits the count, see "manager forks"), "reloads" (configuration
 * generations handed to managers, counting the first one and any re-sent
 * to a re-forked manager) and "manager forks" (managers started by this
 * httpd: 1 unless one died).
 *
 * Worker states: starting (forked, not accepting yet), idle (blocked in
 * accept() on its listen socket), busy (ready, not in accept(): serving a
 * request), retiring (told to finish and exit), and "ready" when the
 * worker accepts but /proc does not tell idle from busy (a worker of
 * another user than httpd's children; counted as "unknown" in JSON).
 *
 * Listen queue: connections waiting to be accepted on the app's socket
 * (unix or TCP), from the kernel's socket diagnostics (NETLINK_SOCK_DIAG);
 * null / left out where the kernel does not tell.
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
