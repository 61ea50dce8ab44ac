/* trash.h: frees stored messages, or, while someone still reads their
 * memory, holds them until that is done: a snapshot being written from
 * them, and the deliveries of the last applied Command (fsm_results), which
 * the leader reads after the apply. Holds nest. Loop thread. */
#ifndef MQ_TRASH_H
#define MQ_TRASH_H

#include <stddef.h>

#include "msg.h"

struct trash {
    int holding;      /* number of holds in force */
    struct msg *head; /* held messages */
    size_t n_held;
};

#define TRASH_INIT                                                             \
    {                                                                          \
        0, NULL, 0                                                             \
    }

/* Frees @m now, or holds it while trash->holding. */
void trash_put(struct trash *t, struct msg *m);
/* Starts one hold. */
void trash_hold(struct trash *t);
/* Ends one hold (if any); when none is left, frees every held message. */
void trash_release(struct trash *t);
/* Frees every held message and ends every hold (the owner goes away). */
void trash_close(struct trash *t);

#endif
