/* retry.c: the retry policy of every call (see retry.h). */
#include "retry.h"

#include <time.h>

void retry_init(struct retry *r, uint64_t now_ms, uint64_t timeout_ms)
{
    r->deadline_ms = now_ms + timeout_ms;
    r->backoff_ms = RETRY_BACKOFF_MIN_MS;
    r->hops = 0;
}

int retry_next(struct retry *r, uint64_t now_ms, size_t n, size_t cur,
               long hint, struct retry_step *step)
{
    int follow = hint >= 0 && (size_t)hint < n && (size_t)hint != cur;

    if (follow && r->hops < RETRY_MAX_HOPS) {
        step->node = (size_t)hint;
        step->delay_ms = 0;
        r->hops++;
    } else {
        step->node = follow ? (size_t)hint : (cur + 1) % (n == 0 ? 1 : n);
        step->delay_ms = r->backoff_ms;
        r->backoff_ms *= 2;
        if (r->backoff_ms > RETRY_BACKOFF_MAX_MS) {
            r->backoff_ms = RETRY_BACKOFF_MAX_MS;
        }
        r->hops = 0;
    }
    if (now_ms + step->delay_ms >= r->deadline_ms) {
        return -1;
    }
    return 0;
}

uint64_t retry_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
