/* pbscan.c: a bounds-checked reader of PubMessage bytes and a few writers.
 * Every read checks the end of the buffer: the bytes come from clients. */
#include "pbscan.h"

#include <string.h>

#include "names.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

int pb_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    const uint8_t *q = *p;
    for (int shift = 0; shift < 64; shift += 7) {
        if (q >= end) {
            return -1;
        }
        uint8_t b = *q++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *p = q;
            *v = x;
            return 0;
        }
    }
    return -1;
}

size_t pb_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

uint8_t *pb_put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

uint8_t *pb_put_uint(uint8_t *p, uint32_t field, uint64_t v)
{
    p = pb_put_varint(p, ((uint64_t)field << 3) | WT_VARINT);
    return pb_put_varint(p, v);
}

uint8_t *pb_put_bytes(uint8_t *p, uint32_t field, const void *data, size_t len)
{
    p = pb_put_varint(p, ((uint64_t)field << 3) | WT_LEN);
    p = pb_put_varint(p, len);
    if (len > 0) {
        memcpy(p, data, len);
    }
    return p + len;
}

/* Reads one length-delimited value; fails on wrong wire type or overrun. */
static int get_len(const uint8_t **p, const uint8_t *end, uint64_t wt,
                   const uint8_t **val, size_t *len)
{
    uint64_t n;
    if (wt != WT_LEN || pb_get_varint(p, end, &n) != 0 ||
        n > (uint64_t)(end - *p)) {
        return -1;
    }
    *val = *p;
    *len = (size_t)n;
    *p += n;
    return 0;
}

static int has_nul(const uint8_t *s, size_t len)
{
    return memchr(s, 0, len) != NULL;
}

static mq_err scan_header(const uint8_t *p, const uint8_t *end, uint32_t n,
                          struct errmsg *e)
{
    int have_key = 0;
    while (p < end) {
        uint64_t tag;
        const uint8_t *val;
        size_t len;
        if (pb_get_varint(&p, end, &tag) != 0 ||
            get_len(&p, end, tag & 7, &val, &len) != 0) {
            errmsg_set(e, "header %u is malformed", n);
            return MQ_ERR_PROTOCOL;
        }
        switch (tag >> 3) {
        case 1:
            if (len == 0 || len > PUB_HEADER_KEY_MAX || has_nul(val, len)) {
                errmsg_set(e, "header %u: key must be 1..%d bytes without NUL",
                           n, PUB_HEADER_KEY_MAX);
                return MQ_ERR_INVALID;
            }
            have_key = 1;
            break;
        case 2:
            if (len > PUB_HEADER_VALUE_MAX || has_nul(val, len)) {
                errmsg_set(e,
                           "header %u: value must be at most %d bytes "
                           "without NUL",
                           n, PUB_HEADER_VALUE_MAX);
                return MQ_ERR_INVALID;
            }
            break;
        default:
            errmsg_set(e, "header %u has unknown field %llu", n,
                       (unsigned long long)(tag >> 3));
            return MQ_ERR_PROTOCOL;
        }
    }
    if (!have_key) {
        errmsg_set(e, "header %u has no key", n);
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}

mq_err pub_scan(const uint8_t *blob, size_t len, struct pub_view *v,
                struct errmsg *e)
{
    const uint8_t *p = blob;
    const uint8_t *end = blob + len;
    int seen_payload = 0;
    int seen_delay = 0;
    mq_err rv;

    memset(v, 0, sizeof *v);
    if (len > UINT32_MAX) {
        errmsg_set(e, "message is larger than 4 GiB");
        return MQ_ERR_TOO_LARGE;
    }
    while (p < end) {
        uint64_t tag;
        const uint8_t *val;
        size_t vlen;
        if (pb_get_varint(&p, end, &tag) != 0) {
            errmsg_set(e, "message is malformed at byte %zu",
                       (size_t)(p - blob));
            return MQ_ERR_PROTOCOL;
        }
        if (tag == ((5 << 3) | WT_VARINT)) {
            if (seen_delay || pb_get_varint(&p, end, &v->delay_ms) != 0) {
                errmsg_set(e, "message has a malformed or second delay");
                return MQ_ERR_PROTOCOL;
            }
            seen_delay = 1;
            continue;
        }
        if (get_len(&p, end, tag & 7, &val, &vlen) != 0) {
            errmsg_set(e, "message is malformed at byte %zu",
                       (size_t)(p - blob));
            return MQ_ERR_PROTOCOL;
        }
        uint32_t off = (uint32_t)(val - blob);
        switch (tag >> 3) {
        case 1:
            if (v->id_len != 0) {
                errmsg_set(e, "message has two ids");
                return MQ_ERR_PROTOCOL;
            }
            rv = id_check((const char *)val, vlen, e);
            if (rv != MQ_OK) {
                return rv;
            }
            v->id_off = off;
            v->id_len = (uint32_t)vlen;
            break;
        case 2:
            if (v->event_len != 0) {
                errmsg_set(e, "message has two event names");
                return MQ_ERR_PROTOCOL;
            }
            rv = event_check((const char *)val, vlen, e);
            if (rv != MQ_OK) {
                return rv;
            }
            v->event_off = off;
            v->event_len = (uint32_t)vlen;
            break;
        case 3:
            if (++v->n_headers > PUB_MAX_HEADERS) {
                errmsg_set(e, "message has more than %d headers",
                           PUB_MAX_HEADERS);
                return MQ_ERR_INVALID;
            }
            rv = scan_header(val, val + vlen, v->n_headers, e);
            if (rv != MQ_OK) {
                return rv;
            }
            break;
        case 4:
            if (seen_payload) {
                errmsg_set(e, "message has two payloads");
                return MQ_ERR_PROTOCOL;
            }
            seen_payload = 1;
            v->payload_len = (uint32_t)vlen;
            break;
        default:
            errmsg_set(e, "message has unknown field %llu",
                       (unsigned long long)(tag >> 3));
            return MQ_ERR_PROTOCOL;
        }
    }
    if (v->payload_len == 0) {
        errmsg_set(e, "payload is empty");
        return MQ_ERR_INVALID;
    }
    return MQ_OK;
}

static size_t header_size(const char *k, const char *v)
{
    size_t kl = strlen(k), vl = strlen(v);
    size_t inner = 1 + pb_varint_size(kl) + kl + 1 + pb_varint_size(vl) + vl;
    return 1 + pb_varint_size(inner) + inner;
}

size_t pub_rewrite_size(size_t len, const char *new_id,
                        const struct pub_header *add, size_t n_add)
{
    size_t n = len;
    if (new_id) {
        n += 1 + PB_VARINT_MAX + strlen(new_id);
    }
    for (size_t i = 0; i < n_add; i++) {
        n += header_size(add[i].key, add[i].value);
    }
    return n;
}

/* Whether header bytes [h, h + len) have a key starting with @prefix. */
static int header_key_has_prefix(const uint8_t *h, size_t len,
                                 const char *prefix)
{
    const uint8_t *p = h, *end = h + len;
    size_t plen = strlen(prefix);
    while (p < end) {
        uint64_t tag;
        const uint8_t *val;
        size_t vlen;
        if (pb_get_varint(&p, end, &tag) != 0 ||
            get_len(&p, end, tag & 7, &val, &vlen) != 0) {
            return 0;
        }
        if ((tag >> 3) == 1) {
            return vlen >= plen && memcmp(val, prefix, plen) == 0;
        }
    }
    return 0;
}

size_t pub_rewrite(const uint8_t *blob, size_t len, const char *new_id,
                   const char *drop_prefix, const struct pub_header *add,
                   size_t n_add, uint8_t *out)
{
    const uint8_t *p = blob, *end = blob + len;
    uint8_t *o = out;

    if (new_id) {
        o = pb_put_bytes(o, 1, new_id, strlen(new_id));
    }
    while (p < end) {
        const uint8_t *start = p;
        uint64_t tag;
        const uint8_t *val = NULL;
        size_t vlen = 0;
        if (pb_get_varint(&p, end, &tag) != 0) {
            break; /* scanned before: cannot happen */
        }
        if ((tag & 7) == WT_VARINT) {
            uint64_t ignored;
            if (pb_get_varint(&p, end, &ignored) != 0) {
                break;
            }
        } else if (get_len(&p, end, tag & 7, &val, &vlen) != 0) {
            break;
        }
        if (((tag >> 3) == 1 && new_id) || (tag >> 3) == 5) {
            continue; /* replaced id; a delay is not applied twice */
        }
        if ((tag >> 3) == 3 && drop_prefix &&
            header_key_has_prefix(val, vlen, drop_prefix)) {
            continue;
        }
        memcpy(o, start, (size_t)(p - start));
        o += p - start;
    }
    for (size_t i = 0; i < n_add; i++) {
        size_t kl = strlen(add[i].key), vl = strlen(add[i].value);
        size_t inner =
            1 + pb_varint_size(kl) + kl + 1 + pb_varint_size(vl) + vl;
        o = pb_put_varint(o, (3 << 3) | WT_LEN);
        o = pb_put_varint(o, inner);
        o = pb_put_bytes(o, 1, add[i].key, kl);
        o = pb_put_bytes(o, 2, add[i].value, vl);
    }
    return (size_t)(o - out);
}
