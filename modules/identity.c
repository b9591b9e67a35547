/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Who workers run as (see fcgi_pm_identity.h).
 */
#include "fcgi_pm_identity.h"

#include "apr_strings.h"
#include "apr_lib.h"
#include "mod_unixd.h"
#include "unixd.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>

/* "#N" (as httpd's User/Group take it): N as a uid/gid, else -1. */
static long numeric_id(const char *word)
{
    char *end = NULL;
    apr_int64_t v;

    if (word[0] != '#' || !apr_isdigit(word[1])) {
        return -1;
    }
    errno = 0;
    v = apr_strtoi64(word + 1, &end, 10);
    if (errno || !end || *end || v < 0 || v >= (apr_int64_t)(uid_t)-1
        || v > 0x7fffffffL) {
        return -1;
    }
    return (long)v;
}

int fcgi_pm_identity_user(const char *word, uid_t *uid, struct passwd **pw)
{
    long n = numeric_id(word);

    if (n >= 0) {
        *uid = (uid_t)n;
        *pw = getpwuid(*uid);
        return 0;
    }
    if (word[0] == '#') {
        return -1;
    }
    *pw = getpwnam(word);
    if (!*pw) {
        return -1;
    }
    *uid = (*pw)->pw_uid;
    return 0;
}

int fcgi_pm_identity_group(const char *word, gid_t *gid)
{
    long n = numeric_id(word);
    struct group *gr;

    if (n >= 0) {
        *gid = (gid_t)n;
        return 0;
    }
    if (word[0] == '#' || !(gr = getgrnam(word))) {
        return -1;
    }
    *gid = gr->gr_gid;
    return 0;
}

gid_t fcgi_pm_identity_nogroup(void)
{
    struct group *gr = getgrnam("nogroup");

    return gr && gr->gr_gid != 0 ? gr->gr_gid : (gid_t)65534;
}

void fcgi_pm_identity_worker_ids(const fcgi_pm_app_conf *app, uid_t *uid, gid_t *gid)
{
    gid_t httpd_gid = ap_unixd_config.group_id;
    struct passwd *pw = NULL;
    uid_t u;

    *uid = ap_unixd_config.user_id;
    *gid = fcgi_pm_identity_nogroup();
    if (app->user && fcgi_pm_identity_user(app->user, &u, &pw) == 0) {
        *uid = u;
        /* The user's primary group, unless that is httpd's Group: that
         * one is given only when Group names it. */
        if (pw && pw->pw_gid != httpd_gid && pw->pw_gid != 0) {
            *gid = pw->pw_gid;
        }
    }
    if (app->group) {
        gid_t g;
        if (fcgi_pm_identity_group(app->group, &g) == 0) {
            *gid = g;
        }
    }
}

int fcgi_pm_identity_has_httpd_group(const fcgi_pm_app_conf *app)
{
    gid_t g;

    return app->group && fcgi_pm_identity_group(app->group, &g) == 0
           && g == ap_unixd_config.group_id;
}

apr_array_header_t *fcgi_pm_identity_groups_of(apr_pool_t *p, const char *name, gid_t gid)
{
    apr_array_header_t *a = apr_array_make(p, 8, sizeof(gid_t));
    int n = 16, tries;

    for (tries = 0; tries < 8; tries++) {
        gid_t *buf = apr_palloc(p, n * sizeof(gid_t));
        int got = n;
        if (getgrouplist(name, gid, buf, &got) >= 0) {
            int i;
            for (i = 0; i < got; i++) {
                APR_ARRAY_PUSH(a, gid_t) = buf[i];
            }
            return a;
        }
        n = got > n ? got : n * 2;
    }
    APR_ARRAY_PUSH(a, gid_t) = gid;
    return a;
}

const char *fcgi_pm_identity_worker_groups(apr_pool_t *p,
                                         const fcgi_pm_app_conf *app,
                                         uid_t uid, gid_t gid)
{
    int keep_httpd = fcgi_pm_identity_has_httpd_group(app);
    gid_t httpd_gid = ap_unixd_config.group_id;
    struct passwd *pw = getpwuid(uid);
    apr_array_header_t *all;
    const char *out = NULL;
    int i, j;

    if (!pw) {
        all = apr_array_make(p, 1, sizeof(gid_t));
        APR_ARRAY_PUSH(all, gid_t) = gid;
    }
    else {
        all = fcgi_pm_identity_groups_of(p, pw->pw_name, gid);
    }
    for (i = 0; i < all->nelts; i++) {
        gid_t g = APR_ARRAY_IDX(all, i, gid_t);
        if (g == 0 || (g == httpd_gid && !keep_httpd)) {
            continue;
        }
        for (j = 0; j < i && APR_ARRAY_IDX(all, j, gid_t) != g; j++) {
        }
        if (j < i) {
            continue;             /* listed twice */
        }
        out = out ? apr_psprintf(p, "%s,%ld", out, (long)g)
                  : apr_psprintf(p, "%ld", (long)g);
    }
    return out ? out : "";
}

