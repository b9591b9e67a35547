/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parent -> manager messages (see fcgi_pm_proto.h).
 */
#include "fcgi_pm_proto.h"

#include "apr_strings.h"

#include <sys/socket.h>
#include <poll.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

fcgi_pm_payload *fcgi_pm_proto_record(apr_pool_t *p)
{
    fcgi_pm_payload *rec = apr_pcalloc(p, sizeof(*rec));

    rec->pool = p;
    rec->cap = 1024;
    rec->buf = apr_palloc(p, rec->cap);
    return rec;
}

static void put_string(fcgi_pm_payload *rec, const char *s)
{
    apr_size_t n = strlen(s) + 1;          /* with its NUL */

    if (rec->len + n > rec->cap) {
        apr_size_t cap = rec->cap * 2;
        char *buf;
        while (cap < rec->len + n) {
            cap *= 2;
        }
        buf = apr_palloc(rec->pool, cap);
        memcpy(buf, rec->buf, rec->len);
        rec->buf = buf;
        rec->cap = cap;
    }
    memcpy(rec->buf + rec->len, s, n);
    rec->len += n;
}

void fcgi_pm_proto_put(fcgi_pm_payload *rec, const char *key, const char *value)
{
    put_string(rec, key);
    put_string(rec, value ? value : "");
}

void fcgi_pm_proto_put_int(fcgi_pm_payload *rec, const char *key, long value)
{
    char num[32];

    apr_snprintf(num, sizeof(num), "%ld", value);
    fcgi_pm_proto_put(rec, key, num);
}

int fcgi_pm_proto_next(const char **pos, const char *end,
                       const char **key, const char **value)
{
    const char *k = *pos, *v;

    if (k >= end) {
        return 0;
    }
    v = memchr(k, '\0', end - k);
    if (!v || ++v >= end) {
        return 0;
    }
    *pos = memchr(v, '\0', end - v);
    if (!*pos) {
        return 0;
    }
    (*pos)++;
    *key = k;
    *value = v;
    return 1;
}

apr_status_t fcgi_pm_proto_send(int sock, apr_uint32_t type,
                                const fcgi_pm_payload *rec, int pass_fd,
                                int timeout_ms)
{
    fcgi_pm_msg_hdr hdr;
    struct iovec iov[2];
    struct msghdr mh;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct pollfd pfd;
    ssize_t n;
    int rc;

    hdr.magic = FCGI_PM_MSG_MAGIC;
    hdr.proto = FCGI_PM_PROTO_VERSION;
    hdr.type = type;
    hdr.len = rec ? (apr_uint32_t)rec->len : 0;
    if (sizeof(hdr) + hdr.len > FCGI_PM_MSG_MAX) {
        return APR_EINVAL;
    }
    iov[0].iov_base = &hdr;
    iov[0].iov_len = sizeof(hdr);
    iov[1].iov_base = rec ? rec->buf : NULL;
    iov[1].iov_len = hdr.len;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = iov;
    mh.msg_iovlen = hdr.len ? 2 : 1;
    if (pass_fd >= 0) {
        struct cmsghdr *cm;
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof(ctl.buf);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
    }
    for (;;) {
        pfd.fd = sock;
        pfd.events = POLLOUT;
        rc = poll(&pfd, 1, timeout_ms);
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        if (rc < 0) {
            return errno;
        }
        if (rc == 0) {
            return APR_TIMEUP;
        }
        n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n < 0) {
            return errno;
        }
        return APR_SUCCESS;
    }
}

int fcgi_pm_proto_recv(int sock, char *buf, fcgi_pm_msg *msg, int dontwait)
{
    fcgi_pm_msg_hdr hdr;
    struct iovec iov;
    struct msghdr mh;
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(4 * sizeof(int))];
    } ctl;
    struct cmsghdr *cm;
    ssize_t n;

    msg->fd = -1;
    memset(&mh, 0, sizeof(mh));
    iov.iov_base = buf;
    iov.iov_len = FCGI_PM_MSG_MAX;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);
    do {
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | (dontwait ? MSG_DONTWAIT : 0));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return -1;
    }
    if (n == 0) {
        return 0;
    }
    /* Collect any descriptors first, so that a bad message leaks none. */
    for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            int nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int), i;
            for (i = 0; i < nfds; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                if (msg->fd < 0) {
                    msg->fd = fd;
                }
                else {
                    close(fd);
                }
            }
        }
    }
    memcpy(&hdr, buf, n >= (ssize_t)sizeof(hdr) ? sizeof(hdr) : 0);
    if (n < (ssize_t)sizeof(hdr) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
        || hdr.magic != FCGI_PM_MSG_MAGIC
        || hdr.len != (apr_uint32_t)(n - sizeof(hdr))) {
        if (msg->fd >= 0) {
            close(msg->fd);
            msg->fd = -1;
        }
        errno = EPROTO;
        return -1;
    }
    msg->type = hdr.type;
    msg->proto = hdr.proto;
    msg->payload = buf + sizeof(hdr);
    msg->len = hdr.len;
    return 1;
}

int fcgi_pm_proto_env_has(const apr_array_header_t *env, const char *name)
{
    apr_size_t n = strlen(name);
    int i;

    for (i = 0; i < env->nelts; i++) {
        const char *e = APR_ARRAY_IDX(env, i, const char *);
        if (!strncmp(e, name, n) && e[n] == '=') {
            return 1;
        }
    }
    return 0;
}

fcgi_pm_payload *fcgi_pm_proto_app_encode(apr_pool_t *p, const fcgi_pm_app_spec *spec)
{
    fcgi_pm_payload *rec = fcgi_pm_proto_record(p);
    int i;

    fcgi_pm_proto_put(rec, FCGI_PM_K_NAME, spec->name);
    fcgi_pm_proto_put(rec, FCGI_PM_K_ADDR, spec->addr);
    if (spec->socket_path) {
        fcgi_pm_proto_put(rec, FCGI_PM_K_SOCKET_PATH, spec->socket_path);
    }
    for (i = 0; i < spec->argv->nelts; i++) {
        fcgi_pm_proto_put(rec, FCGI_PM_K_ARG,
                          APR_ARRAY_IDX(spec->argv, i, const char *));
    }
    for (i = 0; i < spec->env->nelts; i++) {
        fcgi_pm_proto_put(rec, FCGI_PM_K_ENV,
                          APR_ARRAY_IDX(spec->env, i, const char *));
    }
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_PROCESSES, spec->processes);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_MAX_PROCESSES, spec->max_processes);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_IDLE_TIMEOUT, spec->idle_timeout);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_MAX_REQUESTS, spec->max_requests);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_MAX_REQUEST_TIME, spec->max_request_time);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_UID, spec->uid);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_GID, spec->gid);
    fcgi_pm_proto_put(rec, FCGI_PM_K_GROUPS, spec->groups);
    fcgi_pm_proto_put(rec, FCGI_PM_K_WORKDIR, spec->workdir);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_RESTART_ON_GRACEFUL,
                          spec->restart_on_graceful);
    fcgi_pm_proto_put_int(rec, FCGI_PM_K_SHUTDOWN_TIMEOUT, spec->shutdown_timeout);
    fcgi_pm_proto_put(rec, FCGI_PM_K_STOP_SIGNAL, spec->stop_signal);
    if (spec->restart_file) {
        fcgi_pm_proto_put(rec, FCGI_PM_K_RESTART_FILE, spec->restart_file);
    }
    if (spec->sock_dev || spec->sock_ino) {
        fcgi_pm_proto_put_int(rec, FCGI_PM_K_SOCK_DEV, spec->sock_dev);
        fcgi_pm_proto_put_int(rec, FCGI_PM_K_SOCK_INO, spec->sock_ino);
    }
    if (spec->keep_processes) {
        fcgi_pm_proto_put_int(rec, FCGI_PM_K_KEEP_PROCESSES, spec->keep_processes);
    }
    if (spec->lifetime) {
        fcgi_pm_proto_put_int(rec, FCGI_PM_K_LIFETIME, spec->lifetime);
    }
    if (spec->exec_check) {
        fcgi_pm_proto_put_int(rec, FCGI_PM_K_EXEC_CHECK, spec->exec_check);
        fcgi_pm_proto_put(rec, FCGI_PM_K_DOCROOT, spec->docroot);
    }
    return rec;
}

static const char *dup_or_null(apr_pool_t *p, const char *v)
{
    return *v ? apr_pstrdup(p, v) : NULL;
}

int fcgi_pm_proto_app_decode(apr_pool_t *p, const char *payload,
                             apr_size_t len, fcgi_pm_app_spec *out)
{
    const char *pos = payload, *end = payload + len, *k, *v;

    memset(out, 0, sizeof(*out));
    out->argv = apr_array_make(p, 4, sizeof(const char *));
    out->env = apr_array_make(p, 4, sizeof(const char *));
    while (fcgi_pm_proto_next(&pos, end, &k, &v)) {
        if (!strcmp(k, FCGI_PM_K_NAME))              out->name = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_ADDR))         out->addr = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_SOCKET_PATH))  out->socket_path = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_ARG))          APR_ARRAY_PUSH(out->argv, const char *) = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_ENV))          APR_ARRAY_PUSH(out->env, const char *) = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_PROCESSES))    out->processes = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_MAX_PROCESSES)) out->max_processes = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_IDLE_TIMEOUT)) out->idle_timeout = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_MAX_REQUESTS)) out->max_requests = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_MAX_REQUEST_TIME)) out->max_request_time = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_UID))          out->uid = atol(v);
        else if (!strcmp(k, FCGI_PM_K_GID))          out->gid = atol(v);
        else if (!strcmp(k, FCGI_PM_K_GROUPS))       out->groups = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_WORKDIR))      out->workdir = dup_or_null(p, v);
        else if (!strcmp(k, FCGI_PM_K_RESTART_ON_GRACEFUL)) out->restart_on_graceful = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_SHUTDOWN_TIMEOUT))    out->shutdown_timeout = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_STOP_SIGNAL))  out->stop_signal = dup_or_null(p, v);
        else if (!strcmp(k, FCGI_PM_K_RESTART_FILE)) out->restart_file = apr_pstrdup(p, v);
        else if (!strcmp(k, FCGI_PM_K_SOCK_DEV))     out->sock_dev = atol(v);
        else if (!strcmp(k, FCGI_PM_K_SOCK_INO))     out->sock_ino = atol(v);
        else if (!strcmp(k, FCGI_PM_K_KEEP_PROCESSES)) out->keep_processes = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_LIFETIME))     out->lifetime = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_EXEC_CHECK))   out->exec_check = atoi(v);
        else if (!strcmp(k, FCGI_PM_K_DOCROOT))      out->docroot = apr_pstrdup(p, v);
    }
    return out->name && out->addr && out->argv->nelts > 0 ? 0 : -1;
}
