/* cmd_settle.c: mqctl nack, term and peek: what a subscription holds,
 * settled or looked at by seq (flags: cmds.c).
 *
 *   nack QUEUE SUB SEQ... [--delay DUR]: the delivered messages SEQ... go
 *   back, to be delivered again after DUR.
 *   term QUEUE SUB SEQ... [--reason TEXT]: they are dead-lettered now.
 *   peek QUEUE SUB [--count N]: up to N (default 10) messages SUB has not
 *   acked, oldest first, each with its state (pending, scheduled,
 *   delivered) and deliveries so far. Nothing is delivered or acked: peek
 *   reads the stored messages from the subscription's ack floor on
 *   (mq_read) and asks for each what SUB did with it (mq_message_status),
 *   leaving out those it acked, dead-lettered or filters out; it looks at
 *   PEEK_SCAN_MAX messages at most.
 *
 * The seqs are those consume prints (consume --no-ack leaves them in
 * flight). --json: nack and term print {"nacked"|"terminated": [seqs]};
 * peek prints one object per message and line (out_msg's, with "state"
 * and "attempts"). */
#include "cmd_settle.h"

#include <stdio.h>
#include <string.h>

#include "cmd_message.h"
#include "flagval.h"
#include "help.h"
#include "output.h"

#define PEEK_COUNT 10
#define PEEK_SCAN_MAX 10000
#define PEEK_BATCH 100

/* Reads the SEQ... positionals (from the third on) of @a into @seqs.
 * Returns 0 or a usage error's exit code. */
static int read_seqs(const struct cmd *c, const struct args *a, uint64_t *seqs,
                     size_t *n)
{
    int rv;

    *n = 0;
    for (size_t i = 2; i < a->n_pos; i++) {
        if ((rv = pos_count(c, "seq", a->pos[i], 1, UINT64_MAX,
                            &seqs[(*n)++])) != 0) {
            return rv;
        }
    }
    return 0;
}

/* Prints what nack or term did: {"@key": [seqs]} or one line. */
static void print_settled(const struct mqctl *m, const char *key,
                          const char *done, const struct args *a,
                          const uint64_t *seqs, size_t n)
{
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_arr_open(&j, key);
        for (size_t i = 0; i < n; i++) {
            json_u64(&j, NULL, seqs[i]);
        }
        json_arr_close(&j);
        json_obj_close(&j);
        json_end(&j);
        return;
    }
    printf("%s %zu message%s of %s/%s:", done, n, n == 1 ? "" : "s", a->pos[0],
           a->pos[1]);
    for (size_t i = 0; i < n; i++) {
        printf(" %llu", (unsigned long long)seqs[i]);
    }
    putchar('\n');
}

int run_nack(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    uint64_t seqs[CMD_MANY], delay_ms = 0;
    size_t n;
    mq_client *cl;
    int rv;

    if ((rv = read_seqs(c, a, seqs, &n)) != 0 ||
        (rv = flag_duration(c, a, "--delay", 0, &delay_ms)) != 0) {
        return rv;
    }
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_nack_seqs(cl, a->pos[0], a->pos[1], seqs, n, delay_ms, 0) != MQ_OK) {
        return out_fail("nack", a->pos[0]);
    }
    print_settled(m, "nacked", "gave back", a, seqs, n);
    return 0;
}

int run_term(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    uint64_t seqs[CMD_MANY];
    size_t n;
    mq_client *cl;
    int rv;

    if ((rv = read_seqs(c, a, seqs, &n)) != 0) {
        return rv;
    }
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    if (mq_term_seqs(cl, a->pos[0], a->pos[1], seqs, n, args_get(a, "--reason"),
                     0) != MQ_OK) {
        return out_fail("term", a->pos[0]);
    }
    print_settled(m, "terminated", "dead-lettered", a, seqs, n);
    return 0;
}

/* What @sub did with @msg of @queue: its status entry, looked up by id
 * (the one of @msg's seq). Returns 1 and sets *state and *attempts, 0
 * when the status is gone (the message left meanwhile), -1 on failure. */
static int sub_state_of(mq_client *cl, const char *sub, const mq_msg *msg,
                        mq_sub_state *state, uint32_t *attempts)
{
    mq_msg_status *list;
    size_t n;
    int found = 0;
    mq_err rv =
        mq_message_status(cl, mq_msg_id(msg), mq_msg_queue(msg), &list, &n, 0);

    if (rv == MQ_ERR_NOT_FOUND) {
        return 0;
    }
    if (rv != MQ_OK) {
        return -1;
    }
    for (size_t i = 0; i < n && !found; i++) {
        if (list[i].seq != mq_msg_seq(msg)) {
            continue;
        }
        for (size_t k = 0; k < list[i].n_subs; k++) {
            if (strcmp(list[i].subs[k].name, sub) == 0) {
                *state = list[i].subs[k].state;
                *attempts = list[i].subs[k].attempts;
                found = 1;
                break;
            }
        }
    }
    mq_msg_status_free(list, n);
    return found;
}

int run_peek(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    const char *queue = a->pos[0], *sub = a->pos[1];
    mq_read_opts o = MQ_READ_OPTS_INIT;
    uint64_t count = PEEK_COUNT, shown = 0, scanned = 0;
    char obj[MQ_QNAME_MAX + MQ_NAME_MAX + 2];
    mq_sub_info info;
    mq_client *cl;
    int rv;

    if ((rv = flag_count(c, a, "--count", 0, 1, MQ_MAX_BATCH, &count)) != 0) {
        return rv;
    }
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    snprintf(obj, sizeof obj, "%.*s/%.*s", MQ_QNAME_MAX, queue, MQ_NAME_MAX,
             sub);
    if (mq_sub_info_get(cl, queue, sub, &info, 0) != MQ_OK) {
        return out_fail("peek", obj);
    }
    o.from_seq = info.ack_floor + 1;
    while (shown < count && scanned < PEEK_SCAN_MAX) {
        mq_read_info ri;
        mq_msg **msgs;
        size_t n;
        o.max_messages = PEEK_BATCH;
        if (mq_read(cl, queue, &o, &msgs, &n, &ri, 0) != MQ_OK) {
            return out_fail("peek", obj);
        }
        for (size_t i = 0; i < n && shown < count; i++) {
            mq_sub_state st;
            uint32_t attempts = 0;
            int got = sub_state_of(cl, sub, msgs[i], &st, &attempts);
            if (got < 0) {
                mq_msgs_free(msgs, n);
                return out_fail("peek", obj);
            }
            if (got == 0 || st == MQ_SUB_ACKED || st == MQ_SUB_FILTERED ||
                st == MQ_SUB_DEAD_LETTERED) {
                continue;
            }
            out_msg_state(msgs[i], m->json, sub_state_name(st), attempts);
            shown++;
        }
        scanned += n;
        if (n > 0) {
            o.from_seq = mq_msg_seq(msgs[n - 1]) + 1;
        }
        mq_msgs_free(msgs, n);
        if (n == 0 || (ri.last_seq != 0 && o.from_seq > ri.last_seq)) {
            break;
        }
    }
    if (!m->json && shown == 0) {
        printf("no message waits for %s: it acked all it was given (%llu "
               "deliveries, %llu acked)\n",
               obj, (unsigned long long)info.delivered,
               (unsigned long long)info.acked);
    }
    return 0;
}
