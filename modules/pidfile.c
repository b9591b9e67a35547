/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manager's pid file (see fcgi_pm_pidfile.h).
 */
#include "fcgi_pm_pidfile.h"

#include "apr_strings.h"

#include <sys/stat.h>
#include <sys/random.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PIDFILE_TRIES    8
#define PIDFILE_MAX_READ 32      /* a pid and a newline, with room to spare */

/* 64 unpredictable bits (getrandom; the clock and pid only if it fails). */
static unsigned long long random_tag(void)
{
    unsigned long long v = 0;
    struct timespec ts;

    if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v)) {
        return v;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((unsigned long long)ts.tv_nsec << 20) ^ (unsigned long long)ts.tv_sec
           ^ ((unsigned long long)getpid() << 40);
}

static apr_status_t write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? errno : APR_EGENERAL;
        }
        buf += n;
        len -= (size_t)n;
    }
    return APR_SUCCESS;
}

apr_status_t fcgi_pm_pidfile_write(const char *path, pid_t pid)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t tmpcap = strlen(path) + 32;
    char *tmp = malloc(tmpcap);
    char num[32];
    int fd = -1, tries, n;
    apr_status_t rv = APR_SUCCESS;

    if (!tmp) {
        return APR_ENOMEM;
    }
    n = snprintf(num, sizeof(num), "%ld\n", (long)pid);
    for (tries = 0; tries < PIDFILE_TRIES; tries++) {
        /* DIR/.BASE.<16 hex digits>: never a name someone could plant in
         * advance, and O_EXCL|O_NOFOLLOW refuse anything already there. */
        snprintf(tmp, tmpcap, "%.*s.%s.%016llx", (int)dirlen, path,
                 path + dirlen, random_tag());
        fd = open(tmp, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC,
                  0644);
        if (fd >= 0 || errno != EEXIST) {
            break;
        }
    }
    if (fd < 0) {
        rv = errno ? errno : APR_EEXIST;
        free(tmp);
        return rv;
    }
    rv = write_all(fd, num, (size_t)n);
    if (close(fd) != 0 && rv == APR_SUCCESS) {
        rv = errno;
    }
    /* rename() replaces whatever PATH is (file, symlink, FIFO) without
     * opening it. */
    if (rv == APR_SUCCESS && rename(tmp, path) != 0) {
        rv = errno;
    }
    if (rv != APR_SUCCESS) {
        unlink(tmp);
    }
    free(tmp);
    return rv;
}

pid_t fcgi_pm_pidfile_read(const char *path)
{
    char buf[PIDFILE_MAX_READ + 1];
    struct stat st;
    ssize_t n;
    char *end = NULL;
    long v;
    int fd;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return 0;
    }
    do {
        n = read(fd, buf, PIDFILE_MAX_READ);
    } while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    errno = 0;
    v = strtol(buf, &end, 10);
    if (errno || end == buf || (*end && *end != '\n') || v <= 1
        || (long)(pid_t)v != v) {
        return 0;
    }
    return (pid_t)v;
}

void fcgi_pm_pidfile_remove_if(const char *path, pid_t pid)
{
    if (pid > 1 && fcgi_pm_pidfile_read(path) == pid) {
        /* unlink() removes the name, whatever it became meanwhile: it
         * never follows a symlink nor touches another file's content. */
        unlink(path);
    }
}
