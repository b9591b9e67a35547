/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Readers of /proc (Linux): the one place that knows its file formats.
 *
 * The manager judges its workers from what the kernel shows (see
 * "Worker lifecycle model" in DESIGN.md): which sockets a process holds,
 * which of them are connections accepted on an app's listen socket, what
 * each thread waits in, which processes descend from a worker.  The
 * status page uses the small stat readers.
 */
#ifndef FCGI_PM_PROC_H
#define FCGI_PM_PROC_H

#include <sys/types.h>
#include <stddef.h>

/* Read a /proc file into BUF (NUL-terminated).  Returns the length, or -1. */
int fcgi_pm_proc_read(const char *path, char *buf, size_t size);

/* /proc/PID/stat (PID 0: ourselves) read into BUF; returns a pointer to
 * field 3 (the state letter), past the command name that may hold spaces,
 * or NULL.  Field N (proc(5) numbering, N >= 3) is the (N-3)th word from
 * there. */
const char *fcgi_pm_proc_stat(pid_t pid, char *buf, size_t size);

/* The word starting field N (N >= 3) of a fcgi_pm_proc_stat() result. */
const char *fcgi_pm_proc_stat_field(const char *fields, int n);

/* Who a process is and where it belongs, from /proc/PID/stat and the
 * owner of /proc/PID. */
typedef struct {
    char state;                     /* R S D T t Z X ... */
    pid_t ppid, pgid, sid;
    int threads;
    unsigned long long start_ticks; /* field 22: with the pid, an identity */
    uid_t uid;                      /* effective uid */
} fcgi_pm_proc_info;

/* 0 and *OUT filled, or -1 when PID is gone (or unreadable). */
int fcgi_pm_proc_info_get(pid_t pid, fcgi_pm_proc_info *out);

/* 1: every thread of PID is stopped (or dead); 0: one is not yet;
 * -1: PID is gone. */
int fcgi_pm_proc_all_stopped(pid_t pid);

/* Append the children of every thread of PID to OUT (at most MAX in all,
 * *N in use).  Returns 0, or -1 when PID is gone. */
int fcgi_pm_proc_children(pid_t pid, pid_t *out, int max, int *n);

/* The connections accepted on one listen socket (unix: by its path, as
 * the kernel names a server-side connection after its listener; TCP: by
 * the local port), as a set of socket inodes. */
typedef struct {
    const char *unix_path;          /* NULL for TCP */
    int tcp_port;
    unsigned long *ino;             /* sorted */
    size_t n, cap;
} fcgi_pm_proc_conns;

/* (Re)read the set.  Returns 0, or -1 (then the set is empty). */
int fcgi_pm_proc_conns_read(fcgi_pm_proc_conns *c);
void fcgi_pm_proc_conns_free(fcgi_pm_proc_conns *c);

/* What one process shows about an app's listen socket. */
typedef struct {
    int holds_listen;               /* has the listen socket open */
    int busy;                       /* holds a connection accepted on it */
    int waiting;                    /* a thread waits for connections: in
                                     * accept() on it, or in epoll_wait() on
                                     * a set that holds it, or in poll()/
                                     * select() while holding it */
    int in_calls;                   /* every thread is in a system call */
    int user_single;                /* one thread, in its own code (stopped
                                     * or preempted there, in no call) */
    int running;                    /* a thread is on a CPU */
    pid_t accept_tid;               /* a thread in accept() on the listen
                                     * socket (0: none) */
    int stop_safe;                  /* no thread is in a call that a
                                     * SIGSTOP/SIGCONT would break (EINTR) */
    unsigned long conn_ino;         /* a connection it holds (the inode of
                                     * its socket: one per request), 0: none */
} fcgi_pm_proc_look;

/* Read and write calls PID has made so far (/proc/PID/io syscr + syscw:
 * every request a worker serves adds some; one waiting in accept() adds
 * none).  0 and *OUT, or -1. */
int fcgi_pm_proc_io_calls(pid_t pid, unsigned long long *out);

/* 1 when the (main) thread of PID is in its own code, in no system call:
 * one small read, for a last check right before stopping it. */
int fcgi_pm_proc_in_own_code(pid_t pid);

/* Look at PID.  CONNS is re-read after PID's descriptors when it holds
 * any socket besides the listen socket.  OUT->conn_ino is PREFER_CONN
 * when PID still holds that connection.  Returns 0, or -1 when PID is
 * gone. */
int fcgi_pm_proc_look_at(pid_t pid, unsigned long listen_ino,
                         fcgi_pm_proc_conns *conns, unsigned long prefer_conn,
                         fcgi_pm_proc_look *out);

/* Processes of session SID started at or after START_TICKS, not owned by
 * root (workers never run as root): appended to OUT (max MAX, *N used).
 * Used once, by a manager re-forked after its predecessor died. */
int fcgi_pm_proc_session_members(pid_t sid, unsigned long long start_ticks,
                                 pid_t *out, int max, int *n);

/* 1 when PID holds one of the connections in C (read beforehand by the
 * caller, once for many processes), 0 when not, -1 when it cannot be
 * seen (gone, or another user's). */
int fcgi_pm_proc_serving(pid_t pid, const fcgi_pm_proc_conns *c);

/* 1 when PID holds a socket whose inode is INO, 0 when not, -1 gone. */
int fcgi_pm_proc_holds_socket(pid_t pid, unsigned long ino);

#endif /* FCGI_PM_PROC_H */
