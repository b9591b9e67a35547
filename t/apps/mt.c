/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mt.c - multi-threaded libfcgi worker for the mod_fcgi_pm test suite.
 *
 * Build: cc -O2 -Wall -o mt t/apps/mt.c -lfcgi -lpthread
 *
 * Four threads, each in its own FCGX_Accept_r() loop on fd 0, as libfcgi's
 * threaded example does.  Signals are libfcgi's own: FCGX_Init() installs
 * its SIGUSR1 handler ("finish, then no more accepts").  A thread whose
 * accept fails ends; the process exits when every thread has ended.
 *
 * Per request:
 *   sleep=MS   sleep MS milliseconds (restarted on EINTR) before answering.
 * Answer (text/plain):  APP=mt  PID=...  THREAD=0..3  REQS=... (this thread)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "appkit.h"

#define NTHREADS 4

static void *serve(void *arg)
{
    long id = (long)arg;
    unsigned long reqs = 0;
    FCGX_Request req;

    if (FCGX_InitRequest(&req, 0, 0) != 0) {
        fprintf(stderr, "mt: FCGX_InitRequest failed\n");
        return NULL;
    }
    while (FCGX_Accept_r(&req) >= 0) {
        const char *qs = FCGX_GetParam("QUERY_STRING", req.envp);
        reqs++;
        sleep_ms(query_long(qs ? qs : "", "sleep"));
        FCGX_FPrintF(req.out, "Content-Type: text/plain\r\nX-Worker-Pid: %ld\r\n\r\n"
                     "APP=mt\nPID=%ld\nTHREAD=%ld\nREQS=%lu\nQUERY_STRING=%s\n",
                     (long)getpid(), (long)getpid(), id, reqs, qs ? qs : "");
        FCGX_Finish_r(&req);
    }
    return NULL;
}

int main(void)
{
    pthread_t th[NTHREADS];
    long i;

    if (FCGX_Init() != 0) {
        fprintf(stderr, "mt: FCGX_Init failed\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    for (i = 1; i < NTHREADS; i++) {
        int rc = pthread_create(&th[i], NULL, serve, (void *)i);
        if (rc != 0) {
            fprintf(stderr, "mt: pthread_create: %s\n", strerror(rc));
            return 2;
        }
    }
    serve((void *)0);
    for (i = 1; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    return 0;
}
