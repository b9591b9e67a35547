/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The demo app: a plain libfcgi program.  mod_fcgi_pm starts it with its
 * listen socket on fd 0, so it needs no address of its own.
 *   cc -O2 -o hello hello.c -lfcgi
 */
#include <fcgi_stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
    unsigned long served = 0;

    while (FCGI_Accept() >= 0) {
        const char *path = getenv("PATH_INFO");
        printf("Content-Type: text/plain\r\n\r\n");
        printf("Hello from mod_fcgi_pm worker %ld (request %lu of this worker)\n",
               (long)getpid(), ++served);
        printf("PATH_INFO=%s\n", path ? path : "");
    }
    return 0;
}
