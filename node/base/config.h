/* config.h: mqd's settings. One table in config.c lists every key (name,
 * type, default, range, help); the file parser (`key value` lines, `#`
 * comments), the `--key value` flags, `mqd --help` and validation all come
 * from it. After config_load the struct is read-only. */
#ifndef MQ_CONFIG_H
#define MQ_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "errmsg.h"
#include "mq.h"

#define CONFIG_MAX_MEMBERS 16
#define CONFIG_PATH_MAX 512

struct config_member {
    uint64_t id;
    char peer_url[MQ_URL_MAX];
};

struct config {
    uint64_t id;
    char data_dir[512];
    char client_url[MQ_URL_MAX];
    char peer_url[MQ_URL_MAX];
    char members_text[2048];
    struct config_member members[CONFIG_MAX_MEMBERS];
    size_t n_members;
    char join[1024]; /* client URLs of a cluster to join, or "" */
    char cluster_name[64];
    int log_level;
    uint64_t election_timeout_ms;
    uint64_t heartbeat_timeout_ms;
    uint64_t install_snapshot_timeout_ms;
    uint64_t snapshot_threshold;
    uint64_t snapshot_log_bytes;
    uint64_t snapshot_trailing;
    uint64_t max_inflight_entries;
    uint64_t max_entry_bytes;
    uint64_t memory_budget_bytes;
    /* Bound of remembered ids and statuses (nominal bytes), stamped by the
     * leader into every Command (fsm/evict.h). */
    uint64_t ids_budget_bytes;
    uint64_t max_request_bytes;
    uint64_t peer_max_message_bytes;
    uint64_t peer_send_buffer;
    uint64_t rpc_contexts;
    uint64_t max_waiting_per_sub;
    uint64_t max_waiting_fetches;
    uint64_t max_clock_skew_ms;
    uint64_t stop_timeout_ms;
    /* TLS for clients (tls+tcp:// client_url): this node's certificate and
     * key, and the CA that signs client certificates (then required). */
    char tls_cert_file[CONFIG_PATH_MAX];
    char tls_key_file[CONFIG_PATH_MAX];
    char tls_client_ca_file[CONFIG_PATH_MAX];
    /* CA that signs the other nodes' client certificates: this node's own
     * calls to tls+tcp:// client URLs (join, rejoin). */
    char tls_ca_file[CONFIG_PATH_MAX];
    /* Mutual TLS between nodes (tls+tcp:// peer URLs): this node's
     * certificate and key, and the cluster CA. */
    char peer_tls_cert_file[CONFIG_PATH_MAX];
    char peer_tls_key_file[CONFIG_PATH_MAX];
    char peer_tls_ca_file[CONFIG_PATH_MAX];
    /* The peer port's bounds (also without TLS). */
    uint64_t peer_max_pending_conns;
    uint64_t peer_hello_timeout_ms;
    uint64_t peer_inbox_max_messages;
    uint64_t peer_inbox_max_bytes;
    /* Test hooks, from the environment only (never from a file or a flag;
     * see config_load). 0: off. */
    uint64_t test_delay_leader_append_ms;
    int64_t test_clock_offset_ms;
    uint64_t member_catchup_timeout_ms;
    /* 1: repair a damaged data dir at start instead of refusing (see
     * node/raft/repair.h); `mqd --repair` sets it for one start. */
    uint64_t auto_repair;
    /* `mqd --repair` was given: the operator says this node's data is
     * damaged or lost (an empty data dir then means lost, not new). */
    int repair;
    /* Authentication (node/auth): the bootstrap secret's file, "" for
     * none. */
    char auth_bootstrap_key_file[512];
    int log_format; /* LOG_FORMAT_TEXT or LOG_FORMAT_JSON (log.h) */

    /* The HTTP listener (node/http/): "" for none, else http://HOST:PORT.
     * Its bounds: connections open at once, bytes of a request (request
     * line and headers), and the time a connection may take to send its
     * request and take the answer. */
    char http_url[MQ_URL_MAX];
    uint64_t http_max_connections;
    uint64_t http_max_request_bytes;
    uint64_t http_timeout_ms;
    /* 1: /metrics, or the health endpoints, answer without a key once
     * keys are checked (see node/http/http.h's auth hook). */
    uint64_t http_metrics_open;
    uint64_t http_health_open;
    /* /metrics: per-queue and per-subscription series for at most this
     * many queues (the largest by bytes first); the others are summed. */
    uint64_t metrics_max_queues;
    /* /readyz: at most this many committed entries not yet applied. */
    uint64_t ready_max_apply_lag;
    /* /livez fails when the loop thread has not run for this long (0:
     * never). */
    uint64_t livez_stall_ms;

    /* From the environment only: the socket a supervisor (systemd,
     * Type=notify) is told on when the node serves; "" for none. */
    char notify_socket[108];
    /* `mqd --check-config FILE`: validate and stop. */
    int check_only;
};

/* Parses @argv (flags, and the file named by --config; flags win) into
 * @cfg. Keys ending in _bytes take sizes with units, keys ending in _ms
 * durations (proto/units.h). Returns MQ_OK; MQ_ERR_INVALID with @e naming
 * the flag as typed, or the key and file:line, for a bad value;
 * MQ_ERR_CANCELED when --help, --version, --sample-config, --man or
 * --completion bash printed what was asked for. `--repair` (no value) sets
 * auto_repair for this start; `--check-config FILE` reads FILE as --config
 * does and sets check_only. */
mq_err config_load(struct config *cfg, int argc, char **argv, struct errmsg *e);

/* The host:port of @cfg's http_url (after "http://"), for a listener. */
const char *config_http_hostport(const struct config *cfg);

/* Whether http_url is https:// (served with the client certificate). */
int config_http_tls(const struct config *cfg);

/* Prints every key with its default and help (mqd --help). */
void config_usage(FILE *out);

/* What a key takes, for help, the manual page and completion. */
enum config_kind {
    CONFIG_KIND_NUMBER,
    CONFIG_KIND_SIZE,     /* keys ending in _bytes: "64MiB", "1GB", bytes */
    CONFIG_KIND_DURATION, /* keys ending in _ms: "500ms", "2m", ms */
    CONFIG_KIND_TEXT,
    CONFIG_KIND_FILE, /* keys ending in _file */
    CONFIG_KIND_DIR,  /* data_dir */
    CONFIG_KIND_LEVEL,
    CONFIG_KIND_LOG_FORMAT, /* text or json */
};

/* One key of the option table, as mqd --help shows it. */
struct config_key {
    const char *name, *help; /* static */
    int required;
    enum config_kind kind;
    char def[64]; /* the default as people write it ("64MiB"); "" if none */
};

/* The number of keys, and key @i (below it). */
size_t config_key_count(void);
void config_key_at(size_t i, struct config_key *out);

/* Writes mqd's manual page (roff, section 1) from the option table (mqd
 * --man; built and installed as mqd.1). */
void config_man(FILE *out);

/* Writes a bash completion script for mqd from the option table (mqd
 * --completion bash). */
void config_completion_bash(FILE *out);

/* Writes a sample file naming every key with its default. */
void config_write_sample(FILE *out);

/* The member whose id is @id, or NULL. */
const struct config_member *config_member(const struct config *cfg,
                                          uint64_t id);

#endif
