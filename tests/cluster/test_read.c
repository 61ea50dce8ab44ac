/* test_read.c: catch-up and replay reads are served by any node, followers
 * included, from their applied state, saying how far they applied; a
 * reader passing the index of its last write reads its write even from a
 * follower: a follower behind waits until it has applied that index, and
 * one that does not get there within max_wait_ms answers TIMEOUT naming how
 * far it is; reads by seq and by time; through `mqctl read`; a follower
 * restarted from its disk serves the same; after the leader is killed, the
 * others serve every message, and the killed node, restarted behind the
 * new leader's compacted log, installs a snapshot and serves them all too.
 * Subscription positions do not move. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <cmocka.h>

#include "cluster.h"
#include "mq.pb-c.h"

#define N_MSGS 2500
#define N_AFTER_KILL 300 /* one entry each: several snapshots */

/* Reads seqs 1..@total of the queue from @cl in batches; each must be
 * there, in order, with id h-<seq>. */
static void read_all(mq_client *cl, uint64_t total, mq_read_info *info)
{
    uint64_t next = 1;
    while (next <= total) {
        mq_read_opts ro = MQ_READ_OPTS_INIT;
        mq_msg **msgs = NULL;
        size_t n = 0;
        ro.from_seq = next;
        ro.max_messages = 1000;
        assert_int_equal(mq_read(cl, "history", &ro, &msgs, &n, info, 10000),
                         MQ_OK);
        assert_true(n > 0);
        for (size_t i = 0; i < n && next <= total; i++) {
            char id[32];
            snprintf(id, sizeof id, "h-%llu", (unsigned long long)next);
            assert_int_equal(mq_msg_seq(msgs[i]), next);
            assert_string_equal(mq_msg_id(msgs[i]), id);
            assert_int_equal(mq_msg_attempt(msgs[i]), 0);
            next++;
        }
        mq_msgs_free(msgs, n);
    }
}

/* Publishes h-<seq> synchronously; the seq must be @seq. */
static void publish_seq(mq_client *cl, uint64_t seq, mq_pub_result *res)
{
    char id[32];
    mq_pub m = {0};
    snprintf(id, sizeof id, "h-%llu", (unsigned long long)seq);
    m.id = id;
    m.payload = id;
    m.payload_len = strlen(id);
    assert_int_equal(mq_publish(cl, "history", &m, res, 10000), MQ_OK);
    assert_int_equal(res->seq, seq);
}

struct resume {
    pid_t pid; /* a node stopped with SIGSTOP */
    int after_ms;
};

static void *resume_later(void *arg)
{
    struct resume *rs = arg;
    test_sleep_ms(rs->after_ms);
    kill(rs->pid, SIGCONT);
    return NULL;
}

/* A read request sent to @url as it is (no libmq retries): from seq 1,
 * waiting up to @max_wait_ms for @min_index. Returns the reply (caller
 * frees), or NULL if none came within 5 s. */
static Mq__V1__Reply *raw_read(const char *url, uint64_t min_index,
                               uint32_t max_wait_ms)
{
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__ReadRequest rr = MQ__V1__READ_REQUEST__INIT;
    Mq__V1__Reply *reply = NULL;
    nng_socket s;
    nng_msg *msg;

    rr.queue = "history";
    rr.from_seq = 1;
    rr.min_index = min_index;
    rr.max_wait_ms = max_wait_ms;
    req.body_case = MQ__V1__REQUEST__BODY_READ;
    req.read = &rr;
    assert_int_equal(nng_req0_open(&s), 0);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
    nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000);
    assert_int_equal(nng_dial(s, url, NULL, 0), 0);
    assert_int_equal(
        nng_msg_alloc(&msg, mq__v1__request__get_packed_size(&req)), 0);
    mq__v1__request__pack(&req, nng_msg_body(msg));
    assert_int_equal(nng_sendmsg(s, msg, 0), 0);
    if (nng_recvmsg(s, &msg, 0) == 0) {
        reply =
            mq__v1__reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
        nng_msg_free(msg);
    }
    nng_close(s);
    return reply;
}

/* Read-your-writes on follower @f while it is behind: stopped (SIGSTOP)
 * while a write commits on the two others, resumed 300 ms later; the read
 * with the write's index waits for it, then returns it. Then a min_index
 * no node has reached: TIMEOUT after max_wait_ms, naming how far the node
 * applied. */
static void check_min_index(struct cluster *c, mq_client *cl, int f,
                            mq_client *fc)
{
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    mq_msg **msgs = NULL;
    size_t n = 0;
    mq_read_info info;
    mq_pub_result res;
    pthread_t th;
    struct resume rs = {c->nodes[f].pid, 300};

    cluster_signal(c, f, SIGSTOP);
    publish_seq(cl, N_MSGS + 2, &res);
    assert_int_equal(pthread_create(&th, NULL, resume_later, &rs), 0);
    uint64_t t0 = test_now_ms();
    ro.from_seq = res.seq;
    ro.min_index = res.index;
    ro.max_wait_ms = 5000;
    mq_err rv = mq_read(fc, "history", &ro, &msgs, &n, &info, 10000);
    uint64_t took = test_now_ms() - t0;
    pthread_join(th, NULL);
    printf("read with min_index %llu from a stopped follower: %s after %llu "
           "ms (resumed after 300 ms)\n",
           (unsigned long long)res.index, mq_strerror(rv),
           (unsigned long long)took);
    assert_int_equal(rv, MQ_OK);
    assert_true(took >= 300);
    assert_int_equal(n, 1);
    assert_int_equal(mq_msg_seq(msgs[0]), res.seq);
    assert_int_equal(info.node_id, (uint64_t)c->nodes[f].id);
    assert_true(info.applied_index >= res.index);
    mq_msgs_free(msgs, n);

    /* An index far ahead: the node waits max_wait_ms, then answers
     * TIMEOUT naming how far it applied (asked directly: libmq retries a
     * TIMEOUT until its own deadline). */
    uint64_t far = info.applied_index + 1000000;
    t0 = test_now_ms();
    Mq__V1__Reply *r = raw_read(c->nodes[f].client_url, far, 500);
    took = test_now_ms() - t0;
    assert_non_null(r);
    printf("read with min_index %llu: status %d after %llu ms: %s\n",
           (unsigned long long)far, (int)r->status, (unsigned long long)took,
           r->detail);
    assert_int_equal((int)r->status, MQ_ERR_TIMEOUT);
    assert_true(took >= 500);
    assert_non_null(strstr(r->detail, "has applied up to index"));
    assert_non_null(strstr(r->detail, "not yet"));
    mq__v1__reply__free_unpacked(r, NULL);

    /* Through libmq: TIMEOUT, no messages, at its deadline. */
    mq_read_opts ro_far = MQ_READ_OPTS_INIT;
    ro_far.min_index = far;
    ro_far.max_wait_ms = 500;
    t0 = test_now_ms();
    rv = mq_read(fc, "history", &ro_far, &msgs, &n, NULL, 1500);
    took = test_now_ms() - t0;
    printf("through libmq: %s after %llu ms: %s\n", mq_strerror(rv),
           (unsigned long long)took, mq_errmsg());
    assert_int_equal(rv, MQ_ERR_TIMEOUT);
    assert_int_equal(n, 0);
    assert_true(took >= 500 && took < 5000);
}

static void test_reads_from_followers(void **state)
{
    struct cluster *c = *state;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    mq_pub_result res;
    uint64_t mid_time = 0;

    CLUSTER_TEST_BEGIN(c);
    qc.name = "history";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    sc.queue = "history";
    sc.name = "auditor";
    sc.start = MQ_START_FIRST;
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    for (int i = 1; i <= N_MSGS; i++) {
        char id[32];
        mq_pub m = {0};
        snprintf(id, sizeof id, "h-%d", i);
        m.id = id;
        m.payload = id;
        m.payload_len = strlen(id);
        assert_int_equal(mq_publish_async(cl, "history", &m, NULL, NULL),
                         MQ_OK);
        if (i == N_MSGS / 2) {
            assert_int_equal(mq_flush(cl, 30000), MQ_OK);
            test_sleep_ms(20);
            mid_time = test_wall_ms();
            test_sleep_ms(20);
        }
    }
    assert_int_equal(mq_flush(cl, 30000), MQ_OK);

    int leader = cluster_leader(c);
    int f = (leader + 1) % c->n;
    mq_client *fc = cluster_node_client(c, f);
    assert_non_null(fc);

    /* Read-your-writes on a follower: a write's index, then a read. */
    publish_seq(cl, N_MSGS + 1, &res);
    mq_read_opts ro = MQ_READ_OPTS_INIT;
    mq_msg **msgs = NULL;
    size_t n = 0;
    mq_read_info info;
    ro.from_seq = res.seq;
    ro.min_index = res.index;
    assert_int_equal(mq_read(fc, "history", &ro, &msgs, &n, &info, 10000),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_msg_seq(msgs[0]), N_MSGS + 1);
    assert_true(info.applied_index >= res.index);
    assert_int_equal(info.node_id, (uint64_t)c->nodes[f].id);
    mq_msgs_free(msgs, n);

    /* The whole backlog from the follower, in order. */
    read_all(fc, N_MSGS + 1, &info);
    assert_true(info.applied_index >= res.index);

    /* By time: the first message published after mid_time. */
    mq_read_opts rt = MQ_READ_OPTS_INIT;
    rt.from_time_ms = mid_time;
    rt.max_messages = 1;
    assert_int_equal(mq_read(fc, "history", &rt, &msgs, &n, NULL, 10000),
                     MQ_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mq_msg_seq(msgs[0]), N_MSGS / 2 + 1);
    mq_msgs_free(msgs, n);

    /* Through mqctl (which reads from a follower too). */
    char out[8192];
    char *argv[] = {"read",    "history", "--from-seq", "10",
                    "--count", "3",       NULL};
    assert_int_equal(cluster_mqctlv(c, out, sizeof out, argv), 0);
    assert_non_null(strstr(out, "h-10"));
    assert_non_null(strstr(out, "h-12"));
    assert_null(strstr(out, "h-13"));

    /* A follower behind waits for the index asked; too far: TIMEOUT. */
    check_min_index(c, cl, f, fc);

    /* The follower restarts from its disk and serves the same. */
    mq_client_close(fc);
    cluster_signal(c, f, SIGKILL);
    assert_int_equal(cluster_restart(c, f), 0);
    assert_int_equal(cluster_settle(c, 20000), 0);
    fc = cluster_node_client(c, f);
    assert_non_null(fc);
    read_all(fc, N_MSGS + 2, &info);
    mq_client_close(fc);

    /* The leader dies; writes go on through the new one, one entry each,
     * so that the two others take snapshots and compact their logs past
     * where the dead leader stopped. */
    leader = cluster_leader(c);
    assert_true(leader >= 0);
    int installs = cluster_snapshot_installs(c, leader);
    cluster_signal(c, leader, SIGKILL);
    assert_true(cluster_wait_leader(c, 10000) >= 0);
    uint64_t total = N_MSGS + 2;
    for (int i = 0; i < N_AFTER_KILL; i++) {
        publish_seq(cl, ++total, &res);
    }
    /* Served by the others, the follower's reads included. */
    assert_int_equal(cluster_settle(c, 20000), 0);
    read_all(cl, total, &info);

    /* The killed node comes back behind the compacted log: it installs a
     * snapshot, and serves every message from it. */
    assert_int_equal(cluster_restart(c, leader), 0);
    assert_int_equal(cluster_settle(c, 30000), 0);
    printf("node %d installed %d snapshots before the kill, %d after its "
           "restart\n",
           c->nodes[leader].id, installs,
           cluster_snapshot_installs(c, leader) - installs);
    assert_true(cluster_snapshot_installs(c, leader) > installs);
    mq_client *kc = cluster_node_client(c, leader);
    assert_non_null(kc);
    read_all(kc, total, &info);
    assert_int_equal(info.node_id, (uint64_t)c->nodes[leader].id);
    assert_true(info.applied_index >= res.index);
    mq_client_close(kc);

    /* Reading moved no subscription. */
    mq_sub_info si;
    assert_int_equal(mq_sub_info_get(cl, "history", "auditor", &si, 10000),
                     MQ_OK);
    assert_int_equal(si.next_seq, 1);
    assert_int_equal(si.delivered, 0);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_from_followers),
    };
    /* Frequent snapshots with a short trailing log: a node down while a
     * few hundred entries commit is sent a snapshot when it comes back. */
    cluster_group_extra = "--snapshot_threshold 64 --snapshot_trailing 8";
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
