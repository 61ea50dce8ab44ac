/* fuzz_fsm_apply.c: log entries as raft hands them to the FSM, on an FSM
 * holding a small state (fuzz_base_fsm).
 *
 * Input: one mode byte, then
 *   mode even: the bytes are one log entry (any bytes: cmd framing is
 *     fuzzed too); an entry refused as not a Command must change nothing;
 *   mode odd: a list of [u16 little-endian length][protobuf Command] items;
 *     each that protobuf-c decodes is framed by cmd_pack and applied, so
 *     the ops themselves are fuzzed.
 * After the entries: every delivery must encode and decode, and the state
 * must snapshot, restore to the same bytes and go on alike. */
#include <string.h>

#include <raft.h>

#include "cmd.h"
#include "fuzz.h"
#include "fuzz_common.h"

static void apply_raw(struct fsm *f, const uint8_t *data, size_t size)
{
    struct errmsg e = ERRMSG_INIT;
    struct blob before = snap_take(f);
    mq_err rv = fsm_apply(f, data, size, &e);

    FUZZ_CHECK(rv == MQ_OK || rv == MQ_ERR_PROTOCOL);
    if (rv == MQ_ERR_PROTOCOL) {
        struct blob after = snap_take(f);
        FUZZ_CHECK(blob_equal(&before, &after));
        FUZZ_CHECK(f->n_ops == 0 && f->n_dels == 0);
        blob_free(&after);
    }
    blob_free(&before);
}

static void apply_commands(struct fsm *f, const uint8_t *data, size_t size)
{
    int n = 0;
    while (size >= 2 && n++ < 16) {
        size_t len = (size_t)data[0] | (size_t)data[1] << 8;
        data += 2;
        size -= 2;
        if (len > size) {
            len = size;
        }
        Mq__V1__Command *c = mq__v1__command__unpack(NULL, len, data);
        data += len;
        size -= len;
        if (c == NULL) {
            continue;
        }
        void *entry;
        size_t entry_len;
        struct errmsg e = ERRMSG_INIT;
        FUZZ_CHECK(cmd_pack(c, &entry, &entry_len) == MQ_OK);
        mq_err rv = fsm_apply(f, entry, entry_len, &e);
        if (rv == MQ_ERR_PROTOCOL) {
            /* protobuf-c 1.4 keeps an unknown field numbered 0 (in the Command
             * or any message inside) when it comes as a 2-byte varint tag,
             * packs it as a 1-byte tag, and refuses that on unpack: the Command
             * does not survive its own round trip. Only that is allowed here.
             * (The leader builds Commands from plain C values, never with
             * unknown fields.) */
            Mq__V1__Command *again = mq__v1__command__unpack(
                NULL, mq__v1__command__get_packed_size(c),
                (const uint8_t *)entry + CMD_HEADER);
            FUZZ_CHECK(again == NULL);
        } else {
            FUZZ_CHECK(rv == MQ_OK);
        }
        fuzz_check_deliveries(f);
        raft_free(entry);
        mq__v1__command__free_unpacked(c, NULL);
    }
}

int fuzz_fsm_apply_one(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    struct fsm *f = fuzz_base_fsm();
    if (data[0] % 2 == 0) {
        apply_raw(f, data + 1, size - 1);
    } else {
        apply_commands(f, data + 1, size - 1);
    }
    fuzz_check_deliveries(f);
    fuzz_check_restore_round_trip(f);
    fsm_free(f);
    return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_fsm_apply_one(data, size);
}
#endif
