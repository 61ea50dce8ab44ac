/* peer_codec.c: raft messages <-> protobuf PeerMessages (raft.proto).
 * Decoding checks every field that raft would trust and refuses what it
 * cannot take: the bytes come from the network. It also refuses what no
 * node could have sent (what peer_encode or peer_encode_not_member would
 * not write), so that whatever it accepts encodes back to the same
 * message (fuzz_peer_decode checks that). */
#include "peer_codec.h"

#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "guard.h"
#include "peer_hello.h"

/* protobuf-c allocations on raft's heap, so that raft can take over the
 * bytes fields of a received message. */
static void *pb_raft_alloc(void *data, size_t size)
{
    (void)data;
    return raft_malloc(size);
}

static void pb_raft_free(void *data, void *ptr)
{
    (void)data;
    raft_free(ptr);
}

static ProtobufCAllocator pb_raft = {pb_raft_alloc, pb_raft_free, NULL};

static void conf_to_pb(const struct raft_configuration *conf,
                       Mq__V1__RaftServer *servers, Mq__V1__RaftServer **ptrs)
{
    for (unsigned i = 0; i < conf->n; i++) {
        mq__v1__raft_server__init(&servers[i]);
        servers[i].id = conf->servers[i].id;
        servers[i].address = conf->servers[i].address;
        servers[i].role = (uint32_t)conf->servers[i].role;
        ptrs[i] = &servers[i];
    }
}

union peer_body {
    Mq__V1__RequestVote rv;
    Mq__V1__RequestVoteResult rvr;
    Mq__V1__AppendEntries ae;
    Mq__V1__AppendEntriesResult aer;
    Mq__V1__InstallSnapshot is;
    Mq__V1__TimeoutNow tn;
};

/* Fills @pm from @m; entries and servers point at raft's memory or into
 * the arrays given. */
static int encode(const struct peer_self *self, const struct raft_message *m,
                  Mq__V1__PeerMessage *pm, Mq__V1__RaftEntry *ents,
                  Mq__V1__RaftEntry **entp, Mq__V1__RaftServer *srv,
                  Mq__V1__RaftServer **srvp, union peer_body *b)
{
    mq__v1__peer_message__init(pm);
    pm->cluster = self->cluster;
    pm->from_id = self->id;
    pm->from_address = (char *)self->peer_url;
    pm->from_client_url = (char *)self->client_url;
    pm->sent_at_ms = self->now_ms;
    switch (m->type) {
    case RAFT_IO_REQUEST_VOTE:
        mq__v1__request_vote__init(&b->rv);
        b->rv.term = m->request_vote.term;
        b->rv.candidate_id = m->request_vote.candidate_id;
        b->rv.last_log_index = m->request_vote.last_log_index;
        b->rv.last_log_term = m->request_vote.last_log_term;
        b->rv.disrupt_leader = m->request_vote.disrupt_leader;
        b->rv.pre_vote = m->request_vote.pre_vote;
        pm->body_case = MQ__V1__PEER_MESSAGE__BODY_REQUEST_VOTE;
        pm->request_vote = &b->rv;
        break;
    case RAFT_IO_REQUEST_VOTE_RESULT:
        mq__v1__request_vote_result__init(&b->rvr);
        b->rvr.term = m->request_vote_result.term;
        b->rvr.vote_granted = m->request_vote_result.vote_granted;
        b->rvr.pre_vote = (uint32_t)m->request_vote_result.pre_vote;
        pm->body_case = MQ__V1__PEER_MESSAGE__BODY_REQUEST_VOTE_RESULT;
        pm->request_vote_result = &b->rvr;
        break;
    case RAFT_IO_APPEND_ENTRIES:
        mq__v1__append_entries__init(&b->ae);
        b->ae.term = m->append_entries.term;
        b->ae.prev_log_index = m->append_entries.prev_log_index;
        b->ae.prev_log_term = m->append_entries.prev_log_term;
        b->ae.leader_commit = m->append_entries.leader_commit;
        for (unsigned i = 0; i < m->append_entries.n_entries; i++) {
            const struct raft_entry *en = &m->append_entries.entries[i];
            mq__v1__raft_entry__init(&ents[i]);
            ents[i].term = en->term;
            ents[i].type = en->type;
            ents[i].data.data = en->buf.base;
            ents[i].data.len = en->buf.len;
            entp[i] = &ents[i];
        }
        b->ae.entries = entp;
        b->ae.n_entries = m->append_entries.n_entries;
        pm->body_case = MQ__V1__PEER_MESSAGE__BODY_APPEND_ENTRIES;
        pm->append_entries = &b->ae;
        break;
    case RAFT_IO_APPEND_ENTRIES_RESULT:
        mq__v1__append_entries_result__init(&b->aer);
        b->aer.term = m->append_entries_result.term;
        b->aer.rejected = m->append_entries_result.rejected;
        b->aer.last_log_index = m->append_entries_result.last_log_index;
        pm->body_case = MQ__V1__PEER_MESSAGE__BODY_APPEND_ENTRIES_RESULT;
        pm->append_entries_result = &b->aer;
        break;
    case RAFT_IO_INSTALL_SNAPSHOT:
        mq__v1__install_snapshot__init(&b->is);
        b->is.term = m->install_snapshot.term;
        b->is.last_index = m->install_snapshot.last_index;
        b->is.last_term = m->install_snapshot.last_term;
        conf_to_pb(&m->install_snapshot.conf, srv, srvp);
        b->is.conf = srvp;
        b->is.n_conf = m->install_snapshot.conf.n;
        b->is.conf_index = m->install_snapshot.conf_index;
        b->is.data.data = m->install_snapshot.data.base;
        b->is.data.len = m->install_snapshot.data.len;
        pm->body_case = MQ__V1__PEER_MESSAGE__BODY_INSTALL_SNAPSHOT;
        pm->install_snapshot = &b->is;
        break;
    case RAFT_IO_TIMEOUT_NOW:
        mq__v1__timeout_now__init(&b->tn);
        b->tn.term = m->timeout_now.term;
        b->tn.last_log_index = m->timeout_now.last_log_index;
        b->tn.last_log_term = m->timeout_now.last_log_term;
        pm->body_case = MQ__V1__PEER_MESSAGE__BODY_TIMEOUT_NOW;
        pm->timeout_now = &b->tn;
        break;
    default:
        return RAFT_MALFORMED;
    }
    return 0;
}

int peer_encode(const struct peer_self *self, const struct raft_message *m,
                nng_msg **out)
{
    Mq__V1__PeerMessage pm;
    union peer_body body;
    Mq__V1__RaftEntry *ents = NULL, **entp = NULL;
    Mq__V1__RaftServer *srv = NULL, **srvp = NULL;
    int rv = 0;

    *out = NULL;
    if (m->type == RAFT_IO_APPEND_ENTRIES && m->append_entries.n_entries) {
        ents = mq_calloc(m->append_entries.n_entries, sizeof *ents);
        entp = mq_calloc(m->append_entries.n_entries, sizeof *entp);
        if (ents == NULL || entp == NULL) {
            rv = RAFT_NOMEM;
            goto out;
        }
    }
    if (m->type == RAFT_IO_INSTALL_SNAPSHOT) {
        srv = mq_calloc(m->install_snapshot.conf.n + 1, sizeof *srv);
        srvp = mq_calloc(m->install_snapshot.conf.n + 1, sizeof *srvp);
        if (srv == NULL || srvp == NULL) {
            rv = RAFT_NOMEM;
            goto out;
        }
    }
    if (encode(self, m, &pm, ents, entp, srv, srvp, &body) != 0) {
        rv = RAFT_MALFORMED;
        goto out;
    }
    size_t len = mq__v1__peer_message__get_packed_size(&pm);
    if (nng_msg_alloc(out, len) != 0) {
        rv = RAFT_NOMEM;
        goto out;
    }
    mq__v1__peer_message__pack(&pm, nng_msg_body(*out));
out:
    mq_free(ents);
    mq_free(entp);
    mq_free(srv);
    mq_free(srvp);
    return rv;
}

static int decode_entries(const Mq__V1__AppendEntries *ae,
                          struct raft_append_entries *out)
{
    out->entries = NULL;
    out->n_entries = 0;
    if (ae->n_entries == 0) {
        return 0;
    }
    if (ae->n_entries > UINT32_MAX) {
        return -1;
    }
    for (size_t i = 0; i < ae->n_entries; i++) {
        const Mq__V1__RaftEntry *en = ae->entries[i];
        /* Guard (1): only entries padded to 8 bytes enter the log. */
        if (en->term == 0 || !guard_entry_size_ok(en->data.len) ||
            en->type < RAFT_COMMAND || en->type > RAFT_CHANGE) {
            return -1;
        }
    }
    /* One batch holds every entry's data: libraft 0.15 frees only the
     * first entry's batch of an AppendEntries it rejects or that adds
     * nothing (recv_append_entries.c), so entries with a batch each would
     * leak. The copy costs what raft's own entry copy costs. */
    size_t total = 0;
    for (size_t i = 0; i < ae->n_entries; i++) {
        if (ae->entries[i]->data.len > SIZE_MAX - total) {
            return -1;
        }
        total += ae->entries[i]->data.len;
    }
    uint8_t *batch = raft_malloc(total);
    out->entries = raft_calloc(ae->n_entries, sizeof *out->entries);
    if (batch == NULL || out->entries == NULL) {
        raft_free(batch);
        raft_free(out->entries);
        out->entries = NULL;
        return -1;
    }
    size_t off = 0;
    for (size_t i = 0; i < ae->n_entries; i++) {
        const Mq__V1__RaftEntry *en = ae->entries[i];
        memcpy(batch + off, en->data.data, en->data.len);
        out->entries[i].term = en->term;
        out->entries[i].type = (unsigned short)en->type;
        out->entries[i].buf.base = batch + off;
        out->entries[i].buf.len = en->data.len;
        out->entries[i].batch = batch;
        off += en->data.len;
    }
    out->n_entries = (unsigned)ae->n_entries;
    return 0;
}

static int decode_conf(const Mq__V1__InstallSnapshot *is,
                       struct raft_configuration *conf)
{
    raft_configuration_init(conf);
    for (size_t i = 0; i < is->n_conf; i++) {
        const Mq__V1__RaftServer *s = is->conf[i];
        if (s->id == 0 || s->address == NULL || s->address[0] == '\0' ||
            s->role > RAFT_SPARE ||
            raft_configuration_add(conf, s->id, s->address, (int)s->role) !=
                0) {
            raft_configuration_close(conf);
            return -1;
        }
    }
    return 0;
}

/* Turns @pm into @m. Returns 0, or -1 for a message to drop. */
static int decode(Mq__V1__PeerMessage *pm, struct raft_message *m)
{
    memset(m, 0, sizeof *m);
    m->server_id = pm->from_id;
    m->server_address = pm->from_address;
    switch (pm->body_case) {
    case MQ__V1__PEER_MESSAGE__BODY_REQUEST_VOTE: {
        const Mq__V1__RequestVote *b = pm->request_vote;
        m->type = RAFT_IO_REQUEST_VOTE;
        m->request_vote.term = b->term;
        m->request_vote.candidate_id = b->candidate_id;
        m->request_vote.last_log_index = b->last_log_index;
        m->request_vote.last_log_term = b->last_log_term;
        m->request_vote.disrupt_leader = b->disrupt_leader;
        m->request_vote.pre_vote = b->pre_vote;
        return b->candidate_id == pm->from_id ? 0 : -1;
    }
    case MQ__V1__PEER_MESSAGE__BODY_REQUEST_VOTE_RESULT: {
        const Mq__V1__RequestVoteResult *b = pm->request_vote_result;
        if (b->pre_vote > raft_tribool_false) {
            return -1;
        }
        m->type = RAFT_IO_REQUEST_VOTE_RESULT;
        m->request_vote_result.term = b->term;
        m->request_vote_result.vote_granted = b->vote_granted;
        m->request_vote_result.pre_vote = (raft_tribool)b->pre_vote;
        return 0;
    }
    case MQ__V1__PEER_MESSAGE__BODY_APPEND_ENTRIES: {
        const Mq__V1__AppendEntries *b = pm->append_entries;
        m->type = RAFT_IO_APPEND_ENTRIES;
        m->append_entries.term = b->term;
        m->append_entries.prev_log_index = b->prev_log_index;
        m->append_entries.prev_log_term = b->prev_log_term;
        m->append_entries.leader_commit = b->leader_commit;
        return decode_entries(b, &m->append_entries);
    }
    case MQ__V1__PEER_MESSAGE__BODY_APPEND_ENTRIES_RESULT: {
        const Mq__V1__AppendEntriesResult *b = pm->append_entries_result;
        m->type = RAFT_IO_APPEND_ENTRIES_RESULT;
        m->append_entries_result.term = b->term;
        m->append_entries_result.rejected = b->rejected;
        m->append_entries_result.last_log_index = b->last_log_index;
        return 0;
    }
    case MQ__V1__PEER_MESSAGE__BODY_INSTALL_SNAPSHOT: {
        Mq__V1__InstallSnapshot *b = pm->install_snapshot;
        /* A leader sends its snapshot with the configuration it holds,
         * committed at or before the snapshot's last index: never an
         * empty one, which raft would install. */
        if (b->data.len == 0 || b->last_index == 0 || b->last_term == 0 ||
            b->n_conf == 0 || b->conf_index == 0 ||
            b->conf_index > b->last_index) {
            return -1;
        }
        m->type = RAFT_IO_INSTALL_SNAPSHOT;
        m->install_snapshot.term = b->term;
        m->install_snapshot.last_index = b->last_index;
        m->install_snapshot.last_term = b->last_term;
        m->install_snapshot.conf_index = b->conf_index;
        if (decode_conf(b, &m->install_snapshot.conf) != 0) {
            return -1;
        }
        m->install_snapshot.data.base = b->data.data; /* taken over */
        m->install_snapshot.data.len = b->data.len;
        b->data.data = NULL;
        b->data.len = 0;
        return 0;
    }
    case MQ__V1__PEER_MESSAGE__BODY_TIMEOUT_NOW: {
        const Mq__V1__TimeoutNow *b = pm->timeout_now;
        m->type = RAFT_IO_TIMEOUT_NOW;
        m->timeout_now.term = b->term;
        m->timeout_now.last_log_index = b->last_log_index;
        m->timeout_now.last_log_term = b->last_log_term;
        return 0;
    }
    default:
        return -1;
    }
}

int peer_encode_not_member(const struct peer_self *self, uint64_t config_index,
                           nng_msg **out)
{
    Mq__V1__PeerMessage pm = MQ__V1__PEER_MESSAGE__INIT;
    pm.cluster = self->cluster;
    pm.from_id = self->id;
    pm.from_address = (char *)self->peer_url;
    pm.from_client_url = (char *)self->client_url;
    pm.sent_at_ms = self->now_ms;
    pm.not_member = 1;
    pm.config_index = config_index;
    size_t len = mq__v1__peer_message__get_packed_size(&pm);
    if (nng_msg_alloc(out, len) != 0) {
        return RAFT_NOMEM;
    }
    mq__v1__peer_message__pack(&pm, nng_msg_body(*out));
    return 0;
}

Mq__V1__PeerMessage *peer_decode(const void *buf, size_t len, uint64_t cluster,
                                 struct raft_message *m, const char **why)
{
    Mq__V1__PeerMessage *pm = mq__v1__peer_message__unpack(&pb_raft, len, buf);
    if (pm == NULL) {
        *why = "not a PeerMessage";
        return NULL;
    }
    if (pm->cluster != cluster) {
        *why = "from another cluster (cluster_name differs)";
    } else if (pm->from_id == 0 || pm->from_address == NULL ||
               pm->from_address[0] == '\0' ||
               strlen(pm->from_address) >= MQ_URL_MAX ||
               pm->from_client_url == NULL || pm->from_client_url[0] == '\0' ||
               strlen(pm->from_client_url) >= MQ_URL_MAX) {
        /* Every node stamps its id, peer URL and client URL (config
         * requires both URLs). */
        *why = "bad sender";
    } else if (pm->not_member &&
               pm->body_case != MQ__V1__PEER_MESSAGE__BODY__NOT_SET) {
        /* peer_encode_not_member never adds one: what the node cannot
         * send, it does not take. */
        *why = "a not-member notice carrying a raft message";
    } else if (pm->body_case == MQ__V1__PEER_MESSAGE__BODY_HELLO) {
        const char *bad = peer_hello_shape(pm->hello);
        if (bad == NULL) {
            memset(m, 0, sizeof *m); /* a hello, no raft message (type 0) */
            m->server_id = pm->from_id;
            m->server_address = pm->from_address;
            return pm;
        }
        *why = bad;
    } else if (pm->not_member) {
        memset(m, 0, sizeof *m); /* a notice, no raft message (type 0) */
        m->server_id = pm->from_id;
        m->server_address = pm->from_address;
        return pm;
    } else if (decode(pm, m) != 0) {
        *why = "malformed raft message";
    } else {
        return pm;
    }
    mq__v1__peer_message__free_unpacked(pm, &pb_raft);
    return NULL;
}

void peer_decode_free(Mq__V1__PeerMessage *pm)
{
    if (pm != NULL) {
        mq__v1__peer_message__free_unpacked(pm, &pb_raft);
    }
}

void peer_message_release(struct raft_message *m)
{
    if (m->type == RAFT_IO_APPEND_ENTRIES) {
        if (m->append_entries.n_entries > 0) {
            raft_free(m->append_entries.entries[0].batch); /* one for all */
        }
        raft_free(m->append_entries.entries);
        m->append_entries.entries = NULL;
        m->append_entries.n_entries = 0;
    } else if (m->type == RAFT_IO_INSTALL_SNAPSHOT) {
        raft_configuration_close(&m->install_snapshot.conf);
        raft_free(m->install_snapshot.data.base);
        m->install_snapshot.data.base = NULL;
    }
}
