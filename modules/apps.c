/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manager's apps (fcgi_pm_apps.h): an APP record into an app, the
 * list's bookkeeping at a COMMIT, and mod_fcgid's classes made on an httpd
 * child's request (scripts.c says what may be made).
 */
#include "fcgi_pm_apps.h"
#include "fcgi_pm_fcgid.h"
#include "fcgi_pm_scripts.h"
#include "fcgi_pm_sock.h"
#include "fcgi_pm_spawn.h"

#include "http_log.h"
#include "apr_strings.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

APLOG_USE_MODULE(fcgi_pm);

static struct {
    apr_pool_t *pool;           /* the manager's */
    server_rec *s;
    fcgi_pm_table *t;
    fcgi_pm_app **apps;         /* the manager's list */
} A;

void fcgi_pm_apps_init(apr_pool_t *pool, server_rec *s, fcgi_pm_table *t,
                       fcgi_pm_app **apps)
{
    A.pool = pool;
    A.s = s;
    A.t = t;
    A.apps = apps;
}

static char **string_vector(apr_array_header_t *a)
{
    *(const char **)apr_array_push(a) = NULL;
    return (char **)a->elts;
}

/* "1,2,3" into a gid array. */
static void parse_groups(fcgi_pm_app *app, const char *v)
{
    apr_array_header_t *g = apr_array_make(app->pool, 4, sizeof(gid_t));
    char *end;

    while (*v) {
        long gid = strtol(v, &end, 10);
        if (end == v) {
            break;
        }
        APR_ARRAY_PUSH(g, gid_t) = (gid_t)gid;
        v = *end == ',' ? end + 1 : end;
    }
    app->groups = (gid_t *)g->elts;
    app->ngroups = g->nelts;
}

/* An APP record, with its listen socket FD, into a new app. */
fcgi_pm_app *fcgi_pm_apps_parse_record(const char *payload, apr_size_t len,
                                     int fd)
{
    apr_pool_t *p;
    fcgi_pm_app *app;
    fcgi_pm_app_spec spec;
    struct stat st;
    int decoded;

    apr_pool_create(&p, A.pool);
    app = apr_pcalloc(p, sizeof(*app));
    app->pool = p;
    app->listen_fd = fd;
    app->record = apr_pmemdup(p, payload, len);
    app->record_len = len;
    decoded = fcgi_pm_proto_app_decode(p, payload, len, &spec) == 0;
    if (decoded) {
        app->name = spec.name;
        app->addr = spec.addr;
        app->socket_path = spec.socket_path;
        app->processes = spec.processes;
        app->max_processes = spec.max_processes > spec.processes
                             ? spec.max_processes : spec.processes;
        app->idle_timeout = spec.idle_timeout;
        app->max_requests = spec.max_requests;
        app->max_request_time = spec.max_request_time;
        app->uid = (uid_t)spec.uid;
        app->gid = (gid_t)spec.gid;
        parse_groups(app, spec.groups ? spec.groups : "");
        app->workdir = spec.workdir;
        app->restart_on_graceful = spec.restart_on_graceful;
        app->shutdown_timeout = spec.shutdown_timeout;
        app->stop_signal = spec.stop_signal
                           ? fcgi_pm_spawn_signal_number(spec.stop_signal)
                           : SIGUSR1;
        app->restart_file = spec.restart_file;
        app->sock_dev = (dev_t)spec.sock_dev;
        app->sock_ino = (ino_t)spec.sock_ino;
        app->keep_processes = spec.keep_processes;
        app->lifetime = spec.lifetime;
        app->exec_check = spec.exec_check;
        app->docroot = spec.docroot;
    }
    if (!decoded || app->processes < 0 || app->max_processes < 1
        || app->processes > FCGI_PM_MAX_PROCESSES
        || app->max_processes > FCGI_PM_MAX_PROCESSES || app->listen_fd < 0
        || app->stop_signal == 0 || fstat(app->listen_fd, &st) != 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, A.s,
                     "ignoring a malformed app record from httpd");
        app->listen_fd = -1;
        if (fd >= 0) {
            close(fd);
        }
        apr_pool_destroy(p);
        return NULL;
    }
    /* A socket's inode, as /proc/PID/fd shows it ("socket:[INODE]"). */
    app->listen_ino = (unsigned long)st.st_ino;
    app->tcp_port = fcgi_pm_sock_addr_port(app->addr);
    app->argv = string_vector(spec.argv);
    app->envp = string_vector(spec.env);
    return app;
}

fcgi_pm_app *fcgi_pm_apps_find(const char *name)
{
    fcgi_pm_app *app;

    for (app = (*A.apps); app && strcmp(app->name, name); app = app->next) {
    }
    return app;
}

/* NEW replaces OLD (same name): its workers, table slot and socket. */
void fcgi_pm_apps_replace(fcgi_pm_app *old, fcgi_pm_app *new)
{
    int changed = old->record_len != new->record_len
                  || memcmp(old->record, new->record, new->record_len) != 0;
    int new_socket = old->listen_ino != new->listen_ino;

    new->slot = old->slot;
    new->wslots = old->wslots;
    new->restart_file_mtime = old->restart_file_mtime;
    fcgi_pm_pool_take_over(new, old);
    if (changed || new_socket) {
        fcgi_pm_pool_roll(new, "configuration changed");
    }
    else if (new->restart_on_graceful) {
        fcgi_pm_pool_roll(new, "graceful restart");
    }
    if (new_socket && old->socket_path) {
        /* The parent made a new socket: the old file is gone already. */
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, A.s,
                     "app %s: listen socket replaced", new->name);
    }
}

/* Slots no app of ours publishes in (a dead manager's apps that are no
 * longer configured) are freed: the router would find a stale one by
 * name, in a state (backing off) nobody will ever change. */
void fcgi_pm_apps_release_unowned(void)
{
    fcgi_pm_app *app;
    char *ours = calloc(FCGI_PM_TABLE_APPS, 1);
    int i;

    if (!ours) {
        return;
    }
    for (app = (*A.apps); app; app = app->next) {
        if (app->slot) {
            ours[app->slot - A.t->apps] = 1;
        }
    }
    for (i = 0; i < FCGI_PM_TABLE_APPS; i++) {
        if (A.t->apps[i].state != FCGI_PM_APP_FREE && !ours[i]) {
            fcgi_pm_table_release_app(&A.t->apps[i]);
        }
    }
    free(ours);
}

fcgi_pm_app *fcgi_pm_apps_add(fcgi_pm_app *app)
{
    fcgi_pm_app_slot *slot = fcgi_pm_table_claim_app(A.t, app->name, app->addr);

    if (!slot) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, A.s,
                     "app %s: the table is full; not started", app->name);
        fcgi_pm_pool_free(app);
        return NULL;
    }
    app->slot = slot;
    app->wslots = fcgi_pm_table_workers(A.t, slot);
    return app;
}

/* A class (scripts.c) from SPEC on listen socket FD, or NULL. */
static fcgi_pm_app *class_app(const fcgi_pm_app_spec *spec, int fd,
                              const char *key, const char *kind,
                              const char *command)
{
    apr_pool_t *p;
    fcgi_pm_payload *rec;
    fcgi_pm_app *app;

    apr_pool_create(&p, A.pool);
    rec = fcgi_pm_proto_app_encode(p, spec);
    app = fcgi_pm_apps_parse_record(rec->buf, rec->len, fd);
    apr_pool_destroy(p);
    if (app) {
        app->dynamic = 1;
        app->config_state = FCGI_PM_APP_CONFIGURED;
        app->class_key = apr_pstrdup(app->pool, key);
        app->class_kind = apr_pstrdup(app->pool, kind);
        app->class_command = apr_pstrdup(app->pool, command);
    }
    return app;
}

/* COMMIT: each class follows its server's new template (a changed one
 * rolls it); a class whose server is gone drains. */
void fcgi_pm_apps_refresh_classes(void)
{
    fcgi_pm_app *app, **pp;
    apr_pool_t *p;

    apr_pool_create(&p, A.pool);
    for (pp = &(*A.apps); (app = *pp) != NULL; ) {
        fcgi_pm_app_spec spec;
        fcgi_pm_app *fresh;
        const char *why;
        int fd;

        if (!app->dynamic || app->config_state != FCGI_PM_APP_CONFIGURED) {
            pp = &app->next;
            continue;
        }
        why = fcgi_pm_scripts_spec(p, app->class_key, app->class_kind,
                                   app->class_command, &spec);
        if (why) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, A.s, "app %s (%s %s): "
                         "%s; draining", app->name, app->class_kind,
                         app->class_command, why);
            app->config_state = FCGI_PM_APP_REMOVED;
            app->removal_said = 1;
            pp = &app->next;
            continue;
        }
        spec.sock_dev = (long)app->sock_dev;    /* the same socket file */
        spec.sock_ino = (long)app->sock_ino;
        fd = dup(app->listen_fd);
        fresh = fd >= 0 ? class_app(&spec, fd, app->class_key, app->class_kind,
                                    app->class_command)
                        : NULL;
        if (fresh && (fresh->record_len != app->record_len
                      || memcmp(fresh->record, app->record, app->record_len))) {
            fcgi_pm_apps_replace(app, fresh);
            fresh->next = app->next;
            *pp = fresh;
            fcgi_pm_pool_free(app);
            app = fresh;
        }
        else if (fresh) {
            fcgi_pm_pool_free(fresh);
        }
        pp = &app->next;
    }
    apr_pool_destroy(p);
}

/* Requests on the spawn socket (fcgid-script's first request for a class):
 * a bounded number each time. */
int fcgi_pm_apps_serve_classes(int stopping)
{
    apr_pool_t *p;
    int n, created = 0;

    apr_pool_create(&p, A.pool);
    for (n = 0; n < 32; n++) {
        const char *key, *kind, *command, *why, *err = NULL;
        fcgi_pm_app_spec spec;
        fcgi_pm_app *app;
        int conn, fd, classes = 0;

        apr_pool_clear(p);
        conn = fcgi_pm_scripts_next_request(p, &key, &kind, &command);
        if (conn < 0) {
            break;
        }
        why = fcgi_pm_scripts_spec(p, key, kind, command, &spec);
        if (why || fcgi_pm_apps_find(spec.name)) {
            /* Refused, or made already (another child asked first). */
            fcgi_pm_scripts_answer(conn, why ? NULL : spec.name, why);
            continue;
        }
        for (app = (*A.apps); app; app = app->next) {
            classes += app->dynamic;
        }
        if (classes >= FCGI_PM_MAX_CLASSES || stopping) {
            if (stopping) {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, A.s, "%s %s: not "
                             "started: the manager is stopping", kind, command);
            }
            else {
                ap_log_error(APLOG_MARK, APLOG_ERR, 0, A.s, "%s %s: not "
                             "started: already %d scripts and wrappers run",
                             kind, command, FCGI_PM_MAX_CLASSES);
            }
            fcgi_pm_scripts_answer(conn, NULL, "too many classes");
            continue;
        }
        fd = fcgi_pm_scripts_listen(p, &spec, &err);
        if (fd >= 0) {
            /* Its socket file is ours to remove when the class goes. */
            dev_t dev = 0;
            ino_t ino = 0;
            if (fcgi_pm_sock_identity(spec.socket_path, &dev, &ino) == 0) {
                spec.sock_dev = (long)dev;
                spec.sock_ino = (long)ino;
            }
        }
        app = fd >= 0 ? class_app(&spec, fd, key, kind, command) : NULL;
        if (app && fcgi_pm_apps_add(app)) {
            app->slot->processes = 0;
            apr_cpystrn(app->slot->addr, app->addr, sizeof(app->slot->addr));
            app->next = (*A.apps);
            (*A.apps) = app;
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, A.s, "app %s: %s %s, "
                         "started on demand", app->name, kind, command);
            fcgi_pm_scripts_answer(conn, app->name, NULL);
            created++;
            continue;
        }
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, A.s, "%s %s: not started: %s",
                     kind, command, err ? err : "no room");
        fcgi_pm_scripts_answer(conn, NULL, err ? err : "no room");
    }
    apr_pool_destroy(p);
    return created;
}
