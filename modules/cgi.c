/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CGI semantics on top of mod_proxy_fcgi (see fcgi_pm_cgi.h).
 *
 * What httpd 2.4.71's mod_proxy_fcgi does by itself, and so what is left
 * to do here:
 *
 * - Its params are r->subprocess_env after ap_add_common_vars() and
 *   ap_add_cgi_vars() (then ProxyFCGISetEnvIf).  ap_add_common_vars()
 *   leaves out Authorization and Proxy-Authorization unless CGIPassAuth
 *   is On, and Proxy always; it sets CONTENT_LENGTH only from a
 *   Content-Length header.  What we put in subprocess_env at fixup time
 *   is sent, except where httpd computes a variable of the same name: its
 *   value is overlapped onto ours.  So passed headers and CONTENT_LENGTH 0
 *   are set there.  mod_fcgid's FcgidPassHeader NAME sets both NAME and
 *   HTTP_NAME; Debian's mod_fcgid 2.3.9 sets CONTENT_LENGTH to the length
 *   of the body it read, 0 without one (upstream's trunk sets it only for
 *   a chunked body).  mod_proxy_fcgi sets a length itself for a chunked
 *   body that fits its prefetch; we leave a request with a body alone.
 *
 * - It reads the answer's headers with ap_scan_script_header_err_brigade_ex()
 *   which keeps "Location" in r->headers_out and sets r->status only from
 *   "Status"; it then passes the answer on as a 200 (no switch of its own
 *   does what mod_cgi's handler does after that scan).  CGI (RFC 3875
 *   6.2.2, 6.2.3) and mod_cgi/mod_fcgid make a local path an internal
 *   redirect and any other Location a 302.  Both need the answer not to
 *   be sent, and the decision made once the app has answered, where a
 *   handler would return: an output filter of ours, ahead of httpd's
 *   protocol filters, sees the headers with the first brigade and drops
 *   the app's answer when it is a redirect; mod_proxy's request_status
 *   hook, run by proxy_handler once the app's connection is released
 *   with the status it is about to return, then does the internal
 *   redirect (with ap_internal_redirect: the target gets its own handler,
 *   never the proxy's) or changes OK into 302, for which httpd sends its
 *   own page (and ErrorDocument 302 applies), as with mod_cgi.
 */
#include "fcgi_pm_cgi.h"
#include "fcgi_pm.h"

#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_lib.h"
#include "apr_optional_hooks.h"
#include "apr_strings.h"
#include "mod_proxy.h"

APLOG_USE_MODULE(fcgi_pm);

#define LOCATION_FILTER  "FCGI_PM_CGI_LOCATION"
#define HEADER_NAME_MAX  128

static ap_filter_rec_t *location_filter;

typedef enum {
    ANSWER_UNSEEN,      /* no brigade yet: the app's headers are not read */
    ANSWER_AS_IS,       /* sent as the app gave it */
    REDIRECT_LOCAL,     /* Location: /path, no Status: internal redirect */
    REDIRECT_CLIENT     /* any other Location, no Status: 302 */
} answer_kind;

typedef struct {
    answer_kind kind;
    const char *location;
} location_ctx;

const char *fcgi_pm_cgi_check_header_name(apr_pool_t *p, const char *name)
{
    const char *c;

    if (!*name || strlen(name) > HEADER_NAME_MAX) {
        return apr_psprintf(p, "'%s' is not a header name (1 to %d letters, "
                            "digits and '-')", name, HEADER_NAME_MAX);
    }
    for (c = name; *c; c++) {
        if (!apr_isalnum(*c) && *c != '-') {
            /* httpd gives no CGI variable to such a header either: "X_A"
             * and "X-A" would both be HTTP_X_A. */
            return apr_psprintf(p, "'%s' is not a header name that CGI "
                                "can pass (letters, digits and '-' only)",
                                name);
        }
    }
    if (!strcasecmp(name, "Proxy")) {
        return "'Proxy' is never passed: as HTTP_PROXY a client could set "
               "the app's outgoing proxy (httpoxy)";
    }
    return NULL;
}

/* "HTTP_" and NAME in upper case with '-' as '_', as httpd names a
 * header's CGI variable. */
static const char *cgi_variable(apr_pool_t *p, const char *name)
{
    char *v = apr_pstrcat(p, "HTTP_", name, NULL);
    char *c;

    for (c = v + 5; *c; c++) {
        *c = *c == '-' ? '_' : apr_toupper(*c);
    }
    return v;
}

static void pass_headers(request_rec *r, const apr_array_header_t *names)
{
    int i;

    for (i = 0; names && i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        const char *value = apr_table_get(r->headers_in, name);

        if (value) {
            apr_table_setn(r->subprocess_env, name, value);
            apr_table_setn(r->subprocess_env, cgi_variable(r->pool, name),
                           value);
        }
    }
}

/* A request with a Content-Length header gets it from httpd; one with a
 * body but no length (chunked) is left to mod_proxy_fcgi. */
static void zero_length_without_body(request_rec *r)
{
    if (!apr_table_get(r->headers_in, "Content-Length")
        && !ap_request_has_body(r)) {
        apr_table_setn(r->subprocess_env, "CONTENT_LENGTH", "0");
    }
}

void fcgi_pm_cgi_prepare(request_rec *r, const apr_array_header_t *pass_headers_list)
{
    pass_headers(r, pass_headers_list);
    zero_length_without_body(r);
    if (!r->main) {
        location_ctx *ctx = apr_pcalloc(r->pool, sizeof(*ctx));

        ap_add_output_filter_handle(location_filter, ctx, r, r->connection);
    }
}

/* Called with the answer's first brigade: its headers are read.  Only
 * an answer that mod_proxy gives (r->proxyreq, set by its handler) is
 * looked at: should another handler take the request after all, its
 * answer goes out untouched, since no request_status hook would follow. */
static answer_kind kind_of_answer(request_rec *r, const char **location)
{
    const char *loc = apr_table_get(r->headers_out, "Location");

    if (!loc || r->status != HTTP_OK || r->proxyreq == PROXYREQ_NONE) {
        return ANSWER_AS_IS;
    }
    *location = loc;
    /* "//host/x" is a network-path reference: another server's. */
    return loc[0] == '/' && loc[1] != '/' ? REDIRECT_LOCAL : REDIRECT_CLIENT;
}

static int has_eos(apr_bucket_brigade *bb)
{
    apr_bucket *b;

    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
         b = APR_BUCKET_NEXT(b)) {
        if (APR_BUCKET_IS_EOS(b)) {
            return 1;
        }
    }
    return 0;
}

static apr_status_t location_filter_out(ap_filter_t *f, apr_bucket_brigade *bb)
{
    location_ctx *ctx = f->ctx;

    if (ctx->kind == ANSWER_UNSEEN) {
        ctx->kind = kind_of_answer(f->r, &ctx->location);
    }
    if (ctx->kind == ANSWER_AS_IS) {
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    /* A redirect: the app's body is never sent (mod_cgi drops it too).
     * ap_pass_brigade marked the request's end as sent when it handed us
     * the EOS; no filter after us saw it, and httpd's 302 page needs it. */
    if (has_eos(bb)) {
        f->r->eos_sent = 0;
    }
    apr_brigade_cleanup(bb);
    return APR_SUCCESS;
}

static location_ctx *redirect_of(request_rec *r)
{
    ap_filter_t *f;

    for (f = r->output_filters; f; f = f->next) {
        if (f->frec == location_filter && f->r == r) {
            location_ctx *ctx = f->ctx;
            return ctx->kind == REDIRECT_LOCAL || ctx->kind == REDIRECT_CLIENT
                   ? ctx : NULL;
        }
    }
    return NULL;
}

/* As mod_cgi: the redirected request is a GET without a body (the body
 * went to the app). */
static void internal_redirect(request_rec *r, const char *location)
{
    r->method = "GET";
    r->method_number = M_GET;
    apr_table_unset(r->headers_in, "Content-Length");
    apr_table_unset(r->headers_in, "Transfer-Encoding");
    ap_internal_redirect(location, r);
}

/*
 * mod_proxy's request_status hook: STATUS is what proxy_handler is about
 * to return for R, the app's answer read and its connection released.
 */
static int location_request_status(int *status, request_rec *r)
{
    location_ctx *ctx = redirect_of(r);

    if (!ctx || !status || *status != OK) {
        return DECLINED;
    }
    if (ctx->kind == REDIRECT_CLIENT) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      "Location '%s' without Status: 302",
                      ap_escape_logitem(r->pool, ctx->location));
        *status = HTTP_MOVED_TEMPORARILY;
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  "Location '%s' without Status: internal redirect",
                  ap_escape_logitem(r->pool, ctx->location));
    internal_redirect(r, ctx->location);
    return OK;
}

void fcgi_pm_cgi_register_hooks(apr_pool_t *p)
{
    location_filter = ap_register_output_filter(LOCATION_FILTER,
                                                location_filter_out, NULL,
                                                AP_FTYPE_RESOURCE);
    APR_OPTIONAL_HOOK(proxy, request_status, location_request_status, NULL,
                      NULL, APR_HOOK_MIDDLE);
}
