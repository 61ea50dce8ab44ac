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

int memtrim_due(struct memtrim *m, uint64_t mem, uint64_t conns,
                uint64_t closed, uint64_t now_ms)
{
    uint64_t last = m->last_conns;
    m->last_conns = conns;
    if (mem > m->mem_peak) {
        m->mem_peak = mem;
    }
    if (m->trimmed_ms != 0 && now_ms < m->trimmed_ms + MEMTRIM_GAP_MS) {
        return 0;
    }
    int state = fell(m->mem_peak, mem, MEMTRIM_DROP_BYTES, MEMTRIM_MIN_BYTES);
    int churned =
        conns == last && closed - m->closed_mark >= MEMTRIM_CONN_CLOSED;
    if (!state && !churned) {
        return 0;
    }
    m->mem_peak = mem;
    m->closed_mark = closed;
    m->trimmed_ms = now_ms ? now_ms : 1;
    m->trims++;
    return 1;
}

static void timer_cb(uv_timer_t *t)
{
    struct memtrim *m = t->data;
    uint64_t mem = fsm_mem_bytes(m->f) + fsm_ids_bytes(m->f);
    uint64_t mem_peak = m->mem_peak, mark = m->closed_mark;
    struct bridge_stats bs = {0};
    if (m->b != NULL) {
        bridge_stats(m->b, &bs);
    }
    if (!memtrim_due(m, mem, bs.connections, bs.closed, uv_now(t->loop))) {
        return;
    }
    uint64_t t0 = uv_hrtime();
    malloc_trim(0);
    LOG_INFO("gave memory back to the system (state %.1f MiB, peak %.1f MiB; "
             "%llu client connections closed since the last time, %llu "
             "open): %.1f ms",
             (double)mem / 1048576,
             (double)(mem_peak > mem ? mem_peak : mem) / 1048576,
             (unsigned long long)(bs.closed - mark),
             (unsigned long long)bs.connections,
             (double)(uv_hrtime() - t0) / 1e6);
}

void memtrim_start(struct memtrim *m, uv_loop_t *loop, struct fsm *f,
                   struct bridge *b)
{
    memset(m, 0, sizeof *m);
    m->f = f;
    m->b = b;
    uv_timer_init(loop, &m->timer);
    m->timer.data = m;
    uv_timer_start(&m->timer, timer_cb, MEMTRIM_EVERY_MS, MEMTRIM_EVERY_MS);
}

void memtrim_close(struct memtrim *m)
{
    uv_timer_stop(&m->timer);
    uv_close((uv_handle_t *)&m->timer, NULL);
}
