/* termvote.c: see termvote.h. */
#include "termvote.h"

#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "crc32c.h"
#include "datafile.h"
#include "le.h"
#include "log.h"

#define MAGIC "MQTERMV1"
#define UV_FORMAT 1u
#define UV_SIZE 32u

void termvote_encode(const struct termvote *tv, uint8_t out[TERMVOTE_SIZE])
{
    uint32_t crc;
    memset(out, 0, TERMVOTE_SIZE);
    memcpy(out, MAGIC, 8);
    le_put64(out + 8, tv->term);
    le_put64(out + 16, tv->vote);
    crc = crc32c(0, out, 24);
    for (int i = 0; i < 4; i++) {
        out[24 + i] = (uint8_t)(crc >> (8 * i));
    }
}

int termvote_decode(const uint8_t *buf, size_t len, struct termvote *tv)
{
    uint8_t want[TERMVOTE_SIZE];
    struct termvote got;
    if (len != TERMVOTE_SIZE) {
        return -1;
    }
    got.term = le_get64(buf + 8);
    got.vote = le_get64(buf + 16);
    termvote_encode(&got, want);
    if (memcmp(want, buf, TERMVOTE_SIZE) != 0) {
        return -1;
    }
    *tv = got;
    return 0;
}

enum termvote_cmp termvote_compare(const struct termvote *ours,
                                   const struct termvote *uv)
{
    if (ours->term == uv->term && ours->vote == uv->vote) {
        return TERMVOTE_SAME;
    }
    /* set_term(T) writes (T, 0); set_vote(V) writes (T, V). */
    if ((ours->term > uv->term && ours->vote == 0) ||
        (ours->term == uv->term && uv->vote == 0 && ours->vote != 0)) {
        return TERMVOTE_AHEAD;
    }
    return TERMVOTE_DIFFER;
}

mq_err termvote_read(const char *dir, struct termvote *tv, struct errmsg *e)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    mq_err rv = datafile_read(dir, TERMVOTE_FILE, &buf, &len, e);
    if (rv != MQ_OK) {
        return rv;
    }
    if (termvote_decode(buf, len, tv) != 0) {
        errmsg_set(e,
                   "%s is damaged (%zu bytes, %s): the term and vote it "
                   "guards cannot be trusted",
                   TERMVOTE_FILE, len,
                   len == TERMVOTE_SIZE && memcmp(buf, MAGIC, 8) == 0
                       ? "checksum mismatch"
                       : "not its format");
        rv = MQ_ERR_INVALID;
    }
    mq_free(buf);
    return rv;
}

mq_err termvote_write(const char *dir, const struct termvote *tv,
                      struct errmsg *e)
{
    uint8_t buf[TERMVOTE_SIZE];
    termvote_encode(tv, buf);
    return datafile_replace(dir, TERMVOTE_FILE, buf, sizeof buf, e);
}

mq_err termvote_write_vote(const char *dir, uint64_t vote, struct errmsg *e)
{
    struct termvote tv;
    mq_err rv = termvote_read(dir, &tv, e);
    if (rv != MQ_OK) {
        return rv;
    }
    tv.vote = vote;
    return termvote_write(dir, &tv, e);
}

/* One of raft_uv's files, as uvMetadataLoadN reads it: absent (or shorter
 * than its 32 bytes: raft_uv takes that for a write cut short and ignores
 * it) gives version 0. */
static mq_err read_uv_file(const char *dir, int n, uint64_t *version,
                           struct termvote *tv, char *why, size_t why_len,
                           struct errmsg *e)
{
    char name[16];
    uint8_t *buf = NULL;
    size_t len = 0;
    mq_err rv;

    snprintf(name, sizeof name, "metadata%d", n);
    *version = 0;
    tv->term = tv->vote = 0;
    rv = datafile_read(dir, name, &buf, &len, e);
    if (rv == MQ_ERR_NOT_FOUND) {
        return MQ_OK;
    }
    if (rv == MQ_ERR_INVALID) {
        snprintf(why, why_len, "%s cannot be read (I/O error)", name);
        return MQ_OK;
    }
    if (rv != MQ_OK) {
        return rv;
    }
    if (len > UV_SIZE) {
        snprintf(why, why_len, "%s has %zu bytes instead of %u", name, len,
                 UV_SIZE);
    } else if (len == UV_SIZE && le_get64(buf) != UV_FORMAT) {
        snprintf(why, why_len, "%s has format %llu", name,
                 (unsigned long long)le_get64(buf));
    } else if (len == UV_SIZE && le_get64(buf + 8) == 0) {
        snprintf(why, why_len, "%s has version 0", name);
    } else if (len == UV_SIZE) {
        *version = le_get64(buf + 8);
        tv->term = le_get64(buf + 16);
        tv->vote = le_get64(buf + 24);
    }
    mq_free(buf);
    return MQ_OK;
}

mq_err termvote_read_uv(const char *dir, struct termvote_uv *m,
                        struct errmsg *e)
{
    uint64_t v1 = 0, v2 = 0;
    struct termvote t1 = {0, 0}, t2 = {0, 0};
    mq_err rv;

    memset(m, 0, sizeof *m);
    rv = read_uv_file(dir, 1, &v1, &t1, m->why, sizeof m->why, e);
    if (rv == MQ_OK && m->why[0] == '\0') {
        rv = read_uv_file(dir, 2, &v2, &t2, m->why, sizeof m->why, e);
    }
    if (rv != MQ_OK) {
        return rv;
    }
    if (m->why[0] != '\0') {
        m->bad = 1;
    } else if (v1 == 0 && v2 == 0) {
        m->current = 0;
    } else if (v1 == v2) {
        m->bad = 1;
        snprintf(m->why, sizeof m->why,
                 "metadata1 and metadata2 are both at version %llu",
                 (unsigned long long)v1);
    } else {
        m->current = v1 > v2 ? 1 : 2;
        m->version = v1 > v2 ? v1 : v2;
        m->tv = v1 > v2 ? t1 : t2;
    }
    return MQ_OK;
}

mq_err termvote_write_uv(const char *dir, uint64_t version,
                         const struct termvote *tv, struct errmsg *e)
{
    uint8_t buf[UV_SIZE];
    int n = version % 2 == 1 ? 1 : 2;
    char name[16], other[16];
    mq_err rv;

    le_put64(buf, UV_FORMAT);
    le_put64(buf + 8, version);
    le_put64(buf + 16, tv->term);
    le_put64(buf + 24, tv->vote);
    snprintf(name, sizeof name, "metadata%d", n);
    snprintf(other, sizeof other, "metadata%d", 3 - n);
    rv = datafile_replace(dir, name, buf, sizeof buf, e);
    return rv == MQ_OK ? datafile_remove(dir, other, e) : rv;
}

/* "metadata2 (version 7: term 268435458, vote 0)" into @out. */
static void describe_uv(const char *dir, const struct termvote *uv, char *out,
                        size_t len)
{
    struct termvote_uv m;
    struct errmsg ignored = ERRMSG_INIT;
    if (termvote_read_uv(dir, &m, &ignored) == MQ_OK && m.current != 0 &&
        m.tv.term == uv->term && m.tv.vote == uv->vote) {
        snprintf(out, len, "metadata%d (version %llu: term %llu, vote %llu)",
                 m.current, (unsigned long long)m.version,
                 (unsigned long long)uv->term, (unsigned long long)uv->vote);
    } else {
        snprintf(out, len, "raft's metadata1/metadata2 (term %llu, vote %llu)",
                 (unsigned long long)uv->term, (unsigned long long)uv->vote);
    }
}

mq_err termvote_check(const char *dir, struct termvote *uv,
                      enum termvote_action *act, struct errmsg *e)
{
    struct termvote ours;
    char what[128];
    mq_err rv = termvote_read(dir, &ours, e);

    *act = TERMVOTE_KEEP;
    if (rv == MQ_ERR_NOT_FOUND) {
        rv = termvote_write(dir, uv, e);
        if (rv == MQ_OK) {
            LOG_INFO("created %s (term %llu, vote %llu) from raft's metadata: "
                     "a new data dir, or one of an mqd before this copy "
                     "existed",
                     TERMVOTE_FILE, (unsigned long long)uv->term,
                     (unsigned long long)uv->vote);
        }
        return rv;
    }
    if (rv != MQ_OK) {
        return rv;
    }
    switch (termvote_compare(&ours, uv)) {
    case TERMVOTE_SAME:
        return MQ_OK;
    case TERMVOTE_AHEAD:
        LOG_INFO("completing an interrupted write of the term and vote: %s "
                 "says term %llu, vote %llu; raft's metadata term %llu, vote "
                 "%llu (the node stopped between the two writes)",
                 TERMVOTE_FILE, (unsigned long long)ours.term,
                 (unsigned long long)ours.vote, (unsigned long long)uv->term,
                 (unsigned long long)uv->vote);
        *uv = ours;
        *act = TERMVOTE_COMPLETE;
        return MQ_OK;
    default:
        describe_uv(dir, uv, what, sizeof what);
        errmsg_set(e,
                   "%s disagrees with %s (term %llu, vote %llu): one of them "
                   "is damaged",
                   what, TERMVOTE_FILE, (unsigned long long)ours.term,
                   (unsigned long long)ours.vote);
        return MQ_ERR_INVALID;
    }
}
