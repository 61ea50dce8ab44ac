/* fuzz_pub_scan.c: pub_scan on arbitrary bytes, as a client may send them.
 * Beyond not crashing: what pub_scan accepts, protobuf-c decodes to the same
 * fields, and the delivery made of it decodes as a Delivery. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mq.pb-c.h"
#include "msg.h"
#include "pbscan.h"

int fuzz_pub_scan_one(const uint8_t *data, size_t size)
{
    struct pub_view v;
    struct errmsg e = ERRMSG_INIT;
    mq_err rv = pub_scan(data, size, &v, &e);

    if (rv != MQ_OK) {
        FUZZ_CHECK(rv == MQ_ERR_PROTOCOL || rv == MQ_ERR_INVALID);
        FUZZ_CHECK(e.msg[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(v.payload_len > 0 && v.payload_len <= size);
    FUZZ_CHECK((size_t)v.id_off + v.id_len <= size);
    FUZZ_CHECK((size_t)v.event_off + v.event_len <= size);
    FUZZ_CHECK(v.n_headers <= PUB_MAX_HEADERS);

    Mq__V1__PubMessage *pm = mq__v1__pub_message__unpack(NULL, size, data);
    FUZZ_CHECK(pm != NULL);
    FUZZ_CHECK(strlen(pm->id) == v.id_len);
    FUZZ_CHECK(memcmp(pm->id, data + v.id_off, v.id_len) == 0);
    FUZZ_CHECK(strlen(pm->event) == v.event_len);
    FUZZ_CHECK(memcmp(pm->event, data + v.event_off, v.event_len) == 0);
    FUZZ_CHECK(pm->n_headers == v.n_headers);
    FUZZ_CHECK(pm->payload.len == v.payload_len);
    for (size_t i = 0; i < pm->n_headers; i++) {
        FUZZ_CHECK(pm->headers[i]->key[0] != '\0');
    }
    mq__v1__pub_message__free_unpacked(pm, NULL);

    struct msg *m = msg_new(data, size, &v, 7, 1000, 1000);
    FUZZ_CHECK(m != NULL);
    size_t dl = msg_delivery_size(m, 2);
    uint8_t *buf = malloc(dl);
    FUZZ_CHECK(buf != NULL);
    FUZZ_CHECK(msg_encode_delivery(m, 2, buf) == buf + dl);
    Mq__V1__Delivery *d = mq__v1__delivery__unpack(NULL, dl, buf);
    FUZZ_CHECK(d != NULL);
    FUZZ_CHECK(d->seq == 7 && d->published_at_ms == 1000 && d->attempt == 2);
    FUZZ_CHECK(d->payload.len == v.payload_len);
    mq__v1__delivery__free_unpacked(d, NULL);
    free(buf);
    msg_free(m);
    return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_pub_scan_one(data, size);
}
#endif
