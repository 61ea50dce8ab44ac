/* status.c: mq_cluster_status. Every node of the user's list is asked at
 * once (no redirects, no retries), each for at most the attempt timeout. */
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "conn.h"
#include "lasterr.h"

void status_from_pb(mq_node_status *out, const Mq__V1__StatusReply *r)
{
    out->id = r->node_id;
    snprintf(out->role, sizeof out->role, "%s", r->role != NULL ? r->role : "");
    out->term = r->term;
    out->commit_index = r->commit_index;
    out->applied_index = r->applied_index;
    out->last_index = r->last_index;
    out->snapshot_index = r->snapshot_index;
    out->leader_id = r->leader_id;
    snprintf(out->leader_url, sizeof out->leader_url, "%s",
             r->leader_url != NULL ? r->leader_url : "");
    out->log_bytes = r->log_bytes;
    out->snapshot_bytes = r->snapshot_bytes;
    out->disk_free_bytes = r->disk_free_bytes;
    out->memory_bytes = r->memory_bytes;
    out->memory_budget_bytes = r->memory_budget_bytes;
    out->ids_bytes = r->ids_bytes;
    out->ids_budget_bytes = r->ids_budget_bytes;
    out->ids_evicted = r->ids_evicted;
    out->clock_skew_node = r->clock_skew_node;
    out->clock_skew_ms = r->clock_skew_ms;
    out->connections = r->connections;
    out->waiting_fetches = r->waiting_fetches;
    out->requests_active = r->requests_active;
    out->replies_not_sent = r->replies_not_sent;
    out->auth = r->auth != 0;
    snprintf(out->key, sizeof out->key, "%s",
             r->key_name != NULL ? r->key_name : "");
    out->voters = 0;
    for (size_t i = 0; i < r->n_members; i++) {
        const char *role = r->members[i]->role;
        if (role == NULL || role[0] == '\0' || strcmp(role, "voter") == 0) {
            out->voters++;
        }
    }
}

MQ_API mq_err mq_cluster_status(mq_client *c, mq_node_status **out, size_t *n,
                                uint32_t timeout_ms)
{
    Mq__V1__StatusRequest sr = MQ__V1__STATUS_REQUEST__INIT;
    Mq__V1__Request req = MQ__V1__REQUEST__INIT;
    struct conn_answer *ans;
    mq_node_status *list;
    size_t count, answered = 0;
    uint64_t wait;

    if (c == NULL || out == NULL || n == NULL) {
        return lasterr_fail(MQ_ERR_INVALID, "status: an argument is NULL");
    }
    *out = NULL;
    *n = 0;
    count = conn_user_count(c->conn);
    list = calloc(count, sizeof *list);
    ans = calloc(count, sizeof *ans);
    if (list == NULL || ans == NULL) {
        free(list);
        free(ans);
        return lasterr_fail(MQ_ERR_NO_MEMORY, "status: out of memory");
    }
    wait = client_timeout(c, timeout_ms);
    if (wait > c->opts.attempt_timeout_ms) {
        wait = c->opts.attempt_timeout_ms;
    }
    req.body_case = MQ__V1__REQUEST__BODY_STATUS;
    req.status = &sr;
    conn_ask_each(c->conn, &req, (uint32_t)wait, ans);
    for (size_t i = 0; i < count; i++) {
        mq_node_status *s = &list[i];
        snprintf(s->url, sizeof s->url, "%s", conn_url(c->conn, i));
        s->err = ans[i].err;
        if (ans[i].err == MQ_OK &&
            ans[i].reply->body_case != MQ__V1__REPLY__BODY_STATUS_REPLY) {
            s->err = MQ_ERR_PROTOCOL;
            snprintf(ans[i].why, sizeof ans[i].why,
                     "the reply is not a status reply");
        }
        if (s->err == MQ_OK) {
            status_from_pb(s, ans[i].reply->status_reply);
            answered++;
        } else {
            snprintf(s->error, sizeof s->error, "%s", ans[i].why);
        }
        if (ans[i].reply != NULL) {
            mq__v1__reply__free_unpacked(ans[i].reply, NULL);
        }
    }
    if (answered == 0) {
        mq_err rv = MQ_ERR_NOT_DONE;
        char msg[LASTERR_SIZE];
        size_t len =
            (size_t)snprintf(msg, sizeof msg, "status: no node answered");
        for (size_t i = 0; i < count; i++) {
            if (len < sizeof msg) {
                len += (size_t)snprintf(msg + len, sizeof msg - len, "; %s",
                                        list[i].error);
            }
            if (list[i].err == MQ_ERR_TIMEOUT) {
                rv = MQ_ERR_TIMEOUT;
            }
        }
        lasterr_set("%s", msg);
        free(ans);
        free(list);
        return rv;
    }
    free(ans);
    *out = list;
    *n = count;
    return MQ_OK;
}

MQ_API void mq_status_free(mq_node_status *list)
{
    free(list);
}
