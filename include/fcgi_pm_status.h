/*
 * The fcgi-pm-status handler and the mod_status section.
 */
#ifndef FCGI_PM_STATUS_H
#define FCGI_PM_STATUS_H

#include "fcgi_pm.h"

/* handler hook: SetHandler fcgi-pm-status. */
int fcgi_pm_status_handler(request_rec *r);

/* Optional hooks (mod_status). */
void fcgi_pm_status_register_hooks(apr_pool_t *p);

#endif /* FCGI_PM_STATUS_H */
