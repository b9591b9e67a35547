/* SPDX-License-Identifier: Apache-2.0 */
/*
 * appkit.h - what the C test apps share (the .c files of t/apps, built by
 * FcgiPmTest::build_app, which also rebuilds them when this file changes).
 *
 *   graceful_exit, on_usr1   libfcgi's "finish the request, then exit":
 *                            the handler only sets the flag
 *   sleep_ms(MS)             sleeps MS milliseconds, restarted on EINTR
 *   query_long(QS, KEY)      the number after "KEY=" in a query string, 0
 */
#ifndef APPKIT_H
#define APPKIT_H

#include <errno.h>
#include <signal.h>
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

#endif /* APPKIT_H */
