/* SPDX-License-Identifier: Apache-2.0 */
/*
 * authz.c - FastCGI authorizer for the mod_fcgi_pm test suite (the roles
 * of FcgidAuthenticator, FcgidAuthorizer, FcgidAccessChecker).
 *
 * Build: cc -O2 -Wall -o authz t/apps/authz.c -lfcgi
 *
 * Accepts on fd 0.  By FCGI_APACHE_ROLE:
 *   AUTHENTICATOR   REMOTE_USER "alice" with REMOTE_PASSWD "secret": 200;
 *                   anyone else: 401 with
 *                   WWW-Authenticate: Basic realm="fcgi-authz-test"
 *   AUTHORIZER      REMOTE_USER "alice": 200; anyone else: 403
 *   ACCESS_CHECKER  a REQUEST_URI with "/open/" in it: 200; with
 *                   "/login/": 302 to http://login.test/; else 403
 * Every 200 carries Variable- headers the protected app can show:
 *   Variable-AUTHZ_<ROLE>=FCGI_ROLE as the program saw it
 *   Variable-AUTHZ_<ROLE>_USER=REMOTE_USER (or "-")
 *   Variable-AUTHZ_<ROLE>_PASSWD=set|unset
 *   Variable-AUTHZ_<ROLE>_DROPPED=the ones of CONTENT_LENGTH, PATH_INFO,
 *                   SCRIPT_NAME it got ("none" when none, as it should be)
 * and every answer has a body (which httpd does not send).
 *
 * Misbehaviour asked for in QUERY_STRING (any role):
 *   bad=garbage     a header line without a colon
 *   bad=big         20 KB of headers
 *   bad=hang        sleeps 6 s before answering
 *   bad=stderr      writes "authz-stderr-line" to FCGI stderr, then answers
 *   bad=nostatus    "Location: /elsewhere" with no Status
 *
 * SIGUSR1: finish the current request, then exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "appkit.h"

static const char *param(FCGX_Request *req, const char *name)
{
    const char *v = FCGX_GetParam(name, req->envp);
    return v ? v : "";
}

static int has_bad(const char *qs, const char *what)
{
    char key[64];
    snprintf(key, sizeof(key), "bad=%s", what);
    return strstr(qs, key) != NULL;
}

/* Misbehaviour asked for; 1 when the answer is done. */
static int misbehave(FCGX_Request *req, const char *qs)
{
    if (has_bad(qs, "garbage")) {
        FCGX_FPrintF(req->out, "this line has no colon\r\n\r\n");
        return 1;
    }
    if (has_bad(qs, "big")) {
        int i;
        FCGX_FPrintF(req->out, "Status: 200\r\n");
        for (i = 0; i < 400; i++)
            FCGX_FPrintF(req->out, "X-Filler-%d: %050d\r\n", i, i);
        FCGX_FPrintF(req->out, "\r\n");
        return 1;
    }
    if (has_bad(qs, "nostatus")) {
        FCGX_FPrintF(req->out, "Location: /elsewhere\r\n\r\n");
        return 1;
    }
    if (has_bad(qs, "hang"))
        sleep_ms(6000);
    if (has_bad(qs, "stderr"))
        FCGX_FPrintF(req->err, "authz-stderr-line\n");
    return 0;
}

static void grant(FCGX_Request *req, const char *role)
{
    const char *dropped[] = { "CONTENT_LENGTH", "PATH_INFO", "SCRIPT_NAME", NULL };
    char got[128] = "";
    int i;

    for (i = 0; dropped[i]; i++) {
        if (FCGX_GetParam(dropped[i], req->envp)) {
            strncat(got, got[0] ? "," : "", sizeof(got) - strlen(got) - 1);
            strncat(got, dropped[i], sizeof(got) - strlen(got) - 1);
        }
    }
    FCGX_FPrintF(req->out, "Status: 200 OK\r\n"
                 "Content-Type: text/plain\r\n"
                 "X-Not-For-The-Client: granted\r\n"
                 "Variable-AUTHZ_%s: %s\r\n"
                 "Variable-AUTHZ_%s_USER: %s\r\n"
                 "Variable-AUTHZ_%s_PASSWD: %s\r\n"
                 "Variable-AUTHZ_%s_DROPPED: %s\r\n"
                 "\r\n"
                 "granted\n",
                 role, param(req, "FCGI_ROLE"),
                 role, FCGX_GetParam("REMOTE_USER", req->envp) ? param(req, "REMOTE_USER") : "-",
                 role, FCGX_GetParam("REMOTE_PASSWD", req->envp) ? "set" : "unset",
                 role, got[0] ? got : "none");
}

static void answer(FCGX_Request *req)
{
    const char *role = param(req, "FCGI_APACHE_ROLE");
    const char *user = param(req, "REMOTE_USER");
    const char *uri = param(req, "REQUEST_URI");

    if (misbehave(req, param(req, "QUERY_STRING")))
        return;
    if (!strcmp(role, "AUTHENTICATOR")) {
        if (!strcmp(user, "alice") && !strcmp(param(req, "REMOTE_PASSWD"), "secret")) {
            grant(req, role);
            return;
        }
        FCGX_FPrintF(req->out, "Status: 401 Unauthorized\r\n"
                     "WWW-Authenticate: Basic realm=\"fcgi-authz-test\"\r\n"
                     "Variable-LEAK: no\r\n"
                     "Content-Type: text/plain\r\n\r\n"
                     "who are you?\n");
    }
    else if (!strcmp(role, "AUTHORIZER")) {
        if (!strcmp(user, "alice")) {
            grant(req, role);
            return;
        }
        FCGX_FPrintF(req->out, "Status: 403\r\nX-Refused-By: authz\r\n\r\nnot you\n");
    }
    else if (!strcmp(role, "ACCESS_CHECKER")) {
        if (strstr(uri, "/open/")) {
            grant(req, role);
            return;
        }
        if (strstr(uri, "/login/")) {
            FCGX_FPrintF(req->out, "Status: 302\r\nLocation: http://login.test/\r\n\r\n");
            return;
        }
        FCGX_FPrintF(req->out, "Status: 403\r\nX-Refused-By: access\r\n\r\nclosed\n");
    }
    else {
        FCGX_FPrintF(req->out, "Status: 500\r\n\r\nunknown role '%s'\n", role);
    }
}

int main(void)
{
    return appkit_serve("authz", answer);
}
