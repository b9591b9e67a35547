/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading and checking the configuration: <FcgiPmApp>, FcgiPmPass.
 */
#ifndef FCGI_PM_CONFIG_H
#define FCGI_PM_CONFIG_H

#include "fcgi_pm.h"
#include "fcgi_pm_proto.h"

/* <FcgiPmApp NAME> ... </FcgiPmApp>: parse the block into SC->apps.
 * Returns NULL or an error naming file, line and problem. */
const char *fcgi_pm_config_app_section(cmd_parms *cmd, fcgi_pm_server_conf *sc,
                                       const char *arg);

/* Remember an FcgiPmPass for fcgi_pm_config_check (whatever the order of
 * the blocks in the files, an app may be used before it is defined). */
void fcgi_pm_config_note_pass(cmd_parms *cmd, const char *app);

/* The FcgiPmPass uses of this configuration read (fcgi_pm_pass_use), or
 * NULL when there is none. */
const apr_array_header_t *fcgi_pm_config_pass_uses(void);

/* "file:line" of directive D. */
const char *fcgi_pm_config_where(apr_pool_t *p, const ap_directive_t *d);

/* FcgiPmMaxProcesses N (main server). */
const char *fcgi_pm_config_max_total(cmd_parms *cmd, fcgi_pm_server_conf *sc,
                                     const char *arg);

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

/* APP's record contents for APP (see fcgi_pm_app_spec): the worker's
 * uid, gid and groups looked up, PassEnv's values taken from httpd's
 * environment now.  The socket file's identity is left 0. */
void fcgi_pm_config_app_spec(apr_pool_t *p, const fcgi_pm_app_conf *app,
                             fcgi_pm_app_spec *out);

#endif /* FCGI_PM_CONFIG_H */
