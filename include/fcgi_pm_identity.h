/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who workers run as: User/Group arguments (names, or #uid/#gid as httpd
 * takes them), the uid, gid and group list of an app's workers, computed
 * in the httpd parent (the worker only calls setgroups()).
 */
#ifndef FCGI_PM_IDENTITY_H
#define FCGI_PM_IDENTITY_H

#include "fcgi_pm.h"

#include <pwd.h>

/* uid of a User argument (name or #uid); *PW is its passwd entry or NULL
 * (a #uid need not have one).  0, or -1 when there is no such user. */
int fcgi_pm_identity_user(const char *word, uid_t *uid, struct passwd **pw);

/* gid of a Group argument (name or #gid).  0, or -1. */
int fcgi_pm_identity_group(const char *word, gid_t *gid);

/* The groups of user NAME with primary group GID (getgrouplist), as an
 * array of gid_t; GID itself is in it. */
apr_array_header_t *fcgi_pm_identity_groups_of(apr_pool_t *p, const char *name,
                                               gid_t gid);

/* uid/gid the workers of APP run as.  uid: its User (name or #uid),
 * else httpd's User.  gid: its Group (name or #gid); else the User's
 * primary group; else, and instead of httpd's Group, the group
 * "nogroup" (65534 when missing): workers never get httpd's Group (the
 * group of every app's socket) unless Group names it. */
void fcgi_pm_identity_worker_ids(const fcgi_pm_app_conf *app, uid_t *uid, gid_t *gid);

/* The complete group list of a worker of APP running as UID/GID (what
 * its setgroups() gets): GID and UID's groups in the group database,
 * without gid 0 and without httpd's Group unless APP's Group names it.
 * Comma-separated decimal gids ("65534", "1001,27"); "" when empty. */
const char *fcgi_pm_identity_worker_groups(apr_pool_t *p,
                                         const fcgi_pm_app_conf *app,
                                         uid_t uid, gid_t gid);

/* 1 when APP's Group names httpd's Group. */
int fcgi_pm_identity_has_httpd_group(const fcgi_pm_app_conf *app);

/* gid of the group "nogroup", 65534 when there is none. */
gid_t fcgi_pm_identity_nogroup(void);

#endif /* FCGI_PM_IDENTITY_H */
