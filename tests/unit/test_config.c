/* test_config.c: mqd's settings: flags, file, precedence, validation that
 * names the key, and the sample file that names every key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define MEMBERS "1=tcp://127.0.0.1:7101,2=tcp://127.0.0.1:7102"

static mq_err load(struct config *cfg, struct errmsg *e, int argc,
                   const char **argv)
{
    return config_load(cfg, argc, (char **)argv, e);
}

static void test_flags_give_a_complete_config_with_defaults(void **state)
{
    static struct config cfg;
    struct errmsg e = ERRMSG_INIT;
    const char *argv[] = {"mqd",
                          "--id",
                          "1",
                          "--data_dir",
                          "/tmp/x",
                          "--peer-url",
                          "tcp://127.0.0.1:7101",
                          "--members",
                          MEMBERS};
    (void)state;
    assert_int_equal(load(&cfg, &e, 9, argv), MQ_OK);
    assert_int_equal(cfg.id, 1);
    assert_string_equal(cfg.client_url, "tcp://127.0.0.1:7001");
    assert_int_equal(cfg.n_members, 2);
    assert_int_equal(cfg.members[1].id, 2);
    /* libraft 0.15 guard (4): seconds, not 0.15's 30 s default. */
    assert_true(cfg.install_snapshot_timeout_ms <= 10000);
    assert_true(cfg.peer_send_buffer > 0);
}

static void test_bad_value_names_the_key(void **state)
{
    static struct config cfg;
    struct errmsg e = ERRMSG_INIT;
    const char *argv[] = {"mqd",
                          "--id",
                          "1",
                          "--data_dir",
                          "/tmp/x",
                          "--peer_url",
                          "tcp://127.0.0.1:7101",
                          "--members",
                          MEMBERS,
                          "--election_timeout_ms",
                          "fast"};
    (void)state;
    assert_int_equal(load(&cfg, &e, 11, argv), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "election_timeout_ms"));
    assert_non_null(strstr(e.msg, "fast"));
}

static void test_missing_required_key_is_named(void **state)
{
    static struct config cfg;
    struct errmsg e = ERRMSG_INIT;
    const char *argv[] = {"mqd",    "--id",      "1",    "--data_dir",
                          "/tmp/x", "--members", MEMBERS};
    (void)state;
    assert_int_equal(load(&cfg, &e, 7, argv), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "peer_url"));
}

static void test_member_list_must_name_this_node(void **state)
{
    static struct config cfg;
    struct errmsg e = ERRMSG_INIT;
    const char *argv[] = {"mqd",
                          "--id",
                          "3",
                          "--data_dir",
                          "/tmp/x",
                          "--peer_url",
                          "tcp://127.0.0.1:7103",
                          "--members",
                          MEMBERS};
    (void)state;
    assert_int_equal(load(&cfg, &e, 9, argv), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "members"));
}

static void test_file_is_read_and_flags_win(void **state)
{
    static struct config cfg;
    struct errmsg e = ERRMSG_INIT;
    char path[] = "/tmp/mq-test-config-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    (void)state;
    fprintf(f, "# a comment\nid 2\ndata_dir /tmp/y   # trailing\n"
               "peer_url tcp://127.0.0.1:7102\nmembers " MEMBERS "\n"
               "log_level debug\nrpc_contexts 64\n");
    fclose(f);
    const char *argv[] = {"mqd", "--config", path, "--rpc_contexts", "32"};
    assert_int_equal(load(&cfg, &e, 5, argv), MQ_OK);
    assert_int_equal(cfg.id, 2);
    assert_string_equal(cfg.data_dir, "/tmp/y");
    assert_int_equal(cfg.rpc_contexts, 32);

    f = fopen(path, "w");
    fprintf(f, "id 2\nbogus_key 1\n");
    fclose(f);
    const char *argv2[] = {"mqd", "--config", path};
    assert_int_equal(load(&cfg, &e, 3, argv2), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, ":2:"));
    assert_non_null(strstr(e.msg, "bogus_key"));
    unlink(path);
}

/* deploy/mqd.conf is what `mqd --sample-config` prints: every key. */
static void test_sample_config_names_every_key(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    (void)state;
    config_write_sample(mem);
    fclose(mem);

    FILE *f = fopen(MQ_SOURCE_DIR "/deploy/mqd.conf", "r");
    assert_non_null(f);
    char *file = calloc(1, len + 2);
    size_t got = fread(file, 1, len + 1, f);
    fclose(f);
    assert_int_equal(got, len);
    assert_memory_equal(file, buf, len);
    assert_non_null(strstr(buf, "install_snapshot_timeout_ms"));
    assert_non_null(strstr(buf, "memory_budget_bytes"));
    free(file);
    free(buf);
}

/* mqd --repair: auto_repair for this start, whatever the file says. */
static void test_repair_flag_sets_auto_repair(void **state)
{
    static struct config cfg;
    struct errmsg e = ERRMSG_INIT;
    const char *argv[] = {"mqd",
                          "--id",
                          "1",
                          "--data_dir",
                          "/tmp/x",
                          "--peer_url",
                          "tcp://127.0.0.1:7101",
                          "--members",
                          MEMBERS,
                          "--auto_repair",
                          "0",
                          "--repair"};
    (void)state;
    assert_int_equal(load(&cfg, &e, 11, argv), MQ_OK);
    assert_int_equal(cfg.auto_repair, 0);
    assert_int_equal(cfg.repair, 0);
    assert_int_equal(load(&cfg, &e, 12, argv), MQ_OK);
    assert_int_equal(cfg.auto_repair, 1);
    assert_int_equal(cfg.repair, 1);
    argv[10] = "2";
    assert_int_equal(load(&cfg, &e, 11, argv), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "auto_repair"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags_give_a_complete_config_with_defaults),
        cmocka_unit_test(test_bad_value_names_the_key),
        cmocka_unit_test(test_missing_required_key_is_named),
        cmocka_unit_test(test_member_list_must_name_this_node),
        cmocka_unit_test(test_file_is_read_and_flags_win),
        cmocka_unit_test(test_sample_config_names_every_key),
        cmocka_unit_test(test_repair_flag_sets_auto_repair),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
