/* trash.c: deferred frees while a snapshot or the last results read the
 * memory. The link of a message reuses its first bytes, which neither
 * reads; shells and chunks carry a link of their own. */
#include "trash.h"

#include "alloc.h"

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

void trash_put_block(struct trash *t, struct trash_link *link, void *block)
{
    if (t == NULL || !t->holding) {
        mq_free(block);
        return;
    }
    link->block = block;
    link->next = t->blocks;
    t->blocks = link;
    t->n_blocks++;
}

void trash_put_chunk(struct trash *t, struct trash_link *link, void *block)
{
    if (!trash_holds_chunks(t)) {
        mq_free(block);
        return;
    }
    link->block = block;
    link->next = t->chunks;
    t->chunks = link;
    t->n_chunks++;
}

void trash_hold(struct trash *t)
{
    t->holding++;
}

void trash_hold_snapshot(struct trash *t)
{
    t->snapshots++;
    t->holding++;
}

static void free_links(struct trash_link *l)
{
    while (l != NULL) {
        struct trash_link *next = l->next;
        mq_free(l->block); /* the link lives in the block */
        l = next;
    }
}

static void free_chunks(struct trash *t)
{
    free_links(t->chunks);
    t->chunks = NULL;
    t->n_chunks = 0;
}

void trash_release(struct trash *t)
{
    if (t->holding > 0) {
        t->holding--;
    }
    if (t->holding > 0) {
        return;
    }
    struct msg *m = t->head;
    while (m != NULL) {
        struct msg *next = m->trash_next;
        msg_free(m);
        m = next;
    }
    t->head = NULL;
    t->n_held = 0;
    free_links(t->blocks);
    t->blocks = NULL;
    t->n_blocks = 0;
    t->snapshots = 0;
    free_chunks(t);
}

void trash_release_snapshot(struct trash *t)
{
    if (t->snapshots > 0) {
        t->snapshots--;
    }
    if (t->snapshots == 0) {
        free_chunks(t);
    }
    trash_release(t);
}

void trash_close(struct trash *t)
{
    t->holding = 1;
    t->snapshots = 0;
    trash_release(t);
}
