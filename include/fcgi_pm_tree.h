/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A worker's process tree (manager only): the process the manager forked
 * and every process it forks, each pinned by a pidfd and checked before
 * it is kept; what the tree shows about the app's socket; signals to it.
 * Decisions (when to signal, what an exit means) belong to the pool
 * (fcgi_pm_pool.h).
 */
#ifndef FCGI_PM_TREE_H
#define FCGI_PM_TREE_H

#include "fcgi_pm.h"

/* A process of a worker's tree other than its root. */
typedef struct {
    pid_t pid;
    int pidfd;
    unsigned long long start_ticks;
} fcgi_pm_member;

typedef struct {
    pid_t pid;                    /* the tree's root, > 1 */
    int pidfd;                    /* -1: the kernel has none */
    unsigned long long start_ticks;
    int adopted;                  /* a dead manager's worker, not our child */
    int root_exited;
    apr_uint32_t phase;           /* fcgi_pm_worker_state */
    apr_uint32_t roll;            /* the app's roll it was started for */
    int proven;                   /* has waited on or served the socket */
    int busy;                     /* at the last look */
    int signalled;                /* the stop signal was sent (to the root,
                                   * or, once it is gone, to the others) */
    apr_time_t signalled_at;
    apr_time_t started;
    apr_time_t ready_at;
    apr_time_t kill_at;           /* retiring: SIGKILL deadline */
    apr_time_t next_look;
    int look_ms;                  /* retiring and busy: backs off */
    unsigned long long io_calls;  /* at the last look (fcgi_pm_tree_io_calls) */
    apr_time_t active_at;         /* last look that saw it busy or doing I/O */
    unsigned long conn_ino;       /* the connection (request) it was seen
                                   * hold at the last look, 0: none */
    apr_time_t conn_since;        /* first look that saw it hold conn_ino */
    apr_uint32_t requests_seen;   /* distinct connections seen held */
    fcgi_pm_member *members;
    int nmembers, members_cap;
} fcgi_pm_worker;

/* Processes of one tree followed at most. */
#define FCGI_PM_TREE_MAX 256

/* Forget member I of W (closing its pidfd). */
void fcgi_pm_tree_member_drop(fcgi_pm_worker *w, int i);

/* Index of PID among W's members, or -1. */
int fcgi_pm_tree_member_index(const fcgi_pm_worker *w, pid_t pid);

/* Keep PID as a member of W's tree: pinned by a pidfd, checked after that;
 * with CHECK_GROUP, only if it is in W's process group (an orphan). */
void fcgi_pm_tree_member_add(fcgi_pm_worker *w, pid_t pid, int check_group);

/* Bring W's list of processes up to date: descendants of the root and of
 * the members known, and orphans of the tree that the kernel gave to us,
 * the subreaper (recognised by their process group). */
void fcgi_pm_tree_refresh(fcgi_pm_worker *w);

/* 1 while a process of W's tree lives. */
int fcgi_pm_tree_alive(const fcgi_pm_worker *w);

/* SIG to every process of W's tree. */
void fcgi_pm_tree_signal(fcgi_pm_worker *w, int sig);

/* The stop signal SIG: to the root while it lives (a process manager
 * passes it on its way), else to every process left of the tree. */
void fcgi_pm_tree_signal_stop(fcgi_pm_worker *w, int sig);

/* SIG to the thread TID of W's root (a thread the caller saw while the
 * tree was stopped).  0, or -1 when the root is gone. */
int fcgi_pm_tree_signal_thread(fcgi_pm_worker *w, pid_t tid, int sig);

/* What W's tree shows about the app's listen socket (LISTEN_INO; its
 * connections found by UNIX_PATH or TCP_PORT), the list refreshed first. */
typedef struct {
    int busy, waiting, in_calls, running, user_single, nprocs, holds_listen;
    pid_t root_accept_tid;          /* a thread of the root in accept() on
                                     * the listen socket (0: none) */
    int stop_safe;                  /* see fcgi_pm_proc_look */
    unsigned long conn_ino;         /* a connection it holds: W's conn_ino
                                     * while still held, 0: none */
} fcgi_pm_tree_look_result;

void fcgi_pm_tree_look(fcgi_pm_worker *w, unsigned long listen_ino,
                       const char *unix_path, int tcp_port,
                       fcgi_pm_tree_look_result *t);

/* Read and write calls of every process of W's tree, summed. */
unsigned long long fcgi_pm_tree_io_calls(const fcgi_pm_worker *w);

/* Wait (briefly) until every process of W's tree stands still; 1 when it
 * does. */
int fcgi_pm_tree_stopped(fcgi_pm_worker *w);

#endif /* FCGI_PM_TREE_H */
