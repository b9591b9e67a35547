/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_fcgi_pm: FastCGI process manager for Apache httpd 2.4.
 *
 * Module glue only: configuration structs, the directive table and the
 * hook registration.  Each concern lives in modules/:
 *   config.c   <FcgiPmApp> blocks and FcgiPmPass checks
 *   parent.c   the httpd parent's side: manager fork, hand-over of apps
 *   sock.c     listen sockets (created once, kept across reloads)
 *   proto.c    parent -> manager messages
 *   manager.c  the persistent manager: apps, workers, rolling restarts
 *   spawn.c    fork/exec of one worker with dropped privileges
 *   table.c    the shared-memory table
 *   route.c    FcgiPmPass: hand requests to mod_proxy_fcgi
 *   cgi.c      CGI semantics: PassHeader, CONTENT_LENGTH 0, Location
 *   proxyworker.c  each app's mod_proxy worker (timeouts, flushpackets)
 *   status.c   the fcgi-pm-status handler and mod_status section
 *   fcgid_conf.c, fcgid_route.c, scripts.c  mod_fcgid's directives and
 *              fcgid-script: scripts started on demand
 *   authz.c, authz_client.c  FcgidAuthenticator, FcgidAuthorizer,
 *              FcgidAccessChecker: FastCGI programs in the AUTHORIZER role
 */
#include "fcgi_pm.h"
#include "fcgi_pm_cgi.h"
#include "fcgi_pm_authz.h"
#include "fcgi_pm_config.h"
#include "fcgi_pm_fcgid.h"
#include "fcgi_pm_parent.h"
#include "fcgi_pm_proxyworker.h"
#include "fcgi_pm_route.h"
#include "fcgi_pm_status.h"

#include "http_config.h"
#include "http_log.h"
#include "http_core.h"
#include "http_request.h"
#include "mpm_common.h"
#include "apr_strings.h"

static void *create_server_config(apr_pool_t *p, server_rec *s)
{
    fcgi_pm_server_conf *sc = apr_pcalloc(p, sizeof(*sc));

    sc->apps = apr_array_make(p, 8, sizeof(fcgi_pm_app_conf *));
    sc->apps_by_name = apr_hash_make(p);
    sc->fcgid = fcgi_pm_fcgid_server_create(p);
    return sc;
}

/* Virtual hosts inherit the main server's Fcgid* settings; everything
 * else of ours is the main server's (read from it only).  Merged for
 * every virtual host (AP_MODULE_FLAG_ALWAYS_MERGE), so that each has
 * its own Fcgid* record even without a directive of ours. */
static void *merge_server_config(apr_pool_t *p, void *basev, void *addv)
{
    fcgi_pm_server_conf *base = basev, *add = addv;
    fcgi_pm_server_conf *merged = apr_palloc(p, sizeof(*merged));

    *merged = *base;
    merged->fcgid = fcgi_pm_fcgid_server_merge(p, base->fcgid, add->fcgid);
    return merged;
}

static void *create_dir_config(apr_pool_t *p, char *dir)
{
    return apr_pcalloc(p, sizeof(fcgi_pm_dir_conf));
}

static void *merge_dir_config(apr_pool_t *p, void *basev, void *addv)
{
    fcgi_pm_dir_conf *base = basev, *add = addv;
    fcgi_pm_dir_conf *merged = apr_pcalloc(p, sizeof(*merged));

    merged->pass = add->pass ? add->pass : base->pass;
    merged->wrappers = fcgi_pm_fcgid_wrappers_merge(p, base->wrappers,
                                                    add->wrappers);
    merged->authz = fcgi_pm_authz_merge(p, base->authz, add->authz);
    return merged;
}

static fcgi_pm_server_conf *main_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &fcgi_pm_module);
}

static const char *cmd_app_section(cmd_parms *cmd, void *dummy, const char *arg)
{
    return fcgi_pm_config_app_section(cmd, main_conf(cmd), arg);
}

static const char *cmd_global_path(cmd_parms *cmd, const char *arg,
                                   const char **slot)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (arg[0] != '/') {
        return apr_psprintf(cmd->pool, "%s '%s' is not an absolute path",
                            cmd->cmd->name, arg);
    }
    *slot = arg;
    return NULL;
}

static const char *cmd_socket_dir(cmd_parms *cmd, void *dummy, const char *arg)
{
    fcgi_pm_server_conf *sc = main_conf(cmd);
    const char *err = cmd_global_path(cmd, arg, &sc->socket_dir);

    if (!err) {
        sc->socket_dir_where = fcgi_pm_config_where(cmd->pool, cmd->directive);
    }
    return err;
}

static const char *cmd_pid_file(cmd_parms *cmd, void *dummy, const char *arg)
{
    return cmd_global_path(cmd, arg, &main_conf(cmd)->pid_file);
}

static const char *cmd_max_total(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    return err ? err : fcgi_pm_config_max_total(cmd, main_conf(cmd), arg);
}

static const char *cmd_pass(cmd_parms *cmd, void *dirv, const char *arg)
{
    fcgi_pm_dir_conf *dc = dirv;

    dc->pass = arg;
    fcgi_pm_config_note_pass(cmd, arg);
    return fcgi_pm_config_generic_backend(cmd);
}

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    fcgi_pm_config_reset(pconf);
    fcgi_pm_fcgid_reset(pconf);
    fcgi_pm_authz_reset(pconf);
    return OK;
}

static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                        server_rec *s)
{
    fcgi_pm_server_conf *sc = ap_get_module_config(s->module_config,
                                                   &fcgi_pm_module);
    const char *err = fcgi_pm_config_check(pconf, s, sc);

    if (!err) {
        err = fcgi_pm_proxyworker_define(pconf, ptemp, s, sc);
    }
    if (!err) {
        err = fcgi_pm_fcgid_check(pconf, ptemp, s);
    }
    if (!err) {
        err = fcgi_pm_fcgid_prepare_backend(pconf, s);
    }
    if (err) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     "mod_fcgi_pm: %s", err);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *s)
{
    fcgi_pm_server_conf *sc = ap_get_module_config(s->module_config,
                                                   &fcgi_pm_module);

    ap_add_version_component(pconf, "mod_fcgi_pm/" FCGI_PM_VERSION);
    fcgi_pm_proxyworker_log(s, sc);
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        fcgi_pm_fcgid_log_notices(s);
    }
    return fcgi_pm_parent_post_config(pconf, s, sc);
}

static void child_init(apr_pool_t *p, server_rec *s)
{
    fcgi_pm_parent_child_init(p, s);
}

static const command_rec fcgi_pm_cmds[] = {
    AP_INIT_TAKE1("FcgiPmSocketDir", cmd_socket_dir, NULL, RSRC_CONF,
                  "Directory of the apps' unix sockets "
                  "(default: DefaultRuntimeDir/fcgi-pm)"),
    AP_INIT_TAKE1("FcgiPmPidFile", cmd_pid_file, NULL, RSRC_CONF,
                  "File holding the manager's pid "
                  "(default: DefaultRuntimeDir/fcgi-pm.pid)"),
    AP_INIT_TAKE1("FcgiPmMaxProcesses", cmd_max_total, NULL, RSRC_CONF,
                  "Most workers of all apps together (default: 16 per CPU, "
                  "at least 64 and at least the sum of the apps' Processes)"),
    AP_INIT_RAW_ARGS("<FcgiPmApp", cmd_app_section, NULL, RSRC_CONF,
                     "<FcgiPmApp NAME> ... </FcgiPmApp>: a FastCGI application"),
    AP_INIT_TAKE1("FcgiPmPass", cmd_pass, NULL, ACCESS_CONF | RSRC_CONF,
                  "Name of the <FcgiPmApp> that serves this location"),
    FCGI_PM_FCGID_COMMANDS
    FCGI_PM_AUTHZ_COMMANDS
    { NULL }
};

static void register_hooks(apr_pool_t *p)
{
    static const char * const before_proxy[] = { "mod_proxy.c", NULL };

    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_LAST);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_monitor(fcgi_pm_parent_monitor, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(fcgi_pm_route_fixup, NULL, before_proxy, APR_HOOK_FIRST);
    ap_hook_fixups(fcgi_pm_fcgid_fixup, NULL, before_proxy, APR_HOOK_FIRST);
    fcgi_pm_fcgid_register_filters();
    fcgi_pm_proxyworker_register_hooks(p);
    fcgi_pm_cgi_register_hooks(p);
    fcgi_pm_authz_register_hooks(p);
    ap_hook_handler(fcgi_pm_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    fcgi_pm_status_register_hooks(p);
}

AP_DECLARE_MODULE(fcgi_pm) = {
    STANDARD20_MODULE_STUFF,
    create_dir_config,
    merge_dir_config,
    create_server_config,
    merge_server_config,
    fcgi_pm_cmds,
    register_hooks,
    AP_MODULE_FLAG_ALWAYS_MERGE
};
