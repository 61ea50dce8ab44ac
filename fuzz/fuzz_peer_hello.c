/* fuzz_peer_hello.c: the peer hello (node/raft/peer_hello.c) on arbitrary
 * bytes, as anyone who reaches the peer port may send them: peer_decode,
 * then peer_hello_verify against a fixed identity (a CA and a node
 * certificate for host node1.fuzz, made with openssl for this target,
 * valid for a century) at a fixed time. Checks: a refusal says why; a
 * hello accepted is signed, addressed to this node, within the time
 * window, and accepted once only (the same bytes again are a replay). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "peer_codec.h"
#include "peer_hello.h"
#include "tlsid.h"

#define FUZZ_CLUSTER 1

/* The time the seeds were signed at (ms since the epoch). */
#define FUZZ_NOW_MS 1800000000000ull

const char fuzz_hello_ca[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBkTCCATegAwIBAgIUWj6WrdcKQvPxFkzGyy21jLZiNDcwCgYIKoZIzj0EAwIw\n"
    "FTETMBEGA1UEAwwKbXEgZnV6eiBDQTAgFw0yNjEyMDcxMzI1MzRaGA8yMTI2MTEx\n"
    "MzEzMjUzNFowFTETMBEGA1UEAwwKbXEgZnV6eiBDQTBZMBMGByqGSM49AgEGCCqG\n"
    "SM49AwEHA0IABEHXsAX7ZUYK9qs859F7XVr8sX39KXUJejpgu6yDUAlgQ5ykyLHm\n"
    "VmR0Cn/hiNfSmau2ly6kAfxsgc8YbWuZQCOjYzBhMB0GA1UdDgQWBBTCvwDN5G8x\n"
    "cPnxwEmNvIbmi0ncNzAfBgNVHSMEGDAWgBTCvwDN5G8xcPnxwEmNvIbmi0ncNzAP\n"
    "BgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwICBDAKBggqhkjOPQQDAgNIADBF\n"
    "AiA5HWz5SqYvNYCA5hfh9ndKiF/d1vMpaOeWFgclkkDm8wIhAMKbwE8pX2zh/FnS\n"
    "lv+JU7tbnj9WDiXBU6+Hy+V/2ERd\n"
    "-----END CERTIFICATE-----\n";
const char fuzz_hello_cert[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhjCCAS2gAwIBAgIUWEujy7tCtmQj6Uuq/jZZ45l3rEwwCgYIKoZIzj0EAwIw\n"
    "FTETMBEGA1UEAwwKbXEgZnV6eiBDQTAgFw0yNjEyMDcxMzI1MzRaGA8yMTI2MTEx\n"
    "MzEzMjUzNFowFTETMBEGA1UEAwwKbm9kZTEuZnV6ejBZMBMGByqGSM49AgEGCCqG\n"
    "SM49AwEHA0IABDCZ9F3+s3+3VCQUc1DDg8SoXg5qGtVidP7/xDMNxxTJopm37FB+\n"
    "auzI7/4Y9brZwaZ1aTKd1NFVSHd2bGxKgmmjWTBXMBUGA1UdEQQOMAyCCm5vZGUx\n"
    "LmZ1enowHQYDVR0OBBYEFL95gjL+thBWVZiZEWO8rR5DgSyEMB8GA1UdIwQYMBaA\n"
    "FMK/AM3kbzFw+fHASY28huaLSdw3MAoGCCqGSM49BAMCA0cAMEQCIBOaklZoF71P\n"
    "Y1vcswGZHudvw1x/vwiDrD1KYKA3B1wBAiA0x4eDuGW5N3siYnKyLp7gAccIk4Dy\n"
    "2N+RxwG7GutfOQ==\n"
    "-----END CERTIFICATE-----\n";
const char fuzz_hello_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjhF0WA4PgK5wQHgQ\n"
    "jpDq5G5T6CDTv32jWsulKGfiFGKhRANCAAQwmfRd/rN/t1QkFHNQw4PEqF4OahrV\n"
    "YnT+/8QzDccUyaKZt+xQfmrsyO/+GPW62cGmdWkyndTRVUh3dmxsSoJp\n"
    "-----END PRIVATE KEY-----\n";

static struct tlsid *identity(void)
{
    static struct tlsid *id;
    if (id == NULL) {
        struct errmsg e = ERRMSG_INIT;
        FUZZ_CHECK(tlsid_from_pem(&id, fuzz_hello_cert, fuzz_hello_key,
                                  fuzz_hello_ca, &e) == MQ_OK);
    }
    return id;
}

int fuzz_peer_hello_one(const uint8_t *data, size_t size)
{
    struct raft_message m;
    const char *why = NULL;
    Mq__V1__PeerMessage *pm = peer_decode(data, size, FUZZ_CLUSTER, &m, &why);
    static struct peer_hello_seen seen;
    struct errmsg e = ERRMSG_INIT;

    if (pm == NULL) {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
        return 0;
    }
    if (pm->body_case != MQ__V1__PEER_MESSAGE__BODY_HELLO) {
        peer_message_release(&m);
        peer_decode_free(pm);
        return 0;
    }
    FUZZ_CHECK(m.type == 0 && peer_hello_shape(pm->hello) == NULL);
    memset(&seen, 0, sizeof seen); /* each input alone */
    struct peer_hello_ctx ctx = {.id = identity(),
                                 .cluster_name = "mq",
                                 .self_id = 2,
                                 .now_ms = FUZZ_NOW_MS,
                                 .max_skew_ms = 1000,
                                 .host = "node1.fuzz",
                                 .seen = &seen};
    if (peer_hello_verify(pm, &ctx, &e) == MQ_OK) {
        uint64_t age = pm->sent_at_ms > FUZZ_NOW_MS
                           ? pm->sent_at_ms - FUZZ_NOW_MS
                           : FUZZ_NOW_MS - pm->sent_at_ms;
        FUZZ_CHECK(pm->hello->n_certs > 0 && pm->hello->signature.len > 0);
        FUZZ_CHECK(pm->hello->to_id == 2);
        FUZZ_CHECK(age <= PEER_HELLO_MAX_AGE_MS + 1000);
        struct errmsg e2 = ERRMSG_INIT;
        FUZZ_CHECK(peer_hello_verify(pm, &ctx, &e2) == MQ_ERR_INVALID);
        FUZZ_CHECK(strstr(e2.msg, "replayed") != NULL);
    } else {
        FUZZ_CHECK(e.msg[0] != '\0');
    }
    peer_decode_free(pm);
    return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_peer_hello_one(data, size);
}
#endif
