/*
 * Reading and checking the configuration: <FcgiPmApp>, FcgiPmPass.
 */
#ifndef FCGI_PM_CONFIG_H
#define FCGI_PM_CONFIG_H

#include "fcgi_pm.h"

/* <FcgiPmApp NAME> ... </FcgiPmApp>: parse the block into SC->apps.
 * Returns NULL or an error naming file, line and problem. */
const char *fcgi_pm_config_app_section(cmd_parms *cmd, fcgi_pm_server_conf *sc,
                                       const char *arg);

/* Remember an FcgiPmPass for fcgi_pm_config_check (whatever the order of
 * the blocks in the files, an app may be used before it is defined). */
void fcgi_pm_config_note_pass(cmd_parms *cmd, const char *app);

/* In the section being read, set mod_proxy_fcgi's ProxyFCGIBackendType
 * to GENERIC: our workers are plain FastCGI programs (php-cgi, libfcgi)
 * that need SCRIPT_FILENAME as a path, not php-fpm's "proxy:fcgi://...".
 * Does nothing when mod_proxy_fcgi is not loaded (yet): the check at the
 * end of the configuration reports that. */
const char *fcgi_pm_config_generic_backend(cmd_parms *cmd);

/* Start of a configuration read: forget the previous generation's notes. */
void fcgi_pm_config_reset(apr_pool_t *pconf);

/* After the whole configuration was read: check every FcgiPmPass and
 * compute each app's socket address.  Returns NULL or an error. */
const char *fcgi_pm_config_check(apr_pool_t *pconf, server_rec *s,
                                 fcgi_pm_server_conf *sc);

/* The socket directory in effect. */
const char *fcgi_pm_config_socket_dir(apr_pool_t *p, fcgi_pm_server_conf *sc);

/* The manager's pid file in effect. */
const char *fcgi_pm_config_pid_file(apr_pool_t *p, fcgi_pm_server_conf *sc);

/* uid/gid the workers of APP run as.  uid: its User (name or #uid),
 * else httpd's User.  gid: its Group (name or #gid); else the User's
 * primary group; else, and instead of httpd's Group, the group
 * "nogroup" (65534 when missing): workers never get httpd's Group (the
 * group of every app's socket) unless Group names it. */
void fcgi_pm_config_worker_ids(const fcgi_pm_app_conf *app, uid_t *uid, gid_t *gid);

/* The complete group list of a worker of APP running as UID/GID (what
 * its setgroups() gets): GID and UID's groups in the group database,
 * without gid 0 and without httpd's Group unless APP's Group names it.
 * Comma-separated decimal gids ("65534", "1001,27"); "" when empty. */
const char *fcgi_pm_config_worker_groups(apr_pool_t *p,
                                         const fcgi_pm_app_conf *app,
                                         uid_t uid, gid_t gid);

/* 1 when APP's Group names httpd's Group. */
int fcgi_pm_config_has_httpd_group(const fcgi_pm_app_conf *app);

/* gid of the group "nogroup", 65534 when there is none. */
gid_t fcgi_pm_config_nogroup(void);

#endif /* FCGI_PM_CONFIG_H */
