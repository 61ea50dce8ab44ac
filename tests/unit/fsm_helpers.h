/* fsm_helpers.h: builders shared by the unit tests of the node's FSM
 * modules: PubMessage bytes packed by protobuf-c, Commands of every op kind
 * packed with cmd_pack, and snapshots taken as one byte string.
 *
 * Builders use plain malloc (not mq_malloc), so that a test's
 * test_alloc_fail_at counts only the allocations of the code under test. A
 * builder that cannot allocate aborts the test program. */
#ifndef MQ_TEST_FSM_HELPERS_H
#define MQ_TEST_FSM_HELPERS_H

#include <stddef.h>
#include <stdint.h>

#include "errmsg.h"
#include "fsm.h"
#include "mq.h"
#include "raft.pb-c.h"

/* Bytes owned by the test; free with blob_free. */
struct blob {
    uint8_t *data;
    size_t len;
};

void blob_free(struct blob *b);
int blob_equal(const struct blob *a, const struct blob *b);

/* A PubMessage packed by protobuf-c. @id, @event NULL or "": not set.
 * @n_headers pairs come from @kv (key, value, key, value, ...). */
struct blob pub_blob_h(const char *id, const char *event, const void *payload,
                       size_t payload_len, const char *const *kv,
                       size_t n_headers);
/* A PubMessage with an id, event "ev" and @payload as its bytes. */
struct blob pub_blob(const char *id, const char *payload);

/* A Command under construction. Every pointer handed out lives as long as
 * the tcmd. */
struct tcmd;

struct tcmd *tcmd_new(uint64_t now_ms);
/* Stamps the bound of ids and statuses, as the leader does (evict.h). */
void tcmd_set_ids_budget(struct tcmd *t, uint64_t bytes);
void tcmd_free(struct tcmd *t);
Mq__V1__Command *tcmd_command(struct tcmd *t);

/* Op builders; each appends one op and returns its body for tweaking. */
Mq__V1__QueueConfig *tcmd_queue_create(struct tcmd *t, const char *name);
/* A queue update of the settings @set names (MQ_QUEUE_SET_* bits); set
 * their values in the config returned. */
Mq__V1__QueueConfig *tcmd_queue_update(struct tcmd *t, const char *name,
                                       uint32_t set);
void tcmd_queue_delete(struct tcmd *t, const char *name);
Mq__V1__SubConfig *tcmd_sub_create(struct tcmd *t, const char *queue,
                                   const char *name);
void tcmd_sub_delete(struct tcmd *t, const char *queue, const char *name);
Mq__V1__PublishOp *tcmd_publish(struct tcmd *t, const char *queue);
/* Appends a copy of @b to publish op @op. */
void tcmd_publish_add(struct tcmd *t, Mq__V1__PublishOp *op,
                      const struct blob *b);
/* One publish op holding one message pub_blob(@id, @payload). */
void tcmd_publish_msg(struct tcmd *t, const char *queue, const char *id,
                      const char *payload);
void tcmd_deliver(struct tcmd *t, const char *queue, const char *sub,
                  uint32_t max);
/* Acks (@nack 0) or nacks the @n seqs at @seqs. */
void tcmd_ack(struct tcmd *t, const char *queue, const char *sub, int nack,
              uint64_t delay_ms, const uint64_t *seqs, size_t n);
/* Ack with any mode (MQ__V1__ACK_MODE__*): ack, nack, touch or term;
 * @reason is a term's reason (NULL: none). */
void tcmd_ack_mode(struct tcmd *t, const char *queue, const char *sub, int mode,
                   uint64_t delay_ms, const char *reason, const uint64_t *seqs,
                   size_t n);
void tcmd_redrive(struct tcmd *t, const char *from, const char *to,
                  uint32_t max);
void tcmd_purge(struct tcmd *t, const char *queue);
/* Cancels message @id (of @queue; NULL: of any queue). */
void tcmd_cancel(struct tcmd *t, const char *queue, const char *id);
/* An op with no case set. */
void tcmd_empty_op(struct tcmd *t);

/* The entry cmd_pack makes of @t (from raft_malloc: free with raft_free, or
 * entry_free). */
struct blob tcmd_entry(struct tcmd *t);
void entry_free(struct blob *b);

/* Packs @t and applies it to @f. */
mq_err fsm_apply_tcmd(struct fsm *f, struct tcmd *t, struct errmsg *e);

/* fsm_snapshot, concatenated, then fsm_snapshot_done. Aborts on failure. */
struct blob snap_take(struct fsm *f);
/* Concatenates @n buffers. */
struct blob snap_concat(const struct raft_buffer *bufs, unsigned n);

/* A fixed sequence of Commands that builds a varied state: three queues
 * (limits with discard old, work retention, max age), subscriptions of
 * every start kind, deliveries, acks, nacks, redeliveries, duplicates,
 * a queue and a subscription deleted. Command @i of scenario_len(). */
size_t scenario_len(void);
struct tcmd *scenario_cmd(size_t i);
/* Applies the whole scenario to @f; aborts unless every apply is MQ_OK. */
void scenario_apply(struct fsm *f);

/* Key ops. A secret hash: kind KEY_HASH_SHA256 (iterations 0) with salt
 * and hash bytes all @fill (not a real hash: the FSM stores hashes, it
 * does not check them). */
Mq__V1__SecretHash *tcmd_secret(struct tcmd *t, uint8_t fill);
/* Creates key @name (@bootstrap: the bootstrap key) with a secret
 * tcmd_secret(@fill) and no grants; add them with tcmd_key_grant. */
Mq__V1__KeyCreateOp *tcmd_key_create(struct tcmd *t, const char *name,
                                     uint8_t fill, int bootstrap);
/* Appends a grant to a create (@kc) or update (@ku; one of the two). */
void tcmd_key_grant(struct tcmd *t, Mq__V1__KeyCreateOp *kc,
                    Mq__V1__KeyUpdateOp *ku, int deny, const char *ns,
                    unsigned verbs);
Mq__V1__KeyUpdateOp *tcmd_key_update(struct tcmd *t, const char *name);
/* Rotates key @name: a new secret tcmd_secret(@fill), or with @retire the
 * old one dropped. */
Mq__V1__KeyRotateOp *tcmd_key_rotate(struct tcmd *t, const char *name,
                                     uint8_t fill, int retire);
void tcmd_key_revoke(struct tcmd *t, const char *name);
void tcmd_key_used(struct tcmd *t, const char *name, uint64_t at_ms);

/* Adds event filter @filter to subscription config @sc of @t. */
void tcmd_sub_filter(struct tcmd *t, Mq__V1__SubConfig *sc, const char *filter);

/* Deterministic pseudo-random numbers for the model-based tests. */
uint64_t test_rand(uint64_t *state);

/* A random Command for the property tests and the fuzz corpus, chosen from
 * @seed and the state of @f (so that acks name seqs in flight): one to four
 * ops over a small world of queues with every kind of limit (discard old
 * and reject, max_bytes, max_messages, max_age, delays, work retention,
 * dead-letter queues of their own and by hand) and their subscriptions:
 * creates and deletes, publishes (duplicates, delays, atomic batches,
 * messages past the limits), deliveries, ack / nack / touch / term,
 * redrives, purges, queue updates, cancels. Time moves on by 0 to 700 ms from
 * *@now_ms, which is updated. Apply the Command and free it with tcmd_free. */
struct tcmd *random_cmd(const struct fsm *f, uint64_t *seed, uint64_t *now_ms);

#endif
