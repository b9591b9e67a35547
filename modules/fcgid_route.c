/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The handler fcgid-script (and fcgi-pm-script), in httpd's children: the
 * requested script (or its FcgidWrapper) becomes a class (an app started
 * on demand by the manager, fcgi_pm_fcgid.h), and the request goes to it
 * through mod_proxy_fcgi like an FcgiPmPass request.  httpd's own rules
 * decide what may run: Options ExecCGI (or ScriptAlias), the handler
 * mapping, a file that exists (httpd's 404 otherwise).
 */
#include "fcgi_pm_fcgid.h"
#include "fcgi_pm_config.h"
#include "fcgi_pm_parent.h"
#include "fcgi_pm_proto.h"
#include "fcgi_pm_route.h"
#include "fcgi_pm_table.h"

#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

APLOG_USE_MODULE(fcgi_pm);

#define SPAWN_ANSWER_MS 10000   /* the manager answers at once, normally */

/* "ProxyFCGIBackendType GENERIC" for the scripts' requests only, merged
 * into each request's configuration (SCRIPT_FILENAME is then the script's
 * path, as php-cgi and CGI programs want it).  Built at check_config. */
static ap_conf_vector_t *generic_backend;

const char *fcgi_pm_fcgid_prepare_backend(apr_pool_t *pconf, server_rec *s)
{
    cmd_parms parms;
    const char *err;

    memset(&parms, 0, sizeof(parms));
    generic_backend = ap_create_per_dir_config(pconf);
    parms.pool = pconf;
    parms.temp_pool = pconf;
    parms.server = s;
    parms.context = generic_backend;
    parms.override = ACCESS_CONF | RSRC_CONF;
    parms.limited = -1;
    err = fcgi_pm_config_generic_backend(&parms);
    return err;
}

static int is_script_handler(const char *h)
{
    return h && (!strcmp(h, FCGI_PM_FCGID_HANDLER)
                 || !strcmp(h, FCGI_PM_SCRIPT_HANDLER));
}

/* The FcgidWrapper for FILENAME: by its suffix, else the one for all. */
static const fcgi_pm_fcgid_wrapper *wrapper_for(apr_hash_t *wrappers,
                                                const char *filename)
{
    const char *base = strrchr(filename, '/');
    const char *dot = strrchr(base ? base : filename, '.');
    const fcgi_pm_fcgid_wrapper *w = NULL;

    if (!wrappers) {
        return NULL;
    }
    if (dot) {
        w = apr_hash_get(wrappers, dot, APR_HASH_KEY_STRING);
    }
    return w ? w : apr_hash_get(wrappers, "", APR_HASH_KEY_STRING);
}

static int body_too_long(request_rec *r, apr_off_t limit)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t len;
    char *end;

    if (!cl || limit <= 0) {
        return 0;
    }
    if (apr_strtoff(&len, cl, &end, 10) != APR_SUCCESS || *end || len < 0) {
        return 0;        /* httpd's own parser answers 400 for those */
    }
    return len > limit;
}

/* FcgidMaxRequestLen for a body without Content-Length (chunked): the
 * input filter counts what passes and ends the request with 413 once it
 * goes over. */
#define BODY_LIMIT_FILTER "FCGI_PM_BODY_LIMIT"

typedef struct {
    apr_off_t limit, seen;
} body_limit;

static apr_status_t limit_body(ap_filter_t *f, apr_bucket_brigade *bb,
                               ap_input_mode_t mode, apr_read_type_e block,
                               apr_off_t readbytes)
{
    body_limit *ctx = f->ctx;
    apr_status_t rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    apr_off_t len = 0;

    if (rv != APR_SUCCESS || mode != AP_MODE_READBYTES) {
        return rv;
    }
    if (apr_brigade_length(bb, 1, &len) == APR_SUCCESS) {
        ctx->seen += len;
    }
    if (ctx->seen > ctx->limit) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, f->r, "request body larger "
                      "than FcgidMaxRequestLen %" APR_OFF_T_FMT ": 413",
                      ctx->limit);
        apr_brigade_cleanup(bb);
        /* As httpd's own LimitRequestBody: readers map it to 413
         * (ap_map_http_request_error). */
        return APR_ENOSPC;
    }
    return APR_SUCCESS;
}

void fcgi_pm_fcgid_register_filters(void)
{
    ap_register_input_filter(BODY_LIMIT_FILTER, limit_body, NULL,
                             AP_FTYPE_RESOURCE);
}

/* Ask the manager for the class; its name in *NAME.  Returns OK or an
 * HTTP status (logged). */
static int ask_manager(request_rec *r, const char *sock_dir, const char *key,
                       const char *kind, const char *command, const char **name)
{
    const char *path = apr_pstrcat(r->pool, sock_dir, "/",
                                   FCGI_PM_SPAWN_SOCKET, NULL);
    struct sockaddr_un sun;
    fcgi_pm_payload *rec = fcgi_pm_proto_record(r->pool);
    struct pollfd pfd;
    fcgi_pm_msg msg;
    char *buf;
    const char *pos, *end, *k, *v, *err = NULL;
    int fd, rc;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "%s: path too long", path);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    apr_cpystrn(sun.sun_path, path, sizeof(sun.sun_path));
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, r, "socket()");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    do {
        rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, r, "cannot reach the "
                      "manager at %s to start %s %s: 503", path, kind, command);
        close(fd);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    fcgi_pm_proto_put(rec, FCGI_PM_K_CLASS, key);
    fcgi_pm_proto_put(rec, FCGI_PM_K_KIND, kind);
    fcgi_pm_proto_put(rec, FCGI_PM_K_COMMAND, command);
    if (fcgi_pm_proto_send(fd, FCGI_PM_MSG_SPAWN, rec, -1, SPAWN_ANSWER_MS)
        != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, r, "cannot ask the manager "
                      "to start %s %s: 503", kind, command);
        close(fd);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    pfd.fd = fd;
    pfd.events = POLLIN;
    do {
        rc = poll(&pfd, 1, SPAWN_ANSWER_MS);
    } while (rc < 0 && errno == EINTR);
    buf = apr_palloc(r->pool, FCGI_PM_MSG_MAX);
    rc = rc == 1 ? fcgi_pm_proto_recv(fd, buf, &msg, 1) : -1;
    close(fd);
    if (rc != 1 || msg.type != FCGI_PM_MSG_SPAWNED) {
        if (rc == 1 && msg.fd >= 0) {
            close(msg.fd);
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "the manager did not answer "
                      "for %s %s: 503", kind, command);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (msg.fd >= 0) {
        close(msg.fd);
    }
    *name = NULL;
    pos = msg.payload;
    end = msg.payload + msg.len;
    while (fcgi_pm_proto_next(&pos, end, &k, &v)) {
        if (!strcmp(k, FCGI_PM_K_NAME)) {
            *name = apr_pstrdup(r->pool, v);
        }
        else if (!strcmp(k, FCGI_PM_K_ERROR)) {
            err = apr_pstrdup(r->pool, v);
        }
    }
    if (!*name) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "%s %s not started: %s",
                      kind, command, err ? err : "no reason given");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

int fcgi_pm_fcgid_class(request_rec *r, const char *kind,
                        const char *command, const char **name,
                        const char **sock_path)
{
    fcgi_pm_server_conf *sc = ap_get_module_config(r->server->module_config,
                                                   &fcgi_pm_module);
    fcgi_pm_server_conf *main_sc = ap_get_module_config(
        ap_server_conf->module_config, &fcgi_pm_module);
    const char *sock_dir = fcgi_pm_config_socket_dir(r->pool, main_sc);
    fcgi_pm_table *t = fcgi_pm_parent_table();

    if (!sc->fcgid || !sc->fcgid->class_key) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    *name = fcgi_pm_fcgid_class_name(r->pool, sc->fcgid->class_key, kind,
                                     command);
    if (!t || !fcgi_pm_table_find_app(t, *name)) {
        const char *given = NULL;
        int rc = ask_manager(r, sock_dir, sc->fcgid->class_key, kind, command,
                             &given);
        if (rc != OK) {
            return rc;
        }
        if (strcmp(given, *name) != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "the manager named "
                          "%s %s '%s', expected '%s' (module versions "
                          "differ?)", kind, command, given, *name);
            *name = given;
        }
    }
    *sock_path = apr_pstrcat(r->pool, sock_dir, "/", *name, ".sock", NULL);
    return OK;
}

int fcgi_pm_fcgid_fixup(request_rec *r)
{
    fcgi_pm_dir_conf *dc;
    fcgi_pm_server_conf *sc;
    const fcgi_pm_fcgid_wrapper *w;
    const fcgi_pm_fcgid_server *opts;
    const fcgi_pm_app_conf *proxy_app;
    const char *kind, *command, *name, *sock_path, *handler;
    int rc;

    if (!is_script_handler(r->handler) || r->proxyreq) {
        return DECLINED;
    }
    dc = ap_get_module_config(r->per_dir_config, &fcgi_pm_module);
    sc = ap_get_module_config(r->server->module_config, &fcgi_pm_module);
    if (!sc->fcgid || !sc->fcgid->class_key || !generic_backend) {
        return DECLINED;
    }
    if (!(ap_allow_options(r) & OPT_EXECCGI)
        && !apr_table_get(r->notes, "alias-forced-type")) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "Options ExecCGI is off "
                      "in this directory: %s", r->filename);
        return HTTP_FORBIDDEN;
    }
    if (r->used_path_info == AP_REQ_REJECT_PATH_INFO && r->path_info
        && *r->path_info) {
        return HTTP_NOT_FOUND;
    }
    w = wrapper_for(dc ? dc->wrappers : NULL, r->filename);
    if (!w || !w->virtual) {
        if (r->finfo.filetype == APR_NOFILE) {
            return HTTP_NOT_FOUND;     /* httpd's 404, its ErrorDocument */
        }
        if (r->finfo.filetype == APR_DIR) {
            return HTTP_FORBIDDEN;
        }
    }
    /* A FcgidWrapper of an .htaccess file runs only if the server's own
     * files name the same command line: the manager checks (scripts.c). */
    if (body_too_long(r, fcgi_pm_fcgid_max_request_len(sc->fcgid))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "request body larger than "
                      "FcgidMaxRequestLen %" APR_OFF_T_FMT ": 413",
                      fcgi_pm_fcgid_max_request_len(sc->fcgid));
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    if (fcgi_pm_fcgid_max_request_len(sc->fcgid) > 0
        && !apr_table_get(r->headers_in, "Content-Length")) {
        body_limit *ctx = apr_pcalloc(r->pool, sizeof(*ctx));
        ctx->limit = fcgi_pm_fcgid_max_request_len(sc->fcgid);
        ap_add_input_filter(BODY_LIMIT_FILTER, ctx, r, r->connection);
    }
    kind = w ? FCGI_PM_CLASS_WRAPPER : FCGI_PM_CLASS_SCRIPT;
    command = w ? w->cmdline : r->filename;
    rc = fcgi_pm_fcgid_class(r, kind, command, &name, &sock_path);
    if (rc != OK) {
        return rc;
    }
    opts = fcgi_pm_fcgid_options_for(sc->fcgid, w ? apr_pstrndup(r->pool,
        command, strcspn(command, " \t")) : command);
    proxy_app = opts->proxy_app ? opts->proxy_app : sc->fcgid->proxy_app;
    handler = apr_pstrcat(r->pool, "proxy:unix:", sock_path, "|",
                          proxy_app->proxy_worker, NULL);
    r->per_dir_config = ap_merge_per_dir_configs(r->pool, r->per_dir_config,
                                                 generic_backend);
    return fcgi_pm_route_to(r, name, handler, proxy_app,
                            sc->fcgid->pass_headers);
}
