/* memtrim.c: giving memory back to the system (memtrim.h). */
#include "memtrim.h"

#include <malloc.h>
#include <string.h>

#include "log.h"

/* Whether @now fell far enough below @peak: by @drop, or by half of a
 * peak of at least @min. */
static int fell(uint64_t peak, uint64_t now, uint64_t drop, uint64_t min)
{
    uint64_t d = peak > now ? peak - now : 0;
    return d >= drop || (d >= min && d >= peak / 2);
}

int memtrim_due(struct memtrim *m, const struct memtrim_sample *s,
                uint64_t now_ms)
{
    uint64_t last = m->last_conns;
    m->last_conns = s->conns;
    if (s->mem > m->mem_peak) {
        m->mem_peak = s->mem;
    }
    if (m->trimmed_ms != 0 && now_ms < m->trimmed_ms + MEMTRIM_GAP_MS) {
        return 0;
    }
    int state =
        fell(m->mem_peak, s->mem, MEMTRIM_DROP_BYTES, MEMTRIM_MIN_BYTES);
    int churned =
        s->conns == last && s->closed - m->closed_mark >= MEMTRIM_CONN_CLOSED;
    int snapped = s->snaps != m->snaps_mark;
    if (!state && !churned && !snapped) {
        return 0;
    }
    m->mem_peak = s->mem;
    m->closed_mark = s->closed;
    m->snaps_mark = s->snaps;
    m->trimmed_ms = now_ms ? now_ms : 1;
    m->trims++;
    return 1;
}

static void timer_cb(uv_timer_t *t)
{
    struct memtrim *m = t->data;
    struct bridge_stats bs;
    bridge_stats(m->b, &bs);
    struct memtrim_sample s = {
        .mem = fsm_mem_bytes(m->f) + fsm_ids_bytes(m->f),
        .conns = bs.connections,
        .closed = bs.closed,
        .snaps = m->c->snapshots_freed,
    };
    uint64_t mem_peak = m->mem_peak, mark = m->closed_mark;
    uint64_t snaps = s.snaps - m->snaps_mark;
    if (!memtrim_due(m, &s, uv_now(t->loop))) {
        return;
    }
    uint64_t t0 = uv_hrtime();
    malloc_trim(0);
    LOG_INFO("gave memory back to the system (state %.1f MiB, peak %.1f MiB; "
             "%llu client connections closed since the last time, %llu "
             "open; %llu snapshots written or restored): %.1f ms",
             (double)s.mem / 1048576,
             (double)(mem_peak > s.mem ? mem_peak : s.mem) / 1048576,
             (unsigned long long)(s.closed - mark), (unsigned long long)s.conns,
             (unsigned long long)snaps, (double)(uv_hrtime() - t0) / 1e6);
}

void memtrim_start(struct memtrim *m, uv_loop_t *loop, struct fsm *f,
                   struct bridge *b, struct consensus *c)
{
    memset(m, 0, sizeof *m);
    m->f = f;
    m->b = b;
    m->c = c;
    m->snaps_mark = c->snapshots_freed;
    uv_timer_init(loop, &m->timer);
    m->timer.data = m;
    uv_timer_start(&m->timer, timer_cb, MEMTRIM_EVERY_MS, MEMTRIM_EVERY_MS);
}

void memtrim_close(struct memtrim *m)
{
    uv_timer_stop(&m->timer);
    uv_close((uv_handle_t *)&m->timer, NULL);
}
