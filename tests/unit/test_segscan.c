/* test_segscan.c: reading raft_uv 0.15 log segments (segscan.c): a clean
 * segment, zeros never written, a write cut short, damage in space that
 * never held a batch, and damage with valid batches after it. Segments are
 * built here as raft_uv writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "segscan.h"

#define SEG_CAP 65536

struct seg {
    uint8_t buf[SEG_CAP];
    size_t len;    /* bytes written so far */
    size_t at[16]; /* offset of each batch */
    unsigned n;    /* batches */
};

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* A preallocated segment: zeros, then the format word. */
static void seg_init(struct seg *s, uint64_t format)
{
    memset(s, 0, sizeof *s);
    put64(s->buf, format);
    s->len = 8;
}

/* Appends a batch of @n entries of @len bytes each (a multiple of 8),
 * as raft_uv's uvSegmentBufferAppend does. */
static void seg_batch(struct seg *s, unsigned n, uint32_t len)
{
    uint8_t *b = s->buf + s->len;
    size_t header_len = 8 + 16 * (size_t)n;
    uint8_t *header = b + 8;
    uint8_t *data = header + header_len;

    assert_true(s->len + 8 + header_len + (size_t)n * len <= SEG_CAP);
    put64(header, n);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = header + 8 + 16 * i;
        put64(e, 3);                        /* term */
        e[8] = i == 0 && s->n == 0 ? 3 : 1; /* a configuration, commands */
        put32(e + 12, len);
        for (uint32_t k = 0; k < len; k++) {
            data[(size_t)i * len + k] = (uint8_t)(s->n * 31 + i * 7 + k);
        }
    }
    put32(b, segscan_crc(0, header, header_len));
    put32(b + 4, segscan_crc(0, data, (size_t)n * len));
    s->at[s->n++] = s->len;
    s->len += 8 + header_len + (size_t)n * len;
}

static void scan(const struct seg *s, size_t len, struct segscan *out)
{
    /* An exact-size copy: the sanitizer build sees any read past it. */
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, s->buf, len);
    segscan_run(copy, len, out);
    free(copy);
}

/* Five batches, then the zeros of the preallocated file. */
static void five(struct seg *s)
{
    seg_init(s, SEGSCAN_FORMAT);
    for (int i = 0; i < 5; i++) {
        seg_batch(s, (unsigned)(1 + i % 3), 16 + 8 * (uint32_t)i);
    }
}

static void test_segscan_crc_is_rafts(void **state)
{
    (void)state;
    /* libraft's byteCrc32 (libiberty's crc32) with init 0. */
    assert_int_equal(segscan_crc(0, "123456789", 9), 0x89a1897fu);
    assert_int_equal(segscan_crc(0, "", 0), 0);
    uint32_t c = segscan_crc(0, "1234", 4);
    assert_int_equal(segscan_crc(c, "56789", 5), 0x89a1897fu);
}

static void test_segscan_clean_segment_then_zeros(void **state)
{
    (void)state;
    static struct seg s;
    struct segscan r;
    five(&s);
    scan(&s, SEG_CAP, &r);
    assert_int_equal(r.kind, SEGSCAN_CLEAN);
    assert_int_equal(r.format, 1);
    assert_false(r.format_bad);
    assert_int_equal(r.n_batches, 5);
    assert_int_equal(r.n_entries, 1 + 2 + 3 + 1 + 2);
    assert_int_equal(r.valid_end, s.len);
    assert_null(r.why);
}

static void test_segscan_clean_segment_to_the_end(void **state)
{
    (void)state;
    static struct seg s;
    struct segscan r;
    five(&s);
    scan(&s, s.len, &r);
    assert_int_equal(r.kind, SEGSCAN_CLEAN);
    assert_int_equal(r.valid_end, s.len);
    assert_true(segscan_closed_ok(&r, s.len, 9));
    assert_false(segscan_closed_ok(&r, s.len, 8));
    /* A closed segment must end with its last batch. */
    scan(&s, s.len + 8, &r);
    assert_false(segscan_closed_ok(&r, s.len + 8, 9));
}

static void test_segscan_never_written_is_empty(void **state)
{
    (void)state;
    static struct seg s;
    struct segscan r;
    seg_init(&s, 0);
    scan(&s, SEG_CAP, &r);
    assert_int_equal(r.kind, SEGSCAN_EMPTY);
    assert_false(r.format_bad);
    seg_init(&s, SEGSCAN_FORMAT);
    scan(&s, SEG_CAP, &r);
    assert_int_equal(r.kind, SEGSCAN_EMPTY);
    assert_int_equal(r.valid_end, 8);
    scan(&s, 0, &r);
    assert_int_equal(r.kind, SEGSCAN_EMPTY);
}

/* Issue 8 item 6: two bits flipped in a preallocated segment that was
 * never written: no batch anywhere, damage in unused space. */
static void test_segscan_flips_in_never_written_space_are_torn(void **state)
{
    (void)state;
    static struct seg s;
    struct segscan r;
    seg_init(&s, 0);
    s.buf[40000] ^= 0x04;
    s.buf[51234] ^= 0x80;
    scan(&s, SEG_CAP, &r);
    assert_int_equal(r.kind, SEGSCAN_TORN);
    assert_int_equal(r.n_batches, 0);
    assert_int_equal(r.nonzero_at, 40000);
    assert_int_equal(r.format, 0);
    assert_false(r.format_bad);
}

/* Flips in the zeros after the last batch, one of them in the entry count
 * of the next batch's place (raft_uv would read past the end there). */
static void test_segscan_flips_in_the_zero_tail_are_torn(void **state)
{
    (void)state;
    static struct seg s;
    struct segscan r;
    five(&s);
    s.buf[s.len + 8 + 3] ^= 0x01; /* entry count 2^24 */
    s.buf[s.len + 5000] ^= 0x20;
    scan(&s, SEG_CAP, &r);
    assert_int_equal(r.kind, SEGSCAN_TORN);
    assert_int_equal(r.n_batches, 5);
    assert_int_equal(r.valid_end, s.len);
    assert_int_equal(r.bad_at, s.len);
    assert_string_equal(r.why, "entries count in preamble is too high");
}

/* Issue 8 item 4: a bit flipped in the middle batch's data; the batches
 * after it are intact. */
static void test_segscan_damage_before_valid_batches(void **state)
{
    (void)state;
    static struct seg s;
    struct segscan r;
    five(&s);
    s.buf[s.at[2] + 8 + 56 + 10] ^= 0x10; /* its data */
    scan(&s, SEG_CAP, &r);
    assert_int_equal(r.kind, SEGSCAN_DAMAGED);
    assert_int_equal(r.n_batches, 2);
    assert_int_equal(r.valid_end, s.at[2]);
    assert_int_equal(r.bad_at, s.at[2]);
    assert_int_equal(r.next_at, s.at[3]);
    assert_string_equal(r.why, "data checksum mismatch");
}

static void test_segscan_damaged_header_before_valid_batches(void **state)
{
    (void)state;
    static struct seg s;
    struct segscan r;
    five(&s);
    s.buf[s.at[1] + 16] ^= 0x02; /* the first entry's term */
    scan(&s, SEG_CAP, &r);
    assert_int_equal(r.kind, SEGSCAN_DAMAGED);
    assert_int_equal(r.bad_at, s.at[1]);
    assert_int_equal(r.next_at, s.at[2]);
    assert_string_equal(r.why, "header checksum mismatch");
}

/* The last batch damaged, nothing valid after it: a write cut short
 * looks the same, and raft_uv's recovery (drop it) stands. */
static void test_segscan_damaged_last_batch_is_torn(void **state)
{
    (void)state;
    static struct seg s;
    struct segscan r;
    five(&s);
    s.buf[s.at[4] + 30] ^= 0x01;
    scan(&s, SEG_CAP, &r);
    assert_int_equal(r.kind, SEGSCAN_TORN);
    assert_int_equal(r.n_batches, 4);
    assert_int_equal(r.valid_end, s.at[4]);
    /* The prefix alone is a clean segment of the same entries. */
    struct segscan p;
    scan(&s, r.valid_end, &p);
    assert_int_equal(p.kind, SEGSCAN_CLEAN);
    assert_int_equal(p.n_entries, r.n_entries);
}

/* A batch written only in part (its second half still zeros). */
static void test_segscan_batch_cut_short_is_torn(void **state)
{
    (void)state;
    static struct seg s;
    struct segscan r;
    five(&s);
    size_t end = s.len;
    memset(s.buf + (s.at[4] + end) / 2, 0, end - (s.at[4] + end) / 2);
    scan(&s, SEG_CAP, &r);
    assert_int_equal(r.kind, SEGSCAN_TORN);
    assert_int_equal(r.valid_end, s.at[4]);
    /* The file itself cut inside the last batch. */
    five(&s);
    scan(&s, s.len - 4, &r);
    assert_int_equal(r.kind, SEGSCAN_TORN);
    assert_int_equal(r.valid_end, s.at[4]);
    assert_string_equal(r.why, "batch data cut short");
}

static void test_segscan_damaged_format_word(void **state)
{
    (void)state;
    static struct seg s;
    struct segscan r;
    five(&s);
    s.buf[0] ^= 0x01; /* format 1 becomes 0 */
    scan(&s, SEG_CAP, &r);
    assert_int_equal(r.kind, SEGSCAN_CLEAN);
    assert_true(r.format_bad);
    assert_int_equal(r.n_batches, 5);
    s.buf[0] ^= 0x01;
    s.buf[5] ^= 0x40;
    scan(&s, SEG_CAP, &r);
    assert_true(r.format_bad);
    assert_int_equal(r.kind, SEGSCAN_CLEAN);
    /* A damaged format word on zeros: no entry there. */
    seg_init(&s, 1u << 20);
    scan(&s, SEG_CAP, &r);
    assert_int_equal(r.kind, SEGSCAN_EMPTY);
    assert_false(r.format_bad);
}

static void test_segscan_short_files(void **state)
{
    (void)state;
    static struct seg s;
    struct segscan r;
    memset(&s, 0, sizeof s);
    scan(&s, 5, &r);
    assert_int_equal(r.kind, SEGSCAN_EMPTY);
    s.buf[2] = 9;
    scan(&s, 5, &r);
    assert_int_equal(r.kind, SEGSCAN_TORN);
    assert_int_equal(r.valid_end, 0);
    five(&s);
    scan(&s, 12, &r); /* format word and half a preamble */
    assert_int_equal(r.kind, SEGSCAN_TORN);
    assert_int_equal(r.valid_end, 8);
}

/* Bytes that pass the cheap checks at many offsets (a plausible entry
 * count and type): the search is bounded and then assumes the worst. */
static void test_segscan_search_is_bounded(void **state)
{
    (void)state;
    size_t len = (size_t)2 << 20;
    uint8_t *buf = calloc(1, len);
    struct segscan r;
    put64(buf, SEGSCAN_FORMAT);
    for (size_t off = 8; off + 32 <= len; off += 8) {
        put64(buf + off + 8, 0xea01); /* a 958 KB header */
        buf[off + 8 + 16] = 1;
    }
    segscan_run(buf, len, &r);
    assert_int_equal(r.kind, SEGSCAN_DAMAGED);
    assert_int_equal(r.bad_at, 8);
    assert_non_null(strstr(r.why, "rule out"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segscan_crc_is_rafts),
        cmocka_unit_test(test_segscan_clean_segment_then_zeros),
        cmocka_unit_test(test_segscan_clean_segment_to_the_end),
        cmocka_unit_test(test_segscan_never_written_is_empty),
        cmocka_unit_test(test_segscan_flips_in_never_written_space_are_torn),
        cmocka_unit_test(test_segscan_flips_in_the_zero_tail_are_torn),
        cmocka_unit_test(test_segscan_damage_before_valid_batches),
        cmocka_unit_test(test_segscan_damaged_header_before_valid_batches),
        cmocka_unit_test(test_segscan_damaged_last_batch_is_torn),
        cmocka_unit_test(test_segscan_batch_cut_short_is_torn),
        cmocka_unit_test(test_segscan_damaged_format_word),
        cmocka_unit_test(test_segscan_short_files),
        cmocka_unit_test(test_segscan_search_is_bounded),
    };
    return cmocka_run_group_tests_name("segscan", tests, NULL, NULL);
}
