/* test_waiters.c: thousands of waiting fetches (long polls) on the leader
 * while publishes, acks and `mqctl status` go on.
 *
 * The waiting fetches come from plain nng REQ sockets (tests/lib/rawreq.h),
 * a few connections with hundreds of requests each, as many consumer
 * threads of a few libmq clients would send. They must not take the places
 * that other requests need: with 2,000 of them waiting, a publish, an ack
 * and `mqctl status` are answered in milliseconds, and each waiting fetch
 * then gets its message. Past the caps (max_waiting_per_sub, per
 * subscription; max_waiting_fetches, per node) a fetch is refused at once,
 * naming the cap; the fetches of a closed connection stop waiting, so they
 * hold no place. On a leader change and on shutdown, every waiting fetch
 * is answered. Latencies are printed for the record.
 *
 * MQ_TEST_WAITERS=N and MQ_TEST_WAITER_SUBS=S run the first scenario with
 * N waiting fetches on S subscriptions instead of 2,000 on 40 (a manual
 * measurement; the node's cap is raised to match). MQ_TEST_WAITERS_MEASURE=1
 * adds a measurement: a producer at 1,000 msgs/s (MQ_TEST_RATE) for 5 s
 * into S queues of one subscription each, with N consumers looping on
 * long polls, against the same producer with none waiting. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "rawreq.h"

#define PER_SOCKET 250
#define WAIT_MS 60000 /* long polls outlive every step of a test */

static size_t n_waiters = 2000;
static size_t n_subs = 40;
static size_t node_cap = 2100; /* --max_waiting_fetches of the nodes */

/* The number of fetches waiting on node @l, from its status (asked on a
 * socket of our own), or UINT64_MAX if it did not answer. */
static uint64_t waiting_now(struct cluster *c, int l)
{
    struct rawreq *r = rawreq_open(c->nodes[l].client_url, 1);
    struct rawreq_storage st;
    Mq__V1__Request req;
    uint64_t n = UINT64_MAX;

    if (r == NULL) {
        return n;
    }
    rawreq_status(&req, &st);
    if (rawreq_send(r, 0, &req, 0) == 0 && rawreq_wait(r, 1, 5000) == 0) {
        const struct rawreq_slot_result *res = rawreq_result(r, 0);
        if (res->nng_err == 0 &&
            res->reply->body_case == MQ__V1__REPLY__BODY_STATUS_REPLY) {
            n = res->reply->status_reply->waiting_fetches;
        }
    }
    rawreq_close(r);
    return n;
}

/* Waits up to @timeout_ms until node @l counts @n waiting fetches.
 * Returns the last count seen. */
static uint64_t wait_waiting(struct cluster *c, int l, uint64_t n,
                             int timeout_ms)
{
    uint64_t end = test_now_ms() + (uint64_t)timeout_ms, seen;
    for (;;) {
        seen = waiting_now(c, l);
        if (seen == n || test_now_ms() >= end) {
            return seen;
        }
        test_sleep_ms(50);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Publishes @n messages to @queue one at a time; fills @ms with each
 * call's latency and prints p50 and p99 as @label. */
static void timed_publishes(mq_client *cl, const char *queue, size_t n,
                            const char *label, uint64_t *p99_out)
{
    uint64_t *ms = calloc(n, sizeof *ms);
    assert_non_null(ms);
    for (size_t i = 0; i < n; i++) {
        mq_pub m = {0};
        uint64_t t0 = test_now_ms();
        m.event = "work";
        m.payload = "x";
        m.payload_len = 1;
        mq_err rv = mq_publish(cl, queue, &m, NULL, 5000);
        if (rv != MQ_OK) {
            fprintf(stderr, "publish %zu: %s\n", i, mq_errmsg());
        }
        assert_int_equal(rv, MQ_OK);
        ms[i] = test_now_ms() - t0;
    }
    qsort(ms, n, sizeof *ms, cmp_u64);
    printf("waiters: %s: %zu sync publishes, p50 %llu ms, p99 %llu ms, "
           "max %llu ms\n",
           label, n, (unsigned long long)ms[n / 2],
           (unsigned long long)ms[n * 99 / 100], (unsigned long long)ms[n - 1]);
    *p99_out = ms[n * 99 / 100];
    free(ms);
}

/* Opens sockets of PER_SOCKET slots to @url, enough for @n fetches of
 * queue @queue spread over subs w0..w(@subs-1), and sends them. */
static struct rawreq **open_waiters(const char *url, size_t n,
                                    const char *queue, size_t subs,
                                    size_t *n_socks)
{
    size_t k = (n + PER_SOCKET - 1) / PER_SOCKET;
    struct rawreq **socks = calloc(k, sizeof *socks);

    assert_non_null(socks);
    for (size_t j = 0; j < k; j++) {
        size_t slots =
            n - j * PER_SOCKET < PER_SOCKET ? n - j * PER_SOCKET : PER_SOCKET;
        socks[j] = rawreq_open(url, slots);
        assert_non_null(socks[j]);
        for (size_t i = 0; i < slots; i++) {
            struct rawreq_storage st;
            Mq__V1__Request req;
            char name[16];
            snprintf(name, sizeof name, "w%zu", (j * PER_SOCKET + i) % subs);
            rawreq_fetch(&req, &st, queue, name, 1, WAIT_MS); /* packed now */
            assert_int_equal(rawreq_send(socks[j], i, &req, 0), 0);
        }
    }
    *n_socks = k;
    return socks;
}

static void close_waiters(struct rawreq **socks, size_t k)
{
    for (size_t j = 0; j < k; j++) {
        rawreq_close(socks[j]);
    }
    free(socks);
}

static void create_subs(mq_client *cl, const char *queue, size_t n)
{
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    qc.name = queue;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    for (size_t s = 0; s < n; s++) {
        mq_sub_config sc = MQ_SUB_CONFIG_INIT;
        char name[16];
        snprintf(name, sizeof name, "w%zu", s);
        sc.queue = queue;
        sc.name = name;
        assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    }
}

static void test_waiting_fetches_leave_room_for_everything_else(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    int l = cluster_wait_leader(c, 20000);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    uint64_t idle_p99, p99;
    size_t k;
    char out[16384];

    CLUSTER_TEST_BEGIN(c);
    assert_non_null(cl);
    assert_true(l >= 0);
    create_subs(cl, "waitq", n_subs);
    qc.name = "work";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "work";
    sc.name = "s";
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    timed_publishes(cl, "work", 200, "idle", &idle_p99);

    long rss0 = rawreq_rss_kib((int)c->nodes[l].pid);
    uint64_t t0 = test_now_ms();
    struct rawreq **socks =
        open_waiters(c->nodes[l].client_url, n_waiters, "waitq", n_subs, &k);
    assert_int_equal(wait_waiting(c, l, n_waiters, 60000), n_waiters);
    long rss1 = rawreq_rss_kib((int)c->nodes[l].pid);
    printf("waiters: %zu fetches on %zu subscriptions waiting after %llu ms; "
           "leader resident memory %ld KiB before, %ld KiB with them\n",
           n_waiters, n_subs, (unsigned long long)(test_now_ms() - t0), rss0,
           rss1);

    /* Publishes, acks and status are served while they wait. */
    timed_publishes(cl, "work", 200, "with waiters", &p99);
    assert_true(p99 < 1000);
    size_t got = 0;
    for (int i = 0; i < 50 && got < 400; i++) {
        mq_msg **msgs;
        size_t n;
        assert_int_equal(mq_fetch(cl, "work", "s", 100, 1000, &msgs, &n),
                         MQ_OK);
        for (size_t j = 0; j < n; j++) {
            assert_int_equal(mq_ack(cl, msgs[j], 5000), MQ_OK);
        }
        got += n;
        mq_msgs_free(msgs, n);
    }
    assert_int_equal(got, 400);
    t0 = test_now_ms();
    if (cluster_mqctl(c, out, sizeof out, "status") != 0) {
        fail_msg("mqctl status failed: %s", out);
    }
    printf("waiters: mqctl status took %llu ms\n",
           (unsigned long long)(test_now_ms() - t0));
    assert_true(test_now_ms() - t0 < 5000);
    assert_non_null(strstr(out, "leader"));
    /* The leader counts them, and says so. */
    char count[64];
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "--json status"), 0);
    snprintf(count, sizeof count, "\"waiting_fetches\":%zu", n_waiters);
    if (strstr(out, count) == NULL) {
        fail_msg("mqctl --json status does not say %s: %s", count, out);
    }

    /* Each waiting fetch gets a message: per subscription, one message per
     * waiter, each seq once. */
    size_t per_sub = n_waiters / n_subs;
    for (size_t i = 0; i < per_sub; i++) {
        mq_pub m = {0};
        m.event = "wake";
        m.payload = "y";
        m.payload_len = 1;
        assert_int_equal(mq_publish(cl, "waitq", &m, NULL, 10000), MQ_OK);
    }
    t0 = test_now_ms();
    uint64_t *seen = calloc(n_subs * (per_sub + 1), sizeof *seen);
    uint64_t *lat = calloc(n_waiters, sizeof *lat);
    size_t n_lat = 0;
    assert_non_null(seen);
    assert_non_null(lat);
    for (size_t j = 0; j < k; j++) {
        struct rawreq *r = socks[j];
        size_t slots = n_waiters - j * PER_SOCKET < PER_SOCKET
                           ? n_waiters - j * PER_SOCKET
                           : PER_SOCKET;
        assert_int_equal(rawreq_wait(r, slots, 60000), 0);
        for (size_t i = 0; i < slots; i++) {
            const struct rawreq_slot_result *res = rawreq_result(r, i);
            size_t sub = (j * PER_SOCKET + i) % n_subs;
            assert_int_equal(res->nng_err, 0);
            assert_int_equal(res->reply->status, MQ__V1__STATUS__STATUS_OK);
            assert_int_equal(res->reply->fetch->n_messages, 1);
            uint64_t seq = res->reply->fetch->messages[0]->seq;
            assert_true(seq >= 1 && seq <= per_sub);
            assert_int_equal(seen[sub * (per_sub + 1) + seq], 0);
            seen[sub * (per_sub + 1) + seq] = 1;
            /* From the leader's stamp to the reply's arrival here. */
            uint64_t at = res->reply->fetch->messages[0]->published_at_ms;
            lat[n_lat++] = res->wall_ms > at ? res->wall_ms - at : 0;
        }
    }
    qsort(lat, n_lat, sizeof *lat, cmp_u64);
    printf("waiters: all %zu served %llu ms after the last publish; "
           "publish to receive p50 %llu ms, p99 %llu ms\n",
           n_waiters, (unsigned long long)(test_now_ms() - t0),
           (unsigned long long)lat[n_lat / 2],
           (unsigned long long)lat[n_lat * 99 / 100]);
    free(lat);
    free(seen);
    uint64_t *seqs = calloc(per_sub, sizeof *seqs);
    assert_non_null(seqs);
    for (size_t s = 0; s < n_subs; s++) {
        char name[16];
        snprintf(name, sizeof name, "w%zu", s);
        for (size_t i = 0; i < per_sub; i++) {
            seqs[i] = i + 1;
        }
        assert_int_equal(mq_ack_seqs(cl, "waitq", name, seqs, per_sub, 10000),
                         MQ_OK);
    }
    free(seqs);
    assert_int_equal(wait_waiting(c, l, 0, 10000), 0);
    close_waiters(socks, k);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

/* Sends @n fetches of @queue/@sub from a new socket; returns it. */
static struct rawreq *fetches(struct cluster *c, int l, const char *queue,
                              const char *sub, size_t n)
{
    struct rawreq *r = rawreq_open(c->nodes[l].client_url, n);
    assert_non_null(r);
    for (size_t i = 0; i < n; i++) {
        struct rawreq_storage st;
        Mq__V1__Request req;
        rawreq_fetch(&req, &st, queue, sub, 1, WAIT_MS);
        assert_int_equal(rawreq_send(r, i, &req, 0), 0);
    }
    return r;
}

/* Every one of @r's @n requests was refused at once with TOO_MANY, the
 * detail naming @cap. */
static void assert_refused(struct rawreq *r, size_t n, const char *cap)
{
    uint64_t t0 = test_now_ms();
    assert_int_equal(rawreq_wait(r, n, 5000), 0);
    printf("waiters: %zu fetches over %s refused within %llu ms\n", n, cap,
           (unsigned long long)(test_now_ms() - t0));
    for (size_t i = 0; i < n; i++) {
        const struct rawreq_slot_result *res = rawreq_result(r, i);
        assert_int_equal(res->nng_err, 0);
        assert_int_equal(res->reply->status, MQ__V1__STATUS__STATUS_TOO_MANY);
        if (strstr(res->reply->detail, cap) == NULL) {
            fail_msg("detail \"%s\" does not name %s", res->reply->detail, cap);
        }
    }
}

static void test_fetches_past_the_sub_cap_are_refused_at_once(void **state)
{
    struct cluster *c = *state;
    int l = cluster_wait_leader(c, 20000);
    mq_client *cl = cluster_client(c);

    CLUSTER_TEST_BEGIN(c);
    assert_true(l >= 0);
    assert_non_null(cl);
    create_subs(cl, "capq", 1);
    struct rawreq *held = fetches(c, l, "capq", "w0", 512);
    assert_int_equal(wait_waiting(c, l, 512, 20000), 512);

    struct rawreq *over = fetches(c, l, "capq", "w0", 10);
    assert_refused(over, 10, "max_waiting_per_sub 512");
    assert_non_null(strstr(rawreq_result(over, 0)->reply->detail, "capq"));
    rawreq_close(over);
    /* Through libmq: the code at once, and the message naming the cap. */
    mq_msg **msgs = NULL;
    size_t n = 0;
    uint64_t t0 = test_now_ms();
    assert_int_equal(mq_fetch(cl, "capq", "w0", 1, 5000, &msgs, &n),
                     MQ_ERR_TOO_MANY);
    assert_true(test_now_ms() - t0 < 2000);
    if (strstr(mq_errmsg(), "max_waiting_per_sub 512") == NULL) {
        fail_msg("mq_errmsg \"%s\" does not name the cap", mq_errmsg());
    }
    printf("waiters: libmq: %s\n", mq_errmsg());

    /* The fetches of a connection that closes stop waiting: their places
     * are free again at once, not at the end of their wait. */
    rawreq_close(held);
    assert_int_equal(wait_waiting(c, l, 0, 10000), 0);
    held = fetches(c, l, "capq", "w0", 512);
    assert_int_equal(wait_waiting(c, l, 512, 20000), 512);
    rawreq_close(held);
    assert_int_equal(wait_waiting(c, l, 0, 10000), 0);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void test_fetches_past_the_node_cap_are_refused_at_once(void **state)
{
    struct cluster *c = *state;
    int l = cluster_wait_leader(c, 20000);
    size_t k;
    char cap[64];

    CLUSTER_TEST_BEGIN(c);
    assert_true(l >= 0);
    struct rawreq **socks =
        open_waiters(c->nodes[l].client_url, node_cap, "waitq", n_subs, &k);
    assert_int_equal(wait_waiting(c, l, node_cap, 60000), node_cap);
    struct rawreq *over = fetches(c, l, "waitq", "w1", 5);
    snprintf(cap, sizeof cap, "max_waiting_fetches %zu", node_cap);
    assert_refused(over, 5, cap);
    rawreq_close(over);
    close_waiters(socks, k);
    assert_int_equal(wait_waiting(c, l, 0, 10000), 0);
    CLUSTER_TEST_PASSED(c);
}

/* On a leader change every waiting fetch is answered NOT_LEADER; when the
 * node stops, NOT_DONE (or the connection closes): none is left hanging. */
static void
test_waiting_fetches_answered_on_leader_change_and_stop(void **state)
{
    struct cluster *c = *state;
    int l = cluster_wait_leader(c, 20000);
    size_t k;
    char out[16384];

    CLUSTER_TEST_BEGIN(c);
    assert_true(l >= 0);
    struct rawreq **socks =
        open_waiters(c->nodes[l].client_url, 500, "waitq", n_subs, &k);
    assert_int_equal(wait_waiting(c, l, 500, 20000), 500);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "leader transfer"), 0);
    for (size_t j = 0; j < k; j++) {
        assert_int_equal(rawreq_wait(socks[j], PER_SOCKET, 15000), 0);
        for (size_t i = 0; i < PER_SOCKET; i++) {
            const struct rawreq_slot_result *res = rawreq_result(socks[j], i);
            assert_int_equal(res->nng_err, 0);
            assert_int_equal(res->reply->status,
                             MQ__V1__STATUS__STATUS_NOT_LEADER);
        }
    }
    close_waiters(socks, k);

    l = cluster_wait_leader(c, 20000);
    assert_true(l >= 0);
    socks = open_waiters(c->nodes[l].client_url, 500, "waitq", n_subs, &k);
    assert_int_equal(wait_waiting(c, l, 500, 20000), 500);
    uint64_t t0 = test_now_ms();
    cluster_signal(c, l, SIGTERM);
    assert_int_equal(c->nodes[l].exit_status, 0);
    size_t not_done = 0;
    for (size_t j = 0; j < k; j++) {
        assert_int_equal(rawreq_wait(socks[j], PER_SOCKET, 15000), 0);
        for (size_t i = 0; i < PER_SOCKET; i++) {
            const struct rawreq_slot_result *res = rawreq_result(socks[j], i);
            if (res->nng_err == 0) {
                assert_int_equal(res->reply->status,
                                 MQ__V1__STATUS__STATUS_NOT_DONE);
                not_done++;
            }
        }
    }
    printf("waiters: stop: %zu of 500 answered NOT_DONE, the others saw the "
           "connection close, all within %llu ms\n",
           not_done, (unsigned long long)(test_now_ms() - t0));
    close_waiters(socks, k);
    assert_int_equal(cluster_restart(c, l), 0);
    assert_true(cluster_wait_leader(c, 20000) >= 0);
    CLUSTER_TEST_PASSED(c);
}

/* Publish-to-receive latencies, gathered on nng threads. */
struct lat_log {
    pthread_mutex_t lock;
    uint64_t *ms;
    size_t n, cap;
};

static void on_fetch_reply(void *arg, const Mq__V1__Reply *rep)
{
    struct lat_log *ll = arg;
    uint64_t now = test_wall_ms();

    if (rep->status != MQ__V1__STATUS__STATUS_OK ||
        rep->body_case != MQ__V1__REPLY__BODY_FETCH) {
        return;
    }
    pthread_mutex_lock(&ll->lock);
    for (size_t i = 0; i < rep->fetch->n_messages && ll->n < ll->cap; i++) {
        uint64_t at = rep->fetch->messages[i]->published_at_ms;
        ll->ms[ll->n++] = now > at ? now - at : 0;
    }
    pthread_mutex_unlock(&ll->lock);
}

#define PRODUCERS 4

struct producer {
    mq_client *cl;
    size_t n_queues, first, step, total;
    int rate;
    uint64_t t0;
    uint64_t *ms; /* latency of publish i at ms[i] */
};

/* One producer thread: publishes first, first + step, ... (of @total) at
 * their times on the @rate schedule, one at a time. */
static void *producer_main(void *arg)
{
    struct producer *p = arg;
    for (size_t i = p->first; i < p->total; i += p->step) {
        uint64_t due = p->t0 + i * 1000 / (size_t)p->rate, now = test_now_ms();
        char queue[32];
        mq_pub m = {0};
        if (now < due) {
            test_sleep_ms((int)(due - now)); /* pacing the load */
        }
        snprintf(queue, sizeof queue, "mq%zu", (i * 7919) % p->n_queues);
        m.event = "measure";
        m.payload = "m";
        m.payload_len = 1;
        uint64_t s0 = test_now_ms();
        if (mq_publish(p->cl, queue, &m, NULL, 5000) != MQ_OK) {
            p->ms[i] = UINT64_MAX;
            continue;
        }
        p->ms[i] = test_now_ms() - s0;
    }
    return NULL;
}

/* Publishes at @rate a second for @seconds into queues mq0.. (@n_queues)
 * from PRODUCERS threads, each one message at a time; prints the sync
 * publish latencies as @label. Returns the number published. */
static size_t paced_publishes(mq_client *cl, size_t n_queues, int rate,
                              int seconds, const char *label)
{
    size_t total = (size_t)rate * (size_t)seconds;
    uint64_t *ms = calloc(total, sizeof *ms);
    struct producer p[PRODUCERS];
    pthread_t th[PRODUCERS];
    uint64_t t0 = test_now_ms();

    assert_non_null(ms);
    for (int i = 0; i < PRODUCERS; i++) {
        p[i] = (struct producer){cl,    n_queues, (size_t)i, PRODUCERS,
                                 total, rate,     t0,        ms};
        assert_int_equal(pthread_create(&th[i], NULL, producer_main, &p[i]), 0);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(th[i], NULL);
    }
    uint64_t took = test_now_ms() - t0;
    qsort(ms, total, sizeof *ms, cmp_u64);
    assert_true(ms[total - 1] != UINT64_MAX); /* every publish succeeded */
    printf("measure: %s: %zu sync publishes from %d threads in %llu ms "
           "(%.0f/s), p50 %llu ms, p99 %llu ms, max %llu ms\n",
           label, total, PRODUCERS, (unsigned long long)took,
           (double)total * 1000.0 / (double)(took ? took : 1),
           (unsigned long long)ms[total / 2],
           (unsigned long long)ms[total * 99 / 100],
           (unsigned long long)ms[total - 1]);
    free(ms);
    return total;
}

static void test_measure_producer_with_waiting_consumers(void **state)
{
    struct cluster *c = *state;
    const char *env_rate = getenv("MQ_TEST_RATE");
    int rate = env_rate != NULL && atoi(env_rate) > 0 ? atoi(env_rate) : 1000;
    struct lat_log ll = {.cap = (size_t)rate * 10};
    size_t k = (n_waiters + PER_SOCKET - 1) / PER_SOCKET;
    struct rawreq **socks;

    if (getenv("MQ_TEST_WAITERS_MEASURE") == NULL) {
        skip();
    }
    CLUSTER_TEST_BEGIN(c);
    int l = cluster_wait_leader(c, 20000);
    mq_client *cl = cluster_client(c);
    assert_true(l >= 0);
    assert_non_null(cl);
    for (size_t q = 0; q < n_subs; q++) {
        mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
        mq_sub_config sc = MQ_SUB_CONFIG_INIT;
        char name[32];
        snprintf(name, sizeof name, "mq%zu", q);
        qc.name = name;
        assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
        sc.queue = name;
        sc.name = "w0";
        assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    }
    printf("measure: leader is node %d, pid %d\n", c->nodes[l].id,
           (int)c->nodes[l].pid);
    fflush(stdout);
    paced_publishes(cl, n_subs, rate, 5, "none waiting");

    /* Consumers: each slot fetches again as soon as it is answered. */
    ll.ms = calloc(ll.cap, sizeof *ll.ms);
    assert_non_null(ll.ms);
    pthread_mutex_init(&ll.lock, NULL);
    socks = calloc(k, sizeof *socks);
    assert_non_null(socks);
    for (size_t j = 0; j < k; j++) {
        size_t slots = n_waiters - j * PER_SOCKET < PER_SOCKET
                           ? n_waiters - j * PER_SOCKET
                           : PER_SOCKET;
        socks[j] = rawreq_open(c->nodes[l].client_url, slots);
        assert_non_null(socks[j]);
        rawreq_on_reply(socks[j], on_fetch_reply, &ll);
        for (size_t i = 0; i < slots; i++) {
            struct rawreq_storage st;
            Mq__V1__Request req;
            char name[32];
            snprintf(name, sizeof name, "mq%zu", (j * PER_SOCKET + i) % n_subs);
            rawreq_fetch(&req, &st, name, "w0", 1, WAIT_MS);
            assert_int_equal(rawreq_send(socks[j], i, &req, 1), 0);
        }
    }
    /* They take what the first run left, then wait. */
    assert_int_equal(wait_waiting(c, l, n_waiters, 60000), n_waiters);
    pthread_mutex_lock(&ll.lock);
    ll.n = 0;
    pthread_mutex_unlock(&ll.lock);
    char label[64];
    snprintf(label, sizeof label, "%zu waiting on %zu queues", n_waiters,
             n_subs);
    size_t sent = paced_publishes(cl, n_subs, rate, 5, label);
    uint64_t end = test_now_ms() + 10000;
    size_t got;
    do {
        test_sleep_ms(20);
        pthread_mutex_lock(&ll.lock);
        got = ll.n;
        pthread_mutex_unlock(&ll.lock);
    } while (got < sent && test_now_ms() < end);
    for (size_t j = 0; j < k; j++) {
        rawreq_close(socks[j]); /* no callback runs after this */
    }
    free(socks);
    qsort(ll.ms, ll.n, sizeof *ll.ms, cmp_u64);
    printf("measure: %zu of %zu messages received; publish to receive p50 "
           "%llu ms, p99 %llu ms, max %llu ms\n",
           ll.n, sent, (unsigned long long)ll.ms[ll.n / 2],
           (unsigned long long)ll.ms[ll.n * 99 / 100],
           (unsigned long long)ll.ms[ll.n - 1]);
    assert_int_equal(ll.n, sent);
    pthread_mutex_destroy(&ll.lock);
    free(ll.ms);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static char extra[128];

/* Three nodes with the extra flags, that die with the test should it be
 * killed at its timeout. */
static int setup(void **state)
{
    static struct cluster c;
    struct cluster_opts o = CLUSTER_OPTS_INIT;
    o.extra = extra;
    o.die_with_test = 1;
    if (cluster_start_opts(&c, 3, &o) != 0) {
        cluster_stop(&c);
        return -1;
    }
    *state = &c;
    return 0;
}

int main(void)
{
    const char *env = getenv("MQ_TEST_WAITERS");
    const char *env_subs = getenv("MQ_TEST_WAITER_SUBS");

    if (env_subs != NULL && atoi(env_subs) > 0) {
        n_subs = (size_t)atoi(env_subs);
    }
    if (env != NULL && atoi(env) > 0) {
        n_waiters = (size_t)atoi(env);
    }
    /* Every subscription gets as many waiting fetches, within its cap. */
    if (n_waiters / n_subs > 512) {
        n_waiters = n_subs * 512;
    }
    n_waiters -= n_waiters % n_subs;
    if (n_waiters >= node_cap) {
        node_cap = n_waiters + 100;
    }
    snprintf(extra, sizeof extra, "--max_waiting_fetches %zu", node_cap);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waiting_fetches_leave_room_for_everything_else),
        cmocka_unit_test(test_fetches_past_the_sub_cap_are_refused_at_once),
        cmocka_unit_test(test_fetches_past_the_node_cap_are_refused_at_once),
        cmocka_unit_test(
            test_waiting_fetches_answered_on_leader_change_and_stop),
        cmocka_unit_test(test_measure_producer_with_waiting_consumers),
    };
    return cmocka_run_group_tests(tests, setup, cluster_group_teardown);
}
