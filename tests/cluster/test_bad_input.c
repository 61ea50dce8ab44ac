/* test_bad_input.c: bad input gets a clear error and changes nothing, and
 * the node keeps serving: an empty payload, an unknown queue, an invalid
 * name, a message over the size limit (through libmq, through mqctl, and
 * as raw requests that skip libmq's own checks), and random bytes sent to
 * the client port and to the peer port. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/req.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "mq.pb-c.h"

static struct cluster *cluster_of_group;

/* Followers answer reads from their applied state: let them catch up. */
static void queue_counts(mq_client *cl, uint64_t *messages, uint64_t *last)
{
    mq_queue_info qi;
    assert_int_equal(cluster_settle(cluster_of_group, 10000), 0);
    assert_int_equal(mq_queue_info_get(cl, "inbox", &qi, 10000), MQ_OK);
    *messages = qi.messages;
    *last = qi.last_seq;
}

/* Sends @len bytes as one request on an nng REQ socket to @url; returns
 * the decoded reply (caller frees) or NULL if none came. */
static Mq__V1__Reply *raw_request(const char *url, const void *buf, size_t len)
{
    nng_socket s;
    nng_msg *msg;
    Mq__V1__Reply *reply = NULL;
    assert_int_equal(nng_req0_open(&s), 0);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
    nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000);
    assert_int_equal(nng_dial(s, url, NULL, 0), 0);
    assert_int_equal(nng_msg_alloc(&msg, len), 0);
    memcpy(nng_msg_body(msg), buf, len);
    assert_int_equal(nng_sendmsg(s, msg, 0), 0);
    if (nng_recvmsg(s, &msg, 0) == 0) {
        reply =
            mq__v1__reply__unpack(NULL, nng_msg_len(msg), nng_msg_body(msg));
        nng_msg_free(msg);
    }
    nng_close(s);
    return reply;
}

static Mq__V1__Reply *raw_publish(const char *url, const char *queue,
                                  const char *id, const void *payload,
                                  size_t len)
{
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    Mq__V1__PublishRequest pub = MQ__V1__PUBLISH_REQUEST__INIT;
    Mq__V1__PubMessage m = MQ__V1__PUB_MESSAGE__INIT;
    Mq__V1__PubMessage *mp = &m;
    m.id = (char *)id;
    m.event = "test.raw";
    m.payload.data = (uint8_t *)payload;
    m.payload.len = len;
    pub.queue = (char *)queue;
    pub.messages = &mp;
    pub.n_messages = 1;
    req.body_case = MQ__V1__REQUEST__BODY_PUBLISH;
    req.publish = &pub;
    size_t n = mq__v1__request__get_packed_size(&req);
    uint8_t *buf = malloc(n);
    mq__v1__request__pack(&req, buf);
    Mq__V1__Reply *r = raw_request(url, buf, n);
    free(buf);
    return r;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

static const char *leader_url(struct cluster *c)
{
    int l = cluster_leader(c);
    assert_true(l >= 0);
    return c->nodes[l].client_url;
}

static void test_bad_publishes_get_clear_errors_and_change_nothing(void **state)
{
    struct cluster *c = *state;
    cluster_of_group = c;
    mq_client *cl = cluster_client(c);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    uint64_t msgs0, last0, msgs1, last1;
    mq_pub m = {0};
    char out[4096];
    static char big[2000];

    CLUSTER_TEST_BEGIN(c);
    qc.name = "inbox";
    qc.max_message_bytes = 1024;
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    m.id = "ok-1";
    m.payload = "fine";
    m.payload_len = 4;
    assert_int_equal(mq_publish(cl, "inbox", &m, NULL, 10000), MQ_OK);
    queue_counts(cl, &msgs0, &last0);

    /* Empty payload. */
    m.id = "empty-1";
    m.payload = "";
    m.payload_len = 0;
    assert_int_equal(mq_publish(cl, "inbox", &m, NULL, 10000), MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "payload is empty"));

    /* Unknown queue. */
    m.payload = "x";
    m.payload_len = 1;
    assert_int_equal(mq_publish(cl, "nosuchqueue", &m, NULL, 10000),
                     MQ_ERR_NOT_FOUND);
    assert_non_null(strstr(mq_errmsg(), "nosuchqueue"));

    /* Invalid names. */
    qc.name = "bad name!";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_ERR_INVALID);
    assert_non_null(strstr(mq_errmsg(), "queue name"));
    assert_int_equal(mq_publish(cl, "bad name", &m, NULL, 10000),
                     MQ_ERR_INVALID);
    assert_int_equal(mq_publish(cl, "a/b/c", &m, NULL, 10000), MQ_ERR_INVALID);

    /* Over the queue's size limit: the error names the limit. */
    memset(big, 'b', sizeof big);
    m.id = "big-1";
    m.payload = big;
    m.payload_len = sizeof big;
    assert_int_equal(mq_publish(cl, "inbox", &m, NULL, 10000),
                     MQ_ERR_TOO_LARGE);
    assert_non_null(strstr(mq_errmsg(), "1024"));

    /* The same through mqctl: one line, exit code 1. */
    assert_int_equal(
        cluster_mqctl(c, out, sizeof out, "publish nosuchqueue ev.x hello"), 1);
    assert_non_null(strstr(out, "nosuchqueue"));
    assert_int_equal(count_lines(out), 1);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "queue create bad!"), 1);
    assert_int_equal(cluster_mqctl(c, out, sizeof out, "publish"), 2);

    /* Raw requests skip libmq's checks: the node refuses them itself. */
    const char *url = leader_url(c);
    Mq__V1__Reply *r = raw_publish(url, "inbox", "raw-1", "", 0);
    assert_non_null(r);
    assert_int_equal(r->body_case, MQ__V1__REPLY__BODY_PUBLISH);
    assert_int_equal((int)r->publish->results[0]->status, MQ_ERR_INVALID);
    assert_non_null(strstr(r->publish->results[0]->detail, "payload is empty"));
    mq__v1__reply__free_unpacked(r, NULL);
    r = raw_publish(url, "inbox", "raw-2", big, sizeof big);
    assert_non_null(r);
    assert_int_equal((int)r->publish->results[0]->status, MQ_ERR_TOO_LARGE);
    mq__v1__reply__free_unpacked(r, NULL);
    r = raw_publish(url, "inbox", "bad id with spaces", "x", 1);
    assert_non_null(r);
    assert_int_equal((int)r->publish->results[0]->status, MQ_ERR_INVALID);
    assert_non_null(strstr(r->publish->results[0]->detail, "id"));
    mq__v1__reply__free_unpacked(r, NULL);
    r = raw_publish(url, "no such", "raw-3", "x", 1);
    assert_non_null(r);
    assert_int_equal((int)r->status, MQ_ERR_INVALID);
    mq__v1__reply__free_unpacked(r, NULL);

    queue_counts(cl, &msgs1, &last1);
    assert_int_equal(msgs1, msgs0);
    assert_int_equal(last1, last0);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

static void send_tcp_garbage(int port, const void *buf, size_t len)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        ssize_t w = write(fd, buf, len);
        (void)w;
    }
    close(fd);
}

static void test_random_bytes_on_both_ports_are_dropped(void **state)
{
    struct cluster *c = *state;
    cluster_of_group = c;
    mq_client *cl = cluster_client(c);
    uint64_t msgs0, last0, msgs1, last1;
    uint8_t buf[4096];
    unsigned seed = 12345;

    CLUSTER_TEST_BEGIN(c);
    queue_counts(cl, &msgs0, &last0);
    for (int round = 0; round < 50; round++) {
        size_t len = 1 + (size_t)(rand_r(&seed) % (int)sizeof buf);
        for (size_t i = 0; i < len; i++) {
            buf[i] = (uint8_t)rand_r(&seed);
        }
        for (int i = 0; i < c->n; i++) {
            /* Random bytes as a client request: a PROTOCOL error back. */
            if (round < 10) {
                Mq__V1__Reply *r =
                    raw_request(c->nodes[i].client_url, buf, len);
                if (r != NULL) {
                    /* Bytes that happen to parse as a read are fine. */
                    int st = (int)r->status;
                    assert_true(st == MQ_OK || st == MQ_ERR_PROTOCOL ||
                                st == MQ_ERR_INVALID ||
                                st == MQ_ERR_NOT_LEADER ||
                                st == MQ_ERR_NOT_FOUND);
                    mq__v1__reply__free_unpacked(r, NULL);
                }
            }
            /* Random bytes below the SP protocol, on both ports. */
            send_tcp_garbage(c->nodes[i].client_port, buf, len);
            send_tcp_garbage(c->nodes[i].peer_port, buf, len);
        }
        /* Random bytes as a peer message. */
        nng_socket push;
        assert_int_equal(nng_push0_open(&push), 0);
        nng_socket_set_int(push, NNG_OPT_SENDBUF, 16);
        if (nng_dial(push, c->nodes[round % c->n].peer_url, NULL, 0) == 0) {
            nng_send(push, buf, len, 0);
            test_sleep_ms(5);
        }
        nng_close(push);
    }
    /* Every node still runs and serves: none has exited (kill(pid, 0)
     * would also succeed on a node that crashed and is not yet reaped). */
    for (int i = 0; i < c->n; i++) {
        int st = cluster_wait_exit(c, i, 0);
        if (st >= 0) {
            printf("node %d exited with status %d\n", c->nodes[i].id, st);
        }
        assert_int_equal(st, -1);
    }
    mq_pub m = {0};
    m.id = "after-garbage";
    m.payload = "still here";
    m.payload_len = 10;
    assert_int_equal(mq_publish(cl, "inbox", &m, NULL, 10000), MQ_OK);
    queue_counts(cl, &msgs1, &last1);
    printf("inbox: %llu messages (last seq %llu) before, %llu (%llu) after\n",
           (unsigned long long)msgs0, (unsigned long long)last0,
           (unsigned long long)msgs1, (unsigned long long)last1);
    assert_int_equal(msgs1, msgs0 + 1);
    assert_int_equal(last1, last0 + 1);
    mq_client_close(cl);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_bad_publishes_get_clear_errors_and_change_nothing),
        cmocka_unit_test(test_random_bytes_on_both_ports_are_dropped),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
