/* fifo.h: a first-in first-out queue of fixed-size records, in chunks.
 * The remembered ids of a queue (idring.h), the statuses of its gone
 * messages (tomb.h) and a subscription's recent acks (subhist.h) are
 * FIFOs: records are appended at the tail and leave from the head.
 *
 * Records never move once written while a snapshot is taken (the trash
 * holds chunks, trash.h): fifo_view_take copies only the list of chunks,
 * so that the snapshot's encoder reads the records on another thread
 * while apply goes on appending and dropping. Writes only ever go past
 * the tail, into slots no view covers; a chunk left behind by the head, or
 * replaced when the FIFO is laid out again, goes to the trash.
 *
 * Memory: chunks of FIFO_CHUNK_MAX records once the FIFO is that long,
 * one smaller chunk (a power of two from FIFO_CHUNK_MIN) before; chunks
 * the head has left are freed, and fifo_shrink gives back what a FIFO
 * that got short no longer needs. Each FIFO adds @nominal bytes per record
 * to a total it is given (the memory accounting of the FSM).
 *
 * Pure C, loop thread only (a view is read by one other thread). */
#ifndef MQ_FIFO_H
#define MQ_FIFO_H

#include <stddef.h>
#include <stdint.h>

#include "mq.h"
#include "trash.h"

#define FIFO_CHUNK_MIN 16u
#define FIFO_CHUNK_MAX 1024u

struct fifo_chunk {
    struct trash_link link; /* while it waits in the trash */
    _Alignas(8) uint8_t recs[];
};

struct fifo {
    struct fifo_chunk **dir; /* chunks dir[dir_head .. dir_head + dir_len) */
    size_t dir_head, dir_len, dir_cap;
    size_t head; /* index of the first record in the first chunk */
    size_t len;
    uint32_t rec_size;
    uint32_t shift; /* a chunk holds 1 << shift records (0: none yet) */
    /* Accounting: *acct (may be NULL) gets nominal bytes per record. */
    uint64_t *acct;
    uint32_t nominal;
    struct trash *trash; /* may be NULL: chunks are freed at once */
};

/* An empty FIFO of @rec_size-byte records (a multiple of 8). */
void fifo_init(struct fifo *f, size_t rec_size);
/* Where its chunks go when freed and what it counts; set before the first
 * record. */
void fifo_own(struct fifo *f, struct trash *trash, uint64_t *acct,
              uint32_t nominal);
/* Drops every record and frees (or trashes) the chunks. */
void fifo_close(struct fifo *f);

static inline size_t fifo_len(const struct fifo *f)
{
    return f->len;
}

/* The @i-th record (i < len), oldest first. Valid until the next change. */
static inline void *fifo_at(const struct fifo *f, size_t i)
{
    size_t k = f->head + i;
    return f->dir[f->dir_head + (k >> f->shift)]->recs +
           (k & (((size_t)1 << f->shift) - 1)) * f->rec_size;
}

/* Makes room for @n more records, so that the next @n fifo_push cannot
 * fail (pops in between do not take the room away). MQ_ERR_NO_MEMORY
 * leaves the records unchanged. */
mq_err fifo_reserve(struct fifo *f, size_t n);
/* Appends a zeroed record and returns it, or NULL when out of memory (@f
 * unchanged). */
void *fifo_push(struct fifo *f);
/* Drops the oldest record, if any. Never allocates nor fails. */
void fifo_pop(struct fifo *f);
/* Gives back memory a FIFO that got short no longer needs (a chunk much
 * larger than its records, or any chunk when empty). Takes back room
 * reserved: not between fifo_reserve and its pushes. Never fails (when
 * out of memory it keeps what it has). */
void fifo_shrink(struct fifo *f);

/* Bytes the FIFO holds in memory (chunks and their list). */
size_t fifo_mem_bytes(const struct fifo *f);

/* The records of a FIFO as they were when the view was taken; readable
 * (from any thread) while the snapshot hold that covers them lasts. */
struct fifo_view {
    struct fifo_chunk **chunks;
    size_t n_chunks, head, len;
    uint32_t rec_size, shift;
};

/* Bytes a view of @f needs (for its list of chunks). */
static inline size_t fifo_view_size(const struct fifo *f)
{
    return f->len ? f->dir_len * sizeof(struct fifo_chunk *) : 0;
}
/* Takes a view of @f into @v: copies the list of its chunks (not the
 * records) into @mem, which has fifo_view_size bytes (the caller's). */
void fifo_view_take(const struct fifo *f, struct fifo_view *v, void *mem);

static inline const void *fifo_view_at(const struct fifo_view *v, size_t i)
{
    size_t k = v->head + i;
    return v->chunks[k >> v->shift]->recs +
           (k & (((size_t)1 << v->shift) - 1)) * v->rec_size;
}

#endif
