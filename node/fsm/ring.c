/* ring.c: messages by seq in a power-of-two ring that doubles when full. */
#include "ring.h"

#include "alloc.h"

void ring_init(struct ring *r, uint64_t *acct)
{
    *r = (struct ring){.first_seq = 1, .last_seq = 0, .acct = acct};
}

void ring_close(struct ring *r)
{
    if (r->acct != NULL) {
        *r->acct -=
            r->n_bytes + r->n_msgs * (sizeof(struct msg) + RING_MSG_OVERHEAD);
    }
    r->n_msgs = r->n_bytes = 0;
    mq_free(r->slots);
    r->slots = NULL;
    r->cap = 0;
}

static struct msg **slot(const struct ring *r, uint64_t seq)
{
    return &r->slots[(r->head + (size_t)(seq - r->first_seq)) & (r->cap - 1)];
}

/* Moves the slots into an array of @cap (a power of two, at least the
 * span). */
static mq_err resize(struct ring *r, size_t cap)
{
    size_t len = ring_len(r);
    struct msg **slots = mq_malloc(cap * sizeof *slots);
    if (slots == NULL) {
        return MQ_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < len; i++) {
        slots[i] = r->slots[(r->head + i) & (r->cap - 1)];
    }
    mq_free(r->slots);
    r->slots = slots;
    r->cap = cap;
    r->head = 0;
    return MQ_OK;
}

static mq_err grow(struct ring *r)
{
    return resize(r, r->cap ? r->cap * 2 : 64);
}

/* Advances first_seq past removed slots at the front. */
static void trim_front(struct ring *r)
{
    while (r->first_seq <= r->last_seq && *slot(r, r->first_seq) == NULL) {
        r->head = (r->head + 1) & (r->cap - 1);
        r->first_seq++;
    }
    if (r->first_seq > r->last_seq) {
        r->head = 0;
    }
}

mq_err ring_put(struct ring *r, struct msg *m)
{
    if (ring_len(r) == r->cap && grow(r) != MQ_OK) {
        return MQ_ERR_NO_MEMORY;
    }
    if (r->n_msgs == 0) {
        r->head = 0;
        r->first_seq = m->rec.seq;
    }
    r->last_seq = m->rec.seq;
    *slot(r, m->rec.seq) = m;
    r->n_msgs++;
    r->n_bytes += m->rec.blob_len;
    if (r->acct != NULL) {
        *r->acct += msg_size(m) + RING_MSG_OVERHEAD;
    }
    r->n_delayed += m->rec.deliver_at_ms > m->rec.published_at_ms;
    return MQ_OK;
}

struct msg *ring_take(struct ring *r, uint64_t seq)
{
    struct msg *m = ring_get(r, seq);
    if (m == NULL) {
        return NULL;
    }
    *slot(r, seq) = NULL;
    r->n_msgs--;
    r->n_bytes -= m->rec.blob_len;
    r->n_delayed -= m->rec.deliver_at_ms > m->rec.published_at_ms;
    if (r->acct != NULL) {
        *r->acct -= msg_size(m) + RING_MSG_OVERHEAD;
    }
    trim_front(r);
    if (r->cap > 64 && ring_len(r) < r->cap / 8) {
        size_t cap = 64;
        while (cap < 2 * ring_len(r)) {
            cap *= 2;
        }
        (void)resize(r, cap); /* out of memory: keep the larger one */
    }
    return m;
}

mq_err ring_skip_to(struct ring *r, uint64_t seq)
{
    if (r->n_msgs == 0) {
        r->head = 0;
        r->first_seq = seq;
        r->last_seq = seq - 1;
        return MQ_OK;
    }
    size_t need = (size_t)(seq - r->first_seq);
    while (r->cap < need) {
        if (grow(r) != MQ_OK) {
            return MQ_ERR_NO_MEMORY;
        }
    }
    while (r->last_seq + 1 < seq) {
        r->last_seq++;
        *slot(r, r->last_seq) = NULL;
    }
    return MQ_OK;
}

uint64_t ring_seq_at_time(const struct ring *r, uint64_t t_ms)
{
    /* Publish times do not go down with seq: binary search, stepping over
     * removed slots. */
    uint64_t lo = r->first_seq, hi = r->last_seq + 1;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2, probe = mid;
        struct msg *m = NULL;
        while (probe < hi && (m = ring_get(r, probe)) == NULL) {
            probe++;
        }
        if (m == NULL) {
            hi = mid;
        } else if (m->rec.published_at_ms < t_ms) {
            lo = probe + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}
