/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgienv.c - FastCGI test app for the CGI semantics (t/34-cgi.t): what
 * params the app gets, and how httpd treats a Location header.
 *
 * Build: cc -O2 -Wall -o cgienv t/apps/cgienv.c -lfcgi
 *
 * Per request (query string parameters):
 *
 *   (none)              text/plain: APP=cgienv, PID=pid, then one line
 *                       NAME=VALUE (or NAME=<unset>) for each of
 *                       REQUEST_METHOD, REQUEST_URI, SCRIPT_NAME,
 *                       PATH_INFO, QUERY_STRING, REDIRECT_URL,
 *                       CONTENT_LENGTH, HTTP_AUTHORIZATION, Authorization,
 *                       HTTP_X_API_KEY, X-Api-Key, and BODY_LENGTH=bytes of
 *                       request body read (all of it, whatever
 *                       CONTENT_LENGTH says).
 *   sleep=MS            sleeps MS milliseconds first (with any of these).
 *   location=URL        answers "Location: URL" (URL-decoded) with a body
 *                       "redirect body" and no Status header...
 *   status=CODE         ...unless status is given: "Status: CODE" too.
 *   cookie=VALUE        with location: "Set-Cookie: c=VALUE" too.
 *
 * SIGUSR1: the current request is finished, then the process exits 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appkit.h"

static const char *const shown[] = {
    "REQUEST_METHOD", "REQUEST_URI", "SCRIPT_NAME", "PATH_INFO",
    "QUERY_STRING", "REDIRECT_URL", "CONTENT_LENGTH",
    "HTTP_AUTHORIZATION", "Authorization", "HTTP_X_API_KEY", "X-Api-Key",
};

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The URL-decoded value of KEY in QS, in OUT (at most OUTLEN - 1 bytes);
 * 1 when found, else 0. */
static int query_value(const char *qs, const char *key, char *out,
                       size_t outlen)
{
    size_t kl = strlen(key), n = 0;
    const char *p = qs;

    while (p && *p) {
        if (!strncmp(p, key, kl) && p[kl] == '=') {
            for (p += kl + 1; *p && *p != '&' && n + 1 < outlen; n++) {
                if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
                    out[n] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
                    p += 3;
                }
                else {
                    out[n] = *p == '+' ? ' ' : *p;
                    p++;
                }
            }
            out[n] = '\0';
            return 1;
        }
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return 0;
}

/* Reads the whole request body (to FastCGI's end of stdin). */
static long read_body(FCGX_Request *req)
{
    char buf[8192];
    long total = 0;
    int n;

    while ((n = FCGX_GetStr(buf, sizeof(buf), req->in)) > 0)
        total += n;
    return total;
}

static void answer(FCGX_Request *req)
{
    const char *qs = FCGX_GetParam("QUERY_STRING", req->envp);
    char location[2048], status[16], cookie[256];
    long body = read_body(req);
    size_t i;

    sleep_ms(query_long(qs, "sleep"));

    if (qs && query_value(qs, "location", location, sizeof(location))) {
        if (query_value(qs, "status", status, sizeof(status)))
            FCGX_FPrintF(req->out, "Status: %s\r\n", status);
        if (query_value(qs, "cookie", cookie, sizeof(cookie)))
            FCGX_FPrintF(req->out, "Set-Cookie: c=%s\r\n", cookie);
        FCGX_FPrintF(req->out, "Location: %s\r\n"
                     "Content-Type: text/plain\r\n\r\nredirect body\n",
                     location);
        return;
    }
    FCGX_FPrintF(req->out, "Content-Type: text/plain\r\n\r\n"
                 "APP=cgienv\nPID=%ld\n", (long)getpid());
    for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
        const char *v = FCGX_GetParam(shown[i], req->envp);
        FCGX_FPrintF(req->out, "%s=%s\n", shown[i], v ? v : "<unset>");
    }
    FCGX_FPrintF(req->out, "BODY_LENGTH=%ld\n", body);
}

int main(void)
{
    return appkit_serve("cgienv", answer);
}
