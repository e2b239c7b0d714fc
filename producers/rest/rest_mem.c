/*
 * rest_mem - give memory back to the system after large requests.
 *
 * glibc keeps freed memory: each MHD thread allocates from an arena of
 * its own (up to 8 per core), a freed block inside an arena is reused but
 * never unmapped, and the mmap threshold rises to the size of the largest
 * block freed (up to 32 MB), so after one 20 MB body every later body
 * and tree comes from the arenas and stays resident: six 20 MB requests
 * left the process at 5.9 GB. So, at start, a fixed mmap threshold
 * (bodies and large buffers are mapped and unmapped on free), a fixed
 * trim threshold and at most four arenas unless MALLOC_ARENA_MAX says
 * otherwise; after a request whose body reached REST_MEM_TRIM_MIN (64 KB:
 * ordinary jobs are a few KB, 300 KB can hold a 30 MB tree), the main
 * thread gives the free pages of every arena back (malloc_trim) on its
 * next round (within 200 ms), so no request thread waits for it.
 */
#include "producers/rest/rest.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>

#define REST_MEM_MMAP_THRESHOLD (1 << 20)
#define REST_MEM_TRIM_THRESHOLD (8 << 20)
#define REST_MEM_ARENAS 4
#define REST_MEM_TRIM_MIN (64 << 10)

static atomic_int pending;

/* rest_mem_init - the malloc settings, before the first thread starts */
void rest_mem_init(void)
{
    mallopt(M_MMAP_THRESHOLD, REST_MEM_MMAP_THRESHOLD);
    mallopt(M_TRIM_THRESHOLD, REST_MEM_TRIM_THRESHOLD);
    if (getenv("MALLOC_ARENA_MAX") == NULL)
        mallopt(M_ARENA_MAX, REST_MEM_ARENAS);
}

/* rest_mem_release - a request with a body of body_len bytes ended (any thread) */
void rest_mem_release(size_t body_len)
{
    if (body_len >= REST_MEM_TRIM_MIN)
        atomic_store(&pending, 1);
}

/* rest_mem_tick - the main loop's round: trim when a large request ended since the last */
void rest_mem_tick(void)
{
    if (atomic_exchange(&pending, 0))
        malloc_trim(0);
}
