/* test_termvote.c: mqd's checksummed copy of the term and vote, and
 * raft_uv's metadata files read without raft_uv (termvote.c). File tests
 * use a directory of their own under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "termvote.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/mq-termvote-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char path[128];
    const char *names[] = {"mq-termvote",     "metadata1",     "metadata2",
                           "mq-termvote.tmp", "metadata1.tmp", "metadata2.tmp"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    return rmdir(dir);
}

static void write_file(const char *name, const void *data, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* raft_uv's file @n: format, version, term, vote. */
static void write_uv(int n, uint64_t format, uint64_t version, uint64_t term,
                     uint64_t vote)
{
    uint8_t buf[32];
    char name[16];
    put64(buf, format);
    put64(buf + 8, version);
    put64(buf + 16, term);
    put64(buf + 24, vote);
    snprintf(name, sizeof name, "metadata%d", n);
    write_file(name, buf, sizeof buf);
}

static void test_termvote_round_trip_and_every_flip_refused(void **state)
{
    (void)state;
    struct termvote tv = {268435458, 3}, got;
    uint8_t buf[TERMVOTE_SIZE];
    termvote_encode(&tv, buf);
    assert_memory_equal(buf, "MQTERMV1", 8);
    assert_int_equal(termvote_decode(buf, sizeof buf, &got), 0);
    assert_int_equal(got.term, tv.term);
    assert_int_equal(got.vote, tv.vote);
    for (size_t bit = 0; bit < 8 * sizeof buf; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        got.term = got.vote = 7;
        assert_int_equal(termvote_decode(buf, sizeof buf, &got), -1);
        assert_int_equal(got.term, 7); /* unchanged on error */
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(termvote_decode(buf, sizeof buf - 1, &got), -1);
}

static void test_termvote_compare(void **state)
{
    (void)state;
    struct termvote a = {5, 2}, b = {5, 2};
    assert_int_equal(termvote_compare(&a, &b), TERMVOTE_SAME);
    /* One set_vote ahead: raft_uv has the term without the vote. */
    b.vote = 0;
    assert_int_equal(termvote_compare(&a, &b), TERMVOTE_AHEAD);
    /* One set_term ahead (set_term clears the vote). */
    a = (struct termvote){6, 0};
    b = (struct termvote){5, 2};
    assert_int_equal(termvote_compare(&a, &b), TERMVOTE_AHEAD);
    a = (struct termvote){268435458, 0};
    assert_int_equal(termvote_compare(&a, &b), TERMVOTE_AHEAD);
    /* raft_uv ahead of the copy, written first: damage. */
    a = (struct termvote){5, 2};
    b = (struct termvote){268435461, 2};
    assert_int_equal(termvote_compare(&a, &b), TERMVOTE_DIFFER);
    b = (struct termvote){5, 3}; /* another vote in the same term */
    assert_int_equal(termvote_compare(&a, &b), TERMVOTE_DIFFER);
    b = (struct termvote){4, 0}; /* a term and a vote: two writes */
    assert_int_equal(termvote_compare(&a, &b), TERMVOTE_DIFFER);
    a = (struct termvote){5, 0};
    b = (struct termvote){5, 2}; /* the vote lost */
    assert_int_equal(termvote_compare(&a, &b), TERMVOTE_DIFFER);
}

static void test_termvote_files(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    struct termvote tv = {9, 0}, got;
    assert_int_equal(termvote_read(dir, &got, &e), MQ_ERR_NOT_FOUND);
    assert_int_equal(termvote_write(dir, &tv, &e), MQ_OK);
    assert_int_equal(termvote_write_vote(dir, 2, &e), MQ_OK);
    assert_int_equal(termvote_read(dir, &got, &e), MQ_OK);
    assert_int_equal(got.term, 9);
    assert_int_equal(got.vote, 2);
    write_file("mq-termvote", "MQTERMV1 but shorter", 20);
    assert_int_equal(termvote_read(dir, &got, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "mq-termvote is damaged"));
}

static void test_termvote_uv_files_as_raft_uv_reads_them(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    struct termvote_uv m;
    char path[128];

    assert_int_equal(termvote_read_uv(dir, &m, &e), MQ_OK);
    assert_int_equal(m.current, 0);
    assert_false(m.bad);
    write_uv(1, 1, 3, 2, 1);
    write_uv(2, 1, 4, 2, 3);
    assert_int_equal(termvote_read_uv(dir, &m, &e), MQ_OK);
    assert_int_equal(m.current, 2);
    assert_int_equal(m.version, 4);
    assert_int_equal(m.tv.term, 2);
    assert_int_equal(m.tv.vote, 3);
    write_uv(2, 1, 3, 2, 3);
    assert_int_equal(termvote_read_uv(dir, &m, &e), MQ_OK);
    assert_true(m.bad);
    assert_non_null(strstr(m.why, "both at version 3"));
    write_uv(2, 7, 4, 2, 3);
    assert_int_equal(termvote_read_uv(dir, &m, &e), MQ_OK);
    assert_true(m.bad);
    assert_non_null(strstr(m.why, "metadata2 has format 7"));
    /* Short: a write cut short, which raft_uv ignores. */
    write_file("metadata2", "\1\0\0", 3);
    assert_int_equal(termvote_read_uv(dir, &m, &e), MQ_OK);
    assert_false(m.bad);
    assert_int_equal(m.current, 1);

    /* Repair writes one file and removes the other. */
    struct termvote tv = {2, 1};
    assert_int_equal(termvote_write_uv(dir, 8, &tv, &e), MQ_OK);
    snprintf(path, sizeof path, "%s/metadata1", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(termvote_read_uv(dir, &m, &e), MQ_OK);
    assert_int_equal(m.current, 2);
    assert_int_equal(m.version, 8);
    assert_int_equal(m.tv.vote, 1);
}

static void test_termvote_check_at_start(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    enum termvote_action act;
    struct termvote uv = {2, 1}, got;
    char path[128];

    /* No copy (an older data dir): made from raft_uv's values. */
    snprintf(path, sizeof path, "%s/mq-termvote", dir);
    unlink(path);
    assert_int_equal(termvote_check(dir, &uv, &act, &e), MQ_OK);
    assert_int_equal(act, TERMVOTE_KEEP);
    assert_int_equal(termvote_read(dir, &got, &e), MQ_OK);
    assert_int_equal(got.term, 2);
    assert_int_equal(got.vote, 1);
    assert_int_equal(termvote_check(dir, &uv, &act, &e), MQ_OK);
    assert_int_equal(act, TERMVOTE_KEEP);

    /* The copy one write ahead: raft must use it. */
    got = (struct termvote){3, 0};
    assert_int_equal(termvote_write(dir, &got, &e), MQ_OK);
    assert_int_equal(termvote_check(dir, &uv, &act, &e), MQ_OK);
    assert_int_equal(act, TERMVOTE_COMPLETE);
    assert_int_equal(uv.term, 3);
    assert_int_equal(uv.vote, 0);

    /* raft_uv's term damaged: refused, naming its file. */
    write_uv(1, 1, 5, 3 | (1u << 28), 0);
    write_uv(2, 1, 4, 3, 0);
    uv = (struct termvote){3 | (1u << 28), 0};
    assert_int_equal(termvote_check(dir, &uv, &act, &e), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "metadata1 (version 5: term 268435459"));
    assert_non_null(strstr(e.msg, "mq-termvote (term 3, vote 0)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_termvote_round_trip_and_every_flip_refused),
        cmocka_unit_test(test_termvote_compare),
        cmocka_unit_test(test_termvote_files),
        cmocka_unit_test(test_termvote_uv_files_as_raft_uv_reads_them),
        cmocka_unit_test(test_termvote_check_at_start),
    };
    return cmocka_run_group_tests_name("termvote", tests, setup, teardown);
}
