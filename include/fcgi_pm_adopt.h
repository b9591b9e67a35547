/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A manager re-forked after its predecessor died takes over the
 * predecessor's workers (manager only).
 */
#ifndef FCGI_PM_ADOPT_H
#define FCGI_PM_ADOPT_H

#include "fcgi_pm_pool.h"

/* The predecessor DEAD_PID (started at DEAD_START clock ticks, both known
 * to the httpd parent, never read from shared memory) led its own
 * session; its workers are in that session, each tree in a process group
 * of its own.  Every such tree that holds one of APPS' listen sockets is
 * adopted by that app (and continued, in case it was stopped); the
 * others are ours too but serve nothing configured: they are told to
 * stop.  Processes of root are never touched. */
void fcgi_pm_adopt_predecessor(server_rec *s, fcgi_pm_app *apps,
                               pid_t dead_pid, unsigned long long dead_start);

#endif /* FCGI_PM_ADOPT_H */
