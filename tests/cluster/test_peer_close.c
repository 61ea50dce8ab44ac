/* test_peer_close.c: the node closes peer connections that keep sending
 * without nng 1.5.2 stranding them (node/raft/pipeabort.h).
 *
 * With peer_hello_timeout_ms 200, sixteen raw SP connections to node 1's
 * peer port (its peer_max_pending_conns) send 64 KiB messages that are not
 * peer messages as fast as the node reads them, redialing when closed, for
 * 12 s: the node closes each about every 200 ms while it reads from it,
 * hundreds of times. Closed with nng_pipe_close, one such close sooner or
 * later leaves a receive unfinished in nng's TCP transport, after which
 * nng frees no closed connection: the descriptors would not come back and
 * the stop would hang. Checked: the node closed connections for the
 * timeout, served publishes meanwhile, gives every descriptor back once
 * the flood ends, and stops at once (status 0, no stop cut short). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "rawreq.h"
#include "sppush.h"

#define PUSHERS 16
#define JUNK_BYTES 65536
#define FLOOD_MS 12000
#define FD_SLACK 4

static void publish_one(mq_client *cl)
{
    mq_pub m = {0};
    mq_pub_result res;
    m.event = "e";
    m.payload = "x";
    m.payload_len = 1;
    assert_int_equal(mq_publish(cl, "q", &m, &res, 10000), MQ_OK);
}

static void test_closing_senders_frees_them(void **state)
{
    struct cluster *c = *state;
    static char junk[JUNK_BYTES];
    int sp[PUSHERS];
    CLUSTER_TEST_BEGIN(c);

    assert_true(cluster_wait_leader(c, 10000) >= 0);
    mq_client *cl = cluster_client(c);
    assert_non_null(cl);
    mq_queue_config qc = MQ_QUEUE_CONFIG_INIT;
    qc.name = "q";
    assert_int_equal(mq_queue_create(cl, &qc, NULL, 10000), MQ_OK);
    publish_one(cl);
    int pid = (int)c->nodes[0].pid;
    int base = rawreq_count_fds(pid);
    assert_true(base > 0);

    memset(junk, 0x5a, sizeof junk);
    for (int i = 0; i < PUSHERS; i++) {
        sp[i] = sppush_open(c->nodes[0].peer_port);
    }
    uint64_t end = test_now_ms() + FLOOD_MS, sent = 0, redials = 0;
    int round = 0;
    while (test_now_ms() < end) {
        for (int i = 0; i < PUSHERS; i++) {
            if (sp[i] >= 0 && sppush_closed(sp[i])) {
                close(sp[i]);
                sp[i] = -1;
            }
            if (sp[i] < 0) {
                sp[i] = sppush_open(c->nodes[0].peer_port);
                redials++;
                continue;
            }
            /* A few messages per round: the node is reading when the
             * timeout closes the connection. */
            for (int k = 0; k < 4; k++) {
                int rv = sppush_send(sp[i], junk, sizeof junk);
                if (rv < 0) {
                    close(sp[i]);
                    sp[i] = -1;
                    break;
                }
                sent += rv > 0;
            }
        }
        if (++round % 50 == 0) {
            publish_one(cl); /* served during the flood */
        }
        test_sleep_ms(2);
    }
    for (int i = 0; i < PUSHERS; i++) {
        if (sp[i] >= 0) {
            close(sp[i]);
        }
    }
    uint64_t timed_out = (uint64_t)cluster_log_count(
        c, 0, "no member's hello or message in 200 ms");
    print_message("peer_close: %llu junk messages sent, %llu redials; the "
                  "node logged %llu timeout closes (at most one line per "
                  "10 s)\n",
                  (unsigned long long)sent, (unsigned long long)redials,
                  (unsigned long long)timed_out);
    assert_true(sent > 1000);
    assert_true(redials > 20); /* the node closed them, again and again */
    assert_true(timed_out > 0);

    /* Every connection is given back. */
    uint64_t t0 = test_now_ms();
    int now = rawreq_count_fds(pid);
    while (now > base + FD_SLACK && test_now_ms() - t0 < 10000) {
        test_sleep_ms(100);
        now = rawreq_count_fds(pid);
    }
    print_message("peer_close: node 1 descriptors %d before, %d after (%llu "
                  "ms later)\n",
                  base, now, (unsigned long long)(test_now_ms() - t0));
    if (now > base + FD_SLACK) {
        rawreq_print_fds(pid);
    }
    assert_true(now <= base + FD_SLACK);
    publish_one(cl);
    mq_client_close(cl);

    /* It stops at once, not cut short by stop_timeout_ms. */
    t0 = test_now_ms();
    cluster_signal(c, 0, SIGTERM);
    print_message("peer_close: node 1 stopped in %llu ms, status %d\n",
                  (unsigned long long)(test_now_ms() - t0),
                  c->nodes[0].exit_status);
    assert_int_equal(c->nodes[0].exit_status, 0);
    assert_false(cluster_log_has(c, 0, "the stop did not end within"));
    assert_int_equal(cluster_restart(c, 0), 0);
    CLUSTER_TEST_PASSED(c);
}

int main(void)
{
    cluster_group_extra = "--peer_hello_timeout_ms 200";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closing_senders_frees_them),
    };
    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
