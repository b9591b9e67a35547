/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Each app's mod_proxy worker: the backend FcgiPmPass hands requests to,
 * with the app's timeouts and mod_proxy_fcgi's flushpackets=auto; and the
 * 504 of a request that outlived its app's MaxRequestTime.
 */
#ifndef FCGI_PM_PROXYWORKER_H
#define FCGI_PM_PROXYWORKER_H

#include "fcgi_pm.h"

/* flushwait= of every app's worker, in milliseconds: how long
 * mod_proxy_fcgi waits for more of an answer before it flushes what it
 * has to the client. */
#define FCGI_PM_FLUSH_WAIT_MS 10

/* check_config, after fcgi_pm_config_check: define the worker of every
 * app an FcgiPmPass uses, in each (virtual) server whose requests can
 * reach that FcgiPmPass, as <Proxy "fcgi://HOST"> + ProxySet would.
 * Returns NULL or an error naming the app's file and line. */
const char *fcgi_pm_proxyworker_define(apr_pool_t *pconf, apr_pool_t *ptemp,
                                       server_rec *s, fcgi_pm_server_conf *sc);

/* post_config (the error log is open): log the workers defined, at
 * LogLevel debug. */
/* The worker APP->proxy_worker with APP's timeouts, in server S only
 * (the scripts of a server, fcgid_conf.c).  NULL or an error; nothing
 * when mod_proxy is not loaded. */
const char *fcgi_pm_proxyworker_define_in(apr_pool_t *pconf, apr_pool_t *ptemp,
                                          server_rec *s,
                                          const fcgi_pm_app_conf *app);

void fcgi_pm_proxyworker_log(server_rec *s, const fcgi_pm_server_conf *sc);

/* register_hooks: mod_proxy's request_status hook (an optional hook, so
 * that nothing of mod_proxy is linked: it may be loaded after us). */
void fcgi_pm_proxyworker_register_hooks(apr_pool_t *p);

/* fixups: R goes to APP's worker; its time starts now. */
void fcgi_pm_proxyworker_start(request_rec *r, const fcgi_pm_app_conf *app);

#endif /* FCGI_PM_PROXYWORKER_H */
