/*
 * SetHandler fcgi-pm-status: the shared-memory table, read without locks.
 */
#include "fcgi_pm_status.h"
#include "fcgi_pm_parent.h"
#include "fcgi_pm_table.h"

#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

int fcgi_pm_status_handler(request_rec *r)
{
    fcgi_pm_table *t = fcgi_pm_parent_table();
    int i, j;

    if (!r->handler || strcmp(r->handler, "fcgi-pm-status")) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    ap_set_content_type(r, "text/plain; charset=utf-8");
    if (!t) {
        ap_rputs("ManagerPid: 0\n", r);
        return OK;
    }
    ap_rprintf(r, "ManagerPid: %ld\nGeneration: %u\n", (long)t->manager_pid,
               t->generation);
    for (i = 0; i < FCGI_PM_MAX_APPS; i++) {
        fcgi_pm_app_slot *a = &t->apps[i];
        if (a->state == FCGI_PM_APP_FREE) {
            continue;
        }
        ap_rprintf(r, "App: %s state=%s generation=%u ready=%u alive=%u "
                   "requests=%u in_flight=%u restarts=%u crashes=%u\n",
                   a->name, fcgi_pm_table_app_state_name(a->state),
                   a->generation, a->ready, a->alive, a->requests,
                   a->in_flight, a->restarts, a->crashes);
        for (j = 0; j < FCGI_PM_WORKER_SLOTS; j++) {
            fcgi_pm_worker_slot *w = &a->workers[j];
            if (w->pid) {
                ap_rprintf(r, "  Worker: %ld state=%s generation=%u\n",
                           (long)w->pid,
                           fcgi_pm_table_worker_state_name(w->state),
                           w->generation);
            }
        }
    }
    return OK;
}

void fcgi_pm_status_register_hooks(apr_pool_t *p)
{
}
