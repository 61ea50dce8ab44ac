/* evict.c: forgetting the node's oldest ids and statuses (see evict.h).
 *
 * Happy path: the queue at the top of the heap has the oldest record once
 * its bound is exact (bounds are never above the truth: were the top's
 * exact time equal to its bound, no other queue can hold an older
 * record); its oldest FIFO gives records until its next FIFO, or the next
 * queue, may hold an older one, or the total is under the bound; then the
 * queue's bound is made exact again and the heap says who is next. */
#include "evict.h"

#include <string.h>

#include "alloc.h"
#include "queue.h"

static struct queue *queue_of(const struct evict_item *it)
{
    return (struct queue *)((char *)it - offsetof(struct queue, ids));
}

/* Whether @a comes before @b: earlier time, or the same and a smaller
 * queue name. */
static int before(const struct evict_item *a, const struct evict_item *b)
{
    if (a->at_ms != b->at_ms) {
        return a->at_ms < b->at_ms;
    }
    return strcmp(queue_of(a)->cfg.name, queue_of(b)->cfg.name) < 0;
}

void evict_heap_init(struct evict_heap *h)
{
    memset(h, 0, sizeof *h);
}

void evict_heap_close(struct evict_heap *h)
{
    for (size_t i = 0; i < h->len; i++) {
        h->items[i]->idx = EVICT_NOT_IN_HEAP;
    }
    mq_free(h->items);
    evict_heap_init(h);
}

mq_err evict_heap_reserve(struct evict_heap *h, size_t n)
{
    if (n > SIZE_MAX / 2 / sizeof *h->items - h->len) {
        return MQ_ERR_NO_MEMORY;
    }
    if (h->len + n <= h->cap) {
        return MQ_OK;
    }
    size_t cap = h->cap ? h->cap : 16;
    while (cap < h->len + n) {
        cap *= 2;
    }
    struct evict_item **items = mq_realloc(h->items, cap * sizeof *items);
    if (items == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    h->items = items;
    h->cap = cap;
    return MQ_OK;
}

static void put_at(struct evict_heap *h, size_t i, struct evict_item *it)
{
    h->items[i] = it;
    it->idx = i;
}

static void sift_up(struct evict_heap *h, size_t i)
{
    struct evict_item *it = h->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(it, h->items[parent])) {
            break;
        }
        put_at(h, i, h->items[parent]);
        i = parent;
    }
    put_at(h, i, it);
}

static void sift_down(struct evict_heap *h, size_t i)
{
    struct evict_item *it = h->items[i];
    for (;;) {
        size_t l = 2 * i + 1, best = i;
        const struct evict_item *b = it;
        if (l < h->len && before(h->items[l], b)) {
            best = l;
            b = h->items[l];
        }
        if (l + 1 < h->len && before(h->items[l + 1], b)) {
            best = l + 1;
        }
        if (best == i) {
            break;
        }
        put_at(h, i, h->items[best]);
        i = best;
    }
    put_at(h, i, it);
}

void evict_heap_add(struct evict_heap *h, struct evict_item *it)
{
    it->at_ms = evict_oldest(it);
    put_at(h, h->len++, it);
    sift_up(h, h->len - 1);
}

void evict_heap_remove(struct evict_heap *h, struct evict_item *it)
{
    size_t i = it->idx;
    if (i == EVICT_NOT_IN_HEAP || i >= h->len || h->items[i] != it) {
        return;
    }
    struct evict_item *last = h->items[--h->len];
    it->idx = EVICT_NOT_IN_HEAP;
    if (last != it) {
        put_at(h, i, last);
        sift_up(h, i);
        sift_down(h, last->idx);
    }
}

/* Sets @it's time (in the heap) to @at_ms. */
static void set_time(struct evict_heap *h, struct evict_item *it,
                     uint64_t at_ms)
{
    uint64_t was = it->at_ms;
    it->at_ms = at_ms;
    if (at_ms < was) {
        sift_up(h, it->idx);
    } else if (at_ms > was) {
        sift_down(h, it->idx);
    }
}

void evict_lower(struct evict_heap *h, struct evict_item *it, uint64_t at_ms)
{
    if (at_ms >= it->at_ms) {
        return;
    }
    it->at_ms = at_ms;
    if (h != NULL && it->idx != EVICT_NOT_IN_HEAP) {
        sift_up(h, it->idx);
    }
}

/* The FIFOs of a queue, by rank: 0 its remembered ids, 1 its statuses,
 * 2 + i the acks of its subscription i. */
static size_t n_ranks(const struct queue *q)
{
    return 2 + q->n_subs;
}

/* The time of the oldest record of FIFO @rank, or UINT64_MAX if empty. */
static uint64_t rank_time(const struct queue *q, size_t rank)
{
    if (rank == 0) {
        return dedup_len(&q->dedup) ? dedup_at(&q->dedup, 0)->at_ms
                                    : UINT64_MAX;
    }
    if (rank == 1) {
        return tombs_len(&q->tombs) ? tomb_gone_at(tombs_at(&q->tombs, 0))
                                    : UINT64_MAX;
    }
    const struct subhist *h = &q->subs[rank - 2]->hist;
    return subhist_len(h) ? subhist_at(h, 0)->at_ms : UINT64_MAX;
}

static void rank_pop(struct queue *q, size_t rank)
{
    if (rank == 0) {
        dedup_pop(&q->dedup);
    } else if (rank == 1) {
        tombs_pop(&q->tombs);
    } else {
        subhist_pop(&q->subs[rank - 2]->hist);
    }
}

static void rank_shrink(struct queue *q, size_t rank)
{
    if (rank == 0) {
        dedup_shrink(&q->dedup);
    } else if (rank == 1) {
        tombs_shrink(&q->tombs);
    } else {
        subhist_shrink(&q->subs[rank - 2]->hist);
    }
}

/* The oldest FIFO of @q (its rank in *@r1; returns its time) and the time
 * and rank of the next oldest (*@t2, *@r2; UINT64_MAX and SIZE_MAX if
 * none). Ties go to the lower rank. */
static uint64_t oldest_two(const struct queue *q, size_t *r1, uint64_t *t2,
                           size_t *r2)
{
    uint64_t t1 = UINT64_MAX;
    *r1 = *r2 = SIZE_MAX;
    *t2 = UINT64_MAX;
    for (size_t r = 0; r < n_ranks(q); r++) {
        uint64_t t = rank_time(q, r);
        if (t == UINT64_MAX) {
            continue;
        }
        if (t < t1) {
            *t2 = t1;
            *r2 = *r1;
            t1 = t;
            *r1 = r;
        } else if (t < *t2) {
            *t2 = t;
            *r2 = r;
        }
    }
    return t1;
}

uint64_t evict_oldest(const struct evict_item *it)
{
    size_t r1, r2;
    uint64_t t2;
    return oldest_two(queue_of(it), &r1, &t2, &r2);
}

/* The item after the top: the earlier of the top's two children. */
static const struct evict_item *second(const struct evict_heap *h)
{
    if (h->len < 2) {
        return NULL;
    }
    if (h->len == 2 || before(h->items[1], h->items[2])) {
        return h->items[1];
    }
    return h->items[2];
}

uint64_t evict_run(struct evict_heap *h, struct fsm_ctx *ctx,
                   uint64_t budget_bytes)
{
    uint64_t n = 0;
    if (budget_bytes == 0) {
        return 0;
    }
    while (ctx->ids_bytes > budget_bytes && n < EVICT_MAX_PER_APPLY &&
           h->len > 0) {
        struct evict_item *top = h->items[0];
        struct queue *q = queue_of(top);
        size_t r1, r2;
        uint64_t t2;
        uint64_t t1 = oldest_two(q, &r1, &t2, &r2);
        if (t1 != top->at_ms) {
            set_time(h, top, t1); /* the bound was low: place it again */
            continue;
        }
        if (t1 == UINT64_MAX) {
            break; /* nothing remembered anywhere */
        }
        const struct evict_item *next = second(h);
        uint64_t n_before = n;
        queue_changing(q);
        while (ctx->ids_bytes > budget_bytes && n < EVICT_MAX_PER_APPLY) {
            uint64_t t = rank_time(q, r1);
            if (t == UINT64_MAX || t > t2 || (t == t2 && r1 > r2)) {
                break; /* another FIFO of the queue is older now */
            }
            if (next != NULL &&
                (next->at_ms < t ||
                 (next->at_ms == t &&
                  strcmp(queue_of(next)->cfg.name, q->cfg.name) < 0))) {
                break; /* another queue may be older now */
            }
            rank_pop(q, r1);
            n++;
        }
        rank_shrink(q, r1);
        set_time(h, top, evict_oldest(top));
        if (n == n_before) {
            break; /* cannot happen (the top holds the oldest): never spin */
        }
    }
    return n;
}
