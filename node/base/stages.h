/* stages.h: where a publish's and a delivery's time goes on this node. One
 * latency histogram (lathist.h) per stage, since the node started, and the
 * times of the log entries in flight by raft index, so that the layers
 * that see an entry at different moments (the log write and the peer
 * messages in raft/, group commit and the replies in rpc/) can put their
 * times together. Plain data, loop thread only; clock: uv_hrtime's
 * (CLOCK_MONOTONIC, ns), which bridge.c's request start_ns also reads.
 *
 * Exported through the status reply when the request asks for them
 * (StatusRequest.stages, node/rpc/stagesreply.c; libmq's
 * mq_cluster_stages), which mqbench --stages prints (docs/benchmarks.md,
 * "Where the time goes"); a metrics endpoint can export the same
 * histograms (count, sum, bucket bounds). */
#ifndef MQ_STAGES_H
#define MQ_STAGES_H

#include <stddef.h>
#include <stdint.h>

#include "lathist.h"

/* The stages, in the order they happen. Each name says where it is
 * measured (leader or follower), what for, and from which moment to
 * which; docs/benchmarks.md has the table. */
#define STAGES(X)                                                              \
    X(PUB_BRIDGE, "pub.bridge", "publish received by nng -> on the loop")      \
    X(PUB_CHECK, "pub.check", "on the loop -> batched (decode, key, checks)")  \
    X(PUB_QUEUE, "pub.queue", "batched -> its entry proposed")                 \
    X(PUB_COMMIT, "pub.commit", "proposed -> its entry applied")               \
    X(PUB_REPLY, "pub.reply", "entry applied -> reply handed to nng")          \
    X(PUB_TOTAL, "pub.total", "publish received -> replied")                   \
    X(ENTRY_WRITE, "entry.write", "leader: proposed -> local write done")      \
    X(ENTRY_ACK, "entry.ack", "leader: proposed -> first follower's ack")      \
    X(ENTRY_COMMIT, "entry.commit", "leader: proposed -> committed")           \
    X(ENTRY_APPLY, "entry.apply", "leader: committed -> applied")              \
    X(FOLLOWER_WRITE, "follower.write",                                        \
      "follower: write begun -> done, ack sent")                               \
    X(FOLLOWER_APPLY, "follower.apply", "follower: write begun -> applied")    \
    X(DEL_WAKE, "del.wake",                                                    \
      "messages for a waiting fetch applied -> its delivery batched")          \
    X(DEL_QUEUE, "del.queue", "delivery batched -> its entry proposed")        \
    X(DEL_COMMIT, "del.commit", "delivery proposed -> its entry applied")      \
    X(DEL_REPLY, "del.reply", "delivery applied -> reply handed to nng")       \
    X(DEL_TOTAL, "del.total",                                                  \
      "fetch woken (or received with messages there) -> replied")

enum stage_id {
#define X(id, name, what) STAGE_##id,
    STAGES(X)
#undef X
        STAGE_COUNT
};

/* Entries remembered by index: more than can be in flight at once. */
#define STAGES_RING 256

struct stage_entry {
    uint64_t index;      /* 0: slot unused */
    uint64_t begun_ns;   /* its log write began */
    uint64_t written_ns; /* its log write completed */
    uint64_t acked_ns;   /* a follower acknowledged it (leader) */
    uint64_t commit_ns;  /* the callback that committed it began */
};

struct stages {
    struct lathist h[STAGE_COUNT];
    struct stage_entry ring[STAGES_RING];
    /* The highest index a follower acknowledged, as leader. */
    uint64_t acked_index;
    /* When the raft callback running now began (0: none known): the
     * moment an entry it commits counts as committed. */
    uint64_t cb_ns;
};

void stages_init(struct stages *s);

/* The stage's name ("pub.total") and what it measures. */
const char *stages_name(enum stage_id id);
const char *stages_what(enum stage_id id);

static inline void stages_record(struct stages *s, enum stage_id id,
                                 uint64_t from_ns, uint64_t to_ns)
{
    if (from_ns != 0 && to_ns >= from_ns) {
        lathist_record(&s->h[id], to_ns - from_ns);
    }
}

/* Entries [@first, @first + @n) began their log write at @ns. */
void stages_begun(struct stages *s, uint64_t first, uint64_t n, uint64_t ns);
/* Their write completed at @ns; as a follower (@leader 0), records
 * FOLLOWER_WRITE. */
void stages_written(struct stages *s, uint64_t first, uint64_t n, uint64_t ns,
                    int leader);
/* As leader: a follower acknowledged every entry up to @index at @ns. */
void stages_acked(struct stages *s, uint64_t index, uint64_t ns);

/* The entry at @index, or NULL when it is not remembered. */
struct stage_entry *stages_entry(struct stages *s, uint64_t index);

#endif
