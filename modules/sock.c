/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Listen sockets kept across reloads, and descriptor housekeeping.
 */
#include "fcgi_pm_sock.h"

#include "apr_strings.h"
#include "apr_file_io.h"
#include "apr_network_io.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#define REGISTRY_V1_KEY  "fcgi_pm_sockets_v1"   /* up to 0.9.0 */
#define REGISTRY_V1_SIZE 512
#define REGISTRY_KEY     "fcgi_pm_sockets_v2"

typedef struct {
    char addr[FCGI_PM_ADDR_MAX];
    int fd;
    int post_config;             /* the last post_config that used it */
    dev_t dev;                   /* unix: the socket file, to notice it */
    ino_t ino;                   /* was removed or replaced behind us */
} sock_entry;

/* Version 1: a fixed array (512 sockets). */
typedef struct {
    int n;
    sock_entry e[REGISTRY_V1_SIZE];
} sock_registry_v1;

/* Version 2: any number of sockets. */
typedef struct {
    int n, cap;
    sock_entry *e;               /* in the process pool */
} sock_registry;

/*
 * Every version of the module reads the registry that an earlier one left
 * under REGISTRY_KEY (a graceful after an upgrade keeps the sockets, and
 * the connections queued on them).  Its layout is therefore frozen, and
 * checked here (offsets and sizes as on LP64 Linux; other ABIs skip the
 * checks).  A failing assert cannot be fixed by bumping a version number:
 * a new key would make the next module find every socket "in use by
 * another server" and serve 503s.  Put the struct back; a real change
 * needs a migration from the old key, as registry() does from version 1
 * (whose entries it takes over and empties: a module of version 1 loaded
 * afterwards opens new sockets; downgrading past it wants a stop and a
 * start).  FCGI_PM_ADDR_MAX is part of it, and so is the form of an
 * app's address (config.c), which is the lookup key.
 */
#if defined(__LP64__)
#define REGISTRY_AT(type, field, off, size)                                 \
    _Static_assert(offsetof(type, field) == (off)                          \
                   && sizeof(((type *)0)->field) == (size),                \
                   #type "." #field " moved or changed size: the socket "  \
                   "registry is read by every module version")
REGISTRY_AT(sock_entry, addr, 0, 128);
REGISTRY_AT(sock_entry, fd, 128, 4);
REGISTRY_AT(sock_entry, post_config, 132, 4);
REGISTRY_AT(sock_entry, dev, 136, 8);
REGISTRY_AT(sock_entry, ino, 144, 8);
_Static_assert(sizeof(sock_entry) == 152, "sizeof(sock_entry) changed: the "
               "socket registry is read by every module version");
REGISTRY_AT(sock_registry_v1, n, 0, 4);
REGISTRY_AT(sock_registry_v1, e, 8, 512 * 152);
_Static_assert(sizeof(sock_registry_v1) == 8 + 512 * 152, "sizeof(sock_registry_v1) "
               "changed: the socket registry is read by every module version");
REGISTRY_AT(sock_registry, n, 0, 4);
REGISTRY_AT(sock_registry, cap, 4, 4);
REGISTRY_AT(sock_registry, e, 8, 8);
_Static_assert(sizeof(sock_registry) == 16, "sizeof(sock_registry) "
               "changed: the socket registry is read by every module version");
#undef REGISTRY_AT
#endif

/* The registry lives in the process pool.  Its array only grows, by
 * doubling, when a configuration has more sockets than any before: the
 * parent's memory does not grow with reloads. */
static sock_registry *registry(apr_pool_t *process_pool)
{
    void *data = NULL, *old = NULL;
    sock_registry *reg;

    apr_pool_userdata_get(&data, REGISTRY_KEY, process_pool);
    if (data) {
        return data;
    }
    reg = apr_pcalloc(process_pool, sizeof(*reg));
    reg->cap = REGISTRY_V1_SIZE;
    reg->e = apr_pcalloc(process_pool, reg->cap * sizeof(sock_entry));
    apr_pool_userdata_get(&old, REGISTRY_V1_KEY, process_pool);
    if (old) {
        /* Left by a module of version 1: its sockets are ours now. */
        sock_registry_v1 *v1 = old;
        if (v1->n > 0 && v1->n <= REGISTRY_V1_SIZE) {
            memcpy(reg->e, v1->e, v1->n * sizeof(sock_entry));
            reg->n = v1->n;
        }
        v1->n = 0;
    }
    apr_pool_userdata_set(reg, REGISTRY_KEY, apr_pool_cleanup_null,
                          process_pool);
    return reg;
}

/* Room for one entry more; NULL when no memory. */
static sock_entry *registry_add(apr_pool_t *process_pool, sock_registry *reg)
{
    if (reg->n == reg->cap) {
        sock_entry *bigger = apr_pcalloc(process_pool,
                                         2 * reg->cap * sizeof(sock_entry));
        if (!bigger) {
            return NULL;
        }
        memcpy(bigger, reg->e, reg->n * sizeof(sock_entry));
        reg->e = bigger;
        reg->cap *= 2;
    }
    return &reg->e[reg->n++];
}

void fcgi_pm_sock_cloexec(int fd, int on)
{
    int flags = fcntl(fd, F_GETFD);

    /* Best effort: only ever used on descriptors we just opened or
     * dup'ed, where F_GETFD/F_SETFD cannot fail. */
    if (flags >= 0
        && fcntl(fd, F_SETFD, on ? (flags | FD_CLOEXEC)
                                 : (flags & ~FD_CLOEXEC)) != 0) {
        return;
    }
}

/* Why DIR (described by ST, from lstat or fstat) cannot hold the sockets,
 * or NULL.  Nobody but root (or httpd's User, whose directory is then
 * taken over) may be able to create, rename or remove entries in it. */
static const char *dir_problem(apr_pool_t *p, const char *dir,
                               const struct stat *st, uid_t httpd_uid)
{
    if (S_ISLNK(st->st_mode)) {
        return apr_psprintf(p, "FcgiPmSocketDir %s is a symbolic link: name "
                            "the real directory", dir);
    }
    if (!S_ISDIR(st->st_mode)) {
        return apr_psprintf(p, "FcgiPmSocketDir %s is not a directory", dir);
    }
    if (st->st_uid != 0 && st->st_uid != httpd_uid
        && st->st_uid != geteuid()) {
        return apr_psprintf(p, "FcgiPmSocketDir %s is owned by uid %ld: it "
                            "must be owned by root (or by httpd's User, and "
                            "is then given to root)", dir, (long)st->st_uid);
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        return apr_psprintf(p, "FcgiPmSocketDir %s is writable by %s (mode "
                            "%04o): another user could replace the apps' "
                            "sockets; make it root-owned, mode 0710 or 0755",
                            dir, (st->st_mode & S_IWOTH) ? "everyone"
                                                       : "its group",
                            (unsigned)(st->st_mode & 07777));
    }
    return NULL;
}

const char *fcgi_pm_sock_check_dir(apr_pool_t *p, const char *dir,
                                   uid_t httpd_uid)
{
    struct stat st;

    if (lstat(dir, &st) != 0) {
        if (errno == ENOENT) {
            return NULL;          /* created at start */
        }
        return apr_psprintf(p, "FcgiPmSocketDir %s: %s", dir, strerror(errno));
    }
    return dir_problem(p, dir, &st, httpd_uid);
}

/* Open DIR itself, never a symlink in its place. */
static int open_dir_nofollow(const char *dir)
{
    return open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

const char *fcgi_pm_sock_prepare_dir(apr_pool_t *p, const char *dir,
                                     uid_t httpd_uid, gid_t httpd_gid)
{
    struct stat st;
    const char *problem;
    int fd, created = 0;

    if (lstat(dir, &st) != 0) {
        char *parent = apr_pstrdup(p, dir), *slash = strrchr(parent, '/');
        apr_status_t rv;

        if (errno != ENOENT) {
            return apr_psprintf(p, "FcgiPmSocketDir %s: %s", dir,
                                strerror(errno));
        }
        if (slash && slash != parent) {
            *slash = '\0';
            rv = apr_dir_make_recursive(parent, APR_FPROT_OS_DEFAULT, p);
            if (rv != APR_SUCCESS) {
                char msg[120];
                return apr_psprintf(p, "cannot create %s for FcgiPmSocketDir: "
                                    "%s", parent,
                                    apr_strerror(rv, msg, sizeof(msg)));
            }
        }
        /* 0700 until it has its group: never open to anyone meanwhile. */
        if (mkdir(dir, 0700) == 0) {
            created = 1;
        }
        else if (errno != EEXIST) {
            return apr_psprintf(p, "cannot create FcgiPmSocketDir %s: %s", dir,
                                strerror(errno));
        }
    }
    fd = open_dir_nofollow(dir);
    if (fd < 0) {
        if (errno == ELOOP || errno == ENOTDIR) {
            if (lstat(dir, &st) == 0 && (problem = dir_problem(p, dir, &st,
                                                               httpd_uid))) {
                return problem;
            }
        }
        return apr_psprintf(p, "cannot open FcgiPmSocketDir %s: %s", dir,
                            strerror(errno));
    }
    /* Checked again on what was opened, so that nothing swapped in after
     * the configuration test is trusted. */
    if (fstat(fd, &st) != 0) {
        problem = apr_psprintf(p, "cannot stat FcgiPmSocketDir %s: %s", dir,
                               strerror(errno));
    }
    else {
        problem = dir_problem(p, dir, &st, httpd_uid);
    }
    if (!problem && geteuid() == 0 && (created || st.st_uid != 0)) {
        /* New, or httpd's User's (the layout of earlier versions): root's
         * from now on, so that only root can create or rename entries;
         * httpd's children (its Group) may only traverse it. */
        if (fchown(fd, 0, httpd_gid) != 0 || fchmod(fd, 0710) != 0) {
            problem = apr_psprintf(p, "cannot give FcgiPmSocketDir %s to "
                                   "root:%ld mode 0710: %s", dir,
                                   (long)httpd_gid, strerror(errno));
        }
    }
    close(fd);
    return problem;
}

static int file_identity(const char *path, dev_t *dev, ino_t *ino)
{
    struct stat st;

    if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        return -1;
    }
    *dev = st.st_dev;
    *ino = st.st_ino;
    return 0;
}

/* 1 when something accepts connections on the unix socket PATH (a full
 * accept queue counts as alive), 0 when nobody listens there. */
static int socket_answers(const char *path)
{
    struct sockaddr_un sun;
    int fd, rc, alive;

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return 1;                 /* cannot tell: do not remove it */
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    apr_cpystrn(sun.sun_path, path, sizeof(sun.sun_path));
    do {
        rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    } while (rc != 0 && errno == EINTR);
    alive = rc == 0 || errno == EAGAIN || errno == EINPROGRESS;
    close(fd);
    return alive;
}

/* Give the socket file NAME in DIR_FD to root:GID, mode 0660, without
 * following a symlink (the directory is root's, but be strict anyway). */
static int socket_file_perms(int dir_fd, const char *name, gid_t gid)
{
    struct stat st;

    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    if (geteuid() != 0) {
        return 0;
    }
    if ((st.st_uid != 0 || st.st_gid != gid)
        && fchownat(dir_fd, name, 0, gid, AT_SYMLINK_NOFOLLOW) != 0) {
        return -1;
    }
    /* Linux has no fchmodat(AT_SYMLINK_NOFOLLOW): NAME was just seen to
     * be a socket, in a directory where only root creates entries. */
    if ((st.st_mode & 07777) != 0660 && fchmodat(dir_fd, name, 0660, 0) != 0) {
        return -1;
    }
    return 0;
}

/* The directory of PATH (opened without following a final symlink) and
 * the last component of PATH. */
static int open_parent(apr_pool_t *p, const char *path, const char **name)
{
    const char *slash = strrchr(path, '/');
    const char *dir;

    if (!slash) {
        *name = path;
        return open_dir_nofollow(".");
    }
    *name = slash + 1;
    dir = slash == path ? "/" : apr_pstrndup(p, path, slash - path);
    return open_dir_nofollow(dir);
}

static int open_unix(apr_pool_t *p, const char *path, gid_t gid, int type,
                     sock_entry *e, const char **err)
{
    struct sockaddr_un sun;
    struct stat st;
    const char *name;
    mode_t old_mask;
    int fd, dir_fd, rc;

    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            *err = apr_psprintf(p, "%s exists and is not a socket", path);
            return -1;
        }
        /* Never take a socket someone still serves on: its server would
         * lose its clients (and we would pretend to be it). */
        if (socket_answers(path)) {
            *err = apr_psprintf(p, "another server listens on %s", path);
            return -1;
        }
        /* Left by a crash or by an httpd that went away: ours now. */
        if (unlink(path) != 0) {
            *err = apr_psprintf(p, "cannot remove stale socket %s: %s", path,
                                strerror(errno));
            return -1;
        }
    }
    dir_fd = open_parent(p, path, &name);
    if (dir_fd < 0) {
        *err = apr_psprintf(p, "cannot open the directory of %s: %s", path,
                            strerror(errno));
        return -1;
    }
    fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = apr_psprintf(p, "socket(): %s", strerror(errno));
        close(dir_fd);
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    apr_cpystrn(sun.sun_path, path, sizeof(sun.sun_path));
    /* Created 0660 root:root, then given httpd's Group: only root enters
     * the directory meanwhile (root:GROUP 0710), so nobody else can
     * connect or swap the name.  The parent is single-threaded here, so
     * the umask change is safe. */
    old_mask = umask(0117);
    rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old_mask);
    if (rc != 0) {
        *err = apr_psprintf(p, "cannot bind %s: %s", path, strerror(errno));
        close(fd);
        close(dir_fd);
        return -1;
    }
    if (socket_file_perms(dir_fd, name, gid) != 0
        || listen(fd, SOMAXCONN) != 0
        || file_identity(path, &e->dev, &e->ino) != 0) {
        *err = apr_psprintf(p, "cannot set up socket %s: %s", path,
                            strerror(errno));
        close(fd);
        unlinkat(dir_fd, name, 0);
        close(dir_fd);
        return -1;
    }
    close(dir_fd);
    return fd;
}

int fcgi_pm_sock_bind_unix(apr_pool_t *p, const char *path, gid_t gid,
                           int type, const char **err)
{
    /* Bound under a name of its own, then renamed over PATH: a manager
     * that takes over from another (a module upgrade) gets PATH at once,
     * and whoever still holds the old socket serves what it has queued.
     * Only root makes entries in the socket directory (root:Group 0710). */
    const char *tmp = apr_psprintf(p, "%s.%ld", path, (long)getpid());
    struct sockaddr_un sun;
    sock_entry e;
    int fd;

    memset(&e, 0, sizeof(e));
    if (strlen(tmp) >= sizeof(sun.sun_path)) {
        return open_unix(p, path, gid, type, &e, err);
    }
    (void)unlink(tmp);               /* left by a crash of this pid */
    fd = open_unix(p, tmp, gid, type, &e, err);
    if (fd >= 0 && rename(tmp, path) != 0) {
        *err = apr_psprintf(p, "cannot rename %s to %s: %s", tmp, path,
                            strerror(errno));
        (void)unlink(tmp);
        close(fd);
        return -1;
    }
    return fd;
}

/* A socket kept from an earlier generation (perhaps of an earlier module
 * version, 0600 and owned by httpd's User): give it today's owner/mode. */
static void refresh_unix(apr_pool_t *p, const char *path, gid_t gid)
{
    const char *name;
    int dir_fd = open_parent(p, path, &name);

    if (dir_fd >= 0) {
        (void)socket_file_perms(dir_fd, name, gid);
        close(dir_fd);
    }
}

static int open_tcp(apr_pool_t *p, const char *listen_arg, const char **err)
{
    char *host = NULL, *scope = NULL;
    apr_port_t port = 0;
    apr_sockaddr_t *sa = NULL;
    int fd, one = 1;

    if (apr_parse_addr_port(&host, &scope, &port, listen_arg, p) != APR_SUCCESS
        || apr_sockaddr_info_get(&sa, host ? host : "127.0.0.1", APR_UNSPEC,
                                 port, 0, p) != APR_SUCCESS) {
        *err = apr_psprintf(p, "cannot resolve Listen %s", listen_arg);
        return -1;
    }
    fd = socket(sa->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = apr_psprintf(p, "socket(): %s", strerror(errno));
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0
        || bind(fd, (struct sockaddr *)&sa->sa, sa->salen) != 0
        || listen(fd, SOMAXCONN) != 0) {
        *err = apr_psprintf(p, "cannot listen on %s: %s", listen_arg,
                            strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Still usable: open, and for unix sockets the file is still ours. */
static int entry_valid(const sock_entry *e, const char *socket_path)
{
    dev_t dev;
    ino_t ino;

    if (fcntl(e->fd, F_GETFD) < 0) {
        return 0;
    }
    if (!socket_path) {
        return 1;
    }
    return file_identity(socket_path, &dev, &ino) == 0
           && dev == e->dev && ino == e->ino;
}

int fcgi_pm_sock_acquire(apr_pool_t *process_pool, apr_pool_t *p,
                         const fcgi_pm_app_conf *app, gid_t gid,
                         int post_config, const char **err)
{
    sock_registry *reg = registry(process_pool);
    sock_entry *e = NULL, fresh;
    int i, fd;

    for (i = 0; i < reg->n; i++) {
        if (reg->e[i].fd >= 0 && !strcmp(reg->e[i].addr, app->addr)) {
            e = &reg->e[i];
            break;
        }
    }
    if (e && entry_valid(e, app->socket_path)) {
        if (app->socket_path) {
            refresh_unix(p, app->socket_path, gid);
        }
        e->post_config = post_config;
        return e->fd;
    }
    memset(&fresh, 0, sizeof(fresh));
    fd = app->socket_path ? open_unix(p, app->socket_path, gid, SOCK_STREAM, &fresh, err)
                          : open_tcp(p, app->listen, err);
    if (fd < 0) {
        return -1;
    }
    if (e) {
        /* Its file was removed behind our back: the manager sees a new
         * socket for the app and restarts its workers on it. */
        close(e->fd);
    }
    else {
        for (i = 0; i < reg->n && reg->e[i].fd >= 0; i++) {
        }
        e = i < reg->n ? &reg->e[i] : registry_add(process_pool, reg);
        if (!e) {
            close(fd);
            *err = "out of memory for the socket registry";
            return -1;
        }
    }
    apr_cpystrn(e->addr, app->addr, sizeof(e->addr));
    e->fd = fd;
    e->post_config = post_config;
    e->dev = fresh.dev;
    e->ino = fresh.ino;
    return fd;
}

void fcgi_pm_sock_release_unused(apr_pool_t *process_pool, int post_config)
{
    sock_registry *reg = registry(process_pool);
    int i;

    for (i = 0; i < reg->n; i++) {
        if (reg->e[i].fd >= 0 && reg->e[i].post_config != post_config) {
            close(reg->e[i].fd);
            reg->e[i].fd = -1;
        }
    }
}

void fcgi_pm_sock_close_all(apr_pool_t *process_pool)
{
    sock_registry *reg = registry(process_pool);
    int i;

    for (i = 0; i < reg->n; i++) {
        if (reg->e[i].fd >= 0) {
            close(reg->e[i].fd);
        }
    }
}

int fcgi_pm_sock_identity(const char *path, dev_t *dev, ino_t *ino)
{
    return file_identity(path, dev, ino);
}

void fcgi_pm_sock_unlink_if_ours(const char *path, dev_t dev, ino_t ino)
{
    dev_t d;
    ino_t i;

    /* A unix socket's fstat() tells nothing of its file, so the file is
     * recognised by the identity it had when it was bound: a newer httpd
     * may already have bound a new socket at the same path. */
    if (file_identity(path, &d, &i) == 0 && d == dev && i == ino) {
        unlink(path);
    }
}

const char *fcgi_pm_sock_addr_path(const char *addr)
{
    return addr[0] == '/' ? addr : !strncmp(addr, "unix:", 5) ? addr + 5 : NULL;
}

int fcgi_pm_sock_addr_port(const char *addr)
{
    const char *colon = strrchr(addr, ':');

    return (!strncmp(addr, "tcp:", 4) && colon > addr + 4) ? atoi(colon + 1) : 0;
}

void fcgi_pm_sock_close_fds_except(const int *keep, int n)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int i, fd, max;

    if (!d) {
        max = (int)sysconf(_SC_OPEN_MAX);
        for (fd = 3; fd < (max > 0 ? max : 1024); fd++) {
            for (i = 0; i < n && keep[i] != fd; i++) {
            }
            if (i == n) {
                close(fd);
            }
        }
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9') {
            continue;
        }
        fd = atoi(de->d_name);
        if (fd < 3 || fd == dirfd(d)) {
            continue;
        }
        for (i = 0; i < n && keep[i] != fd; i++) {
        }
        if (i == n) {
            close(fd);
        }
    }
    closedir(d);
}

rlim_t fcgi_pm_sock_raise_fd_limit(rlim_t want)
{
    struct rlimit rl, was;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return 0;
    }
    was = rl;
    if (rl.rlim_cur >= want) {
        return rl.rlim_cur;
    }
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        rl.rlim_max = want;           /* root (CAP_SYS_RESOURCE) may */
    }
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
        return want;
    }
    rl = was;                         /* else as far as the hard limit */
    rl.rlim_cur = rl.rlim_max;
    return setrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : was.rlim_cur;
}
