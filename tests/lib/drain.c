/* drain.c: fetch-and-ack loops for cluster tests. */
#include "drain.h"

#include <stdlib.h>

#include "cluster.h"

void drain(mq_client *c, const char *queue, const char *sub, size_t batch,
           int idle_ms, int max_ms, const volatile int *stop, drain_cb cb,
           void *arg, struct drain_stats *st)
{
    uint64_t start = test_now_ms();
    uint64_t last = start;

    while ((stop == NULL || !*stop) &&
           test_now_ms() - start < (uint64_t)max_ms &&
           test_now_ms() - last < (uint64_t)idle_ms) {
        mq_msg **msgs = NULL;
        size_t n = 0;
        mq_err rv = mq_fetch(c, queue, sub, batch, 200, &msgs, &n);
        st->fetches++;
        if (rv != MQ_OK) {
            st->errors++;
            st->last_err = rv;
            test_sleep_ms(20);
            continue;
        }
        if (n == 0) {
            mq_msgs_free(msgs, n);
            continue;
        }
        uint64_t *seqs = malloc(n * sizeof *seqs);
        for (size_t i = 0; i < n; i++) {
            if (cb) {
                cb(arg, msgs[i]);
            }
            seqs[i] = mq_msg_seq(msgs[i]);
        }
        st->messages += n;
        last = test_now_ms();
        rv = mq_ack_seqs(c, queue, sub, seqs, n, 10000);
        if (rv != MQ_OK) {
            st->errors++;
            st->last_err = rv;
        }
        free(seqs);
        mq_msgs_free(msgs, n);
    }
}
