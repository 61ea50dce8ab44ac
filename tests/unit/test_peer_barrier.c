/* test_peer_barrier.c: guard 14, truncates and snapshot writes one at a
 * time (peer_write.c). raft_uv 0.15 never runs a barrier asked for while
 * another is under way: a truncate asked for while a snapshot is written
 * never reached the disk, and the entries it removed came back at the
 * next start. A real struct peer (raft_uv over a temporary data dir) on a
 * libuv loop of the test's own; the log is read back by a fresh raft_uv. */
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

#define ENTRY_BYTES 4096
#define N_OLD 12 /* entries 1..12, three segments' worth */

struct fixture {
    uv_loop_t loop;
    struct config cfg;
    struct peer peer;
    char dir[64];
    int appended, put, closed;
    int put_status, canceled;
};

static struct fixture *fx;
static uint8_t bufs[N_OLD + 2][ENTRY_BYTES];

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct errmsg e = ERRMSG_INIT;
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/mq-test-barrier-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->cfg.id = 1;
    snprintf(f->cfg.data_dir, sizeof f->cfg.data_dir, "%s", f->dir);
    snprintf(f->cfg.cluster_name, sizeof f->cfg.cluster_name, "mq");
    snprintf(f->cfg.client_url, sizeof f->cfg.client_url, "tcp://127.0.0.1:1");
    snprintf(f->cfg.peer_url, sizeof f->cfg.peer_url, "tcp://127.0.0.1:2");
    f->cfg.peer_send_buffer = 4;
    assert_int_equal(peer_init(&f->peer, &f->loop, NULL, &f->cfg, &e), MQ_OK);
    /* Small segments, as upstream's test of the defect. */
    raft_uv_set_block_size(&f->peer.uv, 4096);
    raft_uv_set_segment_size(&f->peer.uv, 4096 * 4);
    assert_int_equal(f->peer.io.init(&f->peer.io, 1, "1"), 0);
    fx = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    assert_int_equal(uv_loop_close(&f->loop), 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void append_cb(struct raft_io_append *req, int status)
{
    (void)req;
    if (status == RAFT_CANCELED) {
        fx->canceled++;
    } else {
        assert_int_equal(status, 0);
    }
    fx->appended++;
}

static void put_cb(struct raft_io_snapshot_put *req, int status)
{
    (void)req;
    fx->put_status = status;
    fx->put++;
}

static void closed_cb(struct raft_io *io)
{
    (void)io;
    fx->closed = 1;
}

/* Entry @index of term 1 holding @value. */
static struct raft_entry entry(unsigned index, uint64_t value)
{
    struct raft_entry e = {0};
    memset(bufs[index], 0, ENTRY_BYTES);
    memcpy(bufs[index], &value, sizeof value);
    e.term = 1;
    e.type = RAFT_COMMAND;
    e.buf.base = bufs[index];
    e.buf.len = ENTRY_BYTES;
    return e;
}

/* Runs the loop until *@flag reaches @want (bounded). */
static void run_until(struct fixture *f, const int *flag, int want)
{
    for (int i = 0; i < 100000 && *flag < want; i++) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_int_equal(*flag, want);
}

/* The entries a fresh raft_uv loads from @dir: their values, index
 * first_index on, in @values; returns how many. */
static size_t load_values(const char *dir, raft_index *first_index,
                          uint64_t *values, size_t max)
{
    uv_loop_t loop;
    struct raft_uv_transport transport = {0};
    struct raft_io io = {0};
    raft_term term;
    raft_id vote;
    struct raft_snapshot *snap = NULL;
    struct raft_entry *entries = NULL;
    size_t n = 0;
    void *batch = NULL;

    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(raft_uv_tcp_init(&transport, &loop), 0);
    assert_int_equal(raft_uv_init(&io, &loop, dir, &transport), 0);
    assert_int_equal(io.init(&io, 1, "1"), 0);
    assert_int_equal(
        io.load(&io, &term, &vote, &snap, first_index, &entries, &n), 0);
    io.close(&io, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    raft_uv_close(&io);
    raft_uv_tcp_close(&transport);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++) {
        memcpy(&values[i], entries[i].buf.base, sizeof values[i]);
    }
    for (size_t i = 0; i < n; i++) {
        if (entries[i].batch != batch) {
            batch = entries[i].batch;
            raft_free(batch);
        }
    }
    raft_free(entries);
    if (snap != NULL) {
        raft_configuration_close(&snap->configuration);
        for (unsigned i = 0; i < snap->n_bufs; i++) {
            raft_free(snap->bufs[i].base);
        }
        raft_free(snap->bufs);
        raft_free(snap);
    }
    return n;
}

static struct raft_io_append reqs[4];
static struct raft_entry old[N_OLD], fresh;
static struct raft_io_snapshot_put put_req;
static struct raft_snapshot snap;
static struct raft_buffer snap_buf;
static uint64_t snap_data = 42;

/* Loads the empty log, writes entries 1..12 (values 1001..1012) and sets
 * up a snapshot at 6. */
static void write_old(struct fixture *f)
{
    raft_term term;
    raft_id vote;
    struct raft_snapshot *none = NULL;
    raft_index start;
    struct raft_entry *loaded = NULL;
    size_t n;

    assert_int_equal(
        f->peer.uv.load(&f->peer.uv, &term, &vote, &none, &start, &loaded, &n),
        0);
    assert_int_equal(n, 0);
    for (unsigned i = 0; i < N_OLD; i++) {
        old[i] = entry(i + 1, 1000 + i + 1);
    }
    for (unsigned k = 0; k < 3; k++) {
        assert_int_equal(
            f->peer.io.append(&f->peer.io, &reqs[k], &old[4 * k], 4, append_cb),
            0);
    }
    run_until(f, &f->appended, 3);
    memset(&snap, 0, sizeof snap);
    snap.term = 1;
    snap.index = 6;
    raft_configuration_init(&snap.configuration);
    assert_int_equal(
        raft_configuration_add(&snap.configuration, 1, "1", RAFT_VOTER), 0);
    snap_buf.base = &snap_data;
    snap_buf.len = sizeof snap_data;
    snap.bufs = &snap_buf;
    snap.n_bufs = 1;
}

/* Closes the raft_io and checks what the next start loads: 1..7 as
 * written, then the new 8. */
static void close_and_check(struct fixture *f)
{
    uint64_t values[N_OLD + 2];
    raft_index start;
    size_t n;

    f->peer.io.close(&f->peer.io, closed_cb);
    run_until(f, &f->closed, 1);
    peer_free(&f->peer);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    raft_configuration_close(&snap.configuration);
    n = load_values(f->dir, &start, values, N_OLD + 2);
    for (size_t i = 0; getenv("MQ_TEST_VERBOSE") && i < n; i++) {
        printf("entry %llu: %llu\n", (unsigned long long)(start + i),
               (unsigned long long)values[i]);
    }
    assert_int_equal(start + n - 1, 8);
    for (raft_index i = start; i <= 7; i++) {
        assert_int_equal(values[i - start], 1000 + i);
    }
    assert_int_equal(values[8 - start], 8);
}

/* A follower truncates conflicting entries while it writes a snapshot of
 * its own, then appends the leader's entry in their place: after a
 * restart the log holds that entry, not the removed ones. */
static void test_truncate_during_snapshot_reaches_disk(void **state)
{
    struct fixture *f = *state;

    write_old(f);
    assert_int_equal(
        f->peer.io.snapshot_put(&f->peer.io, 8192, &put_req, &snap, put_cb), 0);
    /* Its checksum done, raft_uv writes it ... */
    for (int i = 0; i < 100000 && f->peer.snap.busy > 0; i++) {
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_int_equal(f->peer.snap.busy, 0);
    assert_int_equal(f->put, 0);
    /* ... and meanwhile a new leader's entry 8 conflicts. */
    assert_int_equal(f->peer.io.truncate(&f->peer.io, 8), 0);
    fresh = entry(N_OLD + 1, 8);
    assert_int_equal(
        f->peer.io.append(&f->peer.io, &reqs[3], &fresh, 1, append_cb), 0);
    run_until(f, &f->put, 1);
    run_until(f, &f->appended, 4);
    assert_int_equal(f->put_status, 0);
    uint64_t waits = f->peer.write.barrier_waits;
    close_and_check(f);
    assert_true(waits >= 2); /* the truncate and the append after it */
}

/* The other order: a snapshot write asked for while a truncate is under
 * way waits for it, and both end. */
static void test_snapshot_during_truncate_ends(void **state)
{
    struct fixture *f = *state;

    write_old(f);
    assert_int_equal(f->peer.io.truncate(&f->peer.io, 8), 0);
    fresh = entry(N_OLD + 1, 8);
    assert_int_equal(
        f->peer.io.append(&f->peer.io, &reqs[3], &fresh, 1, append_cb), 0);
    assert_int_equal(
        f->peer.io.snapshot_put(&f->peer.io, 8192, &put_req, &snap, put_cb), 0);
    run_until(f, &f->appended, 4);
    run_until(f, &f->put, 1);
    assert_int_equal(f->put_status, 0);
    assert_int_equal(f->canceled, 0);
    assert_int_equal(f->peer.write.barrier_waits, 1); /* the put waited */
    close_and_check(f);
}

/* What waits when the node stops ends as canceled, nothing leaks, and
 * the log is as it was before the truncate (which never started). */
static void test_close_cancels_what_waits(void **state)
{
    struct fixture *f = *state;
    uint64_t values[N_OLD + 2];
    raft_index start;
    size_t n;

    write_old(f);
    assert_int_equal(
        f->peer.io.snapshot_put(&f->peer.io, 8192, &put_req, &snap, put_cb), 0);
    assert_int_equal(f->peer.io.truncate(&f->peer.io, 8), 0);
    fresh = entry(N_OLD + 1, 8);
    assert_int_equal(
        f->peer.io.append(&f->peer.io, &reqs[3], &fresh, 1, append_cb), 0);
    f->peer.io.close(&f->peer.io, closed_cb);
    run_until(f, &f->closed, 1);
    assert_int_equal(f->put, 1);
    assert_int_equal(f->appended, 4);
    assert_int_equal(f->canceled, 1);
    peer_free(&f->peer);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    raft_configuration_close(&snap.configuration);
    n = load_values(f->dir, &start, values, N_OLD + 2);
    assert_int_equal(start + n - 1, N_OLD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_truncate_during_snapshot_reaches_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_during_truncate_ends,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_cancels_what_waits, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
