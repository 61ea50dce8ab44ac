/* storeq.c: one queue's message store, a directory of segments (see
 * storeq.h). */
#include "storeq.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "storefile.h"
#include "storeseg.h"

#define NAME_DIGITS 20
#define NAME_SUFFIX ".seg"

struct seginfo {
    uint64_t first;
    uint64_t last; /* 0 while it holds nothing */
    int sealed;
};

struct storeq {
    char dir[400];
    uint64_t seg_max;
    struct seginfo *segs; /* by first seq */
    size_t n, cap;
    struct storefile_writer w; /* the open segment, the last, if w_open */
    int w_open;
    uint64_t next;
    int read_fd; /* one sealed segment kept open for reads */
    uint64_t read_seg;
};

static void seg_path(const struct storeq *q, uint64_t first, char *out,
                     size_t len)
{
    snprintf(out, len, "%s/%0*" PRIu64 "%s", q->dir, NAME_DIGITS, first,
             NAME_SUFFIX);
}

/* The first seq a segment's file name gives, or -1 if it is not one. */
static int parse_name(const char *name, uint64_t *first)
{
    char *end;

    if (strlen(name) != NAME_DIGITS + strlen(NAME_SUFFIX) ||
        strcmp(name + NAME_DIGITS, NAME_SUFFIX) != 0) {
        return -1;
    }
    for (int i = 0; i < NAME_DIGITS; i++) {
        if (name[i] < '0' || name[i] > '9') {
            return -1;
        }
    }
    errno = 0;
    *first = strtoull(name, &end, 10);
    return errno == 0 && end == name + NAME_DIGITS ? 0 : -1;
}

static int add_seg(struct storeq *q, uint64_t first)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 8;
        struct seginfo *s = mq_realloc(q->segs, cap * sizeof *s);
        if (s == NULL) {
            return -1;
        }
        q->segs = s;
        q->cap = cap;
    }
    memset(&q->segs[q->n], 0, sizeof q->segs[0]);
    q->segs[q->n++].first = first;
    return 0;
}

static int cmp_seg(const void *a, const void *b)
{
    uint64_t x = ((const struct seginfo *)a)->first;
    uint64_t y = ((const struct seginfo *)b)->first;
    return x < y ? -1 : x > y;
}

static int sync_dir(const struct storeq *q)
{
    int fd = open(q->dir, O_RDONLY | O_DIRECTORY), rv;
    if (fd < 0) {
        return -1;
    }
    rv = fsync(fd);
    close(fd);
    return rv;
}

/* A sealed segment, checked by its ends: header and trailer (their CRCs,
 * its first seq as named), not its bodies. */
static int check_sealed(const struct storeq *q, struct seginfo *s,
                        struct errmsg *e)
{
    uint8_t head[STORESEG_HEADER_SIZE], tail[STORESEG_TRAILER_SIZE];
    char path[512];
    struct stat st;
    struct storeseg_ends ends;
    int fd, rv = -1;

    seg_path(q, s->first, path, sizeof path);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
        errmsg_set(e, "store segment %s: %s", path, strerror(errno));
        goto out;
    }
    if ((size_t)st.st_size < sizeof head + sizeof tail ||
        pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
        pread(fd, tail, sizeof tail, st.st_size - (off_t)sizeof tail) !=
            (ssize_t)sizeof tail) {
        errmsg_set(e,
                   "store segment %s: %lld bytes, not sealed, and a later "
                   "segment exists",
                   path, (long long)st.st_size);
        goto out;
    }
    if (storeseg_check_ends(head, tail, &ends, e) != 0) {
        errmsg_wrap(e, "store segment %s", path);
        goto out;
    }
    if (ends.first_seq != s->first) {
        errmsg_set(e, "store segment %s: starts at seq %" PRIu64, path,
                   ends.first_seq);
        goto out;
    }
    s->last = ends.last_seq;
    s->sealed = 1;
    rv = 0;
out:
    if (fd >= 0) {
        close(fd);
    }
    return rv;
}

/* The last segment: recovered (a torn tail cut), open for appends unless
 * it was sealed; one torn inside its header goes. */
static int recover_last(struct storeq *q, struct errmsg *e)
{
    struct seginfo *s = &q->segs[q->n - 1];
    struct storeseg_scan scan;
    char path[512];

    seg_path(q, s->first, path, sizeof path);
    if (storefile_recover(path, NULL, NULL, &scan, &q->w, e) != 0) {
        return -1;
    }
    if (scan.state == STORESEG_TORN && scan.valid_end == 0) {
        if (unlink(path) != 0 || sync_dir(q) != 0) {
            errmsg_set(e, "store segment %s: remove: %s", path,
                       strerror(errno));
            return -1;
        }
        q->n--;
        return 0;
    }
    if (scan.first_seq != s->first) {
        storefile_abandon(&q->w);
        errmsg_set(e, "store segment %s: starts at seq %" PRIu64, path,
                   scan.first_seq);
        return -1;
    }
    s->last = scan.t.records ? scan.t.last_seq : 0;
    s->sealed = scan.state == STORESEG_CLOSED;
    q->w_open = !s->sealed;
    return 0;
}

int storeq_open(const char *dir, uint64_t seg_max_bytes, struct storeq **out,
                struct errmsg *e)
{
    struct storeq *q = mq_malloc(sizeof *q);
    DIR *d = NULL;
    struct dirent *de;

    *out = NULL;
    if (q == NULL) {
        errmsg_set(e, "store %s: out of memory", dir);
        return -1;
    }
    memset(q, 0, sizeof *q);
    q->read_fd = -1;
    q->w.fd = -1;
    q->seg_max = seg_max_bytes;
    snprintf(q->dir, sizeof q->dir, "%s", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        errmsg_set(e, "store %s: mkdir: %s", dir, strerror(errno));
        goto fail;
    }
    if ((d = opendir(dir)) == NULL) {
        errmsg_set(e, "store %s: %s", dir, strerror(errno));
        goto fail;
    }
    while ((de = readdir(d)) != NULL) {
        uint64_t first;
        if (parse_name(de->d_name, &first) == 0 && add_seg(q, first) != 0) {
            errmsg_set(e, "store %s: out of memory", dir);
            goto fail;
        }
    }
    closedir(d);
    d = NULL;
    if (q->n > 1) {
        qsort(q->segs, q->n, sizeof q->segs[0], cmp_seg);
    }
    for (size_t i = 0; i + 1 < q->n; i++) {
        if (check_sealed(q, &q->segs[i], e) != 0) {
            goto fail;
        }
        if (q->segs[i].last >= q->segs[i + 1].first) {
            errmsg_set(e,
                       "store %s: segment of seqs %" PRIu64 "-%" PRIu64
                       " overlaps the next, from %" PRIu64,
                       dir, q->segs[i].first, q->segs[i].last,
                       q->segs[i + 1].first);
            goto fail;
        }
    }
    if (q->n > 0 && recover_last(q, e) != 0) {
        goto fail;
    }
    if (q->n > 0) {
        const struct seginfo *l = &q->segs[q->n - 1];
        q->next = l->last ? l->last + 1 : l->first;
    }
    *out = q;
    return 0;
fail:
    if (d != NULL) {
        closedir(d);
    }
    mq_free(q->segs);
    mq_free(q);
    return -1;
}

uint64_t storeq_next_seq(const struct storeq *q)
{
    return q->next;
}

size_t storeq_segments(const struct storeq *q)
{
    return q->n;
}

int storeq_append(struct storeq *q, uint64_t seq, const void *body,
                  uint32_t len, struct storeq_loc *loc, struct errmsg *e)
{
    struct seginfo *s;

    if (seq < q->next || (q->next == 0 && q->n > 0)) {
        errmsg_set(e,
                   "store %s: seq %" PRIu64 " where %" PRIu64
                   " or later was expected",
                   q->dir, seq, q->next);
        return -1;
    }
    if (!q->w_open) {
        char path[512];
        if (add_seg(q, seq) != 0) {
            errmsg_set(e, "store %s: out of memory", q->dir);
            return -1;
        }
        seg_path(q, seq, path, sizeof path);
        if (storefile_create(&q->w, path, seq, e) != 0) {
            q->n--;
            return -1;
        }
        q->w_open = 1;
    }
    s = &q->segs[q->n - 1];
    if (storefile_append(&q->w, seq, body, len, &loc->off, e) != 0) {
        return -1;
    }
    loc->seg = s->first;
    s->last = seq;
    q->next = seq + 1;
    if (q->w.size >= q->seg_max) {
        /* Rotate: seal this one; the next append starts the next. */
        q->w_open = 0;
        if (storefile_seal(&q->w, e) != 0) {
            return -1;
        }
        s->sealed = 1;
    }
    return 0;
}

int storeq_sync(struct storeq *q, struct errmsg *e)
{
    return q->w_open ? storefile_sync(&q->w, e) : 0;
}

int storeq_read(struct storeq *q, const struct storeq_loc *loc, uint64_t seq,
                uint8_t **body, uint32_t *len, struct errmsg *e)
{
    char path[512];

    *body = NULL;
    if (q->w_open && loc->seg == q->segs[q->n - 1].first &&
        loc->off >= q->w.synced) {
        /* Not written yet: in the writer's buffer. */
        const uint8_t *b;
        uint64_t at = loc->off - q->w.synced;
        if (at >= q->w.buf_len ||
            storeseg_record(q->w.buf + at, q->w.buf_len - at, seq, &b, len,
                            e) != 0) {
            errmsg_wrap(e, "store %s: record at %" PRIu64, q->dir, loc->off);
            return -1;
        }
        if ((*body = mq_malloc(*len ? *len : 1)) == NULL) {
            errmsg_set(e, "store %s: out of memory", q->dir);
            return -1;
        }
        memcpy(*body, b, *len);
        return 0;
    }
    seg_path(q, loc->seg, path, sizeof path);
    if (q->read_fd < 0 || q->read_seg != loc->seg) {
        if (q->read_fd >= 0) {
            close(q->read_fd);
        }
        q->read_fd = open(path, O_RDONLY | O_CLOEXEC);
        q->read_seg = loc->seg;
        if (q->read_fd < 0) {
            errmsg_set(e, "store segment %s: %s", path, strerror(errno));
            return -1;
        }
    }
    if (storefile_read(q->read_fd, loc->off, seq, body, len, e) != 0) {
        errmsg_wrap(e, "store segment %s", path);
        return -1;
    }
    return 0;
}

int storeq_drop_below(struct storeq *q, uint64_t seq, struct errmsg *e)
{
    size_t gone = 0;
    int failed = 0;

    while (gone < q->n && q->segs[gone].sealed && q->segs[gone].last < seq) {
        char path[512];
        seg_path(q, q->segs[gone].first, path, sizeof path);
        if (q->read_fd >= 0 && q->read_seg == q->segs[gone].first) {
            close(q->read_fd);
            q->read_fd = -1;
        }
        if (unlink(path) != 0) {
            errmsg_set(e, "store segment %s: remove: %s", path,
                       strerror(errno));
            failed = 1;
            break;
        }
        gone++;
    }
    if (gone > 0) {
        memmove(q->segs, q->segs + gone, (q->n - gone) * sizeof q->segs[0]);
    }
    q->n -= gone;
    if (gone > 0 && sync_dir(q) != 0) {
        errmsg_set(e, "store %s: sync the directory: %s", q->dir,
                   strerror(errno));
        failed = 1;
    }
    return failed ? -1 : (int)gone;
}

void storeq_close(struct storeq *q)
{
    if (q == NULL) {
        return;
    }
    if (q->w_open) {
        storefile_abandon(&q->w);
    }
    if (q->read_fd >= 0) {
        close(q->read_fd);
    }
    mq_free(q->segs);
    mq_free(q);
}
