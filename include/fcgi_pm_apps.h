/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manager's list of apps: records from the parent (APP) and
 * mod_fcgid's classes (scripts.c), made into fcgi_pm_app and kept in the
 * list the manager's loop ticks.  Manager only.
 */
#ifndef FCGI_PM_APPS_H
#define FCGI_PM_APPS_H

#include "fcgi_pm_pool.h"
#include "fcgi_pm_table.h"

/* Once: the manager's pool, its table and the head of its list. */
void fcgi_pm_apps_init(apr_pool_t *pool, server_rec *s, fcgi_pm_table *t,
                       fcgi_pm_app **apps);

/* An APP record's PAYLOAD, with its listen socket FD, into a new app (in a
 * pool of its own), or NULL (logged; FD closed). */
fcgi_pm_app *fcgi_pm_apps_parse_record(const char *payload, apr_size_t len,
                                       int fd);

/* The app of the list called NAME, or NULL. */
fcgi_pm_app *fcgi_pm_apps_find(const char *name);

/* NEW replaces OLD (same name): its workers, table slot and socket; a
 * changed record rolls it. */
void fcgi_pm_apps_replace(fcgi_pm_app *old, fcgi_pm_app *new);

/* Table slots no app of the list publishes in are freed. */
void fcgi_pm_apps_release_unowned(void);

/* APP gets its table slot; NULL (APP freed) when the table is full. */
fcgi_pm_app *fcgi_pm_apps_add(fcgi_pm_app *app);

/* COMMIT: each class follows its server's new template (a changed one
 * rolls it); a class whose server is gone drains. */
void fcgi_pm_apps_refresh_classes(void);

/* Requests waiting on the spawn socket, a bounded number: each is
 * answered, new classes join the list.  Returns how many were made. */
int fcgi_pm_apps_serve_classes(int stopping);

#endif /* FCGI_PM_APPS_H */
