/* waitset.c: waiting fetches by subscription, by deadline and by
 * connection (waitset.h).
 *
 * Groups are found by a 64-bit hash of "queue\0sub" in an hmap; groups
 * whose hashes collide are chained from the one the map holds. The
 * connections' lists hang from an hmap by pipe id. The deadline heap is an
 * array of waiters, each knowing its place (heap_at). */
#include "waitset.h"

#include <string.h>

#include "alloc.h"
#include "hash.h"

void waitset_init(struct waitset *ws)
{
    memset(ws, 0, sizeof *ws);
    hmap_init(&ws->groups);
    hmap_init(&ws->pipes);
}

void waitset_close(struct waitset *ws)
{
    struct wait_group *g = ws->first_group;
    while (g != NULL) {
        struct wait_group *next = g->next;
        mq_free(g);
        g = next;
    }
    hmap_close(&ws->groups);
    hmap_close(&ws->pipes);
    mq_free(ws->heap);
    memset(ws, 0, sizeof *ws);
}

size_t waitset_count(const struct waitset *ws)
{
    return ws->n;
}

static uint64_t key_hash(const char *queue, const char *sub)
{
    size_t lq = strlen(queue), ls = strlen(sub);
    uint64_t h = hash64(queue, lq);
    /* Two parts, so that ("a.b", "c") and ("a", "b.c") differ. */
    return h ^ (hash64(sub, ls) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
}

struct wait_group *waitset_group(const struct waitset *ws, const char *queue,
                                 const char *sub)
{
    uint64_t h = key_hash(queue, sub);
    struct wait_group *g = hmap_get(&ws->groups, h);
    while (g != NULL &&
           (strcmp(g->queue, queue) != 0 || strcmp(g->sub, sub) != 0)) {
        g = g->same_hash;
    }
    return g;
}

/* Sets @key, which @m holds, to @val. Cannot fail: the map is at most half
 * full, so the put after the delete needs no room. */
static void replace(struct hmap *m, uint64_t key, void *val)
{
    hmap_del(m, key);
    hmap_put(m, key, val);
}

/* Heap -------------------------------------------------------------------- */

static void heap_set(struct waitset *ws, size_t i, struct waiter *w)
{
    ws->heap[i] = w;
    w->heap_at = i;
}

static void heap_up(struct waitset *ws, size_t i)
{
    struct waiter *w = ws->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (ws->heap[parent]->deadline_ms <= w->deadline_ms) {
            break;
        }
        heap_set(ws, i, ws->heap[parent]);
        i = parent;
    }
    heap_set(ws, i, w);
}

static void heap_down(struct waitset *ws, size_t i)
{
    struct waiter *w = ws->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= ws->n) {
            break;
        }
        if (child + 1 < ws->n &&
            ws->heap[child + 1]->deadline_ms < ws->heap[child]->deadline_ms) {
            child++;
        }
        if (w->deadline_ms <= ws->heap[child]->deadline_ms) {
            break;
        }
        heap_set(ws, i, ws->heap[child]);
        i = child;
    }
    heap_set(ws, i, w);
}

/* Add and remove ---------------------------------------------------------- */

static struct wait_group *group_new(struct waitset *ws, const char *queue,
                                    const char *sub, uint64_t h)
{
    size_t lq = strlen(queue), ls = strlen(sub);
    struct wait_group *g = mq_malloc(sizeof *g + lq + ls + 2);
    char *names;

    if (g == NULL) {
        return NULL;
    }
    memset(g, 0, sizeof *g);
    names = (char *)(g + 1);
    memcpy(names, queue, lq + 1);
    memcpy(names + lq + 1, sub, ls + 1);
    g->queue = names;
    g->sub = names + lq + 1;
    g->hash = h;
    g->same_hash = hmap_get(&ws->groups, h);
    if (g->same_hash != NULL) {
        replace(&ws->groups, h, g);
    } else if (hmap_put(&ws->groups, h, g) != MQ_OK) {
        mq_free(g);
        return NULL;
    }
    g->next = ws->first_group;
    if (g->next != NULL) {
        g->next->prev = g;
    }
    ws->first_group = g;
    ws->n_groups++;
    return g;
}

static void group_free(struct waitset *ws, struct wait_group *g)
{
    struct wait_group *head = hmap_get(&ws->groups, g->hash);

    if (head == g) {
        if (g->same_hash != NULL) {
            replace(&ws->groups, g->hash, g->same_hash);
        } else {
            hmap_del(&ws->groups, g->hash);
        }
    } else {
        while (head->same_hash != g) {
            head = head->same_hash;
        }
        head->same_hash = g->same_hash;
    }
    if (g->prev != NULL) {
        g->prev->next = g->next;
    } else {
        ws->first_group = g->next;
    }
    if (g->next != NULL) {
        g->next->prev = g->prev;
    }
    ws->n_groups--;
    mq_free(g);
}

mq_err waitset_add(struct waitset *ws, struct waiter *w, const char *queue,
                   const char *sub)
{
    uint64_t h = key_hash(queue, sub);
    struct wait_group *g = waitset_group(ws, queue, sub);
    struct waiter *pipe_head;

    /* Room first, so that nothing fails once the group is made. */
    if (ws->n == ws->heap_cap) {
        size_t cap = ws->heap_cap ? 2 * ws->heap_cap : 64;
        struct waiter **heap = mq_realloc(ws->heap, cap * sizeof *heap);
        if (heap == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
        ws->heap = heap;
        ws->heap_cap = cap;
    }
    pipe_head = hmap_get(&ws->pipes, w->pipe);
    if (pipe_head == NULL && hmap_reserve(&ws->pipes, 1) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    if (g == NULL) {
        if ((g = group_new(ws, queue, sub, h)) == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
    }

    w->group = g;
    w->g_next = NULL;
    w->g_prev = g->tail;
    if (g->tail != NULL) {
        g->tail->g_next = w;
    } else {
        g->head = w;
    }
    g->tail = w;
    g->n++;

    w->p_prev = NULL;
    w->p_next = pipe_head;
    if (pipe_head != NULL) {
        pipe_head->p_prev = w;
    }
    if (pipe_head != NULL) {
        replace(&ws->pipes, w->pipe, w);
    } else {
        hmap_put(&ws->pipes, w->pipe, w); /* reserved above */
    }

    heap_set(ws, ws->n++, w);
    heap_up(ws, w->heap_at);
    return MQ_OK;
}

void waitset_remove(struct waitset *ws, struct waiter *w)
{
    struct wait_group *g = w->group;
    size_t at = w->heap_at;

    /* The heap: the last one takes its place. */
    ws->n--;
    if (at != ws->n) {
        struct waiter *moved = ws->heap[ws->n];
        heap_set(ws, at, moved);
        heap_down(ws, at);
        heap_up(ws, moved->heap_at);
    }

    /* The connection's list. */
    if (w->p_prev != NULL) {
        w->p_prev->p_next = w->p_next;
    } else if (w->p_next != NULL) {
        replace(&ws->pipes, w->pipe, w->p_next);
    } else {
        hmap_del(&ws->pipes, w->pipe);
        hmap_shrink(&ws->pipes);
    }
    if (w->p_next != NULL) {
        w->p_next->p_prev = w->p_prev;
    }

    /* The group's. */
    if (w->g_prev != NULL) {
        w->g_prev->g_next = w->g_next;
    } else {
        g->head = w->g_next;
    }
    if (w->g_next != NULL) {
        w->g_next->g_prev = w->g_prev;
    } else {
        g->tail = w->g_prev;
    }
    w->group = NULL;
    w->g_prev = w->g_next = w->p_prev = w->p_next = NULL;
    if (--g->n == 0) {
        group_free(ws, g);
    }
}

struct waiter *waitset_expired(const struct waitset *ws, uint64_t now_ms)
{
    if (ws->n > 0 && ws->heap[0]->deadline_ms <= now_ms) {
        return ws->heap[0];
    }
    return NULL;
}

struct waiter *waitset_any(const struct waitset *ws)
{
    return ws->n > 0 ? ws->heap[0] : NULL;
}

struct waiter *waitset_of_pipe(const struct waitset *ws, uint32_t pipe)
{
    return hmap_get(&ws->pipes, pipe);
}
