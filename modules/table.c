/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared-memory table (see fcgi_pm_table.h for who writes what).
 */
#include "fcgi_pm_table.h"

#include "apr_strings.h"
#include "apr_atomic.h"

#include <string.h>

/* The segment hangs off the process pool under a key that names the
 * layout and the protocol: a module built with another layout never reads
 * this one, and after a module upgrade the old manager (which keeps
 * writing the old table until it hands over) and the new one never share. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define TABLE_POOL_KEY "fcgi_pm_table_layout_" STR(FCGI_PM_TABLE_LAYOUT_N) \
                       "_proto_" STR(FCGI_PM_PROTO_VERSION)

apr_status_t fcgi_pm_table_attach(apr_pool_t *process_pool, fcgi_pm_table **out)
{
    void *data = NULL;
    apr_shm_t *shm;
    fcgi_pm_table *t;
    apr_status_t rv;

    apr_pool_userdata_get(&data, TABLE_POOL_KEY, process_pool);
    if (data) {
        *out = data;
        return APR_SUCCESS;
    }
    /* Anonymous: inherited through fork by the manager and the children;
     * APR's cleanup (not ours, so no DSO pointer) unmaps it at exit. */
    rv = apr_shm_create(&shm, sizeof(fcgi_pm_table), NULL, process_pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    t = apr_shm_baseaddr_get(shm);
    /* A new anonymous mapping reads as zeros already: writing them would
     * give the whole segment memory (about 150 MB, see FCGI_PM_TABLE_APPS). */
    t->magic = FCGI_PM_TABLE_MAGIC;
    t->layout = FCGI_PM_TABLE_LAYOUT;
    t->max_apps = FCGI_PM_TABLE_APPS;
    t->max_workers = FCGI_PM_WORKER_SLOTS;
    t->created = apr_time_now();
    apr_pool_userdata_set(t, TABLE_POOL_KEY, apr_pool_cleanup_null, process_pool);
    *out = t;
    return APR_SUCCESS;
}

fcgi_pm_worker_slot *fcgi_pm_table_workers(fcgi_pm_table *t,
                                           const fcgi_pm_app_slot *a)
{
    return &t->workers[(apr_size_t)(a - t->apps) * FCGI_PM_WORKER_SLOTS];
}

/* Where the probe for NAME starts (FNV-1a). */
static apr_size_t home_of(const char *name)
{
    apr_uint32_t h = 2166136261u;

    for (; *name; name++) {
        h = (h ^ (unsigned char)*name) * 16777619u;
    }
    return h % FCGI_PM_TABLE_APPS;
}

/* The slots NAME may be in, in probing order, go from its home on up to
 * the first slot never used; the walk is bounded by the table's size
 * whatever a writer of the segment put in it. */
fcgi_pm_app_slot *fcgi_pm_table_find_app(fcgi_pm_table *t, const char *name)
{
    apr_size_t home = home_of(name), k;

    for (k = 0; k < FCGI_PM_TABLE_APPS; k++) {
        fcgi_pm_app_slot *a = &t->apps[(home + k) % FCGI_PM_TABLE_APPS];
        if (a->state == FCGI_PM_APP_FREE && !a->ever_used) {
            return NULL;              /* the end of NAME's probe */
        }
        if (a->state != FCGI_PM_APP_FREE
            && strncmp(a->name, name, sizeof(a->name)) == 0) {
            return a;
        }
    }
    return NULL;
}

static void clear_workers(fcgi_pm_table *t, const fcgi_pm_app_slot *a)
{
    memset(fcgi_pm_table_workers(t, a), 0,
           FCGI_PM_WORKER_SLOTS * sizeof(fcgi_pm_worker_slot));
}

fcgi_pm_app_slot *fcgi_pm_table_claim_app(fcgi_pm_table *t, const char *name,
                                          const char *addr)
{
    fcgi_pm_app_slot *a = fcgi_pm_table_find_app(t, name);
    apr_size_t home = home_of(name), k;

    if (a) {
        /* A dead manager's slot for this app (the caller has no app of
         * that name): taken over, so that it is not listed twice and
         * httpd's children, which find slots by name, keep counting in
         * it.  Their counters stay; the manager's figures start anew. */
        apr_uint32_t requests = a->requests, in_flight = a->in_flight;
        a->state = FCGI_PM_APP_STARTING;
        memset((char *)a + sizeof(a->state), 0, sizeof(*a) - sizeof(a->state));
        apr_cpystrn(a->name, name, sizeof(a->name));
        apr_cpystrn(a->addr, addr, sizeof(a->addr));
        a->requests = requests;
        a->in_flight = in_flight;
        a->ever_used = 1;
        a->created = apr_time_now();
        clear_workers(t, a);
        return a;
    }
    /* The first free slot on NAME's probe, a never used one at the end. */
    for (k = 0; k < FCGI_PM_TABLE_APPS; k++) {
        a = &t->apps[(home + k) % FCGI_PM_TABLE_APPS];
        if (a->state == FCGI_PM_APP_FREE) {
            if (a->ever_used) {
                clear_workers(t, a);  /* a never used one is all zero: left
                                       * untouched, it costs no memory */
            }
            memset(a, 0, sizeof(*a));
            a->ever_used = 1;
            apr_cpystrn(a->name, name, sizeof(a->name));
            apr_cpystrn(a->addr, addr, sizeof(a->addr));
            a->created = apr_time_now();
            a->state = FCGI_PM_APP_STARTING;  /* published last */
            return a;
        }
    }
    return NULL;
}

void fcgi_pm_table_release_app(fcgi_pm_app_slot *a)
{
    a->state = FCGI_PM_APP_FREE;
    a->name[0] = '\0';
}

const char *fcgi_pm_table_app_state_name(apr_uint32_t state)
{
    switch (state) {
    case FCGI_PM_APP_STARTING: return "starting";
    case FCGI_PM_APP_RUNNING:  return "running";
    case FCGI_PM_APP_BACKOFF:  return "backing-off";
    case FCGI_PM_APP_DRAINING: return "draining";
    default:                   return "free";
    }
}
