/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FcgiPmPass NAME: the request goes to mod_proxy_fcgi, exactly as with
 * SetHandler "proxy:unix:/path/NAME.sock|fcgi://fcgi-pm-name", so the
 * data path is httpd child -> worker and the manager is never in it.
 * mod_proxy finds the app's own worker by that name (proxyworker.c:
 * timeouts, flushpackets=auto for streamed answers).  Here we only pick
 * the socket, count the request in the table and answer 503 at once for
 * an app that cannot serve (backing off after start-up failures), rather
 * than letting the request wait in its queue.
 */
#include "fcgi_pm_route.h"
#include "fcgi_pm_cgi.h"
#include "fcgi_pm_parent.h"
#include "fcgi_pm_proxyworker.h"
#include "fcgi_pm_table.h"

#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_request.h"
#include "apr_atomic.h"
#include "apr_strings.h"

APLOG_USE_MODULE(fcgi_pm);

/* One 503 log line per app and second in each httpd child, not one per
 * request: a crash-looping app under traffic must not flood the log. */
static int should_log_refusal(fcgi_pm_table *t, fcgi_pm_app_slot *a)
{
    static apr_time_t last[FCGI_PM_TABLE_APPS];
    apr_size_t i = (apr_size_t)(a - t->apps);
    apr_time_t now = apr_time_now();

    if (i >= FCGI_PM_TABLE_APPS || now - last[i] < apr_time_from_sec(1)) {
        return 0;
    }
    last[i] = now;
    return 1;
}

static apr_status_t request_done(void *data)
{
    fcgi_pm_app_slot *a = data;

    apr_atomic_dec32(&a->in_flight);
    return APR_SUCCESS;
}

int fcgi_pm_route_to(request_rec *r, const char *name, const char *handler,
                     const fcgi_pm_app_conf *proxy_app,
                     const apr_array_header_t *pass_headers)
{
    fcgi_pm_table *t = fcgi_pm_parent_table();
    fcgi_pm_app_slot *a = t ? fcgi_pm_table_find_app(t, name) : NULL;

    if (a && a->state == FCGI_PM_APP_BACKOFF && a->alive == 0) {
        if (should_log_refusal(t, a)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "app %s: not serving (start-up keeps failing, next "
                          "try in %u s at most): 503", name,
                          a->backoff_seconds);
        }
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%u",
                                    a->backoff_seconds ? a->backoff_seconds : 1));
        return HTTP_SERVICE_UNAVAILABLE;
    }
    r->handler = handler;
    fcgi_pm_cgi_prepare(r, pass_headers);
    fcgi_pm_proxyworker_start(r, proxy_app);
    if (a && !r->main) {
        /* Counted when handed over, so that a client that got its answer
         * always finds its request counted. */
        apr_atomic_inc32(&a->requests);
        apr_atomic_inc32(&a->in_flight);
        apr_pool_cleanup_register(r->pool, a, request_done,
                                  apr_pool_cleanup_null);
    }
    return OK;
}

int fcgi_pm_route_fixup(request_rec *r)
{
    fcgi_pm_dir_conf *dc = ap_get_module_config(r->per_dir_config,
                                                &fcgi_pm_module);
    fcgi_pm_server_conf *sc;
    fcgi_pm_app_conf *app;

    if (!dc || !dc->pass || r->proxyreq) {
        return DECLINED;
    }
    sc = ap_get_module_config(ap_server_conf->module_config, &fcgi_pm_module);
    app = apr_hash_get(sc->apps_by_name, dc->pass, APR_HASH_KEY_STRING);
    if (!app || !app->proxy_handler) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      app ? "FcgiPmPass %s: the app has no listen socket "
                            "(see the error at start)"
                          : "FcgiPmPass %s: no such app", dc->pass);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    return fcgi_pm_route_to(r, app->name, app->proxy_handler, app,
                            app->pass_headers);
}
