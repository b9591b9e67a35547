/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared-memory table: apps, their workers and their counters.
 *
 * One anonymous shared segment, created once by the httpd parent in the
 * process pool, so it survives every graceful and is inherited by the
 * manager and by httpd's children through fork.  It is a PUBLICATION:
 *   - the manager copies its private state here (fcgi_pm_pool_publish)
 *     and never reads any of it back to decide anything: httpd's children
 *     run as httpd's User and can write the whole segment;
 *   - httpd children update requests/in_flight with atomic operations.
 * Readers (router, status page) read without locks and check what they
 * read: a torn read shows a stale figure, never a crash.
 */
#ifndef FCGI_PM_TABLE_H
#define FCGI_PM_TABLE_H

#include "fcgi_pm.h"
#include "apr_shm.h"
#include "apr_time.h"

#include <stddef.h>

#define FCGI_PM_TABLE_MAGIC   0x46435054u  /* "FCPT" */
#define FCGI_PM_TABLE_LAYOUT_N 3           /* bump (with FCGI_PM_PROTO_VERSION)
                                            * when the structs change */
#define FCGI_PM_TABLE_LAYOUT  ((apr_uint32_t)FCGI_PM_TABLE_LAYOUT_N)

/*
 * The layout below is checked at build time, field by field (offset and
 * size, as on LP64 Linux: x86_64, aarch64; other ABIs skip the checks).
 * A failing FCGI_PM_TABLE_AT means the table's layout changed.  Then bump
 * FCGI_PM_TABLE_LAYOUT_N and FCGI_PM_PROTO_VERSION (fcgi_pm.h), both: the
 * running manager keeps writing the segment it was forked with until a
 * manager of the new protocol takes over, so a new layout number alone
 * leaves httpd's new children reading a segment nobody writes.  Then
 * update the numbers here.  See docs/INTERNALS.md, "Compatibility rules".
 */
#if defined(__LP64__)
#define FCGI_PM_TABLE_AT(type, field, off, size)                            \
    _Static_assert(offsetof(type, field) == (off)                          \
                   && sizeof(((type *)0)->field) == (size),                \
                   #type "." #field " moved or changed size: bump "         \
                   "FCGI_PM_TABLE_LAYOUT_N and FCGI_PM_PROTO_VERSION")
#define FCGI_PM_TABLE_SIZE(type, size)                                      \
    _Static_assert(sizeof(type) == (size), "sizeof(" #type ") changed: "   \
                   "bump FCGI_PM_TABLE_LAYOUT_N and FCGI_PM_PROTO_VERSION")
#else
#define FCGI_PM_TABLE_AT(type, field, off, size) _Static_assert(1, "")
#define FCGI_PM_TABLE_SIZE(type, size) _Static_assert(1, "")
#endif

/* Workers shown per app (the manager keeps any number; more are counted
 * in "alive" but not listed). */
#define FCGI_PM_WORKER_SLOTS  (2 * FCGI_PM_MAX_PROCESSES)

/* App slots: twice the apps a configuration may define, so that a
 * graceful that swaps every app for others finds room while the old ones
 * drain.  An app's slot is found by the hash of its name (open
 * addressing, linear probing): O(1) for the router.  The segment is
 * reserved whole (about 150 MB of address space) but the kernel gives it
 * memory page by page as it is written: an app costs its 272-byte slot,
 * and its worker slots only once it has workers. */
#define FCGI_PM_TABLE_APPS    (2 * FCGI_PM_MAX_APPS)

typedef enum {
    FCGI_PM_ACTIVITY_UNKNOWN = 0,
    FCGI_PM_ACTIVITY_IDLE,
    FCGI_PM_ACTIVITY_BUSY
} fcgi_pm_worker_activity;

typedef enum {
    FCGI_PM_APP_FREE = 0,
    FCGI_PM_APP_STARTING,      /* no worker accepting yet */
    FCGI_PM_APP_RUNNING,
    FCGI_PM_APP_BACKOFF,       /* start-up keeps failing: waiting to retry */
    FCGI_PM_APP_DRAINING       /* removed from the configuration */
} fcgi_pm_app_state;

typedef enum {
    FCGI_PM_WORKER_FREE = 0,
    FCGI_PM_WORKER_STARTING,   /* forked, not yet seen waiting or serving */
    FCGI_PM_WORKER_READY,      /* has waited on or served the socket */
    FCGI_PM_WORKER_RETIRING    /* told to finish its request and exit */
} fcgi_pm_worker_state;

typedef struct {
    volatile pid_t pid;                 /* root of its tree (or a survivor) */
    volatile apr_uint32_t state;        /* fcgi_pm_worker_state */
    apr_uint32_t roll;                  /* the app's roll it was started for */
    apr_uint32_t adopted;               /* left by a dead manager, not our child */
    apr_uint32_t signalled;             /* retiring: stop signal sent */
    apr_uint32_t activity;              /* fcgi_pm_worker_activity */
    apr_uint32_t processes;             /* processes of its tree */
    apr_time_t started;
    apr_time_t ready_at;
    apr_time_t kill_at;                 /* SIGKILL deadline while retiring */
} fcgi_pm_worker_slot;

/* Layout FCGI_PM_TABLE_LAYOUT_N (see FCGI_PM_TABLE_AT above). */
FCGI_PM_TABLE_AT(fcgi_pm_worker_slot, pid, 0, 4);
FCGI_PM_TABLE_AT(fcgi_pm_worker_slot, state, 4, 4);
FCGI_PM_TABLE_AT(fcgi_pm_worker_slot, roll, 8, 4);
FCGI_PM_TABLE_AT(fcgi_pm_worker_slot, adopted, 12, 4);
FCGI_PM_TABLE_AT(fcgi_pm_worker_slot, signalled, 16, 4);
FCGI_PM_TABLE_AT(fcgi_pm_worker_slot, activity, 20, 4);
FCGI_PM_TABLE_AT(fcgi_pm_worker_slot, processes, 24, 4);
FCGI_PM_TABLE_AT(fcgi_pm_worker_slot, started, 32, 8);
FCGI_PM_TABLE_AT(fcgi_pm_worker_slot, ready_at, 40, 8);
FCGI_PM_TABLE_AT(fcgi_pm_worker_slot, kill_at, 48, 8);
FCGI_PM_TABLE_SIZE(fcgi_pm_worker_slot, 56);

typedef struct {
    volatile apr_uint32_t state;        /* fcgi_pm_app_state */
    char name[FCGI_PM_NAME_MAX];
    char addr[FCGI_PM_ADDR_MAX];
    apr_uint32_t roll;                  /* roll number of its current workers */
    apr_uint32_t processes;             /* configured */
    volatile apr_uint32_t ready;        /* workers accepting */
    volatile apr_uint32_t alive;        /* workers alive in any state */
    /* updated by httpd children */
    volatile apr_uint32_t requests;
    volatile apr_uint32_t in_flight;
    /* updated by the manager */
    volatile apr_uint32_t restarts;     /* workers started to replace one */
    volatile apr_uint32_t crashes;      /* exits on a signal or non-zero status */
    apr_uint32_t failed_starts;         /* consecutive start-up failures */
    apr_uint32_t backoff_step;
    apr_uint32_t backoff_seconds;
    apr_time_t backoff_until;
    apr_time_t created;
    apr_time_t last_exit_time;
    int last_exit_status;               /* raw wait status */
    apr_uint32_t ever_used;             /* claimed once: probing goes on
                                         * past it when it is free */
} fcgi_pm_app_slot;

/* Layout FCGI_PM_TABLE_LAYOUT_N (see FCGI_PM_TABLE_AT above); its
 * FCGI_PM_WORKER_SLOTS (128) worker slots of 56 bytes are in the table's
 * workers array (fcgi_pm_table_workers). */
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, state, 0, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, name, 4, 64);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, addr, 68, 128);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, roll, 196, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, processes, 200, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, ready, 204, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, alive, 208, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, requests, 212, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, in_flight, 216, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, restarts, 220, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, crashes, 224, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, failed_starts, 228, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, backoff_step, 232, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, backoff_seconds, 236, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, backoff_until, 240, 8);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, created, 248, 8);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, last_exit_time, 256, 8);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, last_exit_status, 264, 4);
FCGI_PM_TABLE_AT(fcgi_pm_app_slot, ever_used, 268, 4);
FCGI_PM_TABLE_SIZE(fcgi_pm_app_slot, 272);

typedef struct {
    apr_uint32_t magic;
    apr_uint32_t layout;
    apr_uint32_t max_apps;
    apr_uint32_t max_workers;
    volatile pid_t manager_pid;
    apr_uint32_t manager_forks;         /* managers started by this httpd */
    apr_time_t manager_started;
    apr_time_t created;
    volatile apr_uint32_t config_generation; /* httpd's, applied */
    volatile apr_uint32_t reloads;      /* generations received by managers */
    fcgi_pm_app_slot apps[FCGI_PM_TABLE_APPS];
    /* apps[i]'s workers: FCGI_PM_WORKER_SLOTS from i * FCGI_PM_WORKER_SLOTS */
    fcgi_pm_worker_slot workers[FCGI_PM_TABLE_APPS * FCGI_PM_WORKER_SLOTS];
} fcgi_pm_table;

/* Layout FCGI_PM_TABLE_LAYOUT_N (see FCGI_PM_TABLE_AT above): a 48-byte
 * header, FCGI_PM_TABLE_APPS (20000) app slots of 272 bytes, then 128
 * worker slots of 56 bytes for each. */
FCGI_PM_TABLE_AT(fcgi_pm_table, magic, 0, 4);
FCGI_PM_TABLE_AT(fcgi_pm_table, layout, 4, 4);
FCGI_PM_TABLE_AT(fcgi_pm_table, max_apps, 8, 4);
FCGI_PM_TABLE_AT(fcgi_pm_table, max_workers, 12, 4);
FCGI_PM_TABLE_AT(fcgi_pm_table, manager_pid, 16, 4);
FCGI_PM_TABLE_AT(fcgi_pm_table, manager_forks, 20, 4);
FCGI_PM_TABLE_AT(fcgi_pm_table, manager_started, 24, 8);
FCGI_PM_TABLE_AT(fcgi_pm_table, created, 32, 8);
FCGI_PM_TABLE_AT(fcgi_pm_table, config_generation, 40, 4);
FCGI_PM_TABLE_AT(fcgi_pm_table, reloads, 44, 4);
FCGI_PM_TABLE_AT(fcgi_pm_table, apps, 48, 20000 * 272);
FCGI_PM_TABLE_AT(fcgi_pm_table, workers, 48 + 20000 * 272, 20000 * 128 * 56);
FCGI_PM_TABLE_SIZE(fcgi_pm_table, 48 + 20000 * 272 + 20000 * 128 * 56);

/* Find the table in the process pool or create it there (parent only). */
apr_status_t fcgi_pm_table_attach(apr_pool_t *process_pool, fcgi_pm_table **out);

/* The worker slots of A, a slot of T. */
fcgi_pm_worker_slot *fcgi_pm_table_workers(fcgi_pm_table *t,
                                           const fcgi_pm_app_slot *a);

/* Slot of an app by name, NULL when the manager has none. */
fcgi_pm_app_slot *fcgi_pm_table_find_app(fcgi_pm_table *t, const char *name);

/* A free slot, claimed for NAME (manager only). */
fcgi_pm_app_slot *fcgi_pm_table_claim_app(fcgi_pm_table *t, const char *name,
                                          const char *addr);

/* Give a slot back (manager only). */
void fcgi_pm_table_release_app(fcgi_pm_app_slot *a);

const char *fcgi_pm_table_app_state_name(apr_uint32_t state);

#endif /* FCGI_PM_TABLE_H */
