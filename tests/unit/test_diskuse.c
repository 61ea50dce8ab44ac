/* test_diskuse.c: which data dir files count as log and as snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "diskuse.h"

static void test_file_kinds(void **state)
{
    (void)state;
    assert_int_equal(disk_file_kind("open-1"), 1);
    assert_int_equal(disk_file_kind("open-42"), 1);
    assert_int_equal(disk_file_kind("0000000000000001-0000000000000481"), 1);
    assert_int_equal(disk_file_kind("snapshot-2-448-12842466"), 2);
    assert_int_equal(disk_file_kind("snapshot-2-448-12842466.meta"), 2);
    assert_int_equal(disk_file_kind("metadata1"), 0);
    assert_int_equal(disk_file_kind("metadata2"), 0);
    assert_int_equal(disk_file_kind("open-"), 0);
    assert_int_equal(disk_file_kind("open-1x"), 0);
    assert_int_equal(disk_file_kind("1-"), 0);
    assert_int_equal(disk_file_kind("-1"), 0);
    assert_int_equal(disk_file_kind("1-2-3"), 0);
    assert_int_equal(disk_file_kind("."), 0);
    assert_int_equal(disk_file_kind(""), 0);
}

static void put(const char *dir, const char *name, size_t size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++) {
        fputc('x', f);
    }
    fclose(f);
}

static void test_sizes_of_a_data_dir(void **state)
{
    (void)state;
    char dir[] = "/tmp/mq-diskuse-XXXXXX";
    assert_non_null(mkdtemp(dir));
    put(dir, "open-3", 100);
    put(dir, "1-20", 1000);
    put(dir, "snapshot-1-20-5", 300);
    put(dir, "snapshot-1-20-5.meta", 40);
    put(dir, "metadata1", 16);
    put(dir, "notes.txt", 5);

    struct disk_use u;
    disk_use_read(dir, &u);
    assert_int_equal(u.log_bytes, 1100);
    assert_int_equal(u.snapshot_bytes, 340);
    assert_true(u.free_bytes > 0);

    const char *names[] = {"open-3",          "1-20",
                           "snapshot-1-20-5", "snapshot-1-20-5.meta",
                           "metadata1",       "notes.txt"};
    for (size_t i = 0; i < 6; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    /* A directory that is gone gives zeros. */
    disk_use_read(dir, &u);
    assert_int_equal(u.log_bytes, 0);
    assert_int_equal(u.snapshot_bytes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_kinds),
        cmocka_unit_test(test_sizes_of_a_data_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
