/* fifo_test - order, push-front, batches (fifo_take), removal, empty and one-item lists */
#include "tests/harness/ttest.h"
#include "util/fifo.h"

struct item {
    int n;
    struct item *next;
    struct item *other; /* a second link: the item on a second list */
};

static struct item it[6] = {{0, NULL, NULL}, {1, NULL, NULL}, {2, NULL, NULL},
                            {3, NULL, NULL}, {4, NULL, NULL}, {5, NULL, NULL}};

static int pop_n(struct fifo *f)
{
    struct item *i = fifo_pop(f);

    if (i == NULL)
        return -1;
    TT_ASSERT(i->next == NULL);
    return i->n;
}

TT_TEST(order)
{
    struct fifo f = FIFO_INIT(struct item, next);

    TT_ASSERT(fifo_peek(&f) == NULL);
    TT_EQ_INT(pop_n(&f), -1);
    for (int i = 0; i < 4; i++)
        fifo_push(&f, &it[i]);
    TT_EQ_INT(fifo_count(&f), 4);
    TT_EQ_INT(((struct item *)fifo_peek(&f))->n, 0);
    TT_EQ_INT(pop_n(&f), 0);
    TT_EQ_INT(pop_n(&f), 1);
    fifo_push(&f, &it[4]);
    TT_EQ_INT(pop_n(&f), 2);
    TT_EQ_INT(pop_n(&f), 3);
    TT_EQ_INT(pop_n(&f), 4);
    TT_EQ_INT(pop_n(&f), -1);
    TT_EQ_INT(fifo_count(&f), 0);
    /* empty again: push works from scratch (tail was reset) */
    fifo_push(&f, &it[5]);
    TT_EQ_INT(pop_n(&f), 5);
    TT_ASSERT(f.head == NULL && f.tail == NULL);
}

TT_TEST(push_front)
{
    struct fifo f;

    fifo_init(&f, offsetof(struct item, next));
    fifo_push_front(&f, &it[1]); /* onto an empty list: head and tail */
    fifo_push(&f, &it[2]);
    fifo_push_front(&f, &it[0]);
    TT_EQ_INT(pop_n(&f), 0);
    TT_EQ_INT(pop_n(&f), 1);
    TT_EQ_INT(pop_n(&f), 2);
    TT_EQ_INT(pop_n(&f), -1);
}

TT_TEST(take)
{
    struct fifo f = FIFO_INIT(struct item, next);
    struct item *chain;
    size_t n = 99;

    TT_ASSERT(fifo_take(&f, 3, &n) == NULL);
    TT_EQ_INT(n, 0);
    for (int i = 0; i < 5; i++)
        fifo_push(&f, &it[i]);
    chain = fifo_take(&f, 2, &n);
    TT_EQ_INT(n, 2);
    TT_EQ_INT(chain->n, 0);
    TT_EQ_INT(chain->next->n, 1);
    TT_ASSERT(chain->next->next == NULL);
    TT_EQ_INT(fifo_count(&f), 3);
    chain = fifo_take(&f, 10, &n); /* more than there are: all */
    TT_EQ_INT(n, 3);
    TT_EQ_INT(chain->n, 2);
    TT_ASSERT(chain->next->next->next == NULL);
    TT_EQ_INT(fifo_count(&f), 0);
    TT_ASSERT(fifo_peek(&f) == NULL);
    fifo_push(&f, &it[0]);
    fifo_push(&f, &it[1]);
    chain = fifo_take(&f, 0, NULL); /* 0: all */
    TT_EQ_INT(chain->n, 0);
    TT_EQ_INT(fifo_count(&f), 0);
    fifo_push(&f, &it[2]);
    chain = fifo_take(&f, 1, &n); /* exactly one of one */
    TT_EQ_INT(n, 1);
    TT_EQ_INT(chain->n, 2);
    TT_ASSERT(f.tail == NULL);
}

TT_TEST(remove_any)
{
    struct fifo f = FIFO_INIT(struct item, next);

    TT_EQ_INT(fifo_remove(&f, &it[0]), 0);
    for (int i = 0; i < 4; i++)
        fifo_push(&f, &it[i]);
    TT_EQ_INT(fifo_remove(&f, &it[1]), 1); /* middle */
    TT_EQ_INT(fifo_remove(&f, &it[3]), 1); /* tail: the tail moves back */
    TT_EQ_INT(fifo_remove(&f, &it[3]), 0);
    fifo_push(&f, &it[4]);
    TT_EQ_INT(fifo_remove(&f, &it[0]), 1); /* head */
    TT_EQ_INT(fifo_count(&f), 2);
    TT_EQ_INT(pop_n(&f), 2);
    TT_EQ_INT(pop_n(&f), 4);
    fifo_push(&f, &it[5]);
    TT_EQ_INT(fifo_remove(&f, &it[5]), 1); /* the only item */
    TT_ASSERT(f.head == NULL && f.tail == NULL);
}

TT_TEST(two_lists)
{
    struct fifo a = FIFO_INIT(struct item, next), b = FIFO_INIT(struct item, other);

    fifo_push(&a, &it[0]);
    fifo_push(&a, &it[1]);
    fifo_push(&b, &it[1]);
    fifo_push(&b, &it[0]);
    TT_EQ_INT(((struct item *)fifo_pop(&b))->n, 1);
    TT_EQ_INT(pop_n(&a), 0);
    TT_EQ_INT(pop_n(&a), 1);
    TT_EQ_INT(((struct item *)fifo_pop(&b))->n, 0);
}

TT_MAIN(TT_CASE(order), TT_CASE(push_front), TT_CASE(take), TT_CASE(remove_any), TT_CASE(two_lists))
