/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Messages from the httpd parent to the manager (and the manager's short
 * answers), over a SOCK_SEQPACKET socketpair so that each message arrives
 * whole, with the file descriptor it carries (SCM_RIGHTS).
 *
 * A configuration generation is sent as
 *   BEGIN  (generation, log level, pid file, ...; carries httpd's stderr)
 *   APP    one per configured app (carries the app's listen socket)
 *   COMMIT
 * and the manager applies the difference at COMMIT.  The manager answers
 * READY once every app of that generation has a worker accepting (or is
 * backing off), so that a first start serves no request before the apps can.
 * END is sent when a generation's configuration is torn down: a graceful
 * follows with BEGIN at once; when none comes, httpd was reloaded without
 * mod_fcgi_pm, and the manager retires its workers.
 *
 * Payloads are "key\0value\0" pairs; a key may repeat (arg, env).  Every
 * header carries FCGI_PM_PROTO_VERSION; see fcgi_pm.h for when to bump it.
 */
#ifndef FCGI_PM_PROTO_H
#define FCGI_PM_PROTO_H

#include "fcgi_pm.h"

#define FCGI_PM_MSG_MAGIC    0x46435042u  /* "FCPB" */
#define FCGI_PM_MSG_MAX      (256 * 1024) /* largest message, header included */

enum {
    FCGI_PM_MSG_BEGIN = 1,
    FCGI_PM_MSG_APP,
    FCGI_PM_MSG_COMMIT,
    FCGI_PM_MSG_READY,
    FCGI_PM_MSG_END,            /* this generation's configuration is gone */
    FCGI_PM_MSG_CLASS,          /* parent: a server's class template
                                 * (fcgi_pm_fcgid.h), before COMMIT */
    FCGI_PM_MSG_SPAWN,          /* httpd child, on the spawn socket: a
                                 * class, please */
    FCGI_PM_MSG_SPAWNED         /* manager: its name, or why not */
};

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t proto;
    apr_uint32_t type;
    apr_uint32_t len;          /* payload bytes after the header */
} fcgi_pm_msg_hdr;

typedef struct {
    apr_uint32_t type;
    apr_uint32_t proto;
    const char *payload;       /* points into the caller's buffer */
    apr_size_t len;
    int fd;                    /* received descriptor or -1 */
} fcgi_pm_msg;

/* A payload being built. */
typedef struct {
    apr_pool_t *pool;
    char *buf;
    apr_size_t len;
    apr_size_t cap;
} fcgi_pm_payload;

fcgi_pm_payload *fcgi_pm_proto_record(apr_pool_t *p);
void fcgi_pm_proto_put(fcgi_pm_payload *rec, const char *key, const char *value);
void fcgi_pm_proto_put_int(fcgi_pm_payload *rec, const char *key, long value);

/* Walk a payload: returns 1 and sets KEY/VALUE, or 0 at its end. */
int fcgi_pm_proto_next(const char **pos, const char *end,
                       const char **key, const char **value);

/* Send one message, with PASS_FD attached unless it is -1.  Waits at most
 * TIMEOUT_MS for room in the socket.  Returns APR_SUCCESS or an error. */
apr_status_t fcgi_pm_proto_send(int sock, apr_uint32_t type,
                                const fcgi_pm_payload *rec, int pass_fd,
                                int timeout_ms);

/* Receive one message into BUF (FCGI_PM_MSG_MAX bytes).  Returns 1 for a
 * message, 0 at end of stream, -1 on error (errno set; EAGAIN when
 * non-blocking and nothing is there; EPROTO for a malformed message). */
int fcgi_pm_proto_recv(int sock, char *buf, fcgi_pm_msg *msg, int dontwait);

/* Record keys, each named here only.  BEGIN: */
#define FCGI_PM_K_GENERATION   "generation"
#define FCGI_PM_K_LOG_LEVEL    "log_level"
#define FCGI_PM_K_PID_FILE     "pid_file"
#define FCGI_PM_K_TAKEOVER_PID "takeover_pid"
#define FCGI_PM_K_DEAD_PID     "dead_manager_pid"
#define FCGI_PM_K_DEAD_START   "dead_manager_start"
#define FCGI_PM_K_MAX_TOTAL    "max_processes_total"
#define FCGI_PM_K_SOCKET_DIR   "socket_dir"
#define FCGI_PM_K_HTTPD_GID    "httpd_gid"
/* CLASS (also uid, gid, groups, env, max_processes, idle_timeout,
 * max_requests, max_request_time as in APP): */
#define FCGI_PM_K_CLASS        "class"
#define FCGI_PM_K_SUEXEC       "suexec"
#define FCGI_PM_K_DOCROOT      "docroot"
#define FCGI_PM_K_WRAPPER      "wrapper"
#define FCGI_PM_K_CMD          "cmd"   /* the keys after it: that program's */
/* SPAWN: class, kind, command; SPAWNED: name or error. */
#define FCGI_PM_K_KIND         "kind"
#define FCGI_PM_K_COMMAND      "command"
#define FCGI_PM_K_ERROR        "error"
/* APP (see fcgi_pm_app_spec): */
#define FCGI_PM_K_NAME         "name"
#define FCGI_PM_K_ADDR         "addr"
#define FCGI_PM_K_SOCKET_PATH  "socket_path"
#define FCGI_PM_K_ARG          "arg"
#define FCGI_PM_K_ENV          "env"
#define FCGI_PM_K_PROCESSES    "processes"
#define FCGI_PM_K_MAX_PROCESSES "max_processes"
#define FCGI_PM_K_IDLE_TIMEOUT "idle_timeout"
#define FCGI_PM_K_MAX_REQUESTS "max_requests"
#define FCGI_PM_K_MAX_REQUEST_TIME "max_request_time"
#define FCGI_PM_K_UID          "uid"
#define FCGI_PM_K_GID          "gid"
#define FCGI_PM_K_GROUPS       "groups"
#define FCGI_PM_K_WORKDIR      "workdir"
#define FCGI_PM_K_RESTART_ON_GRACEFUL "restart_on_graceful"
#define FCGI_PM_K_SHUTDOWN_TIMEOUT "shutdown_timeout"
#define FCGI_PM_K_STOP_SIGNAL  "stop_signal"
#define FCGI_PM_K_RESTART_FILE "restart_file"
#define FCGI_PM_K_SOCK_DEV     "sock_dev"
#define FCGI_PM_K_SOCK_INO     "sock_ino"
#define FCGI_PM_K_KEEP_PROCESSES "keep_processes"
#define FCGI_PM_K_LIFETIME     "lifetime"
#define FCGI_PM_K_EXEC_CHECK   "exec_check"

/* One app as an APP record carries it: everything the manager needs to
 * run it.  The parent fills it from the configuration (identities and
 * PassEnv values are looked up there: fcgi_pm_config_app_spec()); the
 * encoded record is also the app's fingerprint (any change of it restarts
 * the app at the next graceful). */
typedef struct {
    const char *name;
    const char *addr;               /* "unix:PATH" or "tcp:HOST:PORT" */
    const char *socket_path;        /* NULL for TCP */
    apr_array_header_t *argv;       /* const char *, at least one */
    apr_array_header_t *env;        /* const char *, "NAME=value" */
    int processes, max_processes, idle_timeout;
    int max_requests, max_request_time;   /* 0: no limit */
    long uid, gid;
    const char *groups;             /* the worker's groups: "GID,GID,..." */
    const char *workdir;            /* NULL: none */
    int restart_on_graceful, shutdown_timeout;
    const char *stop_signal;        /* a name ("USR1"); NULL: USR1 */
    const char *restart_file;       /* NULL: none */
    long sock_dev, sock_ino;        /* the socket file, 0: not known */
    int keep_processes;             /* kept through IdleTimeout once
                                     * started (FcgidMinProcessesPerClass) */
    int lifetime;                   /* an idle worker above keep_processes
                                     * retires this old (seconds, 0: no) */
    int exec_check;                 /* FCGI_PM_EXEC_*: what the worker
                                     * checks of argv[0] before exec */
    const char *docroot;            /* FCGI_PM_EXEC_SUEXEC: where it must be */
} fcgi_pm_app_spec;

#define FCGI_PM_EXEC_NONE    0      /* configured apps: the operator's */
#define FCGI_PM_EXEC_FILE    1      /* a regular, executable file */
#define FCGI_PM_EXEC_SUEXEC  2      /* and suexec's rules: owned by the
                                     * worker's user and group, not
                                     * writable by others, no symlink, in
                                     * docroot */

/* ENV (an APP record's "NAME=value" strings) sets NAME. */
int fcgi_pm_proto_env_has(const apr_array_header_t *env, const char *name);

/* Encode SPEC as an APP record (keys in a fixed order). */
fcgi_pm_payload *fcgi_pm_proto_app_encode(apr_pool_t *p, const fcgi_pm_app_spec *spec);

/* Decode an APP record's payload into OUT (strings and arrays in P).
 * Returns 0, or -1 when a required key is missing (name, addr, arg). */
int fcgi_pm_proto_app_decode(apr_pool_t *p, const char *payload,
                             apr_size_t len, fcgi_pm_app_spec *out);

#endif /* FCGI_PM_PROTO_H */
