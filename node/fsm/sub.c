/* sub.c: a subscription's cursor and pending deliveries.
 *
 * Pending deliveries live in three structures at once: a map by seq (ack,
 * nack), a list in seq order (the ack floor is its head) and a min-heap on
 * due time (what to deliver again). Delivering new messages always appends
 * to the list, since next_seq only grows. */
#include "sub.h"

#include <string.h>

#include "alloc.h"
#include "filter.h"
#include "msg.h"
#include "mstime.h"
#include "names.h"

static int heap_less(const struct pending *a, const struct pending *b)
{
    if (a->due_ms != b->due_ms) {
        return a->due_ms < b->due_ms;
    }
    return a->seq < b->seq;
}

static void heap_set(struct sub *s, size_t i, struct pending *p)
{
    s->heap[i] = p;
    p->heap_idx = (uint32_t)i;
}

static void heap_up(struct sub *s, size_t i)
{
    struct pending *p = s->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(p, s->heap[parent])) {
            break;
        }
        heap_set(s, i, s->heap[parent]);
        i = parent;
    }
    heap_set(s, i, p);
}

static void heap_down(struct sub *s, size_t i)
{
    struct pending *p = s->heap[i];
    for (;;) {
        size_t l = 2 * i + 1;
        size_t best = i;
        struct pending *bp = p;
        if (l < s->heap_len && heap_less(s->heap[l], bp)) {
            best = l;
            bp = s->heap[l];
        }
        if (l + 1 < s->heap_len && heap_less(s->heap[l + 1], bp)) {
            best = l + 1;
            bp = s->heap[l + 1];
        }
        if (best == i) {
            break;
        }
        heap_set(s, i, bp);
        i = best;
    }
    heap_set(s, i, p);
}

static void heap_fix(struct sub *s, size_t i)
{
    struct pending *p = s->heap[i];
    heap_up(s, i);
    heap_down(s, p->heap_idx);
}

static void heap_remove(struct sub *s, struct pending *p)
{
    size_t i = p->heap_idx;
    struct pending *last = s->heap[--s->heap_len];
    if (last != p) {
        heap_set(s, i, last);
        heap_fix(s, i);
    }
}

/* Adds @p (the caller made room in heap and map) at the end of the list. */
static void pending_link(struct sub *s, struct pending *p)
{
    p->prev = s->last;
    p->next = NULL;
    if (s->last) {
        s->last->next = p;
    } else {
        s->first = p;
    }
    s->last = p;
    heap_set(s, s->heap_len++, p);
    heap_up(s, s->heap_len - 1);
    hmap_put(&s->by_seq, p->seq, p); /* room reserved: cannot fail */
}

static void pending_unlink(struct sub *s, struct pending *p)
{
    s->n_scheduled -= p->attempts == 0;
    if (p->prev) {
        p->prev->next = p->next;
    } else {
        s->first = p->next;
    }
    if (p->next) {
        p->next->prev = p->prev;
    } else {
        s->last = p->prev;
    }
    heap_remove(s, p);
    hmap_del(&s->by_seq, p->seq);
    mq_free(p);
    if (s->ctx != NULL) {
        s->ctx->msg_bytes -= SUB_PENDING_BYTES;
    }
    /* Give back what many deliveries, now acked, left behind. */
    hmap_shrink(&s->by_seq);
    if (s->heap_cap > 64 && s->heap_len < s->heap_cap / 8) {
        size_t cap = s->heap_cap / 4;
        struct pending **heap = mq_realloc(s->heap, cap * sizeof *heap);
        if (heap != NULL) { /* else keep the larger one */
            s->heap = heap;
            s->heap_cap = cap;
        }
    }
}

static mq_err reserve(struct sub *s, size_t n)
{
    if (s->heap_len + n > s->heap_cap) {
        size_t cap = s->heap_cap ? s->heap_cap : 16;
        while (cap < s->heap_len + n) {
            cap *= 2;
        }
        struct pending **heap = mq_realloc(s->heap, cap * sizeof *heap);
        if (heap == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
        s->heap = heap;
        s->heap_cap = cap;
    }
    return hmap_reserve(&s->by_seq, n);
}

static mq_err pending_add(struct sub *s, uint64_t seq, uint64_t due_ms,
                          uint32_t attempts, uint64_t delivered_at_ms)
{
    struct pending *p;
    if (reserve(s, 1) != MQ_OK || (p = mq_malloc(sizeof *p)) == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    p->seq = seq;
    p->due_ms = due_ms;
    p->attempts = attempts;
    p->delivered_at_ms = delivered_at_ms;
    p->nacked = 0;
    pending_link(s, p);
    s->n_scheduled += attempts == 0;
    if (s->ctx != NULL) {
        s->ctx->msg_bytes += SUB_PENDING_BYTES;
    }
    return MQ_OK;
}

/* Gives up on @p: it goes to s->dl for the FSM to dead-letter. */
static mq_err give_up(struct sub *s, struct pending *p, int term)
{
    if (s->n_dl == s->cap_dl) {
        size_t cap = s->cap_dl ? s->cap_dl * 2 : 16;
        struct dead_letter *dl = mq_realloc(s->dl, cap * sizeof *dl);
        if (dl == NULL) {
            return MQ_ERR_NO_MEMORY;
        }
        s->dl = dl;
        s->cap_dl = cap;
    }
    s->dl[s->n_dl].seq = p->seq;
    s->dl[s->n_dl].attempts = p->attempts;
    s->dl[s->n_dl].term = term;
    s->n_dl++;
    pending_unlink(s, p);
    return MQ_OK;
}

struct sub *sub_new(const struct sub_config *cfg, const struct ring *q,
                    uint64_t now_ms, struct fsm_ctx *ctx)
{
    struct sub *s = mq_calloc(1, sizeof *s);
    if (s == NULL) {
        return NULL;
    }
    s->cfg = *cfg;
    s->created_at_ms = now_ms;
    s->ctx = ctx;
    hmap_init(&s->by_seq);
    subhist_init(&s->hist);
    if (ctx != NULL) {
        subhist_own(&s->hist, &ctx->trash, &ctx->ids_bytes, &ctx->msg_bytes);
    }
    switch (cfg->start) {
    case MQ_START_FIRST:
        s->next_seq = q->first_seq;
        break;
    case MQ_START_SEQ:
        s->next_seq =
            cfg->start_seq < q->first_seq ? q->first_seq : cfg->start_seq;
        break;
    case MQ_START_TIME:
        s->next_seq = ring_seq_at_time(q, cfg->start_time_ms);
        break;
    default:
        s->next_seq = q->last_seq + 1;
        break;
    }
    return s;
}

void sub_free(struct sub *s)
{
    if (s == NULL) {
        return;
    }
    struct pending *p = s->first;
    while (p) {
        struct pending *next = p->next;
        mq_free(p);
        p = next;
    }
    if (s->ctx != NULL) {
        s->ctx->msg_bytes -= s->heap_len * SUB_PENDING_BYTES;
    }
    mq_free(s->heap);
    hmap_close(&s->by_seq);
    subhist_close(&s->hist);
    mq_free(s->dl);
    s->first = s->last = NULL;
    s->heap = NULL;
    s->heap_len = 0;
    s->dl = NULL;
    trash_put_block(s->ctx ? &s->ctx->trash : NULL, &s->shell, s);
}

uint64_t sub_next_due(const struct sub *s)
{
    return s->heap_len ? s->heap[0]->due_ms : UINT64_MAX;
}

int sub_matches(const struct sub *s, const struct msg *m)
{
    return filter_match_any(s->cfg.filters, s->cfg.n_filters,
                            (const char *)m->blob + m->event_off, m->event_len);
}

mq_err sub_deliver(struct sub *s, const struct ring *q, uint64_t now_ms,
                   size_t max, struct delivery *out, size_t *n_out)
{
    size_t n = 0, scanned = 0;
    uint64_t due = mstime_add(now_ms, s->cfg.ack_timeout_ms);
    mq_err rv = MQ_OK;

    *n_out = 0;
    while (n < max && s->heap_len > 0 && s->heap[0]->due_ms <= now_ms) {
        struct pending *p = s->heap[0];
        struct msg *m = ring_get(q, p->seq);
        if (m == NULL) { /* gone by retention, purge or cancel */
            s->dropped++;
            pending_unlink(s, p);
            continue;
        }
        if (s->cfg.max_deliveries && p->attempts >= s->cfg.max_deliveries) {
            if ((rv = give_up(s, p, 0)) != MQ_OK) {
                return rv;
            }
            continue;
        }
        s->n_scheduled -= p->attempts == 0;
        p->attempts++;
        p->due_ms = due;
        p->delivered_at_ms = now_ms;
        p->nacked = 0;
        heap_down(s, 0);
        s->delivered++;
        out[n].m = m;
        out[n].attempt = p->attempts;
        *n_out = ++n;
    }
    while (n < max && s->next_seq <= q->last_seq && scanned < SUB_SCAN_MAX) {
        uint64_t seq = s->next_seq < q->first_seq ? q->first_seq : s->next_seq;
        struct msg *m = ring_get(q, seq);
        scanned++;
        if (m == NULL || !sub_matches(s, m)) {
            s->next_seq = seq + 1;
            continue;
        }
        if (m->rec.deliver_at_ms > now_ms) {
            /* Delayed: scheduled, delivered from the heap when due. */
            if (pending_add(s, seq, m->rec.deliver_at_ms, 0, 0) != MQ_OK) {
                return MQ_ERR_NO_MEMORY;
            }
            s->next_seq = seq + 1;
            continue;
        }
        if (pending_add(s, seq, due, 1, now_ms) != MQ_OK) {
            return MQ_ERR_NO_MEMORY;
        }
        s->next_seq = seq + 1;
        s->delivered++;
        out[n].m = m;
        out[n].attempt = 1;
        *n_out = ++n;
    }
    return MQ_OK;
}

size_t sub_available(const struct sub *s, const struct ring *q, uint64_t now_ms,
                     size_t max)
{
    size_t n = 0, scanned = 0;
    if (s->heap_len > 0 && s->heap[0]->due_ms <= now_ms) {
        n++; /* at least one due: enough to decide to deliver */
    }
    uint64_t seq = s->next_seq < q->first_seq ? q->first_seq : s->next_seq;
    if (s->cfg.n_filters == 0 && q->n_delayed == 0) {
        /* Every new message is for us and due: count without looking. */
        uint64_t more = q->last_seq >= seq ? q->last_seq - seq + 1 : 0;
        n += more > max ? max : (size_t)more;
        return n > max ? max : n;
    }
    for (; n < max && seq <= q->last_seq && scanned < SUB_SCAN_MAX; seq++) {
        const struct msg *m = ring_get(q, seq);
        scanned++;
        if (m == NULL || !sub_matches(s, m)) {
            continue;
        }
        if (m->rec.deliver_at_ms > now_ms) {
            /* A deliver op moves the delayed message to the heap. */
            return n > 0 ? n : 1;
        }
        n++;
    }
    if (scanned == SUB_SCAN_MAX && n == 0) {
        return 1; /* many filtered out: a deliver op moves past them */
    }
    return n > max ? max : n;
}

mq_err sub_check_seqs(const struct sub *s, const uint64_t *seqs, size_t n,
                      struct errmsg *e)
{
    for (size_t i = 0; i < n; i++) {
        /* Only a scheduled message (never delivered) needs a look-up. */
        const struct pending *p =
            s->n_scheduled ? hmap_get(&s->by_seq, seqs[i]) : NULL;
        if (seqs[i] == 0 || seqs[i] >= s->next_seq ||
            (p != NULL && p->attempts == 0)) {
            errmsg_set(e, "seq %llu was never delivered to subscription %s",
                       (unsigned long long)seqs[i], s->cfg.name);
            return MQ_ERR_INVALID;
        }
    }
    return MQ_OK;
}

mq_err sub_ack(struct sub *s, const uint64_t *seqs, size_t n, int mode,
               uint64_t now_ms, uint64_t delay_ms, uint32_t *done,
               uint32_t *already)
{
    for (size_t i = 0; i < n; i++) {
        struct pending *p = hmap_get(&s->by_seq, seqs[i]);
        mq_err rv = MQ_OK;
        if (p == NULL || p->attempts == 0) {
            (*already)++;
            continue;
        }
        (*done)++;
        switch (mode) {
        case SUB_NACK:
            p->due_ms = mstime_add(now_ms, delay_ms);
            p->nacked = 1;
            heap_fix(s, p->heap_idx);
            break;
        case SUB_TOUCH: {
            uint64_t limit = mstime_add(
                p->delivered_at_ms, SUB_TOUCH_LIMIT * s->cfg.ack_timeout_ms);
            uint64_t due = mstime_add(now_ms, s->cfg.ack_timeout_ms);
            if (!p->nacked) {
                p->due_ms = due < limit ? due : limit;
                heap_fix(s, p->heap_idx);
            }
            break;
        }
        case SUB_TERM:
            rv = give_up(s, p, 1);
            break;
        default:
            s->acked++;
            rv = subhist_ack(&s->hist, p->seq, now_ms, p->attempts);
            pending_unlink(s, p);
            break;
        }
        if (rv != MQ_OK) {
            return rv;
        }
    }
    return MQ_OK;
}

void sub_forget(struct sub *s, uint64_t seq)
{
    /* Pending deliveries are at or after the first in seq order. */
    struct pending *p =
        s->first && seq >= s->first->seq ? hmap_get(&s->by_seq, seq) : NULL;
    if (p != NULL) {
        s->dropped++;
        pending_unlink(s, p);
    }
    subhist_forget(&s->hist, seq);
}

int sub_dead_lettered(const struct sub *s, uint64_t seq)
{
    return subhist_dead_at(&s->hist, seq, NULL) != 0;
}

size_t sub_scheduled(const struct sub *s)
{
    size_t n = 0;
    for (const struct pending *p = s->first; p; p = p->next) {
        n += p->attempts == 0 || p->nacked;
    }
    return n;
}

int sub_msg_state(const struct sub *s, const struct msg *m, uint64_t now_ms,
                  uint32_t *attempts, uint64_t *last_delivery_ms,
                  uint64_t *acked_at_ms, uint64_t *dead_lettered_at_ms)
{
    uint64_t seq = m->rec.seq;
    const struct pending *p = hmap_get(&s->by_seq, seq);
    *attempts = 0;
    *last_delivery_ms = 0;
    *acked_at_ms = 0;
    *dead_lettered_at_ms = 0;
    if (p != NULL) {
        *attempts = p->attempts;
        *last_delivery_ms = p->delivered_at_ms;
        if (p->attempts == 0 || p->nacked) {
            return MQ_SUB_SCHEDULED;
        }
        return MQ_SUB_DELIVERED;
    }
    if (!sub_matches(s, m)) {
        return MQ_SUB_FILTERED;
    }
    if (seq >= s->next_seq) {
        return m->rec.deliver_at_ms > now_ms ? MQ_SUB_SCHEDULED
                                             : MQ_SUB_PENDING;
    }
    uint64_t dead = subhist_dead_at(&s->hist, seq, attempts);
    if (dead) {
        *dead_lettered_at_ms = dead;
        return MQ_SUB_DEAD_LETTERED;
    }
    *acked_at_ms = subhist_acked_at(&s->hist, seq, attempts);
    return MQ_SUB_ACKED;
}

uint64_t sub_ack_floor(const struct sub *s)
{
    return s->first ? s->first->seq - 1 : s->next_seq - 1;
}

size_t sub_in_flight(const struct sub *s)
{
    return s->heap_len;
}

mq_err sub_restore_pending(struct sub *s, uint64_t seq, uint64_t due_ms,
                           uint32_t attempts)
{
    if (seq == 0 || (s->last && s->last->seq >= seq) || seq >= s->next_seq ||
        hmap_get(&s->by_seq, seq) != NULL) {
        return MQ_ERR_PROTOCOL;
    }
    return pending_add(s, seq, due_ms, attempts, 0);
}

mq_err sub_config_normalize(struct sub_config *cfg,
                            const struct queue_config *qc, struct errmsg *e)
{
    mq_err rv =
        name_check(cfg->name, strlen(cfg->name), "subscription name", e);
    if (rv != MQ_OK) {
        return rv;
    }
    if (cfg->start != MQ_START_NEW && cfg->start != MQ_START_FIRST &&
        cfg->start != MQ_START_SEQ && cfg->start != MQ_START_TIME) {
        errmsg_set(e, "start must be new, first, a seq or a time");
        return MQ_ERR_INVALID;
    }
    const char *f = cfg->filters;
    for (uint32_t i = 0; i < cfg->n_filters; i++) {
        size_t len = strnlen(f, SUB_FILTERS_BYTES);
        if (f + len >= cfg->filters + SUB_FILTERS_BYTES ||
            (rv = filter_check(f, len, e)) != MQ_OK) {
            if (rv == MQ_OK) {
                errmsg_set(e, "filters take at most %d bytes",
                           SUB_FILTERS_BYTES);
            }
            return MQ_ERR_INVALID;
        }
        f += len + 1;
    }
    if (cfg->start == MQ_START_SEQ && cfg->start_seq == 0) {
        errmsg_set(e, "start seq must be at least 1");
        return MQ_ERR_INVALID;
    }
    if (cfg->ack_timeout_ms == 0) {
        cfg->ack_timeout_ms = qc->ack_timeout_ms;
    }
    if (cfg->max_deliveries == 0) {
        cfg->max_deliveries = qc->max_deliveries;
    }
    return MQ_OK;
}
