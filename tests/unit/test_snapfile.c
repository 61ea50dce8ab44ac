/* test_snapfile.c: the CRC-32C and the snapshot file's checksum trailer.
 * The check values are the standard ones (RFC 3720, appendix B.4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crc32c.h"
#include "snapfile.h"

static void test_crc32c_standard_values(void **state)
{
    (void)state;
    uint8_t zeros[32], ones[32], inc[32];
    memset(zeros, 0, sizeof zeros);
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < 32; i++) {
        inc[i] = (uint8_t)i;
    }
    assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c(0, zeros, 32), 0x8A9136AAu);
    assert_int_equal(crc32c(0, ones, 32), 0x62A8AB43u);
    assert_int_equal(crc32c(0, inc, 32), 0x46DD794Eu);
    assert_int_equal(crc32c_sw(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c(0, "", 0), 0);
}

static void test_crc32c_hardware_and_tables_agree(void **state)
{
    (void)state;
    uint8_t buf[1000];
    srand(7);
    for (size_t i = 0; i < sizeof buf; i++) {
        buf[i] = (uint8_t)rand();
    }
    for (size_t off = 0; off < 9; off++) {
        for (size_t len = 0; len + off <= sizeof buf; len += 37) {
            assert_int_equal(crc32c(0, buf + off, len),
                             crc32c_sw(0, buf + off, len));
        }
    }
    /* Extending in pieces gives the value of the whole. */
    uint32_t c = crc32c(0, buf, 300);
    c = crc32c(c, buf + 300, 700);
    assert_int_equal(c, crc32c(0, buf, 1000));
}

static void test_trailer_round_trip_and_pieces(void **state)
{
    (void)state;
    char data[] = "MQSNAP01 some snapshot bytes, in three pieces";
    size_t len = strlen(data);
    struct raft_buffer pieces[3] = {
        {data, 5}, {data + 5, 10}, {data + 15, len - 15}};
    uint8_t *file = malloc(len + SNAPFILE_TRAILER);
    memcpy(file, data, len);
    snapfile_trailer(pieces, 3, file + len);
    assert_memory_equal(file + len, "MQSNCRC1", 8);

    struct raft_buffer buf = {file, len + SNAPFILE_TRAILER};
    assert_int_equal(snapfile_check(&buf), 0);
    assert_int_equal(buf.len, len);
    assert_memory_equal(buf.base, data, len);
    free(file);
}

static void test_damage_is_detected_and_changes_nothing(void **state)
{
    (void)state;
    uint8_t file[256 + SNAPFILE_TRAILER];
    for (int i = 0; i < 256; i++) {
        file[i] = (uint8_t)(i * 7);
    }
    struct raft_buffer whole = {file, 256};
    snapfile_trailer(&whole, 1, file + 256);

    /* Every single bit flip, data or trailer. */
    for (size_t i = 0; i < sizeof file; i++) {
        for (int b = 0; b < 8; b++) {
            file[i] ^= (uint8_t)(1u << b);
            struct raft_buffer buf = {file, sizeof file};
            assert_int_equal(snapfile_check(&buf), -1);
            assert_int_equal(buf.len, sizeof file);
            file[i] ^= (uint8_t)(1u << b);
        }
    }
    /* Truncated: at any length. */
    for (size_t n = 0; n < sizeof file; n++) {
        struct raft_buffer buf = {file, n};
        assert_int_equal(snapfile_check(&buf), -1);
        assert_int_equal(buf.len, n);
    }
    /* No trailer at all (a file cut before it). */
    struct raft_buffer buf = {file, 256};
    assert_int_equal(snapfile_check(&buf), -1);
    struct raft_buffer ok = {file, sizeof file};
    assert_int_equal(snapfile_check(&ok), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_standard_values),
        cmocka_unit_test(test_crc32c_hardware_and_tables_agree),
        cmocka_unit_test(test_trailer_round_trip_and_pieces),
        cmocka_unit_test(test_damage_is_detected_and_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
