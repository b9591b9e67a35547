/* SPDX-License-Identifier: Apache-2.0 */
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

#include <sys/resource.h>

/* Why the existing directory DIR cannot hold the apps' sockets (a symlink,
 * not a directory, owned by neither root nor HTTPD_UID, writable by group
 * or others), or NULL (also when DIR does not exist yet).  Read-only: for
 * the configuration test. */
const char *fcgi_pm_sock_check_dir(apr_pool_t *p, const char *dir,
                                   uid_t httpd_uid);

/* Make DIR ready for the sockets: created when missing (parents 0755),
 * root:HTTPD_GID mode 0710 (httpd's children traverse it, only root
 * creates or renames inside).  An existing directory must pass the checks
 * of fcgi_pm_sock_check_dir (done again on the opened descriptor); one
 * owned by HTTPD_UID (earlier versions) is given to root:HTTPD_GID 0710
 * through that descriptor.  Returns NULL or the problem. */
const char *fcgi_pm_sock_prepare_dir(apr_pool_t *p, const char *dir,
                                     uid_t httpd_uid, gid_t httpd_gid);

/* The listen socket of APP: the one kept from an earlier generation when
 * its address is unchanged, else a new one.  Unix sockets are root:GID
 * (httpd's Group) mode 0660, set without following links; an existing
 * path that is not a socket, or a socket something still listens on, is
 * an error (never removed); only a dead socket is replaced.  Marks it
 * used in GENERATION.  Returns the descriptor, or -1 with *ERR set. */
int fcgi_pm_sock_acquire(apr_pool_t *process_pool, apr_pool_t *p,
                         const fcgi_pm_app_conf *app, gid_t gid,
                         int post_config, const char **err);

/* Close the parent's copies of sockets not used in GENERATION (their app
 * was removed; the manager drains it and removes the socket file). */
/* A new unix socket of TYPE (SOCK_STREAM, SOCK_SEQPACKET) listening at
 * PATH, root:GID 0660, taking PATH over from any earlier socket (bound
 * aside, then renamed over it); -1 with *ERR.  Not kept in the registry:
 * for the manager's own sockets (the spawn socket, mod_fcgid's classes). */
int fcgi_pm_sock_bind_unix(apr_pool_t *p, const char *path, gid_t gid,
                           int type, const char **err);

void fcgi_pm_sock_release_unused(apr_pool_t *process_pool, int post_config);

/* Close every registered socket in this process (httpd children). */
void fcgi_pm_sock_close_all(apr_pool_t *process_pool);

/* Device and inode of a unix socket file; 0 or -1 when it is none. */
int fcgi_pm_sock_identity(const char *path, dev_t *dev, ino_t *ino);

/* Unlink a unix socket file only if it is still the one with that
 * identity (a new httpd may already have bound a new socket there). */
void fcgi_pm_sock_unlink_if_ours(const char *path, dev_t dev, ino_t ino);

/* The socket file of an app address ("unix:/path", or a bare path), or
 * NULL for a TCP address. */
const char *fcgi_pm_sock_addr_path(const char *addr);

/* The port of a "tcp:host:port" address ("tcp:[v6]:port" too), 0 for
 * any other. */
int fcgi_pm_sock_addr_port(const char *addr);

/* Close every descriptor >= 3 except those in KEEP (N of them). */
void fcgi_pm_sock_close_fds_except(const int *keep, int n);

/* Set or clear FD_CLOEXEC. */
void fcgi_pm_sock_cloexec(int fd, int on);

/* Raise this process's open files limit to WANT (the hard limit too,
 * where it may), never lower it; else as far as the hard limit allows.
 * Returns the soft limit in effect afterwards (0: unknown). */
rlim_t fcgi_pm_sock_raise_fd_limit(rlim_t want);

#endif /* FCGI_PM_SOCK_H */
