/*
 * fifo - intrusive singly linked FIFO: the items' own next pointers, at
 * byte offset f->link, chain head to tail.
 */
#include "util/fifo.h"

static void **link_of(const struct fifo *f, void *item)
{
    return (void **)(void *)((char *)item + f->link);
}

void fifo_init(struct fifo *f, size_t link)
{
    f->head = f->tail = NULL;
    f->count = 0;
    f->link = link;
}

void fifo_push(struct fifo *f, void *item)
{
    *link_of(f, item) = NULL;
    if (f->tail)
        *link_of(f, f->tail) = item;
    else
        f->head = item;
    f->tail = item;
    f->count++;
}

void fifo_push_front(struct fifo *f, void *item)
{
    *link_of(f, item) = f->head;
    f->head = item;
    if (f->tail == NULL)
        f->tail = item;
    f->count++;
}

void *fifo_pop(struct fifo *f)
{
    return fifo_take(f, 1, NULL);
}

void *fifo_peek(const struct fifo *f)
{
    return f->head;
}

void *fifo_take(struct fifo *f, size_t max, size_t *n)
{
    void *first = f->head, *last = f->head;
    size_t k;

    if (first == NULL) {
        if (n)
            *n = 0;
        return NULL;
    }
    if (max == 0 || max >= f->count) {
        k = f->count;
        f->head = f->tail = NULL;
    } else {
        for (k = 1; k < max; k++)
            last = *link_of(f, last);
        f->head = *link_of(f, last);
        *link_of(f, last) = NULL;
    }
    f->count -= k;
    if (n)
        *n = k;
    return first;
}

int fifo_remove(struct fifo *f, void *item)
{
    void *prev = NULL;

    for (void *it = f->head; it; prev = it, it = *link_of(f, it)) {
        if (it != item)
            continue;
        if (prev)
            *link_of(f, prev) = *link_of(f, it);
        else
            f->head = *link_of(f, it);
        if (f->tail == it)
            f->tail = prev;
        *link_of(f, it) = NULL;
        f->count--;
        return 1;
    }
    return 0;
}

size_t fifo_count(const struct fifo *f)
{
    return f->count;
}
