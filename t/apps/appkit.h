/* SPDX-License-Identifier: Apache-2.0 */
/*
 * appkit.h - what the C test apps share (the .c files of t/apps, built by
 * FcgiPmTest::build_app, which also rebuilds them when this file changes).
 *
 *   graceful_exit, on_usr1   libfcgi's "finish the request, then exit":
 *                            the handler only sets the flag
 *   sleep_ms(MS)             sleeps MS milliseconds, restarted on EINTR
 *   query_long(QS, KEY)      the number after "KEY=" in a query string, 0
 *   appkit_serve(NAME, ANSWER)  the single-threaded libfcgi loop on fd 0:
 *                            ANSWER(request) per request until USR1
 */
#ifndef APPKIT_H
#define APPKIT_H

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t graceful_exit = 0;

static inline void on_usr1(int sig)
{
    (void)sig;
    graceful_exit = 1;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts;
    if (ms <= 0)
        return;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static inline long query_long(const char *qs, const char *key)
{
    size_t kl = strlen(key);
    const char *p = qs;
    while (p && *p) {
        if (!strncmp(p, key, kl) && p[kl] == '=')
            return atol(p + kl + 1);
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return 0;
}

/* USR1's handler goes in after libfcgi's own; no SA_RESTART, so that USR1
 * ends a wait in accept() (FCGI_FAIL_ACCEPT_ON_INTR).  Returns main's
 * exit status. */
static inline int appkit_serve(const char *name,
                               void (*answer)(FCGX_Request *req))
{
    FCGX_Request req;
    struct sigaction sa;

    if (FCGX_Init() != 0) {
        fprintf(stderr, "%s: FCGX_Init failed\n", name);
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (FCGX_InitRequest(&req, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        fprintf(stderr, "%s: FCGX_InitRequest failed\n", name);
        return 2;
    }
    while (!graceful_exit) {
        int rc = FCGX_Accept_r(&req);
        if (rc < 0) {
            if (rc == -EINTR && !graceful_exit)
                continue;
            break;
        }
        answer(&req);
        FCGX_Finish_r(&req);
    }
    return 0;
}

#endif /* APPKIT_H */
