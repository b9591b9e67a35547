/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading <FcgiPmApp> blocks and checking FcgiPmPass.
 *
 * The block's sub-directives (Command, User, Listen, ...) share their
 * names with core directives, so they are not registered with httpd:
 * httpd builds the block's lines into a sub-tree and we read that tree
 * here, each line with its own file and line number for the errors.
 */
#include "fcgi_pm_config.h"
#include "fcgi_pm_cgi.h"
#include "fcgi_pm_identity.h"
#include "fcgi_pm_spawn.h"
#include "fcgi_pm_proto.h"
#include "fcgi_pm_sock.h"

#include "http_log.h"
#include "http_core.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_network_io.h"
#include "mod_unixd.h"
#include "unixd.h"
#include "util_cfgtree.h"

#include <sys/stat.h>
#include <sys/un.h>
#include <pwd.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* FcgiPmPass uses seen in this configuration read (pconf lifetime). */
static apr_array_header_t *pass_uses;

typedef const char *(*app_directive_fn)(apr_pool_t *p, fcgi_pm_app_conf *app,
                                        const char *args);

const char *fcgi_pm_config_where(apr_pool_t *p, const ap_directive_t *d)
{
    return apr_psprintf(p, "%s:%d", d->filename, d->line_num);
}

/* A whole-string integer in [min, max]. */
static const char *parse_int(apr_pool_t *p, const char *word, const char *what,
                             long min, long max, int *out)
{
    char *end = NULL;
    apr_int64_t v;

    if (!word || !*word) {
        return apr_psprintf(p, "%s needs a number", what);
    }
    errno = 0;
    v = apr_strtoi64(word, &end, 10);
    if (errno || !end || *end || end == word) {
        return apr_psprintf(p, "%s: '%s' is not a number", what, word);
    }
    if (v < min || v > max) {
        return apr_psprintf(p, "%s %s is out of range (%ld to %ld)",
                            what, word, min, max);
    }
    *out = (int)v;
    return NULL;
}

/* A word starting at S with a quote that is never closed (read as
 * ap_getword_conf reads it: \" and \\ are escapes inside): S, else NULL. */
static const char *unterminated_quote(const char *s)
{
    const char *e;
    char quote = *s;

    if (quote != '"' && quote != '\'') {
        return NULL;
    }
    for (e = s + 1; *e && *e != quote; e++) {
        if (*e == '\\' && (e[1] == quote || e[1] == '\\')) {
            e++;
        }
    }
    return *e == quote ? NULL : s;
}

/* All words of ARGS; at least MIN of them and at most MAX (0: no limit). */
static const char *words(apr_pool_t *p, const char *args, const char *what,
                         int min, int max, apr_array_header_t **out)
{
    apr_array_header_t *w = apr_array_make(p, 4, sizeof(const char *));
    const char *rest = args;

    while (*rest) {
        const char *word, *unclosed;

        while (apr_isspace(*rest)) {
            rest++;
        }
        if ((unclosed = unterminated_quote(rest))) {
            return apr_psprintf(p, "%s: unterminated quote in '%s'", what,
                                unclosed);
        }
        word = ap_getword_conf(p, &rest);
        if (!*word && !*rest) {
            break;
        }
        APR_ARRAY_PUSH(w, const char *) = word;
    }
    if (w->nelts < min) {
        return apr_psprintf(p, "%s needs %d argument%s", what, min,
                            min == 1 ? "" : "s");
    }
    if (max && w->nelts > max) {
        return apr_psprintf(p, "%s takes at most %d argument%s", what, max,
                            max == 1 ? "" : "s");
    }
    *out = w;
    return NULL;
}

static const char *one_word(apr_pool_t *p, const char *args, const char *what,
                            const char **out)
{
    apr_array_header_t *w = NULL;
    const char *err = words(p, args, what, 1, 1, &w);

    *out = "";
    if (!err && w) {
        *out = APR_ARRAY_IDX(w, 0, const char *);
    }
    return err;
}

static int valid_env_name(const char *name)
{
    if (!*name || apr_isdigit(*name)) {
        return 0;
    }
    for (; *name; name++) {
        if (!apr_isalnum(*name) && *name != '_') {
            return 0;
        }
    }
    return 1;
}

static const char *set_command(apr_pool_t *p, fcgi_pm_app_conf *app,
                               const char *args)
{
    apr_array_header_t *w;
    const char *path;
    struct stat st;
    const char *err;

    if (app->argv) {
        return "Command given twice";
    }
    if ((err = words(p, args, "Command", 1, 0, &w))) {
        return err;
    }
    path = APR_ARRAY_IDX(w, 0, const char *);
    if (path[0] != '/') {
        return apr_psprintf(p, "Command '%s' is not an absolute path", path);
    }
    if (stat(path, &st) != 0) {
        return apr_psprintf(p, "Command '%s' does not exist", path);
    }
    if (!S_ISREG(st.st_mode) || !(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
        return apr_psprintf(p, "Command '%s' is not an executable file", path);
    }
    app->argv = w;
    return NULL;
}

static const char *set_env(apr_pool_t *p, fcgi_pm_app_conf *app, const char *args)
{
    apr_array_header_t *w;
    const char *name, *err = words(p, args, "Env", 1, 2, &w);

    if (err) {
        return err;
    }
    name = APR_ARRAY_IDX(w, 0, const char *);
    if (!valid_env_name(name)) {
        return apr_psprintf(p, "Env: '%s' is not a valid variable name", name);
    }
    APR_ARRAY_PUSH(app->env, const char *) = apr_pstrcat(p, name, "=",
        w->nelts > 1 ? APR_ARRAY_IDX(w, 1, const char *) : "", NULL);
    return NULL;
}

static const char *set_passenv(apr_pool_t *p, fcgi_pm_app_conf *app,
                               const char *args)
{
    apr_array_header_t *w;
    const char *err = words(p, args, "PassEnv", 1, 0, &w);
    int i;

    if (err) {
        return err;
    }
    for (i = 0; i < w->nelts; i++) {
        const char *name = APR_ARRAY_IDX(w, i, const char *);
        if (!valid_env_name(name)) {
            return apr_psprintf(p, "PassEnv: '%s' is not a valid variable name",
                                name);
        }
        APR_ARRAY_PUSH(app->passenv, const char *) = name;
    }
    return NULL;
}

static const char *set_user(apr_pool_t *p, fcgi_pm_app_conf *app, const char *args)
{
    const char *word, *err = one_word(p, args, "User", &word);
    struct passwd *pw;
    uid_t uid;

    if (err) {
        return err;
    }
    if (fcgi_pm_identity_user(word, &uid, &pw) != 0) {
        return word[0] == '#'
               ? apr_psprintf(p, "User '%s' is not a valid #uid", word)
               : apr_psprintf(p, "User '%s' does not exist", word);
    }
    if (uid == 0) {
        return "User: workers never run as root";
    }
    app->user = word;
    return NULL;
}

static const char *set_group(apr_pool_t *p, fcgi_pm_app_conf *app,
                             const char *args)
{
    const char *word, *err = one_word(p, args, "Group", &word);
    gid_t gid;

    if (err) {
        return err;
    }
    if (fcgi_pm_identity_group(word, &gid) != 0) {
        return word[0] == '#'
               ? apr_psprintf(p, "Group '%s' is not a valid #gid", word)
               : apr_psprintf(p, "Group '%s' does not exist", word);
    }
    if (gid == 0) {
        return "Group: workers never run with group root";
    }
    app->group = word;
    return NULL;
}

static const char *set_workdir(apr_pool_t *p, fcgi_pm_app_conf *app,
                               const char *args)
{
    const char *word, *err = one_word(p, args, "WorkingDirectory", &word);
    struct stat st;

    if (err) {
        return err;
    }
    if (word[0] != '/') {
        return apr_psprintf(p, "WorkingDirectory '%s' is not an absolute path",
                            word);
    }
    if (stat(word, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return apr_psprintf(p, "WorkingDirectory '%s' is not a directory", word);
    }
    app->workdir = word;
    return NULL;
}

static const char *set_listen(apr_pool_t *p, fcgi_pm_app_conf *app,
                              const char *args)
{
    const char *word, *err = one_word(p, args, "Listen", &word);
    char *host = NULL, *scope = NULL;
    apr_port_t port = 0;

    if (err) {
        return err;
    }
    if (apr_parse_addr_port(&host, &scope, &port, word, p) != APR_SUCCESS
        || port == 0) {
        return apr_psprintf(p, "Listen '%s' is not host:port", word);
    }
    app->listen = word;
    return NULL;
}

static const char *set_restart_on_graceful(apr_pool_t *p, fcgi_pm_app_conf *app,
                                           const char *args)
{
    const char *word, *err = one_word(p, args, "RestartOnGraceful", &word);

    if (err) {
        return err;
    }
    if (!strcasecmp(word, "on")) {
        app->restart_on_graceful = 1;
    }
    else if (!strcasecmp(word, "off")) {
        app->restart_on_graceful = 0;
    }
    else {
        return apr_psprintf(p, "RestartOnGraceful must be On or Off, not '%s'",
                            word);
    }
    return NULL;
}

static const char *set_restart_file(apr_pool_t *p, fcgi_pm_app_conf *app,
                                    const char *args)
{
    const char *word, *err = one_word(p, args, "RestartFile", &word);

    if (err) {
        return err;
    }
    if (word[0] != '/') {
        return apr_psprintf(p, "RestartFile '%s' is not an absolute path", word);
    }
    app->restart_file = word;
    return NULL;
}

/* StopSignal: what tells a worker to finish and exit (USR1: libfcgi,
 * php-cgi, FCGI.pm; see the README for other servers). */
static const char *set_stop_signal(apr_pool_t *p, fcgi_pm_app_conf *app,
                                   const char *args)
{
    const char *word, *err = one_word(p, args, "StopSignal", &word);

    if (err) {
        return err;
    }
    if (!fcgi_pm_spawn_signal_number(word)) {
        return apr_psprintf(p, "StopSignal must be one of USR1, TERM, QUIT, "
                            "INT, HUP, not '%s'", word);
    }
    app->stop_signal = word;
    return NULL;
}

/* PassHeader NAME...: request headers the app gets although httpd hides
 * them from CGI programs (Authorization), as mod_fcgid's FcgidPassHeader. */
static const char *set_pass_header(apr_pool_t *p, fcgi_pm_app_conf *app,
                                   const char *args)
{
    apr_array_header_t *w;
    const char *err = words(p, args, "PassHeader", 1, 0, &w);
    int i;

    if (err) {
        return err;
    }
    if (!app->pass_headers) {
        app->pass_headers = apr_array_make(p, w->nelts, sizeof(const char *));
    }
    for (i = 0; i < w->nelts; i++) {
        const char *name = APR_ARRAY_IDX(w, i, const char *);
        if ((err = fcgi_pm_cgi_check_header_name(p, name))) {
            return apr_pstrcat(p, "PassHeader: ", err, NULL);
        }
        APR_ARRAY_PUSH(app->pass_headers, const char *) = name;
    }
    return NULL;
}

/* The app directives.  Those that take one integer in a range need no
 * function: FN is NULL and the value goes to the field at OFFSET. */
#define INT_FIELD(f, lo, hi) NULL, APR_OFFSETOF(fcgi_pm_app_conf, f), (lo), (hi)
#define FUNC(fn)             (fn), 0, 0, 0
static const struct {
    const char *name;
    app_directive_fn fn;
    size_t offset;
    int min, max;
} app_directives[] = {
    { "Command",           FUNC(set_command) },
    { "Processes",         INT_FIELD(processes, 0, FCGI_PM_MAX_PROCESSES) },
    { "MaxProcesses",      INT_FIELD(max_processes, 1, FCGI_PM_MAX_PROCESSES) },
    { "IdleTimeout",       INT_FIELD(idle_timeout, 1, 86400) },
    { "MaxRequests",       INT_FIELD(max_requests, 0, 100000000) },
    { "MaxRequestTime",    INT_FIELD(max_request_time, 0, 86400) },
    { "Env",               FUNC(set_env) },
    { "PassEnv",           FUNC(set_passenv) },
    { "User",              FUNC(set_user) },
    { "Group",             FUNC(set_group) },
    { "WorkingDirectory",  FUNC(set_workdir) },
    { "Listen",            FUNC(set_listen) },
    { "RestartOnGraceful", FUNC(set_restart_on_graceful) },
    { "ShutdownTimeout",   INT_FIELD(shutdown_timeout, 0, FCGI_PM_MAX_SHUTDOWN_TIMEOUT) },
    { "RestartFile",       FUNC(set_restart_file) },
    { "StopSignal",        FUNC(set_stop_signal) },
    { "ConnectTimeout",    INT_FIELD(connect_timeout, 1, FCGI_PM_MAX_CONNECT_TIMEOUT) },
    { "IOTimeout",         INT_FIELD(io_timeout, 1, FCGI_PM_MAX_IO_TIMEOUT) },
    { "PassHeader",        FUNC(set_pass_header) },
};
#undef INT_FIELD
#undef FUNC
/* apply_app_directive() writes those fields as int. */
#define IS_INT(f) _Static_assert(sizeof(((fcgi_pm_app_conf *)0)->f) == sizeof(int), \
                                 #f " must be an int")
IS_INT(processes);
IS_INT(max_processes);
IS_INT(idle_timeout);
IS_INT(max_requests);
IS_INT(max_request_time);
IS_INT(shutdown_timeout);
IS_INT(connect_timeout);
IS_INT(io_timeout);
#undef IS_INT

static const char *known_directives(apr_pool_t *p)
{
    const char *list = NULL;
    size_t i;

    for (i = 0; i < sizeof(app_directives) / sizeof(app_directives[0]); i++) {
        list = list ? apr_pstrcat(p, list, ", ", app_directives[i].name, NULL)
                    : app_directives[i].name;
    }
    return list;
}

static const char *apply_app_directive(apr_pool_t *p, fcgi_pm_app_conf *app,
                                       const ap_directive_t *d)
{
    size_t i;

    for (i = 0; i < sizeof(app_directives) / sizeof(app_directives[0]); i++) {
        const char *name = app_directives[i].name, *word, *err;
        if (strcasecmp(d->directive, name) != 0) {
            continue;
        }
        if (app_directives[i].fn) {
            return app_directives[i].fn(p, app, d->args ? d->args : "");
        }
        err = one_word(p, d->args ? d->args : "", name, &word);
        return err ? err : parse_int(p, word, name, app_directives[i].min,
                                     app_directives[i].max,
                                     (int *)((char *)app + app_directives[i].offset));
    }
    return apr_psprintf(p, "unknown directive '%s' (known: %s)", d->directive,
                        known_directives(p));
}

static int valid_app_name(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n >= FCGI_PM_NAME_MAX) {
        return 0;
    }
    for (; *name; name++) {
        if (!apr_isalnum(*name) && *name != '.' && *name != '_' && *name != '-') {
            return 0;
        }
    }
    return 1;
}

static fcgi_pm_app_conf *new_app(apr_pool_t *p, const char *name,
                                 const char *defined_in)
{
    fcgi_pm_app_conf *app = apr_pcalloc(p, sizeof(*app));

    app->name = name;
    app->defined_in = defined_in;
    app->env = apr_array_make(p, 4, sizeof(const char *));
    app->passenv = apr_array_make(p, 4, sizeof(const char *));
    app->processes = FCGI_PM_DEFAULT_PROCESSES;
    app->idle_timeout = FCGI_PM_DEFAULT_IDLE_TIMEOUT;
    app->restart_on_graceful = 1;
    app->shutdown_timeout = FCGI_PM_DEFAULT_SHUTDOWN_TIMEOUT;
    app->stop_signal = "USR1";
    app->listen_fd = -1;
    return app;
}

const char *fcgi_pm_config_app_section(cmd_parms *cmd, fcgi_pm_server_conf *sc,
                                       const char *arg)
{
    apr_pool_t *p = cmd->pool;
    const char *here = fcgi_pm_config_where(p, cmd->directive);
    const char *endp = ap_strrchr_c(arg, '>');
    const char *args, *name;
    const ap_directive_t *d;
    fcgi_pm_app_conf *app;
    const char *err;

    if ((err = ap_check_cmd_context(cmd, GLOBAL_ONLY))) {
        return apr_pstrcat(p, here, ": ", err, NULL);
    }
    if (!endp) {
        return apr_psprintf(p, "%s: <FcgiPmApp> line is missing its closing '>'",
                            here);
    }
    args = apr_pstrndup(p, arg, endp - arg);
    name = ap_getword_conf(p, &args);
    if (!*name || *args) {
        return apr_psprintf(p, "%s: <FcgiPmApp> takes exactly one name", here);
    }
    if (!strncmp(name, "fcgid-", 6)) {
        return apr_psprintf(p, "%s: app names starting with 'fcgid-' are "
                            "those of fcgid-script's programs", here);
    }
    if (!valid_app_name(name)) {
        return apr_psprintf(p, "%s: app name '%s' is invalid: use 1 to %d letters, "
                            "digits, '.', '_' or '-'", here, name,
                            FCGI_PM_NAME_MAX - 1);
    }
    if (apr_hash_get(sc->apps_by_name, name, APR_HASH_KEY_STRING)) {
        fcgi_pm_app_conf *first = apr_hash_get(sc->apps_by_name, name,
                                               APR_HASH_KEY_STRING);
        return apr_psprintf(p, "%s: app '%s' is already defined at %s", here,
                            name, first->defined_in);
    }
    if (sc->apps->nelts >= FCGI_PM_MAX_APPS) {
        return apr_psprintf(p, "%s: too many apps (at most %d)", here,
                            FCGI_PM_MAX_APPS);
    }

    app = new_app(p, name, here);
    for (d = cmd->directive->first_child; d; d = d->next) {
        if ((err = apply_app_directive(p, app, d))) {
            return apr_psprintf(p, "%s: <FcgiPmApp %s>: %s", fcgi_pm_config_where(p, d), name,
                                err);
        }
    }
    if (!app->argv) {
        return apr_psprintf(p, "%s: <FcgiPmApp %s> has no Command", here, name);
    }
    if (app->max_processes && app->max_processes < app->processes) {
        return apr_psprintf(p, "%s: <FcgiPmApp %s>: MaxProcesses %d is below "
                            "Processes %d", here, name, app->max_processes,
                            app->processes);
    }
    APR_ARRAY_PUSH(sc->apps, fcgi_pm_app_conf *) = app;
    apr_hash_set(sc->apps_by_name, name, APR_HASH_KEY_STRING, app);
    return NULL;
}

void fcgi_pm_config_reset(apr_pool_t *pconf)
{
    pass_uses = apr_array_make(pconf, 8, sizeof(fcgi_pm_pass_use));
}

void fcgi_pm_config_note_pass(cmd_parms *cmd, const char *app)
{
    fcgi_pm_pass_use *use;

    if (!pass_uses) {
        fcgi_pm_config_reset(cmd->pool);
    }
    use = apr_array_push(pass_uses);
    use->app = app;
    use->where = fcgi_pm_config_where(cmd->pool, cmd->directive);
    use->server = cmd->server;
}

const apr_array_header_t *fcgi_pm_config_pass_uses(void)
{
    return pass_uses;
}

const char *fcgi_pm_config_generic_backend(cmd_parms *cmd)
{
    module *mod = ap_top_module;   /* where the search starts */
    const command_rec *backend_type =
        ap_find_command_in_modules("ProxyFCGIBackendType", &mod);
    cmd_parms as_if;
    void *mconfig;

    if (!backend_type || !mod || backend_type->args_how != TAKE1) {
        return NULL;
    }
    /* As if "ProxyFCGIBackendType GENERIC" were written in this section. */
    mconfig = ap_set_config_vectors(cmd->server, cmd->context, cmd->path, mod,
                                    cmd->pool);
    as_if = *cmd;
    as_if.cmd = backend_type;
    as_if.info = backend_type->cmd_data;
    return backend_type->AP_TAKE1(&as_if, mconfig, "GENERIC");
}

const char *fcgi_pm_config_max_total(cmd_parms *cmd, fcgi_pm_server_conf *sc,
                                     const char *arg)
{
    const char *err = parse_int(cmd->pool, arg, "FcgiPmMaxProcesses", 1,
                                FCGI_PM_MAX_TOTAL, &sc->max_processes_total);

    if (!err) {
        sc->max_total_where = fcgi_pm_config_where(cmd->pool, cmd->directive);
    }
    return err;
}
