/* cmd_redrive.c: mqctl queue redrive DLQ --to QUEUE [--rate N/s] [--batch
 * N] [--force] (flags: cmds.c). Moves the messages of dead-letter queue DLQ
 * back into QUEUE, oldest first (a DLQ that is not a dead-letter queue is
 * refused by the node, naming --force, unless --force is given), at most N per
 * second (default 100): mq_queue_redrive calls of
 * --batch messages (default the rate, at most 1000), each started at an
 * absolute time so that the moves of the past never exceed the rate, until
 * DLQ is empty or Ctrl-C (the call in progress completes first). Then it
 * prints the total on stdout.
 *
 * Progress goes to stderr as "moved X, Y left, Z/s" (Z: messages moved per
 * second since the start): one line updated in place when stderr is a
 * terminal, else one line a second. --json prints {"moved", "remaining",
 * "stopped"} at the end. */
#include "cmd_redrive.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "help.h"
#include "output.h"

#define REDRIVE_RATE 100
#define REDRIVE_RATE_MAX 1000000
#define REDRIVE_BATCH_MAX 1000
/* Wait before asking again when nothing moved but some are left. */
#define REDRIVE_IDLE_NS 1000000000ull
/* Most updates a second of the line in place. */
#define REDRIVE_TTY_EVERY_NS 100000000ull

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sleeps until @at_ns (mono_ns), or until a signal arrives. */
static void sleep_until(uint64_t at_ns)
{
    struct timespec ts = {(time_t)(at_ns / 1000000000ull),
                          (long)(at_ns % 1000000000ull)};

    while (!stop_requested && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
                                              &ts, NULL) == EINTR) {
    }
}

struct progress {
    int tty;
    uint64_t start_ns, shown_ns;
    int shown; /* a line in place is on screen */
};

/* Shows @moved and @left, at most every second (10 times a second on a
 * terminal) unless @last. The rate counts the time until @next_ns, when
 * the pacing lets the next call start, so that it never exceeds --rate. */
static void progress_show(struct progress *p, uint64_t moved, uint64_t left,
                          uint64_t next_ns, int last)
{
    uint64_t now = mono_ns();
    uint64_t span = (next_ns > now ? next_ns : now) - p->start_ns;

    if (!last &&
        now - p->shown_ns < (p->tty ? REDRIVE_TTY_EVERY_NS : 1000000000ull)) {
        return;
    }
    fprintf(stderr, "%smoved %llu, %llu left, %.0f/s%s",
            p->tty ? "\r\033[K" : "", (unsigned long long)moved,
            (unsigned long long)left,
            span > 0 ? (double)moved * 1e9 / (double)span : 0.0,
            p->tty && !last ? "" : "\n");
    fflush(stderr);
    p->shown = p->tty && !last;
    p->shown_ns = now;
}

int run_queue_redrive(struct mqctl *m, const struct cmd *cmd,
                      const struct args *a)
{
    struct sigaction sa, old_int, old_term;
    struct progress prog = {0};
    uint64_t rate = REDRIVE_RATE, batch, total = 0, left = 0, next_ns;
    const char *dlq, *to, *s;
    mq_client *c;
    int rc = 0;

    if ((to = args_get(a, "--to")) == NULL) {
        return usage_error(cmd, "missing --to QUEUE");
    }
    dlq = a->pos[0];
    if ((s = args_get(a, "--rate")) != NULL &&
        args_rate(s, REDRIVE_RATE_MAX, &rate) != 0) {
        return usage_error(cmd, "--rate: \"%s\": say N/s with N in 1..%d", s,
                           REDRIVE_RATE_MAX);
    }
    batch = rate < REDRIVE_BATCH_MAX ? rate : REDRIVE_BATCH_MAX;
    if ((s = args_get(a, "--batch")) != NULL &&
        (args_uint(s, MQ_MAX_BATCH, &batch) != 0 || batch == 0 ||
         batch > rate)) {
        return usage_error(cmd,
                           "--batch: \"%s\": say a number from 1 to the rate "
                           "(%llu), at most %d",
                           s, (unsigned long long)rate, MQ_MAX_BATCH);
    }
    if ((c = mqctl_client(m)) == NULL) {
        return mqctl_client_exit();
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: the sleep ends at once */
    sigemptyset(&sa.sa_mask);
    stop_requested = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    prog.tty = isatty(STDERR_FILENO);
    prog.start_ns = prog.shown_ns = next_ns = mono_ns();
    while (!stop_requested) {
        uint32_t moved;
        sleep_until(next_ns);
        if (stop_requested) {
            break;
        }
        if (mq_queue_redrive_flags(c, dlq, to, (uint32_t)batch,
                                   args_has(a, "--force") ? MQ_REDRIVE_FORCE
                                                          : 0,
                                   &moved, &left, 0) != MQ_OK) {
            if (prog.shown) {
                fputc('\n', stderr);
            }
            rc = out_fail("queue redrive", dlq);
            break;
        }
        total += moved;
        /* The next call may start once the rate allows what moved. */
        next_ns += moved > 0 ? moved * 1000000000ull / rate : REDRIVE_IDLE_NS;
        if (left == 0) {
            break;
        }
        progress_show(&prog, total, left, next_ns, 0);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc != 0) {
        return rc;
    }
    progress_show(&prog, total, left, next_ns, 1);
    if (m->json) {
        struct json j;
        json_begin(&j, stdout);
        json_obj_open(&j, NULL);
        json_u64(&j, "moved", total);
        json_u64(&j, "remaining", left);
        json_bool(&j, "stopped", stop_requested);
        json_obj_close(&j);
        json_end(&j);
    } else {
        printf("moved %llu message%s from %s to %s; %llu left%s\n",
               (unsigned long long)total, total == 1 ? "" : "s", dlq, to,
               (unsigned long long)left,
               stop_requested ? " (stopped by a signal)" : "");
    }
    return 0;
}
