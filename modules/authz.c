/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FcgidAccessChecker, FcgidAuthenticator, FcgidAuthorizer (fcgi_pm_authz.h):
 * the directives, httpd's hooks, and what the program's answer means.
 *
 * Each runs in httpd's hook for its phase, as mod_fcgid's do:
 *   FcgidAccessChecker  access_checker  (every request to the directory)
 *   FcgidAuthenticator  check_user_id   (AuthType Basic; only when a
 *                       Require needs a user, e.g. Require valid-user);
 *                       first of the authenticators, so that
 *                       mod_auth_basic's providers come after it
 *   FcgidAuthorizer     auth_checker    (after a user is authenticated;
 *                       before mod_authz_core's Require evaluation)
 * with AP_AUTH_INTERNAL_PER_CONF, as httpd's own access modules: a
 * subrequest or internal redirect under the same configuration sections
 * as its request is not asked again (it inherits the request's user).
 * One hook of the PER_URI kind would switch httpd's walk caches and that
 * shortcut off for every request of the server (ap_setup_auth_internal),
 * whether or not it uses an authorizer (mod_fcgid's raw hooks do that).
 *
 * The program gets the request's CGI variables without CONTENT_LENGTH,
 * PATH_INFO, PATH_TRANSLATED, SCRIPT_NAME (as the FastCGI specification
 * says of authorizers), FCGI_APACHE_ROLE, REMOTE_USER where a user is
 * known and REMOTE_PASSWD for the authenticator; libfcgi adds
 * FCGI_ROLE=AUTHORIZER from the BEGIN_REQUEST record.  No body.
 *
 * Its answer:
 *   200        granted; each "Variable-NAME: value" header becomes the
 *              variable NAME of the request (the handler's environment:
 *              an FcgiPmPass app or fcgid-script gets it); the other
 *              headers are dropped.
 *   any other  refused: with ...Authoritative On the client gets that
 *              status (mod_fcgid sends 401 whatever the status; the
 *              FastCGI specification sends the program's) with the
 *              program's headers (WWW-Authenticate, Location, Set-Cookie,
 *              ...) and httpd's own error page; a 401 of the authenticator
 *              or authorizer without WWW-Authenticate gets httpd's
 *              (AuthType, AuthName).  With ...Authoritative Off the hook
 *              declines and httpd's other modules decide.
 *   no answer  (no connection, timeout, malformed) 500, whatever
 *              ...Authoritative says: a broken program never grants.
 */
#include "fcgi_pm_authz.h"
#include "fcgi_pm_config.h"
#include "fcgi_pm_fcgid.h"
#include "fcgi_pm_parent.h"
#include "fcgi_pm_table.h"

#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_script.h"
#include "apr_atomic.h"
#include "apr_lib.h"
#include "apr_strings.h"

APLOG_USE_MODULE(fcgi_pm);

#define DEF_CONNECT_TIMEOUT 3           /* mod_fcgid's defaults */
#define DEF_IO_TIMEOUT      40

static const char *const role_directive[FCGI_PM_AUTHZ_ROLES] = {
    "FcgidAccessChecker", "FcgidAuthenticator", "FcgidAuthorizer"
};
static const char *const role_name[FCGI_PM_AUTHZ_ROLES] = {
    "ACCESS_CHECKER", "AUTHENTICATOR", "AUTHORIZER"
};

/* Of this configuration read: the programs the server's own files name
 * (an .htaccess file may name only one of those). */
static apr_hash_t *trusted_programs;

void fcgi_pm_authz_reset(apr_pool_t *pconf)
{
    trusted_programs = apr_hash_make(pconf);
}

fcgi_pm_authz_dir *fcgi_pm_authz_merge(apr_pool_t *p,
                                       const fcgi_pm_authz_dir *base,
                                       const fcgi_pm_authz_dir *add)
{
    fcgi_pm_authz_dir *m;
    int i;

    if (!base || !add) {
        return (fcgi_pm_authz_dir *)(add ? add : base);
    }
    m = apr_palloc(p, sizeof(*m));
    for (i = 0; i < FCGI_PM_AUTHZ_ROLES; i++) {
        const fcgi_pm_authz_setting *b = &base->role[i], *a = &add->role[i];
        m->role[i] = a->program ? *a : *b;
        m->role[i].authoritative = a->authoritative >= 0 ? a->authoritative
                                                         : b->authoritative;
    }
    return m;
}

static fcgi_pm_authz_dir *dir_authz(apr_pool_t *p, void *dirv)
{
    fcgi_pm_dir_conf *dc = dirv;

    if (!dc->authz) {
        int i;
        dc->authz = apr_pcalloc(p, sizeof(*dc->authz));
        for (i = 0; i < FCGI_PM_AUTHZ_ROLES; i++) {
            dc->authz->role[i].authoritative = -1;
        }
    }
    return dc->authz;
}

/* No ".", ".." or empty components: the manager starts only clean
 * paths (scripts.c); say so here, at configtest. */
static int clean_absolute_path(const char *path)
{
    const char *c;

    if (path[0] != '/') {
        return 0;
    }
    for (c = path; *c; c++) {
        if (apr_iscntrl(*c)) {
            return 0;
        }
        if (*c == '/' && (c[1] == '/' || c[1] == '\0'
                          || (c[1] == '.' && (c[2] == '/' || c[2] == '\0'))
                          || (c[1] == '.' && c[2] == '.'
                              && (c[3] == '/' || c[3] == '\0')))) {
            return 0;
        }
    }
    return 1;
}

const char *fcgi_pm_authz_set_program(cmd_parms *cmd, void *dirv,
                                      const char *path)
{
    int role = (int)(apr_uintptr_t)cmd->info;
    fcgi_pm_authz_setting *set = &dir_authz(cmd->pool, dirv)->role[role];
    apr_finfo_t fi;
    apr_status_t rv;

    if (!clean_absolute_path(path)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a clean absolute "
                            "path", cmd->cmd->name, path);
    }
    rv = apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: cannot find %s: %pm",
                            cmd->cmd->name, path, &rv);
    }
    if (fi.filetype != APR_REG) {
        return apr_psprintf(cmd->pool, "%s: %s is not a regular file",
                            cmd->cmd->name, path);
    }
    set->program = apr_pstrdup(cmd->pool, path);
    set->where = cmd->directive ? fcgi_pm_config_where(cmd->pool, cmd->directive)
                                : "?";
    /* An .htaccess file is read with the request's pool as both pools
     * (the same test as FcgidWrapper's, fcgid_conf.c). */
    set->trusted = cmd->pool != cmd->temp_pool;
    if (set->trusted && trusted_programs) {
        apr_hash_set(trusted_programs, set->program, APR_HASH_KEY_STRING,
                     set->program);
    }
    return NULL;
}

const char *fcgi_pm_authz_set_authoritative(cmd_parms *cmd, void *dirv,
                                            int on)
{
    int role = (int)(apr_uintptr_t)cmd->info;

    dir_authz(cmd->pool, dirv)->role[role].authoritative = on ? 1 : 0;
    return NULL;
}

/* The program's PARAMS: the request's CGI variables as mod_fcgid gives
 * them to an authorizer.  r->subprocess_env is left as it was. */
static apr_table_t *program_params(request_rec *r, fcgi_pm_authz_role role,
                                   const char *password)
{
    static const char *const dropped[] = {
        "CONTENT_LENGTH", "PATH_INFO", "PATH_TRANSLATED", "SCRIPT_NAME",
        "HTTP_KEEP_ALIVE", "HTTP_TE", "HTTP_TRAILER",
        "HTTP_TRANSFER_ENCODING", "HTTP_UPGRADE", NULL
    };
    apr_table_t *saved_env = r->subprocess_env;
    char *saved_path_info = r->path_info;
    apr_table_t *env;
    int i;

    r->subprocess_env = apr_table_copy(r->pool, saved_env);
    /* PATH_INFO is dropped anyway; without it ap_add_cgi_vars does not
     * run a subrequest (with its own access checks) for PATH_TRANSLATED. */
    r->path_info = NULL;
    ap_add_common_vars(r);
    ap_add_cgi_vars(r);
    env = r->subprocess_env;
    r->subprocess_env = saved_env;
    r->path_info = saved_path_info;
    for (i = 0; dropped[i]; i++) {
        apr_table_unset(env, dropped[i]);
    }
    apr_table_setn(env, "FCGI_APACHE_ROLE", role_name[role]);
    if (password) {
        apr_table_setn(env, "REMOTE_PASSWD", password);
    }
    return env;
}

static apr_interval_time_t seconds_or(int v, int def)
{
    return apr_time_from_sec(v > 0 ? v : def);
}

/* A class backing off (its start keeps failing) answers 503 at once; one
 * log line a second in each child. */
static int backing_off(request_rec *r, const char *directive,
                       const char *program, fcgi_pm_app_slot *a)
{
    static apr_time_t last_logged;
    apr_time_t now;

    if (!a || a->state != FCGI_PM_APP_BACKOFF || a->alive != 0) {
        return 0;
    }
    now = apr_time_now();
    if (now - last_logged >= apr_time_from_sec(1)) {
        last_logged = now;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "%s %s: not serving "
                      "(start-up keeps failing): 503", directive, program);
    }
    return 1;
}

/* Ask the program of ROLE; its answer in *ANSWER.  OK or an HTTP status
 * (logged). */
static int ask_program(request_rec *r, fcgi_pm_authz_role role,
                       const char *program, const char *password,
                       fcgi_pm_authz_answer *answer)
{
    fcgi_pm_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                   &fcgi_pm_module);
    const fcgi_pm_app_conf *pa = sc->fcgid ? sc->fcgid->proxy_app : NULL;
    fcgi_pm_table *t = fcgi_pm_parent_table();
    fcgi_pm_app_slot *a;
    fcgi_pm_authz_call call;
    const char *name;
    int rc;

    memset(&call, 0, sizeof(call));
    call.r = r;
    call.directive = role_directive[role];
    call.program = program;
    rc = fcgi_pm_fcgid_class(r, FCGI_PM_CLASS_SCRIPT, program, &name,
                             &call.sock_path);
    if (rc != OK) {
        return rc;
    }
    a = t ? fcgi_pm_table_find_app(t, name) : NULL;
    if (backing_off(r, call.directive, program, a)) {
        apr_table_setn(r->err_headers_out, "Retry-After", "1");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    call.params = program_params(r, role, password);
    call.connect_timeout = seconds_or(pa ? pa->connect_timeout : 0,
                                      DEF_CONNECT_TIMEOUT);
    call.io_timeout = seconds_or(pa ? pa->io_timeout : 0, DEF_IO_TIMEOUT);
    if (a) {
        apr_atomic_inc32(&a->requests);
        apr_atomic_inc32(&a->in_flight);
    }
    rc = fcgi_pm_authz_ask(&call, answer);
    if (a) {
        apr_atomic_dec32(&a->in_flight);
    }
    return rc;
}

/* Granted: "Variable-NAME: value" sets NAME for the rest of the request. */
static void set_variables(request_rec *r, apr_table_t *headers)
{
    const apr_array_header_t *arr = apr_table_elts(headers);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i;

    for (i = 0; i < arr->nelts; i++) {
        if (!strncasecmp(e[i].key, "Variable-", 9) && e[i].key[9]) {
            apr_table_set(r->subprocess_env, e[i].key + 9, e[i].val);
        }
    }
}

/* Refused: the program's headers go to the client with its status, but
 * for the body's and the connection's, which httpd's error page sets. */
static int pass_refusal_header(void *data, const char *key, const char *val)
{
    static const char *const own[] = {
        "Content-Type", "Content-Length", "Transfer-Encoding", "Connection",
        "Keep-Alive", NULL
    };
    request_rec *r = data;
    int i;

    if (!strncasecmp(key, "Variable-", 9)) {
        return 1;
    }
    for (i = 0; own[i]; i++) {
        if (!strcasecmp(key, own[i])) {
            return 1;
        }
    }
    if (!strcasecmp(key, "Location")) {
        apr_table_set(r->headers_out, key, val);   /* kept for a 3xx */
    }
    else {
        apr_table_add(r->err_headers_out, key, val);
    }
    return 1;
}

static int refuse(request_rec *r, fcgi_pm_authz_role role,
                  const fcgi_pm_authz_answer *answer)
{
    int status = answer->status;

    if (status < 300) {
        /* Neither granted nor an HTTP refusal (a 204, say). */
        status = HTTP_FORBIDDEN;
    }
    apr_table_do(pass_refusal_header, r, answer->headers, NULL);
    if (status == HTTP_UNAUTHORIZED && role != FCGI_PM_AUTHZ_ACCESS
        && !apr_table_get(answer->headers, "WWW-Authenticate")
        && ap_auth_type(r)) {
        ap_note_auth_failure(r);
    }
    return status;
}

static const char *who(request_rec *r, fcgi_pm_authz_role role)
{
    if (role == FCGI_PM_AUTHZ_ACCESS || !r->user) {
        return "";
    }
    return apr_psprintf(r->pool, " user %s", ap_escape_logitem(r->pool,
                                                               r->user));
}

static int check(request_rec *r, fcgi_pm_authz_role role)
{
    fcgi_pm_dir_conf *dc = ap_get_module_config(r->per_dir_config,
                                                &fcgi_pm_module);
    const fcgi_pm_authz_setting *set = dc && dc->authz ? &dc->authz->role[role]
                                                       : NULL;
    const char *directive = role_directive[role], *password = NULL;
    fcgi_pm_authz_answer answer;
    int rc;

    if (!set || !set->program) {
        return DECLINED;
    }
    if (!set->trusted && !(trusted_programs
                           && apr_hash_get(trusted_programs, set->program,
                                           APR_HASH_KEY_STRING))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "%s %s (%s): an .htaccess "
                      "file may name only a program the server's "
                      "configuration files name: 500", directive,
                      set->program, set->where);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (role == FCGI_PM_AUTHZ_AUTHN) {
        rc = ap_get_basic_auth_pw(r, &password);
        if (rc == DECLINED) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "%s %s: needs "
                          "AuthType Basic here; not asked", directive,
                          set->program);
            return DECLINED;
        }
        if (rc != OK) {
            return rc;          /* no credentials yet: 401 (noted) */
        }
    }
    rc = ask_program(r, role, set->program, password, &answer);
    if (rc != OK) {
        return rc;
    }
    if (answer.local_redirect) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "%s %s: answered a local "
                      "Location without Status (an internal redirect, which "
                      "an authorizer cannot ask for): 500", directive,
                      set->program);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (answer.status == HTTP_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "%s %s:%s granted %s",
                      directive, set->program, who(r, role), r->uri);
        set_variables(r, answer.headers);
        return OK;
    }
    if (set->authoritative == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "%s %s:%s refused %s "
                      "(status %d); %sAuthoritative Off: httpd's other "
                      "modules decide", directive, set->program, who(r, role),
                      r->uri, answer.status, directive);
        return DECLINED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "%s %s:%s refused %s "
                  "(status %d)", directive, set->program, who(r, role),
                  r->uri, answer.status);
    return refuse(r, role, &answer);
}

static int access_hook(request_rec *r)
{
    return check(r, FCGI_PM_AUTHZ_ACCESS);
}

static int authn_hook(request_rec *r)
{
    return check(r, FCGI_PM_AUTHZ_AUTHN);
}

static int authz_hook(request_rec *r)
{
    return check(r, FCGI_PM_AUTHZ_AUTHZ);
}

void fcgi_pm_authz_register_hooks(apr_pool_t *p)
{
    ap_hook_check_access(access_hook, NULL, NULL, APR_HOOK_MIDDLE,
                         AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_authn(authn_hook, NULL, NULL, APR_HOOK_FIRST,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_authz(authz_hook, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
}
