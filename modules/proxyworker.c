/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A real mod_proxy worker per app.
 *
 * FcgiPmPass sets r->handler to "proxy:unix:SOCK|fcgi://fcgi-pm-NAME"
 * (TCP: "proxy:fcgi://IP:PORT").  mod_proxy looks the request's worker up
 * by "fcgi://HOST[:PORT]" (ap_proxy_get_worker_ex, the unix: part taken
 * off first), in the configuration of the request's server.  Without a
 * worker of that name it uses its default reverse worker, whose settings
 * are nobody's.  So at check_config, once the sockets' paths are known
 * (FcgiPmSocketDir may come after the apps), each app that an FcgiPmPass
 * uses gets its worker, defined by mod_proxy itself: we call its ProxySet
 * directive as if it were written in <Proxy "fcgi://HOST">, which creates
 * the worker and checks and sets its parameters:
 *
 *   flushpackets=auto flushwait=10   streamed answers reach the client as
 *                                    the app writes them
 *   retry=0 status=+I                a failed connect never takes the app
 *                                    out for mod_proxy's retry (60 s)
 *   timeout=  connectiontimeout=     IOTimeout (capped by MaxRequestTime),
 *                                    ConnectTimeout, when set
 *
 * Why ProxySet, found with ap_find_command_in_modules: mod_fcgi_pm may be
 * loaded before mod_proxy (Debian loads the .load files of mods-enabled in alphabetical
 * order), so it links nothing of mod_proxy (a reference to
 * ap_proxy_define_worker would fail at dlopen); by check_config every
 * module is loaded.  Workers that are not members of a balancer live in
 * the configuration pool and are initialised in child_init (mod_proxy's
 * child_init walks every server's workers), so check_config is early
 * enough, and a graceful defines them again in the new generation:
 * nothing is kept across generations.
 *
 * Why not "unix:SOCK|fcgi://HOST" as the worker's name: mod_proxy keeps a
 * worker's socket path in 96 bytes (uds_path[PROXY_WORKER_MAX_NAME_SIZE]),
 * while a socket path may have 107.  A worker without a path of its own
 * connects to the path of the request's handler string (mod_proxy puts it
 * in r->notes "uds_path"), which is the app's socket: the same
 * connection, with no limit but sun_path's.
 *
 * Vhosts: by check_config mod_proxy's server configurations are merged
 * (each virtual server has its own copy of the main server's workers), so
 * the worker is defined in each server whose requests can reach the
 * FcgiPmPass: its own server, or every server for an FcgiPmPass of the main
 * server (whose <Location>/<Directory> sections apply to the vhosts too).
 *
 * MaxRequestTime: the manager kills a worker busy on one request longer
 * than that; mod_proxy_fcgi then sees the connection close and answers
 * 503 (502/503 at other moments), and a silent backend makes it time out
 * with 504.  mod_proxy's request_status hook, run by proxy_handler with
 * the status it is about to return, turns an error of a request that ran
 * longer than MaxRequestTime into 504 and logs it with the app's name and
 * the request's duration.  The worker's timeout is capped at
 * MaxRequestTime, so that httpd ends a silent request on time by itself.
 */
#include "fcgi_pm_proxyworker.h"
#include "fcgi_pm_config.h"

#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "apr_hash.h"
#include "apr_optional_hooks.h"
#include "apr_strings.h"
#include "mod_proxy.h"

#include <limits.h>

APLOG_USE_MODULE(fcgi_pm);

/* What the fixup leaves for the request_status hook. */
typedef struct {
    const fcgi_pm_app_conf *app;
    apr_time_t start;
} request_note;

/* mod_proxy's own I/O timeout for S, in seconds: ProxyTimeout when set,
 * else the server's Timeout (ap_proxy_connect_backend). */
static int default_io_timeout(module *proxy, server_rec *s)
{
    const proxy_server_conf *pc = ap_get_module_config(s->module_config, proxy);
    apr_interval_time_t t = pc && pc->timeout_set ? pc->timeout : s->timeout;
    apr_int64_t sec = (t + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC;

    return sec < 1 ? 1 : sec > INT_MAX ? INT_MAX : (int)sec;
}

/* The seconds of the worker's timeout= for APP in S, 0: not set. */
static int worker_io_timeout(module *proxy, server_rec *s,
                             const fcgi_pm_app_conf *app)
{
    int io = app->io_timeout;

    if (app->max_request_time) {
        if (!io) {
            io = default_io_timeout(proxy, s);
        }
        if (io > app->max_request_time) {
            io = app->max_request_time;
        }
    }
    return io;
}

static const char *worker_params(apr_pool_t *p, module *proxy, server_rec *s,
                                 const fcgi_pm_app_conf *app)
{
    const char *params = apr_psprintf(p, "flushpackets=auto flushwait=%d "
                                      "retry=0 status=+I",
                                      FCGI_PM_FLUSH_WAIT_MS);
    int io = worker_io_timeout(proxy, s, app);

    if (io) {
        params = apr_psprintf(p, "%s timeout=%d", params, io);
    }
    if (app->connect_timeout) {
        params = apr_psprintf(p, "%s connectiontimeout=%d", params,
                              app->connect_timeout);
    }
    return params;
}

/*
 * "ProxySet PARAMS" inside <Proxy "WORKER">, in server S: mod_proxy's
 * set_proxy_param() takes the worker's name from the enclosing <Proxy>
 * line and defines the worker when it does not exist yet.
 */
static const char *proxy_set(apr_pool_t *pconf, apr_pool_t *ptemp,
                             server_rec *s, module *proxy_set_mod,
                             const command_rec *proxy_set_cmd,
                             const fcgi_pm_app_conf *app, const char *params)
{
    ap_directive_t section, line;
    cmd_parms parms;
    void *mconfig;

    memset(&section, 0, sizeof(section));
    memset(&line, 0, sizeof(line));
    memset(&parms, 0, sizeof(parms));
    section.directive = "<Proxy";
    section.args = apr_pstrcat(ptemp, app->proxy_worker, ">", NULL);
    section.first_child = &line;
    section.filename = app->defined_in;
    line.directive = proxy_set_cmd->name;
    line.args = params;
    line.parent = &section;
    line.filename = app->defined_in;

    parms.info = proxy_set_cmd->cmd_data;
    parms.override = RSRC_CONF | ACCESS_CONF;
    parms.override_opts = OPT_ALL;
    parms.limited = -1;
    parms.pool = pconf;
    parms.temp_pool = ptemp;   /* != pool: not an .htaccess file */
    parms.server = s;
    parms.directive = &line;
    parms.cmd = proxy_set_cmd;
    parms.context = s->lookup_defaults;
    mconfig = ap_set_config_vectors(s, s->lookup_defaults, NULL, proxy_set_mod,
                                    pconf);
    return proxy_set_cmd->AP_RAW_ARGS(&parms, mconfig, params);
}

static const char *server_name(apr_pool_t *p, const server_rec *s)
{
    return s->is_virtual
           ? apr_psprintf(p, "virtual host %s:%u (%s:%d)",
                          s->server_hostname ? s->server_hostname : "?",
                          (unsigned)s->port, s->defn_name ? s->defn_name : "?",
                          (int)s->defn_line_number)
           : "the main server";
}

const char *fcgi_pm_proxyworker_define_in(apr_pool_t *pconf, apr_pool_t *ptemp,
                                          server_rec *s,
                                          const fcgi_pm_app_conf *app)
{
    module *proxy_set_mod = ap_top_module;
    const command_rec *proxy_set_cmd;
    module *proxy = ap_find_linked_module("mod_proxy.c");
    const char *params, *err;

    proxy_set_cmd = ap_find_command_in_modules("ProxySet", &proxy_set_mod);
    if (!proxy || !proxy_set_cmd || !proxy_set_mod
        || proxy_set_cmd->args_how != RAW_ARGS) {
        return NULL;   /* said when a request needs it (fcgid_route.c) */
    }
    params = worker_params(ptemp, proxy, s, app);
    err = proxy_set(pconf, ptemp, s, proxy_set_mod, proxy_set_cmd, app, params);
    return err ? apr_psprintf(pconf, "%s: mod_proxy refuses the worker %s "
                              "(%s): %s", app->defined_in, app->proxy_worker,
                              params, err)
               : NULL;
}

const char *fcgi_pm_proxyworker_define(apr_pool_t *pconf, apr_pool_t *ptemp,
                                       server_rec *main_s,
                                       fcgi_pm_server_conf *sc)
{
    const apr_array_header_t *uses = fcgi_pm_config_pass_uses();
    module *proxy_set_mod = ap_top_module;   /* where the search starts */
    const command_rec *proxy_set_cmd;
    module *proxy = ap_find_linked_module("mod_proxy.c");
    apr_hash_t *done = apr_hash_make(ptemp);
    int i;

    sc->proxy_workers = apr_array_make(pconf, 8, sizeof(const char *));
    if (!uses || uses->nelts == 0) {
        return NULL;
    }
    proxy_set_cmd = ap_find_command_in_modules("ProxySet", &proxy_set_mod);
    if (!proxy || !proxy_set_cmd || !proxy_set_mod
        || proxy_set_cmd->args_how != RAW_ARGS) {
        return apr_psprintf(pconf, "%s: FcgiPmPass needs mod_proxy (its "
                            "ProxySet directive was not found): load it with "
                            "LoadModule",
                            APR_ARRAY_IDX(uses, 0, fcgi_pm_pass_use).where);
    }
    for (i = 0; i < uses->nelts; i++) {
        const fcgi_pm_pass_use *use = &APR_ARRAY_IDX(uses, i, fcgi_pm_pass_use);
        const fcgi_pm_app_conf *app = apr_hash_get(sc->apps_by_name, use->app,
                                                   APR_HASH_KEY_STRING);
        int everywhere = !use->server || !use->server->is_virtual;
        server_rec *s;

        if (!app || !app->proxy_worker) {
            continue;   /* fcgi_pm_config_check said so already */
        }
        for (s = everywhere ? main_s : use->server; s;
             s = everywhere ? s->next : NULL) {
            /* One worker per app in each server's mod_proxy configuration. */
            const char *key = apr_psprintf(ptemp, "%pp %s",
                                           ap_get_module_config(s->module_config,
                                                                proxy),
                                           app->name);
            const char *params, *err;

            if (apr_hash_get(done, key, APR_HASH_KEY_STRING)) {
                continue;
            }
            apr_hash_set(done, key, APR_HASH_KEY_STRING, app);
            params = worker_params(ptemp, proxy, s, app);
            err = proxy_set(pconf, ptemp, s, proxy_set_mod, proxy_set_cmd, app,
                            params);
            if (err) {
                return apr_psprintf(pconf, "%s: <FcgiPmApp %s>: mod_proxy "
                                    "refuses the app's worker %s (%s): %s",
                                    app->defined_in, app->name,
                                    app->proxy_worker, params, err);
            }
            APR_ARRAY_PUSH(sc->proxy_workers, const char *) =
                apr_psprintf(pconf, "app %s: mod_proxy worker %s in %s: %s",
                             app->name, app->proxy_worker,
                             server_name(ptemp, s), params);
        }
    }
    return NULL;
}

void fcgi_pm_proxyworker_log(server_rec *s, const fcgi_pm_server_conf *sc)
{
    int i;

    for (i = 0; sc->proxy_workers && i < sc->proxy_workers->nelts; i++) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "%s",
                     APR_ARRAY_IDX(sc->proxy_workers, i, const char *));
    }
}

void fcgi_pm_proxyworker_start(request_rec *r, const fcgi_pm_app_conf *app)
{
    request_note *note = apr_palloc(r->pool, sizeof(*note));

    note->app = app;
    note->start = apr_time_now();
    ap_set_module_config(r->request_config, &fcgi_pm_module, note);
}

/*
 * mod_proxy's request_status hook: STATUS is what proxy_handler is about
 * to return for R.  mod_proxy_fcgi answers 504 when the worker's timeout
 * ran out while it waited for the app, 503 when the app closed the
 * connection (a killed worker) or could not be reached.
 */
static int request_status(int *status, request_rec *r)
{
    const request_note *note = ap_get_module_config(r->request_config,
                                                    &fcgi_pm_module);
    const fcgi_pm_app_conf *app;
    apr_interval_time_t took;

    if (!note || !note->app || !status) {
        return DECLINED;
    }
    app = note->app;
    took = apr_time_now() - note->start;
    if (app->max_request_time
        && took >= apr_time_from_sec(app->max_request_time)
        && (*status == HTTP_SERVICE_UNAVAILABLE || *status == HTTP_BAD_GATEWAY
            || *status == HTTP_GATEWAY_TIME_OUT)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "app %s: the request ran %" APR_TIME_T_FMT " ms, longer "
                      "than MaxRequestTime %d s: 504 (mod_proxy's status: %d)",
                      app->name, apr_time_as_msec(took), app->max_request_time,
                      *status);
        *status = HTTP_GATEWAY_TIME_OUT;
    }
    else if (*status == HTTP_GATEWAY_TIME_OUT) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "app %s: no answer within %s: 504 after %" APR_TIME_T_FMT
                      " ms", app->name,
                      app->io_timeout
                      ? apr_psprintf(r->pool, "IOTimeout %d s", app->io_timeout)
                      : "the I/O timeout (ProxyTimeout, else Timeout)",
                      apr_time_as_msec(took));
    }
    return OK;
}

void fcgi_pm_proxyworker_register_hooks(apr_pool_t *p)
{
    APR_OPTIONAL_HOOK(proxy, request_status, request_status, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
