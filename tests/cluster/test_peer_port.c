/* test_peer_port.c: a flood of connections and junk on a node's peer port
 * (no TLS) leaves its memory bounded and the cluster serving.
 *
 * Node 1's peer port gets 300 raw TCP connections that send junk and stay
 * open, and 64 connections that speak the SP protocol (the header of a
 * PUSH socket, so each becomes a pipe that counts against
 * peer_max_pending_conns) and send 64 KiB messages that are not peer
 * messages, redialing when closed, for 20 s. (Raw sockets, not nng PUSH
 * sockets: nng 1.5.2's PUSH may use a pipe after free when the other side
 * closes it as it starts, nng issue 1653, which the node does to them.)
 * Meanwhile and after, publishes and fetches through libmq succeed; node
 * 1's resident memory stays within what its bounds allow and stops
 * growing; its log says that it dropped the junk; the three nodes still
 * agree on a leader, and every node stops cleanly at the end (a socket
 * that nng could not close would make it hang). */
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
#include "sppush.h"

#define RAW_CONNS 300
#define PUSHERS 64
#define JUNK_BYTES 65536

/* VmRSS of @pid in KiB, or 0. */
static unsigned long rss_kib(pid_t pid)
{
    char path[64], line[256];
    unsigned long kib = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmRSS: %lu kB", &kib) == 1) {
            break;
        }
    }
    fclose(f);
    return kib;
}

static void publish_fetch(mq_client *cl, int n)
{
    mq_pub m = {0};
    mq_pub_result res;
    m.event = "e";
    m.payload = "x";
    m.payload_len = 1;
    for (int i = 0; i < n; i++) {
        assert_int_equal(mq_publish(cl, "flood", &m, &res, 10000), MQ_OK);
    }
    int got = 0;
    while (got < n) {
        mq_msg **msgs = NULL;
        size_t k = 0;
        assert_int_equal(mq_fetch(cl, "flood", "s", 100, 1000, &msgs, &k),
                         MQ_OK);
        for (size_t i = 0; i < k; i++) {
            assert_int_equal(mq_ack(cl, msgs[i], 10000), MQ_OK);
        }
        mq_msgs_free(msgs, k);
        got += (int)k;
        assert_true(k > 0);
    }
}

static void test_flood_on_peer_port_leaves_memory_bounded(void **state)
{
    struct cluster *c = *state;
    int fds[RAW_CONNS];
    int sp[PUSHERS];
    static char junk[JUNK_BYTES];
    CLUSTER_TEST_BEGIN(c);

    mq_client *cl = cluster_client(c);
    assert_non_null(cl);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    qc.name = "flood";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    mq_sub_config sc = MQ_SUB_CONFIG_INIT;
    sc.queue = "flood";
    sc.name = "s";
    assert_int_equal(mq_sub_create(cl, &sc, NULL, 10000), MQ_OK);
    publish_fetch(cl, 50);
    unsigned long before = rss_kib(c->nodes[0].pid);
    assert_true(before > 0);

    memset(junk, 0x5a, sizeof junk);
    for (int i = 0; i < RAW_CONNS; i++) {
        fds[i] = sppush_tcp(c->nodes[0].peer_port);
        if (fds[i] >= 0) {
            (void)send(fds[i], junk, 1024, MSG_NOSIGNAL);
        }
    }
    for (int i = 0; i < PUSHERS; i++) {
        sp[i] = sppush_open(c->nodes[0].peer_port);
    }
    uint64_t half = test_now_ms() + 10000, end = half + 10000;
    unsigned long at_half = 0;
    uint64_t sent = 0, redials = 0;
    int round = 0;
    while (test_now_ms() < end) {
        for (int i = 0; i < PUSHERS; i++) {
            if (sp[i] >= 0 && sppush_closed(sp[i])) {
                close(sp[i]); /* closed by the node */
                sp[i] = -1;
            }
            if (sp[i] < 0) {
                sp[i] = sppush_open(c->nodes[0].peer_port);
                redials++;
                continue;
            }
            int rv = sppush_send(sp[i], junk, sizeof junk);
            if (rv > 0) {
                sent++;
            } else if (rv < 0) {
                close(sp[i]);
                sp[i] = -1;
            }
        }
        if (++round % 20 == 0) {
            publish_fetch(cl, 5); /* served during the flood */
        }
        if (at_half == 0 && test_now_ms() >= half) {
            at_half = rss_kib(c->nodes[0].pid);
        }
        test_sleep_ms(5);
    }
    unsigned long during = rss_kib(c->nodes[0].pid);
    publish_fetch(cl, 50);
    for (int i = 0; i < PUSHERS; i++) {
        if (sp[i] >= 0) {
            close(sp[i]);
        }
    }
    for (int i = 0; i < RAW_CONNS; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    publish_fetch(cl, 50);
    mq_client_close(cl);
    print_message("node 1 VmRSS: %lu KiB before, %lu KiB after 10 s of "
                  "flood, %lu KiB after 20 s (%llu junk messages sent, %llu "
                  "redials)\n",
                  before, at_half, during, (unsigned long long)sent,
                  (unsigned long long)redials);
    assert_true(sent > 100);
    /* The bounds: nng's receive queue (1024 messages of 64 KiB) and the
     * peer inbox (peer_inbox_max_bytes 16 MiB here), with room for the
     * allocator; and no growth from the first 10 s to the next. */
#if defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer keeps freed memory in quarantine (256 MiB): the
     * figures mean nothing there; the release build checks them. */
    (void)at_half;
#else
    assert_true(during < before + (64 + 16 + 48) * 1024);
    assert_true(during < at_half + 24 * 1024);
#endif
    assert_true(cluster_log_has(c, 0, "dropped a message on the peer port"));
    assert_true(cluster_wait_leader(c, 10000) >= 0);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    cluster_group_extra = "--peer_inbox_max_bytes 16777216";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flood_on_peer_port_leaves_memory_bounded),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
