/* segcheck.c: see segcheck.h. */
#include "segcheck.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "datafile.h"
#include "log.h"
#include "segscan.h"

#define MAX_OPEN 64

static int cmp_u64(const void *a, const void *b)
{
    unsigned long long x = *(const unsigned long long *)a;
    unsigned long long y = *(const unsigned long long *)b;
    return x < y ? -1 : x > y;
}

/* The counters N of the files "open-N" in @dir, sorted (as raft_uv loads
 * them). Returns how many, or -1 (@e set). */
static int list_open(const char *dir, unsigned long long *out, int max,
                     struct errmsg *e)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    int n = 0;
    if (d == NULL) {
        errmsg_set(e, "list %s: cannot open it", dir);
        return -1;
    }
    while ((ent = readdir(d)) != NULL) {
        unsigned long long counter;
        int used = 0;
        if (strncmp(ent->d_name, "open-", 5) != 0 ||
            sscanf(ent->d_name, "open-%llu%n", &counter, &used) != 1 ||
            used != (int)strlen(ent->d_name)) {
            continue;
        }
        if (n == max) {
            closedir(d);
            errmsg_set(e, "%s holds more than %d open segments", dir, max);
            return -1;
        }
        out[n++] = counter;
    }
    closedir(d);
    qsort(out, (size_t)n, sizeof *out, cmp_u64);
    return n;
}

/* Where a segment cut short ended: a later segment must hold no entry. */
struct torn {
    char name[32];
    size_t at;
};

static mq_err check_one(const char *dir, const char *name, struct torn *torn,
                        struct errmsg *e)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    struct segscan s;
    mq_err rv = datafile_read(dir, name, &buf, &len, e);
    if (rv != MQ_OK) {
        errmsg_wrap(e, "open segment %s", name);
        return rv;
    }
    segscan_run(buf, len, &s);
    mq_free(buf);

    if (s.kind == SEGSCAN_DAMAGED) {
        errmsg_set(e,
                   "open segment %s: the batch at byte %zu is damaged (%s) "
                   "and a valid batch follows at byte %zu: refusing to drop "
                   "entries this node may have acknowledged",
                   name, s.bad_at, s.why, s.next_at);
        return MQ_ERR_INVALID;
    }
    if (torn->name[0] != '\0' && s.n_batches > 0) {
        errmsg_set(e,
                   "open segment %s holds %llu entries after the end of %s, "
                   "cut at byte %zu: refusing to load them at the wrong "
                   "indexes",
                   name, (unsigned long long)s.n_entries, torn->name, torn->at);
        return MQ_ERR_INVALID;
    }
    if (s.kind == SEGSCAN_EMPTY ||
        (s.kind == SEGSCAN_TORN && s.n_batches == 0)) {
        /* No entry: raft_uv would remove it, or refuse to start over it
         * when a bit in it is not zero. */
        if (s.kind == SEGSCAN_TORN) {
            LOG_WARN("open segment %s holds no entry but non-zero bytes "
                     "from byte %zu on: damage in space never written, or a "
                     "first write cut short; removing it",
                     name, s.nonzero_at);
        } else if (s.format != 0 && s.format != SEGSCAN_FORMAT) {
            LOG_WARN("open segment %s was never written but its format word "
                     "reads %llu: removing it",
                     name, (unsigned long long)s.format);
        }
        return datafile_remove(dir, name, e);
    }
    if (s.format_bad) {
        uint8_t word[8] = {SEGSCAN_FORMAT};
        LOG_WARN("open segment %s: its format word reads %llu but %llu valid "
                 "batches follow it: rewriting it",
                 name, (unsigned long long)s.format,
                 (unsigned long long)s.n_batches);
        rv = datafile_pwrite(dir, name, 0, word, sizeof word, e);
        if (rv != MQ_OK) {
            return rv;
        }
    }
    if (s.kind == SEGSCAN_TORN) {
        LOG_WARN("open segment %s: the bytes from %zu on hold no valid batch "
                 "(%s; the first non-zero byte is at %zu) and nothing valid "
                 "follows: a write cut short, or damage in space never "
                 "written; keeping the %llu entries before it",
                 name, s.bad_at, s.why, s.nonzero_at,
                 (unsigned long long)s.n_entries);
        snprintf(torn->name, sizeof torn->name, "%s", name);
        torn->at = s.valid_end;
        return datafile_truncate(dir, name, s.valid_end, e);
    }
    return MQ_OK;
}

mq_err segcheck_open(const char *dir, struct errmsg *e)
{
    unsigned long long counters[MAX_OPEN];
    struct torn torn = {{0}, 0};
    int n = list_open(dir, counters, MAX_OPEN, e);
    if (n < 0) {
        return MQ_ERR_INTERNAL;
    }
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "open-%llu", counters[i]);
        mq_err rv = check_one(dir, name, &torn, e);
        if (rv != MQ_OK) {
            return rv;
        }
    }
    return MQ_OK;
}
