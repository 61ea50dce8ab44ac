/* fuzz_fsm_restore.c: fsm_restore on arbitrary bytes, as a snapshot read
 * from disk or installed by the leader. A refused snapshot must leave the
 * FSM as it was; an accepted one must be a state that snapshots, restores
 * to the same bytes and applies Commands (deliver, ack, nack, publish to
 * every queue and subscription it has) alike on both copies. */
#include "fuzz.h"
#include "fuzz_common.h"

int fuzz_fsm_restore_one(const uint8_t *data, size_t size)
{
    struct fsm *f = fuzz_base_fsm();
    struct blob before = snap_take(f);
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = fsm_restore(f, data, size, &e);

    if (rv != MQ_OK) {
        FUZZ_CHECK(rv == MQ_ERR_PROTOCOL);
        FUZZ_CHECK(e.msg[0] != '\0');
        struct blob after = snap_take(f);
        FUZZ_CHECK(blob_equal(&before, &after));
        blob_free(&after);
    } else {
        fuzz_check_restore_round_trip(f);
    }
    blob_free(&before);
    fsm_free(f);
    return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_fsm_restore_one(data, size);
}
#endif
