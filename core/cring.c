/* core/cring.c - completion ring; see cring.h. */
#include "core/cring.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

TAPIQ_NO_COVERAGE int tapiq_cring_init(struct tapiq_cring *c, uint32_t events, int level,
                                       int (*pending)(void *arg), void *arg)
{
    int rc = tapiq_cmq_init(&c->q, events);
    if (rc)
        return rc;
    c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->efd < 0) {
        rc = -errno;
        tapiq_cmq_destroy(&c->q);
        return rc;
    }
    c->pending = pending;
    c->pending_arg = arg;
    atomic_init(&c->events, events);
    atomic_init(&c->need_signal, level ? 1 : 0);
    atomic_init(&c->closed, 0);
    c->level = level;
    return 0;
}

void tapiq_cring_destroy(struct tapiq_cring *c)
{
    close(c->efd);
    tapiq_cmq_destroy(&c->q);
}

int tapiq_cring_reserve_events(struct tapiq_cring *c, uint32_t n)
{
    /* relaxed: the CAS below re-reads. */
    int64_t cur = atomic_load_explicit(&c->events, memory_order_relaxed);
    do {
        if (cur < (int64_t)n)
            return -EAGAIN;
        /* acq_rel: room, like credits; pairs with the release add in
         * tapiq_cring_release_events(). */
    } while (!atomic_compare_exchange_weak_explicit(&c->events, &cur, cur - n,
                                                    memory_order_acq_rel, memory_order_relaxed));
    return 0;
}

void tapiq_cring_release_events(struct tapiq_cring *c, uint32_t n)
{
    /* release: pairs with the acq_rel CAS in tapiq_cring_reserve_events(). */
    atomic_fetch_add_explicit(&c->events, n, memory_order_release);
}

static void signal_fd(struct tapiq_cring *c)
{
    uint64_t one = 1;
    ssize_t r = write(c->efd, &one, sizeof(one));
    (void)r; /* EAGAIN only when the counter is near 2^64: already readable */
}

static int any_pending(struct tapiq_cring *c)
{
    return tapiq_cmq_count(&c->q) != 0 || (c->pending && c->pending(c->pending_arg));
}

static void drain_fd(struct tapiq_cring *c)
{
    uint64_t v;
    ssize_t r = read(c->efd, &v, sizeof(v));
    (void)r; /* EAGAIN: nothing to drain */
}

void tapiq_cring_post_blocking(struct tapiq_cring *c, const struct tapiq_cmsg *m, uint32_t n)
{
    uint32_t done = 0;
    while (done < n) {
        uint32_t k = (uint32_t)tapiq_cmq_push_try(&c->q, m + done, n - done);
        done += k;
        /* Room is reserved, so a short push only meets a consumer that is
         * still reading a cell a lap behind; let it finish (it may be
         * preempted: give it the CPU rather than spin). */
        if (done < n && k == 0)
            sched_yield();
    }
    tapiq_cring_notify(c);
}

void tapiq_cring_notify(struct tapiq_cring *c)
{
    /* seq_cst: the posts before are ordered before the load of need_signal;
     * pairs with the seq_cst store of need_signal and the fence after it in
     * tapiq_cring_wait_blocking() and tapiq_cring_settle(). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&c->need_signal, memory_order_relaxed) &&
        atomic_exchange_explicit(&c->need_signal, 0, memory_order_acq_rel))
        signal_fd(c);
}

void tapiq_cring_settle(struct tapiq_cring *c)
{
    if (any_pending(c))
        return;
    drain_fd(c);
    /* seq_cst store and fence: armed before the re-check (the count's loads
     * are relaxed, so the fence keeps them after the store); pairs with the
     * fence in tapiq_cring_notify(). */
    atomic_store_explicit(&c->need_signal, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
    if (any_pending(c) || atomic_load_explicit(&c->closed, memory_order_acquire))
        signal_fd(c);
}

int tapiq_cring_wait_blocking(struct tapiq_cring *c, uint32_t timeout_ms)
{
    struct timespec now;
    int64_t deadline_ms = 0, left;
    struct pollfd pfd = {.fd = c->efd, .events = POLLIN};

    if (timeout_ms != UINT32_MAX) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        deadline_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 + timeout_ms;
    }
    /* acquire: pairs with the release store in tapiq_cring_close(). */
    if (atomic_load_explicit(&c->closed, memory_order_acquire))
        return -ESHUTDOWN;
    drain_fd(c);
    /* seq_cst store and fence: armed before the re-check (see
     * tapiq_cring_settle()); pairs with the fence in tapiq_cring_notify(). */
    atomic_store_explicit(&c->need_signal, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
    if (any_pending(c)) {
        /* Others may be asleep on the fd we just drained: keep it readable. */
        signal_fd(c);
        return 0;
    }
    if (atomic_load_explicit(&c->closed, memory_order_acquire)) {
        /* We may have drained close()'s wake-up: pass it on to the others. */
        signal_fd(c);
        return -ESHUTDOWN;
    }
    for (;;) {
        int r;
        if (timeout_ms == UINT32_MAX) {
            left = -1;
        } else {
            clock_gettime(CLOCK_MONOTONIC, &now);
            left = deadline_ms - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
            if (left <= 0)
                return -ETIMEDOUT;
        }
        r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (r > 0)
            break;
        if (r < 0 && errno != EINTR)
            return -errno;
    }
    if (atomic_load_explicit(&c->closed, memory_order_acquire)) {
        signal_fd(c); /* leave the fd readable for every other waiter */
        return -ESHUTDOWN;
    }
    return 0;
}

void tapiq_cring_close(struct tapiq_cring *c)
{
    /* release: pairs with the acquire loads of closed in
     * tapiq_cring_wait_blocking(), tapiq_cring_settle() and
     * tapiq_cring_closed(). */
    atomic_store_explicit(&c->closed, 1, memory_order_release);
    signal_fd(c);
}
