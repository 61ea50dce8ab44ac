/* workload.c: producers, consumers and node monitors of the fault tests
 * (see workload.h).
 *
 * Failure modes: a client that cannot be opened stops workload_start; a
 * failed publish is recorded and the producer goes on with its next value
 * (after a short pause, so that an error returned at once does not spin);
 * a failed fetch or ack is counted and the consumer goes on (an unacked
 * message comes again after the ack timeout: a duplicate, never a loss;
 * its value is consumed only when a later ack of it returns OK). */
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"

static mq_client *open_client(const char *urls, uint32_t timeout_ms,
                              uint32_t attempt_timeout_ms)
{
    mq_client_opts o = MQ_CLIENT_OPTS_INIT;
    mq_client *cl = NULL;

    o.urls = urls;
    o.timeout_ms = timeout_ms;
    o.attempt_timeout_ms = attempt_timeout_ms;
    if (mq_client_open(&cl, &o) != MQ_OK) {
        fprintf(stderr, "workload: client for %s: %s\n", urls, mq_errmsg());
        return NULL;
    }
    return cl;
}

/* ---- producers -------------------------------------------------------- */

static int grow_recs(struct producer *p)
{
    size_t cap = p->cap ? p->cap * 2 : 4096;
    struct pub_rec *r = realloc(p->recs, cap * sizeof *r);
    if (r == NULL) {
        return -1;
    }
    p->recs = r;
    p->cap = cap;
    return 0;
}

static void note_ok(struct workload *w, uint64_t start, uint64_t end)
{
    uint_fast64_t zero = 0;

    atomic_fetch_add(&w->n_ok, 1);
    if (start >= atomic_load(&w->probe_from)) {
        atomic_compare_exchange_strong(&w->probe_end, &zero, end);
    }
}

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    struct workload *w = p->w;
    uint32_t timeout_ms = w->publish_timeout_ms * (uint32_t)(p->k + 1);
    mq_client *cl = open_client(w->urls, timeout_ms, 1000);
    char id[32];

    while (cl != NULL && !atomic_load(&w->stop_producers) &&
           p->n < w->max_values) {
        mq_pub m = {0};
        mq_pub_result res;
        struct pub_rec *r;
        uint64_t start, end;
        mq_err rv;

        if (p->n == p->cap && grow_recs(p) != 0) {
            fprintf(stderr, "workload: producer %d: out of memory\n", p->k);
            break;
        }
        snprintf(id, sizeof id, "p%d-%zu", p->k, p->n);
        m.id = id;
        m.event = "fault.value";
        m.payload = id;
        m.payload_len = strlen(id);
        r = &p->recs[p->n++];
        memset(r, 0, sizeof *r);
        start = test_now_ms();
        r->start_ms = (uint32_t)(start - w->t0);
        rv = mq_publish(cl, w->queue, &m, &res, timeout_ms);
        end = test_now_ms();
        r->end_ms = (uint32_t)(end - w->t0);
        r->err = (uint8_t)rv;
        if (rv == MQ_OK) {
            r->outcome = PUB_OK;
            r->seq = res.seq;
            r->duplicate = res.duplicate != 0;
            note_ok(w, start, end);
        } else {
            r->outcome = rv == MQ_ERR_TIMEOUT || rv == MQ_ERR_UNAVAILABLE
                             ? PUB_UNKNOWN
                             : PUB_FAILED;
            test_sleep_ms(10);
        }
        if (w->pace_ms > 0) {
            test_sleep_ms(w->pace_ms);
        }
    }
    mq_client_close(cl);
    return NULL;
}

/* ---- consumers -------------------------------------------------------- */

/* Maps @seq to @value (value_at), growing the map. Returns the value
 * already mapped there (0: none, now @value), or -1 if @seq is beyond
 * WL_MAX_SEQ or memory ran out. Caller holds w->lock. */
static int64_t map_seq(struct workload *w, uint64_t seq, uint32_t value)
{
    if (seq >= WL_MAX_SEQ) {
        return -1;
    }
    if (seq >= w->n_value_at) {
        size_t n = w->n_value_at ? w->n_value_at : 65536;
        while (n <= seq) {
            n *= 2;
        }
        uint32_t *m = realloc(w->value_at, n * sizeof *m);
        if (m == NULL) {
            return -1;
        }
        memset(m + w->n_value_at, 0, (n - w->n_value_at) * sizeof *m);
        w->value_at = m;
        w->n_value_at = n;
    }
    if (w->value_at[seq] == 0) {
        w->value_at[seq] = value;
        return 0;
    }
    return w->value_at[seq];
}

/* Counts one delivery; returns its value (k * max_values + n + 1), or 0
 * for a message that is no value of this workload. Caller holds w->lock. */
static uint32_t count_delivery(struct workload *w, const mq_msg *m)
{
    const char *id = mq_msg_id(m);
    uint64_t seq = mq_msg_seq(m);
    size_t len = 0;
    const char *payload = mq_msg_payload(m, &len);
    int k = -1, end = 0;
    size_t n = 0;
    uint32_t value;
    int64_t before;

    w->deliveries++;
    if (sscanf(id, "p%d-%zu%n", &k, &n, &end) != 2 || id[end] != '\0' ||
        k < 0 || k >= w->n_producers || n >= w->max_values) {
        if (w->unexpected++ == 0) {
            snprintf(w->first_unexpected, sizeof w->first_unexpected,
                     "id \"%s\" seq %llu", id, (unsigned long long)seq);
        }
        return 0;
    }
    value = (uint32_t)((size_t)k * w->max_values + n + 1);
    if (len != strlen(id) || memcmp(payload, id, len) != 0) {
        w->corrupt++; /* the value is counted below all the same */
    }
    if (w->delivered[k][n] > 0) {
        w->duplicates++;
    }
    if (w->seq_of[k][n] == 0) {
        w->seq_of[k][n] = seq;
    } else if (w->seq_of[k][n] != seq) {
        w->stored_twice++;
    }
    before = map_seq(w, seq, value);
    if (before < 0) {
        if (w->unexpected++ == 0) {
            snprintf(w->first_unexpected, sizeof w->first_unexpected,
                     "id \"%s\" under seq %llu, beyond any run's seqs", id,
                     (unsigned long long)seq);
        }
    } else if (before != 0 && (uint32_t)before != value) {
        if (w->seq_reused++ == 0) {
            snprintf(w->first_reused, sizeof w->first_reused,
                     "seq %llu delivered as p%zu-%zu, then as %s",
                     (unsigned long long)seq,
                     (size_t)(before - 1) / w->max_values,
                     (size_t)(before - 1) % w->max_values, id);
        }
    }
    if (w->delivered[k][n] < UINT8_MAX) {
        w->delivered[k][n]++;
    }
    return value;
}

/* Marks the @n values of a batch whose ack returned OK as consumed. Caller
 * holds w->lock. */
static void count_consumed(struct workload *w, const uint32_t *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (values[i] != 0) {
            size_t v = values[i] - 1;
            uint8_t *c = &w->consumed[v / w->max_values][v % w->max_values];
            *c += *c < UINT8_MAX;
            w->acked_deliveries++;
        }
    }
}

static void *consumer_main(void *arg)
{
    struct consumer *cs = arg;
    struct workload *w = cs->w;
    mq_client *cl = open_client(w->urls, 5000, 1000);
    uint64_t seqs[256];
    uint32_t values[256];

    while (cl != NULL && !atomic_load(&w->stop_consumers)) {
        mq_msg **msgs = NULL;
        size_t n = 0;
        mq_err rv = mq_fetch(cl, w->queue, w->sub, 256, 200, &msgs, &n);
        if (rv != MQ_OK) {
            cs->fetch_errors++;
            test_sleep_ms(20);
            continue;
        }
        pthread_mutex_lock(&w->lock);
        for (size_t i = 0; i < n; i++) {
            values[i] = count_delivery(w, msgs[i]);
            seqs[i] = mq_msg_seq(msgs[i]);
        }
        pthread_mutex_unlock(&w->lock);
        /* A long deadline: libmq retries the ack across failovers, so that
         * only an outage longer than any fault leaves an ack failed (and
         * the test fails on an outage that long anyway). */
        if (n > 0) {
            if (mq_ack_seqs(cl, w->queue, w->sub, seqs, n, 30000) == MQ_OK) {
                pthread_mutex_lock(&w->lock);
                count_consumed(w, values, n);
                pthread_mutex_unlock(&w->lock);
            } else {
                cs->ack_errors++;
            }
        }
        mq_msgs_free(msgs, n);
    }
    mq_client_close(cl);
    return NULL;
}

/* ---- monitors --------------------------------------------------------- */

struct mon_arg {
    struct workload *w;
    int node;
};

/* Records @e as node e->node's latest answer, and as an event if its role
 * or term changed. */
static void note_sample(struct workload *w, const struct mon_event *e)
{
    struct mon_event *prev = &w->last[e->node];

    pthread_mutex_lock(&w->lock);
    if (prev->t_ms == 0 || prev->up != e->up || prev->leader != e->leader ||
        prev->term != e->term) {
        if (w->n_events == w->cap_events) {
            size_t cap = w->cap_events ? w->cap_events * 2 : 256;
            struct mon_event *ev = realloc(w->events, cap * sizeof *ev);
            if (ev != NULL) {
                w->events = ev;
                w->cap_events = cap;
            }
        }
        if (w->n_events < w->cap_events) {
            w->events[w->n_events++] = *e;
        }
    }
    *prev = *e;
    pthread_mutex_unlock(&w->lock);
}

static void *monitor_main(void *arg)
{
    struct workload *w = ((struct mon_arg *)arg)->w;
    int node = ((struct mon_arg *)arg)->node;
    mq_client *cl = open_client(w->node_urls[node], 300, 300);

    free(arg);
    while (cl != NULL && !atomic_load(&w->stop_monitors)) {
        mq_node_status *st = NULL;
        size_t n = 0;
        struct mon_event e = {0};
        mq_err rv = mq_cluster_status(cl, &st, &n, 300);

        e.node = node;
        e.up = rv == MQ_OK && n == 1 && st[0].err == MQ_OK;
        e.leader = e.up && strcmp(st[0].role, "leader") == 0;
        e.term = e.up ? st[0].term : 0;
        e.t_ms = test_now_ms();
        mq_status_free(st);
        note_sample(w, &e);
        test_sleep_ms(20);
    }
    mq_client_close(cl);
    return NULL;
}

int workload_leader(struct workload *w, uint64_t *term)
{
    int leader = -1;
    uint64_t best = 0;

    pthread_mutex_lock(&w->lock);
    for (int i = 0; i < w->n_nodes; i++) {
        if (w->last[i].up && w->last[i].leader && w->last[i].term >= best) {
            leader = i;
            best = w->last[i].term;
        }
    }
    pthread_mutex_unlock(&w->lock);
    if (term != NULL) {
        *term = best;
    }
    return leader;
}

uint64_t workload_elected(struct workload *w, uint64_t from_ms, uint64_t term,
                          int *node)
{
    uint64_t t = 0;

    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->n_events && t == 0; i++) {
        const struct mon_event *e = &w->events[i];
        if (e->t_ms >= from_ms && e->up && e->leader && e->term > term) {
            t = e->t_ms;
            if (node != NULL) {
                *node = e->node;
            }
        }
    }
    pthread_mutex_unlock(&w->lock);
    return t;
}

void workload_probe(struct workload *w, uint64_t from_ms)
{
    atomic_store(&w->probe_end, 0);
    atomic_store(&w->probe_from, from_ms);
}

uint64_t workload_probe_end(struct workload *w)
{
    return atomic_load(&w->probe_end);
}

/* ---- start and stop --------------------------------------------------- */

static int create_queue(struct workload *w, uint64_t ack_timeout_ms)
{
    mq_client *cl = open_client(w->urls, 20000, 1000);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    int rv = -1;

    if (cl == NULL) {
        return -1;
    }
    qc.name = w->queue;
    sc.queue = w->queue;
    sc.name = w->sub;
    sc.start = MQ_START_FIRST;
    sc.ack_timeout_ms = ack_timeout_ms;
    if (mq_queue_create(cl, &qc, NULL, 20000) != MQ_OK ||
        mq_sub_create(cl, &sc, NULL, 20000) != MQ_OK) {
        fprintf(stderr, "workload: %s\n", mq_errmsg());
    } else {
        rv = 0;
    }
    mq_client_close(cl);
    return rv;
}

int workload_start(struct workload *w, uint64_t ack_timeout_ms)
{
    pthread_mutex_init(&w->lock, NULL);
    w->lock_made = 1;
    if (w->n_producers < 1 || w->n_producers > WL_MAX_PRODUCERS ||
        w->n_consumers < 1 || w->n_consumers > WL_MAX_CONSUMERS ||
        w->n_nodes < 1 || w->n_nodes > WL_MAX_NODES) {
        fprintf(stderr, "workload: bad counts\n");
        return -1;
    }
    if ((uint64_t)w->n_producers * w->max_values >= UINT32_MAX) {
        fprintf(stderr, "workload: too many values for the seq map\n");
        return -1;
    }
    for (int k = 0; k < w->n_producers; k++) {
        w->delivered[k] = calloc(w->max_values, 1);
        w->consumed[k] = calloc(w->max_values, 1);
        /* Pages are touched only for values published. */
        w->seq_of[k] = calloc(w->max_values, sizeof *w->seq_of[k]);
        if (w->delivered[k] == NULL || w->consumed[k] == NULL ||
            w->seq_of[k] == NULL) {
            fprintf(stderr, "workload: out of memory\n");
            return -1;
        }
    }
    if (create_queue(w, ack_timeout_ms) != 0) {
        return -1;
    }
    w->t0 = test_now_ms();
    atomic_store(&w->probe_from, UINT64_MAX);
    for (int i = 0; i < w->n_nodes; i++) {
        struct mon_arg *a = malloc(sizeof *a);
        a->w = w;
        a->node = i;
        pthread_create(&w->mon[i], NULL, monitor_main, a);
    }
    for (int i = 0; i < w->n_consumers; i++) {
        w->cons[i].w = w;
        pthread_create(&w->cons[i].th, NULL, consumer_main, &w->cons[i]);
    }
    for (int k = 0; k < w->n_producers; k++) {
        w->prod[k].w = w;
        w->prod[k].k = k;
        pthread_create(&w->prod[k].th, NULL, producer_main, &w->prod[k]);
    }
    w->started = 1;
    return 0;
}

void workload_stop_producers(struct workload *w)
{
    if (!w->started || atomic_exchange(&w->stop_producers, 1)) {
        return;
    }
    for (int k = 0; k < w->n_producers; k++) {
        pthread_join(w->prod[k].th, NULL);
    }
}

void workload_stop(struct workload *w)
{
    workload_stop_producers(w);
    if (!w->started) {
        return;
    }
    if (!atomic_exchange(&w->stop_consumers, 1)) {
        for (int i = 0; i < w->n_consumers; i++) {
            pthread_join(w->cons[i].th, NULL);
        }
    }
    if (!atomic_exchange(&w->stop_monitors, 1)) {
        for (int i = 0; i < w->n_nodes; i++) {
            pthread_join(w->mon[i], NULL);
        }
    }
}

void workload_free(struct workload *w)
{
    for (int k = 0; k < w->n_producers; k++) {
        free(w->prod[k].recs);
        free(w->delivered[k]);
        free(w->consumed[k]);
        free(w->seq_of[k]);
    }
    free(w->value_at);
    free(w->events);
    if (w->lock_made) {
        pthread_mutex_destroy(&w->lock);
    }
}
