/* fuzz_peer_decode.c: peer_decode on arbitrary bytes, as a peer (or anyone
 * who reaches the peer port) may send them. What it accepts, peer_encode
 * writes back as bytes that peer_decode accepts again as the same kind of
 * raft message; entries and snapshot data taken over are released. */
#include <nng/nng.h>
#include <raft.h>
#include <string.h>

#include "fuzz.h"
#include "peer_codec.h"

#define FUZZ_CLUSTER 1

int fuzz_peer_decode_one(const uint8_t *data, size_t size)
{
    struct raft_message m;
    const char *why = NULL;
    Mq__V1__PeerMessage *pm = peer_decode(data, size, FUZZ_CLUSTER, &m, &why);

    if (pm == NULL) {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
        return 0;
    }
    struct peer_self self = {FUZZ_CLUSTER, pm->from_id, pm->from_address,
                             pm->from_client_url, pm->sent_at_ms};
    nng_msg *out = NULL;
    int rv = peer_encode(&self, &m, &out);
    FUZZ_CHECK(rv == 0);
    struct raft_message m2;
    Mq__V1__PeerMessage *pm2 = peer_decode(nng_msg_body(out), nng_msg_len(out),
                                           FUZZ_CLUSTER, &m2, &why);
    FUZZ_CHECK(pm2 != NULL);
    FUZZ_CHECK(m2.type == m.type && m2.server_id == m.server_id);
    FUZZ_CHECK(strcmp(m2.server_address, m.server_address) == 0);
    if (m.type == RAFT_IO_APPEND_ENTRIES) {
        FUZZ_CHECK(m2.append_entries.n_entries == m.append_entries.n_entries);
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
