/* repair.c: see repair.h. */
#include "repair.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alloc.h"
#include "crc32c.h"
#include "datafile.h"
#include "le.h"
#include "log.h"
#include "logcheck.h"
#include "segcheck.h"
#include "termvote.h"

#define MARKER_MAGIC "MQREJN01"
#define DAMAGED_PREFIX "damaged-"

mq_err repair_marker_write(const char *dir, const struct repair_marker *m,
                           struct errmsg *e)
{
    uint8_t buf[32 + sizeof m->urls + 4];
    size_t n = strnlen(m->urls, sizeof m->urls - 1);
    memcpy(buf, MARKER_MAGIC, 8);
    le_put32(buf + 8, m->phase);
    le_put32(buf + 12, 0);
    for (int i = 0; i < 8; i++) {
        buf[16 + i] = (uint8_t)(m->floor >> (8 * i));
    }
    le_put32(buf + 24, (uint32_t)n);
    memcpy(buf + 28, m->urls, n);
    le_put32(buf + 28 + n, crc32c(0, buf, 28 + n));
    return datafile_replace(dir, REPAIR_MARKER, buf, 32 + n, e);
}

mq_err repair_marker_read(const char *dir, struct repair_marker *m,
                          struct errmsg *e)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    mq_err rv;

    memset(m, 0, sizeof *m);
    m->phase = 1;
    rv = datafile_read(dir, REPAIR_MARKER, &buf, &len, e);
    if (rv == MQ_ERR_INVALID) {
        LOG_WARN("%s cannot be read (%s): rejoining from the start",
                 REPAIR_MARKER, e->msg);
        return rv;
    }
    if (rv != MQ_OK) {
        return rv;
    }
    uint32_t n = len >= 32 ? le_get32(buf + 24) : 0;
    if (len < 32 || memcmp(buf, MARKER_MAGIC, 8) != 0 || n >= sizeof m->urls ||
        len != 32 + (size_t)n ||
        le_get32(buf + 28 + n) != crc32c(0, buf, 28 + n) ||
        (le_get32(buf + 8) != 1 && le_get32(buf + 8) != 2)) {
        errmsg_set(e, "%s is damaged", REPAIR_MARKER);
        LOG_WARN("%s is damaged: rejoining from the start", REPAIR_MARKER);
        mq_free(buf);
        return MQ_ERR_INVALID;
    }
    m->phase = le_get32(buf + 8);
    for (int i = 7; i >= 0; i--) {
        m->floor = (m->floor << 8) | buf[16 + i];
    }
    memcpy(m->urls, buf + 28, n);
    m->urls[n] = '\0';
    mq_free(buf);
    return MQ_OK;
}

mq_err repair_marker_clear(const char *dir, struct errmsg *e)
{
    return datafile_remove(dir, REPAIR_MARKER, e);
}

/* What the checks found. */
struct findings {
    int uv_damaged;         /* raft_uv's term/vote files, the copy intact */
    int termvote_lost;      /* no trustworthy term and vote */
    int log_damaged;        /* a segment or the latest snapshot */
    int have_ours;          /* the copy exists and is intact */
    struct termvote ours;   /* the copy, when intact */
    char what[ERRMSG_SIZE]; /* the first damage found, for the log */
};

static void note(struct findings *f, const char *msg)
{
    if (f->what[0] == '\0') {
        snprintf(f->what, sizeof f->what, "%s", msg);
    }
}

static mq_err check_termvote(const char *dir, struct findings *f,
                             struct errmsg *e)
{
    struct termvote_uv uv;
    mq_err rv = termvote_read_uv(dir, &uv, e);
    if (rv != MQ_OK) {
        return rv;
    }
    rv = termvote_read(dir, &f->ours, e);
    if (rv == MQ_ERR_INVALID) {
        f->termvote_lost = 1;
        note(f, e->msg);
        return MQ_OK;
    }
    if (rv == MQ_ERR_NOT_FOUND) {
        /* An older mqd's data dir, or a new one: raft_uv's values stand
         * (io_load makes the copy), if raft_uv can read them. */
        if (uv.bad) {
            f->termvote_lost = 1;
            note(f, uv.why);
        }
        return MQ_OK;
    }
    if (rv != MQ_OK) {
        return rv;
    }
    f->have_ours = 1;
    if (uv.bad || termvote_compare(&f->ours, &uv.tv) == TERMVOTE_DIFFER) {
        char msg[ERRMSG_SIZE];
        if (uv.bad) {
            snprintf(msg, sizeof msg, "%s", uv.why);
        } else {
            snprintf(msg, sizeof msg,
                     "metadata%d (term %llu, vote %llu) disagrees with %s "
                     "(term %llu, vote %llu)",
                     uv.current, (unsigned long long)uv.tv.term,
                     (unsigned long long)uv.tv.vote, TERMVOTE_FILE,
                     (unsigned long long)f->ours.term,
                     (unsigned long long)f->ours.vote);
        }
        f->uv_damaged = 1;
        note(f, msg);
    }
    return MQ_OK;
}

static mq_err check_log(const char *dir, struct findings *f, struct errmsg *e)
{
    mq_err rv = segcheck_open(dir, e);
    if (rv == MQ_OK) {
        rv = logcheck_run(dir, e);
    }
    if (rv == MQ_ERR_INVALID) {
        f->log_damaged = 1;
        note(f, e->msg);
        return MQ_OK;
    }
    return rv;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Deletes the damaged-* directories of earlier repairs. */
static void drop_old_damaged(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    while (d != NULL && (ent = readdir(d)) != NULL) {
        char path[1024];
        if (strncmp(ent->d_name, DAMAGED_PREFIX, strlen(DAMAGED_PREFIX)) != 0) {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        if (nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS) == 0) {
            LOG_INFO("deleted %s, the damaged files of an earlier repair",
                     ent->d_name);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
}

static int kept(const char *name, int keep_termvote)
{
    return strcmp(name, REPAIR_MARKER) == 0 ||
           (keep_termvote &&
            (strcmp(name, TERMVOTE_FILE) == 0 ||
             strcmp(name, "metadata1") == 0 || strcmp(name, "metadata2") == 0));
}

/* Moves every file of @dir (but those kept) into a new damaged-<time>/. */
static mq_err move_aside(const char *dir, int keep_termvote, char *sub,
                         size_t sub_len, struct errmsg *e)
{
    char path[1024];
    time_t now = time(NULL);
    struct tm tm;
    DIR *d;
    struct dirent *ent;
    int moved = 0;

    drop_old_damaged(dir);
    gmtime_r(&now, &tm);
    strftime(sub, sub_len, DAMAGED_PREFIX "%Y%m%dT%H%M%SZ", &tm);
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        errmsg_set(e, "create %s: %s", path, strerror(errno));
        return MQ_ERR_INTERNAL;
    }
    d = opendir(dir);
    if (d == NULL) {
        errmsg_set(e, "list %s: %s", dir, strerror(errno));
        return MQ_ERR_INTERNAL;
    }
    while ((ent = readdir(d)) != NULL) {
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
            kept(ent->d_name, keep_termvote)) {
            continue;
        }
        if (datafile_move(dir, ent->d_name, sub, e) != MQ_OK) {
            closedir(d);
            return MQ_ERR_INTERNAL;
        }
        moved++;
    }
    closedir(d);
    LOG_WARN("moved %d damaged or untrusted files to %s/%s", moved, dir, sub);
    return MQ_OK;
}

/* Whether @dir holds anything of raft's or ours (but damaged-* dirs). */
static int holds_state(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *ent;
    int found = 0;
    while (d != NULL && !found && (ent = readdir(d)) != NULL) {
        found = ent->d_name[0] != '.' && strncmp(ent->d_name, DAMAGED_PREFIX,
                                                 strlen(DAMAGED_PREFIX)) != 0;
    }
    if (d != NULL) {
        closedir(d);
    }
    return found;
}

mq_err repair_run(const struct config *cfg, struct errmsg *e)
{
    const char *dir = cfg->data_dir;
    struct findings f;
    struct repair_marker m;
    char sub[64];
    mq_err rv;

    memset(&f, 0, sizeof f);
    if (cfg->repair && !holds_state(dir)) {
        /* mqd --repair on an empty data dir: its state was lost (a disk
         * replaced, a dir moved away), not a new cluster's node. */
        memset(&m, 0, sizeof m);
        m.phase = 1;
        rv = repair_marker_write(dir, &m, e);
        if (rv == MQ_OK) {
            LOG_WARN("data dir %s is empty and --repair was given: node %llu "
                     "lost its state and rejoins the cluster as a new member "
                     "(removed, added as a non-voter, caught up, then "
                     "promoted); it votes only then",
                     dir, (unsigned long long)cfg->id);
        }
        return rv;
    }
    rv = check_termvote(dir, &f, e);
    if (rv == MQ_OK) {
        rv = check_log(dir, &f, e);
    }
    if (rv != MQ_OK) {
        errmsg_wrap(e, "repair: check %s", dir);
        return rv;
    }
    if (!f.uv_damaged && !f.termvote_lost && !f.log_damaged) {
        return MQ_OK;
    }
    LOG_ERROR("data dir %s is damaged: %s; repairing it (auto_repair)", dir,
              f.what);
    if (f.uv_damaged && !f.termvote_lost && !f.log_damaged) {
        /* The copy is checked; raft_uv's files are not. */
        rv = termvote_write_uv(dir, 1, &f.ours, e);
        if (rv == MQ_OK) {
            LOG_WARN("rewrote raft's metadata1/metadata2 from %s: term %llu, "
                     "vote %llu; the log is intact and the node starts as "
                     "it was",
                     TERMVOTE_FILE, (unsigned long long)f.ours.term,
                     (unsigned long long)f.ours.vote);
        }
        return rv;
    }
    if (f.uv_damaged && !f.termvote_lost) {
        rv = termvote_write_uv(dir, 1, &f.ours, e);
        if (rv != MQ_OK) {
            return rv;
        }
    }
    /* A rejoin already under way starts over (its URLs are kept). */
    if (repair_marker_read(dir, &m, e) == MQ_ERR_INTERNAL) {
        return MQ_ERR_INTERNAL;
    }
    m.phase = 1;
    m.floor = 0;
    rv = move_aside(dir, !f.termvote_lost, sub, sizeof sub, e);
    if (rv == MQ_OK) {
        rv = repair_marker_write(dir, &m, e);
    }
    if (rv != MQ_OK) {
        errmsg_wrap(e, "repair %s", dir);
        return rv;
    }
    if (f.termvote_lost) {
        LOG_WARN("the term and vote could not be trusted: node %llu rejoins "
                 "the cluster as a new member (removed, added as a "
                 "non-voter, caught up, then promoted); it votes only then",
                 (unsigned long long)cfg->id);
    } else if (!f.have_ours) {
        LOG_WARN("kept raft's term and vote (an older data dir without %s); "
                 "node %llu rejoins the cluster as a new member (removed, "
                 "added as a non-voter, caught up, then promoted); it votes "
                 "only then",
                 TERMVOTE_FILE, (unsigned long long)cfg->id);
    } else {
        LOG_WARN("kept the term (%llu) and vote (%llu); node %llu rejoins the "
                 "cluster as a new member (removed, added as a non-voter, "
                 "caught up, then promoted); it votes only then",
                 (unsigned long long)f.ours.term,
                 (unsigned long long)f.ours.vote, (unsigned long long)cfg->id);
    }
    return MQ_OK;
}
