/* rpc_nodestatus.c: the node's status (StatusRequest): its raft state,
 * members, disk, memory, clock skew, connections, authentication and the
 * expiry of its certificates, from this node's own state (any node
 * answers, leader or not). */
#include "rpc_nodestatus.h"

#include "alloc.h"
#include "auth.h"
#include "certinfo.h"
#include "diskuse.h"
#include "log.h"
#include "rpc_members.h"
#include "stagesreply.h"

/* When the certificates of file @path (config key @key; "": none) expire,
 * or 0 when there is none or it does not parse (said once per call at
 * DEBUG: the node says so at load and reload). */
static uint64_t cert_not_after(const char *key, const char *path)
{
    struct errmsg e = ERRMSG_INIT;
    uint64_t ms = 0;

    if (path[0] != '\0' && certinfo_not_after(key, path, &ms, &e) != MQ_OK) {
        LOG_DEBUG("status: %s", e.msg);
        ms = 0;
    }
    return ms;
}

void rpc_status(struct call *call)
{
    struct rpc *r = call->rpc;
    struct raft *raft = &r->c->raft;
    Mq__V1__Reply reply = MQ__V1__REPLY__INIT;
    Mq__V1__StatusReply st = MQ__V1__STATUS_REPLY__INIT;
    Mq__V1__Member *mem;
    Mq__V1__Member **memp;
    struct disk_use du;
    const char *url = NULL;

    if (rpc_members_fill(r, &mem, &memp, &st.n_members) != MQ_OK) {
        call_reply_error(call, MQ_ERR_NO_MEMORY, "status: out of memory");
        return;
    }
    st.members = memp;
    st.node_id = r->cfg->id;
    st.role = (char *)consensus_role(r->c);
    st.term = raft->current_term;
    st.commit_index = raft->commit_index;
    st.applied_index = raft_last_applied(raft);
    st.last_index = raft_last_index(raft);
    st.snapshot_index = raft->log.snapshot.last_index;
    st.leader_id = consensus_leader(r->c, &url);
    st.leader_url = (char *)(url ? url : "");
    st.client_url = (char *)r->cfg->client_url;
    disk_use_read(r->cfg->data_dir, &du);
    st.log_bytes = du.log_bytes;
    st.snapshot_bytes = du.snapshot_bytes;
    st.disk_free_bytes = du.free_bytes;
    st.memory_bytes = fsm_mem_bytes(r->f);
    st.memory_budget_bytes = r->cfg->memory_budget_bytes;
    st.ids_bytes = fsm_ids_bytes(r->f);
    st.ids_budget_bytes = r->f->ids_budget_bytes;
    st.ids_evicted = r->f->stats.ids_evicted;
    st.clock_skew_ms = clockskew_largest(&r->peer->skew, uv_now(r->peer->loop),
                                         &st.clock_skew_node);
    struct bridge_stats bs;
    bridge_stats(r->bridge, &bs);
    st.connections = bs.connections;
    st.waiting_fetches = waitset_count(&r->waiting);
    st.requests_active = bs.active;
    st.replies_not_sent = bs.replies_not_sent;
    st.auth = r->auth != NULL && auth_required(r->auth);
    st.key_name = call->key;
    st.tls_cert_not_after_ms =
        cert_not_after("tls_cert_file", r->cfg->tls_cert_file);
    st.peer_tls_cert_not_after_ms =
        cert_not_after("peer_tls_cert_file", r->cfg->peer_tls_cert_file);
    struct stagesreply sm = {0};
    if (call->in->status != NULL && call->in->status->stages &&
        stagesreply_fill(&r->c->stages, &st, &sm) != MQ_OK) {
        mq_free(mem);
        mq_free(memp);
        call_reply_error(call, MQ_ERR_NO_MEMORY, "status: out of memory");
        return;
    }
    reply.body_case = MQ__V1__REPLY__BODY_STATUS_REPLY;
    reply.status_reply = &st;
    call_reply(call, &reply);
    mq_free(mem);
    mq_free(memp);
    stagesreply_free(&sm);
}
