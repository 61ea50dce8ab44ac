/* test_repair.c: the repair of a damaged data dir (repair.c) on files made
 * here in a directory of its own under /tmp, and its rejoin marker. What a
 * repaired node then does with the cluster is tests/cluster/test_autorepair.c's
 * concern. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "repair.h"
#include "termvote.h"

static struct config cfg;

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void write_file(const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", cfg.data_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static int exists(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", cfg.data_dir, name);
    return access(path, F_OK) == 0;
}

static void write_uv(int n, uint64_t version, uint64_t term, uint64_t vote)
{
    uint8_t buf[32];
    char name[16];
    put64(buf, 1);
    put64(buf + 8, version);
    put64(buf + 16, term);
    put64(buf + 24, vote);
    snprintf(name, sizeof name, "metadata%d", n);
    write_file(name, buf, sizeof buf);
}

/* A closed segment "1-1" holding nothing but a format word and a batch
 * header that fails its checksum. */
static void write_bad_closed_segment(void)
{
    uint8_t buf[64] = {1};
    put64(buf + 16, 1); /* one entry */
    buf[32] = 1;
    write_file("0000000000000001-0000000000000001", buf, sizeof buf);
}

/* How many damaged-* directories the data dir holds. */
static int damaged_dirs(void)
{
    DIR *d = opendir(cfg.data_dir);
    struct dirent *ent;
    int n = 0;
    while (d != NULL && (ent = readdir(d)) != NULL) {
        n += strncmp(ent->d_name, "damaged-", 8) == 0;
    }
    if (d != NULL) {
        closedir(d);
    }
    return n;
}

static int rm_tree(const char *dir)
{
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static int setup(void **state)
{
    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.id = 2;
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "/tmp/mq-repair-XXXXXX");
    return mkdtemp(cfg.data_dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    return rm_tree(cfg.data_dir);
}

static void test_repair_marker_round_trip_and_damage(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    struct repair_marker m = {2, 17, "tcp://a:1,tcp://b:2"}, got;
    assert_int_equal(repair_marker_read(cfg.data_dir, &got, &e),
                     MQ_ERR_NOT_FOUND);
    assert_int_equal(repair_marker_write(cfg.data_dir, &m, &e), MQ_OK);
    assert_int_equal(repair_marker_read(cfg.data_dir, &got, &e), MQ_OK);
    assert_int_equal(got.phase, 2);
    assert_int_equal(got.floor, 17);
    assert_string_equal(got.urls, m.urls);
    /* Damaged: still rejoining, from the start. */
    write_file(REPAIR_MARKER, "MQREJN01 and then some", 22);
    assert_int_equal(repair_marker_read(cfg.data_dir, &got, &e),
                     MQ_ERR_INVALID);
    assert_int_equal(got.phase, 1);
    assert_int_equal(got.floor, 0);
    assert_string_equal(got.urls, "");
    assert_int_equal(repair_marker_clear(cfg.data_dir, &e), MQ_OK);
    assert_false(exists(REPAIR_MARKER));
}

static void test_repair_leaves_an_intact_dir_alone(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    struct termvote tv = {4, 2};
    write_uv(1, 7, 4, 2);
    assert_int_equal(termvote_write(cfg.data_dir, &tv, &e), MQ_OK);
    assert_int_equal(repair_run(&cfg, &e), MQ_OK);
    assert_true(exists("metadata1"));
    assert_false(exists(REPAIR_MARKER));
    assert_int_equal(damaged_dirs(), 0);
}

static void test_repair_rewrites_damaged_metadata_only(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    struct termvote tv = {4, 2};
    struct termvote_uv uv;
    assert_int_equal(termvote_write(cfg.data_dir, &tv, &e), MQ_OK);
    write_uv(1, 7, 4 | (1u << 28), 2);
    assert_int_equal(repair_run(&cfg, &e), MQ_OK);
    assert_int_equal(termvote_read_uv(cfg.data_dir, &uv, &e), MQ_OK);
    assert_false(uv.bad);
    assert_int_equal(uv.tv.term, 4);
    assert_int_equal(uv.tv.vote, 2);
    assert_false(exists(REPAIR_MARKER));
    assert_int_equal(damaged_dirs(), 0);
}

static void test_repair_damaged_log_keeps_term_and_vote(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    struct termvote tv = {4, 2}, got;
    struct repair_marker m;
    assert_int_equal(termvote_write(cfg.data_dir, &tv, &e), MQ_OK);
    write_uv(1, 7, 4, 2);
    write_bad_closed_segment();
    assert_int_equal(repair_run(&cfg, &e), MQ_OK);
    assert_false(exists("0000000000000001-0000000000000001"));
    assert_true(exists("metadata1"));
    assert_int_equal(termvote_read(cfg.data_dir, &got, &e), MQ_OK);
    assert_int_equal(got.term, 4);
    assert_int_equal(repair_marker_read(cfg.data_dir, &m, &e), MQ_OK);
    assert_int_equal(m.phase, 1);
    assert_int_equal(damaged_dirs(), 1);
}

static void test_repair_damaged_copy_forgets_everything(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    struct termvote tv = {4, 2};
    struct repair_marker m = {2, 9, "tcp://a:1"};
    char old[1100];
    snprintf(old, sizeof old, "%s/damaged-19700101T000000Z", cfg.data_dir);
    assert_int_equal(mkdir(old, 0700), 0);
    write_file("damaged-19700101T000000Z/open-1", "x", 1);
    assert_int_equal(repair_marker_write(cfg.data_dir, &m, &e), MQ_OK);
    termvote_write(cfg.data_dir, &tv, &e);
    write_uv(1, 7, 4, 2);
    write_file(TERMVOTE_FILE, "MQTERMV1 cut short", 18);
    assert_int_equal(repair_run(&cfg, &e), MQ_OK);
    assert_false(exists(TERMVOTE_FILE));
    assert_false(exists("metadata1"));
    /* A rejoin under way starts over, keeping what it knew of the
     * cluster; only the last repair's files are kept. */
    assert_int_equal(repair_marker_read(cfg.data_dir, &m, &e), MQ_OK);
    assert_int_equal(m.phase, 1);
    assert_int_equal(m.floor, 0);
    assert_string_equal(m.urls, "tcp://a:1");
    assert_int_equal(damaged_dirs(), 1);
    assert_int_not_equal(access(old, F_OK), 0);
}

/* An empty data dir is a new node's, unless the operator says with
 * mqd --repair that its state was lost. */
static void test_repair_empty_dir_rejoins_only_with_the_flag(void **state)
{
    (void)state;
    struct errmsg e = ERRMSG_INIT;
    struct repair_marker m;
    cfg.auto_repair = 1;
    assert_int_equal(repair_run(&cfg, &e), MQ_OK);
    assert_false(exists(REPAIR_MARKER));
    cfg.repair = 1;
    assert_int_equal(repair_run(&cfg, &e), MQ_OK);
    assert_int_equal(repair_marker_read(cfg.data_dir, &m, &e), MQ_OK);
    assert_int_equal(m.phase, 1);
    assert_int_equal(damaged_dirs(), 0);
    /* Once it holds state, the flag repairs only what is damaged. */
    struct termvote tv = {4, 2};
    assert_int_equal(repair_marker_clear(cfg.data_dir, &e), MQ_OK);
    assert_int_equal(termvote_write(cfg.data_dir, &tv, &e), MQ_OK);
    write_uv(1, 7, 4, 2);
    assert_int_equal(repair_run(&cfg, &e), MQ_OK);
    assert_false(exists(REPAIR_MARKER));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_repair_marker_round_trip_and_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repair_leaves_an_intact_dir_alone,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_repair_rewrites_damaged_metadata_only, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_repair_damaged_log_keeps_term_and_vote, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_repair_damaged_copy_forgets_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_repair_empty_dir_rejoins_only_with_the_flag, setup, teardown),
    };
    return cmocka_run_group_tests_name("repair", tests, NULL, NULL);
}
