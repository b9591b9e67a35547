/*
 * Small readers of /proc, shared by the manager and the status page.
 */
#include "fcgi_pm_proc.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int fcgi_pm_proc_read(const char *path, char *buf, size_t size)
{
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || size == 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    return (int)n;
}

const char *fcgi_pm_proc_stat(pid_t pid, char *buf, size_t size)
{
    char path[64];
    char *paren;

    if (pid > 0) {
        snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    }
    else {
        snprintf(path, sizeof(path), "/proc/self/stat");
    }
    if (fcgi_pm_proc_read(path, buf, size) < 0) {
        return NULL;
    }
    paren = strrchr(buf, ')');          /* field 2 may contain spaces */
    return (paren && paren[1] == ' ' && paren[2]) ? paren + 2 : NULL;
}

const char *fcgi_pm_proc_stat_field(const char *fields, int n)
{
    const char *p = fields;

    for (; p && n > 3; n--) {
        p = strchr(p, ' ');
        if (p) {
            p++;
        }
    }
    return p;
}
