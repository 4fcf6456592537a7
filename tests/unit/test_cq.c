/* Completion queues: room is exact (size entries until consumers take),
 * take honours its limit, and with one producer and three consumers taking
 * concurrently every entry is taken exactly once, each consumer sees
 * increasing ids, and nothing is overwritten before it is taken. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/cq.h"
#include "check.h"

#define N 300000u
#define NCONS 3

static struct tapiq_cq g_q;
static _Atomic uint32_t g_taken;
static uint8_t g_seen[N];

static void test_room(void)
{
    struct tapiq_cq q;
    struct tapiq_cqe m[8], out[8];
    for (uint32_t i = 0; i < 8; i++)
        m[i] = (struct tapiq_cqe){.handle = 7, .msg = 2, .p1 = i + 1, .p2 = 0x9000001Cu};
    TQ_CHECK(tapiq_cq_init(&q, 8) == 0);
    TQ_CHECK(tapiq_cq_room(&q, 8) == 8);
    TQ_CHECK(!tapiq_cq_pending(&q));
    tapiq_cq_post(&q, m, 8);
    TQ_CHECK(tapiq_cq_room(&q, 1) == 0);
    TQ_CHECK(tapiq_cq_pending(&q));
    TQ_CHECK(tapiq_cq_take(&q, out, 8, 3) == 3); /* the limit */
    TQ_CHECK(out[0].p1 == 1 && out[2].p1 == 3 && out[1].handle == 7 && out[1].p2 == 0x9000001Cu);
    TQ_CHECK(tapiq_cq_room(&q, 1) == 3);
    TQ_CHECK(tapiq_cq_take(&q, out, 2, tapiq_cq_tail(&q)) == 2);
    TQ_CHECK(out[0].p1 == 4 && out[1].p1 == 5);
    TQ_CHECK(tapiq_cq_take(&q, out, 8, tapiq_cq_tail(&q)) == 3);
    TQ_CHECK(tapiq_cq_take(&q, out, 8, tapiq_cq_tail(&q)) == 0);
    TQ_CHECK(!tapiq_cq_pending(&q));
    {
        /* put ahead of the tail: invisible until published, room counted
         * from the position put */
        uint32_t t = tapiq_cq_tail_own(&q);
        tapiq_cq_put(&q, t, 9, 2, 41, 0);
        tapiq_cq_put(&q, t + 1, 9, 2, 42, 0);
        TQ_CHECK(!tapiq_cq_pending(&q));
        TQ_CHECK(tapiq_cq_take(&q, out, 8, tapiq_cq_tail(&q)) == 0);
        TQ_CHECK(tapiq_cq_room_at(&q, t + 2, 8) == 6 && tapiq_cq_room(&q, 8) == 8);
        tapiq_cq_publish(&q, t + 2);
        TQ_CHECK(tapiq_cq_take(&q, out, 8, tapiq_cq_tail(&q)) == 2);
        TQ_CHECK(out[0].p1 == 41 && out[1].p1 == 42 && out[1].handle == 9);
    }
    tapiq_cq_destroy(&q);
}

static void *consumer(void *arg)
{
    uint32_t last = 0;
    struct tapiq_cqe out[5];
    (void)arg;
    while (atomic_load_explicit(&g_taken, memory_order_relaxed) < N) {
        uint32_t n = tapiq_cq_take(&g_q, out, 5, tapiq_cq_tail(&g_q));
        for (uint32_t i = 0; i < n; i++) {
            TQ_CHECK(out[i].p1 > last && out[i].p1 <= N);
            TQ_CHECK(out[i].p2 == out[i].p1 * 3 && out[i].handle == ~out[i].p1);
            last = out[i].p1;
            g_seen[out[i].p1 - 1]++;
        }
        atomic_fetch_add_explicit(&g_taken, n, memory_order_relaxed);
        if (!n)
            sched_yield();
    }
    return NULL;
}

int main(void)
{
    pthread_t t[NCONS];
    uint32_t id = 1;
    test_room();
    TQ_CHECK(tapiq_cq_init(&g_q, 32) == 0);
    for (int i = 0; i < NCONS; i++)
        TQ_CHECK(pthread_create(&t[i], NULL, consumer, NULL) == 0);
    while (id <= N) {
        struct tapiq_cqe m[7];
        uint32_t room = tapiq_cq_room(&g_q, 7), n = 0;
        while (n < room && n < 7 && id <= N) {
            m[n] = (struct tapiq_cqe){.handle = ~id, .msg = 2, .p1 = id, .p2 = id * 3};
            n++;
            id++;
        }
        if (n)
            tapiq_cq_post(&g_q, m, n);
        else
            sched_yield();
    }
    for (int i = 0; i < NCONS; i++)
        pthread_join(t[i], NULL);
    for (uint32_t i = 0; i < N; i++)
        TQ_CHECK(g_seen[i] == 1);
    tapiq_cq_destroy(&g_q);
    return 0;
}
