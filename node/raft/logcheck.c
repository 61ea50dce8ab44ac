/* logcheck.c: see logcheck.h. */
#include "logcheck.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "crc32c.h"
#include "datafile.h"
#include "le.h"
#include "segscan.h"
#include "snapfile.h"

#define META_MAX_CONF (1024 * 1024)
#define CHUNK (1024 * 1024)

static mq_err check_closed(const char *dir, const char *name,
                           unsigned long long first, unsigned long long last,
                           struct errmsg *e)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    struct segscan s;
    mq_err rv = datafile_read(dir, name, &buf, &len, e);
    if (rv != MQ_OK) {
        errmsg_wrap(e, "closed segment %s", name);
        return rv;
    }
    segscan_run(buf, len, &s);
    mq_free(buf);
    if (last < first) {
        errmsg_set(e, "closed segment %s: its name is not a range", name);
        return MQ_ERR_INVALID;
    }
    if (segscan_closed_ok(&s, len, last - first + 1)) {
        return MQ_OK;
    }
    if (s.format != SEGSCAN_FORMAT) {
        errmsg_set(e, "closed segment %s: format %llu", name,
                   (unsigned long long)s.format);
    } else if (s.valid_end < len) {
        errmsg_set(e, "closed segment %s: batch at byte %zu: %s", name,
                   s.valid_end, s.why ? s.why : "zeros where batches belong");
    } else {
        errmsg_set(e, "closed segment %s: %llu entries instead of %llu", name,
                   (unsigned long long)s.n_entries, last - first + 1);
    }
    return MQ_ERR_INVALID;
}

struct snap {
    unsigned long long term, index, ts;
    char meta[128];
};

static int newer(const struct snap *a, const struct snap *b)
{
    if (a->term != b->term) {
        return a->term > b->term;
    }
    if (a->index != b->index) {
        return a->index > b->index;
    }
    return a->ts > b->ts;
}

/* Whether @dir holds the non-empty data file of the snapshot @s. */
static int has_data(const char *dir, const struct snap *s)
{
    char path[1024];
    struct stat sb;
    snprintf(path, sizeof path, "%s/snapshot-%llu-%llu-%llu", dir, s->term,
             s->index, s->ts);
    return stat(path, &sb) == 0 && sb.st_size > 0;
}

static mq_err check_meta(const char *dir, const char *name, struct errmsg *e)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    mq_err rv = datafile_read(dir, name, &buf, &len, e);
    if (rv != MQ_OK) {
        errmsg_wrap(e, "snapshot metadata %s", name);
        return rv;
    }
    rv = MQ_ERR_INVALID;
    if (len < 32) {
        errmsg_set(e, "snapshot metadata %s: %zu bytes", name, len);
    } else if (le_get64(buf) != 1) {
        errmsg_set(e, "snapshot metadata %s: format %llu", name,
                   (unsigned long long)le_get64(buf));
    } else if (le_get64(buf + 24) == 0 || le_get64(buf + 24) > META_MAX_CONF ||
               le_get64(buf + 24) > len - 32) {
        errmsg_set(e, "snapshot metadata %s: configuration of %llu bytes", name,
                   (unsigned long long)le_get64(buf + 24));
    } else {
        uint32_t crc = segscan_crc(0, buf + 16, 16);
        crc = segscan_crc(crc, buf + 32, (size_t)le_get64(buf + 24));
        if (crc != (uint32_t)le_get64(buf + 8)) {
            errmsg_set(e, "snapshot metadata %s: checksum mismatch", name);
        } else {
            rv = MQ_OK;
        }
    }
    mq_free(buf);
    return rv;
}

/* Reads exactly @len bytes at the current offset of @fd. */
static int read_full(int fd, uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = read(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static mq_err check_data(const char *dir, const struct snap *s,
                         struct errmsg *e)
{
    char name[128], path[1024];
    uint8_t trailer[SNAPFILE_TRAILER], want[SNAPFILE_TRAILER];
    struct stat sb;
    uint32_t crc = 0;
    uint8_t *chunk;
    mq_err rv = MQ_ERR_INVALID;
    int fd;

    snprintf(name, sizeof name, "snapshot-%llu-%llu-%llu", s->term, s->index,
             s->ts);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        errmsg_set(e, "snapshot file %s: %s", name, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return MQ_ERR_INTERNAL;
    }
    chunk = mq_malloc(CHUNK);
    if (chunk == NULL) {
        close(fd);
        errmsg_set(e, "snapshot file %s: out of memory", name);
        return MQ_ERR_NO_MEMORY;
    }
    if ((size_t)sb.st_size < SNAPFILE_TRAILER) {
        errmsg_set(e, "snapshot file %s: %lld bytes, no trailer", name,
                   (long long)sb.st_size);
        goto out;
    }
    for (size_t left = (size_t)sb.st_size - SNAPFILE_TRAILER; left > 0;) {
        size_t n = left < CHUNK ? left : CHUNK;
        if (read_full(fd, chunk, n) != 0) {
            errmsg_set(e, "snapshot file %s: read: %s", name,
                       errno ? strerror(errno) : "cut short");
            goto out;
        }
        crc = crc32c(crc, chunk, n);
        left -= n;
    }
    if (read_full(fd, trailer, sizeof trailer) != 0) {
        errmsg_set(e, "snapshot file %s: read: cut short", name);
        goto out;
    }
    snapfile_trailer_of(crc, want);
    if (memcmp(trailer, want, sizeof want) != 0) {
        errmsg_set(e, "snapshot file %s is corrupted (checksum mismatch)",
                   name);
        goto out;
    }
    rv = MQ_OK;
out:
    mq_free(chunk);
    close(fd);
    return rv;
}

mq_err logcheck_run(const char *dir, struct errmsg *e)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    struct snap latest = {0, 0, 0, ""};
    int have_snap = 0;
    mq_err rv = MQ_OK;

    if (d == NULL) {
        errmsg_set(e, "list %s: %s", dir, strerror(errno));
        return MQ_ERR_INTERNAL;
    }
    while (rv == MQ_OK && (ent = readdir(d)) != NULL) {
        unsigned long long a, b, c;
        int used = 0;
        size_t len = strlen(ent->d_name);
        if (sscanf(ent->d_name, "%llu-%llu%n", &a, &b, &used) == 2 &&
            used == (int)len && ent->d_name[0] >= '0' &&
            ent->d_name[0] <= '9') {
            rv = check_closed(dir, ent->d_name, a, b, e);
        } else if (sscanf(ent->d_name, "snapshot-%llu-%llu-%llu.meta%n", &a, &b,
                          &c, &used) == 3 &&
                   used == (int)len) {
            struct snap s = {a, b, c, ""};
            snprintf(s.meta, sizeof s.meta, "%s", ent->d_name);
            if (has_data(dir, &s) && (!have_snap || newer(&s, &latest))) {
                latest = s;
                have_snap = 1;
            }
        }
    }
    closedir(d);
    if (rv == MQ_OK && have_snap) {
        rv = check_meta(dir, latest.meta, e);
        if (rv == MQ_OK) {
            rv = check_data(dir, &latest, e);
        }
    }
    return rv;
}
