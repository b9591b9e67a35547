/* SPDX-License-Identifier: Apache-2.0 */
/*
 * waiter.c - libfcgi worker that waits inside system calls with a timeout
 * during a request, for the mod_fcgi_pm test suite.
 *
 * Build: cc -O2 -Wall -o waiter t/apps/waiter.c -lfcgi
 *
 * Per request, "wait=MS": for the first half of MS the worker waits in
 * epoll_wait() (timeout = the time left) on an epoll set holding one end of
 * a socketpair nobody writes to; for the second half it waits in recv() on
 * that socket with SO_RCVTIMEO = the time left.  A call that returns EINTR
 * is counted and repeated with the time left.  The answer tells how many
 * times each call returned EINTR:
 *
 *   APP=waiter  PID=...  EINTR_EPOLL=N  EINTR_RECV=N  WAITED_MS=...
 *
 * A process manager that stops (SIGSTOP/SIGCONT) or signals a worker while
 * it waits in such a call makes it return EINTR: a test asserts 0.
 *
 * SIGUSR1 or SIGTERM (installed without SA_RESTART, so that any delivery during a wait
 * shows as EINTR): finish the current request, then exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "appkit.h"


static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Returns 0, or -1 with a message in ERR. */
static int do_wait(long ms, unsigned *eintr_epoll, unsigned *eintr_recv,
                   char *err, size_t errlen)
{
    int sv[2], ep;
    struct epoll_event ev;
    double start = now_ms(), half = start + ms / 2.0, end = start + ms;
    double left;
    char c;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    ep = epoll_create1(0);
    if (ep < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.fd = sv[0];
    if (epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev) < 0) {
        snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
        goto fail;
    }
    while ((left = half - now_ms()) > 0) {
        struct epoll_event out;
        int n = epoll_wait(ep, &out, 1, (int)(left + 0.999));
        if (n < 0 && errno == EINTR) {
            (*eintr_epoll)++;
            continue;
        }
        if (n < 0) {
            snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
            goto fail;
        }
        if (n > 0) {
            snprintf(err, errlen, "epoll_wait: unexpected event");
            goto fail;
        }
    }
    while ((left = end - now_ms()) > 0) {
        struct timeval tv;
        long us = (long)(left * 1000.0) + 1;
        ssize_t n;
        tv.tv_sec = us / 1000000;
        tv.tv_usec = us % 1000000;
        if (setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
            snprintf(err, errlen, "setsockopt: %s", strerror(errno));
            goto fail;
        }
        n = recv(sv[0], &c, 1, 0);
        if (n < 0 && errno == EINTR) {
            (*eintr_recv)++;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n < 0) {
            snprintf(err, errlen, "recv: %s", strerror(errno));
            goto fail;
        }
        snprintf(err, errlen, "recv: unexpected data or EOF");
        goto fail;
    }
    close(ep);
    close(sv[0]);
    close(sv[1]);
    return 0;
fail:
    close(ep);
    close(sv[0]);
    close(sv[1]);
    return -1;
}

int main(void)
{
    FCGX_Request req;
    struct sigaction sa;
    unsigned long reqs = 0;

    if (FCGX_Init() != 0) {
        fprintf(stderr, "waiter: FCGX_Init failed\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_usr1;
    sa.sa_flags = 0;
    if (sigaction(SIGUSR1, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
        perror("waiter: sigaction");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (FCGX_InitRequest(&req, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        fprintf(stderr, "waiter: FCGX_InitRequest failed\n");
        return 2;
    }
    while (!graceful_exit) {
        const char *qs;
        unsigned eintr_epoll = 0, eintr_recv = 0;
        char err[256] = "";
        double t0;
        long ms;
        int rc = FCGX_Accept_r(&req);
        if (rc < 0) {
            if (rc == -EINTR && !graceful_exit)
                continue;
            break;
        }
        reqs++;
        qs = FCGX_GetParam("QUERY_STRING", req.envp);
        ms = query_long(qs ? qs : "", "wait");
        t0 = now_ms();
        if (ms > 0 && do_wait(ms, &eintr_epoll, &eintr_recv, err, sizeof(err)) < 0) {
            FCGX_FPrintF(req.out, "Status: 500\r\nContent-Type: text/plain\r\n\r\n"
                         "APP=waiter\nPID=%ld\nERROR=%s\n", (long)getpid(), err);
            FCGX_Finish_r(&req);
            continue;
        }
        FCGX_FPrintF(req.out, "Content-Type: text/plain\r\nX-Worker-Pid: %ld\r\n\r\n"
                     "APP=waiter\nPID=%ld\nREQS=%lu\nEINTR_EPOLL=%u\nEINTR_RECV=%u\n"
                     "WAITED_MS=%.0f\n",
                     (long)getpid(), (long)getpid(), reqs, eintr_epoll, eintr_recv,
                     now_ms() - t0);
        FCGX_Finish_r(&req);
    }
    return 0;
}
