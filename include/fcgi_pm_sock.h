/*
 * Listen sockets of the apps and descriptor housekeeping.
 *
 * The httpd parent creates each app's listen socket once and keeps it in
 * a registry in the process pool, so the socket (and the connections
 * queued on it) outlives every graceful; the manager gets a copy of it
 * with each configuration generation and hands it to workers as fd 0.
 */
#ifndef FCGI_PM_SOCK_H
#define FCGI_PM_SOCK_H

#include "fcgi_pm.h"

/* Create FcgiPmSocketDir when missing: owned by UID/GID, mode 0700. */
const char *fcgi_pm_sock_prepare_dir(apr_pool_t *p, const char *dir,
                                     uid_t uid, gid_t gid);

/* The listen socket of APP: the one kept from an earlier generation when
 * its address is unchanged, else a new one (unix: owned by UID/GID, mode
 * 0600; a stale socket file is replaced).  Marks it used in GENERATION.
 * Returns the descriptor, or -1 with *ERR set. */
int fcgi_pm_sock_acquire(apr_pool_t *process_pool, apr_pool_t *p,
                         const fcgi_pm_app_conf *app, uid_t uid, gid_t gid,
                         int generation, const char **err);

/* Close the parent's copies of sockets not used in GENERATION (their app
 * was removed; the manager drains it and removes the socket file). */
void fcgi_pm_sock_release_unused(apr_pool_t *process_pool, int generation);

/* Close every registered socket in this process (httpd children). */
void fcgi_pm_sock_close_all(apr_pool_t *process_pool);

/* Device and inode of a unix socket file; 0 or -1 when it is none. */
int fcgi_pm_sock_identity(const char *path, dev_t *dev, ino_t *ino);

/* Unlink a unix socket file only if it is still the one with that
 * identity (a new httpd may already have bound a new socket there). */
void fcgi_pm_sock_unlink_if_ours(const char *path, dev_t dev, ino_t ino);

/* Close every descriptor >= 3 except those in KEEP (N of them). */
void fcgi_pm_sock_close_fds_except(const int *keep, int n);

/* Set or clear FD_CLOEXEC. */
void fcgi_pm_sock_cloexec(int fd, int on);

#endif /* FCGI_PM_SOCK_H */
