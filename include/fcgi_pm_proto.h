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
    FCGI_PM_MSG_END             /* this generation's configuration is gone */
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
} fcgi_pm_rec;

fcgi_pm_rec *fcgi_pm_proto_record(apr_pool_t *p);
void fcgi_pm_proto_put(fcgi_pm_rec *rec, const char *key, const char *value);
void fcgi_pm_proto_put_int(fcgi_pm_rec *rec, const char *key, long value);

/* Walk a payload: returns 1 and sets KEY/VALUE, or 0 at its end. */
int fcgi_pm_proto_next(const char **pos, const char *end,
                       const char **key, const char **value);

/* Send one message, with PASS_FD attached unless it is -1.  Waits at most
 * TIMEOUT_MS for room in the socket.  Returns APR_SUCCESS or an error. */
apr_status_t fcgi_pm_proto_send(int sock, apr_uint32_t type,
                                const fcgi_pm_rec *rec, int pass_fd,
                                int timeout_ms);

/* Receive one message into BUF (FCGI_PM_MSG_MAX bytes).  Returns 1 for a
 * message, 0 at end of stream, -1 on error (errno set; EAGAIN when
 * non-blocking and nothing is there; EPROTO for a malformed message). */
int fcgi_pm_proto_recv(int sock, char *buf, fcgi_pm_msg *msg, int dontwait);

/* The record of one app: everything the manager needs to run it, and its
 * fingerprint (any change of it restarts the app at the next graceful). */
fcgi_pm_rec *fcgi_pm_proto_app_record(apr_pool_t *p,
                                             const fcgi_pm_app_conf *app);

#endif /* FCGI_PM_PROTO_H */
