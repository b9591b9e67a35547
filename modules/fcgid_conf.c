/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Fcgid* directives (see fcgi_pm_fcgid.h): read with mod_fcgid's
 * names, contexts and defaults, and turned into one class template per
 * server for the manager.
 */
#include "fcgi_pm_fcgid.h"
#include "fcgi_pm_cgi.h"
#include "fcgi_pm_config.h"
#include "fcgi_pm_identity.h"
#include "fcgi_pm_proto.h"
#include "fcgi_pm_proxyworker.h"

#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "unixd.h"

#include <limits.h>
#include <stdlib.h>

APLOG_USE_MODULE(fcgi_pm);

/* mod_fcgid's defaults (its documentation). */
#define DEF_MAX_CLASS       100
#define DEF_MIN_CLASS       3
#define DEF_IDLE_TIMEOUT    300
#define DEF_BUSY_TIMEOUT    300
#define DEF_IO_TIMEOUT      40
#define DEF_CONNECT_TIMEOUT 3
#define DEF_MAX_REQUEST_LEN 131072
#define DEF_LIFETIME        3600


/* Of this configuration read: every trusted FcgidWrapper command line, and
 * the directives that mean nothing here (one notice each at start). */
static apr_hash_t *trusted_wrappers;
static apr_array_header_t *ignored;
static int in_use;              /* see fcgi_pm_fcgid_in_use() */

fcgi_pm_fcgid_server *fcgi_pm_fcgid_server_create(apr_pool_t *p)
{
    fcgi_pm_fcgid_server *f = apr_pcalloc(p, sizeof(*f));

    f->max_class = f->min_class = f->idle_timeout = f->max_requests = -1;
    f->busy_timeout = f->io_timeout = f->connect_timeout = -1;
    f->max_request_len = -1;
    f->lifetime = -1;
    return f;
}

#define PICK(f) m->f = add->f >= 0 ? add->f : base->f

fcgi_pm_fcgid_server *fcgi_pm_fcgid_server_merge(apr_pool_t *p,
                                                 const fcgi_pm_fcgid_server *base,
                                                 const fcgi_pm_fcgid_server *add)
{
    fcgi_pm_fcgid_server *m = apr_pcalloc(p, sizeof(*m));

    PICK(max_class);
    PICK(min_class);
    PICK(idle_timeout);
    PICK(max_requests);
    PICK(busy_timeout);
    PICK(io_timeout);
    PICK(connect_timeout);
    PICK(max_request_len);
    PICK(lifetime);
    m->cmd_options = base->cmd_options && add->cmd_options
                     ? apr_hash_overlay(p, add->cmd_options, base->cmd_options)
                     : add->cmd_options ? add->cmd_options : base->cmd_options;
    /* Lists add up, as mod_fcgid's do (the virtual host's after). */
    m->initial_env = base->initial_env && add->initial_env
                     ? apr_array_append(p, base->initial_env, add->initial_env)
                     : add->initial_env ? add->initial_env : base->initial_env;
    m->pass_headers = base->pass_headers && add->pass_headers
                      ? apr_array_append(p, base->pass_headers, add->pass_headers)
                      : add->pass_headers ? add->pass_headers : base->pass_headers;
    return m;
}

apr_hash_t *fcgi_pm_fcgid_wrappers_merge(apr_pool_t *p, apr_hash_t *base,
                                         apr_hash_t *add)
{
    if (!base || !add) {
        return add ? add : base;
    }
    return apr_hash_overlay(p, add, base);
}

void fcgi_pm_fcgid_reset(apr_pool_t *pconf)
{
    trusted_wrappers = apr_hash_make(pconf);
    ignored = apr_array_make(pconf, 4, sizeof(const char *));
}

static fcgi_pm_fcgid_server *server_fcgid(cmd_parms *cmd)
{
    fcgi_pm_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                   &fcgi_pm_module);
    return sc->fcgid;
}

const char *fcgi_pm_fcgid_set_int(cmd_parms *cmd, void *dummy, const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (end == arg || *end || v < 0 || v > INT_MAX) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a number from 0 to %d",
                            cmd->cmd->name, arg, INT_MAX);
    }
    *(int *)((char *)server_fcgid(cmd) + (apr_size_t)cmd->info) = (int)v;
    return NULL;
}

const char *fcgi_pm_fcgid_set_request_len(cmd_parms *cmd, void *dummy, const char *arg)
{
    char *end;
    apr_int64_t v = apr_strtoi64(arg, &end, 10);

    if (end == arg || *end || v < 0) {
        return apr_psprintf(cmd->pool, "FcgidMaxRequestLen: '%s' is not a "
                            "number of bytes", arg);
    }
    server_fcgid(cmd)->max_request_len = (apr_off_t)v;
    return NULL;
}

/* An environment variable's name. */
static int valid_name(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!apr_isalnum(*s) && *s != '_') {
            return 0;
        }
    }
    return 1;
}

const char *fcgi_pm_fcgid_set_initial_env(cmd_parms *cmd, void *dummy,
                                   const char *name, const char *value)
{
    fcgi_pm_fcgid_server *f = server_fcgid(cmd);

    if (!valid_name(name)) {
        return apr_psprintf(cmd->pool, "FcgidInitialEnv: '%s' is not a valid "
                            "environment variable name", name);
    }
    if (!f->initial_env) {
        f->initial_env = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(f->initial_env, const char *) =
        apr_pstrcat(cmd->pool, name, "=", value ? value : "", NULL);
    return NULL;
}

const char *fcgi_pm_fcgid_set_pass_header(cmd_parms *cmd, void *dummy, const char *name)
{
    fcgi_pm_fcgid_server *f = server_fcgid(cmd);
    const char *why = fcgi_pm_cgi_check_header_name(cmd->pool, name);

    if (why) {
        return apr_psprintf(cmd->pool, "FcgidPassHeader: %s", why);
    }
    if (!f->pass_headers) {
        f->pass_headers = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(f->pass_headers, const char *) = name;
    return NULL;
}

const char *fcgi_pm_fcgid_set_max_total(cmd_parms *cmd, void *dummy, const char *arg)
{
    fcgi_pm_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                   &fcgi_pm_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    /* FcgiPmMaxProcesses, when it is also set, wins. */
    return sc->max_total_where ? NULL : fcgi_pm_config_max_total(cmd, sc, arg);
}

const char *fcgi_pm_fcgid_set_ipc_dir(cmd_parms *cmd, void *dummy, const char *arg)
{
    fcgi_pm_server_conf *sc = ap_get_module_config(cmd->server->module_config,
                                                   &fcgi_pm_module);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (!sc->socket_dir_where) {    /* FcgiPmSocketDir wins */
        sc->socket_dir = ap_server_root_relative(cmd->pool, arg);
        if (!sc->socket_dir) {
            return apr_pstrcat(cmd->pool, "FcgidIPCDir: invalid path ", arg,
                               NULL);
        }
    }
    return NULL;
}

/* FcgidWrapper COMMAND [SUFFIX] [virtual] */
const char *fcgi_pm_fcgid_set_wrapper(cmd_parms *cmd, void *dirv, const char *cmdline,
                               const char *a2, const char *a3)
{
    fcgi_pm_dir_conf *dc = dirv;
    fcgi_pm_fcgid_wrapper *w = apr_pcalloc(cmd->pool, sizeof(*w));
    const char *suffix = "";
    char **argv;

    if (a2 && !strcasecmp(a2, "virtual")) {
        w->virtual = 1;
        a2 = NULL;
    }
    if (a2) {
        if (a2[0] != '.' || ap_strchr_c(a2, '/')) {
            return apr_psprintf(cmd->pool, "FcgidWrapper: the suffix '%s' "
                                "must start with a dot", a2);
        }
        suffix = a2;
    }
    if (a3) {
        if (strcasecmp(a3, "virtual")) {
            return apr_psprintf(cmd->pool, "FcgidWrapper: unknown flag '%s' "
                                "(only 'virtual')", a3);
        }
        w->virtual = 1;
    }
    if (apr_tokenize_to_argv(cmdline, &argv, cmd->temp_pool) != APR_SUCCESS
        || !argv[0] || argv[0][0] != '/') {
        return apr_psprintf(cmd->pool, "FcgidWrapper: '%s' must start with "
                            "an absolute path", cmdline);
    }
    w->cmdline = cmdline;
    /* An .htaccess file is read with the request's pool as both pools:
     * what a site's owner writes there is not the server's configuration,
     * so its command line is not trusted (fcgid_route.c). */
    w->trusted = cmd->pool != cmd->temp_pool;
    w->where = cmd->directive ? fcgi_pm_config_where(cmd->pool, cmd->directive)
                              : "?";
    if (w->trusted && trusted_wrappers) {
        apr_hash_set(trusted_wrappers, apr_pstrdup(cmd->pool, cmdline),
                     APR_HASH_KEY_STRING, w);
    }
    if (!dc->wrappers) {
        dc->wrappers = apr_hash_make(cmd->pool);
    }
    apr_hash_set(dc->wrappers, apr_pstrdup(cmd->pool, suffix),
                 APR_HASH_KEY_STRING, w);
    return NULL;
}

static const struct {
    const char *name;
    apr_size_t field;
} cmd_option_fields[] = {
    { "ConnectTimeout",        APR_OFFSETOF(fcgi_pm_fcgid_server, connect_timeout) },
    { "IdleTimeout",           APR_OFFSETOF(fcgi_pm_fcgid_server, idle_timeout) },
    { "IOTimeout",             APR_OFFSETOF(fcgi_pm_fcgid_server, io_timeout) },
    { "MaxProcesses",          APR_OFFSETOF(fcgi_pm_fcgid_server, max_class) },
    { "MaxProcessLifeTime",    APR_OFFSETOF(fcgi_pm_fcgid_server, lifetime) },
    { "MaxRequestsPerProcess", APR_OFFSETOF(fcgi_pm_fcgid_server, max_requests) },
    { "MinProcesses",          APR_OFFSETOF(fcgi_pm_fcgid_server, min_class) },
};

static const char *set_cmd_option(apr_pool_t *p, fcgi_pm_fcgid_server *o,
                                  const char *name, const char *value)
{
    apr_size_t i;
    char *end;
    long v;

    if (!strcasecmp(name, "InitialEnv")) {
        const char *eq = ap_strchr_c(value, '=');
        const char *var = eq ? apr_pstrndup(p, value, eq - value) : value;
        if (!valid_name(var)) {
            return apr_psprintf(p, "FcgidCmdOptions: InitialEnv '%s' is not "
                                "NAME or NAME=VALUE", value);
        }
        if (!o->initial_env) {
            o->initial_env = apr_array_make(p, 2, sizeof(const char *));
        }
        APR_ARRAY_PUSH(o->initial_env, const char *) =
            eq ? value : apr_pstrcat(p, value, "=", NULL);
        return NULL;
    }
    for (i = 0; i < sizeof(cmd_option_fields) / sizeof(cmd_option_fields[0]); i++) {
        if (!strcasecmp(name, cmd_option_fields[i].name)) {
            v = strtol(value, &end, 10);
            if (end == value || *end || v < 0 || v > INT_MAX) {
                return apr_psprintf(p, "FcgidCmdOptions: %s '%s' is not a "
                                    "number", name, value);
            }
            *(int *)((char *)o + cmd_option_fields[i].field) = (int)v;
            return NULL;
        }
    }
    return apr_psprintf(p, "FcgidCmdOptions: unknown option '%s' (known: "
                        "ConnectTimeout, IdleTimeout, InitialEnv, IOTimeout, "
                        "MaxProcesses, MaxProcessLifeTime, "
                        "MaxRequestsPerProcess, MinProcesses)", name);
}

/* FcgidCmdOptions COMMAND OPTION VALUE ...: the options given, mod_fcgid's
 * defaults for the others (not the server's Fcgid* settings). */
const char *fcgi_pm_fcgid_set_cmd_options(cmd_parms *cmd, void *dummy,
                                          const char *args)
{
    fcgi_pm_fcgid_server *f = server_fcgid(cmd);
    fcgi_pm_fcgid_server *o = fcgi_pm_fcgid_server_create(cmd->pool);
    const char *command = ap_getword_conf(cmd->pool, &args);
    const char *err;

    if (command[0] != '/') {
        return apr_psprintf(cmd->pool, "FcgidCmdOptions: '%s' is not an "
                            "absolute path", command);
    }
    while (*args) {
        const char *name = ap_getword_conf(cmd->pool, &args);
        const char *value = ap_getword_conf(cmd->pool, &args);
        if (!*name) {
            break;
        }
        if (!*value) {
            return apr_psprintf(cmd->pool, "FcgidCmdOptions %s: option %s "
                                "has no value", command, name);
        }
        if ((err = set_cmd_option(cmd->pool, o, name, value))) {
            return err;
        }
    }
    if (!f->cmd_options) {
        f->cmd_options = apr_hash_make(cmd->pool);
    }
    apr_hash_set(f->cmd_options, command, APR_HASH_KEY_STRING, o);
    return NULL;
}

const fcgi_pm_fcgid_server *fcgi_pm_fcgid_options_for(
    const fcgi_pm_fcgid_server *f, const char *program)
{
    const fcgi_pm_fcgid_server *o = f->cmd_options
        ? apr_hash_get(f->cmd_options, program, APR_HASH_KEY_STRING) : NULL;

    return o ? o : f;
}

/* Accepted for configurations written for mod_fcgid; they mean nothing
 * here (a notice at start says why). */
const char *fcgi_pm_fcgid_set_ignored(cmd_parms *cmd, void *dummy, const char *args)
{
    if (ignored) {
        int i;
        for (i = 0; i < ignored->nelts; i++) {
            if (APR_ARRAY_IDX(ignored, i, const char *) == cmd->cmd->name) {
                return NULL;
            }
        }
        APR_ARRAY_PUSH(ignored, const char *) = cmd->cmd->name;
    }
    return NULL;
}

void fcgi_pm_fcgid_log_notices(server_rec *s)
{
    int i;

    for (i = 0; ignored && i < ignored->nelts; i++) {
        const char *name = APR_ARRAY_IDX(ignored, i, const char *);
        const command_rec *c;
        static const command_rec cmds[] = { FCGI_PM_FCGID_COMMANDS { NULL } };
        for (c = cmds; c->name && strcmp(c->name, name); c++) {
        }
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "%s is accepted for mod_fcgid configurations and ignored: "
                     "%s", name, c->name ? c->errmsg : "");
    }
}

static int value_or(int v, int def)
{
    return v >= 0 ? v : def;
}

/* "host:port" of S; a second server with the same gets "#N". */
static const char *class_key(apr_pool_t *p, server_rec *s, apr_hash_t *seen)
{
    const char *key = apr_psprintf(p, "%s:%u",
                                   s->server_hostname ? s->server_hostname : "",
                                   (unsigned)s->port);
    int n = 1;
    const char *k = key;

    while (apr_hash_get(seen, k, APR_HASH_KEY_STRING)) {
        k = apr_psprintf(p, "%s#%d", key, ++n);
    }
    apr_hash_set(seen, k, APR_HASH_KEY_STRING, s);
    return k;
}

/* A program of FcgidCmdOptions with its own IOTimeout or ConnectTimeout
 * gets its own mod_proxy worker in S (the others use the server's). */
static const char *define_cmd_workers(apr_pool_t *pconf, apr_pool_t *ptemp,
                                      server_rec *s,
                                      const fcgi_pm_fcgid_server *f, int *n)
{
    apr_hash_index_t *hi;

    for (hi = f->cmd_options ? apr_hash_first(ptemp, f->cmd_options) : NULL;
         hi; hi = apr_hash_next(hi)) {
        const void *k;
        void *v;
        fcgi_pm_fcgid_server *o;
        fcgi_pm_app_conf *pa;
        const char *err;

        apr_hash_this(hi, &k, NULL, &v);
        o = v;
        if (o->io_timeout < 0 && o->connect_timeout < 0) {
            continue;
        }
        pa = apr_pmemdup(pconf, f->proxy_app, sizeof(*pa));
        pa->name = apr_pstrcat(pconf, "program ", (const char *)k, NULL);
        pa->proxy_worker = apr_psprintf(pconf, "fcgi://fcgi-pm-cmd-%d", ++*n);
        pa->io_timeout = value_or(o->io_timeout, DEF_IO_TIMEOUT);
        pa->connect_timeout = value_or(o->connect_timeout, DEF_CONNECT_TIMEOUT);
        o->proxy_app = pa;
        if ((err = fcgi_pm_proxyworker_define_in(pconf, ptemp, s, pa))) {
            return err;
        }
    }
    return NULL;
}

/* The configuration files name the handler, or a Fcgid* directive. */
static int mentions_scripts(const ap_directive_t *d)
{
    for (; d; d = d->next) {
        if (!strncasecmp(d->directive, "Fcgid", 5)
            || (d->args && (ap_strcasestr(d->args, FCGI_PM_FCGID_HANDLER)
                            || ap_strcasestr(d->args, FCGI_PM_SCRIPT_HANDLER)))
            || mentions_scripts(d->first_child)) {
            return 1;
        }
    }
    return 0;
}

int fcgi_pm_fcgid_in_use(void)
{
    return in_use;
}

const char *fcgi_pm_fcgid_check(apr_pool_t *pconf, apr_pool_t *ptemp,
                                server_rec *main_s)
{
    apr_hash_t *seen = apr_hash_make(ptemp);
    server_rec *s;
    int n = 0;

    in_use = mentions_scripts(ap_conftree);
    for (s = main_s; s; s = s->next) {
        fcgi_pm_server_conf *sc = ap_get_module_config(s->module_config,
                                                       &fcgi_pm_module);
        fcgi_pm_fcgid_server *f = sc->fcgid;
        fcgi_pm_app_conf *pa;
        const char *err;

        f->class_key = class_key(pconf, s, seen);
        pa = apr_pcalloc(pconf, sizeof(*pa));
        pa->name = apr_pstrcat(pconf, "scripts of ", f->class_key, NULL);
        pa->defined_in = s->defn_name ? apr_psprintf(pconf, "%s:%d",
                                                     s->defn_name,
                                                     s->defn_line_number)
                                      : "the main server";
        pa->proxy_worker = "fcgi://fcgi-pm-scripts";
        pa->io_timeout = value_or(f->io_timeout, DEF_IO_TIMEOUT);
        pa->connect_timeout = value_or(f->connect_timeout, DEF_CONNECT_TIMEOUT);
        pa->max_request_time = value_or(f->busy_timeout, DEF_BUSY_TIMEOUT);
        f->proxy_app = pa;
        err = fcgi_pm_proxyworker_define_in(pconf, ptemp, s, pa);
        if (!err) {
            err = define_cmd_workers(pconf, ptemp, s, f, &n);
        }
        if (err) {
            return err;
        }
    }
    return NULL;
}

/* The identity of S's classes: SuexecUserGroup when mod_suexec has one
 * for S (asked through httpd's get_suexec_identity hook, with a request
 * that carries only S's configuration), else httpd's User. */
static const ap_unix_identity_t *suexec_identity(apr_pool_t *p, server_rec *s)
{
    request_rec *r = apr_pcalloc(p, sizeof(*r));

    if (!ap_unixd_config.suexec_enabled) {
        return NULL;
    }
    r->pool = p;
    r->server = s;
    r->per_dir_config = s->lookup_defaults;
    r->notes = apr_table_make(p, 1);
    r->headers_in = apr_table_make(p, 1);
    r->subprocess_env = apr_table_make(p, 1);
    return ap_run_get_suexec_identity(r);
}

static const char *document_root(apr_pool_t *p, server_rec *s)
{
    core_server_config *core = ap_get_core_module_config(s->module_config);
    char *real;

    if (!core || !core->ap_document_root) {
        return "";
    }
    real = realpath(core->ap_document_root, NULL);
    if (!real) {
        return core->ap_document_root;
    }
    {
        const char *copy = apr_pstrdup(p, real);
        free(real);
        return copy;
    }
}

/* A class's limits and environment from F (defaults where not set). */
static void put_limits(fcgi_pm_payload *rec, const fcgi_pm_fcgid_server *f,
                       int busy_timeout)
{
    int i, max_class = value_or(f->max_class, DEF_MAX_CLASS);

    for (i = 0; f->initial_env && i < f->initial_env->nelts; i++) {
        fcgi_pm_proto_put(rec, FCGI_PM_K_ENV,
                          APR_ARRAY_IDX(f->initial_env, i, const char *));
    }
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_MAX_PROCESSES,
                          max_class > FCGI_PM_MAX_PROCESSES
                          ? FCGI_PM_MAX_PROCESSES : max_class < 1 ? 1 : max_class);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_KEEP_PROCESSES,
                          value_or(f->min_class, DEF_MIN_CLASS));
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_IDLE_TIMEOUT,
                          value_or(f->idle_timeout, DEF_IDLE_TIMEOUT));
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_MAX_REQUESTS,
                          value_or(f->max_requests, 0));
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_MAX_REQUEST_TIME, busy_timeout);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_LIFETIME,
                          value_or(f->lifetime, DEF_LIFETIME));
}

static fcgi_pm_payload *class_record(apr_pool_t *p, server_rec *s,
                                 const fcgi_pm_fcgid_server *f)
{
    fcgi_pm_payload *rec = fcgi_pm_proto_record(p);
    const ap_unix_identity_t *id = suexec_identity(p, s);
    fcgi_pm_app_conf who;
    uid_t uid;
    gid_t gid;
    apr_hash_index_t *hi;

    memset(&who, 0, sizeof(who));
    /* mod_unixd answers httpd's own User and Group where no
     * SuexecUserGroup applies: that is not a user switch. */
    if (id && !id->userdir && (id->uid != ap_unixd_config.user_id
                               || id->gid != ap_unixd_config.group_id)) {
        who.user = apr_psprintf(p, "#%ld", (long)id->uid);
        who.group = apr_psprintf(p, "#%ld", (long)id->gid);
    }
    fcgi_pm_identity_worker_ids(&who, &uid, &gid);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, "scripts of %s: uid %ld gid "
                 "%ld%s, DocumentRoot %s", f->class_key, (long)uid, (long)gid,
                 who.user ? " (SuexecUserGroup)" : "", document_root(p, s));
    fcgi_pm_proto_put(rec, FCGI_PM_K_CLASS, f->class_key);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_UID, (long)uid);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_GID, (long)gid);
    fcgi_pm_proto_put(rec, FCGI_PM_K_GROUPS,
                      fcgi_pm_identity_worker_groups(p, &who, uid, gid));
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_SUEXEC, who.user != NULL);
    fcgi_pm_proto_put(rec, FCGI_PM_K_DOCROOT, document_root(p, s));
    put_limits(rec, f, value_or(f->busy_timeout, DEF_BUSY_TIMEOUT));
    for (hi = f->cmd_options ? apr_hash_first(p, f->cmd_options) : NULL; hi;
         hi = apr_hash_next(hi)) {
        const void *k;
        void *v;
        apr_hash_this(hi, &k, NULL, &v);
        /* What follows "cmd" is that program's (FcgidCmdOptions). */
        fcgi_pm_proto_put(rec, FCGI_PM_K_CMD, k);
        put_limits(rec, v, value_or(f->busy_timeout, DEF_BUSY_TIMEOUT));
    }
    for (hi = trusted_wrappers ? apr_hash_first(p, trusted_wrappers) : NULL; hi;
         hi = apr_hash_next(hi)) {
        const void *k;
        apr_hash_this(hi, &k, NULL, NULL);
        fcgi_pm_proto_put(rec, FCGI_PM_K_WRAPPER, k);
    }
    return rec;
}

void fcgi_pm_fcgid_class_records(apr_pool_t *p, server_rec *main_s,
                                 apr_array_header_t *recs)
{
    server_rec *s;

    for (s = main_s; s; s = s->next) {
        fcgi_pm_server_conf *sc = ap_get_module_config(s->module_config,
                                                       &fcgi_pm_module);
        if (sc->fcgid && sc->fcgid->class_key) {
            APR_ARRAY_PUSH(recs, fcgi_pm_payload *) = class_record(p, s, sc->fcgid);
        }
    }
}

apr_off_t fcgi_pm_fcgid_max_request_len(const fcgi_pm_fcgid_server *f)
{
    return f->max_request_len >= 0 ? f->max_request_len : DEF_MAX_REQUEST_LEN;
}

const char *fcgi_pm_fcgid_class_name(apr_pool_t *p, const char *server_key,
                                     const char *kind, const char *command)
{
    /* 64-bit FNV-1a over the three, NUL-separated, after the program's
     * name (for people reading the status page and the log).  Part of the
     * protocol: a child and a manager of different module versions must
     * agree. */
    apr_uint64_t h = APR_UINT64_C(14695981039346656037);
    const char *parts[3], *prog, *slash;
    char shown[FCGI_PM_CLASS_SHOWN + 1];
    apr_size_t n = 0;
    int i;

    parts[0] = server_key;
    parts[1] = kind;
    parts[2] = command;
    for (i = 0; i < 3; i++) {
        const unsigned char *c = (const unsigned char *)parts[i];
        for (; *c; c++) {
            h = (h ^ *c) * APR_UINT64_C(1099511628211);
        }
        h = (h ^ 0) * APR_UINT64_C(1099511628211);
    }
    /* The last component of the program's path (a wrapper's first word),
     * in the letters an app name may have. */
    prog = command;
    for (i = 0; command[i] && command[i] != ' ' && command[i] != '\t'; i++) {
        if (command[i] == '/') {
            prog = command + i + 1;
        }
    }
    slash = prog;
    for (; *slash && *slash != ' ' && *slash != '\t' && n < FCGI_PM_CLASS_SHOWN;
         slash++) {
        shown[n++] = apr_isalnum(*slash) || *slash == '.' || *slash == '_'
                     ? *slash : '_';
    }
    shown[n] = '\0';
    return apr_psprintf(p, FCGI_PM_CLASS_PREFIX "%s-%016" APR_UINT64_T_HEX_FMT,
                        shown, h);
}
