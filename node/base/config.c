/* config.c: the option table and its parsers. Each key is a flag of the
 * same name (--data_dir or --data-dir) and a line of the config file.
 * Keys ending in _bytes take sizes ("64MiB", "1GB", or bytes), keys ending
 * in _ms durations ("500ms", "1.5s", "2m", or ms), read by the units
 * parser libmq uses too (proto/units.h). A bad value is named as it was
 * given: the flag as typed ("--max-entry-bytes"), or the key of the file
 * with its file:line. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "units.h"

enum opt_type { OPT_U64, OPT_STR, OPT_LEVEL, OPT_LOG_FORMAT };

struct opt {
    const char *name;
    enum opt_type type;
    size_t offset;
    size_t size; /* string capacity */
    const char *def;
    uint64_t min, max;
    int required;
    const char *help;
};

#define U64(field, d, lo, hi, h)                                               \
    {                                                                          \
#field, OPT_U64, offsetof(struct config, field), 0, d, lo, hi, 0, h    \
    }
#define STR(field, d, req, h)                                                  \
    {                                                                          \
#field, OPT_STR, offsetof(struct config, field),                       \
            sizeof(((struct config *)0)->field), d, 0, 0, req, h               \
    }

static const struct opt opts[] = {
    {"id", OPT_U64, offsetof(struct config, id), 0, NULL, 1, UINT32_MAX, 1,
     "this node's id (1, 2, 3, ...), unique in the cluster"},
    STR(data_dir, NULL, 1, "directory for the raft log and snapshots"),
    STR(client_url, "tcp://127.0.0.1:7001", 0,
        "where clients connect (nng URL)"),
    STR(peer_url, NULL, 1, "where the other nodes connect (nng URL)"),
    {"members", OPT_STR, offsetof(struct config, members_text),
     sizeof(((struct config *)0)->members_text), "", 0, 0, 0,
     "initial members, id=peer-url list: 1=tcp://h:7101,2=tcp://h:7102 "
     "(required unless join is given)"},
    {"join", OPT_STR, offsetof(struct config, join),
     sizeof(((struct config *)0)->join), "", 0, 0, 0,
     "client URLs of a running cluster to join (comma-separated); the node "
     "asks to be added, catches up as a non-voter, then votes"},
    STR(cluster_name, "mq", 0,
        "nodes only talk to nodes with the same cluster name"),
    {"log_level", OPT_LEVEL, offsetof(struct config, log_level), 0, "info", 0,
     0, 0, "error, warn, info or debug"},
    {"log_format", OPT_LOG_FORMAT, offsetof(struct config, log_format), 0,
     "text", 0, 0, 0,
     "text (one line per event) or json (one JSON object per line)"},
    U64(election_timeout_ms, "1000", 100, 60000,
        "follower waits this long without a leader, then runs"),
    U64(heartbeat_timeout_ms, "100", 10, 10000, "leader heartbeat interval"),
    U64(install_snapshot_timeout_ms, "5000", 500, 60000,
        "resend a snapshot not acknowledged in this time"),
    U64(snapshot_threshold, "0", 0, UINT32_MAX,
        "take a snapshot every N log entries (0: by snapshot_log_bytes)"),
    U64(snapshot_log_bytes, "67108864", 1048576, UINT64_MAX,
        "take a snapshot when the log since the last holds this many bytes"),
    U64(snapshot_trailing, "64", 0, 1000000,
        "log entries kept behind a snapshot, for followers a little behind"),
    U64(max_inflight_entries, "2", 1, 64,
        "raft entries proposed and not yet applied (group commit window)"),
    U64(max_entry_bytes, "4194304", 65536, 268435456,
        "largest raft entry group commit builds"),
    U64(memory_budget_bytes, "1073741824", 1048576, UINT64_MAX,
        "stored messages beyond this get FULL; set alike on every node"),
    U64(ids_budget_bytes, "268435456", 1048576, UINT64_MAX,
        "ids and statuses kept past this: the oldest are forgotten (leader's)"),
    U64(max_request_bytes, "16777216", 65536, 1073741824,
        "largest client request accepted"),
    U64(peer_max_message_bytes, "1073741824", 1048576, 4294967295u,
        "largest message accepted from another node (snapshots included)"),
    U64(peer_send_buffer, "256", 1, 65536,
        "messages queued per peer before sends are dropped"),
    U64(rpc_contexts, "1024", 4, 65536,
        "client requests received and being handled at once, waiting "
        "fetches not counted; more wait in their connections"),
    U64(max_waiting_per_sub, "512", 1, 1000000,
        "fetches waiting (long polls) on one subscription; more are refused "
        "at once (TOO_MANY)"),
    U64(max_waiting_fetches, "65536", 1, 10000000,
        "fetches waiting (long polls) on this node; more are refused at once "
        "(TOO_MANY)"),
    U64(stop_timeout_ms, "20000", 0, 3600000,
        "a stop still going after this long ends the process, naming the "
        "step it hung in (0: wait however long it takes)"),
    U64(max_clock_skew_ms, "1000", 10, 86400000,
        "warn when another node's clock is this far off; a node this far "
        "ahead of a majority does not lead, nor gets votes"),
    STR(tls_cert_file, "", 0,
        "certificate (PEM, chain) presented to clients; needed by a "
        "tls+tcp:// client_url"),
    STR(tls_key_file, "", 0, "private key (PEM) of tls_cert_file"),
    STR(tls_client_ca_file, "", 0,
        "CA (PEM) that signs client certificates: set, every client must "
        "present one"),
    STR(tls_ca_file, "", 0,
        "CA (PEM) that signs the other nodes' client certificates, for this "
        "node's calls to tls+tcp:// join URLs (default: peer_tls_ca_file)"),
    STR(peer_tls_cert_file, "", 0,
        "this node's certificate (PEM) for the other nodes: mutual TLS on "
        "tls+tcp:// peer URLs; it must name the host of peer_url"),
    STR(peer_tls_key_file, "", 0, "private key (PEM) of peer_tls_cert_file"),
    STR(peer_tls_ca_file, "", 0,
        "the cluster CA (PEM): a node's peer certificate must be signed by "
        "it"),
    U64(peer_max_pending_conns, "16", 1, 4096,
        "peer connections from one address not yet known as a member's; "
        "more are closed at once"),
    U64(peer_hello_timeout_ms, "10000", 100, 600000,
        "a peer connection that has not shown a member's hello (TLS) or "
        "message in this time is closed"),
    U64(peer_inbox_max_messages, "4096", 16, 1000000,
        "peer messages received and not yet handled; more are dropped and "
        "counted"),
    U64(peer_inbox_max_bytes, "268435456", 1048576, UINT64_MAX,
        "bytes of peer messages received and not yet handled; more are "
        "dropped (one message is always taken)"),
    U64(member_catchup_timeout_ms, "60000", 1000, 86400000,
        "a node being added that catches up no further for this long is "
        "removed again (the add is abandoned)"),
    STR(auth_bootstrap_key_file, "", 0,
        "file holding the bootstrap secret (one line, at least 32 "
        "characters): turns authentication on; set it alike on every node "
        "(docs/security.md)"),
    U64(auto_repair, "0", 0, 1,
        "1: repair a damaged data dir at start (keep term and vote if "
        "intact, move damaged files aside, rejoin as a non-voter until "
        "caught up) instead of refusing; --repair does it once"),
    {"http_url", OPT_STR, offsetof(struct config, http_url),
     sizeof(((struct config *)0)->http_url), "", 0, 0, 0,
     "HTTP listener for /metrics, /livez, /readyz and /healthz, "
     "http://HOST:PORT, or https://HOST:PORT with the client certificate "
     "(tls_cert_file) (empty: none)"},
    U64(http_max_connections, "64", 1, 4096,
        "HTTP connections open at once; more are closed at once"),
    U64(http_max_request_bytes, "8192", 1024, 1048576,
        "largest HTTP request (request line and headers); larger get 431"),
    U64(http_timeout_ms, "5000", 100, 600000,
        "an HTTP connection must send its request and take the answer "
        "within this time, or it is closed"),
    U64(http_metrics_open, "0", 0, 1,
        "1: /metrics answers without a key when keys are checked"),
    U64(http_health_open, "1", 0, 1,
        "1: /livez, /readyz and /healthz answer without a key when keys are "
        "checked"),
    U64(metrics_max_queues, "50", 0, 100000,
        "/metrics: per-queue and per-subscription series for at most this "
        "many queues, the largest first; the rest are summed"),
    U64(ready_max_apply_lag, "1000", 0, UINT32_MAX,
        "/readyz: at most this many committed log entries not yet applied"),
    U64(livez_stall_ms, "30000", 0, 3600000,
        "/livez fails when the node's loop thread has not run for this long "
        "(0: never)"),
};

#define N_OPTS (sizeof opts / sizeof opts[0])

static const struct opt *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *o = opts[i].name;
        if (strlen(o) != len) {
            continue;
        }
        size_t k = 0;
        for (; k < len; k++) {
            char c = name[k] == '-' ? '_' : name[k];
            if (c != o[k]) {
                break;
            }
        }
        if (k == len) {
            return &opts[i];
        }
    }
    return NULL;
}

/* What kind of number key @o takes, from its name's ending. */
static enum config_kind opt_kind(const struct opt *o)
{
    size_t len = strlen(o->name);

    if (o->type == OPT_STR) {
        return len > 5 && strcmp(o->name + len - 5, "_file") == 0
                   ? CONFIG_KIND_FILE
               : strcmp(o->name, "data_dir") == 0 ? CONFIG_KIND_DIR
                                                  : CONFIG_KIND_TEXT;
    }
    if (o->type == OPT_LEVEL) {
        return CONFIG_KIND_LEVEL;
    }
    if (o->type == OPT_LOG_FORMAT) {
        return CONFIG_KIND_LOG_FORMAT;
    }
    if (len > 6 && strcmp(o->name + len - 6, "_bytes") == 0) {
        return CONFIG_KIND_SIZE;
    }
    if (len > 3 && strcmp(o->name + len - 3, "_ms") == 0) {
        return CONFIG_KIND_DURATION;
    }
    return CONFIG_KIND_NUMBER;
}

/* @v as key @o shows it: "64MiB", "1s", or the number. */
static void format_value(const struct opt *o, uint64_t v, char *buf, size_t len)
{
    switch (opt_kind(o)) {
    case CONFIG_KIND_SIZE:
        units_size_format(v, buf, len);
        break;
    case CONFIG_KIND_DURATION:
        units_duration_format(v, buf, len);
        break;
    default:
        snprintf(buf, len, "%llu", (unsigned long long)v);
    }
}

/* Sets key @o from @val, given as @label (the flag as typed, or the key as
 * the file names it). */
static mq_err set_opt(struct config *cfg, const struct opt *o, const char *val,
                      const char *label, uint8_t *seen, struct errmsg *e)
{
    void *field = (char *)cfg + o->offset;
    switch (o->type) {
    case OPT_U64: {
        enum config_kind kind = opt_kind(o);
        char why[160], lo[UNITS_FORMAT_MAX], hi[UNITS_FORMAT_MAX];
        unsigned long long v = 0;
        if (kind == CONFIG_KIND_SIZE || kind == CONFIG_KIND_DURATION) {
            uint64_t u;
            int rc = kind == CONFIG_KIND_SIZE
                         ? units_size(val, &u, why, sizeof why)
                         : units_duration_ms(val, 1, &u, why, sizeof why);
            if (rc != 0) {
                errmsg_set(e, "%s: %s", label, why);
                return MQ_ERR_INVALID;
            }
            v = u;
        } else {
            char *end;
            errno = 0;
            if (val[0] == '-' || !isdigit((unsigned char)val[0])) {
                errmsg_set(e, "%s: \"%s\" is not a number", label, val);
                return MQ_ERR_INVALID;
            }
            v = strtoull(val, &end, 10);
            if (errno != 0 || *end != '\0') {
                errmsg_set(e, "%s: \"%s\" is not a number", label, val);
                return MQ_ERR_INVALID;
            }
        }
        if (v < o->min || v > o->max) {
            format_value(o, o->min, lo, sizeof lo);
            format_value(o, o->max, hi, sizeof hi);
            errmsg_set(e, "%s: %s is out of range %s..%s", label, val, lo, hi);
            return MQ_ERR_INVALID;
        }
        *(uint64_t *)field = v;
        break;
    }
    case OPT_STR:
        if (strlen(val) >= o->size) {
            errmsg_set(e, "%s: value is longer than %zu characters", label,
                       o->size - 1);
            return MQ_ERR_INVALID;
        }
        strcpy(field, val);
        break;
    case OPT_LOG_FORMAT: {
        int fmt = log_format_parse(val);
        if (fmt < 0) {
            errmsg_set(e, "%s: \"%s\" is not text or json", label, val);
            return MQ_ERR_INVALID;
        }
        *(int *)field = fmt;
        break;
    }
    case OPT_LEVEL: {
        int lvl = log_level_parse(val);
        if (lvl < 0) {
            errmsg_set(e, "%s: \"%s\" is not error, warn, info or debug", label,
                       val);
            return MQ_ERR_INVALID;
        }
        *(int *)field = lvl;
        break;
    }
    }
    seen[o - opts] = 1;
    return MQ_OK;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) {
        *--end = '\0';
    }
    return s;
}

static mq_err load_file(struct config *cfg, const char *path, uint8_t *seen,
                        const uint8_t *from_flags, struct errmsg *e)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    int lineno = 0;
    mq_err rv = MQ_OK;

    if (f == NULL) {
        errmsg_set(e, "config: cannot open %s: %s", path, strerror(errno));
        return MQ_ERR_INVALID;
    }
    while (rv == MQ_OK && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) {
            *hash = '\0';
        }
        char *s = trim(line);
        if (*s == '\0') {
            continue;
        }
        size_t klen = strcspn(s, " \t=");
        const struct opt *o = find_opt(s, klen);
        char *val = trim(s + klen + (s[klen] == '=' ? 1 : 0));
        if (*val == '=') {
            val = trim(val + 1);
        }
        if (o == NULL) {
            errmsg_set(e, "%s:%d: unknown key \"%.*s\"", path, lineno,
                       (int)klen, s);
            rv = MQ_ERR_INVALID;
        } else if (!from_flags[o - opts]) {
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)klen, s);
            rv = set_opt(cfg, o, val, key, seen, e);
            if (rv != MQ_OK) {
                errmsg_wrap(e, "%s:%d", path, lineno);
            }
        }
    }
    fclose(f);
    return rv;
}

static int is_tls(const char *url)
{
    return strncmp(url, "tls+tcp://", 10) == 0;
}

/* Checks URL @url given as @key: tcp://, ipc:// or tls+tcp://. Whether the
 * TLS settings a tls+tcp:// URL needs are there is check_tls's part. */
static mq_err check_url(const char *key, const char *url, struct errmsg *e)
{
    if (strncmp(url, "tcp://", 6) != 0 && strncmp(url, "ipc://", 6) != 0 &&
        !is_tls(url)) {
        errmsg_set(e, "%s: \"%s\" is not a tcp://, tls+tcp:// or ipc:// URL",
                   key, url);
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}

/* A tls+tcp:// URL given as @key needs TLS settings that are not there. */
static mq_err tls_missing(const char *key, const char *url, const char *needs,
                          struct errmsg *e)
{
    errmsg_set(e,
               "%s: \"%s\": TLS is not configured: a tls+tcp:// URL needs %s",
               key, url, needs);
    return MQ_ERR_INVALID;
}

/* The TLS keys agree with the URLs: a tls+tcp:// client URL has its
 * certificate and key, and TLS keys are not set for a port without TLS
 * (clients would talk in clear to a node configured for TLS); peer TLS is
 * all or nothing: its three files, a tls+tcp:// peer URL and tls+tcp://
 * URLs for every member, so that it is required on both ends. Files are
 * read at start (node.c), not here. */
static mq_err check_tls(const struct config *cfg, struct errmsg *e)
{
    int cert = cfg->tls_cert_file[0] != '\0';
    int key = cfg->tls_key_file[0] != '\0';
    int peer_n = (cfg->peer_tls_cert_file[0] != '\0') +
                 (cfg->peer_tls_key_file[0] != '\0') +
                 (cfg->peer_tls_ca_file[0] != '\0');

    if (is_tls(cfg->client_url) && (!cert || !key)) {
        return tls_missing("client_url", cfg->client_url,
                           "tls_cert_file and tls_key_file", e);
    }
    if (!is_tls(cfg->client_url) &&
        (cert || key || cfg->tls_client_ca_file[0] != '\0')) {
        errmsg_set(e,
                   "%s is set but client_url %s is not a tls+tcp:// URL: "
                   "clients would talk in clear",
                   cert  ? "tls_cert_file"
                   : key ? "tls_key_file"
                         : "tls_client_ca_file",
                   cfg->client_url);
        return MQ_ERR_INVALID;
    }
    if (cert != key) {
        errmsg_set(e, "tls_cert_file and tls_key_file: give both");
        return MQ_ERR_INVALID;
    }
    if (peer_n != 0 && peer_n != 3) {
        errmsg_set(e, "peer_tls_cert_file, peer_tls_key_file and "
                      "peer_tls_ca_file: give all three (mutual TLS between "
                      "nodes) or none");
        return MQ_ERR_INVALID;
    }
    if (is_tls(cfg->peer_url) && peer_n == 0) {
        return tls_missing("peer_url", cfg->peer_url,
                           "peer_tls_cert_file, peer_tls_key_file and "
                           "peer_tls_ca_file",
                           e);
    }
    if (!is_tls(cfg->peer_url) && peer_n != 0) {
        errmsg_set(e,
                   "peer_tls_cert_file is set but peer_url %s is not a "
                   "tls+tcp:// URL: nodes would talk in clear",
                   cfg->peer_url);
        return MQ_ERR_INVALID;
    }
    for (size_t i = 0; i < cfg->n_members; i++) {
        const char *u = cfg->members[i].peer_url;
        if (is_tls(u) && peer_n == 0) {
            return tls_missing("members", u,
                               "peer_tls_cert_file, peer_tls_key_file and "
                               "peer_tls_ca_file",
                               e);
        }
        if (!is_tls(u) && peer_n != 0) {
            errmsg_set(e,
                       "members: node %llu's peer URL %s is not a tls+tcp:// "
                       "URL, and this node requires mutual TLS between nodes",
                       (unsigned long long)cfg->members[i].id, u);
            return MQ_ERR_INVALID;
        }
    }
    if (strstr(cfg->join, "tls+tcp://") != NULL &&
        cfg->tls_ca_file[0] == '\0' && cfg->peer_tls_ca_file[0] == '\0') {
        return tls_missing("join", cfg->join,
                           "tls_ca_file (or peer_tls_ca_file) to verify the "
                           "nodes' certificates",
                           e);
    }
    return MQ_OK;
}

/* Checks http_url: empty, or http://HOST:PORT or https://HOST:PORT with
 * nothing after the port; https:// serves the client certificate, so it
 * needs tls_cert_file and tls_key_file. */
static mq_err check_http_url(const struct config *cfg, struct errmsg *e)
{
    const char *url = cfg->http_url, *hp, *colon;
    char *end;
    unsigned long port;

    if (url[0] == '\0') {
        return MQ_OK;
    }
    if (strncmp(url, "https://", 8) == 0) {
        if (cfg->tls_cert_file[0] == '\0' || cfg->tls_key_file[0] == '\0') {
            errmsg_set(e,
                       "http_url: \"%s\": https:// serves the client "
                       "certificate: set tls_cert_file and tls_key_file "
                       "(and a tls+tcp:// client_url), or use http://",
                       url);
            return MQ_ERR_INVALID;
        }
    } else if (strncmp(url, "http://", 7) != 0) {
        errmsg_set(e,
                   "http_url: \"%s\" is not an http://HOST:PORT or "
                   "https://HOST:PORT URL",
                   url);
        return MQ_ERR_INVALID;
    }
    hp = config_http_hostport(cfg);
    colon = strrchr(hp, ':');
    if (colon == NULL || colon == hp) {
        errmsg_set(e, "http_url: \"%s\" has no host and port", url);
        return MQ_ERR_INVALID;
    }
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || port > 65535) {
        errmsg_set(e,
                   "http_url: \"%s\" has no valid port (a path is not "
                   "allowed: the endpoints are fixed)",
                   url);
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}

int config_http_tls(const struct config *cfg)
{
    return strncmp(cfg->http_url, "https://", 8) == 0;
}

const char *config_http_hostport(const struct config *cfg)
{
    if (cfg->http_url[0] == '\0') {
        return "";
    }
    return cfg->http_url + (config_http_tls(cfg) ? 8 : 7);
}

/* Checks each URL of the comma-separated list @list (join). */
static mq_err check_url_list(const char *key, const char *list,
                             struct errmsg *e)
{
    char buf[sizeof((struct config *)0)->join];
    char *save = NULL;
    mq_err rv = MQ_OK;

    snprintf(buf, sizeof buf, "%s", list);
    for (char *tok = strtok_r(buf, ", ", &save); tok != NULL && rv == MQ_OK;
         tok = strtok_r(NULL, ", ", &save)) {
        rv = check_url(key, tok, e);
    }
    return rv;
}

static mq_err parse_members(struct config *cfg, struct errmsg *e)
{
    char buf[sizeof cfg->members_text];
    char *save = NULL;
    strcpy(buf, cfg->members_text);
    cfg->n_members = 0;
    for (char *tok = strtok_r(buf, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(tok, '=');
        char *end;
        if (eq == NULL) {
            errmsg_set(e, "members: \"%s\" is not id=peer-url", tok);
            return MQ_ERR_INVALID;
        }
        *eq = '\0';
        errno = 0;
        unsigned long long id = strtoull(tok, &end, 10);
        if (errno || *end || id == 0 || id > UINT32_MAX) {
            errmsg_set(e, "members: \"%s\" is not a node id", tok);
            return MQ_ERR_INVALID;
        }
        if (strlen(eq + 1) == 0 || strlen(eq + 1) >= MQ_URL_MAX ||
            strstr(eq + 1, "://") == NULL) {
            errmsg_set(e, "members: node %llu has no valid peer URL", id);
            return MQ_ERR_INVALID;
        }
        if (check_url("members", eq + 1, e) != MQ_OK) {
            return MQ_ERR_INVALID;
        }
        if (cfg->n_members == CONFIG_MAX_MEMBERS) {
            errmsg_set(e, "members: more than %d", CONFIG_MAX_MEMBERS);
            return MQ_ERR_INVALID;
        }
        if (config_member(cfg, id) != NULL) {
            errmsg_set(e, "members: node %llu appears twice", id);
            return MQ_ERR_INVALID;
        }
        cfg->members[cfg->n_members].id = id;
        strcpy(cfg->members[cfg->n_members].peer_url, eq + 1);
        cfg->n_members++;
    }
    if (cfg->n_members == 0) {
        errmsg_set(e, "members: no member listed");
        return MQ_ERR_INVALID;
    }
    const struct config_member *self = config_member(cfg, cfg->id);
    if (self == NULL) {
        errmsg_set(e, "members: this node's id %llu is not listed",
                   (unsigned long long)cfg->id);
        return MQ_ERR_INVALID;
    }
    if (strcmp(self->peer_url, cfg->peer_url) != 0) {
        errmsg_set(e, "members: node %llu is listed at %s but peer_url is %s",
                   (unsigned long long)cfg->id, self->peer_url, cfg->peer_url);
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}

const struct config_member *config_member(const struct config *cfg, uint64_t id)
{
    for (size_t i = 0; i < cfg->n_members; i++) {
        if (cfg->members[i].id == id) {
            return &cfg->members[i];
        }
    }
    return NULL;
}

size_t config_key_count(void)
{
    return N_OPTS;
}

void config_key_at(size_t i, struct config_key *out)
{
    const struct opt *o = &opts[i];

    out->name = o->name;
    out->help = o->help;
    out->required = o->required;
    out->kind = opt_kind(o);
    out->def[0] = '\0';
    if (o->required) {
        return;
    }
    if (out->kind == CONFIG_KIND_SIZE || out->kind == CONFIG_KIND_DURATION) {
        uint64_t v = strtoull(o->def, NULL, 10);
        format_value(o, v, out->def, sizeof out->def);
    } else {
        snprintf(out->def, sizeof out->def, "%s", o->def);
    }
}

void config_usage(FILE *out)
{
    fprintf(out, "usage: mqd [--config FILE] [--KEY VALUE]... [--repair]\n"
                 "       mqd --check-config FILE [--KEY VALUE]...\n\n"
                 "Every key may be given as a flag or in the config file "
                 "(`key value` lines);\nflags win over the file. --repair: "
                 "auto_repair 1 for this start. --check-config:\nvalidate "
                 "the configuration (exit 0, or 2 naming the bad key) "
                 "without starting.\n"
                 "Keys ending in _bytes take sizes (64MiB, 1GB, or bytes), "
                 "keys ending in _ms\ndurations (500ms, 1.5s, 2m, or ms).\n"
                 "Also: --version, --sample-config, --man (the manual page), "
                 "--completion bash.\n\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        struct config_key k;
        config_key_at(i, &k);
        fprintf(out, "  --%-28s %s", k.name, k.help);
        if (k.required) {
            fprintf(out, " (required)\n");
        } else {
            fprintf(out, " (default %s)\n", k.def[0] != '\0' ? k.def : "\"\"");
        }
    }
}

void config_write_sample(FILE *out)
{
    fprintf(out, "# mqd configuration: `key value`, one per line.\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        fprintf(out, "\n# %s\n", opts[i].help);
        if (opts[i].required) {
            fprintf(out, "# %s (required)\n", opts[i].name);
        } else {
            fprintf(out, "%s %s\n", opts[i].name, opts[i].def);
        }
    }
}

/* Test hooks: set by the cluster tests in a node's environment to make a
 * rare timing happen at will. MQ_TEST_DELAY_LEADER_APPEND_MS holds the
 * completions of a new leader's log writes for that long after it is
 * elected (see peer_write.c). MQ_TEST_CLOCK_OFFSET_MS shifts the node's
 * wall clock (wallclock.h), to play a node whose clock is wrong. Each is
 * logged at start when set. */
static void load_test_hooks(struct config *cfg)
{
    const char *v = getenv("NOTIFY_SOCKET");
    /* systemd's notification socket (sd_notify(3)): a path, or an
     * abstract name starting with '@'. Too long a name is ignored. */
    if (v != NULL && strlen(v) < sizeof cfg->notify_socket) {
        strcpy(cfg->notify_socket, v);
    }
    v = getenv("MQ_TEST_DELAY_LEADER_APPEND_MS");
    if (v != NULL) {
        cfg->test_delay_leader_append_ms = strtoull(v, NULL, 10);
    }
    v = getenv("MQ_TEST_CLOCK_OFFSET_MS");
    if (v != NULL) {
        cfg->test_clock_offset_ms = strtoll(v, NULL, 10);
    }
}

mq_err config_load(struct config *cfg, int argc, char **argv, struct errmsg *e)
{
    uint8_t seen[N_OPTS] = {0};
    uint8_t from_flags[N_OPTS] = {0};
    const char *file = NULL;
    int repair = 0, check_only = 0;
    mq_err rv;

    memset(cfg, 0, sizeof *cfg);
    load_test_hooks(cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            config_usage(stdout);
            return MQ_ERR_CANCELED;
        }
        if (strcmp(a, "--version") == 0) {
            printf("mqd %s\n", MQ_VERSION_STRING);
            return MQ_ERR_CANCELED;
        }
        if (strcmp(a, "--sample-config") == 0) {
            config_write_sample(stdout);
            return MQ_ERR_CANCELED;
        }
        if (strcmp(a, "--man") == 0) {
            config_man(stdout);
            return MQ_ERR_CANCELED;
        }
        if (strcmp(a, "--completion") == 0) {
            if (i + 1 == argc || strcmp(argv[i + 1], "bash") != 0) {
                errmsg_set(e, "--completion: say --completion bash");
                return MQ_ERR_INVALID;
            }
            config_completion_bash(stdout);
            return MQ_ERR_CANCELED;
        }
        if (strcmp(a, "--repair") == 0) {
            repair = 1;
            continue;
        }
        if (strcmp(a, "--check-config") == 0) {
            if (i + 1 >= argc) {
                errmsg_set(e, "--check-config needs a file");
                return MQ_ERR_INVALID;
            }
            file = argv[++i];
            check_only = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            errmsg_set(e, "unexpected argument \"%s\" (flags are --key value)",
                       a);
            return MQ_ERR_INVALID;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (val == NULL) {
            errmsg_set(e, "--%.*s needs a value", (int)nlen, name);
            return MQ_ERR_INVALID;
        }
        if (nlen == 6 && strncmp(name, "config", 6) == 0) {
            file = val;
            continue;
        }
        const struct opt *o = find_opt(name, nlen);
        if (o == NULL) {
            errmsg_set(e, "unknown flag --%.*s (see mqd --help)", (int)nlen,
                       name);
            return MQ_ERR_INVALID;
        }
        char flag[64];
        snprintf(flag, sizeof flag, "--%.*s", (int)nlen, name);
        rv = set_opt(cfg, o, val, flag, seen, e);
        if (rv != MQ_OK) {
            return rv;
        }
        from_flags[o - opts] = 1;
    }
    if (file != NULL) {
        rv = load_file(cfg, file, seen, from_flags, e);
        if (rv != MQ_OK) {
            return rv;
        }
    }
    for (size_t i = 0; i < N_OPTS; i++) {
        if (seen[i]) {
            continue;
        }
        if (opts[i].required) {
            errmsg_set(e, "%s: required, and not given", opts[i].name);
            return MQ_ERR_INVALID;
        }
        rv = set_opt(cfg, &opts[i], opts[i].def, opts[i].name, seen, e);
        if (rv != MQ_OK) {
            return rv;
        }
    }
    if (repair) {
        cfg->auto_repair = 1;
        cfg->repair = 1;
    }
    cfg->check_only = check_only;
    if ((rv = check_url("client_url", cfg->client_url, e)) != MQ_OK ||
        (rv = check_url("peer_url", cfg->peer_url, e)) != MQ_OK ||
        (rv = check_http_url(cfg, e)) != MQ_OK) {
        return rv;
    }
    if (strcmp(cfg->client_url, cfg->peer_url) == 0) {
        errmsg_set(e, "client_url and peer_url must differ");
        return MQ_ERR_INVALID;
    }
    if (cfg->heartbeat_timeout_ms * 2 > cfg->election_timeout_ms) {
        errmsg_set(e,
                   "heartbeat_timeout_ms: %llu is more than half of "
                   "election_timeout_ms %llu",
                   (unsigned long long)cfg->heartbeat_timeout_ms,
                   (unsigned long long)cfg->election_timeout_ms);
        return MQ_ERR_INVALID;
    }
    if (cfg->join[0] != '\0') {
        if (cfg->members_text[0] != '\0') {
            errmsg_set(e, "join: give either join or members, not both");
            return MQ_ERR_INVALID;
        }
        if ((rv = check_url_list("join", cfg->join, e)) != MQ_OK) {
            return rv;
        }
        return check_tls(cfg, e);
    }
    if (cfg->members_text[0] == '\0') {
        errmsg_set(e, "members: required, and not given (or give join)");
        return MQ_ERR_INVALID;
    }
    if ((rv = parse_members(cfg, e)) != MQ_OK) {
        return rv;
    }
    return check_tls(cfg, e);
}
