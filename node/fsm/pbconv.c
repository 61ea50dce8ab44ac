/* pbconv.c: settings between protobuf and C. */
#include "pbconv.h"

#include <stdio.h>
#include <string.h>

/* Copies a name into @size bytes; one too long becomes a marker that the
 * name checks refuse, so that the error says so rather than cutting it. */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= size) {
        snprintf(dst, size, "%s", "(name too long)");
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
    copy_str(c->name, sizeof c->name, pb->name);
    c->retention = (int)pb->retention;
    c->discard = (int)pb->discard;
    c->max_messages = pb->max_messages;
    c->max_bytes = pb->max_bytes;
    c->max_age_ms = pb->max_age_ms;
    c->max_message_bytes = pb->max_message_bytes;
    c->duplicate_window_ms = pb->duplicate_window_ms;
    c->ack_timeout_ms = pb->ack_timeout_ms;
    c->max_deliveries = pb->max_deliveries;
    c->delay_ms = pb->delay_ms;
    c->max_delay_ms = pb->max_delay_ms;
    copy_str(c->dead_letter_queue, sizeof c->dead_letter_queue,
             pb->dead_letter_queue);
    c->status_ttl_ms = pb->status_ttl_ms;
    c->status_max = pb->status_max;
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
    pb->delay_ms = c->delay_ms;
    pb->max_delay_ms = c->max_delay_ms;
    pb->dead_letter_queue = (char *)c->dead_letter_queue;
    pb->status_ttl_ms = c->status_ttl_ms;
    pb->status_max = c->status_max;
}

mq_err pbconv_sub_from(struct sub_config *c, const Mq__V1__SubConfig *pb,
                       struct errmsg *e)
{
    memset(c, 0, sizeof *c);
    if (pb == NULL) {
        return MQ_OK;
    }
    copy_str(c->name, sizeof c->name, pb->name);
    c->start = (int)pb->start;
    c->start_seq = pb->start_seq;
    c->start_time_ms = pb->start_time_ms;
    c->ack_timeout_ms = pb->ack_timeout_ms;
    c->max_deliveries = pb->max_deliveries;
    size_t used = 0;
    if (pb->n_filters > SUB_MAX_FILTERS) {
        errmsg_set(e, "%zu filters, at most %d", pb->n_filters,
                   SUB_MAX_FILTERS);
        return MQ_ERR_INVALID;
    }
    for (size_t i = 0; i < pb->n_filters; i++) {
        size_t len = strlen(pb->filters[i]);
        if (used + len + 1 > sizeof c->filters) {
            errmsg_set(e, "filters take more than %zu bytes",
                       sizeof c->filters);
            return MQ_ERR_INVALID;
        }
        memcpy(c->filters + used, pb->filters[i], len + 1);
        used += len + 1;
        c->n_filters++;
    }
    return MQ_OK;
}

void pbconv_sub_to(Mq__V1__SubConfig *pb, const struct sub_config *c,
                   const char *queue, char **filters)
{
    mq__v1__sub_config__init(pb);
    pb->queue = (char *)queue;
    pb->name = (char *)c->name;
    pb->start = (Mq__V1__StartPosition)c->start;
    pb->start_seq = c->start_seq;
    pb->start_time_ms = c->start_time_ms;
    pb->ack_timeout_ms = c->ack_timeout_ms;
    pb->max_deliveries = c->max_deliveries;
    const char *f = c->filters;
    for (uint32_t i = 0; i < c->n_filters && i < SUB_MAX_FILTERS; i++) {
        filters[i] = (char *)f;
        f += strlen(f) + 1;
    }
    pb->filters = filters;
    pb->n_filters = c->n_filters;
}
