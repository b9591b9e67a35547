/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FcgiPmPass: hand a request to mod_proxy_fcgi for an app's socket.
 */
#ifndef FCGI_PM_ROUTE_H
#define FCGI_PM_ROUTE_H

#include "fcgi_pm.h"

/* Hand R to mod_proxy with HANDLER ("proxy:unix:...|fcgi://...") for the
 * app NAME, whose mod_proxy worker has PROXY_APP's settings: 503 with
 * Retry-After at once when the app is backing off with no worker;
 * PASS_HEADERS and the other CGI rules applied (fcgi_pm_cgi_prepare);
 * counted in the app's slot.  Returns OK or an HTTP status. */
int fcgi_pm_route_to(request_rec *r, const char *name, const char *handler,
                     const fcgi_pm_app_conf *proxy_app,
                     const apr_array_header_t *pass_headers);

/* fixups hook, run before mod_proxy's. */
int fcgi_pm_route_fixup(request_rec *r);

#endif /* FCGI_PM_ROUTE_H */
