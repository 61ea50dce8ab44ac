/* test_peer_send.c: what our raft_io's send refuses to put on the wire.
 * A real struct peer (raft_uv over a temporary data dir, nng sockets) on a
 * libuv loop of the test's own; no raft instance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "peer.h"

struct fixture {
    uv_loop_t loop;
    struct config cfg;
    struct peer peer;
    char dir[64];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct errmsg e = ERRMSG_INIT;
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/mq-test-peer-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->cfg.id = 1;
    snprintf(f->cfg.data_dir, sizeof f->cfg.data_dir, "%s", f->dir);
    snprintf(f->cfg.cluster_name, sizeof f->cfg.cluster_name, "mq");
    snprintf(f->cfg.client_url, sizeof f->cfg.client_url, "tcp://127.0.0.1:1");
    snprintf(f->cfg.peer_url, sizeof f->cfg.peer_url, "tcp://127.0.0.1:2");
    f->cfg.peer_send_buffer = 4;
    assert_int_equal(peer_init(&f->peer, &f->loop, NULL, &f->cfg, &e), MQ_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    uv_close((uv_handle_t *)&f->peer.idle, NULL);
    uv_close((uv_handle_t *)&f->peer.sweep, NULL);
    peer_free(&f->peer);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static int sent_status = -1;

static void send_cb(struct raft_io_send *req, int status)
{
    (void)req;
    sent_status = status;
}

/* 0.15 answers a write that completes after its follower saw a newer term
 * to "the current leader", which it has cleared to id 0 and no address: the
 * send must drop it (it crashed on strlen(NULL) before) and complete it as
 * not connected. */
static void test_send_to_no_leader_is_dropped(void **state)
{
    struct fixture *f = *state;
    struct raft_io_send req;
    struct raft_message m;
    memset(&m, 0, sizeof m);
    m.type = RAFT_IO_APPEND_ENTRIES_RESULT;
    m.server_id = 0;
    m.server_address = NULL;
    m.append_entries_result.term = 3;
    m.append_entries_result.last_log_index = 7;
    sent_status = -1;
    assert_int_equal(f->peer.io.send(&f->peer.io, &req, &m, send_cb), 0);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(sent_status, RAFT_NOCONNECTION);
    assert_int_equal(f->peer.write.results_dropped, 1);
    assert_int_equal(f->peer.msgs_out, 0);

    /* An id without an address, and an empty address, likewise. */
    m.server_id = 2;
    sent_status = -1;
    assert_int_equal(f->peer.io.send(&f->peer.io, &req, &m, send_cb), 0);
    m.server_address = "";
    assert_int_equal(f->peer.io.send(&f->peer.io, &req, &m, send_cb), 0);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(sent_status, RAFT_NOCONNECTION);
    assert_int_equal(f->peer.write.results_dropped, 3);
    assert_int_equal(f->peer.msgs_out, 0);
}

/* While raft's callback of a write of an earlier term runs, the result it
 * sends is dropped; other messages, and results otherwise, go out. */
static void test_result_of_an_old_write_is_dropped(void **state)
{
    struct fixture *f = *state;
    struct raft_io_send req;
    struct raft_message m;
    memset(&m, 0, sizeof m);
    m.type = RAFT_IO_APPEND_ENTRIES_RESULT;
    m.server_id = 2;
    m.server_address = "tcp://127.0.0.1:3";
    f->peer.write.stale = 1;
    assert_int_equal(f->peer.io.send(&f->peer.io, &req, &m, send_cb), 0);
    f->peer.write.stale = 0;
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(sent_status, RAFT_NOCONNECTION);
    assert_int_equal(f->peer.write.results_dropped, 1);

    sent_status = -1;
    assert_int_equal(f->peer.io.send(&f->peer.io, &req, &m, send_cb), 0);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(sent_status, 0); /* queued on the PUSH socket */
    assert_int_equal(f->peer.msgs_out, 1);
    assert_int_equal(f->peer.write.results_dropped, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_send_to_no_leader_is_dropped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_result_of_an_old_write_is_dropped,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
