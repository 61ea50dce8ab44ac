/* pbconv.c: settings between protobuf and C. */
#include "pbconv.h"

#include <string.h>

/* Copies a name; one too long becomes "" plus a flag character that
 * name_check refuses, so that the error says so rather than cutting it. */
static void copy_name(char *dst, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n > MQ_NAME_MAX) {
        memcpy(dst, "(name too long)", 16);
        return;
    }
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

void pbconv_queue_from(struct queue_config *c, const Mq__V1__QueueConfig *pb)
{
    memset(c, 0, sizeof *c);
    if (pb == NULL) {
        return;
    }
    copy_name(c->name, pb->name);
    c->retention = (int)pb->retention;
    c->discard = (int)pb->discard;
    c->max_messages = pb->max_messages;
    c->max_bytes = pb->max_bytes;
    c->max_age_ms = pb->max_age_ms;
    c->max_message_bytes = pb->max_message_bytes;
    c->duplicate_window_ms = pb->duplicate_window_ms;
    c->ack_timeout_ms = pb->ack_timeout_ms;
    c->max_deliveries = pb->max_deliveries;
}

void pbconv_queue_to(Mq__V1__QueueConfig *pb, const struct queue_config *c)
{
    mq__v1__queue_config__init(pb);
    pb->name = (char *)c->name;
    pb->retention = (Mq__V1__Retention)c->retention;
    pb->discard = (Mq__V1__Discard)c->discard;
    pb->max_messages = c->max_messages;
    pb->max_bytes = c->max_bytes;
    pb->max_age_ms = c->max_age_ms;
    pb->max_message_bytes = c->max_message_bytes;
    pb->duplicate_window_ms = c->duplicate_window_ms;
    pb->ack_timeout_ms = c->ack_timeout_ms;
    pb->max_deliveries = c->max_deliveries;
}

void pbconv_sub_from(struct sub_config *c, const Mq__V1__SubConfig *pb)
{
    memset(c, 0, sizeof *c);
    if (pb == NULL) {
        return;
    }
    copy_name(c->name, pb->name);
    c->start = (int)pb->start;
    c->start_seq = pb->start_seq;
    c->ack_timeout_ms = pb->ack_timeout_ms;
    c->max_deliveries = pb->max_deliveries;
}

void pbconv_sub_to(Mq__V1__SubConfig *pb, const struct sub_config *c,
                   const char *queue)
{
    mq__v1__sub_config__init(pb);
    pb->queue = (char *)queue;
    pb->name = (char *)c->name;
    pb->start = (Mq__V1__StartPosition)c->start;
    pb->start_seq = c->start_seq;
    pb->ack_timeout_ms = c->ack_timeout_ms;
    pb->max_deliveries = c->max_deliveries;
}
