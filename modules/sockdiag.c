/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listen queues from the kernel's socket diagnostics (NETLINK_SOCK_DIAG:
 * what "ss -l" shows as Recv-Q for a listening socket), see
 * fcgi_pm_sockdiag.h.  Bounded: one dump per address family, at most
 * DIAG_NL_MAX_BYTES read, DIAG_NL_TIMEOUT_MS per read.
 */
#include "fcgi_pm_sockdiag.h"
#include "fcgi_pm_sock.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#define DIAG_NL_MAX_BYTES (1 << 20)   /* netlink dump read at most */
#define DIAG_NL_BUF       32768
#define DIAG_NL_TIMEOUT_MS 200

#ifndef TCP_LISTEN
#define TCP_LISTEN 10                 /* state number in sock_diag */
#endif

typedef struct {
    fcgi_pm_sockdiag_listener *l;
    int n;
} fcgi_pm_sockdiag_set;

typedef void (*diag_each_fn)(const struct nlmsghdr *h, fcgi_pm_sockdiag_set *s);

/* Send REQ, hand each answer to EACH.  Bounded in bytes and time. */
static int diag_dump(apr_pool_t *p, const void *req, size_t len,
                     diag_each_fn each, fcgi_pm_sockdiag_set *s)
{
    struct sockaddr_nl nl;
    struct timeval tv = { 0, DIAG_NL_TIMEOUT_MS * 1000 };
    char *buf = apr_palloc(p, DIAG_NL_BUF);
    size_t total = 0;
    int fd, rc = -1;

    fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) {
        return -1;
    }
    memset(&nl, 0, sizeof(nl));
    nl.nl_family = AF_NETLINK;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (sendto(fd, req, len, 0, (struct sockaddr *)&nl, sizeof(nl))
        != (ssize_t)len) {
        goto done;
    }
    while (total < DIAG_NL_MAX_BYTES) {
        ssize_t n = recv(fd, buf, DIAG_NL_BUF, 0);
        const struct nlmsghdr *h;
        int left;

        if (n <= 0) {
            goto done;
        }
        total += (size_t)n;
        left = (int)n;
        for (h = (const struct nlmsghdr *)buf; NLMSG_OK(h, left);
             h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type == NLMSG_DONE) {
                rc = 0;
                goto done;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                goto done;
            }
            each(h, s);
        }
    }
done:
    close(fd);
    return rc;
}

static void unix_diag_each(const struct nlmsghdr *h, fcgi_pm_sockdiag_set *s)
{
    const struct unix_diag_msg *m = NLMSG_DATA(h);
    const struct rtattr *at;
    const struct unix_diag_vfs *vfs = NULL;
    const struct unix_diag_rqlen *rq = NULL;
    int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));
    int i;

    if (len < 0 || m->udiag_state != TCP_LISTEN) {
        return;
    }
    for (at = (const struct rtattr *)(m + 1); RTA_OK(at, len);
         at = RTA_NEXT(at, len)) {
        if (at->rta_type == UNIX_DIAG_VFS
            && RTA_PAYLOAD(at) >= sizeof(*vfs)) {
            vfs = RTA_DATA(at);
        }
        else if (at->rta_type == UNIX_DIAG_RQLEN
                 && RTA_PAYLOAD(at) >= sizeof(*rq)) {
            rq = RTA_DATA(at);
        }
    }
    if (!vfs || !rq) {
        return;
    }
    for (i = 0; i < s->n; i++) {
        fcgi_pm_sockdiag_listener *a = &s->l[i];
        if (a->is_unix && a->vfs_ino == vfs->udiag_vfs_ino
            && a->vfs_dev == vfs->udiag_vfs_dev) {
            a->queue = rq->udiag_rqueue;    /* connections not accepted */
            a->backlog = rq->udiag_wqueue;  /* the listen() backlog */
        }
    }
}

static void inet_diag_each(const struct nlmsghdr *h, fcgi_pm_sockdiag_set *s)
{
    const struct inet_diag_msg *m = NLMSG_DATA(h);
    int i;

    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m))
        || m->idiag_state != TCP_LISTEN) {
        return;
    }
    for (i = 0; i < s->n; i++) {
        fcgi_pm_sockdiag_listener *a = &s->l[i];
        if (a->tcp_family == m->idiag_family
            && a->tcp_port == ntohs(m->id.idiag_sport)
            && !memcmp(a->tcp_addr, m->id.idiag_src,
                       a->tcp_family == AF_INET ? 4 : 16)) {
            a->queue = m->idiag_rqueue;     /* accept queue */
            a->backlog = m->idiag_wqueue;   /* its limit */
        }
    }
}

/* Where the socket of app A is, for matching the diagnostics: its
 * address is "unix:/path" (or the bare path) or "tcp:host:port". */
static void listener_identity(fcgi_pm_sockdiag_listener *a)
{
    const char *path = fcgi_pm_sock_addr_path(a->addr);

    if (path) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
            a->is_unix = 1;
            a->vfs_ino = st.st_ino;
            /* The kernel's own encoding of a device number. */
            a->vfs_dev = ((unsigned long long)major(st.st_dev) << 20)
                         | minor(st.st_dev);
        }
    }
    else if (!strncmp(a->addr, "tcp:", 4)) {
        char host[FCGI_PM_ADDR_MAX];
        const char *colon = strrchr(a->addr, ':');
        const char *h = a->addr + 4;
        size_t hl;

        if (!colon || colon <= h) {
            return;
        }
        hl = (size_t)(colon - h);
        if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
            h++;
            hl -= 2;
        }
        memcpy(host, h, hl);
        host[hl] = '\0';
        a->tcp_port = (unsigned short)fcgi_pm_sock_addr_port(a->addr);
        if (inet_pton(AF_INET, host, a->tcp_addr) == 1) {
            a->tcp_family = AF_INET;
        }
        else if (inet_pton(AF_INET6, host, a->tcp_addr) == 1) {
            a->tcp_family = AF_INET6;
        }
    }
}

void fcgi_pm_sockdiag_listen_queues(apr_pool_t *p,
                                    fcgi_pm_sockdiag_listener *l, int n)
{
    fcgi_pm_sockdiag_set set = { l, n }, *s = &set;
    int i, want_unix = 0, want_inet = 0, want_inet6 = 0;

    for (i = 0; i < n; i++) {
        l[i].queue = l[i].backlog = -1;
        listener_identity(&l[i]);
        want_unix |= l[i].is_unix;
        want_inet |= l[i].tcp_family == AF_INET;
        want_inet6 |= l[i].tcp_family == AF_INET6;
    }
    if (want_unix) {
        struct {
            struct nlmsghdr nlh;
            struct unix_diag_req udr;
        } req;

        memset(&req, 0, sizeof(req));
        req.nlh.nlmsg_len = sizeof(req);
        req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        req.udr.sdiag_family = AF_UNIX;
        req.udr.udiag_states = 1u << TCP_LISTEN;
        req.udr.udiag_show = UDIAG_SHOW_VFS | UDIAG_SHOW_RQLEN;
        diag_dump(p, &req, sizeof(req), unix_diag_each, s);
    }
    for (i = 0; i < 2; i++) {
        struct {
            struct nlmsghdr nlh;
            struct inet_diag_req_v2 idr;
        } req;
        int family = i ? AF_INET6 : AF_INET;

        if (!(i ? want_inet6 : want_inet)) {
            continue;
        }
        memset(&req, 0, sizeof(req));
        req.nlh.nlmsg_len = sizeof(req);
        req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
        req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        req.idr.sdiag_family = family;
        req.idr.sdiag_protocol = IPPROTO_TCP;
        req.idr.idiag_states = 1u << TCP_LISTEN;
        diag_dump(p, &req, sizeof(req), inet_diag_each, s);
    }
}

