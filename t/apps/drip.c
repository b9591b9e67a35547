/* SPDX-License-Identifier: Apache-2.0 */
/*
 * drip.c - FastCGI test app that keeps a request busy, with traffic on
 * the connection, before it answers (t/30-proxy-worker.t).
 *
 * Per request (query string):
 *   ticks=N     N FastCGI stderr records "drip tick I", one every
 *   every=MS    MS milliseconds (default 200), then
 *               "Content-Type: text/plain" and "DONE PID=<pid>".
 * A stderr record is traffic on the FastCGI connection, so httpd's I/O
 * timeout does not run out, but nothing reaches the client: no header has
 * been sent yet, and a cut connection still lets httpd choose the status.
 *
 * SIGUSR1: finish the current request, then exit 0.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "appkit.h"

int main(void)
{
    FCGX_Request req;
    struct sigaction sa;

    if (FCGX_Init() != 0) {
        fprintf(stderr, "drip: FCGX_Init failed\n");
        return 2;
    }
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (FCGX_InitRequest(&req, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        fprintf(stderr, "drip: FCGX_InitRequest failed\n");
        return 2;
    }
    while (!graceful_exit) {
        const char *qs;
        long ticks, every, i;
        int rc = FCGX_Accept_r(&req);

        if (rc < 0) {
            if (rc == -EINTR && !graceful_exit)
                continue;
            break;
        }
        qs = FCGX_GetParam("QUERY_STRING", req.envp);
        ticks = query_long(qs, "ticks");
        every = query_long(qs, "every");
        if (every <= 0)
            every = 200;
        for (i = 1; i <= ticks; i++) {
            FCGX_FPrintF(req.err, "drip tick %ld\n", i);
            FCGX_FFlush(req.err);
            sleep_ms(every);
        }
        FCGX_FPrintF(req.out, "Content-Type: text/plain\r\n\r\nDONE PID=%ld\n",
                     (long)getpid());
        FCGX_Finish_r(&req);
    }
    return 0;
}
