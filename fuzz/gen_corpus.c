/* gen_corpus.c: writes the seed corpus of the fuzz targets into the
 * directory given as argument (normally fuzz/corpus): real PubMessages,
 * log entries and Command lists from the unit tests' scenario and random
 * Commands (random_cmd), and real snapshots, some of queues that moves
 * "with force" left past their limits. Run it again when the formats change:
 *   build-fuzz/bin/fuzz_gen_corpus fuzz/corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsm.h"
#include "fsm_helpers.h"
#include "storeseg.h"

static const char *dir;

static void put(const char *target, const char *name, const void *data,
                size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    FILE *fp = fopen(path, "wb");
    if (fp == NULL || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
        perror(path);
        exit(1);
    }
}

/* One mode byte then @b. */
static void put_mode(const char *name, uint8_t mode, const struct blob *b)
{
    uint8_t *buf = malloc(b->len + 1);
    buf[0] = mode;
    memcpy(buf + 1, b->data, b->len);
    put("fsm_apply", name, buf, b->len + 1);
    free(buf);
}

static void pub_seeds(void)
{
    const char *kv[] = {"trace", "abc", "tenant", "t1"};
    struct blob b = pub_blob_h("order-1", "order.created", "hello", 5, kv, 2);
    put("pub_scan", "full", b.data, b.len);
    blob_free(&b);
    b = pub_blob_h(NULL, NULL, "x", 1, NULL, 0);
    put("pub_scan", "payload_only", b.data, b.len);
    blob_free(&b);
    b = pub_blob_h("id", "ev", "", 0, NULL, 0);
    put("pub_scan", "empty_payload", b.data, b.len);
    blob_free(&b);
    const char *nokey[] = {"", "v"};
    b = pub_blob_h("id", "a.b.c", "p", 1, nokey, 1);
    put("pub_scan", "header_no_key", b.data, b.len);
    blob_free(&b);
    static const uint8_t dup[] = {0x0a, 1, 'a', 0x0a, 1, 'b', 0x22, 1, 'x'};
    put("pub_scan", "two_ids", dup, sizeof dup);
}

static void apply_seeds(void)
{
    /* Every scenario Command as a framed entry (mode 0) and all of them
     * as one Command list (mode 1). */
    uint8_t *list = NULL;
    size_t list_len = 0;
    for (size_t i = 0; i < scenario_len(); i++) {
        struct tcmd *t = scenario_cmd(i);
        struct blob entry = tcmd_entry(t);
        char name[32];
        snprintf(name, sizeof name, "entry_%zu", i);
        put_mode(name, 0, &entry);
        entry_free(&entry);

        Mq__V1__Command *c = tcmd_command(t);
        size_t n = mq__v1__command__get_packed_size(c);
        list = realloc(list, list_len + 2 + n);
        list[list_len] = (uint8_t)n;
        list[list_len + 1] = (uint8_t)(n >> 8);
        mq__v1__command__pack(c, list + list_len + 2);
        list_len += 2 + n;
        tcmd_free(t);
    }
    struct blob b = {list, list_len};
    put_mode("scenario_commands", 1, &b);
    free(list);

    /* Random Command lists (the unit tests' random_cmd), which reach
     * limits, dead letters, redrives, purges, cancels and delays; from
     * seed 9 on, under a small bound of ids and statuses (evict.h), as
     * the leader stamps it. */
    for (uint64_t seed = 1; seed <= 12; seed++) {
        struct fsm *f = fsm_new();
        uint64_t rs = seed, now = 1000;
        list = NULL;
        list_len = 0;
        for (int i = 0; i < 16; i++) {
            struct tcmd *t = random_cmd(f, &rs, &now);
            struct errmsg e = ERRMSG_INIT;
            if (seed > 8) {
                tcmd_set_ids_budget(t, 300 * (seed - 7));
            }
            if (fsm_apply_tcmd(f, t, &e) != MQ_OK) {
                fprintf(stderr, "random %llu: %s\n", (unsigned long long)seed,
                        e.msg);
                exit(1);
            }
            Mq__V1__Command *c = tcmd_command(t);
            size_t n = mq__v1__command__get_packed_size(c);
            list = realloc(list, list_len + 2 + n);
            list[list_len] = (uint8_t)n;
            list[list_len + 1] = (uint8_t)(n >> 8);
            mq__v1__command__pack(c, list + list_len + 2);
            list_len += 2 + n;
            tcmd_free(t);
        }
        char name[32];
        snprintf(name, sizeof name, "%s_%llu", seed > 8 ? "bounded" : "random",
                 (unsigned long long)seed);
        b.data = list;
        b.len = list_len;
        put_mode(name, 1, &b);
        free(list);
        fsm_free(f);
    }
}

/* Appends Command @t to the list at *@list (@len bytes) as fuzz_fsm_apply
 * reads it: [u16 length][Command]. */
static void list_add(uint8_t **list, size_t *len, struct tcmd *t)
{
    Mq__V1__Command *c = tcmd_command(t);
    size_t n = mq__v1__command__get_packed_size(c);
    *list = realloc(*list, *len + 2 + n);
    (*list)[*len] = (uint8_t)n;
    (*list)[*len + 1] = (uint8_t)(n >> 8);
    mq__v1__command__pack(c, *list + *len + 2);
    *len += 2 + n;
}

/* Commands that turn authentication on and then make, change, rotate,
 * use and revoke keys, some refused (a bad grant, a third secret, the
 * last admin key): the key ops of the log. Command @i of KEY_CMDS. */
static struct tcmd *key_cmd(int i)
{
    struct tcmd *t = tcmd_new(2000 + 100 * (uint64_t)i);
    Mq__V1__KeyCreateOp *kc;
    Mq__V1__KeyUpdateOp *ku;
    switch (i) {
    case 0:
        tcmd_key_grant(t, tcmd_key_create(t, "admin", 0xA0, 1), NULL, 0, "*",
                       15);
        break;
    case 1:
        kc = tcmd_key_create(t, "app", 0x01, 0);
        tcmd_key_grant(t, kc, NULL, 0, "prd", 3);
        tcmd_key_grant(t, kc, NULL, 0, "team-*", 4);
        tcmd_key_grant(t, kc, NULL, 1, "team-secret", 2);
        kc->request_id = "req-1";
        kc->expires_at_ms = 900000;
        kc = tcmd_key_create(t, "ops", 0x02, 0);
        tcmd_key_grant(t, kc, NULL, 0, "*", 8);
        break;
    case 2:
        tcmd_key_grant(t, tcmd_key_create(t, "bad", 0x03, 0), NULL, 0, "prd",
                       8);
        tcmd_key_create(t, "app", 0x04, 0)->request_id = "req-1";
        break;
    case 3:
        ku = tcmd_key_update(t, "app");
        tcmd_key_grant(t, NULL, ku, 0, "*", 1);
        ku->set_expiry = 1;
        tcmd_key_rotate(t, "app", 0x05, 0)->request_id = "rot-1";
        tcmd_key_rotate(t, "app", 0x06, 0)->request_id = "rot-2";
        break;
    case 4:
        tcmd_key_used(t, "app", 2350);
        tcmd_key_rotate(t, "app", 0, 1);
        tcmd_key_revoke(t, "admin");
        break;
    default:
        tcmd_key_revoke(t, "ops");
        tcmd_key_revoke(t, "app");
        break;
    }
    return t;
}

#define KEY_CMDS 6

static void key_seeds(void)
{
    uint8_t *list = NULL;
    size_t len = 0;
    for (int i = 0; i < KEY_CMDS; i++) {
        struct tcmd *t = key_cmd(i);
        list_add(&list, &len, t);
        tcmd_free(t);
    }
    struct blob b = {list, len};
    put_mode("keys", 1, &b);
    free(list);

    /* A state with keys, as a snapshot (the scenario's queues too). */
    struct fsm *f = fsm_new();
    scenario_apply(f);
    for (int i = 0; i < 4; i++) {
        struct tcmd *t = key_cmd(i);
        struct errmsg e = ERRMSG_INIT;
        if (fsm_apply_tcmd(f, t, &e) != MQ_OK) {
            fprintf(stderr, "keys %d: %s\n", i, e.msg);
            exit(1);
        }
        tcmd_free(t);
    }
    struct blob s = snap_take(f);
    put("fsm_restore", "keys", s.data, s.len);
    blob_free(&s);
    fsm_free(f);

    /* Tokens: a key's, the bootstrap secret, and near misses. */
    static const char *const tokens[] = {
        "mqk_app_00112233445566778899aabbccddeeff00112233445566778899aabbccd"
        "deeff",
        "mqk_a_b.c-d_00112233445566778899aabbccddeeff00112233445566778899aab"
        "bccddeeff",
        "correct-horse-battery-staple-0123456789",
        "mqk_app_00112233445566778899AABBCCDDEEFF00112233445566778899aabbccd"
        "deeff",
        "mqk_app_0011",
        "short",
    };
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "token_%zu", i);
        put("token", name, tokens[i], strlen(tokens[i]));
    }
}

/* Whether a "reject" queue of @f is past its limits. */
static int past_limits(const struct fsm *f)
{
    for (size_t i = 0; i < f->n_queues; i++) {
        const struct queue *q = f->queues[i];
        if (q->cfg.discard == MQ_DISCARD_REJECT &&
            ((q->cfg.max_bytes && q->msgs.n_bytes > q->cfg.max_bytes) ||
             (q->cfg.max_messages && q->msgs.n_msgs > q->cfg.max_messages))) {
            return 1;
        }
    }
    return 0;
}

/* Snapshots of random states (random_cmd), the first few of them with a
 * "reject" queue past its limits (moves "with force" put it there). */
static void random_restore_seeds(void)
{
    int past = 0, other = 0;
    for (uint64_t seed = 1; seed <= 2000 && (past < 4 || other < 2); seed++) {
        struct fsm *f = fsm_new();
        uint64_t rs = seed, now = 1000;
        for (int i = 0; i < 60; i++) {
            struct tcmd *t = random_cmd(f, &rs, &now);
            struct errmsg e = ERRMSG_INIT;
            if (fsm_apply_tcmd(f, t, &e) != MQ_OK) {
                fprintf(stderr, "random %llu: %s\n", (unsigned long long)seed,
                        e.msg);
                exit(1);
            }
            tcmd_free(t);
        }
        int p = past_limits(f);
        if ((p && past < 4) || (!p && other < 2)) {
            char name[48];
            snprintf(name, sizeof name, "random_%s_%llu",
                     p ? "past_limits" : "state", (unsigned long long)seed);
            struct blob s = snap_take(f);
            put("fsm_restore", name, s.data, s.len);
            blob_free(&s);
            past += p;
            other += !p;
        }
        fsm_free(f);
    }
}

static void restore_seeds(void)
{
    struct fsm *f = fsm_new();
    struct blob s = snap_take(f);
    put("fsm_restore", "empty", s.data, s.len);
    blob_free(&s);
    scenario_apply(f);
    s = snap_take(f);
    put("fsm_restore", "scenario", s.data, s.len);
    blob_free(&s);
    fsm_free(f);

    f = fsm_new();
    struct tcmd *t = tcmd_new(10);
    tcmd_queue_create(t, "q");
    tcmd_sub_create(t, "q", "s")->start = MQ__V1__START_POSITION__START_FIRST;
    tcmd_publish_msg(t, "q", "1", "one");
    tcmd_deliver(t, "q", "s", 1);
    struct errmsg e = ERRMSG_INIT;
    if (fsm_apply_tcmd(f, t, &e) != MQ_OK) {
        fprintf(stderr, "small: %s\n", e.msg);
        exit(1);
    }
    tcmd_free(t);
    s = snap_take(f);
    put("fsm_restore", "small", s.data, s.len);
    blob_free(&s);
    fsm_free(f);
}

/* PeerMessages as peer_encode writes them: cluster 1, from node 2. */
static void put_peer(const char *name, Mq__V1__PeerMessage *pm)
{
    pm->cluster = 1;
    pm->from_id = 2;
    pm->from_address = "tcp://127.0.0.1:7002";
    pm->from_client_url = "tcp://127.0.0.1:7102";
    size_t len = mq__v1__peer_message__get_packed_size(pm);
    uint8_t *buf = malloc(len);
    mq__v1__peer_message__pack(pm, buf);
    put("peer_decode", name, buf, len);
    free(buf);
}

static void peer_seeds(void)
{
    Mq__V1__PeerMessage pm = MQ__V1__PEER_MESSAGE__INIT;
    Mq__V1__RequestVote rv = MQ__V1__REQUEST_VOTE__INIT;
    rv.term = 3;
    rv.candidate_id = 2;
    rv.last_log_index = 10;
    rv.last_log_term = 2;
    pm.body_case = MQ__V1__PEER_MESSAGE__BODY_REQUEST_VOTE;
    pm.request_vote = &rv;
    put_peer("request_vote", &pm);

    struct tcmd *t = scenario_cmd(1);
    struct blob entry = tcmd_entry(t);
    Mq__V1__RaftEntry en = MQ__V1__RAFT_ENTRY__INIT, *enp = &en;
    en.term = 3;
    en.type = 1; /* RAFT_COMMAND */
    en.data.data = entry.data;
    en.data.len = entry.len;
    Mq__V1__AppendEntries ae = MQ__V1__APPEND_ENTRIES__INIT;
    ae.term = 3;
    ae.prev_log_index = 9;
    ae.prev_log_term = 2;
    ae.leader_commit = 9;
    ae.entries = &enp;
    ae.n_entries = 1;
    mq__v1__peer_message__init(&pm);
    pm.body_case = MQ__V1__PEER_MESSAGE__BODY_APPEND_ENTRIES;
    pm.append_entries = &ae;
    put_peer("append_entries", &pm);
    entry_free(&entry);
    tcmd_free(t);

    struct fsm *f = fsm_new();
    scenario_apply(f);
    struct blob snap = snap_take(f);
    fsm_free(f);
    Mq__V1__RaftServer srv = MQ__V1__RAFT_SERVER__INIT, *srvp = &srv;
    srv.id = 1;
    srv.address = "tcp://127.0.0.1:7001";
    srv.role = 1; /* RAFT_VOTER */
    Mq__V1__InstallSnapshot is = MQ__V1__INSTALL_SNAPSHOT__INIT;
    is.term = 3;
    is.last_index = 9;
    is.last_term = 2;
    is.conf = &srvp;
    is.n_conf = 1;
    is.conf_index = 1;
    is.data.data = snap.data;
    is.data.len = snap.len;
    mq__v1__peer_message__init(&pm);
    pm.body_case = MQ__V1__PEER_MESSAGE__BODY_INSTALL_SNAPSHOT;
    pm.install_snapshot = &is;
    put_peer("install_snapshot", &pm);
    blob_free(&snap);

    mq__v1__peer_message__init(&pm);
    pm.not_member = 1;
    pm.config_index = 12;
    put_peer("not_member", &pm);
}

/* A message store segment of @n records from seq 100 (bodies of growing
 * size), open, closed, or with its last record torn. */
static void put_store(const char *name, int n, int how)
{
    uint8_t buf[16384];
    size_t len = STORESEG_HEADER_SIZE;
    struct storeseg_tally t = {0};

    storeseg_header(buf, 100);
    for (int i = 0; i < n; i++) {
        char body[64];
        uint32_t blen =
            (uint32_t)snprintf(body, sizeof body, "body %d %.*s", i, i % 30,
                               "xxxxxxxxxxxxxxxxxxxxxxxx"
                               "xxxxxx");
        uint64_t seq = 100 + 3 * (uint64_t)i;
        uint32_t crc = storeseg_record_head(buf + len, seq, body, blen);
        memcpy(buf + len + STORESEG_RECORD_HEAD, body, blen);
        len += STORESEG_RECORD_HEAD + blen;
        storeseg_tally_add(&t, seq, crc);
    }
    if (how == 1) {
        storeseg_trailer(buf + len, &t);
        len += STORESEG_TRAILER_SIZE;
    } else if (how == 2) {
        len -= 5; /* the last record cut short */
    }
    put("storeseg", name, buf, len);
}

static void store_seeds(void)
{
    put_store("open_20", 20, 0);
    put_store("closed_20", 20, 1);
    put_store("closed_empty", 0, 1);
    put_store("torn_12", 12, 2);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    pub_seeds();
    apply_seeds();
    restore_seeds();
    random_restore_seeds();
    peer_seeds();
    key_seeds();
    store_seeds();
    return 0;
}
