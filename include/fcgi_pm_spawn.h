/*
 * Worker processes: start one, tell whether it is accepting, retire it
 * without cutting a request, describe how it ended.
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
    const gid_t *groups;         /* issue 8: setgroups() list from the */
    int ngroups;                 /* record; -1: initgroups() as before */
    int listen_fd;               /* becomes fd 0 (FCGI_LISTENSOCK_FILENO) */
    int stderr_fd;               /* becomes fd 2 */
} fcgi_pm_spawn_spec;

/* Fork and exec one worker.  Returns its pid, or -1 with errno set. */
pid_t fcgi_pm_spawn_worker(const fcgi_pm_spawn_spec *spec);

/* 1 when PID (or one of its threads) is blocked in accept() on fd 0, 0 when
 * not, -1 when this kernel does not let us see (no /proc/PID/syscall). */
int fcgi_pm_spawn_is_accepting(pid_t pid);

/* Tell PID to finish and exit, but only while it is idle in accept(), so
 * that the signal can never interrupt a request: the worker is stopped,
 * looked at, sent SIGUSR1 if it is waiting in accept() and holds no
 * socket it did not hold before (a connection it just accepted), or if it
 * is single-threaded and in none of its system calls, and continued.
 * Returns 1 when the signal was sent, 0 when the worker is busy (try
 * again later), -1 when it is gone. */
int fcgi_pm_spawn_try_retire(pid_t pid);

/* "exited with status 1", "exited on signal 9 (SIGKILL)", ... */
const char *fcgi_pm_spawn_describe_exit(apr_pool_t *p, int status);

/* 1 while PID exists and is not a zombie (for workers we did not fork). */
int fcgi_pm_spawn_alive(pid_t pid);

#endif /* FCGI_PM_SPAWN_H */
