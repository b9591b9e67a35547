/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FcgiPmPass: hand a request to mod_proxy_fcgi for an app's socket.
 */
#ifndef FCGI_PM_ROUTE_H
#define FCGI_PM_ROUTE_H

#include "fcgi_pm.h"

/* fixups hook, run before mod_proxy's. */
int fcgi_pm_route_fixup(request_rec *r);

#endif /* FCGI_PM_ROUTE_H */
