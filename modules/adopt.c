/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Taking over a dead predecessor's workers (see fcgi_pm_adopt.h).
 */
#include "fcgi_pm_adopt.h"
#include "fcgi_pm_proc.h"
#include "fcgi_pm_spawn.h"

#include "http_log.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

APLOG_USE_MODULE(fcgi_pm);

#define ADOPT_MAX_PROCS 8192

typedef struct {
    pid_t pid;
    pid_t pgid;
    int taken;
} candidate;

static fcgi_pm_app *app_of_group(fcgi_pm_app *apps, const candidate *c, int n,
                                 pid_t pgid)
{
    fcgi_pm_app *app;
    int i;

    for (i = 0; i < n; i++) {
        if (c[i].pgid != pgid) {
            continue;
        }
        for (app = apps; app; app = app->next) {
            if (app->config_state == FCGI_PM_APP_CONFIGURED
                && fcgi_pm_proc_holds_socket(c[i].pid, app->listen_ino) == 1) {
                return app;
            }
        }
    }
    return NULL;
}

/* Stop what is left of a tree no configured app claims: continue it,
 * then SIGTERM, each process through a pidfd checked after opening. */
static void stop_unclaimed(server_rec *s, pid_t pid, pid_t dead_pid)
{
    fcgi_pm_proc_info info;
    int fd = fcgi_pm_spawn_pidfd(pid);

    if (fcgi_pm_proc_info_get(pid, &info) == 0 && info.sid == dead_pid
        && info.uid != 0) {
        (void)fcgi_pm_spawn_signal(pid, fd, SIGCONT);
        (void)fcgi_pm_spawn_signal(pid, fd, SIGTERM);
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "process %ld of the previous manager serves no "
                     "configured app: stopping it", (long)pid);
    }
    if (fd >= 0) {
        close(fd);
    }
}

void fcgi_pm_adopt_predecessor(server_rec *s, fcgi_pm_app *apps,
                               pid_t dead_pid, unsigned long long dead_start)
{
    pid_t *pids = malloc(ADOPT_MAX_PROCS * sizeof(*pids));
    candidate *c = malloc(ADOPT_MAX_PROCS * sizeof(*c));
    pid_t *members = malloc(ADOPT_MAX_PROCS * sizeof(*members));
    int n = 0, i, j, kept = 0;

    if (!pids || !c || !members || dead_pid <= 1
        || fcgi_pm_proc_session_members(dead_pid, dead_start, pids,
                                        ADOPT_MAX_PROCS, &n) != 0) {
        goto done;
    }
    for (i = 0; i < n; i++) {
        fcgi_pm_proc_info info;
        if (fcgi_pm_proc_info_get(pids[i], &info) == 0) {
            c[kept].pid = pids[i];
            c[kept].pgid = info.pgid;
            c[kept].taken = 0;
            kept++;
        }
    }
    for (i = 0; i < kept; i++) {
        pid_t pgid = c[i].pgid, root = 0;
        fcgi_pm_app *app;
        int m = 0;
        if (c[i].taken) {
            continue;
        }
        for (j = i; j < kept; j++) {
            if (c[j].pgid == pgid) {
                c[j].taken = 1;
                if (c[j].pid == pgid) {
                    root = c[j].pid;
                }
                else {
                    members[m++] = c[j].pid;
                }
            }
        }
        if (!root && m > 0) {     /* the root died: its first survivor */
            root = members[--m];
        }
        if (!root) {
            continue;             /* (c[i] itself is always in the group) */
        }
        app = pgid > 1 ? app_of_group(apps, c, kept, pgid) : NULL;
        if (app) {
            fcgi_pm_pool_adopt(app, root, members, m);
            continue;
        }
        stop_unclaimed(s, root, dead_pid);
        for (j = 0; j < m; j++) {
            stop_unclaimed(s, members[j], dead_pid);
        }
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                 "took over from the manager pid %ld that died: %d of its "
                 "processes found", (long)dead_pid, kept);
done:
    free(pids);
    free(c);
    free(members);
}
