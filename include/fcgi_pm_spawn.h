/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker processes: start one, signal one safely, describe how it ended.
 *
 * A worker is started in its own process group (its pgid is its pid), so
 * that the processes it forks (FCGI::ProcManager, php-cgi with
 * PHP_FCGI_CHILDREN, fcgiwrap -c) stay recognisable as its tree, even
 * after it dies and the manager (a child subreaper) inherits them.
 */
#ifndef FCGI_PM_SPAWN_H
#define FCGI_PM_SPAWN_H

#include "fcgi_pm.h"

typedef struct {
    const char *app;             /* name, for messages */
    char *const *argv;           /* NULL-terminated; argv[0] absolute */
    char *const *envp;           /* NULL-terminated */
    const char *workdir;         /* NULL: the directory of argv[0] */
    uid_t uid;
    gid_t gid;
    const gid_t *groups;         /* supplementary groups, looked up by the */
    int ngroups;                 /* parent: the child only calls setgroups() */
    int listen_fd;               /* becomes fd 0 (FCGI_LISTENSOCK_FILENO) */
    int stderr_fd;               /* becomes fd 2 */
    int exec_check;              /* FCGI_PM_EXEC_* (fcgi_pm_proto.h): what
                                  * the child checks of argv[0] once it
                                  * runs as the worker's user */
    const char *docroot;         /* FCGI_PM_EXEC_SUEXEC: where it must be */
} fcgi_pm_spawn_spec;

/* Fork and exec one worker.  Returns its pid, or -1 with errno set; with
 * *PIDFD a descriptor that names this very process (or -1 where the
 * kernel has none).  Signals are blocked across fork(), so a signal
 * meant for the manager can never run the manager's handler in the
 * child. */
pid_t fcgi_pm_spawn_worker(const fcgi_pm_spawn_spec *spec, int *pidfd);

/* Once, in the manager: the manager may hold many descriptors (every
 * app's socket, a pidfd per worker process): its own limit goes up, and
 * the limit it had is what its workers get back. */
void fcgi_pm_spawn_raise_fd_limit(server_rec *s);

/* A descriptor for PID (pidfd_open), or -1. */
int fcgi_pm_spawn_pidfd(pid_t pid);

/* Send SIG through PIDFD when there is one (it cannot reach a reused
 * pid), else to PID.  PID must be > 1.  0, or -1 with errno. */
int fcgi_pm_spawn_signal(pid_t pid, int pidfd, int sig);

/* 1 when the process behind PIDFD has exited (for processes that are not
 * our children); 0 while it runs; -1 when there is no pidfd. */
int fcgi_pm_spawn_pidfd_exited(int pidfd);

/* Clear O_NONBLOCK (and the like) on the listen socket before a spawn:
 * its file status flags are shared by every process holding it, and a
 * worker that made it non-blocking must not break the next one. */
void fcgi_pm_spawn_reset_listen_flags(int listen_fd);

/* "exited with status 1", "exited on signal 9 (SIGKILL)", ... */
const char *fcgi_pm_spawn_describe_exit(apr_pool_t *p, int status);

/* Signal number of "USR1", "TERM", "QUIT", "INT", "HUP"; 0 when unknown. */
int fcgi_pm_spawn_signal_number(const char *name);

#endif /* FCGI_PM_SPAWN_H */
