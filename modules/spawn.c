/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Worker processes: fork/exec with dropped privileges, signals.
 */
#include "fcgi_pm_spawn.h"
#include "fcgi_pm_sock.h"
#include "fcgi_pm_proto.h"

#include "http_log.h"
#include "apr_strings.h"

#include <sys/resource.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------ in the child, pre-exec
 * Between fork and exec only async-signal-safe calls: no stdio, no
 * strerror, no user database (the groups come looked up). */

static size_t put_str(char *buf, size_t at, size_t size, const char *s)
{
    while (*s && at + 1 < size) {
        buf[at++] = *s++;
    }
    return at;
}

static size_t put_num(char *buf, size_t at, size_t size, long v)
{
    char digits[24];
    int n = 0;

    if (v < 0) {
        at = put_str(buf, at, size, "-");
        v = -v;
    }
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < (int)sizeof(digits));
    while (n > 0 && at + 1 < size) {
        buf[at++] = digits[--n];
    }
    return at;
}

APLOG_USE_MODULE(fcgi_pm);

#define MANAGER_NOFILE 65536

static struct rlimit worker_nofile;
static int worker_nofile_set;

void fcgi_pm_spawn_raise_fd_limit(server_rec *s)
{
    rlim_t got;

    if (getrlimit(RLIMIT_NOFILE, &worker_nofile) != 0) {
        return;
    }
    worker_nofile_set = 1;
    got = fcgi_pm_sock_raise_fd_limit(MANAGER_NOFILE);
    if (got < MANAGER_NOFILE) {
        /* Not allowed above the hard limit here (no CAP_SYS_RESOURCE):
         * info, not a warning (LogLevel warn stays quiet). */
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     "manager: open files limit %lu (wanted %d)",
                     (unsigned long)got, MANAGER_NOFILE);
    }
}

static void child_fail(const fcgi_pm_spawn_spec *spec, const char *what)
{
    char msg[512];
    int err = errno;
    size_t n = 0;
    ssize_t ignored;

    n = put_str(msg, n, sizeof(msg), "cannot start ");
    n = put_str(msg, n, sizeof(msg), spec->argv[0]);
    n = put_str(msg, n, sizeof(msg), ": ");
    n = put_str(msg, n, sizeof(msg), what);
    n = put_str(msg, n, sizeof(msg), ": errno ");
    n = put_num(msg, n, sizeof(msg), err);
    n = put_str(msg, n, sizeof(msg), "\n");
    ignored = write(2, msg, n);
    (void)ignored;
    _exit(127);
}

static void child_reset_signals(void)
{
    struct sigaction sa;
    sigset_t none;
    int sig;

    /* Still blocked: the manager's handlers go before anything can be
     * delivered, then the program starts with an empty mask. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            (void)sigaction(sig, &sa, NULL);
        }
    }
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static void child_drop_privileges(const fcgi_pm_spawn_spec *spec)
{
    int i;

    if (geteuid() != 0) {
        return;                   /* not root: nothing to drop */
    }
    if (spec->uid == 0 || spec->gid == 0) {
        errno = EPERM;
        child_fail(spec, "workers never run as root");
    }
    for (i = 0; i < spec->ngroups; i++) {
        if (spec->groups[i] == 0) {
            errno = EPERM;
            child_fail(spec, "workers never get group 0");
        }
    }
    if (setgroups(spec->ngroups > 0 ? (size_t)spec->ngroups : 1,
                  spec->ngroups > 0 ? spec->groups : &spec->gid) != 0) {
        child_fail(spec, "setgroups");
    }
    if (setgid(spec->gid) != 0) {
        child_fail(spec, "setgid");
    }
    if (setuid(spec->uid) != 0) {
        child_fail(spec, "setuid");
    }
    if (setuid(0) == 0) {         /* must be impossible now */
        errno = EPERM;
        child_fail(spec, "could regain root");
    }
}

/* After the privileges are dropped: the app's paths are touched as its
 * user only. */
static void child_chdir(const fcgi_pm_spawn_spec *spec)
{
    char dir[4096];
    const char *slash;

    if (spec->workdir) {
        if (chdir(spec->workdir) != 0) {
            child_fail(spec, "chdir to WorkingDirectory");
        }
        return;
    }
    slash = strrchr(spec->argv[0], '/');
    if (!slash || (size_t)(slash - spec->argv[0]) >= sizeof(dir)) {
        return;
    }
    memcpy(dir, spec->argv[0], slash - spec->argv[0]);
    dir[slash - spec->argv[0]] = '\0';
    if (chdir(dir[0] ? dir : "/") != 0) {
        child_fail(spec, "chdir to the directory of Command");
    }
}

/* Close every descriptor from 3 up when close_range() is missing (Linux
 * before 5.9), with system calls only: the entries of /proc/self/fd read
 * by getdents64 into the stack (opendir() would allocate), else every
 * number below MAX_FD, which the manager read before the fork. */
static void child_close_from_3(long max_fd)
{
    union {
        struct dirent64 align;
        char buf[4096];
    } u;
    long n, at, fd;
    int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (dir < 0) {
        for (fd = 3; fd < max_fd; fd++) {
            (void)close((int)fd);
        }
        return;
    }
    while ((n = syscall(SYS_getdents64, dir, u.buf, sizeof(u.buf))) > 0) {
        for (at = 0; at < n; at += ((struct dirent64 *)(u.buf + at))->d_reclen) {
            const char *name = ((struct dirent64 *)(u.buf + at))->d_name;
            if (((struct dirent64 *)(u.buf + at))->d_reclen == 0) {
                break;
            }
            if (*name < '0' || *name > '9') {
                continue;
            }
            for (fd = 0; *name >= '0' && *name <= '9'; name++) {
                fd = fd * 10 + (*name - '0');
            }
            if (fd >= 3 && fd != dir) {
                (void)close((int)fd);
            }
        }
    }
    (void)close(dir);
}

/* mod_fcgid's classes (fcgi_pm_scripts.h): argv[0] came from a request,
 * so it is checked here, as the worker's user and with system calls only,
 * the way suexec checks what it runs: a regular executable file; with
 * FCGI_PM_EXEC_SUEXEC also no symlink, not set-id, owned by the worker's
 * user and group and writable by nobody else, in a directory of theirs
 * that nobody else may write, under the DocumentRoot (the directory is
 * the working one by now: getcwd() gives its real path). */
static void child_check_program(const fcgi_pm_spawn_spec *spec)
{
    const char *prog = spec->argv[0];
    const char *base = strrchr(prog, '/');
    struct stat st, dir;
    char cwd[4096];
    size_t n;

    if (spec->exec_check == FCGI_PM_EXEC_NONE) {
        return;
    }
    if (stat(prog, &st) != 0 || !S_ISREG(st.st_mode)
        || access(prog, X_OK) != 0) {
        errno = errno ? errno : EACCES;
        child_fail(spec, "the program is not an executable regular file");
    }
    if (spec->exec_check != FCGI_PM_EXEC_SUEXEC) {
        return;
    }
    errno = EPERM;
    if (lstat(prog, &st) != 0 || !S_ISREG(st.st_mode)
        || (st.st_mode & (S_ISUID | S_ISGID | S_IWGRP | S_IWOTH))
        || st.st_uid != spec->uid || st.st_gid != spec->gid) {
        child_fail(spec, "suexec rules: the program must be a file of the "
                   "worker's user and group, writable by nobody else");
    }
    /* child_chdir() put us in the program's directory. */
    if (!base || stat(".", &dir) != 0 || (dir.st_mode & (S_IWGRP | S_IWOTH))
        || dir.st_uid != spec->uid || dir.st_gid != spec->gid) {
        errno = EPERM;
        child_fail(spec, "suexec rules: the program's directory must be the "
                   "worker's user's and group's, writable by nobody else");
    }
    n = spec->docroot ? strlen(spec->docroot) : 0;
    if (!getcwd(cwd, sizeof(cwd)) || n < 2 || strncmp(cwd, spec->docroot, n)
        || (cwd[n] != '/' && cwd[n] != '\0')) {
        errno = EPERM;
        child_fail(spec, "suexec rules: the program is outside DocumentRoot");
    }
}

static void child_exec(const fcgi_pm_spawn_spec *spec, long max_fd)
{
    int devnull;

    if (setpgid(0, 0) != 0) {
        child_fail(spec, "setpgid");
    }
    if (dup2(spec->stderr_fd, 2) < 0) {
        _exit(127);
    }
    if (dup2(spec->listen_fd, 0) < 0) {
        child_fail(spec, "dup2 of the listen socket");
    }
    devnull = open("/dev/null", O_WRONLY);
    if (devnull < 0 || dup2(devnull, 1) < 0) {
        child_fail(spec, "/dev/null");
    }
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, 0) != 0)
#endif
    {
        child_close_from_3(max_fd);
    }
    fcgi_pm_sock_cloexec(0, 0);
    if (worker_nofile_set) {
        (void)setrlimit(RLIMIT_NOFILE, &worker_nofile);  /* a raw syscall */
    }
    child_drop_privileges(spec);
    child_chdir(spec);
    child_check_program(spec);
    child_reset_signals();
    execve(spec->argv[0], spec->argv, spec->envp);
    child_fail(spec, "exec");
}

/* ------------------------------------------------------------ the manager */

int fcgi_pm_spawn_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    if (pid > 1) {
        return (int)syscall(SYS_pidfd_open, pid, 0);
    }
#endif
    return -1;
}

pid_t fcgi_pm_spawn_worker(const fcgi_pm_spawn_spec *spec, int *pidfd)
{
    sigset_t all, saved;
    pid_t pid;
    int err;
    long max_fd = sysconf(_SC_OPEN_MAX);  /* not async-signal-safe: here */

    *pidfd = -1;
    if (max_fd <= 0) {
        max_fd = 1024;
    }
    sigfillset(&all);
    if (sigprocmask(SIG_BLOCK, &all, &saved) != 0) {
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        child_exec(spec, max_fd); /* never returns */
    }
    err = errno;
    (void)sigprocmask(SIG_SETMASK, &saved, NULL);
    if (pid > 0) {
        /* Our child cannot be reaped before we do: the pid is its own. */
        *pidfd = fcgi_pm_spawn_pidfd(pid);
        if (*pidfd >= 0) {
            fcgi_pm_sock_cloexec(*pidfd, 1);
        }
    }
    errno = err;
    return pid;
}

int fcgi_pm_spawn_signal(pid_t pid, int pidfd, int sig)
{
    if (pid <= 1) {
        errno = EINVAL;           /* never a group, never init */
        return -1;
    }
#ifdef SYS_pidfd_send_signal
    if (pidfd >= 0) {
        return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
    }
#endif
    return kill(pid, sig);
}

int fcgi_pm_spawn_pidfd_exited(int pidfd)
{
    struct pollfd pfd;

    if (pidfd < 0) {
        return -1;
    }
    pfd.fd = pidfd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR));
}

void fcgi_pm_spawn_reset_listen_flags(int listen_fd)
{
    int flags = fcntl(listen_fd, F_GETFL);

    if (flags >= 0 && (flags & O_NONBLOCK)) {
        (void)fcntl(listen_fd, F_SETFL, flags & ~O_NONBLOCK);
    }
}

const char *fcgi_pm_spawn_describe_exit(apr_pool_t *p, int status)
{
    if (WIFEXITED(status)) {
        return apr_psprintf(p, "exited with status %d", WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        const char *name = sigabbrev_np(sig);
        return apr_psprintf(p, "exited on signal %d (SIG%s)%s", sig,
                            name ? name : "?",
                            WCOREDUMP(status) ? ", core dumped" : "");
    }
    return apr_psprintf(p, "ended with wait status %d", status);
}

int fcgi_pm_spawn_signal_number(const char *name)
{
    static const struct { const char *name; int sig; } known[] = {
        { "USR1", SIGUSR1 }, { "TERM", SIGTERM }, { "QUIT", SIGQUIT },
        { "INT", SIGINT }, { "HUP", SIGHUP }
    };
    size_t i;

    if (!strncasecmp(name, "SIG", 3)) {
        name += 3;
    }
    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (!strcasecmp(name, known[i].name)) {
            return known[i].sig;
        }
    }
    return 0;
}
