/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hello.c - FastCGI test application for the mod_fcgi_pm test suite.
 *
 * Build: cc -O2 -Wall -o hello t/apps/hello.c -lfcgi
 *
 * Accepts on fd 0 (FCGI_LISTENSOCK_FILENO), as handed over by the process
 * manager.  Behaviour per request (query string parameters, combinable):
 *
 *   GET                 text/plain, one KEY=VALUE line each for SCRIPT_NAME,
 *                       PATH_INFO, QUERY_STRING, REQUEST_METHOD,
 *                       CONTENT_LENGTH, HTTP_X_TEST, SCRIPT_FILENAME, then
 *                       PID, PPID, UID, GID, CWD, ARGV, REQS (requests served
 *                       by this process) and APP=hello-c.
 *   env=NAME            adds ENV_NAME=value (or ENV_NAME=<unset>); repeatable.
 *   param=NAME          adds PARAM_NAME=value (or PARAM_NAME=<unset>), the
 *                       request's FastCGI parameter NAME; repeatable.
 *   sleep=MS            sleeps MS milliseconds before answering.
 *   status=CODE         sends "Status: CODE" and "X-Fcgi-Test: yes".
 *   stream=N            N chunks "chunk I", each flushed, 200 ms apart
 *                       (stream_ms=MS to change the gap; sse=1 sends them
 *                       as text/event-stream).
 *   stderr=TEXT         writes TEXT (URL-decoded) plus a newline to fd 2.
 *   spew=N              writes N lines "spew I <pid> xxx...\n" to fd 2, one
 *                       write() each, len=BYTES long (default 100, newline
 *                       included), stopping early after spew_ms=MS if given;
 *                       answers SPEW_LINES=lines written, SPEW_ERRORS=failed
 *                       writes.
 *   bigwrite=BYTES      one write() to fd 2 of BYTES bytes: "bigwrite <pid> "
 *                       then 'B's and a newline; answers BIGWRITE=its result
 *                       and BIGWRITE_ERRNO=errno (0 when it succeeded).
 *   partial=TEXT        writes TEXT to fd 2 without a newline.
 *   exit=1              exits (status 0) after answering.
 *   child=MS            forks a child that closes every fd but 2, waits MS
 *                       milliseconds, writes "child of PID: after MS ms"
 *                       to fd 2 and exits.
 *   POST (or any request with a body): the body is read completely
 *                       (CONTENT_LENGTH bytes, binary safe) and echoed back
 *                       as application/octet-stream with X-Body-Length.
 *
 * Environment at start:
 *   START_DELAY_MS=MS   sleep before the first accept (slow start-up app).
 *   CRASH_AT_START=1    append "PID\n" to $CRASH_COUNT_FILE (if set), print a
 *                       line on stderr and exit(1) at once (crash loop app).
 *
 * SIGUSR1 (FastCGI graceful signal): the current request is finished, then
 * the process exits 0.  SIGTERM: default action.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "appkit.h"

static int exit_after_request = 0;
static char argv_line[4096];

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* In-place URL decoding ('+' is a space). */
static void url_decode(char *s)
{
    char *o = s;
    while (*s) {
        if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            *o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 3;
        } else if (*s == '+') {
            *o++ = ' ';
            s++;
        } else {
            *o++ = *s++;
        }
    }
    *o = '\0';
}

#define MAX_ENV_PARAMS 16

struct params {
    long sleep_ms;
    int status;
    int stream;
    int sse;
    long stream_ms;
    char *stderr_text;
    long spew;
    long spew_len;
    long spew_ms;
    long bigwrite;
    char *partial;
    int exit_after;
    long child_ms;
    char *env[MAX_ENV_PARAMS];
    int n_env;
    char *param[MAX_ENV_PARAMS];
    int n_param;
    char *qs_copy;
};

static void parse_query(const char *qs, struct params *p)
{
    char *save = NULL, *tok;

    memset(p, 0, sizeof(*p));
    p->stream_ms = 200;
    if (!qs || !*qs)
        return;
    p->qs_copy = strdup(qs);
    for (tok = strtok_r(p->qs_copy, "&", &save); tok;
         tok = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(tok, '=');
        char *val = "";
        if (eq) {
            *eq = '\0';
            val = eq + 1;
        }
        url_decode(val);
        if (!strcmp(tok, "sleep"))
            p->sleep_ms = atol(val);
        else if (!strcmp(tok, "status"))
            p->status = atoi(val);
        else if (!strcmp(tok, "stream"))
            p->stream = atoi(val);
        else if (!strcmp(tok, "stream_ms"))
            p->stream_ms = atol(val);
        else if (!strcmp(tok, "sse"))
            p->sse = atoi(val);
        else if (!strcmp(tok, "stderr"))
            p->stderr_text = val;
        else if (!strcmp(tok, "spew"))
            p->spew = atol(val);
        else if (!strcmp(tok, "len"))
            p->spew_len = atol(val);
        else if (!strcmp(tok, "spew_ms"))
            p->spew_ms = atol(val);
        else if (!strcmp(tok, "bigwrite"))
            p->bigwrite = atol(val);
        else if (!strcmp(tok, "partial"))
            p->partial = val;
        else if (!strcmp(tok, "exit"))
            p->exit_after = atoi(val);
        else if (!strcmp(tok, "child"))
            p->child_ms = atol(val);
        else if (!strcmp(tok, "env") && p->n_env < MAX_ENV_PARAMS)
            p->env[p->n_env++] = val;
        else if (!strcmp(tok, "param") && p->n_param < MAX_ENV_PARAMS)
            p->param[p->n_param++] = val;
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* spew=N: N lines to fd 2, one write() each.  *errors counts failed ones. */
static long spew_lines(const struct params *p, long *errors)
{
    long len = p->spew_len > 0 ? p->spew_len : 100, i;
    double until = p->spew_ms > 0 ? now_ms() + p->spew_ms : 0;
    char *line;

    *errors = 0;
    if (len > 1 << 20)
        len = 1 << 20;
    line = malloc((size_t)len + 64);
    if (!line)
        return 0;
    for (i = 0; i < p->spew; i++) {
        int n = snprintf(line, 64, "spew %ld %ld ", i, (long)getpid());
        long l = len > n ? len : n + 1;
        memset(line + n, 'x', (size_t)(l - n));
        line[l - 1] = '\n';
        if (write(2, line, (size_t)l) != (ssize_t)l)
            (*errors)++;
        if (until && (i & 255) == 0 && now_ms() >= until) {
            i++;
            break;
        }
    }
    free(line);
    return i;
}

static const char *param_or_empty(FCGX_ParamArray envp, const char *name)
{
    const char *v = FCGX_GetParam(name, envp);
    return v ? v : "";
}

static void handle(FCGX_Request *req, unsigned long reqs)
{
    struct params p;
    const char *method = param_or_empty(req->envp, "REQUEST_METHOD");
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", req->envp);
    long len = cl ? atol(cl) : 0;
    char cwd[PATH_MAX];
    int i;

    parse_query(FCGX_GetParam("QUERY_STRING", req->envp), &p);
    if (p.exit_after)
        exit_after_request = 1;

    if (p.stderr_text) {
        fprintf(stderr, "%s\n", p.stderr_text);
        fflush(stderr);
    }
    if (p.child_ms > 0) {
        long parent = (long)getpid();
        pid_t c = fork();
        if (c == 0) {
            char msg[128];
            int fd, n;
            for (fd = 0; fd < 1024; fd++)
                if (fd != 2)
                    close(fd);
            sleep_ms(p.child_ms);
            n = snprintf(msg, sizeof(msg), "child of %ld: after %ld ms\n",
                         parent, p.child_ms);
            if (write(2, msg, (size_t)n) < 0) { /* nothing to do */ }
            _exit(0);
        }
    }
    if (p.partial) {
        fputs(p.partial, stderr);
        fflush(stderr);
    }
    if (p.spew > 0) {
        long errors, lines = spew_lines(&p, &errors);
        FCGX_FPrintF(req->out, "Content-Type: text/plain\r\nX-Worker-Pid: %ld\r\n\r\n"
                     "PID=%ld\nSPEW_LINES=%ld\nSPEW_ERRORS=%ld\n",
                     (long)getpid(), (long)getpid(), lines, errors);
        free(p.qs_copy);
        return;
    }
    if (p.bigwrite > 0) {
        size_t n = (size_t)p.bigwrite;
        char *big = malloc(n + 1);
        ssize_t rc = -1;
        int err = ENOMEM;
        if (big && n > 1) {
            int h = snprintf(big, n + 1, "bigwrite %ld ", (long)getpid());
            if (h > 0 && (size_t)h < n)
                memset(big + h, 'B', n - (size_t)h);
            big[n - 1] = '\n';
            errno = 0;
            rc = write(2, big, n);
            err = rc < 0 ? errno : 0;
        }
        free(big);
        FCGX_FPrintF(req->out, "Content-Type: text/plain\r\nX-Worker-Pid: %ld\r\n\r\n"
                     "PID=%ld\nBIGWRITE=%ld\nBIGWRITE_ERRNO=%d\n",
                     (long)getpid(), (long)getpid(), (long)rc, err);
        free(p.qs_copy);
        return;
    }
    if (p.sleep_ms > 0)
        sleep_ms(p.sleep_ms);

    if (len > 0 || !strcmp(method, "POST")) {
        /* Binary-safe echo: read exactly CONTENT_LENGTH bytes first. */
        char *body = NULL;
        long got = 0;
        if (len > 0) {
            body = malloc((size_t)len);
            if (!body) {
                FCGX_FPrintF(req->out, "Status: 500\r\nContent-Type: text/plain\r\n\r\nout of memory\n");
                free(p.qs_copy);
                return;
            }
            while (got < len) {
                int n = FCGX_GetStr(body + got, (int)((len - got) > 65536 ? 65536 : (len - got)), req->in);
                if (n <= 0)
                    break;
                got += n;
            }
        }
        if (p.status)
            FCGX_FPrintF(req->out, "Status: %d\r\nX-Fcgi-Test: yes\r\n", p.status);
        FCGX_FPrintF(req->out,
                     "Content-Type: application/octet-stream\r\n"
                     "Content-Length: %ld\r\n"
                     "X-Body-Length: %ld\r\n"
                     "X-Worker-Pid: %ld\r\n\r\n",
                     got, got, (long)getpid());
        if (got > 0)
            FCGX_PutStr(body, (int)got, req->out);
        free(body);
        free(p.qs_copy);
        return;
    }

    if (p.status)
        FCGX_FPrintF(req->out, "Status: %d\r\nX-Fcgi-Test: yes\r\n", p.status);
    FCGX_FPrintF(req->out, "Content-Type: %s\r\nX-Worker-Pid: %ld\r\n\r\n",
                 p.sse ? "text/event-stream" : "text/plain", (long)getpid());

    if (p.stream > 0) {
        for (i = 1; i <= p.stream; i++) {
            FCGX_FPrintF(req->out, "chunk %d\n", i);
            FCGX_FFlush(req->out);
            if (i < p.stream)
                sleep_ms(p.stream_ms);
        }
        FCGX_FPrintF(req->out, "PID=%ld\n", (long)getpid());
        free(p.qs_copy);
        return;
    }

    FCGX_FPrintF(req->out, "APP=hello-c\n");
    FCGX_FPrintF(req->out, "SCRIPT_NAME=%s\n", param_or_empty(req->envp, "SCRIPT_NAME"));
    FCGX_FPrintF(req->out, "PATH_INFO=%s\n", param_or_empty(req->envp, "PATH_INFO"));
    FCGX_FPrintF(req->out, "QUERY_STRING=%s\n", param_or_empty(req->envp, "QUERY_STRING"));
    FCGX_FPrintF(req->out, "REQUEST_METHOD=%s\n", method);
    FCGX_FPrintF(req->out, "CONTENT_LENGTH=%s\n", cl ? cl : "");
    FCGX_FPrintF(req->out, "HTTP_X_TEST=%s\n", param_or_empty(req->envp, "HTTP_X_TEST"));
    FCGX_FPrintF(req->out, "SCRIPT_FILENAME=%s\n", param_or_empty(req->envp, "SCRIPT_FILENAME"));
    FCGX_FPrintF(req->out, "PID=%ld\n", (long)getpid());
    FCGX_FPrintF(req->out, "PPID=%ld\n", (long)getppid());
    FCGX_FPrintF(req->out, "UID=%ld\n", (long)getuid());
    FCGX_FPrintF(req->out, "GID=%ld\n", (long)getgid());
    FCGX_FPrintF(req->out, "CWD=%s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "<error>");
    FCGX_FPrintF(req->out, "ARGV=%s\n", argv_line);
    FCGX_FPrintF(req->out, "REQS=%lu\n", reqs);
    for (i = 0; i < p.n_env; i++) {
        const char *v = getenv(p.env[i]);
        FCGX_FPrintF(req->out, "ENV_%s=%s\n", p.env[i], v ? v : "<unset>");
    }
    for (i = 0; i < p.n_param; i++) {
        const char *v = FCGX_GetParam(p.param[i], req->envp);
        FCGX_FPrintF(req->out, "PARAM_%s=%s\n", p.param[i], v ? v : "<unset>");
    }
    free(p.qs_copy);
}

int main(int argc, char **argv)
{
    FCGX_Request req;
    struct sigaction sa;
    const char *s;
    unsigned long reqs = 0;
    int i;

    argv_line[0] = '\0';
    for (i = 1; i < argc; i++) {
        if (i > 1)
            strncat(argv_line, " ", sizeof(argv_line) - strlen(argv_line) - 1);
        strncat(argv_line, argv[i], sizeof(argv_line) - strlen(argv_line) - 1);
    }

    s = getenv("CRASH_AT_START");
    if (s && !strcmp(s, "1")) {
        const char *f = getenv("CRASH_COUNT_FILE");
        if (f && *f) {
            int fd = open(f, O_WRONLY | O_APPEND | O_CREAT, 0666);
            if (fd >= 0) {
                char buf[32];
                int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
                if (write(fd, buf, (size_t)n) < 0) { /* ignore */ }
                close(fd);
            }
        }
        fprintf(stderr, "hello: CRASH_AT_START set, exiting with status 1\n");
        exit(1);
    }

    s = getenv("START_DELAY_MS");
    if (s && atol(s) > 0)
        sleep_ms(atol(s));

    if (FCGX_Init() != 0) {
        fprintf(stderr, "hello: FCGX_Init failed\n");
        return 2;
    }

    /* Our own handlers, installed after libfcgi's: no SA_RESTART, so a
     * SIGUSR1 interrupts accept(); with FCGI_FAIL_ACCEPT_ON_INTR libfcgi
     * then returns from FCGX_Accept_r instead of retrying. */
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_usr1;
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (FCGX_InitRequest(&req, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        fprintf(stderr, "hello: FCGX_InitRequest failed\n");
        return 2;
    }

    while (!graceful_exit) {
        int rc = FCGX_Accept_r(&req);
        if (rc < 0) {
            if (rc == -EINTR && !graceful_exit)
                continue;
            break;
        }
        reqs++;
        handle(&req, reqs);
        FCGX_Finish_r(&req);
        if (exit_after_request)
            break;
    }
    return 0;
}
