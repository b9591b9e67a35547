/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The persistent manager process.
 */
#ifndef FCGI_PM_MANAGER_H
#define FCGI_PM_MANAGER_H

#include "fcgi_pm.h"
#include "fcgi_pm_table.h"

/* Run the manager in a process just forked from the httpd parent; never
 * returns.  CTL is its end of the control socket; S is used for logging
 * only; PARENT is the httpd parent's pid. */
void fcgi_pm_manager_main(int ctl, fcgi_pm_table *table, server_rec *s,
                          pid_t parent) __attribute__((noreturn));

#endif /* FCGI_PM_MANAGER_H */
