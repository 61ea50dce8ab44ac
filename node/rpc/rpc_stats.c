/* rpc_stats.c: the request path's counts and latencies (see rpc_stats.h).
 * Names come from the protobuf descriptors, so that a request kind or a
 * status added to the protocol is named without a change here. */
#include "rpc_stats.h"

#include <string.h>
#include <time.h>

#include "mq.pb-c.h"
#include "raft.pb-c.h"

void rpc_stats_init(struct rpc_stats *s)
{
    memset(s->replies, 0, sizeof s->replies);
    histo_init(&s->publish_commit_ns, histo_latency_ns, histo_latency_ns_n);
    histo_init(&s->publish_reply_ns, histo_latency_ns, histo_latency_ns_n);
}

void rpc_stats_reply(struct rpc_stats *s, int kind, int status)
{
    if (kind < 0 || kind >= RPC_STATS_KINDS) {
        kind = RPC_STATS_KINDS - 1;
    }
    if (status < 0 || status >= RPC_STATS_STATUSES) {
        status = RPC_STATS_STATUSES - 1;
    }
    s->replies[kind][status]++;
}

const char *rpc_stats_kind_name(int kind)
{
    const ProtobufCFieldDescriptor *f;
    if (kind == 0) {
        return "none";
    }
    f = protobuf_c_message_descriptor_get_field(
        &mq__v1__request_raw__descriptor, (unsigned)kind);
    return f != NULL && kind < RPC_STATS_KINDS - 1 ? f->name : "other";
}

const char *rpc_stats_status_name(int status)
{
    const ProtobufCEnumValue *v;
    if (status >= RPC_STATS_STATUSES - 1) {
        return "OTHER";
    }
    v = protobuf_c_enum_descriptor_get_value(&mq__v1__status__descriptor,
                                             status);
    if (v == NULL) {
        return "OTHER";
    }
    return strncmp(v->name, "STATUS_", 7) == 0 ? v->name + 7 : v->name;
}

uint64_t rpc_stats_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
