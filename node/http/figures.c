/* figures.c: the reference-counted snapshot of figures (figures.h). */
#include "figures.h"

#include "alloc.h"

struct figures *figures_new(void)
{
    struct figures *f = mq_calloc(1, sizeof *f);
    if (f != NULL) {
        atomic_init(&f->refs, 1);
    }
    return f;
}

void figures_hold(struct figures *f)
{
    atomic_fetch_add(&f->refs, 1);
}

void figures_release(struct figures *f)
{
    if (f == NULL || atomic_fetch_sub(&f->refs, 1) != 1) {
        return;
    }
    mq_free(f->queues);
    mq_free(f->subs);
    mq_free(f);
}
