/* trash.h: frees stored messages, or, while a snapshot is being written
 * from their memory, holds them until the snapshot is done. Loop thread. */
#ifndef MQ_TRASH_H
#define MQ_TRASH_H

#include <stddef.h>

#include "msg.h"

struct trash {
    int holding;        /* a snapshot is reading message memory */
    struct msg *head;   /* held messages */
    size_t n_held;
};

#define TRASH_INIT {0, NULL, 0}

/* Frees @m now, or holds it while trash->holding. */
void trash_put(struct trash *t, struct msg *m);
/* Starts holding. */
void trash_hold(struct trash *t);
/* Stops holding and frees every held message. */
void trash_release(struct trash *t);

#endif
