/* fsm_helpers.c: builders for the FSM unit tests (see fsm_helpers.h). */
#include "fsm_helpers.h"

#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "mq.pb-c.h"

#define TCMD_MAX_OPS 256

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "fsm_helpers: out of memory\n");
        abort();
    }
    return p;
}

void blob_free(struct blob *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

int blob_equal(const struct blob *a, const struct blob *b)
{
    return a->len == b->len &&
           (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

struct blob pub_blob_h(const char *id, const char *event, const void *payload,
                       size_t payload_len, const char *const *kv,
                       size_t n_headers)
{
    Mq__V1__PubMessage pm = MQ__V1__PUB_MESSAGE__INIT;
    Mq__V1__Header *hs = xmalloc(n_headers * sizeof *hs);
    Mq__V1__Header **hp = xmalloc(n_headers * sizeof *hp);
    struct blob b;

    if (id != NULL) {
        pm.id = (char *)id;
    }
    if (event != NULL) {
        pm.event = (char *)event;
    }
    for (size_t i = 0; i < n_headers; i++) {
        mq__v1__header__init(&hs[i]);
        hs[i].key = (char *)kv[2 * i];
        hs[i].value = (char *)kv[2 * i + 1];
        hp[i] = &hs[i];
    }
    pm.headers = hp;
    pm.n_headers = n_headers;
    pm.payload.data = (uint8_t *)payload;
    pm.payload.len = payload_len;
    b.len = mq__v1__pub_message__get_packed_size(&pm);
    b.data = xmalloc(b.len);
    mq__v1__pub_message__pack(&pm, b.data);
    free(hs);
    free(hp);
    return b;
}

struct blob pub_blob(const char *id, const char *payload)
{
    return pub_blob_h(id, "ev", payload, strlen(payload), NULL, 0);
}

struct tcmd {
    Mq__V1__Command c;
    Mq__V1__Op *ops[TCMD_MAX_OPS];
    void **allocs;
    size_t n_allocs, cap_allocs;
};

/* Allocates zeroed memory that lives as long as @t. */
static void *talloc(struct tcmd *t, size_t n)
{
    if (t->n_allocs == t->cap_allocs) {
        t->cap_allocs = t->cap_allocs ? 2 * t->cap_allocs : 64;
        t->allocs = realloc(t->allocs, t->cap_allocs * sizeof *t->allocs);
        if (t->allocs == NULL) {
            abort();
        }
    }
    void *p = xmalloc(n);
    t->allocs[t->n_allocs++] = p;
    return p;
}

static char *tstr(struct tcmd *t, const char *s)
{
    size_t n = strlen(s);
    char *d = talloc(t, n + 1);
    memcpy(d, s, n);
    return d;
}

struct tcmd *tcmd_new(uint64_t now_ms)
{
    struct tcmd *t = xmalloc(sizeof *t);
    mq__v1__command__init(&t->c);
    t->c.now_ms = now_ms;
    t->c.ops = t->ops;
    return t;
}

void tcmd_set_ids_budget(struct tcmd *t, uint64_t bytes)
{
    t->c.ids_budget_bytes = bytes;
}

void tcmd_free(struct tcmd *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < t->n_allocs; i++) {
        free(t->allocs[i]);
    }
    free(t->allocs);
    free(t);
}

Mq__V1__Command *tcmd_command(struct tcmd *t)
{
    return &t->c;
}

static Mq__V1__Op *add_op(struct tcmd *t, Mq__V1__Op__OpCase kind)
{
    if (t->c.n_ops == TCMD_MAX_OPS) {
        abort();
    }
    Mq__V1__Op *op = talloc(t, sizeof *op);
    mq__v1__op__init(op);
    op->op_case = kind;
    t->ops[t->c.n_ops++] = op;
    return op;
}

Mq__V1__QueueConfig *tcmd_queue_create(struct tcmd *t, const char *name)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_QUEUE_CREATE);
    Mq__V1__QueueConfig *qc = talloc(t, sizeof *qc);
    mq__v1__queue_config__init(qc);
    qc->name = tstr(t, name);
    op->queue_create = qc;
    return qc;
}

Mq__V1__QueueConfig *tcmd_queue_update(struct tcmd *t, const char *name,
                                       uint32_t set)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_QUEUE_UPDATE);
    Mq__V1__QueueUpdateOp *qu = talloc(t, sizeof *qu);
    Mq__V1__QueueConfig *qc = talloc(t, sizeof *qc);
    mq__v1__queue_update_op__init(qu);
    mq__v1__queue_config__init(qc);
    qc->name = tstr(t, name);
    qu->config = qc;
    qu->set = set;
    op->queue_update = qu;
    return qc;
}

void tcmd_queue_delete(struct tcmd *t, const char *name)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_QUEUE_DELETE);
    op->queue_delete = tstr(t, name);
}

Mq__V1__SubConfig *tcmd_sub_create(struct tcmd *t, const char *queue,
                                   const char *name)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_SUB_CREATE);
    Mq__V1__SubConfig *sc = talloc(t, sizeof *sc);
    mq__v1__sub_config__init(sc);
    sc->queue = tstr(t, queue);
    sc->name = tstr(t, name);
    op->sub_create = sc;
    return sc;
}

void tcmd_sub_delete(struct tcmd *t, const char *queue, const char *name)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_SUB_DELETE);
    Mq__V1__SubRef *ref = talloc(t, sizeof *ref);
    mq__v1__sub_ref__init(ref);
    ref->queue = tstr(t, queue);
    ref->name = tstr(t, name);
    op->sub_delete = ref;
}

Mq__V1__PublishOp *tcmd_publish(struct tcmd *t, const char *queue)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_PUBLISH);
    Mq__V1__PublishOp *p = talloc(t, sizeof *p);
    mq__v1__publish_op__init(p);
    p->queue = tstr(t, queue);
    op->publish = p;
    return p;
}

void tcmd_publish_add(struct tcmd *t, Mq__V1__PublishOp *op,
                      const struct blob *b)
{
    uint8_t *copy = talloc(t, b->len);
    size_t n = op->n_messages;
    if ((n & (n - 1)) == 0) { /* 0, 1, 2, 4, ...: grow to 2n or 1 */
        ProtobufCBinaryData *m = talloc(t, (n ? 2 * n : 1) * sizeof *m);
        if (n > 0) {
            memcpy(m, op->messages, n * sizeof *m);
        }
        op->messages = m;
    }
    memcpy(copy, b->data, b->len);
    op->messages[op->n_messages].data = copy;
    op->messages[op->n_messages].len = b->len;
    op->n_messages++;
}

void tcmd_publish_msg(struct tcmd *t, const char *queue, const char *id,
                      const char *payload)
{
    Mq__V1__PublishOp *op = tcmd_publish(t, queue);
    struct blob b = pub_blob(id, payload);
    tcmd_publish_add(t, op, &b);
    blob_free(&b);
}

void tcmd_deliver(struct tcmd *t, const char *queue, const char *sub,
                  uint32_t max)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_DELIVER);
    Mq__V1__DeliverOp *d = talloc(t, sizeof *d);
    mq__v1__deliver_op__init(d);
    d->queue = tstr(t, queue);
    d->sub = tstr(t, sub);
    d->max_messages = max;
    op->deliver = d;
}

void tcmd_ack_mode(struct tcmd *t, const char *queue, const char *sub, int mode,
                   uint64_t delay_ms, const char *reason, const uint64_t *seqs,
                   size_t n)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_ACK);
    Mq__V1__AckOp *a = talloc(t, sizeof *a);
    mq__v1__ack_op__init(a);
    a->queue = tstr(t, queue);
    a->sub = tstr(t, sub);
    a->mode = (Mq__V1__AckMode)mode;
    a->delay_ms = delay_ms;
    if (reason != NULL) {
        a->reason = tstr(t, reason);
    }
    a->seqs = talloc(t, n * sizeof *a->seqs);
    memcpy(a->seqs, seqs, n * sizeof *seqs);
    a->n_seqs = n;
    op->ack = a;
}

void tcmd_ack(struct tcmd *t, const char *queue, const char *sub, int nack,
              uint64_t delay_ms, const uint64_t *seqs, size_t n)
{
    tcmd_ack_mode(t, queue, sub,
                  nack ? MQ__V1__ACK_MODE__NACK : MQ__V1__ACK_MODE__ACK,
                  delay_ms, NULL, seqs, n);
}

void tcmd_redrive(struct tcmd *t, const char *from, const char *to,
                  uint32_t max)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_REDRIVE);
    Mq__V1__RedriveOp *r = talloc(t, sizeof *r);
    mq__v1__redrive_op__init(r);
    r->from = tstr(t, from);
    r->to = tstr(t, to);
    r->max_messages = max;
    op->redrive = r;
}

void tcmd_purge(struct tcmd *t, const char *queue)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_QUEUE_PURGE);
    op->queue_purge = tstr(t, queue);
}

void tcmd_cancel(struct tcmd *t, const char *queue, const char *id)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_CANCEL);
    Mq__V1__CancelOp *c = talloc(t, sizeof *c);
    mq__v1__cancel_op__init(c);
    if (queue != NULL) {
        c->queue = tstr(t, queue);
    }
    c->id = tstr(t, id);
    op->cancel = c;
}

Mq__V1__SecretHash *tcmd_secret(struct tcmd *t, uint8_t fill)
{
    Mq__V1__SecretHash *h = talloc(t, sizeof *h);
    uint8_t *bytes = talloc(t, 48);
    mq__v1__secret_hash__init(h);
    memset(bytes, fill, 48);
    h->kind = 1;
    h->salt.data = bytes;
    h->salt.len = 16;
    h->hash.data = bytes + 16;
    h->hash.len = 32;
    return h;
}

Mq__V1__KeyCreateOp *tcmd_key_create(struct tcmd *t, const char *name,
                                     uint8_t fill, int bootstrap)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_KEY_CREATE);
    Mq__V1__KeyCreateOp *kc = talloc(t, sizeof *kc);
    mq__v1__key_create_op__init(kc);
    kc->name = tstr(t, name);
    kc->secret = tcmd_secret(t, fill);
    kc->bootstrap = bootstrap != 0;
    op->key_create = kc;
    return kc;
}

void tcmd_key_grant(struct tcmd *t, Mq__V1__KeyCreateOp *kc,
                    Mq__V1__KeyUpdateOp *ku, int deny, const char *ns,
                    unsigned verbs)
{
    Mq__V1__Grant ***grants = kc ? &kc->grants : &ku->grants;
    size_t *n = kc ? &kc->n_grants : &ku->n_grants;
    Mq__V1__Grant **g = talloc(t, (*n + 1) * sizeof *g);
    if (*n > 0) {
        memcpy(g, *grants, *n * sizeof *g);
    }
    g[*n] = talloc(t, sizeof *g[*n]);
    mq__v1__grant__init(g[*n]);
    g[*n]->deny = deny != 0;
    g[*n]->ns = tstr(t, ns);
    g[*n]->verbs = verbs;
    *grants = g;
    (*n)++;
    if (ku != NULL) {
        ku->set_grants = 1;
    }
}

Mq__V1__KeyUpdateOp *tcmd_key_update(struct tcmd *t, const char *name)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_KEY_UPDATE);
    Mq__V1__KeyUpdateOp *ku = talloc(t, sizeof *ku);
    mq__v1__key_update_op__init(ku);
    ku->name = tstr(t, name);
    op->key_update = ku;
    return ku;
}

Mq__V1__KeyRotateOp *tcmd_key_rotate(struct tcmd *t, const char *name,
                                     uint8_t fill, int retire)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_KEY_ROTATE);
    Mq__V1__KeyRotateOp *kr = talloc(t, sizeof *kr);
    mq__v1__key_rotate_op__init(kr);
    kr->name = tstr(t, name);
    kr->retire_old = retire != 0;
    if (!retire) {
        kr->secret = tcmd_secret(t, fill);
    }
    op->key_rotate = kr;
    return kr;
}

void tcmd_key_revoke(struct tcmd *t, const char *name)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_KEY_REVOKE);
    op->key_revoke = tstr(t, name);
}

void tcmd_key_used(struct tcmd *t, const char *name, uint64_t at_ms)
{
    Mq__V1__Op *op = add_op(t, MQ__V1__OP__OP_KEY_USED);
    Mq__V1__KeyUsedOp *ku = talloc(t, sizeof *ku);
    mq__v1__key_used_op__init(ku);
    ku->name = tstr(t, name);
    ku->at_ms = at_ms;
    op->key_used = ku;
}

void tcmd_sub_filter(struct tcmd *t, Mq__V1__SubConfig *sc, const char *filter)
{
    char **filters = talloc(t, (sc->n_filters + 1) * sizeof *filters);
    if (sc->n_filters > 0) {
        memcpy(filters, sc->filters, sc->n_filters * sizeof *filters);
    }
    filters[sc->n_filters++] = tstr(t, filter);
    sc->filters = filters;
}

void tcmd_empty_op(struct tcmd *t)
{
    add_op(t, MQ__V1__OP__OP__NOT_SET);
}

struct blob tcmd_entry(struct tcmd *t)
{
    struct blob b;
    void *buf;
    if (cmd_pack(&t->c, &buf, &b.len) != MQ_OK) {
        fprintf(stderr, "fsm_helpers: cmd_pack failed\n");
        abort();
    }
    b.data = buf;
    return b;
}

void entry_free(struct blob *b)
{
    raft_free(b->data);
    b->data = NULL;
    b->len = 0;
}

mq_err fsm_apply_tcmd(struct fsm *f, struct tcmd *t, struct errmsg *e)
{
    struct blob b = tcmd_entry(t);
    mq_err rv = fsm_apply(f, b.data, b.len, e);
    entry_free(&b);
    return rv;
}

struct blob snap_concat(const struct raft_buffer *bufs, unsigned n)
{
    struct blob b = {NULL, 0};
    for (unsigned i = 0; i < n; i++) {
        b.len += bufs[i].len;
    }
    b.data = xmalloc(b.len);
    size_t off = 0;
    for (unsigned i = 0; i < n; i++) {
        memcpy(b.data + off, bufs[i].base, bufs[i].len);
        off += bufs[i].len;
    }
    return b;
}

struct blob snap_take(struct fsm *f)
{
    struct raft_buffer *bufs = NULL;
    unsigned n = 0;
    if (fsm_snapshot(f, &bufs, &n) != MQ_OK ||
        !fsm_snapshot_step(f, SIZE_MAX) ||
        fsm_snapshot_encode(f, &bufs, &n) != MQ_OK) {
        fprintf(stderr, "fsm_helpers: fsm_snapshot failed\n");
        abort();
    }
    struct blob b = snap_concat(bufs, n);
    fsm_snapshot_done(f, &bufs, &n);
    return b;
}

uint64_t test_rand(uint64_t *state)
{
    /* splitmix64 */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void publish_n(struct tcmd *t, const char *queue, const char *prefix,
                      int from, int to)
{
    Mq__V1__PublishOp *op = tcmd_publish(t, queue);
    for (int i = from; i <= to; i++) {
        char id[32], payload[64];
        snprintf(id, sizeof id, "%s-%d", prefix, i);
        snprintf(payload, sizeof payload, "payload of %s-%d", prefix, i);
        const char *kv[] = {"source", prefix, "n", id};
        struct blob b = pub_blob_h(id, "order.created", payload,
                                   strlen(payload), kv, (size_t)(i % 3));
        tcmd_publish_add(t, op, &b);
        blob_free(&b);
    }
}

static const uint64_t scenario_times[] = {1000, 1100, 1200, 1300,
                                          1900, 2500, 7000, 20000};

size_t scenario_len(void)
{
    return sizeof scenario_times / sizeof *scenario_times;
}

struct tcmd *scenario_cmd(size_t i)
{
    struct tcmd *t = tcmd_new(scenario_times[i]);
    Mq__V1__QueueConfig *qc;
    Mq__V1__SubConfig *sc;

    switch (i) {
    case 0:
        qc = tcmd_queue_create(t, "orders");
        qc->max_messages = 6;
        qc->duplicate_window_ms = 10000;
        qc = tcmd_queue_create(t, "jobs");
        qc->retention = MQ__V1__RETENTION__RETENTION_WORK;
        qc->ack_timeout_ms = 500;
        qc->max_deliveries = 3;
        qc = tcmd_queue_create(t, "aged");
        qc->max_age_ms = 5000;
        tcmd_sub_create(t, "orders", "audit")->start =
            MQ__V1__START_POSITION__START_FIRST;
        tcmd_sub_create(t, "jobs", "w1")->start =
            MQ__V1__START_POSITION__START_FIRST;
        tcmd_sub_create(t, "jobs", "w2");
        tcmd_sub_create(t, "aged", "a1");
        break;
    case 1:
        publish_n(t, "orders", "o", 1, 5);
        publish_n(t, "jobs", "j", 1, 4);
        publish_n(t, "aged", "a", 1, 2);
        break;
    case 2:
        tcmd_deliver(t, "jobs", "w1", 3);
        tcmd_deliver(t, "orders", "audit", 2);
        sc = tcmd_sub_create(t, "jobs", "w3");
        sc->start = MQ__V1__START_POSITION__START_SEQ;
        sc->start_seq = 2;
        sc->max_deliveries = 2;
        break;
    case 3:
        tcmd_ack(t, "jobs", "w1", 0, 0, (const uint64_t[]){1, 2}, 2);
        tcmd_ack(t, "jobs", "w1", 1, 100, (const uint64_t[]){3}, 1);
        publish_n(t, "jobs", "j", 5, 5);
        publish_n(t, "orders", "o", 1, 1); /* a duplicate */
        break;
    case 4:
        tcmd_deliver(t, "jobs", "w1", 10);
        tcmd_deliver(t, "jobs", "w2", 5);
        tcmd_deliver(t, "jobs", "w3", 5);
        tcmd_deliver(t, "aged", "a1", 1);
        break;
    case 5:
        tcmd_deliver(t, "jobs", "w1", 10); /* ack timeouts: redelivered */
        tcmd_ack(t, "orders", "audit", 0, 0, (const uint64_t[]){1}, 1);
        publish_n(t, "aged", "a", 3, 3);
        break;
    case 6:
        publish_n(t, "orders", "o", 6, 8); /* discards the oldest */
        tcmd_queue_create(t, "tmp");
        tcmd_publish_msg(t, "tmp", "t-1", "gone soon");
        tcmd_queue_delete(t, "tmp");
        tcmd_sub_delete(t, "jobs", "w3");
        tcmd_deliver(t, "jobs", "w1", 10);
        break;
    default:
        publish_n(t, "orders", "o", 1, 2); /* window over: stored again */
        tcmd_deliver(t, "orders", "audit", 3);
        tcmd_ack(t, "jobs", "w2", 0, 0, (const uint64_t[]){5}, 1);
        break;
    }
    return t;
}

void scenario_apply(struct fsm *f)
{
    for (size_t i = 0; i < scenario_len(); i++) {
        struct tcmd *t = scenario_cmd(i);
        struct errmsg e = ERRMSG_INIT;
        if (fsm_apply_tcmd(f, t, &e) != MQ_OK) {
            fprintf(stderr, "scenario command %zu: %s\n", i, e.msg);
            abort();
        }
        tcmd_free(t);
    }
}

/* The random world ------------------------------------------------------- */

/* Queues of the random world: their settings, and whose dead letters go
 * where. "dl" is a dead-letter queue made by hand, with small limits and
 * discard reject, which moves "with force" fill past them. */
static const char *const rq_names[] = {"p", "r", "w", "d", "dl"};
#define RQ_N (sizeof rq_names / sizeof rq_names[0])
static const char *const rs_names[] = {"s1", "s2", "s3"};
#define RS_N (sizeof rs_names / sizeof rs_names[0])
#define RID_N 24 /* message ids "m0".."m23": duplicates are common */

static void random_queue_create(struct tcmd *t, size_t k)
{
    Mq__V1__QueueConfig *qc = tcmd_queue_create(t, rq_names[k]);
    switch (k) {
    case 0: /* limits, discard old; dead letters to "dl" */
        qc->max_messages = 6;
        qc->max_bytes = 900;
        qc->max_deliveries = 2;
        qc->ack_timeout_ms = 300;
        qc->dead_letter_queue = (char *)"dl";
        qc->duplicate_window_ms = 2000;
        qc->status_ttl_ms = 4000;
        qc->status_max = 10;
        break;
    case 1: /* discard reject, small max_bytes; dead letters to "r.dlq" */
        qc->discard = MQ__V1__DISCARD__DISCARD_REJECT;
        qc->max_bytes = 300;
        qc->max_messages = 5;
        qc->max_deliveries = 1;
        qc->ack_timeout_ms = 200;
        break;
    case 2: /* work retention, max age */
        qc->retention = MQ__V1__RETENTION__RETENTION_WORK;
        qc->max_age_ms = 3000;
        qc->max_deliveries = 3;
        qc->ack_timeout_ms = 250;
        qc->dead_letter_queue = (char *)"dl";
        break;
    case 3: /* delays by default */
        qc->delay_ms = 400;
        qc->max_delay_ms = 5000;
        qc->max_age_ms = 8000;
        qc->status_ttl_ms = 1500;
        break;
    default: /* the hand-made dead-letter queue */
        qc->discard = MQ__V1__DISCARD__DISCARD_REJECT;
        qc->max_messages = 3;
        qc->max_bytes = 250;
        break;
    }
}

/* A queue update of @qn: limits up or down (under the queue's discard),
 * windows, status bounds, a delay over max_delay now and then (refused). */
static void random_queue_update(struct tcmd *t, const char *qn, uint64_t *seed)
{
    static const uint32_t sets[] = {
        MQ_QUEUE_SET_MAX_MESSAGES,
        MQ_QUEUE_SET_MAX_BYTES | MQ_QUEUE_SET_DISCARD,
        MQ_QUEUE_SET_MAX_AGE | MQ_QUEUE_SET_DUPLICATE_WINDOW,
        MQ_QUEUE_SET_STATUS_MAX | MQ_QUEUE_SET_STATUS_TTL,
        MQ_QUEUE_SET_DELAY | MQ_QUEUE_SET_ACK_TIMEOUT,
    };
    uint32_t set = sets[test_rand(seed) % (sizeof sets / sizeof sets[0])];
    Mq__V1__QueueConfig *qc = tcmd_queue_update(t, qn, set);
    qc->max_messages = 1 + test_rand(seed) % 8;
    qc->max_bytes = 100 + test_rand(seed) % 900;
    qc->discard = (Mq__V1__Discard)(test_rand(seed) % 2);
    qc->max_age_ms = 1000 + test_rand(seed) % 8000;
    qc->duplicate_window_ms = 500 + test_rand(seed) % 3000;
    qc->status_max = 1 + test_rand(seed) % 12;
    qc->status_ttl_ms = 500 + test_rand(seed) % 4000;
    qc->delay_ms = test_rand(seed) % 2 ? 0 : 100ull * 86400000;
    qc->ack_timeout_ms = 100 + test_rand(seed) % 400;
}

/* A seq of @q to name in an ack: mostly one in flight for @s. */
static uint64_t random_seq(const struct queue *q, const struct sub *s,
                           uint64_t *seed)
{
    if (s != NULL && s->first != NULL && test_rand(seed) % 4 != 0) {
        const struct pending *p = s->first;
        for (uint64_t k = test_rand(seed) % 4; k > 0 && p->next; k--) {
            p = p->next;
        }
        return p->seq;
    }
    return q ? 1 + test_rand(seed) % (q->msgs.last_seq + 2) : 1;
}

static void random_publish(struct tcmd *t, const char *queue, uint64_t *seed)
{
    Mq__V1__PublishOp *op = tcmd_publish(t, queue);
    size_t n = 1 + test_rand(seed) % 4;
    static char payload[600];
    op->atomic = test_rand(seed) % 5 == 0;
    for (size_t i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "m%d", (int)(test_rand(seed) % RID_N));
        /* Mostly small; sometimes past "r"'s and "dl"'s max_bytes. */
        size_t len = test_rand(seed) % 8 == 0 ? 260 + test_rand(seed) % 300
                                              : 1 + test_rand(seed) % 60;
        memset(payload, 'a' + (int)(test_rand(seed) % 26), len);
        const char *kv[] = {"k", id};
        Mq__V1__PubMessage pm = MQ__V1__PUB_MESSAGE__INIT;
        Mq__V1__Header h = MQ__V1__HEADER__INIT, *hp = &h;
        pm.id = id;
        pm.event = (char *)(test_rand(seed) % 3 ? "ev" : "other");
        if (test_rand(seed) % 2) {
            h.key = (char *)kv[0];
            h.value = (char *)kv[1];
            pm.headers = &hp;
            pm.n_headers = 1;
        }
        pm.payload.data = (uint8_t *)payload;
        pm.payload.len = len;
        if (test_rand(seed) % 4 == 0) {
            pm.delay_ms = test_rand(seed) % 2500;
        }
        struct blob b;
        b.len = mq__v1__pub_message__get_packed_size(&pm);
        b.data = xmalloc(b.len);
        mq__v1__pub_message__pack(&pm, b.data);
        tcmd_publish_add(t, op, &b);
        blob_free(&b);
    }
}

struct tcmd *random_cmd(const struct fsm *f, uint64_t *seed, uint64_t *now_ms)
{
    *now_ms += test_rand(seed) % 701;
    struct tcmd *t = tcmd_new(*now_ms);
    size_t n_ops = 1 + test_rand(seed) % 4;

    for (size_t i = 0; i < n_ops; i++) {
        size_t k = test_rand(seed) % RQ_N;
        const char *qn = rq_names[k];
        const char *sn = rs_names[test_rand(seed) % RS_N];
        const struct queue *q = fsm_queue(f, qn);
        const struct sub *s = q ? queue_sub(q, sn) : NULL;
        uint64_t r = test_rand(seed) % 100;

        if (q == NULL && r < 60) {
            random_queue_create(t, k);
        } else if (r < 4) {
            random_queue_create(t, k);
        } else if (r < 6) {
            tcmd_queue_delete(t, qn);
        } else if (r < 14) {
            Mq__V1__SubConfig *sc = tcmd_sub_create(t, qn, sn);
            sc->start = (Mq__V1__StartPosition)(test_rand(seed) % 4);
            sc->start_seq = 1 + test_rand(seed) % 8;
            sc->start_time_ms = *now_ms - test_rand(seed) % 3000;
            if (test_rand(seed) % 4 == 0) {
                tcmd_sub_filter(t, sc, "ev");
            }
        } else if (r < 16) {
            tcmd_sub_delete(t, qn, sn);
        } else if (r < 42) {
            random_publish(t, qn, seed);
        } else if (r < 62) {
            tcmd_deliver(t, qn, sn, (uint32_t)(1 + test_rand(seed) % 5));
        } else if (r < 84) {
            uint64_t seqs[3];
            size_t n = 1 + test_rand(seed) % 3;
            for (size_t j = 0; j < n; j++) {
                seqs[j] = random_seq(q, s, seed);
            }
            int mode = (int)(test_rand(seed) % 4);
            tcmd_ack_mode(t, qn, sn, mode, test_rand(seed) % 600,
                          mode == MQ__V1__ACK_MODE__TERM ? "given up" : NULL,
                          seqs, n);
        } else if (r < 92) {
            /* Mostly from a dead-letter queue back to where it came from. */
            const char *from = test_rand(seed) % 3 ? "dl" : "r.dlq";
            if (test_rand(seed) % 4 == 0) {
                from = rq_names[test_rand(seed) % RQ_N];
            }
            tcmd_redrive(t, from, rq_names[test_rand(seed) % RQ_N],
                         (uint32_t)(test_rand(seed) % 6));
        } else if (r < 95) {
            tcmd_purge(t, test_rand(seed) % 3 ? qn : "dl");
        } else if (r < 97) {
            random_queue_update(t, qn, seed);
        } else {
            char id[16];
            snprintf(id, sizeof id, "m%d", (int)(test_rand(seed) % RID_N));
            tcmd_cancel(t, test_rand(seed) % 2 ? qn : NULL, id);
        }
    }
    return t;
}
