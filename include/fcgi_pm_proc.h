/*
 * Small readers of /proc (Linux), shared by the manager and the status page.
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

#endif /* FCGI_PM_PROC_H */
