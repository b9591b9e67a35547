/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A worker's process tree (see fcgi_pm_tree.h).
 */
#include "fcgi_pm_tree.h"
#include "fcgi_pm_proc.h"
#include "fcgi_pm_spawn.h"

#include <sys/syscall.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void fcgi_pm_tree_member_drop(fcgi_pm_worker *w, int i)
{
    if (w->members[i].pidfd >= 0) {
        close(w->members[i].pidfd);
    }
    w->members[i] = w->members[--w->nmembers];
}

int fcgi_pm_tree_member_index(const fcgi_pm_worker *w, pid_t pid)
{
    int i;

    for (i = 0; i < w->nmembers; i++) {
        if (w->members[i].pid == pid) {
            return i;
        }
    }
    return -1;
}

/* Keep PID as a process of W's tree: pinned by a pidfd, and checked
 * after that (a pid read from /proc may be reused before it is opened). */
void fcgi_pm_tree_member_add(fcgi_pm_worker *w, pid_t pid, int check_group)
{
    fcgi_pm_proc_info info;
    fcgi_pm_member m;

    if (pid <= 1 || pid == w->pid || fcgi_pm_tree_member_index(w, pid) >= 0
        || w->nmembers >= FCGI_PM_TREE_MAX) {
        return;
    }
    m.pid = pid;
    m.pidfd = fcgi_pm_spawn_pidfd(pid);
    if (fcgi_pm_proc_info_get(pid, &info) != 0 || info.state == 'Z'
        || (check_group && info.pgid != w->pid)) {
        if (m.pidfd >= 0) {
            close(m.pidfd);
        }
        return;
    }
    m.start_ticks = info.start_ticks;
    if (w->nmembers == w->members_cap) {
        int cap = w->members_cap ? w->members_cap * 2 : 4;
        fcgi_pm_member *bigger = realloc(w->members, cap * sizeof(*bigger));
        if (!bigger) {
            if (m.pidfd >= 0) {
                close(m.pidfd);
            }
            return;
        }
        w->members = bigger;
        w->members_cap = cap;
    }
    w->members[w->nmembers++] = m;
}

static int member_alive(const fcgi_pm_member *m)
{
    fcgi_pm_proc_info info;

    if (m->pidfd >= 0 && fcgi_pm_spawn_pidfd_exited(m->pidfd) == 1) {
        return 0;
    }
    return fcgi_pm_proc_info_get(m->pid, &info) == 0
           && info.start_ticks == m->start_ticks
           && info.state != 'Z' && info.state != 'X';
}

/* Bring W's list of processes up to date: descendants of the root (and
 * of the members known), and orphans of the tree that the kernel gave to
 * us, the subreaper (recognised by their process group). */
void fcgi_pm_tree_refresh(fcgi_pm_worker *w)
{
    pid_t found[FCGI_PM_TREE_MAX];
    int n = 0, i;

    for (i = w->nmembers - 1; i >= 0; i--) {
        if (!member_alive(&w->members[i])) {
            fcgi_pm_tree_member_drop(w, i);
        }
    }
    if (!w->root_exited) {
        fcgi_pm_proc_children(w->pid, found, FCGI_PM_TREE_MAX, &n);
    }
    for (i = 0; i < w->nmembers && n < FCGI_PM_TREE_MAX; i++) {
        fcgi_pm_proc_children(w->members[i].pid, found, FCGI_PM_TREE_MAX, &n);
    }
    for (i = 0; i < n; i++) {
        fcgi_pm_tree_member_add(w, found[i], 0);
    }
    if (w->root_exited && !w->adopted) {
        n = 0;
        fcgi_pm_proc_children(getpid(), found, FCGI_PM_TREE_MAX, &n);
        for (i = 0; i < n; i++) {
            fcgi_pm_tree_member_add(w, found[i], 1);
        }
    }
}

int fcgi_pm_tree_alive(const fcgi_pm_worker *w)
{
    return !w->root_exited || w->nmembers > 0;
}

/* Signal every process of W's tree. */
void fcgi_pm_tree_signal(fcgi_pm_worker *w, int sig)
{
    int i;

    if (!w->root_exited) {
        (void)fcgi_pm_spawn_signal(w->pid, w->pidfd, sig);
    }
    for (i = 0; i < w->nmembers; i++) {
        (void)fcgi_pm_spawn_signal(w->members[i].pid, w->members[i].pidfd, sig);
    }
}

/* Who gets the stop signal: the root while it lives (a process manager
 * passes it on its way), else every process left of the tree. */
void fcgi_pm_tree_signal_stop(fcgi_pm_worker *w, int sig)
{
    int i;

    if (!w->root_exited) {
        (void)fcgi_pm_spawn_signal(w->pid, w->pidfd, sig);
        return;
    }
    for (i = 0; i < w->nmembers; i++) {
        (void)fcgi_pm_spawn_signal(w->members[i].pid, w->members[i].pidfd,
                                   sig);
    }
}

/* The root is our child and is reaped only by the loop that calls this,
 * so its pid cannot name another process here; tgkill() itself refuses a
 * TID that is not a thread of it. */
int fcgi_pm_tree_signal_thread(fcgi_pm_worker *w, pid_t tid, int sig)
{
    if (w->root_exited || w->pid <= 1 || tid <= 1) {
        return -1;
    }
    return syscall(SYS_tgkill, (long)w->pid, (long)tid, sig) == 0 ? 0 : -1;
}

static void look_one(unsigned long listen_ino, fcgi_pm_proc_conns *conns, pid_t pid,
                     int is_root, unsigned long prefer_conn,
                     fcgi_pm_tree_look_result *t)
{
    fcgi_pm_proc_look l;

    if (fcgi_pm_proc_look_at(pid, listen_ino, conns, prefer_conn, &l) != 0) {
        return;
    }
    if (l.conn_ino && (!t->conn_ino || l.conn_ino == prefer_conn)) {
        t->conn_ino = l.conn_ino;
    }
    if (is_root) {
        t->root_accept_tid = l.accept_tid;
    }
    t->nprocs++;
    t->busy |= l.busy;
    t->waiting |= l.waiting;
    t->holds_listen |= l.holds_listen;
    t->running |= l.running;
    t->in_calls &= l.in_calls;
    t->stop_safe &= l.stop_safe;
    t->user_single = l.user_single;
}

void fcgi_pm_tree_look(fcgi_pm_worker *w, unsigned long listen_ino,
                       const char *unix_path, int tcp_port,
                       fcgi_pm_tree_look_result *t)
{
    fcgi_pm_proc_conns conns;
    int i;

    memset(t, 0, sizeof(*t));
    t->in_calls = 1;
    t->stop_safe = 1;
    memset(&conns, 0, sizeof(conns));
    conns.unix_path = unix_path;
    conns.tcp_port = tcp_port;
    fcgi_pm_tree_refresh(w);
    if (!w->root_exited) {
        look_one(listen_ino, &conns, w->pid, 1, w->conn_ino, t);
    }
    for (i = 0; i < w->nmembers; i++) {
        look_one(listen_ino, &conns, w->members[i].pid, 0, w->conn_ino, t);
    }
    if (t->nprocs != 1) {
        t->user_single = 0;
    }
    fcgi_pm_proc_conns_free(&conns);
}

unsigned long long fcgi_pm_tree_io_calls(const fcgi_pm_worker *w)
{
    unsigned long long sum = 0, n;
    int i;

    if (!w->root_exited && fcgi_pm_proc_io_calls(w->pid, &n) == 0) {
        sum += n;
    }
    for (i = 0; i < w->nmembers; i++) {
        if (fcgi_pm_proc_io_calls(w->members[i].pid, &n) == 0) {
            sum += n;
        }
    }
    return sum;
}

/* Wait (briefly) until every process of W's tree stands still. */
int fcgi_pm_tree_stopped(fcgi_pm_worker *w)
{
    struct timespec pause = { 0, 200 * 1000 };   /* 0.2 ms */
    int tries, i, all;

    /* Each thread of each process: see fcgi_pm_proc_all_stopped(). */
    for (tries = 0; tries < 250; tries++) {
        all = w->root_exited || fcgi_pm_proc_all_stopped(w->pid) != 0;
        for (i = 0; all && i < w->nmembers; i++) {
            all = fcgi_pm_proc_all_stopped(w->members[i].pid) != 0;
        }
        if (all) {
            return 1;
        }
        nanosleep(&pause, NULL);
    }
    return 0;
}

