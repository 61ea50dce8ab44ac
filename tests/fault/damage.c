/* damage.c: see damage.h. */
#include "damage.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datadir.h"

enum kind {
    TERMVOTE_COPY,
    RAFT_METADATA,
    OPEN_MIDDLE,
    OPEN_UNUSED,
    OPEN_ZERO_TAIL,
    CLOSED_FLIP,
    CLOSED_CUT,
    SNAPSHOT_FLIP,
    N_KIND
};

static struct datadir_batches batches;

/* Applies @k to node @i; 0, or -1 if its files do not allow it. */
static int apply(struct cluster *c, int i, enum kind k, unsigned long long r,
                 char *what, size_t len)
{
    char name[256], path[1024];
    struct stat sb;
    struct datadir_meta m;
    int cur;

    switch (k) {
    case TERMVOTE_COPY:
        datadir_path(c, i, "mq-termvote", path, sizeof path);
        if (stat(path, &sb) != 0) {
            return -1;
        }
        datadir_flip(path, 8 + r % 16, (uint8_t)(1u << (r % 8)));
        snprintf(what, len, "a bit flipped in the term or vote of mq-termvote");
        return 0;
    case RAFT_METADATA:
        cur = datadir_meta_current(c, i);
        if (cur < 0 || datadir_meta_read(c, i, cur, &m) != 0) {
            return -1;
        }
        m.term ^= (uint64_t)1 << (r % 40);
        datadir_meta_write(c, i, cur, &m);
        snprintf(what, len, "a bit flipped in the term of metadata%d", cur);
        return 0;
    case OPEN_MIDDLE:
        if (datadir_open_segment(c, i, 4, name, sizeof name) != 0) {
            return -1;
        }
        datadir_path(c, i, name, path, sizeof path);
        datadir_batches(path, &batches);
        size_t b = 1 + r % (batches.n - 2);
        datadir_flip(path, batches.at[b + 1] - 4, 0x10);
        snprintf(what, len, "a bit flipped in batch %zu of %zu of %s", b,
                 batches.n, name);
        return 0;
    case OPEN_UNUSED:
        if (datadir_unused_open_segment(c, i, name, sizeof name) != 0) {
            return -1;
        }
        datadir_path(c, i, name, path, sizeof path);
        if (stat(path, &sb) != 0 || sb.st_size < 4096) {
            return -1;
        }
        datadir_flip(path, 8 + r % ((size_t)sb.st_size - 8), 0x04);
        datadir_flip(path, 8 + (r >> 20) % ((size_t)sb.st_size - 8), 0x80);
        snprintf(what, len, "two bits flipped in %s, never written", name);
        return 0;
    case OPEN_ZERO_TAIL:
        if (datadir_open_segment(c, i, 1, name, sizeof name) != 0) {
            return -1;
        }
        datadir_path(c, i, name, path, sizeof path);
        datadir_batches(path, &batches);
        if (batches.end + 4096 > batches.file_len) {
            return -1;
        }
        datadir_flip(path, batches.end + 8 + 2, 0x01);
        datadir_flip(path, batches.end + 16 + r % 4000, 0x20);
        snprintf(what, len,
                 "two bits flipped in the zeros after the last "
                 "batch of %s",
                 name);
        return 0;
    case CLOSED_FLIP:
    case CLOSED_CUT:
        if (datadir_find(c, i, datadir_is_closed_segment, name, sizeof name) !=
            0) {
            return -1;
        }
        datadir_path(c, i, name, path, sizeof path);
        if (stat(path, &sb) != 0 || sb.st_size < 64) {
            return -1;
        }
        if (k == CLOSED_CUT) {
            if (truncate(path, sb.st_size / 2) != 0) {
                return -1;
            }
            snprintf(what, len, "%s cut to half its size", name);
        } else {
            datadir_flip(path, 16 + r % ((size_t)sb.st_size - 16), 0x08);
            snprintf(what, len, "a bit flipped in %s", name);
        }
        return 0;
    case SNAPSHOT_FLIP:
        if (datadir_find(c, i, datadir_is_snapshot_data, name, sizeof name) !=
            0) {
            return -1;
        }
        datadir_path(c, i, name, path, sizeof path);
        if (stat(path, &sb) != 0 || sb.st_size < 64) {
            return -1;
        }
        datadir_flip(path, r % (size_t)sb.st_size, 0x02);
        snprintf(what, len, "a bit flipped in %s", name);
        return 0;
    default:
        return -1;
    }
}

int damage_node(struct cluster *c, int i, unsigned long long r, char *what,
                size_t len)
{
    for (int k = 0; k < N_KIND; k++) {
        enum kind kind = (enum kind)((r + (unsigned long long)k) % N_KIND);
        if (apply(c, i, kind, r / N_KIND, what, len) == 0) {
            return 0;
        }
    }
    return -1;
}

int damage_noticed(struct cluster *c, int i, long mark)
{
    static const char *const lines[] = {
        "is damaged",     /* repair: anything it found */
        "holds no entry", /* an open segment never written */
        "keeping the",    /* a torn tail cut */
        "rewriting it",   /* an open segment's format word */
        /* raft's term flipped lower than mq-termvote's: the same files as a
         * node stopped between the two writes, and mq-termvote's term,
         * the higher, wins (termvote.c) */
        "completing an interrupted write of the term and vote",
    };
    for (size_t k = 0; k < sizeof lines / sizeof lines[0]; k++) {
        if (datadir_log_has_since(c, i, mark, lines[k])) {
            return 1;
        }
    }
    return 0;
}
