/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_fcgid's process classes, the manager's side (fcgi_pm_scripts.h).
 */
#include "fcgi_pm_scripts.h"
#include "fcgi_pm_fcgid.h"
#include "fcgi_pm_sock.h"

#include "http_log.h"
#include "apr_strings.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

APLOG_USE_MODULE(fcgi_pm);

#define REQUEST_WAIT_MS 50      /* a child sends right after connect() */

/* One server's class template (a CLASS record); a program of
 * FcgidCmdOptions has its own, with only env and the limits set. */
typedef struct class_template class_template;
struct class_template {
    const char *key;
    long uid, gid;
    const char *groups;
    int suexec;
    const char *docroot;
    apr_array_header_t *env;
    int max_processes, keep_processes, idle_timeout;
    int max_requests, max_request_time, lifetime;
    apr_hash_t *wrappers;       /* trusted command lines */
    apr_hash_t *cmds;           /* program path -> its class_template */
};

static class_template *new_template(apr_pool_t *p)
{
    class_template *t = apr_pcalloc(p, sizeof(*t));

    t->env = apr_array_make(p, 4, sizeof(const char *));
    t->wrappers = apr_hash_make(p);
    t->cmds = apr_hash_make(p);
    return t;
}

static struct {
    server_rec *s;
    apr_pool_t *pool;           /* the manager's */
    apr_pool_t *gen_pool;       /* the running templates */
    apr_pool_t *incoming_pool;  /* those being received */
    apr_hash_t *templates, *incoming;
    const char *sock_dir, *incoming_dir;
    gid_t gid, incoming_gid;
    int fd;                     /* the spawn socket */
    const char *fd_path;
    dev_t fd_dev;               /* its file, as bound */
    ino_t fd_ino;
    char *buf;                  /* one message */
} SC;

void fcgi_pm_scripts_init(server_rec *s, apr_pool_t *pool)
{
    SC.s = s;
    SC.pool = pool;
    SC.fd = -1;
}

void fcgi_pm_scripts_begin(const char *socket_dir, gid_t httpd_gid)
{
    if (SC.incoming_pool) {
        apr_pool_destroy(SC.incoming_pool);   /* an unfinished one */
    }
    apr_pool_create(&SC.incoming_pool, SC.pool);
    SC.incoming = apr_hash_make(SC.incoming_pool);
    SC.incoming_dir = apr_pstrdup(SC.incoming_pool, socket_dir);
    SC.incoming_gid = httpd_gid;
}

void fcgi_pm_scripts_class(const fcgi_pm_msg *msg)
{
    apr_pool_t *p = SC.incoming_pool;
    const char *pos = msg->payload, *end = msg->payload + msg->len, *k, *v;
    class_template *t, *cur;

    if (!p) {
        return;                 /* no BEGIN before it */
    }
    t = cur = new_template(p);
    while (fcgi_pm_proto_next(&pos, end, &k, &v)) {
        if (!strcmp(k, FCGI_PM_K_CMD)) {
            cur = new_template(p);
            apr_hash_set(t->cmds, apr_pstrdup(p, v), APR_HASH_KEY_STRING, cur);
        }
        else if (!strcmp(k, FCGI_PM_K_CLASS))         t->key = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_UID))           t->uid = atol(v);
        else if (!strcmp(k, FCGI_PM_K_GID))           t->gid = atol(v);
        else if (!strcmp(k, FCGI_PM_K_GROUPS))        t->groups = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_SUEXEC))        t->suexec = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_DOCROOT))       t->docroot = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_ENV))
            APR_ARRAY_PUSH(cur->env, const char *) = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_MAX_PROCESSES)) cur->max_processes = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_KEEP_PROCESSES)) cur->keep_processes = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_IDLE_TIMEOUT))  cur->idle_timeout = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_MAX_REQUESTS))  cur->max_requests = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_MAX_REQUEST_TIME)) cur->max_request_time = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_LIFETIME))      cur->lifetime = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_WRAPPER))
            apr_hash_set(t->wrappers, apr_pstrdup(p, v), APR_HASH_KEY_STRING, t);
    }
    if (!t->key || t->uid <= 0 || t->gid <= 0 || t->max_processes < 1) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, SC.s,
                     "ignoring a malformed class record from httpd");
        return;
    }
    apr_hash_set(SC.incoming, t->key, APR_HASH_KEY_STRING, t);
}

static void open_spawn_socket(void)
{
    const char *path = apr_pstrcat(SC.gen_pool, SC.sock_dir, "/",
                                   FCGI_PM_SPAWN_SOCKET, NULL);
    const char *err = NULL;
    int fd;

    if (SC.fd >= 0 && SC.fd_path && !strcmp(SC.fd_path, path)) {
        return;
    }
    fd = fcgi_pm_sock_bind_unix(SC.gen_pool, path, SC.gid, SOCK_SEQPACKET,
                                &err);
    if (fd < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, SC.s, "fcgid-script requests "
                     "cannot reach the manager: %s", err);
        return;
    }
    /* The loop accepts until EAGAIN: it must never block here. */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, SC.s, "%s: O_NONBLOCK", path);
        close(fd);
        return;
    }
    if (SC.fd >= 0) {
        close(SC.fd);
    }
    SC.fd = fd;
    SC.fd_path = apr_pstrdup(SC.pool, path);
    if (fcgi_pm_sock_identity(path, &SC.fd_dev, &SC.fd_ino) != 0) {
        SC.fd_dev = 0;
        SC.fd_ino = 0;
    }
}

void fcgi_pm_scripts_commit(void)
{
    if (!SC.incoming_pool) {
        return;
    }
    if (SC.gen_pool) {
        apr_pool_destroy(SC.gen_pool);
    }
    SC.gen_pool = SC.incoming_pool;
    SC.templates = SC.incoming;
    SC.sock_dir = SC.incoming_dir;
    SC.gid = SC.incoming_gid;
    SC.incoming_pool = NULL;
    SC.incoming = NULL;
    open_spawn_socket();
}

int fcgi_pm_scripts_fd(void)
{
    return SC.fd;
}

void fcgi_pm_scripts_close(int remove_file)
{
    if (SC.fd >= 0 && remove_file && SC.fd_path) {
        fcgi_pm_sock_unlink_if_ours(SC.fd_path, SC.fd_dev, SC.fd_ino);
    }
    if (SC.fd >= 0) {
        close(SC.fd);
        SC.fd = -1;
    }
}

/* An absolute path without ".", ".." or empty components, nor control
 * characters. */
static int clean_path(const char *path)
{
    const char *c;

    if (path[0] != '/' || strlen(path) >= 4096) {
        return 0;
    }
    for (c = path; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            return 0;
        }
        if (*c == '/') {
            const char *n = c + 1;
            if (*n == '/' || *n == '\0'
                || (n[0] == '.' && (n[1] == '/' || n[1] == '\0'))
                || (n[0] == '.' && n[1] == '.' && (n[2] == '/' || n[2] == '\0'))) {
                return 0;
            }
        }
    }
    return 1;
}

static int under(const char *path, const char *dir)
{
    apr_size_t n = strlen(dir);

    return n > 1 && !strncmp(path, dir, n) && path[n] == '/';
}

const char *fcgi_pm_scripts_spec(apr_pool_t *p, const char *key,
                                 const char *kind, const char *command,
                                 fcgi_pm_app_spec *out)
{
    const class_template *t = SC.templates
        ? apr_hash_get(SC.templates, key, APR_HASH_KEY_STRING) : NULL;
    const class_template *o;
    char **argv;
    struct sockaddr_un sun;
    int i;

    if (!t) {
        return "no such server in the configuration";
    }
    memset(out, 0, sizeof(*out));
    out->argv = apr_array_make(p, 4, sizeof(const char *));
    if (!strcmp(kind, FCGI_PM_CLASS_WRAPPER)) {
        if (!apr_hash_get(t->wrappers, command, APR_HASH_KEY_STRING)) {
            return "not a FcgidWrapper of the configuration files";
        }
        if (apr_tokenize_to_argv(command, &argv, p) != APR_SUCCESS
            || !argv[0] || !clean_path(argv[0])) {
            return "the wrapper's command line does not start with a path";
        }
        for (i = 0; argv[i]; i++) {
            APR_ARRAY_PUSH(out->argv, const char *) = argv[i];
        }
    }
    else if (!strcmp(kind, FCGI_PM_CLASS_SCRIPT)) {
        if (!clean_path(command)) {
            return "not a clean absolute path";
        }
        APR_ARRAY_PUSH(out->argv, const char *) = apr_pstrdup(p, command);
        out->workdir = apr_pstrndup(p, command, strrchr(command, '/') - command);
        if (!*out->workdir) {
            out->workdir = "/";
        }
    }
    else {
        return "unknown kind of class";
    }
    if (t->suexec && !under(APR_ARRAY_IDX(out->argv, 0, const char *),
                            t->docroot)) {
        return apr_psprintf(p, "outside DocumentRoot %s, where SuexecUserGroup "
                            "programs must be", t->docroot);
    }
    out->name = fcgi_pm_fcgid_class_name(p, key, kind, command);
    out->socket_path = apr_pstrcat(p, SC.sock_dir, "/", out->name, ".sock",
                                   NULL);
    if (strlen(out->socket_path) >= sizeof(sun.sun_path)) {
        return "the socket path would be too long (FcgiPmSocketDir)";
    }
    out->addr = apr_pstrcat(p, "unix:", out->socket_path, NULL);
    o = apr_hash_get(t->cmds, APR_ARRAY_IDX(out->argv, 0, const char *),
                     APR_HASH_KEY_STRING);
    if (!o) {
        o = t;
    }
    out->env = apr_array_copy(p, o->env);
    out->processes = 0;
    out->max_processes = o->max_processes < 1 ? 1 : o->max_processes;
    out->keep_processes = o->keep_processes < out->max_processes
                          ? o->keep_processes : out->max_processes;
    out->idle_timeout = o->idle_timeout;
    out->max_requests = o->max_requests;
    out->max_request_time = o->max_request_time;
    out->lifetime = o->lifetime;
    if (out->max_requests > 0 && !fcgi_pm_proto_env_has(out->env, "PHP_FCGI_MAX_REQUESTS")) {
        /* php-cgi counts its requests itself, exactly (as MaxRequests). */
        APR_ARRAY_PUSH(out->env, const char *) =
            apr_psprintf(p, "PHP_FCGI_MAX_REQUESTS=%d", out->max_requests);
    }
    out->uid = t->uid;
    out->gid = t->gid;
    out->groups = t->groups;
    out->shutdown_timeout = FCGI_PM_DEFAULT_SHUTDOWN_TIMEOUT;
    /* A changed program rolls its workers, as with mod_fcgid. */
    out->restart_file = APR_ARRAY_IDX(out->argv, 0, const char *);
    out->exec_check = t->suexec ? FCGI_PM_EXEC_SUEXEC : FCGI_PM_EXEC_FILE;
    out->docroot = t->docroot;
    return NULL;
}

int fcgi_pm_scripts_listen(apr_pool_t *p, const fcgi_pm_app_spec *spec,
                           const char **err)
{
    return fcgi_pm_sock_bind_unix(p, spec->socket_path, SC.gid, SOCK_STREAM,
                                  err);
}

int fcgi_pm_scripts_next_request(apr_pool_t *p, const char **key,
                                 const char **kind, const char **command)
{
    struct pollfd pfd;
    fcgi_pm_msg msg;
    const char *pos, *end, *k, *v;
    int conn, rc;

    if (SC.fd < 0) {
        return -1;
    }
    conn = accept4(SC.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn < 0) {
        return -1;
    }
    if (!SC.buf) {
        SC.buf = apr_palloc(SC.pool, FCGI_PM_MSG_MAX);
    }
    /* Bounded: a child that connects and says nothing costs 50 ms. */
    pfd.fd = conn;
    pfd.events = POLLIN;
    rc = poll(&pfd, 1, REQUEST_WAIT_MS);
    rc = rc == 1 ? fcgi_pm_proto_recv(conn, SC.buf, &msg, 1) : -1;
    if (rc == 1 && msg.fd >= 0) {
        close(msg.fd);          /* nothing is taken from a child */
    }
    if (rc != 1 || msg.type != FCGI_PM_MSG_SPAWN) {
        close(conn);
        return -1;
    }
    *key = *kind = *command = NULL;
    pos = msg.payload;
    end = msg.payload + msg.len;
    while (fcgi_pm_proto_next(&pos, end, &k, &v)) {
        if (!strcmp(k, FCGI_PM_K_CLASS))        *key = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_KIND))    *kind = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_COMMAND)) *command = apr_pstrdup(p, v);
    }
    if (!*key || !*kind || !*command) {
        fcgi_pm_scripts_answer(conn, NULL, "malformed request");
        return -1;
    }
    return conn;
}

void fcgi_pm_scripts_answer(int conn, const char *name, const char *error)
{
    apr_pool_t *p;
    fcgi_pm_payload *rec;

    apr_pool_create(&p, SC.pool);
    rec = fcgi_pm_proto_record(p);
    fcgi_pm_proto_put(rec, name ? FCGI_PM_K_NAME : FCGI_PM_K_ERROR,
                      name ? name : error);
    /* A child that does not read loses its answer, not our time. */
    (void)fcgi_pm_proto_send(conn, FCGI_PM_MSG_SPAWNED, rec, -1, 0);
    close(conn);
    apr_pool_destroy(p);
}
