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
#include "log.h"

#define MEMBERS "1=tcp://127.0.0.1:7101,2=tcp://127.0.0.1:7102"

static mq_err load(struct config *cfg, struct errmsg *e, int argc,
                   const char **argv)
{
    return config_load(cfg, argc, (char **)argv, e);
}

#define MiB (1024ull * 1024ull)

/* Every key of the option table and its default, as docs/operations.md
 * lists them; NULL: required (id, data_dir, peer_url), "": empty. */
static const struct {
    const char *key, *def;
} defaults[] = {
    {"id", NULL},
    {"data_dir", NULL},
    {"client_url", "tcp://127.0.0.1:7001"},
    {"peer_url", NULL},
    {"members", ""},
    {"join", ""},
    {"cluster_name", "mq"},
    {"log_level", "info"},
    {"election_timeout_ms", "1000"},
    {"heartbeat_timeout_ms", "100"},
    {"install_snapshot_timeout_ms", "5000"},
    {"snapshot_threshold", "0"},
    {"snapshot_log_bytes", "67108864"},
    {"snapshot_trailing", "64"},
    {"max_inflight_entries", "2"},
    {"max_entry_bytes", "4194304"},
    {"memory_budget_bytes", "1073741824"},
    {"ids_budget_bytes", "268435456"},
    {"max_request_bytes", "16777216"},
    {"peer_max_message_bytes", "1073741824"},
    {"peer_send_buffer", "256"},
    {"rpc_contexts", "1024"},
    {"max_waiting_per_sub", "512"},
    {"max_waiting_fetches", "65536"},
    {"stop_timeout_ms", "20000"},
    {"max_clock_skew_ms", "1000"},
    {"tls_cert_file", ""},
    {"tls_key_file", ""},
    {"tls_client_ca_file", ""},
    {"tls_ca_file", ""},
    {"peer_tls_cert_file", ""},
    {"peer_tls_key_file", ""},
    {"peer_tls_ca_file", ""},
    {"peer_max_pending_conns", "16"},
    {"peer_hello_timeout_ms", "10000"},
    {"peer_inbox_max_messages", "4096"},
    {"peer_inbox_max_bytes", "268435456"},
    {"member_catchup_timeout_ms", "60000"},
    {"auth_bootstrap_key_file", ""},
    {"auto_repair", "0"},
    {"log_format", "text"},
    {"http_url", ""},
    {"http_max_connections", "64"},
    {"http_max_request_bytes", "8192"},
    {"http_timeout_ms", "5000"},
    {"http_metrics_open", "0"},
    {"http_health_open", "1"},
    {"metrics_max_queues", "50"},
    {"ready_max_apply_lag", "1000"},
    {"livez_stall_ms", "30000"},
};

#define N_DEFAULTS (sizeof defaults / sizeof defaults[0])

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
    /* What was given. */
    assert_int_equal(cfg.id, 1);
    assert_string_equal(cfg.data_dir, "/tmp/x");
    assert_string_equal(cfg.peer_url, "tcp://127.0.0.1:7101");
    assert_string_equal(cfg.members_text, MEMBERS);
    assert_int_equal(cfg.n_members, 2);
    assert_int_equal(cfg.members[0].id, 1);
    assert_string_equal(cfg.members[0].peer_url, "tcp://127.0.0.1:7101");
    assert_int_equal(cfg.members[1].id, 2);
    assert_string_equal(cfg.members[1].peer_url, "tcp://127.0.0.1:7102");
    /* Every other key at its default. */
    assert_string_equal(cfg.client_url, "tcp://127.0.0.1:7001");
    assert_string_equal(cfg.join, "");
    assert_string_equal(cfg.cluster_name, "mq");
    assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
    assert_int_equal(cfg.election_timeout_ms, 1000);
    assert_int_equal(cfg.heartbeat_timeout_ms, 100);
    /* libraft 0.15 guard (4): seconds, not 0.15's 30 s default. */
    assert_int_equal(cfg.install_snapshot_timeout_ms, 5000);
    assert_int_equal(cfg.snapshot_threshold, 0);
    assert_int_equal(cfg.snapshot_log_bytes, 64 * MiB);
    assert_int_equal(cfg.snapshot_trailing, 64);
    assert_int_equal(cfg.max_inflight_entries, 2);
    assert_int_equal(cfg.max_entry_bytes, 4 * MiB);
    assert_int_equal(cfg.memory_budget_bytes, 1024 * MiB);
    assert_int_equal(cfg.ids_budget_bytes, 256 * MiB);
    assert_int_equal(cfg.max_request_bytes, 16 * MiB);
    assert_int_equal(cfg.peer_max_message_bytes, 1024 * MiB);
    assert_int_equal(cfg.peer_send_buffer, 256);
    assert_int_equal(cfg.rpc_contexts, 1024);
    assert_int_equal(cfg.max_clock_skew_ms, 1000);
    assert_int_equal(cfg.stop_timeout_ms, 20000);
    assert_int_equal(cfg.member_catchup_timeout_ms, 60000);
    assert_string_equal(cfg.auth_bootstrap_key_file, "");
    assert_int_equal(cfg.auto_repair, 0);
    /* Waiting fetches: their own caps (JetStream's max_waiting is 512 per
     * consumer), not counted in rpc_contexts. */
    assert_int_equal(cfg.max_waiting_per_sub, 512);
    assert_int_equal(cfg.max_waiting_fetches, 65536);
}

/* The option table (through the sample it writes) has exactly the keys
 * above, with those defaults: a key added without its default asserted
 * here, or a default changed, fails. */
static void test_option_table_keys_and_defaults(void **state)
{
    char *buf = NULL, *save = NULL;
    size_t len = 0, seen = 0;
    FILE *mem = open_memstream(&buf, &len);
    (void)state;
    config_write_sample(mem);
    fclose(mem);

    for (char *line = strtok_r(buf, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char key[64] = "", value[256] = "";
        int required = 0;
        if (sscanf(line, "# %63s (required)", key) == 1 &&
            strstr(line, " (required)") != NULL) {
            required = 1;
        } else if (line[0] == '#' ||
                   sscanf(line, "%63s %255s", key, value) < 1) {
            continue;
        }
        size_t k = 0;
        while (k < N_DEFAULTS && strcmp(defaults[k].key, key) != 0) {
            k++;
        }
        if (k == N_DEFAULTS) {
            fail_msg("key %s is in the option table but not in this test", key);
        }
        if (required) {
            assert_null(defaults[k].def);
        } else {
            assert_non_null(defaults[k].def);
            assert_string_equal(value, defaults[k].def);
        }
        seen++;
    }
    assert_int_equal(seen, N_DEFAULTS);
    free(buf);
}

static void test_waiting_caps_are_settings_with_ranges(void **state)
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
                          "--max_waiting_per_sub",
                          "64",
                          "--max-waiting-fetches",
                          "100000"};
    (void)state;
    assert_int_equal(load(&cfg, &e, 13, argv), MQ_OK);
    assert_int_equal(cfg.max_waiting_per_sub, 64);
    assert_int_equal(cfg.max_waiting_fetches, 100000);

    argv[10] = "0";
    assert_int_equal(load(&cfg, &e, 13, argv), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "max_waiting_per_sub"));
    assert_non_null(strstr(e.msg, "out of range"));
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

/* Loads @argv (a NULL-terminated list after "mqd"): returns what
 * config_load did, the message in @e. */
static mq_err load_args(struct config *cfg, struct errmsg *e,
                        const char *const *args)
{
    const char *argv[32] = {"mqd"};
    int argc = 1;

    for (; args[argc - 1] != NULL; argc++) {
        argv[argc] = args[argc - 1];
    }
    return load(cfg, e, argc, argv);
}

/* Expects @args refused with a message holding each of @words. */
static void assert_refused(const char *const *args, const char *const *words)
{
    static struct config cfg;
    struct errmsg e = ERRMSG_INIT;

    assert_int_equal(load_args(&cfg, &e, args), MQ_ERR_INVALID);
    for (; *words != NULL; words++) {
        if (strstr(e.msg, *words) == NULL) {
            fail_msg("message \"%s\" lacks \"%s\"", e.msg, *words);
        }
    }
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define TLS_MEMBERS "1=tls+tcp://127.0.0.1:7101,2=tls+tcp://127.0.0.1:7102"
#define PEER_TLS                                                               \
    "--peer_tls_cert_file", "n.crt", "--peer_tls_key_file", "n.key",           \
        "--peer_tls_ca_file", "ca.crt"

/* A tls+tcp:// URL without the TLS settings it needs could never work: it
 * is refused at start, wherever it is given, naming what is missing. */
static void test_tls_urls_are_refused_without_tls_settings(void **state)
{
    (void)state;
    assert_refused(ARGS("--id", "1", "--data_dir", "/tmp/x", "--peer_url",
                        "tcp://127.0.0.1:7101", "--client_url",
                        "tls+tcp://127.0.0.1:7001", "--members", MEMBERS),
                   WORDS("client_url", "tls+tcp://", "TLS is not configured",
                         "tls_cert_file and tls_key_file"));
    assert_refused(ARGS("--id", "1", "--data_dir", "/tmp/x", "--peer_url",
                        "tls+tcp://127.0.0.1:7101", "--members",
                        "1=tls+tcp://127.0.0.1:7101,2=tcp://h:7102"),
                   WORDS("peer_url", "tls+tcp://", "TLS is not configured",
                         "peer_tls_cert_file"));
    assert_refused(ARGS("--id", "1", "--data_dir", "/tmp/x", "--peer_url",
                        "tcp://127.0.0.1:7101", "--members",
                        "1=tcp://127.0.0.1:7101,2=tls+tcp://h:7102"),
                   WORDS("members", "tls+tcp://", "TLS is not configured"));
    assert_refused(
        ARGS("--id", "4", "--data_dir", "/tmp/x", "--peer_url",
             "tcp://127.0.0.1:7104", "--join", "tcp://h:7001,tls+tcp://h:7002"),
        WORDS("join", "tls+tcp://", "TLS is not configured", "tls_ca_file"));
}

/* With its settings, a tls+tcp:// URL is accepted (the files are read at
 * start, not by config_load). */
static void test_tls_urls_are_accepted_with_tls_settings(void **state)
{
    static struct config cfg;
    struct errmsg e = ERRMSG_INIT;
    (void)state;

    assert_int_equal(
        load_args(&cfg, &e,
                  ARGS("--id", "1", "--data_dir", "/tmp/x", "--peer_url",
                       "tls+tcp://127.0.0.1:7101", "--client_url",
                       "tls+tcp://127.0.0.1:7001", "--members", TLS_MEMBERS,
                       "--tls_cert_file", "c.crt", "--tls_key_file", "c.key",
                       "--tls_client_ca_file", "clients.crt", PEER_TLS)),
        MQ_OK);
    assert_string_equal(cfg.tls_cert_file, "c.crt");
    assert_string_equal(cfg.tls_key_file, "c.key");
    assert_string_equal(cfg.tls_client_ca_file, "clients.crt");
    assert_string_equal(cfg.peer_tls_cert_file, "n.crt");
    assert_string_equal(cfg.peer_tls_key_file, "n.key");
    assert_string_equal(cfg.peer_tls_ca_file, "ca.crt");
    assert_int_equal(
        load_args(&cfg, &e,
                  ARGS("--id", "4", "--data_dir", "/tmp/x", "--peer_url",
                       "tls+tcp://127.0.0.1:7104", "--join",
                       "tls+tcp://127.0.0.1:7001", PEER_TLS)),
        MQ_OK);
}

/* TLS settings that do not fit the URLs are refused: clients or nodes
 * would talk in clear to a node configured for TLS, or peer TLS would be
 * required on one end only. */
static void test_tls_settings_must_fit_the_urls(void **state)
{
    (void)state;
    assert_refused(ARGS("--id", "1", "--data_dir", "/tmp/x", "--peer_url",
                        "tcp://127.0.0.1:7101", "--members", MEMBERS,
                        "--tls_cert_file", "c.crt", "--tls_key_file", "c.key"),
                   WORDS("tls_cert_file", "client_url", "in clear"));
    assert_refused(ARGS("--id", "1", "--data_dir", "/tmp/x", "--peer_url",
                        "tls+tcp://127.0.0.1:7101", "--members", TLS_MEMBERS,
                        "--peer_tls_cert_file", "n.crt", "--peer_tls_key_file",
                        "n.key"),
                   WORDS("peer_tls_ca_file", "all three"));
    assert_refused(ARGS("--id", "1", "--data_dir", "/tmp/x", "--peer_url",
                        "tcp://127.0.0.1:7101", "--members", MEMBERS, PEER_TLS),
                   WORDS("peer_url", "in clear"));
    assert_refused(ARGS("--id", "1", "--data_dir", "/tmp/x", "--peer_url",
                        "tls+tcp://127.0.0.1:7101", "--members",
                        "1=tls+tcp://127.0.0.1:7101,2=tcp://127.0.0.1:7102",
                        PEER_TLS),
                   WORDS("members", "node 2", "requires mutual TLS"));
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

/* http_url: http://HOST:PORT, or https://HOST:PORT with the client
 * certificate's settings (refused without them); a path or a missing port
 * is named. */
static void test_http_url_is_checked(void **state)
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
                          "--http_url",
                          "http://127.0.0.1:7201"};
    (void)state;
    assert_int_equal(load(&cfg, &e, 11, argv), MQ_OK);
    assert_string_equal(cfg.http_url, "http://127.0.0.1:7201");
    assert_string_equal(config_http_hostport(&cfg), "127.0.0.1:7201");
    assert_int_equal(load(&cfg, &e, 9, argv), MQ_OK);
    assert_string_equal(cfg.http_url, ""); /* default: no listener */
    assert_string_equal(config_http_hostport(&cfg), "");

    static const char *const bad[][2] = {
        {"https://127.0.0.1:7201", "set tls_cert_file and tls_key_file"},
        {"tcp://127.0.0.1:7201", "not an http://HOST:PORT or https://"},
        {"http://127.0.0.1", "no host and port"},
        {"http://127.0.0.1:7201/metrics", "no valid port"},
        {"http://127.0.0.1:99999", "no valid port"},
        {"http://:7201", "no host and port"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        argv[10] = bad[i][0];
        assert_int_equal(load(&cfg, &e, 11, argv), MQ_ERR_INVALID);
        if (strstr(e.msg, "http_url") == NULL ||
            strstr(e.msg, bad[i][1]) == NULL) {
            fail_msg("%s: message \"%s\" lacks http_url or \"%s\"", bad[i][0],
                     e.msg, bad[i][1]);
        }
    }
    const char *tls[] = {"mqd",
                         "--id",
                         "1",
                         "--data_dir",
                         "/tmp/x",
                         "--peer_url",
                         "tcp://127.0.0.1:7101",
                         "--members",
                         MEMBERS,
                         "--client_url",
                         "tls+tcp://127.0.0.1:7001",
                         "--tls_cert_file",
                         "/etc/mq/node.crt",
                         "--tls_key_file",
                         "/etc/mq/node.key",
                         "--http_url",
                         "https://127.0.0.1:7201"};
    assert_int_equal(load(&cfg, &e, 17, tls), MQ_OK);
    assert_true(config_http_tls(&cfg));
    assert_string_equal(config_http_hostport(&cfg), "127.0.0.1:7201");
}

/* log_format: text or json, anything else named. */
static void test_log_format_is_text_or_json(void **state)
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
                          "--log_format",
                          "json"};
    (void)state;
    assert_int_equal(load(&cfg, &e, 11, argv), MQ_OK);
    assert_int_equal(cfg.log_format, LOG_FORMAT_JSON);
    assert_int_equal(load(&cfg, &e, 9, argv), MQ_OK);
    assert_int_equal(cfg.log_format, LOG_FORMAT_TEXT);
    argv[10] = "xml";
    assert_int_equal(load(&cfg, &e, 11, argv), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "log_format"));
    assert_non_null(strstr(e.msg, "\"xml\" is not text or json"));
}

/* mqd --check-config FILE reads the file as --config does, flags still
 * win, and says so in check_only; a bad file is refused as at start. */
static void test_check_config_reads_the_file_and_sets_check_only(void **state)
{
    static struct config cfg;
    struct errmsg e = ERRMSG_INIT;
    char path[] = "/tmp/mq-test-config-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    (void)state;
    fprintf(f, "id 2\ndata_dir /tmp/y\npeer_url tcp://127.0.0.1:7102\n"
               "members " MEMBERS "\nhttp_url http://127.0.0.1:7202\n");
    fclose(f);
    const char *argv[] = {"mqd", "--check-config", path, "--log_level",
                          "debug"};
    assert_int_equal(load(&cfg, &e, 5, argv), MQ_OK);
    assert_int_equal(cfg.check_only, 1);
    assert_int_equal(cfg.id, 2);
    assert_string_equal(cfg.http_url, "http://127.0.0.1:7202");
    assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);

    f = fopen(path, "w");
    fprintf(f, "id 2\ndata_dir /tmp/y\npeer_url tcp://127.0.0.1:7102\n"
               "members " MEMBERS "\nhttp_timeout_ms 5\n");
    fclose(f);
    assert_int_equal(load(&cfg, &e, 3, argv), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "http_timeout_ms"));
    assert_non_null(strstr(e.msg, ":5")); /* file:line */
    assert_int_equal(load(&cfg, &e, 2, argv), MQ_ERR_INVALID);
    assert_non_null(strstr(e.msg, "--check-config needs a file"));
    unlink(path);
}

#define BASE                                                                   \
    "--id", "1", "--data_dir", "/tmp/x", "--peer_url", "tcp://127.0.0.1:7101", \
        "--members", MEMBERS

/* Sizes and durations as people type them, in flags and in the file; a
 * number alone keeps its old meaning (bytes, ms). */
static void test_sizes_and_durations_take_units(void **state)
{
    static struct config cfg;
    struct errmsg e = ERRMSG_INIT;
    char path[] = "/tmp/mq-test-config-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    (void)state;

    assert_int_equal(
        load_args(&cfg, &e,
                  ARGS(BASE, "--max-entry-bytes", "8MiB",
                       "--memory_budget_bytes", "1.5GB",
                       "--election-timeout-ms", "2s", "--heartbeat_timeout_ms",
                       "250", "--member-catchup-timeout-ms", "1.5h")),
        MQ_OK);
    assert_int_equal(cfg.max_entry_bytes, 8 * MiB);
    assert_int_equal(cfg.memory_budget_bytes, 1500000000ull);
    assert_int_equal(cfg.election_timeout_ms, 2000);
    assert_int_equal(cfg.heartbeat_timeout_ms, 250);
    assert_int_equal(cfg.member_catchup_timeout_ms, 5400000);

    fprintf(f, "id 2\ndata_dir /tmp/y\npeer_url tcp://127.0.0.1:7102\n"
               "members " MEMBERS "\nsnapshot_log_bytes 128MiB\n"
               "max_clock_skew_ms 1.5s\n");
    fclose(f);
    assert_int_equal(load_args(&cfg, &e, ARGS("--config", path)), MQ_OK);
    assert_int_equal(cfg.snapshot_log_bytes, 128 * MiB);
    assert_int_equal(cfg.max_clock_skew_ms, 1500);
    f = fopen(path, "w");
    fprintf(f, "id 2\n\nsnapshot_log_bytes 64M\n");
    fclose(f);
    assert_refused(ARGS("--config", path),
                   WORDS(":3:", "snapshot_log_bytes", "say MB or MiB"));
    unlink(path);
}

/* A bad value is named as the user gave it: the flag as typed, not the
 * key of the table. */
static void test_bad_units_name_the_flag_typed(void **state)
{
    (void)state;
    assert_refused(ARGS(BASE, "--max-entry-bytes", "5x"),
                   WORDS("--max-entry-bytes: ", "5x", "unknown unit"));
    assert_refused(ARGS(BASE, "--memory_budget_bytes", "1G"),
                   WORDS("--memory_budget_bytes: ", "say GB or GiB"));
    assert_refused(ARGS(BASE, "--election-timeout-ms", "soon"),
                   WORDS("--election-timeout-ms: ", "soon"));
    assert_refused(ARGS(BASE, "--election-timeout-ms", "1.5ms"),
                   WORDS("--election-timeout-ms: ", "not a whole number"));
    /* Out of range, said in the key's units. */
    assert_refused(
        ARGS(BASE, "--election-timeout-ms", "2h"),
        WORDS("--election-timeout-ms: 2h is out of range 100ms..1m"));
    assert_refused(ARGS(BASE, "--max-entry-bytes", "1KiB"),
                   WORDS("--max-entry-bytes: 1KiB is out of range "
                         "64KiB..256MiB"));
    assert_refused(ARGS(BASE, "--rpc-contexts", "64k"),
                   WORDS("--rpc-contexts: ", "\"64k\" is not a number"));
}

/* mqd --help, its manual page and its bash completion come from the one
 * table: every key is in each, sizes and durations with their units. */
static void test_help_man_and_completion_name_every_key(void **state)
{
    char *help = NULL, *man = NULL, *comp = NULL;
    size_t len = 0;
    FILE *mem;
    (void)state;

    mem = open_memstream(&help, &len);
    config_usage(mem);
    fclose(mem);
    mem = open_memstream(&man, &len);
    config_man(mem);
    fclose(mem);
    mem = open_memstream(&comp, &len);
    config_completion_bash(mem);
    fclose(mem);
    for (size_t i = 0; i < N_DEFAULTS; i++) {
        char flag[80], man_flag[160], *d = man_flag;
        snprintf(flag, sizeof flag, "--%s", defaults[i].key);
        if (strstr(help, flag) == NULL || strstr(comp, flag) == NULL) {
            fail_msg("%s is missing from --help or the completion", flag);
        }
        /* roff: "\-\-max_entry_bytes" */
        d += sprintf(d, "\\-\\-");
        for (const char *k = defaults[i].key; *k != '\0'; k++) {
            *d++ = *k;
        }
        *d = '\0';
        if (strstr(man, man_flag) == NULL) {
            fail_msg("%s is missing from the manual page", flag);
        }
    }
    assert_non_null(strstr(help, "--snapshot_log_bytes"));
    assert_non_null(strstr(help, "(default 64MiB)"));
    assert_non_null(strstr(help, "(default 1s)"));
    assert_non_null(strstr(man, ".TH MQD 1"));
    assert_non_null(strstr(comp, "complete -F _mqd mqd"));
    free(help);
    free(man);
    free(comp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags_give_a_complete_config_with_defaults),
        cmocka_unit_test(test_http_url_is_checked),
        cmocka_unit_test(test_log_format_is_text_or_json),
        cmocka_unit_test(test_check_config_reads_the_file_and_sets_check_only),
        cmocka_unit_test(test_option_table_keys_and_defaults),
        cmocka_unit_test(test_waiting_caps_are_settings_with_ranges),
        cmocka_unit_test(test_bad_value_names_the_key),
        cmocka_unit_test(test_missing_required_key_is_named),
        cmocka_unit_test(test_member_list_must_name_this_node),
        cmocka_unit_test(test_file_is_read_and_flags_win),
        cmocka_unit_test(test_sample_config_names_every_key),
        cmocka_unit_test(test_tls_urls_are_refused_without_tls_settings),
        cmocka_unit_test(test_tls_urls_are_accepted_with_tls_settings),
        cmocka_unit_test(test_tls_settings_must_fit_the_urls),
        cmocka_unit_test(test_repair_flag_sets_auto_repair),
        cmocka_unit_test(test_sizes_and_durations_take_units),
        cmocka_unit_test(test_bad_units_name_the_flag_typed),
        cmocka_unit_test(test_help_man_and_completion_name_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
