/* Request ids: range, uniqueness among held ids, wrap-around of generations
 * while one id stays held, exact slot count, bulk allocation and freeing,
 * and a multi-threaded check that no id is ever held twice. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "core/reqid.h"
#include "unit.h"

static void test_basic(void)
{
    struct tapiq_reqid r;
    uint32_t ids[16], more[4];
    CHECK(tapiq_reqid_init(&r, 0) == -EINVAL);
    CHECK(tapiq_reqid_init(&r, (1u << 24) + 1) == -EINVAL);
    CHECK(tapiq_reqid_init(&r, 10) == 0);
    /* exactly 10 slots, then none */
    CHECK(tapiq_reqid_alloc_bulk(&r, ids, 16) == 10);
    CHECK(tapiq_reqid_alloc_bulk(&r, more, 4) == 0);
    CHECK(tapiq_reqid_in_use(&r) == 10);
    for (int i = 0; i < 10; i++) {
        CHECK(ids[i] >= 1 && ids[i] <= 0x7FFFFFFF);
        for (int j = 0; j < i; j++)
            CHECK(ids[i] != ids[j]);
        CHECK(tapiq_reqid_index(&r, ids[i]) < 10);
    }
    tapiq_reqid_free_bulk(&r, ids, 3);
    CHECK(tapiq_reqid_in_use(&r) == 7);
    CHECK(tapiq_reqid_alloc_bulk(&r, more, 4) == 3);
    for (int i = 0; i < 3; i++)
        for (int j = 3; j < 10; j++)
            CHECK(more[i] != ids[j]);
    tapiq_reqid_destroy(&r);
}

/* Through the real allocator: a 4-slot pool, one id held forever, the other
 * three slots cycled until their generations wrapped several times. */
static void test_wrap_real(void)
{
    struct tapiq_reqid r;
    uint32_t held, ids[3];
    uint64_t laps;
    CHECK(tapiq_reqid_init(&r, 4) == 0);
    CHECK(r.idx_bits == 2 && r.gen_max == (1u << 29) - 1);
    /* shrink the generation space so that wrap-around happens in the test */
    r.gen_max = 5;
    CHECK(tapiq_reqid_alloc_bulk(&r, &held, 1) == 1);
    for (laps = 0; laps < 100; laps++) {
        CHECK(tapiq_reqid_alloc_bulk(&r, ids, 3) == 3);
        for (int i = 0; i < 3; i++) {
            CHECK(ids[i] != held);
            CHECK(ids[i] != 0 && ids[i] <= 0x7FFFFFFF);
            CHECK((ids[i] >> r.idx_bits) >= 1 && (ids[i] >> r.idx_bits) <= 5);
        }
        CHECK(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
        tapiq_reqid_free_bulk(&r, ids, 3);
    }
    tapiq_reqid_destroy(&r);
}

#define THREADS 4
#define ROUNDS 20000
static struct tapiq_reqid g_r;
static _Atomic uint32_t *g_owner; /* per slot: 0 free, else thread+1 */

static void *worker(void *arg)
{
    uint32_t me = (uint32_t)(uintptr_t)arg + 1, ids[8];
    for (int i = 0; i < ROUNDS; i++) {
        size_t n = tapiq_reqid_alloc_bulk(&g_r, ids, 1 + (size_t)(i % 8));
        for (size_t k = 0; k < n; k++) {
            uint32_t expect = 0;
            /* a slot held twice would find a non-zero owner */
            CHECK(atomic_compare_exchange_strong(&g_owner[tapiq_reqid_index(&g_r, ids[k])],
                                                 &expect, me));
        }
        for (size_t k = 0; k < n; k++)
            atomic_store(&g_owner[tapiq_reqid_index(&g_r, ids[k])], 0);
        tapiq_reqid_free_bulk(&g_r, ids, n);
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[THREADS];
    CHECK(tapiq_reqid_init(&g_r, 16) == 0);
    g_owner = calloc(16, sizeof(*g_owner));
    CHECK(g_owner);
    for (uintptr_t i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(tapiq_reqid_in_use(&g_r) == 0);
    free(g_owner);
    tapiq_reqid_destroy(&g_r);
}

int main(void)
{
    test_basic();
    test_wrap_real();
    test_threads();
    printf("reqid: ok\n");
    return 0;
}
