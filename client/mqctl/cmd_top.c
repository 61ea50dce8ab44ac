/* cmd_top.c: mqctl top, a live view of the queues and subscriptions: per
 * queue messages stored, bytes, age of the oldest message and the rates of
 * publishes, deliveries and acks; per subscription the lag in messages
 * and in seconds (how long its oldest message not acked has been due), in
 * flight, and its rates of deliveries and acks. Refreshed every
 * --interval (default 1s) until Ctrl-C, or --count times.
 *
 * Each refresh is two calls that the leader answers (mq_queue_list and
 * mq_sub_list of every queue); rates are the differences between two
 * refreshes over the time between them: publishes from the queue's last
 * seq, deliveries and acks from its subscriptions' counts (summed over them
 * for the queue). A queue or subscription seen for the first time shows
 * no rates yet ("-").
 *
 * --json: takes two samples --interval apart, prints one object and
 * exits: {"interval_ms", "queues": [{"name", "messages", "bytes",
 * "oldest_age_ms", "subscriptions", "publish_per_s", "deliver_per_s",
 * "ack_per_s"}], "subs": [{"queue", "name", "lag", "lag_ms", "pending",
 * "in_flight", "scheduled", "deliver_per_s", "ack_per_s"}]}. */
#include "cmd_top.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flagval.h"
#include "help.h"
#include "output.h"

static volatile sig_atomic_t top_stop;

static void on_stop(int sig)
{
    (void)sig;
    top_stop = 1;
}

/* One look at the queues and subscriptions. */
struct sample {
    uint64_t at_ms; /* monotonic */
    mq_queue_info *q;
    size_t nq;
    mq_sub_info *s;
    size_t ns;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sample_free(struct sample *x)
{
    mq_queue_list_free(x->q);
    mq_sub_list_free(x->s);
    memset(x, 0, sizeof *x);
}

/* Returns 0, or 1 after printing why. */
static int sample_take(mq_client *c, struct sample *x)
{
    memset(x, 0, sizeof *x);
    if (mq_queue_list(c, &x->q, &x->nq, 0) != MQ_OK) {
        return out_fail("top", NULL);
    }
    if (mq_sub_list(c, NULL, &x->s, &x->ns, 0) != MQ_OK) {
        mq_queue_list_free(x->q);
        x->q = NULL;
        return out_fail("top", NULL);
    }
    x->at_ms = mono_ms();
    return 0;
}

static const mq_queue_info *find_queue(const struct sample *x, const char *name)
{
    for (size_t i = 0; x != NULL && i < x->nq; i++) {
        if (strcmp(x->q[i].name, name) == 0) {
            return &x->q[i];
        }
    }
    return NULL;
}

static const mq_sub_info *find_sub(const struct sample *x, const char *queue,
                                   const char *name)
{
    for (size_t i = 0; x != NULL && i < x->ns; i++) {
        if (strcmp(x->s[i].queue, queue) == 0 &&
            strcmp(x->s[i].name, name) == 0) {
            return &x->s[i];
        }
    }
    return NULL;
}

/* Sums of the counts of @queue's subscriptions in @x. */
static void sub_sums(const struct sample *x, const char *queue,
                     uint64_t *delivered, uint64_t *acked)
{
    *delivered = *acked = 0;
    for (size_t i = 0; i < x->ns; i++) {
        if (strcmp(x->s[i].queue, queue) == 0) {
            *delivered += x->s[i].delivered;
            *acked += x->s[i].acked;
        }
    }
}

/* (@now - @then) per second over @ms; -1 when there is no earlier look or
 * a count went back (the queue was deleted and created again). */
static double rate(uint64_t then, uint64_t now, uint64_t ms)
{
    if (ms == 0 || now < then) {
        return -1;
    }
    return (double)(now - then) * 1000.0 / (double)ms;
}

struct queue_rates {
    double publish, deliver, ack;
};

static struct queue_rates queue_rates(const struct sample *prev,
                                      const struct sample *cur,
                                      const mq_queue_info *q)
{
    struct queue_rates r = {-1, -1, -1};
    const mq_queue_info *p = find_queue(prev, q->name);
    if (p != NULL && p->created_at_ms == q->created_at_ms) {
        uint64_t ms = cur->at_ms - prev->at_ms, d0, a0, d1, a1;
        sub_sums(prev, q->name, &d0, &a0);
        sub_sums(cur, q->name, &d1, &a1);
        r.publish = rate(p->last_seq, q->last_seq, ms);
        r.deliver = rate(d0, d1, ms);
        r.ack = rate(a0, a1, ms);
    }
    return r;
}

static void sub_rates(const struct sample *prev, const struct sample *cur,
                      const mq_sub_info *s, double *deliver, double *ack)
{
    const mq_sub_info *p = find_sub(prev, s->queue, s->name);
    *deliver = *ack = -1;
    if (p != NULL && p->created_at_ms == s->created_at_ms) {
        uint64_t ms = cur->at_ms - prev->at_ms;
        *deliver = rate(p->delivered, s->delivered, ms);
        *ack = rate(p->acked, s->acked, ms);
    }
}

static void cell_rate(struct table *t, double r)
{
    if (r < 0) {
        table_cell(t, "-");
    } else {
        table_cell(t, "%.1f", r);
    }
}

static void print_view(const struct sample *prev, const struct sample *cur,
                       uint64_t interval_ms, int tty)
{
    static const char *const qhead[] = {"QUEUE",     "MESSAGES", "BYTES",
                                        "OLDEST",    "SUBS",     "PUBLISH/S",
                                        "DELIVER/S", "ACK/S"};
    static const char *const shead[] = {
        "QUEUE", "SUB", "LAG", "LAG AGE", "IN FLIGHT", "DELIVER/S", "ACK/S"};
    char now[32], iv[32], buf[32];
    struct table t;

    out_time(mqctl_now_ms(), now, sizeof now);
    out_duration(interval_ms, iv, sizeof iv);
    if (tty) {
        fputs("\033[H\033[2J", stdout); /* home, clear */
    }
    printf("mqctl top  %s  every %s (Ctrl-C stops)\n\n", now, iv);
    table_init(&t, sizeof qhead / sizeof qhead[0], qhead);
    for (size_t i = 0; i < cur->nq; i++) {
        const mq_queue_info *q = &cur->q[i];
        struct queue_rates r = queue_rates(prev, cur, q);
        table_cell(&t, "%s", q->name);
        table_cell(&t, "%llu", (unsigned long long)q->messages);
        out_size(q->bytes, buf, sizeof buf);
        table_cell(&t, "%s", buf);
        out_duration(q->oldest_age_ms, buf, sizeof buf);
        table_cell(&t, "%s", q->messages ? buf : "-");
        table_cell(&t, "%u", q->subscriptions);
        cell_rate(&t, r.publish);
        cell_rate(&t, r.deliver);
        cell_rate(&t, r.ack);
    }
    table_print(&t, stdout);
    putchar('\n');
    table_init(&t, sizeof shead / sizeof shead[0], shead);
    for (size_t i = 0; i < cur->ns; i++) {
        const mq_sub_info *s = &cur->s[i];
        double d, a;
        sub_rates(prev, cur, s, &d, &a);
        table_cell(&t, "%s", s->queue);
        table_cell(&t, "%s", s->name);
        table_cell(&t, "%llu", (unsigned long long)s->lag);
        out_duration(s->lag_ms, buf, sizeof buf);
        table_cell(&t, "%s", buf);
        table_cell(&t, "%llu", (unsigned long long)s->in_flight);
        cell_rate(&t, d);
        cell_rate(&t, a);
    }
    table_print(&t, stdout);
    fflush(stdout);
}

static void json_rate(struct json *j, const char *key, double r)
{
    if (r < 0) {
        json_null(j, key);
    } else {
        json_f64(j, key, r);
    }
}

static void print_json(const struct sample *prev, const struct sample *cur)
{
    struct json j;

    json_begin(&j, stdout);
    json_obj_open(&j, NULL);
    json_u64(&j, "interval_ms", cur->at_ms - prev->at_ms);
    json_arr_open(&j, "queues");
    for (size_t i = 0; i < cur->nq; i++) {
        const mq_queue_info *q = &cur->q[i];
        struct queue_rates r = queue_rates(prev, cur, q);
        json_obj_open(&j, NULL);
        json_str(&j, "name", q->name);
        json_u64(&j, "messages", q->messages);
        json_u64(&j, "bytes", q->bytes);
        json_u64(&j, "oldest_age_ms", q->oldest_age_ms);
        json_u64(&j, "subscriptions", q->subscriptions);
        json_rate(&j, "publish_per_s", r.publish);
        json_rate(&j, "deliver_per_s", r.deliver);
        json_rate(&j, "ack_per_s", r.ack);
        json_obj_close(&j);
    }
    json_arr_close(&j);
    json_arr_open(&j, "subs");
    for (size_t i = 0; i < cur->ns; i++) {
        const mq_sub_info *s = &cur->s[i];
        double d, a;
        sub_rates(prev, cur, s, &d, &a);
        json_obj_open(&j, NULL);
        json_str(&j, "queue", s->queue);
        json_str(&j, "name", s->name);
        json_u64(&j, "lag", s->lag);
        json_u64(&j, "lag_ms", s->lag_ms);
        json_u64(&j, "pending", s->pending);
        json_u64(&j, "in_flight", s->in_flight);
        json_u64(&j, "scheduled", s->scheduled);
        json_rate(&j, "deliver_per_s", d);
        json_rate(&j, "ack_per_s", a);
        json_obj_close(&j);
    }
    json_arr_close(&j);
    json_obj_close(&j);
    json_end(&j);
}

/* Sleeps until @until_ms (monotonic) or Ctrl-C. */
static void sleep_until(uint64_t until_ms)
{
    uint64_t now;
    while (!top_stop && (now = mono_ms()) < until_ms) {
        uint64_t ms = until_ms - now;
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
        if (nanosleep(&ts, NULL) != 0 && errno != EINTR) {
            break;
        }
    }
}

int run_top(struct mqctl *m, const struct cmd *c, const struct args *a)
{
    struct sigaction sa, old_int, old_term;
    struct sample prev = {0}, cur = {0};
    uint64_t interval_ms = 1000, count = 0, next;
    mq_client *cl;
    int rc = 0;

    if ((rc = flag_duration(c, a, "--interval", 0, &interval_ms)) != 0 ||
        (rc = flag_count(c, a, "--count", 0, 1, UINT32_MAX, &count)) != 0) {
        return rc;
    }
    if (interval_ms < 100 || interval_ms > 3600000) {
        return usage_error(c, "--interval: say 100ms to 1h");
    }
    if ((cl = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: the sleep ends at once */
    sigemptyset(&sa.sa_mask);
    top_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if ((rc = sample_take(cl, &prev)) != 0) {
        goto out;
    }
    if (!m->json && count != 1) {
        print_view(NULL, &prev, interval_ms, isatty(STDOUT_FILENO));
    }
    next = prev.at_ms + interval_ms;
    for (uint64_t k = 1; !top_stop; k++) {
        sleep_until(next);
        if (top_stop) {
            break;
        }
        if ((rc = sample_take(cl, &cur)) != 0) {
            break;
        }
        if (m->json) {
            print_json(&prev, &cur);
            break;
        }
        print_view(&prev, &cur, interval_ms, isatty(STDOUT_FILENO));
        sample_free(&prev);
        prev = cur;
        memset(&cur, 0, sizeof cur);
        if (count != 0 && k + 1 >= count) {
            break;
        }
        next += interval_ms;
        if (next < mono_ms()) {
            next = mono_ms(); /* a slow answer: no catching up */
        }
    }
out:
    sample_free(&prev);
    sample_free(&cur);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}
