/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manager's pid file, written and read by root in a directory that
 * may be writable by others: never through a symlink, never blocking on
 * a FIFO or a device, never truncating a file that is not ours.
 */
#ifndef FCGI_PM_PIDFILE_H
#define FCGI_PM_PIDFILE_H

#include "apr_errno.h"

#include <sys/types.h>

/* Write PID to PATH: a new file with an unpredictable name in the same
 * directory (O_CREAT|O_EXCL|O_NOFOLLOW), renamed over PATH.  Whatever is
 * at PATH (a symlink, a FIFO) is replaced, never written through. */
apr_status_t fcgi_pm_pidfile_write(const char *path, pid_t pid);

/* The pid in PATH when it is a regular file (not followed if a symlink)
 * holding a number > 1; 0 otherwise.  Never blocks. */
pid_t fcgi_pm_pidfile_read(const char *path);

/* Unlink PATH only when it is a regular file that holds PID. */
void fcgi_pm_pidfile_remove_if(const char *path, pid_t pid);

#endif /* FCGI_PM_PIDFILE_H */
