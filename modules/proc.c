/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Readers of /proc (see fcgi_pm_proc.h).
 */
#include "fcgi_pm_proc.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOOK_MAX_FDS    4096   /* descriptors of one process looked at */
#define LOOK_MAX_TASKS  1024   /* threads of one process looked at */

int fcgi_pm_proc_read(const char *path, char *buf, size_t size)
{
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || size == 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    return (int)n;
}

/* Field 3 of a /proc stat line in BUF, past the command name (field 2)
 * that may hold spaces and parentheses; NULL when it is not one. */
static const char *stat_state(const char *buf)
{
    const char *paren = strrchr(buf, ')');

    return (paren && paren[1] == ' ' && paren[2]) ? paren + 2 : NULL;
}

const char *fcgi_pm_proc_stat(pid_t pid, char *buf, size_t size)
{
    char path[64];

    if (pid > 0) {
        snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    }
    else {
        snprintf(path, sizeof(path), "/proc/self/stat");
    }
    if (fcgi_pm_proc_read(path, buf, size) < 0) {
        return NULL;
    }
    return stat_state(buf);
}

const char *fcgi_pm_proc_stat_field(const char *fields, int n)
{
    const char *p = fields;

    for (; p && n > 3; n--) {
        p = strchr(p, ' ');
        if (p) {
            p++;
        }
    }
    return p;
}

int fcgi_pm_proc_info_get(pid_t pid, fcgi_pm_proc_info *out)
{
    char buf[1024], path[64];
    const char *f;
    long ppid, pgid, sid, threads;
    unsigned long long start;
    unsigned long uid;

    if (pid <= 0) {
        return -1;
    }
    f = fcgi_pm_proc_stat(pid, buf, sizeof(buf));
    if (!f || sscanf(f, "%c %ld %ld %ld", &out->state, &ppid, &pgid, &sid) != 4) {
        return -1;
    }
    f = fcgi_pm_proc_stat_field(f, 20);
    if (!f || sscanf(f, "%ld", &threads) != 1) {
        return -1;
    }
    f = fcgi_pm_proc_stat_field(f, 22 - 20 + 3);
    if (!f || sscanf(f, "%llu", &start) != 1) {
        return -1;
    }
    /* Not the owner of /proc/PID: that is root for a process that is not
     * dumpable, whatever it runs as. */
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    if (fcgi_pm_proc_read(path, buf, sizeof(buf)) < 0
        || !(f = strstr(buf, "\nUid:")) || sscanf(f + 5, "%lu", &uid) != 1) {
        return -1;
    }
    out->ppid = (pid_t)ppid;
    out->pgid = (pid_t)pgid;
    out->sid = (pid_t)sid;
    out->threads = (int)threads;
    out->start_ticks = start;
    out->uid = (uid_t)uid;
    return 0;
}

/* Every thread of PID stopped (T, t) or dead (Z, X): /proc/PID/stat shows
 * only the main thread, and a group stop reaches the threads one by one,
 * so a thread may still finish an accept() after the main one stopped. */
int fcgi_pm_proc_all_stopped(pid_t pid)
{
    char dir[64], path[96], buf[1024];
    const char *f;
    DIR *d;
    struct dirent *de;
    int tasks = 0, all = 1;

    if (pid <= 0) {
        return -1;
    }
    snprintf(dir, sizeof(dir), "/proc/%ld/task", (long)pid);
    if (!(d = opendir(dir))) {
        return -1;
    }
    while (all && (de = readdir(d)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%.20s/stat", dir, de->d_name);
        if (fcgi_pm_proc_read(path, buf, sizeof(buf)) < 0) {
            continue;                   /* that thread just ended */
        }
        tasks++;
        f = stat_state(buf);
        if (!f || !strchr("TtZX", f[0])) {
            all = 0;
        }
    }
    closedir(d);
    return tasks == 0 ? -1 : all;
}

int fcgi_pm_proc_children(pid_t pid, pid_t *out, int max, int *n)
{
    char path[96], buf[4096];
    DIR *d;
    struct dirent *de;

    snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
    if (!(d = opendir(path))) {
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        char *p, *end;
        if (de->d_name[0] < '0' || de->d_name[0] > '9') {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/children",
                 (long)pid, de->d_name);
        if (fcgi_pm_proc_read(path, buf, sizeof(buf)) < 0) {
            continue;
        }
        for (p = buf; *n < max; p = end) {
            long c = strtol(p, &end, 10);
            if (end == p) {
                break;
            }
            if (c > 1) {
                out[(*n)++] = (pid_t)c;
            }
        }
    }
    closedir(d);
    return 0;
}

/* ------------------------------------------------------ accepted sockets */

static int cmp_ino(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

    return x < y ? -1 : x > y;
}

static int conns_add(fcgi_pm_proc_conns *c, unsigned long ino)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        unsigned long *bigger = realloc(c->ino, cap * sizeof(*bigger));
        if (!bigger) {
            return -1;
        }
        c->ino = bigger;
        c->cap = cap;
    }
    c->ino[c->n++] = ino;
    return 0;
}

/* /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path".
 * A connection accepted on a listener carries the listener's path; the
 * listener itself has __SO_ACCEPTCON (0x10000) in Flags. */
static int read_unix(fcgi_pm_proc_conns *c)
{
    FILE *f = fopen("/proc/net/unix", "re");
    char line[4352];
    size_t plen = strlen(c->unix_path);

    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        unsigned long flags, ino;
        int off = 0;
        char *path, *nl;
        if (sscanf(line, "%*s %*x %*x %lx %*x %*x %lu %n", &flags, &ino, &off) < 2
            || off == 0) {
            continue;
        }
        path = line + off;
        if ((nl = strchr(path, '\n')) != NULL) {
            *nl = '\0';
        }
        if (!(flags & 0x10000) && strlen(path) == plen
            && memcmp(path, c->unix_path, plen) == 0 && conns_add(c, ino) != 0) {
            break;
        }
    }
    fclose(f);
    return 0;
}

/* /proc/net/tcp{,6}: a server-side connection has our port as its local
 * port and is not listening (state 0A). */
static int read_tcp(fcgi_pm_proc_conns *c, const char *file)
{
    FILE *f = fopen(file, "re");
    char line[512];

    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char local[80];
        unsigned int port, state;
        unsigned long ino;
        char *colon;
        if (sscanf(line, "%*s %79s %*s %x %*s %*s %*s %*s %*s %lu",
                   local, &state, &ino) != 3
            || !(colon = strrchr(local, ':'))
            || sscanf(colon + 1, "%x", &port) != 1) {
            continue;
        }
        if ((int)port == c->tcp_port && state != 0x0A && ino != 0
            && conns_add(c, ino) != 0) {
            break;
        }
    }
    fclose(f);
    return 0;
}

int fcgi_pm_proc_conns_read(fcgi_pm_proc_conns *c)
{
    int rc;

    c->n = 0;
    if (c->unix_path) {
        rc = read_unix(c);
    }
    else {
        int a = read_tcp(c, "/proc/net/tcp");
        int b = read_tcp(c, "/proc/net/tcp6");
        rc = (a == 0 || b == 0) ? 0 : -1;
    }
    if (c->n > 1) {
        qsort(c->ino, c->n, sizeof(*c->ino), cmp_ino);
    }
    return rc;
}

void fcgi_pm_proc_conns_free(fcgi_pm_proc_conns *c)
{
    free(c->ino);
    c->ino = NULL;
    c->n = c->cap = 0;
}

static int conns_has(const fcgi_pm_proc_conns *c, unsigned long ino)
{
    return c->n && bsearch(&ino, c->ino, c->n, sizeof(ino), cmp_ino) != NULL;
}

/* ------------------------------------------------------------- the look */

typedef struct {
    int nfd;
    int listen_fds[16];          /* descriptor numbers of the listen socket */
    int nlisten;
    int epoll_fds[16];           /* epoll sets that watch it */
    int nepoll;
    unsigned long socks[64];     /* other sockets held */
    int nsocks;
    int sock_overflow;
} fd_facts;

static int fd_listed(const int *fds, int n, long fd)
{
    int i;

    for (i = 0; i < n; i++) {
        if (fds[i] == fd) {
            return 1;
        }
    }
    return 0;
}

static int is_listen_fd(const fd_facts *f, long fd)
{
    return fd_listed(f->listen_fds, f->nlisten, fd);
}

/* 1 when the epoll set behind /proc/PID/fdinfo/EPFD watches the listen
 * socket ("tfd: N" lines name the watched descriptors). */
static int epoll_watches_listen(pid_t pid, const char *epfd, const fd_facts *f)
{
    char path[96], buf[8192], *p;

    snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%.20s", (long)pid, epfd);
    if (fcgi_pm_proc_read(path, buf, sizeof(buf)) < 0) {
        return 0;
    }
    for (p = buf; (p = strstr(p, "tfd:")) != NULL; p += 4) {
        long tfd = strtol(p + 4, NULL, 10);
        if (is_listen_fd(f, tfd)) {
            return 1;
        }
    }
    return 0;
}

static int read_fds(pid_t pid, unsigned long listen_ino, fd_facts *f)
{
    char dir[64], link[128], target[64];
    char epolls[16][24];
    int nep = 0, i;
    DIR *d;
    struct dirent *de;

    memset(f, 0, sizeof(*f));
    snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
    if (!(d = opendir(dir))) {
        return -1;
    }
    while ((de = readdir(d)) != NULL && f->nfd < LOOK_MAX_FDS) {
        unsigned long ino;
        ssize_t len;
        if (de->d_name[0] < '0' || de->d_name[0] > '9') {
            continue;
        }
        f->nfd++;
        snprintf(link, sizeof(link), "%s/%.20s", dir, de->d_name);
        len = readlink(link, target, sizeof(target) - 1);
        if (len <= 0) {
            continue;
        }
        target[len] = '\0';
        if (sscanf(target, "socket:[%lu]", &ino) == 1) {
            if (ino == listen_ino) {
                if (f->nlisten < 16) {
                    f->listen_fds[f->nlisten++] = atoi(de->d_name);
                }
            }
            else if (f->nsocks < 64) {
                f->socks[f->nsocks++] = ino;
            }
            else {
                f->sock_overflow = 1;
            }
        }
        else if (!strcmp(target, "anon_inode:[eventpoll]") && nep < 16) {
            snprintf(epolls[nep++], sizeof(epolls[0]), "%.20s", de->d_name);
        }
    }
    closedir(d);
    for (i = 0; f->nlisten && i < nep; i++) {
        if (epoll_watches_listen(pid, epolls[i], f) && f->nepoll < 16) {
            f->epoll_fds[f->nepoll++] = atoi(epolls[i]);
        }
    }
    return 0;
}

static int is_epoll_on_listen(const fd_facts *f, long fd)
{
    return fd_listed(f->epoll_fds, f->nepoll, fd);
}

/* What one thread is doing (from /proc/PID/task/TID/syscall). */
enum { T_GONE, T_RUNNING, T_USER, T_ACCEPT_LISTEN, T_WAIT_LISTEN, T_WAIT_MAYBE,
       T_CALL, T_CALL_FRAGILE, T_UNPARSED };

/* A /proc/.../syscall file at PATH: T_GONE (unreadable), T_RUNNING (on a
 * CPU), T_USER (in its own code), T_CALL with *NR and *ARG0 (in a system
 * call), or T_UNPARSED. */
static int read_syscall(const char *path, long *nr, unsigned long *arg0)
{
    char buf[256];

    if (fcgi_pm_proc_read(path, buf, sizeof(buf)) < 0) {
        return T_GONE;
    }
    if (!strncmp(buf, "running", 7)) {
        return T_RUNNING;
    }
    if (sscanf(buf, "%ld %lx", nr, arg0) != 2) {
        return T_UNPARSED;
    }
    return *nr == -1 ? T_USER : T_CALL;
}

/* Calls that a SIGSTOP/SIGCONT makes return EINTR even with no handler
 * (signal(7), "Interruption of system calls ... by stop signals"): socket
 * calls with a timeout (which /proc does not show: any read or write
 * counts), epoll waits, System V semaphores, sigtimedwait. */
static int call_fragile(long nr)
{
    switch (nr) {
    case SYS_read: case SYS_write: case SYS_readv: case SYS_writev:
    case SYS_recvfrom: case SYS_recvmsg: case SYS_recvmmsg:
    case SYS_sendto: case SYS_sendmsg: case SYS_sendmmsg:
    case SYS_connect: case SYS_accept: case SYS_accept4:
    case SYS_epoll_wait: case SYS_epoll_pwait:
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
#endif
    case SYS_semop: case SYS_semtimedop: case SYS_rt_sigtimedwait:
        return 1;
    default:
        return 0;
    }
}

static int thread_doing(pid_t pid, const char *tid, const fd_facts *f)
{
    char path[96];
    long nr = 0;
    unsigned long arg0 = 0;
    int doing;

    snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/syscall", (long)pid, tid);
    doing = read_syscall(path, &nr, &arg0);
    if (doing != T_CALL) {
        return doing == T_UNPARSED ? T_RUNNING : doing;
    }
    switch (nr) {
#ifdef SYS_accept
    case SYS_accept:
#endif
#ifdef SYS_accept4
    case SYS_accept4:
#endif
        return is_listen_fd(f, (long)arg0) ? T_ACCEPT_LISTEN : T_CALL_FRAGILE;
#ifdef SYS_epoll_wait
    case SYS_epoll_wait:
#endif
#ifdef SYS_epoll_pwait
    case SYS_epoll_pwait:
#endif
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
#endif
        return is_epoll_on_listen(f, (long)arg0) ? T_WAIT_LISTEN : T_CALL_FRAGILE;
#ifdef SYS_poll
    case SYS_poll:
#endif
#ifdef SYS_ppoll
    case SYS_ppoll:
#endif
#ifdef SYS_select
    case SYS_select:
#endif
#ifdef SYS_pselect6
    case SYS_pselect6:
#endif
        return f->nlisten ? T_WAIT_MAYBE : T_CALL;
    default:
        return call_fragile(nr) ? T_CALL_FRAGILE : T_CALL;
    }
}

/* 1 when F holds a connection accepted on the app's socket; *HELD is
 * PREFER when it is one of them, else the first found. */
static int holds_conn(const fd_facts *f, fcgi_pm_proc_conns *conns,
                      unsigned long prefer, unsigned long *held)
{
    int i;

    *held = 0;
    if (f->nsocks == 0) {
        return 0;
    }
    /* Read after the descriptors: a connection held then and still open
     * is in the set; one closed meanwhile is over anyway. */
    fcgi_pm_proc_conns_read(conns);
    for (i = 0; i < f->nsocks; i++) {
        if (conns_has(conns, f->socks[i])
            && (!*held || f->socks[i] == prefer)) {
            *held = f->socks[i];
        }
    }
    return *held != 0;
}

int fcgi_pm_proc_io_calls(pid_t pid, unsigned long long *out)
{
    char path[64], buf[512];
    const char *r, *w;
    unsigned long long nr, nw;

    if (pid <= 0) {
        return -1;
    }
    snprintf(path, sizeof(path), "/proc/%ld/io", (long)pid);
    if (fcgi_pm_proc_read(path, buf, sizeof(buf)) < 0
        || !(r = strstr(buf, "syscr:")) || !(w = strstr(buf, "syscw:"))
        || sscanf(r + 6, "%llu", &nr) != 1 || sscanf(w + 6, "%llu", &nw) != 1) {
        return -1;
    }
    *out = nr + nw;
    return 0;
}

int fcgi_pm_proc_in_own_code(pid_t pid)
{
    char path[64];
    long nr;
    unsigned long arg0;
    int doing;

    if (pid <= 0) {
        return 0;
    }
    snprintf(path, sizeof(path), "/proc/%ld/syscall", (long)pid);
    doing = read_syscall(path, &nr, &arg0);
    return doing == T_RUNNING || doing == T_USER;
}

int fcgi_pm_proc_look_at(pid_t pid, unsigned long listen_ino,
                         fcgi_pm_proc_conns *conns, unsigned long prefer_conn,
                         fcgi_pm_proc_look *out)
{
    char dir[64];
    fd_facts f;
    DIR *d;
    struct dirent *de;
    int tasks = 0, in_calls = 1, user = 0, doing;

    memset(out, 0, sizeof(*out));
    out->stop_safe = 1;
    if (read_fds(pid, listen_ino, &f) != 0) {
        return -1;
    }
    out->holds_listen = f.nlisten > 0;
    snprintf(dir, sizeof(dir), "/proc/%ld/task", (long)pid);
    if (!(d = opendir(dir))) {
        return -1;
    }
    while ((de = readdir(d)) != NULL && tasks < LOOK_MAX_TASKS) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9') {
            continue;
        }
        tasks++;
        doing = thread_doing(pid, de->d_name, &f);
        if (doing == T_WAIT_LISTEN || doing == T_CALL_FRAGILE) {
            out->stop_safe = 0;
        }
        switch (doing) {
        case T_RUNNING:
            out->running = 1;
            in_calls = 0;
            break;
        case T_USER:
            user++;
            in_calls = 0;
            break;
        case T_ACCEPT_LISTEN:
            out->accept_tid = (pid_t)atol(de->d_name);
            out->waiting = 1;
            break;
        case T_WAIT_LISTEN:
        case T_WAIT_MAYBE:
            out->waiting = 1;
            break;
        default:
            break;
        }
    }
    closedir(d);
    if (tasks == 0) {
        return -1;
    }
    out->in_calls = in_calls;
    out->user_single = tasks == 1 && user == 1;
    /* Last: a connection accepted while we looked shows up here. */
    out->busy = holds_conn(&f, conns, prefer_conn, &out->conn_ino)
                || f.sock_overflow;
    return 0;
}

int fcgi_pm_proc_session_members(pid_t sid, unsigned long long start_ticks,
                                 pid_t *out, int max, int *n)
{
    DIR *d = opendir("/proc");
    struct dirent *de;

    if (!d) {
        return -1;
    }
    while ((de = readdir(d)) != NULL && *n < max) {
        fcgi_pm_proc_info info;
        long pid;
        char *end;
        pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 1 || pid == (long)getpid()) {
            continue;
        }
        if (fcgi_pm_proc_info_get((pid_t)pid, &info) == 0 && info.sid == sid
            && info.start_ticks >= start_ticks && info.uid != 0
            && info.state != 'Z' && info.state != 'X') {
            out[(*n)++] = (pid_t)pid;
        }
    }
    closedir(d);
    return 0;
}

int fcgi_pm_proc_holds_socket(pid_t pid, unsigned long ino)
{
    fd_facts f;

    if (read_fds(pid, ino, &f) != 0) {
        return -1;
    }
    return f.nlisten > 0;
}

int fcgi_pm_proc_serving(pid_t pid, const fcgi_pm_proc_conns *c)
{
    fd_facts f;
    int i;

    if (read_fds(pid, 0, &f) != 0) {
        return -1;
    }
    for (i = 0; i < f.nsocks; i++) {
        if (conns_has(c, f.socks[i])) {
            return 1;
        }
    }
    return 0;
}
