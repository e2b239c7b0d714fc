/*
 * fifo - an intrusive first-in first-out list of caller structs linked
 * through one of their own pointer members: no allocation, O(1) push at
 * either end and pop, O(n) removal from the middle. One list at a time per
 * link member. Not locked: the owner's mutex guards it.
 *
 *     struct item { ...; struct item *next; };
 *     static struct fifo todo = FIFO_INIT(struct item, next);
 *
 *     fifo_push(&todo, it);
 *     while ((it = fifo_pop(&todo)) != NULL) ...
 *
 * A detached chain (fifo_take) is NULL-terminated through the same member,
 * so `for (it = chain; it; it = it->next)` walks it.
 */
#ifndef TX_FIFO_H
#define TX_FIFO_H

#include <stddef.h>

struct fifo {
    void *head, *tail;
    size_t count;
    size_t link; /* offsetof the item's next pointer */
};

/* FIFO_INIT - an empty list of `type` items linked through `member` */
#define FIFO_INIT(type, member)                                                                    \
    {                                                                                              \
        NULL, NULL, 0, offsetof(type, member)                                                      \
    }

/* fifo_init - the run-time form of FIFO_INIT (link: offsetof the next pointer) */
void fifo_init(struct fifo *f, size_t link);
/* fifo_push - append item at the tail. Ownership: the list borrows item */
void fifo_push(struct fifo *f, void *item);
/* fifo_push_front - insert item at the head (give back a popped item) */
void fifo_push_front(struct fifo *f, void *item);
/* fifo_pop - detach and return the head item (its link set to NULL); NULL when empty */
void *fifo_pop(struct fifo *f);
/* fifo_peek - the head item, left in place; NULL when empty */
void *fifo_peek(const struct fifo *f);
/*
 * fifo_take - detach the first max items (all of them when max is 0) as a
 * NULL-terminated chain, in order; *n (when not NULL) is how many.
 * Returns the chain's first item, NULL when the list is empty.
 */
void *fifo_take(struct fifo *f, size_t max, size_t *n);
/* fifo_remove - detach item wherever it is; 1 if it was on the list, else 0 */
int fifo_remove(struct fifo *f, void *item);
/* fifo_count - items on the list */
size_t fifo_count(const struct fifo *f);

#endif
