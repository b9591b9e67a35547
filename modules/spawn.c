/*
 * Worker processes: fork/exec with dropped privileges, readiness, retiring.
 */
#include "fcgi_pm_spawn.h"
#include "fcgi_pm_sock.h"
#include "fcgi_pm_proc.h"

#include "apr_strings.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* In the child between fork and exec: only async-signal-safe calls and
 * a message on stderr (the manager's log socket) when something fails. */
static void child_fail(const fcgi_pm_spawn_spec *spec, const char *what)
{
    char msg[512];
    int n = snprintf(msg, sizeof(msg), "cannot start %s: %s: %s\n",
                     spec->argv[0], what, strerror(errno));

    if (n > 0) {
        ssize_t ignored = write(2, msg, (size_t)n < sizeof(msg) ? (size_t)n
                                                                : sizeof(msg) - 1);
        (void)ignored;
    }
    _exit(127);
}

static void child_reset_signals(void)
{
    sigset_t none;
    int sig;

    /* The manager's handlers and mask must not leak into the program. */
    for (sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            signal(sig, SIG_DFL);
        }
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static void child_drop_privileges(const fcgi_pm_spawn_spec *spec)
{
    struct passwd *pw;

    if (geteuid() != 0) {
        return;                   /* not root: nothing to drop */
    }
    if (spec->uid == 0 || spec->gid == 0) {
        errno = EPERM;
        child_fail(spec, "workers never run as root");
    }
    if (spec->ngroups >= 0) {
        /* issue 8: exactly the groups the parent decided (never httpd's
         * Group unless the app's Group names it, never gid 0). */
        if (setgroups((size_t)spec->ngroups, spec->groups) != 0) {
            child_fail(spec, "setgroups");
        }
    }
    else {
        pw = getpwuid(spec->uid);
        if ((pw ? initgroups(pw->pw_name, spec->gid)
                : setgroups(1, &spec->gid)) != 0) {
            child_fail(spec, "setgroups");
        }
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

pid_t fcgi_pm_spawn_worker(const fcgi_pm_spawn_spec *spec)
{
    pid_t pid = fork();
    int devnull, keep[1];

    if (pid != 0) {
        return pid;               /* the manager, or -1 */
    }
    child_reset_signals();
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
    keep[0] = -1;
    fcgi_pm_sock_close_fds_except(keep, 0);
    fcgi_pm_sock_cloexec(0, 0);
    child_chdir(spec);
    child_drop_privileges(spec);
    execve(spec->argv[0], spec->argv, spec->envp);
    child_fail(spec, "exec");
    return -1;
}

#define SYSCALL_RUNNING    (-1)  /* on a CPU right now */
#define SYSCALL_UNREADABLE (-2)  /* no such kernel support, or not allowed */
#define SYSCALL_USER       (-3)  /* stopped in its own code, not in a call */

/* Syscall number and first argument a task is in, from
 * /proc/PID/task/TID/syscall, or one of the SYSCALL_* above. */
static long blocked_syscall(const char *path, long *arg0)
{
    char buf[256];
    long nr;

    static int supported = -1;   /* does this kernel have the file? */

    if (supported < 0) {
        struct stat st;
        /* stat, not access: in httpd's children (not dumpable) the file
         * exists but belongs to root. */
        supported = stat("/proc/self/syscall", &st) == 0;
    }
    if (!supported) {
        return SYSCALL_UNREADABLE;
    }
    if (fcgi_pm_proc_read(path, buf, sizeof(buf)) < 0) {
        /* ENOENT: the process just went away, nothing to tell. */
        return (errno == EACCES || errno == EPERM) ? SYSCALL_UNREADABLE
                                                   : SYSCALL_RUNNING;
    }
    if (!strncmp(buf, "running", 7)
        || sscanf(buf, "%ld %lx", &nr, (unsigned long *)arg0) != 2) {
        return SYSCALL_RUNNING;
    }
    return nr == -1 ? SYSCALL_USER : nr;
}

/* Of a blocked_syscall() result: 1 accept() on fd 0, 0 not, -1 cannot tell. */
static int is_accept_on_fd0(long nr, long arg0)
{
    if (nr == SYSCALL_UNREADABLE) {
        return -1;
    }
#ifdef SYS_accept
    if (nr == SYS_accept && arg0 == 0) {
        return 1;
    }
#endif
#ifdef SYS_accept4
    if (nr == SYS_accept4 && arg0 == 0) {
        return 1;
    }
#endif
    return 0;
}

/* 1: blocked in accept() on fd 0; 0: not; -1: cannot tell. */
static int in_accept_on_fd0(const char *path)
{
    long arg0 = -1, nr = blocked_syscall(path, &arg0);

    return is_accept_on_fd0(nr, arg0);
}

int fcgi_pm_spawn_is_accepting(pid_t pid)
{
    char path[64];
    DIR *d;
    struct dirent *de;
    int found = 0, unknown = 0;

    snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
    d = opendir(path);
    if (!d) {
        return 0;
    }
    while (found != 1 && (de = readdir(d)) != NULL) {
        char sc[320];
        if (de->d_name[0] < '0' || de->d_name[0] > '9') {
            continue;
        }
        snprintf(sc, sizeof(sc), "/proc/%ld/task/%s/syscall", (long)pid,
                 de->d_name);
        found = in_accept_on_fd0(sc);
        unknown |= found < 0;
    }
    closedir(d);
    return found == 1 ? 1 : unknown ? -1 : 0;
}

/* Process state letter from /proc/PID/stat, 0 when it is gone. */
static char proc_state(pid_t pid)
{
    char buf[512];
    const char *f = fcgi_pm_proc_stat(pid, buf, sizeof(buf));

    return f ? f[0] : 0;
}

int fcgi_pm_spawn_alive(pid_t pid)
{
    char st;

    if (kill(pid, 0) != 0 && errno == ESRCH) {
        return 0;
    }
    st = proc_state(pid);
    return st != 0 && st != 'Z' && st != 'X';
}

/* The inodes of PID's open sockets, sorted; *N of them.  NULL when
 * /proc/PID/fd cannot be read.  The caller frees the array. */
static unsigned long *socket_inodes(pid_t pid, size_t *n)
{
    char dir[64], link[340], target[64];
    unsigned long *inodes = NULL, ino;
    size_t cap = 0;
    DIR *d;
    struct dirent *de;

    snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
    *n = 0;
    if (!(d = opendir(dir))) {
        return NULL;
    }
    while ((de = readdir(d)) != NULL) {
        ssize_t len;
        if (de->d_name[0] < '0' || de->d_name[0] > '9') {
            continue;
        }
        snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
        len = readlink(link, target, sizeof(target) - 1);
        if (len <= 0) {
            continue;
        }
        target[len] = '\0';
        if (sscanf(target, "socket:[%lu]", &ino) != 1) {
            continue;
        }
        if (*n == cap) {
            unsigned long *bigger = realloc(inodes, (cap ? cap * 2 : 16)
                                                    * sizeof(*inodes));
            if (!bigger) {
                break;
            }
            inodes = bigger;
            cap = cap ? cap * 2 : 16;
        }
        inodes[(*n)++] = ino;
    }
    closedir(d);
    return inodes ? inodes : calloc(1, sizeof(*inodes));
}

/* 1 when PID has a single thread: then where it stands is where the
 * signal lands. */
static int single_task(pid_t pid)
{
    char buf[2048];
    const char *f = fcgi_pm_proc_stat(pid, buf, sizeof(buf));

    f = f ? fcgi_pm_proc_stat_field(f, 20) : NULL;   /* num_threads */
    return f && atol(f) == 1;
}

/* Every inode of B is in A (A of length NA). */
static int inodes_within(const unsigned long *a, size_t na,
                         const unsigned long *b, size_t nb)
{
    size_t i, j;

    for (j = 0; j < nb; j++) {
        for (i = 0; i < na && a[i] != b[j]; i++) {
        }
        if (i == na) {
            return 0;
        }
    }
    return 1;
}

int fcgi_pm_spawn_try_retire(pid_t pid)
{
    struct timespec pause = { 0, 200 * 1000 };   /* 0.2 ms */
    char path[64];
    unsigned long *before, *after = NULL;
    size_t nbefore, nafter = 0;
    int i, idle = 0, stopped = 0;

    /* The sockets it holds while it waits in accept(): a connection it
     * accepted after this shows up as a new socket below. */
    before = socket_inodes(pid, &nbefore);
    if (!before) {
        return -1;
    }
    if (kill(pid, SIGSTOP) != 0) {
        free(before);
        return -1;
    }
    /* SIGSTOP takes effect asynchronously: wait (briefly) until the
     * worker really stands still before looking at what it does. */
    for (i = 0; i < 250; i++) {
        char st = proc_state(pid);
        if (st == 0 || st == 'Z') {
            free(before);
            return -1;
        }
        if (st == 'T' || st == 't') {
            stopped = 1;
            break;
        }
        nanosleep(&pause, NULL);
    }
    /* Safe moments for SIGUSR1, whose handler (no SA_RESTART) would break
     * a read or write in progress:
     *  - waiting in accept() on fd 0.  A worker stopped on its way out of
     *    a successful accept() shows accept() too: only the new socket it
     *    holds tells it apart;
     *  - in its own code, in no system call at all: the handler runs at
     *    once on SIGCONT and the request goes on undisturbed (libfcgi,
     *    php-cgi and FCGI.pm only look at the flag before their next
     *    accept()).  Under a steady load a worker is rarely seen waiting,
     *    so without this it would only leave by SIGKILL. */
    snprintf(path, sizeof(path), "/proc/%ld/syscall", (long)pid);
    if (stopped) {
        long arg0 = -1, nr = blocked_syscall(path, &arg0);
        if (nr == SYSCALL_USER) {
            idle = single_task(pid);
        }
        else if (is_accept_on_fd0(nr, arg0) != 0) {
            /* (-1: the kernel does not tell; the socket check is all.) */
            after = socket_inodes(pid, &nafter);
            idle = after && inodes_within(before, nbefore, after, nafter);
        }
    }
    if (idle) {
        /* Pending while stopped; on SIGCONT its handler runs and accept()
         * returns EINTR: the worker leaves its loop without a request. */
        kill(pid, SIGUSR1);
    }
    kill(pid, SIGCONT);
    free(before);
    free(after);
    return idle ? 1 : 0;
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
