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

/* ?ticks=N&every=MS: N lines on stderr, MS apart, then the answer. */
static void answer(FCGX_Request *req)
{
    const char *qs = FCGX_GetParam("QUERY_STRING", req->envp);
    long ticks = query_long(qs, "ticks");
    long every = query_long(qs, "every");
    long i;

    if (every <= 0)
        every = 200;
    for (i = 1; i <= ticks; i++) {
        FCGX_FPrintF(req->err, "drip tick %ld\n", i);
        FCGX_FFlush(req->err);
        sleep_ms(every);
    }
    FCGX_FPrintF(req->out, "Content-Type: text/plain\r\n\r\nDONE PID=%ld\n",
                 (long)getpid());
}

int main(void)
{
    return appkit_serve("drip", answer);
}
