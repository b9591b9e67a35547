/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The listen queue of each app's socket, read from the kernel's socket
 * diagnostics (NETLINK_SOCK_DIAG), for the status page.
 */
#ifndef FCGI_PM_SOCKDIAG_H
#define FCGI_PM_SOCKDIAG_H

#include "apr_pools.h"

typedef struct {
    const char *addr;                   /* in: "unix:/path" or "tcp:h:p" */
    long queue;                         /* out: pending connections, -1: unknown */
    long backlog;                       /* out: listen backlog, -1: unknown */
    /* where the socket is, for matching the diagnostics */
    int is_unix;
    unsigned long long vfs_ino, vfs_dev;
    int tcp_family;                     /* AF_INET/AF_INET6, 0: not TCP */
    unsigned char tcp_addr[16];
    unsigned short tcp_port;
} fcgi_pm_sockdiag_listener;

/* Fill queue/backlog of each of the N listeners L. */
void fcgi_pm_sockdiag_listen_queues(apr_pool_t *p,
                                    fcgi_pm_sockdiag_listener *l, int n);

#endif /* FCGI_PM_SOCKDIAG_H */
