/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mod_fcgi_pm: shared definitions.
 *
 * The configuration an operator writes is parsed into fcgi_pm_app_conf
 * records (one per <FcgiPmApp>), kept in the configuration pool of one
 * generation.  Everything that must outlive a generation lives either in
 * the shared-memory table (fcgi_pm_table.h) or in the manager process.
 */
#ifndef FCGI_PM_H
#define FCGI_PM_H

#include "httpd.h"
#include "http_config.h"
#include "apr_tables.h"
#include "apr_hash.h"

#include <sys/types.h>

/*
 * Version of the parent <-> manager protocol and of the records it carries.
 * Bump it whenever a message, a record key or the meaning of one changes:
 * a graceful after a module upgrade then hands the apps over to a new
 * manager instead of talking to the old one in a language it does not know.
 * Can be overridden at build time (the upgrade test builds a second .so).
 * 2: private manager state, table layout 2, BEGIN carries the dead
 * manager's pid and start time, records carry "groups".
 * 3: MaxRequests, MaxRequestTime, FcgiPmMaxProcesses.
 * 4: mod_fcgid's classes: CLASS records, the spawn socket (SPAWN,
 * SPAWNED), APP keys keep_processes, exec_check, docroot.
 */
#ifndef FCGI_PM_PROTO_VERSION
#define FCGI_PM_PROTO_VERSION 4
#endif

/*
 * Release of mod_fcgi_pm, the one place it is written: the server banner
 * ("mod_fcgi_pm/VERSION"), the status page and the manager's start line
 * show it.  Independent of the protocol version above.
 */
#define FCGI_PM_VERSION "0.9.0"

#define FCGI_PM_MAX_APPS        10000 /* apps in one configuration */
#define FCGI_PM_MAX_PROCESSES   64    /* workers of one app (Processes, MaxProcesses) */
#define FCGI_PM_MAX_TOTAL       100000 /* FcgiPmMaxProcesses */
#define FCGI_PM_NAME_MAX        64    /* app name, including the NUL */
#define FCGI_PM_ADDR_MAX        128   /* "unix:/path" or "tcp:host:port" */

#define FCGI_PM_DEFAULT_PROCESSES        2
#define FCGI_PM_DEFAULT_SHUTDOWN_TIMEOUT 30
#define FCGI_PM_DEFAULT_IDLE_TIMEOUT     60
#define FCGI_PM_MAX_SHUTDOWN_TIMEOUT     3600
#define FCGI_PM_MAX_CONNECT_TIMEOUT      3600   /* ConnectTimeout */
#define FCGI_PM_MAX_IO_TIMEOUT           86400  /* IOTimeout */

/* One <FcgiPmApp NAME> block. */
typedef struct fcgi_pm_app_conf {
    const char *name;
    const char *defined_in;        /* "file:line" of the <FcgiPmApp> line */
    apr_array_header_t *argv;      /* const char *: Command and its arguments */
    apr_array_header_t *env;       /* const char *: "NAME=VALUE" from Env */
    apr_array_header_t *passenv;   /* const char *: names from PassEnv */
    int processes;
    int max_processes;
    int idle_timeout;
    int max_requests;              /* 0: no limit */
    int max_request_time;          /* seconds, 0: no limit (the manager
                                    * kills; httpd answers 504) */
    const char *user;              /* NULL: httpd's User */
    const char *group;             /* NULL: httpd's Group */
    const char *workdir;           /* NULL: the directory of Command */
    const char *listen;            /* NULL: unix socket in FcgiPmSocketDir */
    int restart_on_graceful;
    int shutdown_timeout;
    const char *restart_file;
    const char *stop_signal;       /* "USR1", "TERM", ... */
    /* httpd's side only (the proxy worker), not in the app's record: */
    int connect_timeout;           /* ConnectTimeout, 0: mod_proxy's default */
    int io_timeout;                /* IOTimeout, 0: ProxyTimeout or Timeout */
    apr_array_header_t *pass_headers; /* const char *: PassHeader names,
                                    * NULL when none (fcgi_pm_cgi.h) */
    /* Filled at check_config. */
    const char *addr;              /* canonical "unix:/path" or "tcp:h:p" */
    const char *socket_path;       /* unix socket path, NULL for TCP */
    const char *proxy_handler;     /* handler string given to mod_proxy */
    const char *proxy_worker;      /* name of the app's mod_proxy worker */
    int listen_fd;                 /* the parent's copy of the listen socket */
} fcgi_pm_app_conf;

/* One FcgiPmPass seen while reading the configuration (checked later). */
typedef struct fcgi_pm_pass_use {
    const char *app;
    const char *where;             /* "file:line" */
    server_rec *server;            /* the (virtual) server it is in */
} fcgi_pm_pass_use;

/* Main-server configuration; apps are global to the server. */
typedef struct fcgi_pm_server_conf {
    const char *socket_dir;        /* NULL: DefaultRuntimeDir/fcgi-pm */
    const char *socket_dir_where;  /* "file:line" of FcgiPmSocketDir */
    const char *pid_file;          /* NULL: DefaultRuntimeDir/fcgi-pm.pid */
    int max_processes_total;       /* FcgiPmMaxProcesses; 0 until checked:
                                    * then the value in effect */
    const char *max_total_where;   /* "file:line" of FcgiPmMaxProcesses */
    apr_array_header_t *apps;      /* fcgi_pm_app_conf * in config order */
    apr_hash_t *apps_by_name;
    apr_array_header_t *proxy_workers; /* const char *: the workers defined
                                        * at check_config, for the log */
    struct fcgi_pm_fcgid_server *fcgid; /* this server's Fcgid* settings
                                         * (merged into virtual hosts) */
} fcgi_pm_server_conf;

/* Per-directory configuration: FcgiPmPass. */
typedef struct fcgi_pm_dir_conf {
    const char *pass;              /* app name, NULL when not set */
    apr_hash_t *wrappers;          /* FcgidWrapper: suffix -> wrapper */
    struct fcgi_pm_authz_dir *authz; /* FcgidAuthenticator & co (authz.c),
                                      * NULL when none is set */
} fcgi_pm_dir_conf;

extern module AP_MODULE_DECLARE_DATA fcgi_pm_module;

#endif /* FCGI_PM_H */
