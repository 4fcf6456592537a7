/* bench/rawq.h - raw queue transfer and request-id runners (C, called from the
 * C++ Google Benchmark harness).
 *
 * The hot loops live in C so each queue's operations inline into them: the
 * core headers are C11 (<stdatomic.h>) and do not compile as C++17.
 *
 * Every run lasts @seconds of wall time: threads start together at a barrier,
 * the caller's thread sleeps, raises a stop flag, joins, drains what is left
 * and checks that nothing was lost or duplicated (a sum of the pushed values
 * against the popped ones). Items are counted when popped.
 */
#ifndef TAPIQ_BENCH_RAWQ_H
#define TAPIQ_BENCH_RAWQ_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bench_queue {
    BENCH_Q_TAPIQ = 0, /* core/mpmc.h, bulk push/pop */
    BENCH_Q_VYUKOV,    /* reference: Vyukov's bounded MPMC queue, one item per op */
    BENCH_Q_CK,        /* Concurrency Kit ck_ring, MPMC mode (one item per op) */
    BENCH_Q_MUTEX,     /* reference: a ring under one mutex + two condvars (blocking) */
    BENCH_Q_WFCQ,      /* liburcu wfcqueue: wait-free enqueue; dequeue (locked) or splice */
    BENCH_Q_TAPIQ_MUTEX, /* core/mpmc.h with set_baseline_mutex: every operation under a mutex */
    BENCH_Q_MAX
};

struct bench_result {
    uint64_t items;      /* popped inside the measured window */
    uint64_t elapsed_ns; /* the measured window */
    uint64_t empty_polls;/* pops that found nothing (consumers) */
    uint64_t full_polls; /* pushes that found no room (producers) */
    int ok;              /* 1: the checks passed */
    char err[128];
};

/* 1 when the queue kind was compiled in (ck and wfcqueue are optional). */
int bench_queue_available(int kind);
const char *bench_queue_name(int kind);

/* Transfer items from @producers to @consumers threads for @seconds.
 * @bin: items per push call; @bout: items per pop call (for wfcqueue,
 * @bout > 1 means "splice the whole queue, then hand out up to @bout").
 * Capacity: 65536 items (wfcqueue: 65536 nodes per producer). */
int bench_rawq_run(int kind, int producers, int consumers, int bin, int bout, double seconds,
                   struct bench_result *res);


#ifdef __cplusplus
}
#endif

#endif /* TAPIQ_BENCH_RAWQ_H */
