/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FcgiPmPass NAME: the request goes to mod_proxy_fcgi, exactly as with
 * SetHandler "proxy:unix:/path/NAME.sock|fcgi://localhost", so the data
 * path is httpd child -> worker and the manager is never in it.  Here we
 * only pick the socket, count the request in the table and answer 503
 * at once for an app that cannot serve (backing off after start-up
 * failures), rather than letting the request wait in its queue.
 */
#include "fcgi_pm_route.h"
#include "fcgi_pm_parent.h"
#include "fcgi_pm_table.h"

#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_request.h"
#include "apr_atomic.h"
#include "apr_strings.h"
#include "util_filter.h"

APLOG_USE_MODULE(fcgi_pm);

#define STREAM_FILTER     "FCGI_PM_STREAM"
#define FULL_READ_BYTES   8192   /* mod_proxy_fcgi's default read size */

/*
 * mod_proxy_fcgi hands on what it reads from the worker, one read at a
 * time, but without a flush (unless the proxy worker says flushpackets),
 * so httpd would hold a streamed answer back until it fills a buffer.
 * A read shorter than a full buffer means the worker had nothing more
 * ready at that moment: flush then, as flushpackets=auto would.
 *
 * Not for the first piece of an ordinary answer, though: a small answer
 * comes as one piece followed by the end of the stream, and a flush in
 * between would cost a second write for every request.  An answer that
 * says it streams (text/event-stream, or "X-Accel-Buffering: no") is
 * flushed from its first piece; any other from its second.
 */
typedef struct {
    int pieces;                  /* data brigades seen */
    int streaming;               /* the answer says it streams */
} stream_ctx;

static int says_it_streams(request_rec *r)
{
    const char *buffering = apr_table_get(r->headers_out, "X-Accel-Buffering");

    return (r->content_type
            && !strncasecmp(r->content_type, "text/event-stream", 17))
           || (buffering && !strcasecmp(buffering, "no"));
}

static apr_status_t stream_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    stream_ctx *ctx = f->ctx;
    apr_bucket *last = APR_BRIGADE_LAST(bb);
    apr_off_t len = 0;

    if (!ctx) {
        ctx = f->ctx = apr_pcalloc(f->r->pool, sizeof(*ctx));
        ctx->streaming = says_it_streams(f->r);
    }
    if (!APR_BRIGADE_EMPTY(bb) && !APR_BUCKET_IS_EOS(last)
        && !APR_BUCKET_IS_FLUSH(last)
        && apr_brigade_length(bb, 0, &len) == APR_SUCCESS && len > 0
        && ++ctx->pieces >= (ctx->streaming ? 1 : 2)
        && len < FULL_READ_BYTES) {
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(bb->bucket_alloc));
    }
    return ap_pass_brigade(f->next, bb);
}

void fcgi_pm_route_register(apr_pool_t *p)
{
    ap_register_output_filter(STREAM_FILTER, stream_filter, NULL,
                              AP_FTYPE_RESOURCE);
}

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

int fcgi_pm_route_fixup(request_rec *r)
{
    fcgi_pm_dir_conf *dc = ap_get_module_config(r->per_dir_config,
                                                &fcgi_pm_module);
    fcgi_pm_server_conf *sc;
    fcgi_pm_app_conf *app;
    fcgi_pm_table *t;
    fcgi_pm_app_slot *a;

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
    t = fcgi_pm_parent_table();
    a = t ? fcgi_pm_table_find_app(t, app->name) : NULL;
    if (a && a->state == FCGI_PM_APP_BACKOFF && a->alive == 0) {
        if (should_log_refusal(t, a)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "app %s: not serving (start-up keeps failing, next "
                          "try in %u s at most): 503", app->name,
                          a->backoff_seconds);
        }
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%u",
                                    a->backoff_seconds ? a->backoff_seconds : 1));
        return HTTP_SERVICE_UNAVAILABLE;
    }
    r->handler = app->proxy_handler;
    ap_add_output_filter(STREAM_FILTER, NULL, r, r->connection);
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
