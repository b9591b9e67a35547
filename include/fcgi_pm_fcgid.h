/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_fcgid's configuration surface: the Fcgid* directives and the
 * handler "fcgid-script" (also "fcgi-pm-script"), so that a mod_fcgid
 * site runs by swapping the LoadModule line.
 *
 * mod_fcgid starts one "process class" per script (or per wrapper) on the
 * first request for it.  Here a class is an app like any other (a pool of
 * workers on one listen socket, reached through mod_proxy_fcgi), created
 * by the manager on demand (scripts.c) from a class template:
 *
 *   httpd parent, each generation: one CLASS record per server (virtual
 *       host): its identity (SuexecUserGroup, else httpd's User/Group),
 *       DocumentRoot, FcgidInitialEnv, per-class limits, and every
 *       FcgidWrapper command line the configuration files name.
 *   httpd child, first request for a class (fcgid_route.c): asks the
 *       manager over its spawn socket for (server, kind, command) and
 *       gets the class's name; later requests find the class in the
 *       shared table by that name (FNV-1a of the three, see
 *       fcgi_pm_fcgid_class_name) without asking.
 *   manager (scripts.c): checks the request against the template (a
 *       wrapper must be one the configuration names; a script path must
 *       be absolute and clean, under the DocumentRoot when the class runs
 *       as another user) and creates the app with Processes 0.  The
 *       worker checks the file after dropping privileges (spawn.c), with
 *       suexec's owner rules where SuexecUserGroup is set.
 */
#ifndef FCGI_PM_FCGID_H
#define FCGI_PM_FCGID_H

#include "fcgi_pm.h"

#define FCGI_PM_FCGID_HANDLER     "fcgid-script"
#define FCGI_PM_SCRIPT_HANDLER    "fcgi-pm-script"
#define FCGI_PM_SPAWN_SOCKET      ".spawn"   /* in FcgiPmSocketDir */
#define FCGI_PM_MAX_CLASSES       2000       /* on-demand classes at once */
#define FCGI_PM_CLASS_PREFIX      "fcgid-"   /* reserved: no <FcgiPmApp> */
#define FCGI_PM_CLASS_SHOWN       24         /* program name in the app's */

/* Kinds of class a child asks for. */
#define FCGI_PM_CLASS_SCRIPT      "script"   /* the requested file itself */
#define FCGI_PM_CLASS_WRAPPER     "wrapper"  /* a FcgidWrapper command line */

/* mod_fcgid's per-server settings (-1: not set here). */
typedef struct fcgi_pm_fcgid_server {
    apr_array_header_t *initial_env;   /* "NAME=VALUE" (FcgidInitialEnv) */
    apr_array_header_t *pass_headers;  /* FcgidPassHeader names */
    int max_class;                     /* FcgidMaxProcessesPerClass */
    int min_class;                     /* FcgidMinProcessesPerClass */
    int idle_timeout;                  /* FcgidIdleTimeout */
    int max_requests;                  /* FcgidMaxRequestsPerProcess */
    int busy_timeout;                  /* FcgidBusyTimeout */
    int io_timeout;                    /* FcgidIOTimeout */
    int connect_timeout;               /* FcgidConnectTimeout */
    apr_off_t max_request_len;         /* FcgidMaxRequestLen */
    int lifetime;                      /* FcgidProcessLifeTime */
    apr_hash_t *cmd_options;           /* FcgidCmdOptions: program path ->
                                        * its own fcgi_pm_fcgid_server (only
                                        * the options mod_fcgid knows) */
    /* Filled at check_config: the server's mod_proxy worker settings. */
    fcgi_pm_app_conf *proxy_app;
    const char *class_key;             /* "host:port" of the server */
} fcgi_pm_fcgid_server;

/* FcgidWrapper COMMAND [SUFFIX] [virtual] */
typedef struct fcgi_pm_fcgid_wrapper {
    const char *cmdline;
    int virtual;
    int trusted;                       /* from the server's files, not
                                        * from an .htaccess file */
    const char *where;                 /* "file:line" */
} fcgi_pm_fcgid_wrapper;

fcgi_pm_fcgid_server *fcgi_pm_fcgid_server_create(apr_pool_t *p);
fcgi_pm_fcgid_server *fcgi_pm_fcgid_server_merge(apr_pool_t *p,
                                                 const fcgi_pm_fcgid_server *base,
                                                 const fcgi_pm_fcgid_server *add);
/* Per-directory wrappers (suffix -> wrapper; "" for all files). */
apr_hash_t *fcgi_pm_fcgid_wrappers_merge(apr_pool_t *p, apr_hash_t *base,
                                         apr_hash_t *add);

/* The directives' setters (entries of FCGI_PM_FCGID_COMMANDS). */
const char *fcgi_pm_fcgid_set_int(cmd_parms *cmd, void *dummy, const char *arg);
const char *fcgi_pm_fcgid_set_request_len(cmd_parms *cmd, void *dummy,
                                          const char *arg);
const char *fcgi_pm_fcgid_set_initial_env(cmd_parms *cmd, void *dummy,
                                          const char *name, const char *value);
const char *fcgi_pm_fcgid_set_pass_header(cmd_parms *cmd, void *dummy,
                                          const char *name);
const char *fcgi_pm_fcgid_set_max_total(cmd_parms *cmd, void *dummy,
                                        const char *arg);
const char *fcgi_pm_fcgid_set_ipc_dir(cmd_parms *cmd, void *dummy,
                                      const char *arg);
const char *fcgi_pm_fcgid_set_wrapper(cmd_parms *cmd, void *dirv,
                                      const char *cmdline, const char *a2,
                                      const char *a3);
const char *fcgi_pm_fcgid_set_ignored(cmd_parms *cmd, void *dummy,
                                      const char *args);
const char *fcgi_pm_fcgid_set_cmd_options(cmd_parms *cmd, void *dummy,
                                          const char *args);

/* The settings for PROGRAM (a script's path, a wrapper's first word) in
 * server F: its FcgidCmdOptions, else F itself. */
const fcgi_pm_fcgid_server *fcgi_pm_fcgid_options_for(
    const fcgi_pm_fcgid_server *f, const char *program);

/* The directive table entries, in mod_fcgi_pm.c's table. */
#define FCGI_PM_FCGID_INT(name, field, help) \
    AP_INIT_TAKE1(name, fcgi_pm_fcgid_set_int, \
                  (void *)APR_OFFSETOF(fcgi_pm_fcgid_server, field), \
                  RSRC_CONF, help)
#define FCGI_PM_FCGID_IGNORED(name, why) \
    AP_INIT_RAW_ARGS(name, fcgi_pm_fcgid_set_ignored, NULL, RSRC_CONF, why)

#define FCGI_PM_FCGID_COMMANDS \
    FCGI_PM_FCGID_INT("FcgidMaxProcessesPerClass", max_class, \
            "Most workers of one script or wrapper (default 100; at most 64 " \
            "here)"), \
    FCGI_PM_FCGID_INT("FcgidMinProcessesPerClass", min_class, \
            "Workers of a class kept through FcgidIdleTimeout once started " \
            "(default 3)"), \
    FCGI_PM_FCGID_INT("FcgidIdleTimeout", idle_timeout, \
            "Seconds an unneeded worker may stay idle (default 300)"), \
    FCGI_PM_FCGID_INT("FcgidMaxRequestsPerProcess", max_requests, \
            "Requests a worker serves before it is replaced (default 0: no " \
            "limit)"), \
    FCGI_PM_FCGID_INT("FcgidBusyTimeout", busy_timeout, \
            "Seconds one request may take before its worker is killed " \
            "(default 300)"), \
    FCGI_PM_FCGID_INT("FcgidIOTimeout", io_timeout, \
            "Seconds httpd waits for the app to read or write (default 40)"), \
    FCGI_PM_FCGID_INT("FcgidConnectTimeout", connect_timeout, \
            "Seconds httpd waits to connect to the app (default 3)"), \
    AP_INIT_TAKE1("FcgidMaxRequestLen", fcgi_pm_fcgid_set_request_len, NULL, RSRC_CONF, \
                  "Largest request body, in bytes (default 131072): 413 " \
                  "above"), \
    AP_INIT_TAKE12("FcgidInitialEnv", fcgi_pm_fcgid_set_initial_env, NULL, RSRC_CONF, \
                   "NAME [VALUE]: an environment variable of the workers"), \
    AP_INIT_TAKE1("FcgidPassHeader", fcgi_pm_fcgid_set_pass_header, NULL, RSRC_CONF, \
                  "A request header passed to the app, also one httpd hides " \
                  "(Authorization)"), \
    AP_INIT_TAKE1("FcgidMaxProcesses", fcgi_pm_fcgid_set_max_total, NULL, RSRC_CONF, \
                  "Most workers in all (FcgiPmMaxProcesses, which wins when " \
                  "both are set)"), \
    AP_INIT_TAKE1("FcgidIPCDir", fcgi_pm_fcgid_set_ipc_dir, NULL, RSRC_CONF, \
                  "Directory of the sockets (FcgiPmSocketDir, which wins " \
                  "when both are set)"), \
    AP_INIT_TAKE123("FcgidWrapper", fcgi_pm_fcgid_set_wrapper, NULL, RSRC_CONF | ACCESS_CONF | OR_FILEINFO, \
                    "COMMAND [SUFFIX] [virtual]: the program that runs the " \
                    "scripts"), \
    FCGI_PM_FCGID_IGNORED("FcgidProcessTableFile", \
                "the table is anonymous shared memory"), \
    FCGI_PM_FCGID_IGNORED("FcgidMaxRequestInMem", \
                "mod_proxy_fcgi streams the body: nothing is held"), \
    FCGI_PM_FCGID_IGNORED("FcgidOutputBufferSize", \
                "mod_proxy_fcgi streams the answer (flushpackets=auto)"), \
    FCGI_PM_FCGID_IGNORED("FcgidBusyScanInterval", "the manager looks continuously"), \
    FCGI_PM_FCGID_IGNORED("FcgidErrorScanInterval", "the manager looks continuously"), \
    FCGI_PM_FCGID_IGNORED("FcgidIdleScanInterval", "the manager looks continuously"), \
    FCGI_PM_FCGID_IGNORED("FcgidZombieScanInterval", "the manager reaps at once"), \
    FCGI_PM_FCGID_IGNORED("FcgidSpawnScore", "start-ups are paced per class"), \
    FCGI_PM_FCGID_IGNORED("FcgidSpawnScoreUpLimit", "start-ups are paced per class"), \
    FCGI_PM_FCGID_IGNORED("FcgidTerminationScore", "start-ups are paced per class"), \
    FCGI_PM_FCGID_IGNORED("FcgidTimeScore", "start-ups are paced per class"), \
    FCGI_PM_FCGID_IGNORED("FcgidFixPathinfo", \
                "SCRIPT_NAME and PATH_INFO are httpd's own, which is what " \
                "PHP's cgi.fix_pathinfo=1 expects"), \
    FCGI_PM_FCGID_INT("FcgidProcessLifeTime", lifetime, \
            "Seconds after which an idle worker above " \
            "FcgidMinProcessesPerClass retires (default 3600)"), \
    AP_INIT_RAW_ARGS("FcgidCmdOptions", fcgi_pm_fcgid_set_cmd_options, NULL, \
                     RSRC_CONF, "COMMAND OPTION VALUE ...: settings of one " \
                     "program (ConnectTimeout, IdleTimeout, InitialEnv, " \
                     "IOTimeout, MaxProcesses, MaxProcessLifeTime, " \
                     "MaxRequestsPerProcess, MinProcesses)"),

/* pre_config: forget the previous read's wrappers and notices. */
void fcgi_pm_fcgid_reset(apr_pool_t *pconf);

/* check_config: each server's class key, its mod_proxy worker.  Returns
 * NULL or an error. */
const char *fcgi_pm_fcgid_check(apr_pool_t *pconf, apr_pool_t *ptemp,
                                server_rec *s);

/* After check_config: the configuration files name fcgid-script (or
 * fcgi-pm-script) or a Fcgid* directive, so the manager must run even
 * without <FcgiPmApp>.  A handler mapped only in .htaccess files needs
 * one of those in the server's files. */
int fcgi_pm_fcgid_in_use(void);

/* post_config: one notice per directive that means nothing here. */
void fcgi_pm_fcgid_log_notices(server_rec *s);

/* The parent, each generation: one CLASS record per server, in P, pushed
 * onto RECS (fcgi_pm_payload *). */
void fcgi_pm_fcgid_class_records(apr_pool_t *p, server_rec *s,
                                 apr_array_header_t *recs);

/* FcgidMaxRequestLen in effect. */
apr_off_t fcgi_pm_fcgid_max_request_len(const fcgi_pm_fcgid_server *f);

/* Both sides: the app name of the class (SERVER_KEY, KIND, COMMAND):
 * "fcgid-PROGRAM-HASH", at most 47 characters. */
const char *fcgi_pm_fcgid_class_name(apr_pool_t *p, const char *server_key,
                                     const char *kind, const char *command);

/* check_config: the per-directory configuration that sets mod_proxy_fcgi's
 * backend type to GENERIC for the scripts' requests. */
const char *fcgi_pm_fcgid_prepare_backend(apr_pool_t *pconf, server_rec *s);

/* httpd child: the class of (KIND, COMMAND) for R's server, asked of the
 * manager when the shared table does not have it yet: its app *NAME and
 * its listen socket *SOCK_PATH.  Returns OK or an HTTP status (logged). */
int fcgi_pm_fcgid_class(request_rec *r, const char *kind,
                        const char *command, const char **name,
                        const char **sock_path);

/* register_hooks: the input filter that applies FcgidMaxRequestLen to
 * bodies without Content-Length. */
void fcgi_pm_fcgid_register_filters(void);

/* fixups hook (httpd child): requests whose handler is fcgid-script. */
int fcgi_pm_fcgid_fixup(request_rec *r);

#endif /* FCGI_PM_FCGID_H */
