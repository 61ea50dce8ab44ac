/* peer_snap.c: the snapshot checksum between raft and raft_uv.
 *
 * put: copy the buffer list with a trailer slot, compute the CRC on the
 * thread pool, then hand the list to raft_uv. get: raft_uv reads the file,
 * the thread pool checks the CRC, then raft gets the data without the
 * trailer. A mismatch stops the node naming the file: it never restores or
 * sends a damaged snapshot. While a checksum runs, closing waits for it. */
#include "peer_snap.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"
#include "snapfile.h"

struct put_op {
    uv_work_t work;
    struct raft_io_snapshot_put req;
    struct raft_io_snapshot_put *orig;
    raft_io_snapshot_put_cb cb;
    struct peer_snap *p;
    unsigned trailing;
    struct raft_snapshot snap; /* the caller's, one buffer more */
    uint8_t trailer[SNAPFILE_TRAILER];
};

struct get_op {
    uv_work_t work;
    struct raft_io_snapshot_get req;
    struct raft_io_snapshot_get *orig;
    raft_io_snapshot_get_cb cb;
    struct peer_snap *p;
    struct raft_snapshot *snap;
    int bad;
};

int peer_snapshot_busy(const struct peer_snap *p)
{
    return p->busy > 0;
}

/* The data file of the snapshot at @term/@index in the data dir. */
static void file_name(const struct peer_snap *p, raft_term term,
                      raft_index index, char *out, size_t len)
{
    char prefix[64];
    DIR *d = opendir(p->data_dir);
    struct dirent *ent;
    int n = snprintf(prefix, sizeof prefix, "snapshot-%llu-%llu-",
                     (unsigned long long)term, (unsigned long long)index);
    snprintf(out, len, "%s/%s*", p->data_dir, prefix);
    while (d != NULL && (ent = readdir(d)) != NULL) {
        size_t l = strlen(ent->d_name);
        if (strncmp(ent->d_name, prefix, (size_t)n) == 0 &&
            !(l > 5 && strcmp(ent->d_name + l - 5, ".meta") == 0)) {
            snprintf(out, len, "%s/%s", p->data_dir, ent->d_name);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
}

static void corrupt_exit(struct peer_snap *p, const struct raft_snapshot *s)
{
    char name[600];
    file_name(p, s->term, s->index, name, sizeof name);
    LOG_ERROR("snapshot file %s is corrupted (checksum mismatch): stopping; "
              "move the data dir away and restart the node to copy the state "
              "from its peers",
              name);
    _exit(1);
}

/* put ---------------------------------------------------------------------- */

static void put_done(struct raft_io_snapshot_put *req, int status)
{
    struct put_op *op = req->data;
    struct peer_snap *p = op->p;
    if (status != 0 && !(*p->closing && status == RAFT_CANCELED)) {
        p->fatal_cb(p->arg, "write snapshot", status);
    }
    op->orig->cb = op->cb;
    op->cb(op->orig, status);
    mq_free(op->snap.bufs);
    mq_free(op);
    p->event_cb(p->arg);
}

static void put_work(uv_work_t *w)
{
    struct put_op *op = w->data;
    snapfile_trailer(op->snap.bufs, op->snap.n_bufs - 1, op->trailer);
}

static void put_after(uv_work_t *w, int status)
{
    struct put_op *op = w->data;
    struct peer_snap *p = op->p;
    p->busy--;
    if (*p->closing || status != 0) {
        put_done(&op->req, RAFT_CANCELED);
        if (!p->busy) {
            p->idle_cb(p->arg);
        }
        return;
    }
    int rv =
        p->uv->snapshot_put(p->uv, op->trailing, &op->req, &op->snap, put_done);
    if (rv != 0) {
        p->fatal_cb(p->arg, "start snapshot write", rv);
    }
}

int peer_snapshot_put(struct peer_snap *p, unsigned trailing,
                      struct raft_io_snapshot_put *req,
                      const struct raft_snapshot *snapshot,
                      raft_io_snapshot_put_cb cb)
{
    struct put_op *op = mq_calloc(1, sizeof *op);
    struct raft_buffer *bufs = mq_malloc((snapshot->n_bufs + 1) * sizeof *bufs);
    if (op == NULL || bufs == NULL) {
        mq_free(op);
        mq_free(bufs);
        return RAFT_NOMEM;
    }
    memcpy(bufs, snapshot->bufs, snapshot->n_bufs * sizeof *bufs);
    bufs[snapshot->n_bufs].base = op->trailer;
    bufs[snapshot->n_bufs].len = SNAPFILE_TRAILER;
    op->snap = *snapshot;
    op->snap.bufs = bufs;
    op->snap.n_bufs = snapshot->n_bufs + 1;
    op->req.data = op;
    op->orig = req;
    op->cb = cb;
    op->p = p;
    op->trailing = trailing;
    op->work.data = op;
    req->cb = cb;
    if (uv_queue_work(p->loop, &op->work, put_work, put_after) != 0) {
        mq_free(bufs);
        mq_free(op);
        return RAFT_IOERR;
    }
    p->busy++;
    return 0;
}

/* get ---------------------------------------------------------------------- */

static void get_work(uv_work_t *w)
{
    struct get_op *op = w->data;
    struct raft_snapshot *s = op->snap;
    op->bad = s->n_bufs != 1 || snapfile_check(&s->bufs[0]) != 0;
}

static void get_finish(struct get_op *op, struct raft_snapshot *s, int status)
{
    struct peer_snap *p = op->p;
    op->orig->cb = op->cb;
    op->cb(op->orig, s, status);
    mq_free(op);
    p->event_cb(p->arg);
}

static void get_after(uv_work_t *w, int status)
{
    struct get_op *op = w->data;
    struct peer_snap *p = op->p;
    p->busy--;
    if (!*p->closing && status == 0 && op->bad) {
        corrupt_exit(p, op->snap);
    }
    if (*p->closing || status != 0) {
        /* raft frees a snapshot only when the read succeeded */
        for (unsigned i = 0; i < op->snap->n_bufs; i++) {
            raft_free(op->snap->bufs[i].base);
        }
        raft_free(op->snap->bufs);
        raft_configuration_close(&op->snap->configuration);
        raft_free(op->snap);
        get_finish(op, NULL, RAFT_CANCELED);
        if (!p->busy) {
            p->idle_cb(p->arg);
        }
        return;
    }
    get_finish(op, op->snap, 0);
}

static void get_done(struct raft_io_snapshot_get *req,
                     struct raft_snapshot *snapshot, int status)
{
    struct get_op *op = req->data;
    struct peer_snap *p = op->p;
    if (status != 0) {
        if (!(*p->closing && status == RAFT_CANCELED)) {
            p->fatal_cb(p->arg, "read snapshot", status);
        }
        get_finish(op, snapshot, status);
        return;
    }
    op->snap = snapshot;
    op->work.data = op;
    if (uv_queue_work(p->loop, &op->work, get_work, get_after) != 0) {
        p->fatal_cb(p->arg, "check snapshot", RAFT_IOERR);
    }
    p->busy++;
}

int peer_snapshot_get(struct peer_snap *p, struct raft_io_snapshot_get *req,
                      raft_io_snapshot_get_cb cb)
{
    struct get_op *op = mq_calloc(1, sizeof *op);
    int rv;
    if (op == NULL) {
        return RAFT_NOMEM;
    }
    op->req.data = op;
    op->orig = req;
    op->cb = cb;
    op->p = p;
    rv = p->uv->snapshot_get(p->uv, &op->req, get_done);
    if (rv != 0) {
        mq_free(op);
    }
    return rv;
}

int peer_snapshot_check_loaded(const struct peer_snap *p,
                               struct raft_snapshot *snapshot, char *errmsg)
{
    char name[600];
    if (snapshot == NULL) {
        return 0;
    }
    if (snapshot->n_bufs == 1 && snapfile_check(&snapshot->bufs[0]) == 0) {
        return 0;
    }
    file_name(p, snapshot->term, snapshot->index, name, sizeof name);
    snprintf(errmsg, RAFT_ERRMSG_BUF_SIZE,
             "snapshot file %s is corrupted (checksum mismatch); move the "
             "data dir away to copy the state from the peers",
             name);
    return RAFT_CORRUPT;
}
