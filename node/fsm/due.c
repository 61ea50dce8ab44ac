/* due.c: the two min-heaps of due.h. */
#include "due.h"

#include <string.h>

#include "alloc.h"

/* Items ------------------------------------------------------------------- */

void due_heap_init(struct due_heap *h)
{
    memset(h, 0, sizeof *h);
}

void due_heap_close(struct due_heap *h)
{
    for (size_t i = 0; i < h->len; i++) {
        h->items[i]->idx = DUE_NOT_IN_HEAP;
    }
    mq_free(h->items);
    due_heap_init(h);
}

mq_err due_heap_reserve(struct due_heap *h, size_t n)
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
    struct due_item **items = mq_realloc(h->items, cap * sizeof *items);
    if (items == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    h->items = items;
    h->cap = cap;
    return MQ_OK;
}

static void put_at(struct due_heap *h, size_t i, struct due_item *it)
{
    h->items[i] = it;
    it->idx = i;
}

static void sift_up(struct due_heap *h, size_t i)
{
    struct due_item *it = h->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->items[parent]->at_ms <= it->at_ms) {
            break;
        }
        put_at(h, i, h->items[parent]);
        i = parent;
    }
    put_at(h, i, it);
}

static void sift_down(struct due_heap *h, size_t i)
{
    struct due_item *it = h->items[i];
    for (;;) {
        size_t l = 2 * i + 1, best = i;
        uint64_t best_at = it->at_ms;
        if (l < h->len && h->items[l]->at_ms < best_at) {
            best = l;
            best_at = h->items[l]->at_ms;
        }
        if (l + 1 < h->len && h->items[l + 1]->at_ms < best_at) {
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

void due_heap_add(struct due_heap *h, struct due_item *it)
{
    put_at(h, h->len++, it);
    sift_up(h, h->len - 1);
}

void due_heap_remove(struct due_heap *h, struct due_item *it)
{
    size_t i = it->idx;
    if (i == DUE_NOT_IN_HEAP || i >= h->len || h->items[i] != it) {
        return;
    }
    struct due_item *last = h->items[--h->len];
    it->idx = DUE_NOT_IN_HEAP;
    if (last != it) {
        put_at(h, i, last);
        sift_up(h, i);
        sift_down(h, last->idx);
    }
}

void due_heap_set(struct due_heap *h, struct due_item *it, uint64_t at_ms)
{
    uint64_t was = it->at_ms;
    it->at_ms = at_ms;
    if (it->idx == DUE_NOT_IN_HEAP) {
        return;
    }
    if (at_ms < was) {
        sift_up(h, it->idx);
    } else if (at_ms > was) {
        sift_down(h, it->idx);
    }
}

void due_heap_lower(struct due_heap *h, struct due_item *it, uint64_t at_ms)
{
    if (at_ms >= it->at_ms) {
        return;
    }
    it->at_ms = at_ms;
    if (h != NULL && it->idx != DUE_NOT_IN_HEAP) {
        sift_up(h, it->idx);
    }
}

/* Times -------------------------------------------------------------------- */

void due_times_init(struct due_times *t)
{
    memset(t, 0, sizeof *t);
}

void due_times_close(struct due_times *t)
{
    mq_free(t->heap);
    due_times_init(t);
}

mq_err due_times_reserve(struct due_times *t, size_t n)
{
    if (n > SIZE_MAX / 2 / sizeof *t->heap - t->len) {
        return MQ_ERR_NO_MEMORY;
    }
    if (t->len + n <= t->cap) {
        return MQ_OK;
    }
    size_t cap = t->cap ? t->cap : 16;
    while (cap < t->len + n) {
        cap *= 2;
    }
    struct due_time *heap = mq_realloc(t->heap, cap * sizeof *heap);
    if (heap == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    t->heap = heap;
    t->cap = cap;
    return MQ_OK;
}

static int time_less(const struct due_time *a, const struct due_time *b)
{
    return a->at_ms != b->at_ms ? a->at_ms < b->at_ms : a->seq < b->seq;
}

void due_times_push(struct due_times *t, uint64_t at_ms, uint64_t seq)
{
    struct due_time x = {at_ms, seq};
    size_t i = t->len++;
    while (i > 0 && time_less(&x, &t->heap[(i - 1) / 2])) {
        t->heap[i] = t->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    t->heap[i] = x;
}

void due_times_pop(struct due_times *t)
{
    if (t->len == 0) {
        return;
    }
    struct due_time x = t->heap[--t->len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, best = l;
        if (l >= t->len) {
            break;
        }
        if (l + 1 < t->len && time_less(&t->heap[l + 1], &t->heap[l])) {
            best = l + 1;
        }
        if (!time_less(&t->heap[best], &x)) {
            break;
        }
        t->heap[i] = t->heap[best];
        i = best;
    }
    if (t->len > 0) {
        t->heap[i] = x;
    }
}

void due_times_clear(struct due_times *t)
{
    t->len = 0;
}
