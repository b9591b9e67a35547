/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker log: what a worker writes to its stderr, into httpd's error log.
 *
 * Each worker gets a pipe of its own: the write end becomes its fd 2, the
 * manager reads the other end (non-blocking) and logs every line as
 * "app NAME: worker PID: LINE".  A pipe never refuses a long write (the
 * writer waits while the pipe is full), and the manager always reads what
 * is there, so a worker never waits for long.
 *
 * Bounds, so that one worker cannot flood the log or starve the manager:
 *  - a drain reads at most FCGI_PM_WLOG_READ_MAX bytes per call: the
 *    manager's loop reads every worker in turn, a flood only gets its share;
 *  - a line longer than FCGI_PM_WLOG_LINE_MAX is logged cut, marked
 *    " [line truncated]", and the rest of it up to the newline is dropped;
 *  - per app at most FCGI_PM_WLOG_RATE lines a second are logged (bursts of
 *    FCGI_PM_WLOG_BURST); lines over that are read and dropped, and
 *    counted: "app NAME: N lines of worker output suppressed (rate limit)",
 *    at most once per FCGI_PM_WLOG_REPORT_MS.
 *
 * Everything here is plain data owned by the caller (no pools, no
 * callbacks); the line buffer is malloc()ed at open and freed at close.
 * httpd escapes control characters in its error log (\xHH); a line whose
 * escaped form would pass httpd's 8 KB limit is cut (and marked) earlier.
 */
#ifndef FCGI_PM_WLOG_H
#define FCGI_PM_WLOG_H

#include "fcgi_pm.h"
#include "apr_time.h"

#include <sys/types.h>

#define FCGI_PM_WLOG_LINE_MAX   4096          /* bytes of one logged line */
#define FCGI_PM_WLOG_READ_MAX   (64 * 1024)   /* bytes read per drain call */
#define FCGI_PM_WLOG_RATE       100           /* lines per second per app */
#define FCGI_PM_WLOG_BURST      200
#define FCGI_PM_WLOG_REPORT_MS  1000          /* "suppressed" at most this often */
#define FCGI_PM_WLOG_TRUNCATED  " [line truncated]"

/* Per app; zero-initialised is ready to use (a full burst). */
typedef struct {
    apr_time_t refilled_at;       /* token bucket: last refill (0: never) */
    unsigned tokens;              /* lines that may be logged now */
    unsigned long suppressed;     /* dropped since the last report */
    apr_time_t report_at;         /* when to report them */
    /* totals, for whoever wants to show them */
    unsigned long lines_logged;
    unsigned long lines_suppressed;
    unsigned long lines_truncated;
} fcgi_pm_wlog_limit;

/* Per worker; fd -1 when closed (set it so before any call when the
 * stream was never opened). */
typedef struct {
    int fd;                       /* read end, O_NONBLOCK | O_CLOEXEC */
    char *buf;                    /* FCGI_PM_WLOG_LINE_MAX + 1 bytes */
    apr_size_t len;               /* bytes of the current line in buf */
    int truncating;               /* dropping the rest of a long line */
    unsigned long bytes;          /* read in all */
} fcgi_pm_wlog;

/* A new stream for one worker.  *CHILD_FD is the write end (O_CLOEXEC):
 * the child dup2()s it to fd 2; the manager closes it right after fork()
 * (else it never sees the end of the stream). */
apr_status_t fcgi_pm_wlog_open(fcgi_pm_wlog *w, int *child_fd);

/* Read what is there (at most FCGI_PM_WLOG_READ_MAX bytes) and log each
 * complete line under APP's limit LIM.  Returns 0 while the stream is open,
 * 1 at its end (every writer closed it: the worker and any descendant
 * that inherited its stderr); then the last partial line has been logged
 * and W is closed. */
int fcgi_pm_wlog_drain(fcgi_pm_wlog *w, fcgi_pm_wlog_limit *lim,
                       server_rec *s, const char *app, pid_t pid,
                       apr_time_t now);

/* The worker is gone: read what is left (one bounded drain), log the last
 * partial line, close.  A descendant still writing to it gets EPIPE from
 * then on.  Harmless on a closed W. */
void fcgi_pm_wlog_close(fcgi_pm_wlog *w, fcgi_pm_wlog_limit *lim,
                        server_rec *s, const char *app, pid_t pid,
                        apr_time_t now);

/* Report suppressed lines when due.  Call it from the manager's tick for
 * every app.  Returns the milliseconds until it needs the next call, -1
 * when nothing is pending. */
int fcgi_pm_wlog_tick(fcgi_pm_wlog_limit *lim, server_rec *s,
                      const char *app, apr_time_t now);

/* Report suppressed lines now, due or not (an app removed, the manager
 * exiting). */
void fcgi_pm_wlog_flush(fcgi_pm_wlog_limit *lim, server_rec *s,
                        const char *app);

#endif /* FCGI_PM_WLOG_H */
