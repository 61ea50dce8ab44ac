/* storefile.c: message store segment files (see storefile.h). */
#include "storefile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "le.h"

static int write_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int read_all(int fd, uint8_t *p, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n == 0 ? 1 : -1; /* 1: the file ends first */
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int sync_dir_of(const char *path)
{
    char dir[512];
    int fd, rv;

    snprintf(dir, sizeof dir, "%s", path);
    if ((fd = open(dirname(dir), O_RDONLY | O_DIRECTORY)) < 0) {
        return -1;
    }
    rv = fsync(fd);
    close(fd);
    return rv;
}

static int buffer(struct storefile_writer *w, const void *p, size_t len)
{
    if (len == 0) {
        return 0; /* an empty body may come as NULL */
    }
    if (w->buf_len + len > w->buf_cap) {
        size_t cap = w->buf_cap ? w->buf_cap : 4096;
        uint8_t *b;
        while (cap < w->buf_len + len) {
            cap *= 2;
        }
        if ((b = mq_realloc(w->buf, cap)) == NULL) {
            return -1;
        }
        w->buf = b;
        w->buf_cap = cap;
    }
    memcpy(w->buf + w->buf_len, p, len);
    w->buf_len += len;
    return 0;
}

int storefile_create(struct storefile_writer *w, const char *path,
                     uint64_t first_seq, struct errmsg *e)
{
    uint8_t h[STORESEG_HEADER_SIZE];

    memset(w, 0, sizeof *w);
    w->fd = -1;
    if (strlen(path) >= sizeof w->path) {
        errmsg_set(e, "store segment %s: path too long", path);
        return -1;
    }
    snprintf(w->path, sizeof w->path, "%s", path);
    w->first_seq = first_seq;
    storeseg_header(h, first_seq);
    if (buffer(w, h, sizeof h) != 0) {
        errmsg_set(e, "store segment %s: out of memory", path);
        return -1;
    }
    w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        errmsg_set(e, "store segment %s: create: %s", path, strerror(errno));
        mq_free(w->buf);
        w->buf = NULL;
        return -1;
    }
    w->size = sizeof h;
    return 0;
}

int storefile_append(struct storefile_writer *w, uint64_t seq, const void *body,
                     uint32_t len, uint64_t *off, struct errmsg *e)
{
    uint8_t head[STORESEG_RECORD_HEAD];
    size_t before = w->buf_len;
    uint32_t crc;

    if (seq == 0 || seq < w->first_seq ||
        (w->t.records > 0 && seq <= w->t.last_seq)) {
        errmsg_set(e, "store segment %s: seq %llu after seq %llu", w->path,
                   (unsigned long long)seq, (unsigned long long)w->t.last_seq);
        return -1;
    }
    if (len > STORESEG_BODY_MAX) {
        errmsg_set(e, "store segment %s: body of %u bytes (at most %u)",
                   w->path, len, STORESEG_BODY_MAX);
        return -1;
    }
    crc = storeseg_record_head(head, seq, body, len);
    if (buffer(w, head, sizeof head) != 0 || buffer(w, body, len) != 0) {
        w->buf_len = before;
        errmsg_set(e, "store segment %s: out of memory", w->path);
        return -1;
    }
    *off = w->size;
    w->size += sizeof head + len;
    storeseg_tally_add(&w->t, seq, crc);
    return 0;
}

int storefile_sync(struct storefile_writer *w, struct errmsg *e)
{
    if (w->buf_len > 0 && write_all(w->fd, w->buf, w->buf_len, w->synced)) {
        errmsg_set(e, "store segment %s: write: %s", w->path, strerror(errno));
        return -1;
    }
    if (fdatasync(w->fd) != 0) {
        errmsg_set(e, "store segment %s: fdatasync: %s", w->path,
                   strerror(errno));
        return -1;
    }
    if (!w->dir_synced) {
        if (sync_dir_of(w->path) != 0) {
            errmsg_set(e, "store segment %s: sync its directory: %s", w->path,
                       strerror(errno));
            return -1;
        }
        w->dir_synced = 1;
    }
    w->synced += w->buf_len;
    w->buf_len = 0;
    return 0;
}

static void writer_close(struct storefile_writer *w)
{
    if (w->fd >= 0) {
        close(w->fd);
    }
    w->fd = -1;
    mq_free(w->buf);
    w->buf = NULL;
    w->buf_len = w->buf_cap = 0;
}

int storefile_seal(struct storefile_writer *w, struct errmsg *e)
{
    uint8_t t[STORESEG_TRAILER_SIZE];
    int rv;

    storeseg_trailer(t, &w->t);
    if (buffer(w, t, sizeof t) != 0) {
        errmsg_set(e, "store segment %s: out of memory", w->path);
        rv = -1;
    } else {
        rv = storefile_sync(w, e);
    }
    writer_close(w);
    return rv;
}

void storefile_abandon(struct storefile_writer *w)
{
    writer_close(w);
}

int storefile_read(int fd, uint64_t off, uint64_t seq, uint8_t **body,
                   uint32_t *len, struct errmsg *e)
{
    uint8_t head[STORESEG_RECORD_HEAD];
    const uint8_t *b;
    uint8_t *rec;
    uint32_t n;
    int rv;

    *body = NULL;
    *len = 0;
    if ((rv = read_all(fd, head, sizeof head, off)) != 0) {
        errmsg_set(e, "record at %llu: %s", (unsigned long long)off,
                   rv > 0 ? "past the end of the segment" : strerror(errno));
        return -1;
    }
    n = le_get32(head);
    if (n > STORESEG_BODY_MAX) {
        errmsg_set(e, "record at %llu: body of %u bytes (at most %u)",
                   (unsigned long long)off, n, STORESEG_BODY_MAX);
        return -1;
    }
    if ((rec = mq_malloc(sizeof head + (size_t)n)) == NULL) {
        errmsg_set(e, "record at %llu: out of memory", (unsigned long long)off);
        return -1;
    }
    memcpy(rec, head, sizeof head);
    if ((rv = read_all(fd, rec + sizeof head, n, off + sizeof head)) != 0 ||
        storeseg_record(rec, sizeof head + n, seq, &b, len, e) != 0) {
        if (rv != 0) {
            errmsg_set(e, "%s",
                       rv > 0 ? "body past the end of the segment"
                              : strerror(errno));
        }
        errmsg_wrap(e, "record at %llu", (unsigned long long)off);
        mq_free(rec);
        return -1;
    }
    memmove(rec, b, *len); /* the body alone */
    *body = rec;
    return 0;
}

/* Reads the whole file @fd (@size bytes) into a buffer of our own. */
static uint8_t *slurp(int fd, size_t size)
{
    uint8_t *buf = mq_malloc(size ? size : 1);

    if (buf != NULL && read_all(fd, buf, size, 0) != 0) {
        mq_free(buf);
        return NULL;
    }
    return buf;
}

int storefile_recover(const char *path, storeseg_record_cb cb, void *arg,
                      struct storeseg_scan *s, struct storefile_writer *w,
                      struct errmsg *e)
{
    int fd = open(path, O_RDWR | O_CLOEXEC); /* a torn tail is cut */
    struct stat st;
    uint8_t *buf = NULL;
    int rv = -1;

    memset(s, 0, sizeof *s);
    s->state = STORESEG_DAMAGED;
    if (fd < 0 || fstat(fd, &st) != 0) {
        errmsg_set(e, "store segment %s: %s", path, strerror(errno));
        goto out;
    }
    if ((buf = slurp(fd, (size_t)st.st_size)) == NULL) {
        errmsg_set(e, "store segment %s: read: %s", path,
                   errno ? strerror(errno) : "out of memory");
        goto out;
    }
    if (storeseg_scan(buf, (size_t)st.st_size, cb, arg, s, e) != 0) {
        errmsg_wrap(e, "store segment %s", path);
        goto out;
    }
    if (s->state == STORESEG_TORN) {
        /* The torn record goes: the raft log still holds it. */
        if (ftruncate(fd, (off_t)s->valid_end) != 0 || fdatasync(fd) != 0) {
            errmsg_set(e, "store segment %s: cut the torn tail at %zu: %s",
                       path, s->valid_end, strerror(errno));
            goto out;
        }
    }
    if (w != NULL) {
        memset(w, 0, sizeof *w);
        w->fd = -1;
    }
    if (w != NULL && s->state != STORESEG_CLOSED &&
        s->valid_end >= STORESEG_HEADER_SIZE) {
        snprintf(w->path, sizeof w->path, "%s", path);
        w->fd = fd;
        fd = -1;
        w->first_seq = s->first_seq;
        w->t = s->t;
        w->size = w->synced = s->valid_end;
        w->dir_synced = 1;
    }
    rv = 0;
out:
    if (fd >= 0) {
        close(fd);
    }
    mq_free(buf);
    return rv;
}
