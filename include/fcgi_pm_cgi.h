/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CGI semantics apps rely on (RFC 3875, as mod_cgi and mod_fcgid give
 * them), on top of what mod_proxy_fcgi does:
 *
 *   - named request headers that httpd hides from CGI programs
 *     (Authorization) reach the app, as mod_fcgid's FcgidPassHeader gives
 *     them: under the header's own name and as HTTP_NAME;
 *   - CONTENT_LENGTH is 0 on a request without a body;
 *   - "Location:" without "Status:": a local path ("/x") is an internal
 *     redirect (a GET of /x), anything else a 302 with httpd's own page.
 *
 * Independent of FcgiPmPass's structures: any code that hands a request to
 * mod_proxy_fcgi (FcgiPmPass, the fcgid-script handler) calls
 * fcgi_pm_cgi_prepare() once per request, before mod_proxy's handler runs.
 */
#ifndef FCGI_PM_CGI_H
#define FCGI_PM_CGI_H

#include "httpd.h"
#include "apr_tables.h"

/*
 * For request R, about to be handled by mod_proxy's handler (fixups or
 * an earlier handler; R->handler "proxy:..."):
 *   - each header named in PASS_HEADERS (const char *, may be NULL or
 *     empty) that R has goes to R->subprocess_env as NAME and HTTP_NAME
 *     (upper case, '-' as '_'); a variable httpd computes itself wins;
 *   - CONTENT_LENGTH "0" when R has neither Content-Length nor
 *     Transfer-Encoding;
 *   - an output filter that, with the request_status hook registered by
 *     fcgi_pm_cgi_register_hooks, turns an answer of status 200 with a
 *     Location header into the internal redirect or the 302.  Not for
 *     subrequests (R->main): their answer goes out as the app gave it.
 * Call it at most once per request.
 */
void fcgi_pm_cgi_prepare(request_rec *r, const apr_array_header_t *pass_headers);

/* NULL when NAME may be given to fcgi_pm_cgi_prepare as a header to
 * pass, else why not (for a configtest error): NAME must be 1 to 128
 * letters, digits and '-', and not "Proxy" (httpoxy: HTTP_PROXY would
 * configure the app's outgoing proxy). */
const char *fcgi_pm_cgi_check_header_name(apr_pool_t *p, const char *name);

/* The output filter and mod_proxy's request_status hook (register_hooks). */
void fcgi_pm_cgi_register_hooks(apr_pool_t *p);

#endif /* FCGI_PM_CGI_H */
