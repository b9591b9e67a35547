/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker log: a pipe per worker, read in bounded slices, logged line by
 * line under a per-app rate limit (see fcgi_pm_wlog.h).
 */
#include "fcgi_pm_wlog.h"

#include "http_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

APLOG_USE_MODULE(fcgi_pm);

/* httpd cuts an error log line at MAX_STRING_LEN (8 KB) with its prefix,
 * after escaping: a line stays below this once escaped. */
#define ESCAPED_MAX 7168

/* ------------------------------------------------------------ rate limit */

static void refill(fcgi_pm_wlog_limit *lim, apr_time_t now)
{
    apr_int64_t add;

    if (!lim->refilled_at || now < lim->refilled_at) {
        /* First use, or the clock went back: start afresh. */
        if (!lim->refilled_at) {
            lim->tokens = FCGI_PM_WLOG_BURST;
        }
        lim->refilled_at = now;
        return;
    }
    add = (now - lim->refilled_at) * FCGI_PM_WLOG_RATE / APR_USEC_PER_SEC;
    if (add <= 0) {
        return;
    }
    if (add >= FCGI_PM_WLOG_BURST - (apr_int64_t)lim->tokens) {
        lim->tokens = FCGI_PM_WLOG_BURST;
        lim->refilled_at = now;
    }
    else {
        /* Keep the fraction of a line not granted yet. */
        lim->tokens += (unsigned)add;
        lim->refilled_at += add * APR_USEC_PER_SEC / FCGI_PM_WLOG_RATE;
    }
}

static void report(fcgi_pm_wlog_limit *lim, server_rec *s, const char *app)
{
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                 "app %s: %lu lines of worker output suppressed (rate limit)",
                 app, lim->suppressed);
    lim->suppressed = 0;
}

int fcgi_pm_wlog_tick(fcgi_pm_wlog_limit *lim, server_rec *s,
                      const char *app, apr_time_t now)
{
    if (!lim->suppressed) {
        return -1;
    }
    if (now >= lim->report_at) {
        report(lim, s, app);
        return -1;
    }
    return (int)apr_time_as_msec(lim->report_at - now) + 1;
}

void fcgi_pm_wlog_flush(fcgi_pm_wlog_limit *lim, server_rec *s,
                        const char *app)
{
    if (lim->suppressed) {
        report(lim, s, app);
    }
}

/* ----------------------------------------------------------------- lines */

/* How many of the LEN bytes at IN to log so that httpd's escaping of the
 * error log (control characters and bytes over 0x7e as \xHH, backslash
 * doubled) stays below ESCAPED_MAX; NUL bytes, which would end the line
 * early, become '?'. */
static apr_size_t fit_escaped(char *in, apr_size_t len)
{
    apr_size_t i, out = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        out += (c < 0x20 || c > 0x7e) ? 4 : c == '\\' ? 2 : 1;
        if (out > ESCAPED_MAX) {
            return i;
        }
        if (!c) {
            in[i] = '?';
        }
    }
    return len;
}

/* Log the line in W's buffer (or count it as suppressed) and empty it. */
static void emit(fcgi_pm_wlog *w, fcgi_pm_wlog_limit *lim, server_rec *s,
                 const char *app, pid_t pid, apr_time_t now, int cut)
{
    apr_size_t len = w->len, fit;

    w->len = 0;
    if (len && w->buf[len - 1] == '\r' && !cut) {
        len--;
    }
    if (!len) {
        return;                   /* empty lines are not worth a log line */
    }
    if (lim->suppressed && now >= lim->report_at) {
        report(lim, s, app);
    }
    refill(lim, now);
    if (!lim->tokens) {
        if (!lim->suppressed) {
            lim->report_at = now
                + apr_time_from_msec(FCGI_PM_WLOG_REPORT_MS);
        }
        lim->suppressed++;
        lim->lines_suppressed++;
        return;
    }
    lim->tokens--;
    lim->lines_logged++;
    fit = fit_escaped(w->buf, len);
    if (fit < len) {
        cut = 1;
    }
    if (cut) {
        lim->lines_truncated++;
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "app %s: worker %ld: %.*s%s",
                 app, (long)pid, (int)fit, w->buf,
                 cut ? FCGI_PM_WLOG_TRUNCATED : "");
}

/* Split N bytes at P into lines. */
static void consume(fcgi_pm_wlog *w, fcgi_pm_wlog_limit *lim, server_rec *s,
                    const char *app, pid_t pid, apr_time_t now,
                    const char *p, apr_size_t n)
{
    const char *end = p + n;

    while (p < end) {
        const char *nl = memchr(p, '\n', end - p);
        const char *stop = nl ? nl : end;
        apr_size_t seg = stop - p, room = FCGI_PM_WLOG_LINE_MAX - w->len;

        if (w->truncating) {
            /* The rest of a line logged cut already. */
            if (nl) {
                w->truncating = 0;
            }
        }
        else if (seg > room) {
            memcpy(w->buf + w->len, p, room);
            w->len += room;
            emit(w, lim, s, app, pid, now, 1);
            w->truncating = nl == NULL;
        }
        else {
            memcpy(w->buf + w->len, p, seg);
            w->len += seg;
            if (nl) {
                emit(w, lim, s, app, pid, now, 0);
            }
        }
        p = nl ? nl + 1 : end;
    }
}

/* ---------------------------------------------------------------- stream */

apr_status_t fcgi_pm_wlog_open(fcgi_pm_wlog *w, int *child_fd)
{
    int fds[2], flags, err;

    memset(w, 0, sizeof(*w));
    w->fd = -1;
    *child_fd = -1;
    w->buf = malloc(FCGI_PM_WLOG_LINE_MAX + 1);
    if (!w->buf) {
        return APR_ENOMEM;
    }
    /* Only our end is non-blocking: the worker's writes wait for room
     * (O_NONBLOCK belongs to the open file, which dup2 shares). */
    if (pipe2(fds, O_CLOEXEC) != 0) {
        err = errno;
        free(w->buf);
        w->buf = NULL;
        return err;
    }
    flags = fcntl(fds[0], F_GETFL);
    if (flags < 0 || fcntl(fds[0], F_SETFL, flags | O_NONBLOCK) != 0) {
        err = errno;
        close(fds[0]);
        close(fds[1]);
        free(w->buf);
        w->buf = NULL;
        return err;
    }
    w->fd = fds[0];
    *child_fd = fds[1];
    return APR_SUCCESS;
}

static void finish(fcgi_pm_wlog *w, fcgi_pm_wlog_limit *lim, server_rec *s,
                   const char *app, pid_t pid, apr_time_t now)
{
    if (w->len && !w->truncating) {
        emit(w, lim, s, app, pid, now, 0);   /* a last line without \n */
    }
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    free(w->buf);
    w->buf = NULL;
    w->len = 0;
    w->truncating = 0;
}

int fcgi_pm_wlog_drain(fcgi_pm_wlog *w, fcgi_pm_wlog_limit *lim,
                       server_rec *s, const char *app, pid_t pid,
                       apr_time_t now)
{
    static char chunk[16384];
    apr_size_t total = 0;

    if (w->fd < 0) {
        return 1;
    }
    while (total < FCGI_PM_WLOG_READ_MAX) {
        apr_size_t want = FCGI_PM_WLOG_READ_MAX - total;
        ssize_t n;

        if (want > sizeof(chunk)) {
            want = sizeof(chunk);
        }
        n = read(w->fd, chunk, want);
        if (n > 0) {
            total += (apr_size_t)n;
            w->bytes += (unsigned long)n;
            consume(w, lim, s, app, pid, now, chunk, (apr_size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        if (n < 0) {
            ap_log_error(APLOG_MARK, APLOG_ERR, errno, s,
                         "app %s: worker %ld: cannot read its stderr; "
                         "closing it", app, (long)pid);
        }
        finish(w, lim, s, app, pid, now);
        return 1;
    }
    return 0;                     /* more may be there: next time */
}

void fcgi_pm_wlog_close(fcgi_pm_wlog *w, fcgi_pm_wlog_limit *lim,
                        server_rec *s, const char *app, pid_t pid,
                        apr_time_t now)
{
    if (w->fd >= 0 && fcgi_pm_wlog_drain(w, lim, s, app, pid, now) == 1) {
        return;
    }
    finish(w, lim, s, app, pid, now);
}
