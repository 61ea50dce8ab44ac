/* stages.c: the stage histograms and the entries in flight (stages.h). */
#include "stages.h"

#include <string.h>

static const char *const names[] = {
#define X(id, name, what) name,
    STAGES(X)
#undef X
};

static const char *const whats[] = {
#define X(id, name, what) what,
    STAGES(X)
#undef X
};

void stages_init(struct stages *s)
{
    memset(s, 0, sizeof *s);
}

const char *stages_name(enum stage_id id)
{
    return (size_t)id < STAGE_COUNT ? names[id] : "";
}

const char *stages_what(enum stage_id id)
{
    return (size_t)id < STAGE_COUNT ? whats[id] : "";
}

struct stage_entry *stages_entry(struct stages *s, uint64_t index)
{
    struct stage_entry *e = &s->ring[index % STAGES_RING];
    return index != 0 && e->index == index ? e : NULL;
}

void stages_begun(struct stages *s, uint64_t first, uint64_t n, uint64_t ns)
{
    if (first != 0 && first <= s->acked_index) {
        s->acked_index = first - 1; /* a new term rewrites the log's end */
    }
    for (uint64_t i = first; i < first + n && first != 0; i++) {
        struct stage_entry *e = &s->ring[i % STAGES_RING];
        memset(e, 0, sizeof *e);
        e->index = i;
        e->begun_ns = ns;
    }
}

void stages_written(struct stages *s, uint64_t first, uint64_t n, uint64_t ns,
                    int leader)
{
    for (uint64_t i = first; i < first + n; i++) {
        struct stage_entry *e = stages_entry(s, i);
        if (e == NULL || e->written_ns != 0) {
            continue;
        }
        e->written_ns = ns;
        if (!leader) {
            stages_record(s, STAGE_FOLLOWER_WRITE, e->begun_ns, ns);
        }
    }
}

void stages_acked(struct stages *s, uint64_t index, uint64_t ns)
{
    uint64_t from = s->acked_index + 1;
    if (index < from) {
        return;
    }
    if (index - from >= STAGES_RING) {
        from = index - STAGES_RING + 1;
    }
    for (uint64_t i = from; i <= index; i++) {
        struct stage_entry *e = stages_entry(s, i);
        if (e != NULL && e->acked_ns == 0) {
            e->acked_ns = ns;
        }
    }
    s->acked_index = index;
}
