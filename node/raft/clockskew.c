/* clockskew.c: a small table of per-node clock offsets (see clockskew.h). */
#include "clockskew.h"

#include <string.h>

static int fresh(const struct clockskew_peer *p, uint64_t mono_ms)
{
    return p->heard_ms != 0 && mono_ms - p->heard_ms <= CLOCKSKEW_FRESH_MS;
}

struct clockskew_peer *clockskew_get(struct clockskew *cs, uint64_t id)
{
    for (size_t i = 0; i < cs->n; i++) {
        if (cs->peers[i].id == id) {
            return &cs->peers[i];
        }
    }
    return NULL;
}

int64_t clockskew_update(struct clockskew *cs, uint64_t id, uint64_t sent_ms,
                         uint64_t now_ms, uint64_t mono_ms)
{
    struct clockskew_peer *p = clockskew_get(cs, id);
    if (p == NULL) {
        if (cs->n < CLOCKSKEW_MAX) {
            p = &cs->peers[cs->n++];
        } else {
            p = &cs->peers[0];
            for (size_t i = 1; i < cs->n; i++) {
                if (cs->peers[i].heard_ms < p->heard_ms) {
                    p = &cs->peers[i];
                }
            }
        }
        memset(p, 0, sizeof *p);
        p->id = id;
    }
    int64_t m = (int64_t)(sent_ms - now_ms);
    if (p->heard_ms == 0) {
        p->win_start_ms = mono_ms;
        p->win_max = m;
    } else if (mono_ms - p->win_start_ms >= CLOCKSKEW_WINDOW_MS) {
        p->prev_max = p->win_max;
        p->settled = 1;
        p->win_start_ms = mono_ms;
        p->win_max = m;
    } else if (m > p->win_max) {
        p->win_max = m;
    }
    p->skew_ms =
        p->settled && p->prev_max > p->win_max ? p->prev_max : p->win_max;
    p->heard_ms = mono_ms ? mono_ms : 1;
    return p->skew_ms;
}

int clockskew_is_behind(const struct clockskew_peer *p, int64_t max_ms)
{
    return p->settled && -p->skew_ms > max_ms;
}

size_t clockskew_behind_us(const struct clockskew *cs, const uint64_t *ids,
                           size_t n, int64_t max_ms, uint64_t mono_ms)
{
    size_t behind = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < cs->n; j++) {
            const struct clockskew_peer *p = &cs->peers[j];
            if (p->id == ids[i] && fresh(p, mono_ms) &&
                clockskew_is_behind(p, max_ms)) {
                behind++;
            }
        }
    }
    return behind;
}

int64_t clockskew_largest(const struct clockskew *cs, uint64_t mono_ms,
                          uint64_t *id)
{
    int64_t best = 0;
    *id = 0;
    for (size_t i = 0; i < cs->n; i++) {
        const struct clockskew_peer *p = &cs->peers[i];
        int64_t mag = p->skew_ms < 0 ? -p->skew_ms : p->skew_ms;
        int64_t cur = best < 0 ? -best : best;
        if (fresh(p, mono_ms) && (*id == 0 || mag > cur)) {
            best = p->skew_ms;
            *id = p->id;
        }
    }
    return best;
}
