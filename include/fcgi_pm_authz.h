/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_fcgid's FastCGI authorizer roles: FcgidAuthenticator,
 * FcgidAuthorizer and FcgidAccessChecker (and their ...Authoritative
 * flags).  Each names a FastCGI program, run as an on-demand class of the
 * request's server like an fcgid-script (fcgi_pm_fcgid_class), and asked
 * in the FastCGI AUTHORIZER role (FCGI_APACHE_ROLE tells it which of the
 * three) by a small FastCGI client of our own: mod_proxy_fcgi has only the
 * RESPONDER role.
 *
 *   authz.c         directives, httpd's hooks, what an answer means
 *   authz_client.c  the FastCGI exchange: connect, send, read, parse
 */
#ifndef FCGI_PM_AUTHZ_H
#define FCGI_PM_AUTHZ_H

#include "fcgi_pm.h"

/* The three roles, in httpd's order of request processing. */
typedef enum {
    FCGI_PM_AUTHZ_ACCESS = 0,      /* FcgidAccessChecker: access_checker */
    FCGI_PM_AUTHZ_AUTHN,           /* FcgidAuthenticator: check_user_id */
    FCGI_PM_AUTHZ_AUTHZ,           /* FcgidAuthorizer: auth_checker */
    FCGI_PM_AUTHZ_ROLES
} fcgi_pm_authz_role;

/* One role's setting in a directory. */
typedef struct {
    const char *program;           /* absolute path, NULL: not set here */
    const char *where;             /* "file:line" of the directive */
    int trusted;                   /* named by the server's files, not by
                                    * an .htaccess file */
    int authoritative;             /* -1: not set here (On) */
} fcgi_pm_authz_setting;

/* fcgi_pm_dir_conf's authz (NULL when nothing is set). */
typedef struct fcgi_pm_authz_dir {
    fcgi_pm_authz_setting role[FCGI_PM_AUTHZ_ROLES];
} fcgi_pm_authz_dir;

/* What the program answered. */
typedef struct {
    int status;                    /* Status: (200 when absent) */
    int local_redirect;            /* "Location: /path" without Status */
    apr_table_t *headers;          /* every header line but Status */
} fcgi_pm_authz_answer;

/* What the FastCGI client needs to ask one program. */
typedef struct {
    request_rec *r;
    const char *directive;         /* "FcgidAuthenticator", for the log */
    const char *program;
    const char *sock_path;         /* the class's listen socket */
    apr_table_t *params;           /* the FastCGI PARAMS */
    apr_interval_time_t connect_timeout;
    apr_interval_time_t io_timeout; /* each wait for the program */
} fcgi_pm_authz_call;

fcgi_pm_authz_dir *fcgi_pm_authz_merge(apr_pool_t *p,
                                       const fcgi_pm_authz_dir *base,
                                       const fcgi_pm_authz_dir *add);

/* pre_config: forget the previous read's trusted programs. */
void fcgi_pm_authz_reset(apr_pool_t *pconf);

/* The directives' setters (FCGI_PM_AUTHZ_COMMANDS). */
const char *fcgi_pm_authz_set_program(cmd_parms *cmd, void *dirv,
                                      const char *path);
const char *fcgi_pm_authz_set_authoritative(cmd_parms *cmd, void *dirv,
                                            int on);

#define FCGI_PM_AUTHZ_DIRECTIVE(name, role, help) \
    AP_INIT_TAKE1(name, fcgi_pm_authz_set_program, \
                  (void *)(apr_uintptr_t)(role), ACCESS_CONF | OR_FILEINFO, \
                  help), \
    AP_INIT_FLAG(name "Authoritative", fcgi_pm_authz_set_authoritative, \
                 (void *)(apr_uintptr_t)(role), ACCESS_CONF | OR_FILEINFO, \
                 "Off: a refusal of " name " lets httpd's other modules " \
                 "decide (default On)")

/* In mod_fcgi_pm.c's directive table. */
#define FCGI_PM_AUTHZ_COMMANDS \
    FCGI_PM_AUTHZ_DIRECTIVE("FcgidAccessChecker", FCGI_PM_AUTHZ_ACCESS, \
            "Absolute path of a FastCGI program that decides access " \
            "(FCGI_APACHE_ROLE=ACCESS_CHECKER)"), \
    FCGI_PM_AUTHZ_DIRECTIVE("FcgidAuthenticator", FCGI_PM_AUTHZ_AUTHN, \
            "Absolute path of a FastCGI program that checks Basic " \
            "credentials (FCGI_APACHE_ROLE=AUTHENTICATOR)"), \
    FCGI_PM_AUTHZ_DIRECTIVE("FcgidAuthorizer", FCGI_PM_AUTHZ_AUTHZ, \
            "Absolute path of a FastCGI program that decides whether the " \
            "authenticated user may have the resource " \
            "(FCGI_APACHE_ROLE=AUTHORIZER)"),

/* register_hooks: the three roles in httpd's access, authn and authz
 * hooks. */
void fcgi_pm_authz_register_hooks(apr_pool_t *p);

/* authz_client.c: ask CALL's program; its answer in *ANSWER.  Returns OK
 * or HTTP_INTERNAL_SERVER_ERROR, with one log line naming the program. */
int fcgi_pm_authz_ask(const fcgi_pm_authz_call *call,
                      fcgi_pm_authz_answer *answer);

#endif /* FCGI_PM_AUTHZ_H */
