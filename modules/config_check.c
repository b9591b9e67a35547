/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration once read: defaults in effect, each app's record for
 * the manager (fcgi_pm_config_app_spec), and the checks that need the
 * whole configuration (fcgi_pm_config_check).  Reading the blocks is
 * config.c's.
 */
#include "fcgi_pm_config.h"
#include "fcgi_pm_identity.h"
#include "fcgi_pm_proto.h"
#include "fcgi_pm_sock.h"

#include "http_log.h"
#include "http_core.h"
#include "apr_strings.h"
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

/* Room left in an APP message for what the parent adds at start
 * (sock_dev, sock_ino). */
#define APP_RECORD_RESERVE 128

const char *fcgi_pm_config_socket_dir(apr_pool_t *p, fcgi_pm_server_conf *sc)
{
    return sc->socket_dir ? sc->socket_dir : ap_runtime_dir_relative(p, "fcgi-pm");
}

const char *fcgi_pm_config_pid_file(apr_pool_t *p, fcgi_pm_server_conf *sc)
{
    return sc->pid_file ? sc->pid_file : ap_runtime_dir_relative(p, "fcgi-pm.pid");
}


void fcgi_pm_config_app_spec(apr_pool_t *p, const fcgi_pm_app_conf *app,
                             fcgi_pm_app_spec *out)
{
    uid_t uid;
    gid_t gid;
    int i;

    memset(out, 0, sizeof(*out));
    fcgi_pm_identity_worker_ids(app, &uid, &gid);
    out->name = app->name;
    out->addr = app->addr;
    out->socket_path = app->socket_path;
    out->argv = app->argv;
    out->env = apr_array_copy(p, app->env);
    /* PassEnv takes the value httpd has now (its start-up environment: a
     * graceful does not change it; see t/27). */
    for (i = 0; i < app->passenv->nelts; i++) {
        const char *name = APR_ARRAY_IDX(app->passenv, i, const char *);
        const char *value = getenv(name);
        if (value) {
            APR_ARRAY_PUSH(out->env, const char *) = apr_pstrcat(p, name, "=",
                                                                 value, NULL);
        }
    }
    out->processes = app->processes;
    /* Processes 0 (on demand) grows to one worker at least. */
    out->max_processes = app->max_processes ? app->max_processes
                         : app->processes ? app->processes : 1;
    out->idle_timeout = app->idle_timeout;
    out->max_requests = app->max_requests;
    out->max_request_time = app->max_request_time;
    if (app->max_requests > 0 && !fcgi_pm_proto_env_has(out->env, "PHP_FCGI_MAX_REQUESTS")) {
        /* php-cgi counts its requests itself, exactly (see MaxRequests). */
        APR_ARRAY_PUSH(out->env, const char *) =
            apr_psprintf(p, "PHP_FCGI_MAX_REQUESTS=%d", app->max_requests);
    }
    out->uid = (long)uid;
    out->gid = (long)gid;
    /* The worker's whole group list, decided here (the group database is
     * read by the parent, never by the child between fork and exec). */
    out->groups = fcgi_pm_identity_worker_groups(p, app, uid, gid);
    out->workdir = app->workdir;
    out->restart_on_graceful = app->restart_on_graceful;
    out->shutdown_timeout = app->shutdown_timeout;
    out->stop_signal = app->stop_signal;
    out->restart_file = app->restart_file;
}

/* The APP message must fit in one protocol message (with what the
 * parent adds at start): else the manager could not be given the app. */
static const char *check_record_size(apr_pool_t *pconf, fcgi_pm_app_conf *app)
{
    apr_size_t limit = FCGI_PM_MSG_MAX - sizeof(fcgi_pm_msg_hdr)
                       - APP_RECORD_RESERVE;
    apr_pool_t *tp;
    apr_size_t len;
    fcgi_pm_app_spec spec;

    apr_pool_create(&tp, pconf);
    fcgi_pm_config_app_spec(tp, app, &spec);
    len = fcgi_pm_proto_app_encode(tp, &spec)->len;
    apr_pool_destroy(tp);
    if (len > limit) {
        return apr_psprintf(pconf, "%s: <FcgiPmApp %s>: its configuration is "
                            "%" APR_SIZE_T_FMT " bytes (Command, Env, PassEnv "
                            "values...), more than the %" APR_SIZE_T_FMT
                            " bytes an app may have", app->defined_in,
                            app->name, len, limit);
    }
    return NULL;
}

/* Tell the operator when an app's workers keep httpd's Group (they can
 * then connect to every app's socket), or when the User's own group was
 * httpd's and is left out. */
static const char *check_app_identity(apr_pool_t *pconf, server_rec *s,
                                      const fcgi_pm_app_conf *app)
{
    struct passwd *pw = NULL;
    uid_t uid;

    if (fcgi_pm_identity_has_httpd_group(app)) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_NOTICE, 0, s,
                     "mod_fcgi_pm: %s: <FcgiPmApp %s>: Group %s is httpd's "
                     "Group: this app's workers can connect to every app's "
                     "socket", app->defined_in, app->name, app->group);
    }
    else if (app->user && fcgi_pm_identity_user(app->user, &uid, &pw) == 0 && pw
             && pw->pw_gid == ap_unixd_config.group_id) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_NOTICE, 0, s,
                     "mod_fcgi_pm: %s: <FcgiPmApp %s>: the group of User %s is "
                     "httpd's Group; the workers run without it (group %ld) "
                     "so that they cannot reach other apps' sockets; name it "
                     "with Group to keep it", app->defined_in, app->name,
                     app->user, (long)fcgi_pm_identity_nogroup());
    }
    return NULL;
}

/*
 * The host name of a unix app's proxy worker, "fcgi-pm-NAME" in lower
 * case: mod_proxy finds a request's worker by "fcgi://HOST" alone (the
 * socket path is not part of the match), case-insensitively, so every
 * app needs a host of its own.  An app whose name differs from another's
 * only in case, or whose name would make the host longer than mod_proxy's
 * 63 characters, gets "fcgi-pm~INDEX" ('~' is never in an app name).
 */
static const char *worker_host(apr_pool_t *p, apr_hash_t *taken,
                               const fcgi_pm_app_conf *app, int index)
{
    char *host = apr_pstrcat(p, "fcgi-pm-", app->name, NULL);

    ap_str_tolower(host);
    if (strlen(host) > 63 || apr_hash_get(taken, host, APR_HASH_KEY_STRING)) {
        host = apr_psprintf(p, "fcgi-pm~%d", index);
    }
    apr_hash_set(taken, host, APR_HASH_KEY_STRING, app->name);
    return host;
}

/* Canonical address of APP, the one place that decides a socket's name. */
static const char *app_address(apr_pool_t *p, const char *socket_dir,
                               fcgi_pm_app_conf *app, const char *uds_host)
{
    if (app->listen) {
        char *host = NULL, *scope = NULL;
        apr_port_t port = 0;
        apr_sockaddr_t *sa = NULL;
        char *ip = NULL;

        if (apr_parse_addr_port(&host, &scope, &port, app->listen, p)
            != APR_SUCCESS || !port) {
            return NULL;
        }
        if (apr_sockaddr_info_get(&sa, host ? host : "127.0.0.1", APR_UNSPEC,
                                  port, 0, p) != APR_SUCCESS
            || apr_sockaddr_ip_get(&ip, sa) != APR_SUCCESS) {
            return NULL;
        }
        app->socket_path = NULL;
        app->proxy_worker = apr_psprintf(p, sa->family == APR_INET6
                                         ? "fcgi://[%s]:%d" : "fcgi://%s:%d",
                                         ip, port);
        app->proxy_handler = apr_pstrcat(p, "proxy:", app->proxy_worker, NULL);
        return apr_psprintf(p, sa->family == APR_INET6 ? "tcp:[%s]:%d"
                                                       : "tcp:%s:%d", ip, port);
    }
    app->socket_path = apr_pstrcat(p, socket_dir, "/", app->name, ".sock", NULL);
    app->proxy_worker = apr_pstrcat(p, "fcgi://", uds_host, NULL);
    app->proxy_handler = apr_pstrcat(p, "proxy:unix:", app->socket_path, "|",
                                     app->proxy_worker, NULL);
    return apr_pstrcat(p, "unix:", app->socket_path, NULL);
}

/* The last NAME directive of the main configuration (not inside
 * <FcgiPmApp>, whose User/Group are the apps'), or NULL. */
static const ap_directive_t *find_directive(const ap_directive_t *d,
                                            const char *name)
{
    const ap_directive_t *found = NULL, *sub;

    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "<FcgiPmApp")) {
            continue;
        }
        if (!strcasecmp(d->directive, name)) {
            found = d;
        }
        if (d->first_child && (sub = find_directive(d->first_child, name))) {
            found = sub;
        }
    }
    return found;
}

static const char *directive_where(apr_pool_t *p, const char *name)
{
    const ap_directive_t *d = find_directive(ap_conftree, name);

    return d ? apr_psprintf(p, "%s: %s %s", fcgi_pm_config_where(p, d), d->directive, d->args)
             : apr_psprintf(p, "%s (default)", name);
}

/* httpd's own identity, when apps are defined: its children must not
 * have group root (the apps' sockets are root:Group). */
static const char *check_httpd_identity(apr_pool_t *p)
{
    gid_t httpd_gid = ap_unixd_config.group_id;
    struct passwd *pw;
    int i;

    if (httpd_gid == 0) {
        return apr_psprintf(p, "%s: httpd's Group is root (gid 0); with "
                            "<FcgiPmApp> apps defined this is refused: "
                            "httpd's children would hold root's group "
                            "rights, and the apps' sockets belong to that "
                            "group. Use an unprivileged group (www-data)",
                            directive_where(p, "Group"));
    }
    pw = getpwuid(ap_unixd_config.user_id);
    if (pw) {
        apr_array_header_t *groups = fcgi_pm_identity_groups_of(p, pw->pw_name, httpd_gid);
        for (i = 0; i < groups->nelts; i++) {
            if (APR_ARRAY_IDX(groups, i, gid_t) == 0) {
                return apr_psprintf(p, "%s: httpd's User %s is a member of "
                                    "group root (gid 0); with <FcgiPmApp> "
                                    "apps defined this is refused: remove "
                                    "it from that group",
                                    directive_where(p, "User"), pw->pw_name);
            }
        }
    }
    return NULL;
}

/* FcgiPmMaxProcesses: the floors (Processes) of every app must fit.
 * Unset, it is 16 workers per CPU, at least 64, and at least the floors. */
static const char *check_max_total(apr_pool_t *pconf, fcgi_pm_server_conf *sc)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int i, floors = 0, dflt;

    for (i = 0; i < sc->apps->nelts; i++) {
        floors += APR_ARRAY_IDX(sc->apps, i, fcgi_pm_app_conf *)->processes;
    }
    if (sc->max_total_where) {
        if (sc->max_processes_total < floors) {
            return apr_psprintf(pconf, "%s: FcgiPmMaxProcesses %d is below the "
                                "%d workers the apps start (the sum of their "
                                "Processes)", sc->max_total_where,
                                sc->max_processes_total, floors);
        }
        return NULL;
    }
    dflt = cpus > 0 && cpus < FCGI_PM_MAX_TOTAL / 16 ? 16 * (int)cpus : 64;
    if (dflt < 64) {
        dflt = 64;
    }
    sc->max_processes_total = floors > dflt ? floors : dflt;
    return NULL;
}

const char *fcgi_pm_config_check(apr_pool_t *pconf, server_rec *s,
                                 fcgi_pm_server_conf *sc)
{
    int unix_apps = 0;
    const char *err;
    const char *socket_dir = fcgi_pm_config_socket_dir(pconf, sc);
    apr_hash_t *addrs = apr_hash_make(pconf);
    apr_hash_t *hosts = apr_hash_make(pconf);
    const apr_array_header_t *pass_uses = fcgi_pm_config_pass_uses();
    struct sockaddr_un sun;
    int i;

    for (i = 0; pass_uses && i < pass_uses->nelts; i++) {
        const fcgi_pm_pass_use *use = &APR_ARRAY_IDX(pass_uses, i,
                                                     fcgi_pm_pass_use);
        if (!apr_hash_get(sc->apps_by_name, use->app, APR_HASH_KEY_STRING)) {
            return apr_psprintf(pconf, "%s: FcgiPmPass: no <FcgiPmApp %s> is "
                                "defined", use->where, use->app);
        }
        if (!ap_find_linked_module("mod_proxy_fcgi.c")) {
            return apr_psprintf(pconf, "%s: FcgiPmPass needs mod_proxy and "
                                "mod_proxy_fcgi: load them with LoadModule",
                                use->where);
        }
    }
    for (i = 0; i < sc->apps->nelts; i++) {
        fcgi_pm_app_conf *app = APR_ARRAY_IDX(sc->apps, i, fcgi_pm_app_conf *);
        const char *other;

        app->addr = app_address(pconf, socket_dir, app,
                                worker_host(pconf, hosts, app, i));
        if (!app->addr) {
            return apr_psprintf(pconf, "%s: <FcgiPmApp %s>: cannot resolve "
                                "Listen %s", app->defined_in, app->name,
                                app->listen);
        }
        if (strlen(app->addr) >= FCGI_PM_ADDR_MAX || (app->socket_path
            && strlen(app->socket_path) >= sizeof(sun.sun_path))) {
            return apr_psprintf(pconf, "%s: <FcgiPmApp %s>: socket address '%s' "
                                "is too long (shorten FcgiPmSocketDir%s%s)",
                                app->defined_in, app->name, app->addr,
                                sc->socket_dir_where ? ", set at " : "",
                                sc->socket_dir_where ? sc->socket_dir_where
                                                     : "");
        }
        other = apr_hash_get(addrs, app->addr, APR_HASH_KEY_STRING);
        if (other) {
            return apr_psprintf(pconf, "%s: <FcgiPmApp %s>: Listen %s is "
                                "already used by app '%s'", app->defined_in,
                                app->name, app->listen, other);
        }
        apr_hash_set(addrs, app->addr, APR_HASH_KEY_STRING, app->name);
        if (app->socket_path) {
            unix_apps++;
        }
        if ((err = check_app_identity(pconf, s, app))) {
            return err;
        }
        if ((err = check_record_size(pconf, app))) {
            return err;
        }
    }
    if (sc->apps->nelts && (err = check_httpd_identity(pconf))) {
        return err;
    }
    if ((err = check_max_total(pconf, sc))) {
        return err;
    }
    if (unix_apps) {
        const char *problem = fcgi_pm_sock_check_dir(pconf, socket_dir,
                                                     ap_unixd_config.user_id);
        if (problem) {
            return sc->socket_dir_where
                   ? apr_psprintf(pconf, "%s: %s", sc->socket_dir_where,
                                  problem)
                   : apr_psprintf(pconf, "FcgiPmSocketDir is not set and its "
                                  "default cannot be used: %s", problem);
        }
    }
    return NULL;
}
