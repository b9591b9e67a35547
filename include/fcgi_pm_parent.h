/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The httpd parent's side: keep one manager running across generations
 * and hand it each generation's apps.
 */
#ifndef FCGI_PM_PARENT_H
#define FCGI_PM_PARENT_H

#include "fcgi_pm.h"
#include "fcgi_pm_table.h"

/* post_config (every generation, skipped for the configuration-test pass). */
int fcgi_pm_parent_post_config(apr_pool_t *pconf, server_rec *s,
                               fcgi_pm_server_conf *sc);

/* child_init: close in httpd's children what only the parent needs. */
void fcgi_pm_parent_child_init(apr_pool_t *p, server_rec *s);

/* monitor hook: re-fork a manager that kept dying, after a pause. */
int fcgi_pm_parent_monitor(apr_pool_t *p, server_rec *s);

/* The shared table (NULL before the first real post_config). */
fcgi_pm_table *fcgi_pm_parent_table(void);

#endif /* FCGI_PM_PARENT_H */
