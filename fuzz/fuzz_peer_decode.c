/* fuzz_peer_decode.c: peer_decode on arbitrary bytes, as a peer (or anyone
 * who reaches the peer port) may send them. What it accepts is something a
 * node could have sent: peer_encode (or peer_encode_not_member, for a
 * notice) writes it back as bytes that peer_decode accepts again as the
 * same message, field by field; entries and snapshot data taken over are
 * released. */
#include <nng/nng.h>
#include <raft.h>
#include <string.h>

#include "fuzz.h"
#include "peer_codec.h"

#define FUZZ_CLUSTER 1

static int same_buf(const struct raft_buffer *a, const struct raft_buffer *b)
{
    return a->len == b->len &&
           (a->len == 0 || memcmp(a->base, b->base, a->len) == 0);
}

static int same_conf(const struct raft_configuration *a,
                     const struct raft_configuration *b)
{
    if (a->n != b->n) {
        return 0;
    }
    for (unsigned i = 0; i < a->n; i++) {
        if (a->servers[i].id != b->servers[i].id ||
            a->servers[i].role != b->servers[i].role ||
            strcmp(a->servers[i].address, b->servers[i].address) != 0) {
            return 0;
        }
    }
    return 1;
}

/* Whether @a and @b are the same raft message, every field. */
static int same_message(const struct raft_message *a,
                        const struct raft_message *b)
{
    if (a->type != b->type || a->server_id != b->server_id ||
        strcmp(a->server_address, b->server_address) != 0) {
        return 0;
    }
    switch (a->type) {
    case RAFT_IO_REQUEST_VOTE:
        return memcmp(&a->request_vote, &b->request_vote,
                      sizeof a->request_vote) == 0;
    case RAFT_IO_REQUEST_VOTE_RESULT:
        return a->request_vote_result.term == b->request_vote_result.term &&
               a->request_vote_result.vote_granted ==
                   b->request_vote_result.vote_granted &&
               a->request_vote_result.pre_vote ==
                   b->request_vote_result.pre_vote;
    case RAFT_IO_APPEND_ENTRIES: {
        const struct raft_append_entries *x = &a->append_entries,
                                         *y = &b->append_entries;
        if (x->term != y->term || x->prev_log_index != y->prev_log_index ||
            x->prev_log_term != y->prev_log_term ||
            x->leader_commit != y->leader_commit ||
            x->n_entries != y->n_entries) {
            return 0;
        }
        for (unsigned i = 0; i < x->n_entries; i++) {
            if (x->entries[i].term != y->entries[i].term ||
                x->entries[i].type != y->entries[i].type ||
                !same_buf(&x->entries[i].buf, &y->entries[i].buf)) {
                return 0;
            }
        }
        return 1;
    }
    case RAFT_IO_APPEND_ENTRIES_RESULT:
        return a->append_entries_result.term == b->append_entries_result.term &&
               a->append_entries_result.rejected ==
                   b->append_entries_result.rejected &&
               a->append_entries_result.last_log_index ==
                   b->append_entries_result.last_log_index;
    case RAFT_IO_INSTALL_SNAPSHOT: {
        const struct raft_install_snapshot *x = &a->install_snapshot,
                                           *y = &b->install_snapshot;
        return x->term == y->term && x->last_index == y->last_index &&
               x->last_term == y->last_term && x->conf_index == y->conf_index &&
               same_conf(&x->conf, &y->conf) && same_buf(&x->data, &y->data);
    }
    case RAFT_IO_TIMEOUT_NOW:
        return memcmp(&a->timeout_now, &b->timeout_now,
                      sizeof a->timeout_now) == 0;
    default:
        return 0;
    }
}

int fuzz_peer_decode_one(const uint8_t *data, size_t size)
{
    struct raft_message m;
    const char *why = NULL;
    Mq__V1__PeerMessage *pm = peer_decode(data, size, FUZZ_CLUSTER, &m, &why);

    if (pm == NULL) {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
        return 0;
    }
    if (pm->body_case == MQ__V1__PEER_MESSAGE__BODY_HELLO) {
        /* A hello (fuzz_peer_hello checks it): no raft message. */
        FUZZ_CHECK(m.type == 0 && !pm->not_member);
        peer_decode_free(pm);
        return 0;
    }
    struct peer_self self = {FUZZ_CLUSTER, pm->from_id, pm->from_address,
                             pm->from_client_url, pm->sent_at_ms};
    nng_msg *out = NULL;
    int notice = pm->not_member != 0;
    int rv = notice ? peer_encode_not_member(&self, pm->config_index, &out)
                    : peer_encode(&self, &m, &out);
    FUZZ_CHECK(rv == 0);
    struct raft_message m2;
    Mq__V1__PeerMessage *pm2 = peer_decode(nng_msg_body(out), nng_msg_len(out),
                                           FUZZ_CLUSTER, &m2, &why);
    FUZZ_CHECK(pm2 != NULL);
    FUZZ_CHECK(pm2->from_id == pm->from_id);
    FUZZ_CHECK(strcmp(pm2->from_address, pm->from_address) == 0);
    FUZZ_CHECK(strcmp(pm2->from_client_url ? pm2->from_client_url : "",
                      pm->from_client_url ? pm->from_client_url : "") == 0);
    FUZZ_CHECK(!pm2->not_member == !notice);
    FUZZ_CHECK(pm2->body_case == pm->body_case); /* nothing left out */
    if (notice) {
        FUZZ_CHECK(m2.type == 0 && m.type == 0);
        FUZZ_CHECK(pm2->config_index == pm->config_index);
    } else {
        FUZZ_CHECK(same_message(&m, &m2));
    }
    peer_message_release(&m2);
    peer_decode_free(pm2);
    nng_msg_free(out);
    peer_message_release(&m);
    peer_decode_free(pm);
    return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_peer_decode_one(data, size);
}
#endif
