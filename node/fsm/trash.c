/* trash.c: deferred frees of messages during snapshot writes. The link
 * reuses the message's first bytes, which the snapshot does not read. */
#include "trash.h"

void trash_put(struct trash *t, struct msg *m)
{
    if (!t->holding) {
        msg_free(m);
        return;
    }
    m->trash_next = t->head;
    t->head = m;
    t->n_held++;
}

void trash_hold(struct trash *t)
{
    t->holding++;
}

void trash_release(struct trash *t)
{
    if (t->holding > 0) {
        t->holding--;
    }
    if (t->holding == 0) {
        trash_close(t);
    }
}

void trash_close(struct trash *t)
{
    struct msg *m = t->head;
    while (m != NULL) {
        struct msg *next = m->trash_next;
        msg_free(m);
        m = next;
    }
    t->head = NULL;
    t->n_held = 0;
    t->holding = 0;
}
