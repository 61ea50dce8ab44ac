/* test_storeq.c: one queue's message store (storeq.c): appends rotate into
 * sealed segments and read back by location, synced or not; a restart
 * finds the same segments and goes on after the last synced seq (what was
 * not synced is gone, and its seqs are appended again); reclaim deletes
 * whole segments below a seq and no more; a damaged trailer of a sealed
 * segment, an open segment before a sealed one and overlapping segments
 * are refused at open, named. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "storeq.h"

#define SEG_MAX 2048

static int setup(void **state)
{
    char *dir = malloc(64);
    snprintf(dir, 64, "/tmp/mqstoreqXXXXXX");
    assert_non_null(mkdtemp(dir));
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char *dir = *state, cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
    return 0;
}

static size_t body_of(char *out, size_t len, uint64_t seq)
{
    return (size_t)snprintf(
        out, len, "body of %llu %.*s", (unsigned long long)seq, (int)(seq % 50),
        "..................................................");
}

static void append_range(struct storeq *q, uint64_t from, uint64_t to,
                         struct storeq_loc *locs)
{
    struct errmsg e = ERRMSG_INIT;
    char b[128];

    for (uint64_t s = from; s <= to; s++) {
        size_t n = body_of(b, sizeof b, s);
        if (storeq_append(q, s, b, (uint32_t)n, &locs[s], &e) != 0) {
            fail_msg("append %llu: %s", (unsigned long long)s, e.msg);
        }
    }
}

static void check_range(struct storeq *q, uint64_t from, uint64_t to,
                        const struct storeq_loc *locs)
{
    struct errmsg e = ERRMSG_INIT;
    char want[128];

    for (uint64_t s = from; s <= to; s++) {
        uint8_t *body;
        uint32_t len;
        size_t n = body_of(want, sizeof want, s);
        if (storeq_read(q, &locs[s], s, &body, &len, &e) != 0) {
            fail_msg("read %llu: %s", (unsigned long long)s, e.msg);
        }
        assert_int_equal(len, n);
        assert_memory_equal(body, want, n);
        free(body);
    }
}

static void test_storeq_rotates_reads_and_restarts(void **state)
{
    const char *dir = *state;
    static struct storeq_loc locs[1000];
    struct storeq *q;
    struct errmsg e = ERRMSG_INIT;

    assert_int_equal(storeq_open(dir, SEG_MAX, &q, &e), 0);
    assert_int_equal(storeq_next_seq(q), 0);
    append_range(q, 1, 400, locs);
    assert_true(storeq_segments(q) > 10); /* rotated */
    check_range(q, 1, 400, locs);         /* the last ones unsynced */
    assert_int_equal(storeq_sync(q, &e), 0);
    append_range(q, 401, 420, locs); /* never synced */
    size_t segs = storeq_segments(q);
    storeq_close(q);

    /* Restart: everything synced is there; 401-420 are gone and come
     * again (the raft log would apply them again). */
    assert_int_equal(storeq_open(dir, SEG_MAX, &q, &e), 0);
    assert_int_equal(storeq_next_seq(q), 401);
    assert_true(storeq_segments(q) <= segs);
    check_range(q, 1, 400, locs);
    append_range(q, 401, 500, locs);
    assert_int_equal(storeq_sync(q, &e), 0);
    check_range(q, 1, 500, locs);
    /* Seqs only go up. */
    assert_int_equal(storeq_append(q, 500, "x", 1, &locs[0], &e), -1);
    assert_non_null(strstr(e.msg, "501 or later"));
    storeq_close(q);
}

static void test_storeq_drop_below_deletes_whole_segments(void **state)
{
    const char *dir = *state;
    static struct storeq_loc locs[1000];
    struct storeq *q;
    struct errmsg e = ERRMSG_INIT;

    assert_int_equal(storeq_open(dir, SEG_MAX, &q, &e), 0);
    append_range(q, 1, 300, locs);
    assert_int_equal(storeq_sync(q, &e), 0);
    size_t before = storeq_segments(q);
    int gone = storeq_drop_below(q, 150, &e);
    assert_true(gone > 0);
    assert_int_equal(storeq_segments(q), before - (size_t)gone);
    /* Everything from 150 on is still there; nothing past it went. */
    check_range(q, 150, 300, locs);
    /* The first segment left holds 150 or an earlier seq. */
    assert_true(locs[150].seg <= 150);
    storeq_close(q);
    assert_int_equal(storeq_open(dir, SEG_MAX, &q, &e), 0);
    check_range(q, 150, 300, locs);
    assert_int_equal(storeq_next_seq(q), 301);
    /* Everything: the open segment stays. */
    assert_true(storeq_drop_below(q, 1000, &e) >= 0);
    assert_true(storeq_segments(q) >= 1);
    storeq_close(q);
}

/* The path of the segment holding seq @first. */
static void seg_file(const char *dir, uint64_t first, char *out, size_t len)
{
    snprintf(out, len, "%s/%020llu.seg", dir, (unsigned long long)first);
}

static void test_storeq_damage_is_refused_at_open(void **state)
{
    const char *dir = *state;
    static struct storeq_loc locs[1000];
    struct storeq *q;
    struct errmsg e = ERRMSG_INIT;
    char path[256];
    struct stat st;
    int fd;

    assert_int_equal(storeq_open(dir, SEG_MAX, &q, &e), 0);
    append_range(q, 1, 200, locs);
    assert_int_equal(storeq_sync(q, &e), 0);
    uint64_t first_seg = locs[1].seg, second_seg = 0;
    for (uint64_t s = 1; s <= 200; s++) {
        if (locs[s].seg != first_seg) {
            second_seg = locs[s].seg;
            break;
        }
    }
    assert_true(second_seg > 0);
    storeq_close(q);

    /* A flipped byte in the first segment's trailer. */
    seg_file(dir, first_seg, path, sizeof path);
    assert_int_equal(stat(path, &st), 0);
    fd = open(path, O_RDWR);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, st.st_size - 10), 1);
    c ^= 4;
    assert_int_equal(pwrite(fd, &c, 1, st.st_size - 10), 1);
    assert_int_equal(storeq_open(dir, SEG_MAX, &q, &e), -1);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "trailer"));
    c ^= 4;
    assert_int_equal(pwrite(fd, &c, 1, st.st_size - 10), 1);

    /* Its trailer cut off: an open segment before a sealed one. */
    char copy[256], cmd[600];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s.keep'", path, path);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(ftruncate(fd, st.st_size - 32), 0);
    close(fd);
    e.msg[0] = '\0';
    assert_int_equal(storeq_open(dir, SEG_MAX, &q, &e), -1);
    assert_non_null(strstr(e.msg, "not sealed"));
    snprintf(cmd, sizeof cmd, "mv '%s.keep' '%s'", path, path);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(storeq_open(dir, SEG_MAX, &q, &e), 0);
    storeq_close(q);

    /* A second segment whose seqs overlap the first's. */
    seg_file(dir, first_seg, path, sizeof path);
    seg_file(dir, first_seg + 1, copy, sizeof copy);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, copy);
    assert_int_equal(system(cmd), 0);
    e.msg[0] = '\0';
    assert_int_equal(storeq_open(dir, SEG_MAX, &q, &e), -1);
    assert_non_null(strstr(e.msg, "overlaps the next"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_storeq_rotates_reads_and_restarts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_storeq_drop_below_deletes_whole_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_storeq_damage_is_refused_at_open,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
