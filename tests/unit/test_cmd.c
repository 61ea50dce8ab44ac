/* test_cmd.c: framing of Commands in raft log entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>

#include <cmocka.h>

#include "alloc.h"
#include "cmd.h"
#include "fsm_helpers.h"
#include "raft_heap.h"

static int setup(void **state)
{
    (void)state;
    raft_heap_install(); /* so test_alloc_fail_at reaches cmd_pack */
    return 0;
}

static struct tcmd *sample(void)
{
    struct tcmd *t = tcmd_new(123456789);
    tcmd_queue_create(t, "orders")->max_messages = 10;
    tcmd_publish_msg(t, "orders", "id-1", "hello");
    tcmd_deliver(t, "orders", "s", 5);
    tcmd_ack(t, "orders", "s", 1, 50, (const uint64_t[]){1, 2, 3}, 3);
    return t;
}

static uint32_t u32_at(const struct blob *b, size_t off)
{
    uint32_t v;
    memcpy(&v, b->data + off, 4);
    return v;
}

static void test_cmd_pack_pads_to_8_and_starts_with_magic(void **state)
{
    (void)state;
    /* Commands of many sizes: every padding length occurs. */
    for (int n = 0; n < 16; n++) {
        struct tcmd *t = tcmd_new((uint64_t)n);
        for (int i = 0; i < n; i++) {
            tcmd_queue_delete(t, "q");
        }
        size_t body = mq__v1__command__get_packed_size(tcmd_command(t));
        struct blob b = tcmd_entry(t);
        assert_int_equal(b.len % 8, 0);
        assert_true(b.len >= CMD_HEADER + body &&
                    b.len < CMD_HEADER + body + 8);
        assert_int_equal(u32_at(&b, 0), CMD_MAGIC);
        assert_memory_equal(b.data, "MQC1", 4);
        assert_int_equal(u32_at(&b, 4), body);
        for (size_t i = CMD_HEADER + body; i < b.len; i++) {
            assert_int_equal(b.data[i], 0);
        }
        entry_free(&b);
        tcmd_free(t);
    }
}

static void test_cmd_unpack_round_trips(void **state)
{
    (void)state;
    struct tcmd *t = sample();
    struct blob b = tcmd_entry(t);
    struct errmsg e = ERRMSG_INIT;
    Mq__V1__Command *c = cmd_unpack(b.data, b.len, &e);

    assert_non_null(c);
    assert_int_equal(c->now_ms, 123456789);
    assert_int_equal(c->n_ops, 4);
    assert_int_equal(c->ops[0]->op_case, MQ__V1__OP__OP_QUEUE_CREATE);
    assert_string_equal(c->ops[0]->queue_create->name, "orders");
    assert_int_equal(c->ops[0]->queue_create->max_messages, 10);
    assert_int_equal(c->ops[1]->op_case, MQ__V1__OP__OP_PUBLISH);
    assert_int_equal(c->ops[1]->publish->n_messages, 1);
    assert_int_equal(c->ops[2]->deliver->max_messages, 5);
    assert_int_equal(c->ops[3]->ack->n_seqs, 3);
    assert_int_equal(c->ops[3]->ack->seqs[2], 3);
    assert_int_equal(c->ops[3]->ack->mode, MQ__V1__ACK_MODE__NACK);
    /* Packing the decoded Command gives the same entry. */
    void *again;
    size_t again_len;
    assert_int_equal(cmd_pack(c, &again, &again_len), MQ_OK);
    assert_int_equal(again_len, b.len);
    assert_memory_equal(again, b.data, b.len);
    raft_free(again);
    mq__v1__command__free_unpacked(c, &cmd_pb_alloc);
    entry_free(&b);
    tcmd_free(t);
}

static void test_cmd_empty_command_is_8_bytes(void **state)
{
    (void)state;
    struct tcmd *t = tcmd_new(0);
    struct blob b = tcmd_entry(t);
    assert_int_equal(b.len, 8);
    Mq__V1__Command *c = cmd_unpack(b.data, b.len, NULL);
    assert_non_null(c);
    assert_int_equal(c->n_ops, 0);
    mq__v1__command__free_unpacked(c, &cmd_pb_alloc);
    entry_free(&b);
    tcmd_free(t);
}

/* cmd_unpack must refuse @b with @words in the message. */
static void expect_refused(const uint8_t *p, size_t len, const char *words)
{
    struct errmsg e = ERRMSG_INIT;
    /* An exact-size copy, so the sanitizer sees any overread. */
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, p, len);
    assert_null(cmd_unpack(copy, len, &e));
    assert_non_null(strstr(e.msg, words));
    free(copy);
}

static void test_cmd_unpack_refuses_bad_headers(void **state)
{
    (void)state;
    struct tcmd *t = sample();
    struct blob b = tcmd_entry(t);
    uint8_t *bad = malloc(b.len + 8);

    /* Too short, not a multiple of 8. */
    expect_refused(b.data, 0, "not a padded command");
    expect_refused(b.data, 4, "not a padded command");
    expect_refused(b.data, b.len - 1, "not a padded command");
    memcpy(bad, b.data, b.len);
    bad[b.len] = 0;
    expect_refused(bad, b.len + 1, "not a padded command");
    /* Bad magic. */
    memcpy(bad, b.data, b.len);
    bad[0] ^= 1;
    expect_refused(bad, b.len, "bad command header");
    /* Length past the entry. */
    memcpy(bad, b.data, b.len);
    uint32_t len = (uint32_t)b.len;
    memcpy(bad + 4, &len, 4);
    expect_refused(bad, b.len, "bad command header");
    len = UINT32_MAX;
    memcpy(bad + 4, &len, 4);
    expect_refused(bad, b.len, "bad command header");
    /* Garbage where the Command is. */
    memcpy(bad, b.data, b.len);
    memset(bad + CMD_HEADER, 0xff, u32_at(&b, 4));
    expect_refused(bad, b.len, "malformed command");
    free(bad);
    entry_free(&b);
    tcmd_free(t);
}

static void
test_cmd_unpack_refuses_length_that_does_not_fill_entry(void **state)
{
    (void)state;
    /* The padding is at most 7 zero bytes: a length that leaves more, or
     * padding that is not zero, is not an entry cmd_pack made. */
    struct tcmd *t = sample();
    struct blob b = tcmd_entry(t);
    uint8_t *bad = calloc(1, b.len + 8);

    memcpy(bad, b.data, b.len);
    expect_refused(bad, b.len + 8, "bad command header");
    uint32_t zero = 0;
    memcpy(bad, b.data, b.len);
    memcpy(bad + 4, &zero, 4); /* an empty Command, then junk */
    expect_refused(bad, b.len, "bad command header");
    uint32_t body = (uint32_t)mq__v1__command__get_packed_size(tcmd_command(t));
    if (CMD_HEADER + body < b.len) {
        memcpy(bad, b.data, b.len);
        bad[b.len - 1] = 1;
        expect_refused(bad, b.len, "padding");
    }
    free(bad);
    entry_free(&b);
    tcmd_free(t);
}

static void test_cmd_unpack_random_bytes_never_crash(void **state)
{
    (void)state;
    uint64_t seed = 7;
    struct tcmd *t = sample();
    struct blob good = tcmd_entry(t);
    for (int round = 0; round < 5000; round++) {
        uint8_t *buf = malloc(good.len);
        memcpy(buf, good.data, good.len);
        size_t len = good.len;
        if (round % 2) {
            for (size_t i = 0; i < len; i++) {
                buf[i] = (uint8_t)test_rand(&seed);
            }
            memcpy(buf, good.data, 4);
        } else {
            for (int k = 0; k < 4; k++) {
                size_t at = CMD_HEADER + test_rand(&seed) % (len - CMD_HEADER);
                buf[at] = (uint8_t)test_rand(&seed);
            }
        }
        Mq__V1__Command *c = cmd_unpack(buf, len, NULL);
        mq__v1__command__free_unpacked(c, &cmd_pb_alloc);
        free(buf);
    }
    entry_free(&good);
    tcmd_free(t);
}

static void test_cmd_decode_tells_oom_from_malformed(void **state)
{
    (void)state;
    struct tcmd *t = sample();
    struct blob b = tcmd_entry(t);
    for (int n = 0;; n++) {
        Mq__V1__Command *c = (Mq__V1__Command *)1;
        struct errmsg e = ERRMSG_INIT;
        test_alloc_fail_at(n);
        mq_err rv = cmd_decode(b.data, b.len, &c, &e);
        test_alloc_fail_at(-1);
        if (rv == MQ_OK) {
            assert_int_equal(c->n_ops, 4);
            mq__v1__command__free_unpacked(c, &cmd_pb_alloc);
            break;
        }
        /* Out of memory is not "not a Command": a replica that skipped
         * the entry would differ from the others. */
        assert_int_equal(rv, MQ_ERR_NO_MEMORY);
        assert_null(c);
        assert_non_null(strstr(e.msg, "out of memory"));
    }
    Mq__V1__Command *c = NULL;
    assert_int_equal(cmd_decode(b.data, 4, &c, NULL), MQ_ERR_PROTOCOL);
    assert_null(c);
    entry_free(&b);
    tcmd_free(t);
}

static void test_cmd_pack_oom_returns_no_memory(void **state)
{
    (void)state;
    struct tcmd *t = sample();
    void *buf = (void *)1;
    size_t len = 99;
    test_alloc_fail_at(0);
    assert_int_equal(cmd_pack(tcmd_command(t), &buf, &len), MQ_ERR_NO_MEMORY);
    test_alloc_fail_at(-1);
    assert_ptr_equal(buf, (void *)1);
    tcmd_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_pack_pads_to_8_and_starts_with_magic),
        cmocka_unit_test(test_cmd_unpack_round_trips),
        cmocka_unit_test(test_cmd_empty_command_is_8_bytes),
        cmocka_unit_test(test_cmd_unpack_refuses_bad_headers),
        cmocka_unit_test(
            test_cmd_unpack_refuses_length_that_does_not_fill_entry),
        cmocka_unit_test(test_cmd_unpack_random_bytes_never_crash),
        cmocka_unit_test(test_cmd_decode_tells_oom_from_malformed),
        cmocka_unit_test(test_cmd_pack_oom_returns_no_memory),
    };
    return cmocka_run_group_tests_name("cmd", tests, setup, NULL);
}
