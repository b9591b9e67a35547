/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manager's side of mod_fcgid's process classes (fcgi_pm_fcgid.h):
 * the class templates of the running generation, the spawn socket httpd's
 * children ask on, and the APP specs of the classes it creates.
 *
 * What a child sends is not trusted: a wrapper must be a command line of
 * the configuration files (the parent's CLASS records), a script path must
 * be absolute and clean, and under the server's DocumentRoot when its
 * class runs as SuexecUserGroup's user; the worker checks the file again
 * after dropping privileges (spawn.c, FCGI_PM_EXEC_*).  Identity, limits
 * and environment always come from the template, never from the child.
 */
#ifndef FCGI_PM_SCRIPTS_H
#define FCGI_PM_SCRIPTS_H

#include "fcgi_pm.h"
#include "fcgi_pm_proto.h"

/* Once, in the manager. */
void fcgi_pm_scripts_init(server_rec *s, apr_pool_t *pool);

/* BEGIN: a new generation's templates follow; SOCKET_DIR and GID are
 * where the spawn socket lives and whom it is for. */
void fcgi_pm_scripts_begin(const char *socket_dir, gid_t httpd_gid);

/* A CLASS record of the generation being received. */
void fcgi_pm_scripts_class(const fcgi_pm_msg *msg);

/* COMMIT: the templates received become the running ones; the spawn
 * socket is (re)opened when its place changed. */
void fcgi_pm_scripts_commit(void);

/* The spawn socket (-1: none), for the manager's poll(). */
int fcgi_pm_scripts_fd(void);

/* The manager exits: the spawn socket is closed, and with REMOVE_FILE its
 * file goes too when it is still ours (not taken over). */
void fcgi_pm_scripts_close(int remove_file);

/* A class's APP spec from the running template, in P: for a request
 * (KEY, KIND, COMMAND).  Returns NULL, or why it is refused. */
const char *fcgi_pm_scripts_spec(apr_pool_t *p, const char *key,
                                 const char *kind, const char *command,
                                 fcgi_pm_app_spec *out);

/* The listen socket of a new class at SPEC's socket path; -1 with *ERR. */
int fcgi_pm_scripts_listen(apr_pool_t *p, const fcgi_pm_app_spec *spec,
                           const char **err);

/* One request on the spawn socket, if one is waiting: its connection,
 * its (KEY, KIND, COMMAND) in P.  Returns the connection (answer it with
 * fcgi_pm_scripts_answer), or -1 when nothing (valid) is there. */
int fcgi_pm_scripts_next_request(apr_pool_t *p, const char **key,
                                 const char **kind, const char **command);

/* Answer on CONN with NAME, or with ERROR when NAME is NULL; closes CONN. */
void fcgi_pm_scripts_answer(int conn, const char *name, const char *error);

#endif /* FCGI_PM_SCRIPTS_H */
