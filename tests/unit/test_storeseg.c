/* test_storeseg.c: the message store's segment format (storeseg.c) and
 * files (storefile.c): what is appended and synced reads back by offset;
 * a sealed segment scans closed and never takes another record; a crash
 * leaves an open segment whose torn tail recovery cuts, and appends go on
 * after it; every flipped byte of a closed segment and every cut is found
 * (named, never served); garbage in the middle of an open segment is
 * damage, zeros after its last record are a torn tail. */
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

#include "storefile.h"
#include "storeseg.h"

struct dir {
    char path[64];
    char seg[96];
};

static int setup(void **state)
{
    struct dir *d = calloc(1, sizeof *d);
    snprintf(d->path, sizeof d->path, "/tmp/mqstoreXXXXXX");
    assert_non_null(mkdtemp(d->path));
    snprintf(d->seg, sizeof d->seg, "%s/00000000000000000010.seg", d->path);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct dir *d = *state;
    unlink(d->seg);
    rmdir(d->path);
    free(d);
    return 0;
}

static void body_of(char *out, size_t len, uint64_t seq)
{
    snprintf(out, len, "message %llu %.*s", (unsigned long long)seq,
             (int)(seq % 40), "........................................");
}

/* Writes seqs 10, 12, 14, ... (@n of them), syncing after each @every;
 * offsets in @offs. */
static void write_records(struct storefile_writer *w, int n, int every,
                          uint64_t *offs)
{
    struct errmsg e = ERRMSG_INIT;
    char b[128];

    for (int i = 0; i < n; i++) {
        uint64_t seq = 10 + 2 * (uint64_t)i;
        body_of(b, sizeof b, seq);
        assert_int_equal(
            storefile_append(w, seq, b, (uint32_t)strlen(b), &offs[i], &e), 0);
        if ((i + 1) % every == 0) {
            assert_int_equal(storefile_sync(w, &e), 0);
        }
    }
}

static void check_reads(const char *path, int n, const uint64_t *offs)
{
    struct errmsg e = ERRMSG_INIT;
    int fd = open(path, O_RDONLY);
    char want[128];

    assert_true(fd >= 0);
    for (int i = 0; i < n; i++) {
        uint8_t *body;
        uint32_t len;
        uint64_t seq = 10 + 2 * (uint64_t)i;
        body_of(want, sizeof want, seq);
        assert_int_equal(storefile_read(fd, offs[i], seq, &body, &len, &e), 0);
        assert_int_equal(len, strlen(want));
        assert_memory_equal(body, want, len);
        free(body);
    }
    close(fd);
}

static size_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (size_t)st.st_size;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    uint8_t *buf;

    *len = file_size(path);
    buf = malloc(*len ? *len : 1);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, buf, *len), (ssize_t)*len);
    close(fd);
    return buf;
}

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    close(fd);
}

static int count_cb(void *arg, uint64_t seq, uint64_t off, const uint8_t *body,
                    uint32_t len)
{
    char want[128];
    (void)off;
    body_of(want, sizeof want, seq);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(body, want, len);
    (*(int *)arg)++;
    return 0;
}

static void test_storeseg_written_records_read_back_and_seal(void **state)
{
    struct dir *d = *state;
    struct storefile_writer w;
    struct storeseg_scan s;
    struct errmsg e = ERRMSG_INIT;
    uint64_t offs[100];
    int seen = 0;

    assert_int_equal(storefile_create(&w, d->seg, 10, &e), 0);
    write_records(&w, 100, 7, offs);
    assert_int_equal(storefile_seal(&w, &e), 0);
    check_reads(d->seg, 100, offs);

    assert_int_equal(storefile_recover(d->seg, count_cb, &seen, &s, NULL, &e),
                     0);
    assert_int_equal(s.state, STORESEG_CLOSED);
    assert_int_equal(seen, 100);
    assert_int_equal(s.t.records, 100);
    assert_int_equal(s.t.last_seq, 10 + 2 * 99);
    assert_int_equal(s.first_seq, 10);

    /* A wrong seq asked for is refused, naming it. */
    int fd = open(d->seg, O_RDONLY);
    uint8_t *body;
    uint32_t len;
    assert_int_equal(storefile_read(fd, offs[3], 11, &body, &len, &e), -1);
    assert_non_null(strstr(e.msg, "seq 16 where seq 11"));
    close(fd);
}

static void test_storeseg_appends_out_of_order_are_refused(void **state)
{
    struct dir *d = *state;
    struct storefile_writer w;
    struct errmsg e = ERRMSG_INIT;
    uint64_t off;

    assert_int_equal(storefile_create(&w, d->seg, 0, &e), 0);
    assert_int_equal(storefile_append(&w, 0, "x", 1, &off, &e), -1);
    storefile_abandon(&w);
    unlink(d->seg);
    assert_int_equal(storefile_create(&w, d->seg, 10, &e), 0);
    assert_int_equal(storefile_append(&w, 9, "x", 1, &off, &e), -1);
    assert_int_equal(storefile_append(&w, 10, "x", 1, &off, &e), 0);
    assert_int_equal(storefile_append(&w, 10, "y", 1, &off, &e), -1);
    assert_non_null(strstr(e.msg, "seq 10 after seq 10"));
    assert_int_equal(storefile_append(&w, 11, "y", 1, &off, &e), 0);
    assert_int_equal(storefile_seal(&w, &e), 0);
    /* Existing files are never overwritten. */
    assert_int_equal(storefile_create(&w, d->seg, 20, &e), -1);
    assert_non_null(strstr(e.msg, "create"));
}

/* A crash: what was synced stays, a torn last record is cut, appends go
 * on after the last valid record and the segment seals. */
static void
test_storeseg_crash_leaves_an_open_segment_that_recovers(void **state)
{
    struct dir *d = *state;
    struct storefile_writer w, w2;
    struct storeseg_scan s;
    struct errmsg e = ERRMSG_INIT;
    uint64_t offs[60];
    size_t len, synced;
    uint8_t *buf;
    int seen = 0;

    assert_int_equal(storefile_create(&w, d->seg, 10, &e), 0);
    write_records(&w, 50, 10, offs);
    synced = (size_t)w.synced;
    storefile_abandon(&w); /* nothing unsynced reaches the file */
    assert_int_equal(file_size(d->seg), synced);

    /* Half of one more record, as a crash mid-append leaves it. */
    buf = read_file(d->seg, &len);
    uint8_t head[STORESEG_RECORD_HEAD];
    storeseg_record_head(head, 200, "torn body", 9);
    buf = realloc(buf, len + sizeof head + 4);
    memcpy(buf + len, head, sizeof head);
    memcpy(buf + len + sizeof head, "torn", 4);
    int fd = open(d->seg, O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, buf + len, sizeof head + 4),
                     (ssize_t)(sizeof head + 4));
    close(fd);
    free(buf);

    assert_int_equal(storefile_recover(d->seg, count_cb, &seen, &s, &w2, &e),
                     0);
    assert_int_equal(s.state, STORESEG_TORN);
    assert_non_null(strstr(e.msg, "cut short"));
    assert_int_equal(seen, 50);
    assert_int_equal(file_size(d->seg), synced);
    check_reads(d->seg, 50, offs);

    /* Appends go on after seq 108, and the segment seals. */
    uint64_t off;
    char b[128];
    body_of(b, sizeof b, 110);
    assert_int_equal(
        storefile_append(&w2, 110, b, (uint32_t)strlen(b), &off, &e), 0);
    assert_int_equal(off, synced);
    assert_int_equal(storefile_seal(&w2, &e), 0);
    seen = 0;
    assert_int_equal(storefile_recover(d->seg, count_cb, &seen, &s, NULL, &e),
                     0);
    assert_int_equal(s.state, STORESEG_CLOSED);
    assert_int_equal(seen, 51);
}

/* Every single flipped byte and every cut of a closed segment is found. */
static void test_storeseg_any_damage_of_a_closed_segment_is_found(void **state)
{
    struct dir *d = *state;
    struct storefile_writer w;
    struct storeseg_scan s;
    struct errmsg e = ERRMSG_INIT;
    uint64_t offs[8];
    size_t len;
    uint8_t *good;

    assert_int_equal(storefile_create(&w, d->seg, 10, &e), 0);
    write_records(&w, 8, 8, offs);
    assert_int_equal(storefile_seal(&w, &e), 0);
    good = read_file(d->seg, &len);
    assert_int_equal(storeseg_scan(good, len, NULL, NULL, &s, &e), 0);
    assert_int_equal(s.state, STORESEG_CLOSED);

    uint8_t *bad = malloc(len);
    for (size_t i = 0; i < len; i++) {
        memcpy(bad, good, len);
        bad[i] ^= 0x20;
        int rv = storeseg_scan(bad, len, NULL, NULL, &s, &e);
        /* A flip is damage, or (in the last record's size) a tear that
         * lost the trailer: never a clean segment. */
        assert_true(rv == -1 || s.state == STORESEG_TORN);
        assert_int_not_equal(s.state, STORESEG_CLOSED);
        assert_true(e.msg[0] != '\0');
    }
    for (size_t cut = 0; cut < len; cut++) {
        int rv = storeseg_scan(good, cut, NULL, NULL, &s, &e);
        assert_int_not_equal(s.state, STORESEG_CLOSED);
        if (rv == 0) {
            assert_true(s.valid_end <= cut);
        }
    }
    free(bad);
    free(good);
}

/* In an open segment, a bad record followed by more bytes is damage, and
 * zeros after the last record (a file system's unwritten extent) a tear. */
static void test_storeseg_open_segment_garbage_and_zero_tail(void **state)
{
    struct dir *d = *state;
    struct storefile_writer w;
    struct storeseg_scan s;
    struct errmsg e = ERRMSG_INIT;
    uint64_t offs[10];
    size_t len;
    uint8_t *buf;

    assert_int_equal(storefile_create(&w, d->seg, 10, &e), 0);
    write_records(&w, 10, 10, offs);
    storefile_abandon(&w);
    buf = read_file(d->seg, &len);

    /* A flipped body byte in record 4 of 10. */
    buf[offs[4] + STORESEG_RECORD_HEAD + 2] ^= 1;
    assert_int_equal(storeseg_scan(buf, len, NULL, NULL, &s, &e), -1);
    assert_int_equal(s.state, STORESEG_DAMAGED);
    assert_non_null(strstr(e.msg, "checksum mismatch"));
    buf[offs[4] + STORESEG_RECORD_HEAD + 2] ^= 1;

    /* 4 KiB of zeros after the last record. */
    buf = realloc(buf, len + 4096);
    memset(buf + len, 0, 4096);
    write_file(d->seg, buf, len + 4096);
    assert_int_equal(storefile_recover(d->seg, NULL, NULL, &s, NULL, &e), 0);
    assert_int_equal(s.state, STORESEG_TORN);
    assert_int_equal(s.t.records, 10);
    assert_int_equal(file_size(d->seg), len);
    free(buf);

    /* Not a segment at all. */
    write_file(d->seg, (const uint8_t *)"hello", 5);
    assert_int_equal(storefile_recover(d->seg, NULL, NULL, &s, NULL, &e), -1);
    assert_non_null(strstr(e.msg, d->seg));
    assert_non_null(strstr(e.msg, "not a store segment"));

    /* A crash while the header was written: torn, nothing valid, and no
     * writer to go on with (the caller removes the file). */
    struct storefile_writer w2;
    write_file(d->seg, (const uint8_t *)"MQSTO", 5);
    assert_int_equal(storefile_recover(d->seg, NULL, NULL, &s, &w2, &e), 0);
    assert_int_equal(s.state, STORESEG_TORN);
    assert_int_equal(s.valid_end, 0);
    assert_int_equal(w2.fd, -1);
    assert_int_equal(file_size(d->seg), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_storeseg_written_records_read_back_and_seal, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_storeseg_appends_out_of_order_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_storeseg_crash_leaves_an_open_segment_that_recovers, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_storeseg_any_damage_of_a_closed_segment_is_found, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_storeseg_open_segment_garbage_and_zero_tail, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
