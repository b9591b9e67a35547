/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parent -> manager messages (see fcgi_pm_proto.h).
 */
#include "fcgi_pm_proto.h"
#include "fcgi_pm_identity.h"
#include "fcgi_pm_config.h"

#include "apr_strings.h"

#include <sys/socket.h>
#include <poll.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

fcgi_pm_rec *fcgi_pm_proto_record(apr_pool_t *p)
{
    fcgi_pm_rec *rec = apr_pcalloc(p, sizeof(*rec));

    rec->pool = p;
    rec->cap = 1024;
    rec->buf = apr_palloc(p, rec->cap);
    return rec;
}

static void put_string(fcgi_pm_rec *rec, const char *s)
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

void fcgi_pm_proto_put(fcgi_pm_rec *rec, const char *key, const char *value)
{
    put_string(rec, key);
    put_string(rec, value ? value : "");
}

void fcgi_pm_proto_put_int(fcgi_pm_rec *rec, const char *key, long value)
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
                                const fcgi_pm_rec *rec, int pass_fd,
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

fcgi_pm_rec *fcgi_pm_proto_app_record(apr_pool_t *p, const fcgi_pm_app_conf *app)
{
    fcgi_pm_rec *rec = fcgi_pm_proto_record(p);
    uid_t uid;
    gid_t gid;
    int i;

    fcgi_pm_identity_worker_ids(app, &uid, &gid);
    fcgi_pm_proto_put(rec, "name", app->name);
    fcgi_pm_proto_put(rec, "addr", app->addr);
    if (app->socket_path) {
        fcgi_pm_proto_put(rec, "socket_path", app->socket_path);
    }
    for (i = 0; i < app->argv->nelts; i++) {
        fcgi_pm_proto_put(rec, "arg", APR_ARRAY_IDX(app->argv, i, const char *));
    }
    for (i = 0; i < app->env->nelts; i++) {
        fcgi_pm_proto_put(rec, "env", APR_ARRAY_IDX(app->env, i, const char *));
    }
    /* PassEnv takes httpd's value now, so a changed value restarts the app. */
    for (i = 0; i < app->passenv->nelts; i++) {
        const char *name = APR_ARRAY_IDX(app->passenv, i, const char *);
        const char *value = getenv(name);
        if (value) {
            fcgi_pm_proto_put(rec, "env", apr_pstrcat(p, name, "=", value, NULL));
        }
    }
    fcgi_pm_proto_put_int(rec, "processes", app->processes);
    fcgi_pm_proto_put_int(rec, "max_processes",
                          app->max_processes ? app->max_processes : app->processes);
    fcgi_pm_proto_put_int(rec, "idle_timeout", app->idle_timeout);
    fcgi_pm_proto_put_int(rec, "uid", (long)uid);
    fcgi_pm_proto_put_int(rec, "gid", (long)gid);
    /* The worker's whole group list, decided here (the group database is
     * read by the parent, never by the child between fork and exec). */
    fcgi_pm_proto_put(rec, "groups",
                      fcgi_pm_identity_worker_groups(p, app, uid, gid));
    fcgi_pm_proto_put(rec, "workdir", app->workdir);
    fcgi_pm_proto_put_int(rec, "restart_on_graceful", app->restart_on_graceful);
    fcgi_pm_proto_put_int(rec, "shutdown_timeout", app->shutdown_timeout);
    fcgi_pm_proto_put(rec, "stop_signal", app->stop_signal);
    if (app->restart_file) {
        fcgi_pm_proto_put(rec, "restart_file", app->restart_file);
    }
    return rec;
}
