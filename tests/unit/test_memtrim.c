/* test_memtrim.c: when a node gives memory back (memtrim_due): after its
 * state fell 64 MiB, or by half of a peak of at least 4 MiB; after its
 * 1024 client connections closed, once the open ones held still over a
 * sample; after a snapshot's buffers were freed; never twice within
 * MEMTRIM_GAP_MS;
 * not for small or growing figures; each trim starts the peaks over. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "memtrim.h"

#define MiB (1024ull * 1024ull)

static int due(struct memtrim *m, uint64_t mem, uint64_t conns, uint64_t closed,
               uint64_t now_ms)
{
    struct memtrim_sample s = {mem, conns, closed, m->snaps_mark};
    return memtrim_due(m, &s, now_ms);
}

static void test_state_drop_trims_once_per_gap(void **state)
{
    (void)state;
    struct memtrim m;
    memset(&m, 0, sizeof m);
    uint64_t t = 1000;
    assert_int_equal(due(&m, 100 * MiB, 0, 0, t), 0); /* growing */
    assert_int_equal(due(&m, 90 * MiB, 0, 0, t += 1000), 0);
    assert_int_equal(due(&m, 36 * MiB, 0, 0, t += 1000), 1); /* -64 */
    assert_int_equal(m.trims, 1);
    /* The peak starts over at 36 MiB; within the gap nothing more. */
    assert_int_equal(due(&m, 1 * MiB, 0, 0, t += 1000), 0);
    assert_int_equal(due(&m, 1 * MiB, 0, 0, t += MEMTRIM_GAP_MS), 1);
    /* A small state that halves: 6 MiB to 2 MiB (4 MiB, half of it). */
    assert_int_equal(due(&m, 6 * MiB, 0, 0, t += MEMTRIM_GAP_MS), 0);
    assert_int_equal(due(&m, 2 * MiB, 0, 0, t += 1000), 1);
    /* Under 4 MiB, even halved, is not worth it. */
    t += MEMTRIM_GAP_MS;
    assert_int_equal(due(&m, 3 * MiB, 0, 0, t), 0);
    assert_int_equal(due(&m, 1 * MiB, 0, 0, t += 1000), 0);
    /* A big state falling by less than 64 MiB and less than half. */
    assert_int_equal(due(&m, 1000 * MiB, 0, 0, t += 1000), 0);
    assert_int_equal(due(&m, 940 * MiB, 0, 0, t += 1000), 0);
    assert_int_equal(m.trims, 3);
}

static void test_closed_connections_trim_once_settled(void **state)
{
    (void)state;
    struct memtrim m;
    memset(&m, 0, sizeof m);
    uint64_t t = 1000;
    assert_int_equal(due(&m, MiB, 20000, 0, t), 0);
    /* Closing: still moving, so not yet. */
    assert_int_equal(due(&m, MiB, 5000, 15000, t += 1000), 0);
    assert_int_equal(due(&m, MiB, 10, 19990, t += 1000), 0);
    /* Held still over one sample: now. */
    assert_int_equal(due(&m, MiB, 10, 19990, t += 1000), 1);
    assert_int_equal(m.closed_mark, 19990);
    /* Fewer than 1024 closed since: no trim, held still or not. */
    t += MEMTRIM_GAP_MS;
    assert_int_equal(due(&m, MiB, 10, 19990 + 1023, t), 0);
    assert_int_equal(due(&m, MiB, 10, 19990 + 1023, t += 1000), 0);
    /* One by one, sequentially (the count of open ones stays low). */
    assert_int_equal(due(&m, MiB, 10, 19990 + 1024, t += 1000), 1);
    /* Within the gap, not again. */
    assert_int_equal(due(&m, MiB, 10, 30000, t += 1000), 0);
    assert_int_equal(due(&m, MiB, 10, 30000, t += MEMTRIM_GAP_MS), 1);
    assert_int_equal(m.trims, 3);
}

static void test_a_freed_snapshot_trims(void **state)
{
    (void)state;
    struct memtrim m;
    memset(&m, 0, sizeof m);
    m.snaps_mark = 3;
    struct memtrim_sample s = {100 * MiB, 5, 0, 3};
    assert_int_equal(memtrim_due(&m, &s, 1000), 0);
    s.snaps = 4; /* a snapshot written: its buffers were freed */
    assert_int_equal(memtrim_due(&m, &s, 2000), 1);
    assert_int_equal(memtrim_due(&m, &s, 3000), 0);
    s.snaps = 6;
    assert_int_equal(memtrim_due(&m, &s, 4000), 0); /* within the gap */
    assert_int_equal(memtrim_due(&m, &s, 2000 + MEMTRIM_GAP_MS), 1);
    assert_int_equal(m.trims, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_drop_trims_once_per_gap),
        cmocka_unit_test(test_closed_connections_trim_once_settled),
        cmocka_unit_test(test_a_freed_snapshot_trims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
