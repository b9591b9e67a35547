/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nonblock.c - libfcgi worker that puts its listen socket (fd 0) in
 * non-blocking mode, as Go's runtime and flup's forking server do, for the
 * mod_fcgi_pm test suite.
 *
 * Build: cc -O2 -Wall -o nonblock t/apps/nonblock.c -lfcgi
 *
 * O_NONBLOCK is a flag of the open file description, which every worker of
 * the app shares: once set, a later worker that expects a blocking accept()
 * gets EAGAIN.  This worker itself copes: it waits in poll() for the socket
 * to become readable, then accepts; EAGAIN (another worker was faster) just
 * means waiting again.
 *
 * Answer (text/plain): APP=nonblock  PID=...  FD0_NONBLOCK=1  REQS=...
 * "sleep=MS" sleeps before answering.
 * SIGUSR1 or SIGTERM: finish the current request, then exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "appkit.h"


int main(void)
{
    FCGX_Request req;
    struct sigaction sa;
    unsigned long reqs = 0;
    int fl;

    if (FCGX_Init() != 0) {
        fprintf(stderr, "nonblock: FCGX_Init failed\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_usr1;
    if (sigaction(SIGUSR1, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
        perror("nonblock: sigaction");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    fl = fcntl(0, F_GETFL);
    if (fl < 0 || fcntl(0, F_SETFL, fl | O_NONBLOCK) < 0) {
        perror("nonblock: fcntl(0, O_NONBLOCK)");
        return 2;
    }
    if (FCGX_InitRequest(&req, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        fprintf(stderr, "nonblock: FCGX_InitRequest failed\n");
        return 2;
    }
    while (!graceful_exit) {
        struct pollfd pfd;
        const char *qs;
        int rc;

        pfd.fd = 0;
        pfd.events = POLLIN;
        pfd.revents = 0;
        rc = poll(&pfd, 1, -1);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            perror("nonblock: poll");
            return 1;
        }
        rc = FCGX_Accept_r(&req);
        if (rc < 0) {
            if ((rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR) && !graceful_exit)
                continue;
            if (graceful_exit)
                break;
            fprintf(stderr, "nonblock: FCGX_Accept_r: %d\n", rc);
            return 1;
        }
        reqs++;
        qs = FCGX_GetParam("QUERY_STRING", req.envp);
        sleep_ms(query_long(qs ? qs : "", "sleep"));
        fl = fcntl(0, F_GETFL);
        FCGX_FPrintF(req.out, "Content-Type: text/plain\r\nX-Worker-Pid: %ld\r\n\r\n"
                     "APP=nonblock\nPID=%ld\nFD0_NONBLOCK=%d\nREQS=%lu\n",
                     (long)getpid(), (long)getpid(), fl >= 0 && (fl & O_NONBLOCK) ? 1 : 0, reqs);
        FCGX_Finish_r(&req);
    }
    return 0;
}
