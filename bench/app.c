/* SPDX-License-Identifier: Apache-2.0 */
/*
 * app.c - the FastCGI application every bench/run contender serves.
 *
 * Build: cc -O2 -Wall -o app bench/app.c -lfcgi   (bench/run does it)
 *
 * A plain libfcgi program accepting on fd 0 (FCGI_LISTENSOCK_FILENO), the
 * way mod_fcgi_pm, mod_fcgid and spawn-fcgi all hand the socket over.
 *
 *   GET ...            "ok PID N\n" (text/plain, ~20 bytes)
 *   ?sleep=MS          sleeps MS milliseconds before answering
 *   env START_DELAY_MS sleeps that long before the first accept (slow
 *                      start-up: what a framework loading its code costs)
 *
 * SIGUSR1 (the FastCGI graceful signal) and SIGTERM: finish the current
 * request, then exit 0.  Installed without SA_RESTART and with
 * FCGI_FAIL_ACCEPT_ON_INTR, so an idle worker blocked in accept() leaves at
 * once.  (libfcgi's own SIGTERM/SIGUSR1 handlers restart accept(), so an
 * idle worker would linger until its next request or a SIGKILL; this app
 * behaves the same, well, under every contender: mod_fcgi_pm retires with
 * SIGUSR1, mod_fcgid and the spawn-fcgi clean-up stop with SIGTERM.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t graceful_exit = 0;

static void on_usr1(int sig)
{
    (void)sig;
    graceful_exit = 1;
}

static void sleep_ms(long ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static long query_sleep(const char *qs)
{
    const char *p = qs;

    while (p && *p) {
        if (!strncmp(p, "sleep=", 6))
            return atol(p + 6);
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return 0;
}

int main(void)
{
    FCGX_Request req;
    struct sigaction sa;
    unsigned long n = 0;
    const char *s;

    s = getenv("START_DELAY_MS");
    if (s && atol(s) > 0)
        sleep_ms(atol(s));
    if (FCGX_Init() != 0)
        return 2;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (FCGX_InitRequest(&req, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
        return 2;
    while (!graceful_exit) {
        int rc = FCGX_Accept_r(&req);
        if (rc < 0) {
            if (rc == -EINTR && !graceful_exit)
                continue;
            break;
        }
        n++;
        sleep_ms(query_sleep(FCGX_GetParam("QUERY_STRING", req.envp)));
        FCGX_FPrintF(req.out, "Content-Type: text/plain\r\n\r\nok %ld %lu\n",
                     (long)getpid(), n);
        FCGX_Finish_r(&req);
    }
    return 0;
}
