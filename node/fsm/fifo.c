/* fifo.c: records in chunks (see fifo.h). While the FIFO is shorter than
 * FIFO_CHUNK_MAX records it has one chunk, laid out again (copied into a
 * new chunk, or moved to its start when no snapshot reads it) when the
 * tail reaches its end; longer, it has chunks of FIFO_CHUNK_MAX, a new one
 * added at the tail as needed, the first freed once the head has left it. */
#include "fifo.h"

#include <string.h>

#include "alloc.h"

#define SHIFT_MIN 4u  /* FIFO_CHUNK_MIN */
#define SHIFT_MAX 10u /* FIFO_CHUNK_MAX */

_Static_assert(FIFO_CHUNK_MIN == 1u << SHIFT_MIN, "FIFO_CHUNK_MIN");
_Static_assert(FIFO_CHUNK_MAX == 1u << SHIFT_MAX, "FIFO_CHUNK_MAX");

void fifo_init(struct fifo *f, size_t rec_size)
{
    memset(f, 0, sizeof *f);
    f->rec_size = (uint32_t)rec_size;
}

void fifo_own(struct fifo *f, struct trash *trash, uint64_t *acct,
              uint32_t nominal)
{
    f->trash = trash;
    f->acct = acct;
    f->nominal = nominal;
}

static struct fifo_chunk *chunk_new(const struct fifo *f, uint32_t shift)
{
    return mq_malloc(sizeof(struct fifo_chunk) +
                     ((size_t)f->rec_size << shift));
}

static void chunk_drop(struct fifo *f, struct fifo_chunk *c)
{
    trash_put_chunk(f->trash, &c->link, c);
}

/* Drops every chunk; the records are gone unless copied first. */
static void drop_chunks(struct fifo *f)
{
    for (size_t i = 0; i < f->dir_len; i++) {
        chunk_drop(f, f->dir[f->dir_head + i]);
    }
    f->dir_head = 0;
    f->dir_len = 0;
    f->head = 0;
}

void fifo_close(struct fifo *f)
{
    if (f->acct != NULL) {
        *f->acct -= (uint64_t)f->len * f->nominal;
    }
    drop_chunks(f);
    mq_free(f->dir);
    f->dir = NULL;
    f->dir_cap = 0;
    f->len = 0;
    f->shift = 0;
}

static size_t room(const struct fifo *f)
{
    return f->dir_len == 0 ? 0 : (f->dir_len << f->shift) - f->head - f->len;
}

/* Lays the records out again in one chunk of 1 << @shift records, which
 * must hold them. MQ_ERR_NO_MEMORY leaves @f as it was. */
static mq_err relayout(struct fifo *f, uint32_t shift)
{
    if (f->dir_len == 1 && shift == f->shift && !trash_holds_chunks(f->trash)) {
        /* Nobody else reads the chunk: move the records to its start. */
        uint8_t *recs = f->dir[f->dir_head]->recs;
        memmove(recs, recs + f->head * f->rec_size, f->len * f->rec_size);
        f->head = 0;
        return MQ_OK;
    }
    struct fifo_chunk *c = chunk_new(f, shift);
    if (c == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    if (f->dir_cap == 0) {
        f->dir = mq_malloc(4 * sizeof *f->dir);
        if (f->dir == NULL) {
            mq_free(c);
            return MQ_ERR_NO_MEMORY;
        }
        f->dir_cap = 4;
    }
    for (size_t i = 0; i < f->len; i++) {
        memcpy(c->recs + i * f->rec_size, fifo_at(f, i), f->rec_size);
    }
    drop_chunks(f);
    f->dir[0] = c;
    f->dir_len = 1;
    f->shift = shift;
    return MQ_OK;
}

/* Room in the list for @add more chunks at its end. */
static mq_err dir_room(struct fifo *f, size_t add)
{
    if (f->dir_head + f->dir_len + add <= f->dir_cap) {
        return MQ_OK;
    }
    if (f->dir_len + add <= f->dir_cap) {
        memmove(f->dir, f->dir + f->dir_head, f->dir_len * sizeof *f->dir);
        f->dir_head = 0;
        return MQ_OK;
    }
    size_t cap = f->dir_cap ? f->dir_cap * 2 : 4;
    while (cap < f->dir_len + add) {
        cap *= 2;
    }
    struct fifo_chunk **dir = mq_malloc(cap * sizeof *dir);
    if (dir == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    if (f->dir_len > 0) {
        memcpy(dir, f->dir + f->dir_head, f->dir_len * sizeof *dir);
    }
    mq_free(f->dir);
    f->dir = dir;
    f->dir_head = 0;
    f->dir_cap = cap;
    return MQ_OK;
}

mq_err fifo_reserve(struct fifo *f, size_t n)
{
    if (n <= room(f)) {
        return MQ_OK;
    }
    if (n > SIZE_MAX / 4 / (f->rec_size + 1) - f->len) {
        return MQ_ERR_NO_MEMORY;
    }
    size_t need = f->len + n;
    int chunked = f->shift == SHIFT_MAX && f->dir_len > 0;
    if (!chunked && need <= FIFO_CHUNK_MAX) {
        /* One chunk, with room to spare so that laying it out again is
         * rare: twice what is needed, up to FIFO_CHUNK_MAX. */
        uint32_t s = SHIFT_MIN;
        while (((size_t)1 << s) < 2 * need && s < SHIFT_MAX) {
            s++;
        }
        if (s < f->shift && f->dir_len > 0) {
            s = f->shift;
        }
        return relayout(f, s);
    }
    if (!chunked) {
        mq_err rv = relayout(f, SHIFT_MAX);
        if (rv != MQ_OK) {
            return rv;
        }
    }
    size_t chunks = (f->head + need + FIFO_CHUNK_MAX - 1) >> SHIFT_MAX;
    size_t add = chunks - f->dir_len;
    if (dir_room(f, add) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < add; i++) {
        /* Chunks added before a failure stay: room, no record changed. */
        struct fifo_chunk *c = chunk_new(f, SHIFT_MAX);
        if (c == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
        f->dir[f->dir_head + f->dir_len++] = c;
    }
    return MQ_OK;
}

void *fifo_push(struct fifo *f)
{
    if (fifo_reserve(f, 1) != MQ_OK) {
        return NULL;
    }
    f->len++;
    void *rec = fifo_at(f, f->len - 1);
    memset(rec, 0, f->rec_size);
    if (f->acct != NULL) {
        *f->acct += f->nominal;
    }
    return rec;
}

void fifo_pop(struct fifo *f)
{
    if (f->len == 0) {
        return;
    }
    f->head++;
    f->len--;
    if (f->acct != NULL) {
        *f->acct -= f->nominal;
    }
    if (f->head == (size_t)1 << f->shift) {
        /* The head left its chunk: the room ahead stays the same. */
        chunk_drop(f, f->dir[f->dir_head]);
        f->dir_head++;
        f->dir_len--;
        f->head = 0;
        if (f->dir_len == 0) {
            f->dir_head = 0;
        }
    }
}

void fifo_shrink(struct fifo *f)
{
    if (f->len == 0) {
        drop_chunks(f);
        mq_free(f->dir);
        f->dir = NULL;
        f->dir_cap = 0;
        f->shift = 0;
        return;
    }
    size_t cap = f->dir_len << f->shift;
    if (cap > FIFO_CHUNK_MIN && f->len <= cap / 8) {
        uint32_t s = SHIFT_MIN;
        while (((size_t)1 << s) < 2 * f->len) {
            s++;
        }
        (void)relayout(f, s); /* out of memory: keep the larger one */
    }
    if (f->dir_cap > 8 && f->dir_len * 4 < f->dir_cap) {
        size_t dcap = f->dir_len * 2 > 4 ? f->dir_len * 2 : 4;
        struct fifo_chunk **dir = mq_malloc(dcap * sizeof *dir);
        if (dir != NULL) { /* else keep the larger list */
            memcpy(dir, f->dir + f->dir_head, f->dir_len * sizeof *dir);
            mq_free(f->dir);
            f->dir = dir;
            f->dir_head = 0;
            f->dir_cap = dcap;
        }
    }
}

size_t fifo_mem_bytes(const struct fifo *f)
{
    return f->dir_cap * sizeof *f->dir +
           f->dir_len *
               (sizeof(struct fifo_chunk) + ((size_t)f->rec_size << f->shift));
}

void fifo_view_take(const struct fifo *f, struct fifo_view *v, void *mem)
{
    memset(v, 0, sizeof *v);
    v->rec_size = f->rec_size;
    v->shift = f->shift;
    v->head = f->head;
    v->len = f->len;
    if (f->len == 0) {
        return;
    }
    v->chunks = mem;
    memcpy(v->chunks, f->dir + f->dir_head, f->dir_len * sizeof *v->chunks);
    v->n_chunks = f->dir_len;
}
