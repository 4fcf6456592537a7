/* bench/handwritten.c - the hand-written baseline dispatcher; see handwritten.h. */
#include "bench/handwritten.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define HW_BATCH 64

struct hw_req {
    uint64_t id;
    uint32_t console, lamp, mode;
};

/* Static initializers: a call racing with hw_shutdown finds the locks valid. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;      /* requests, window, ids */
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER; /* workers: a request */
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;  /* issuers: room */
static pthread_mutex_t rmu = PTHREAD_MUTEX_INITIALIZER;     /* replies, lamp table */
static pthread_cond_t has_reply = PTHREAD_COND_INITIALIZER; /* the reaper: a reply */

static struct hw_state {
    struct hw_req *req;                            /* under mu */
    uint32_t head, tail, count, inflight, waiting; /* under mu */
    uint64_t next_id;                              /* under mu */
    struct hw_reply *rep;                          /* under rmu */
    uint32_t rhead, rtail, rcount;                 /* under rmu */
    uint32_t *mode;                                /* under rmu: the lamp table */
    uint64_t *last;                                /* under rmu: the id that set each lamp */
    int closing;                                   /* written under both, read under either */
    uint32_t consoles, lamps, cap, nworkers;       /* fixed by hw_init */
    pthread_t *th;
} hw;

static uint32_t hw_next(uint32_t i) { return i + 1 == hw.cap ? 0 : i + 1; }

static void *hw_worker(void *arg)
{
    struct hw_req b[HW_BATCH];
    (void)arg;
    for (;;) {
        uint32_t n = 0;
        pthread_mutex_lock(&mu);
        while (hw.count == 0 && !hw.closing)
            pthread_cond_wait(&not_empty, &mu);
        for (; n < HW_BATCH && hw.count > 0; n++, hw.count--, hw.head = hw_next(hw.head))
            b[n] = hw.req[hw.head];
        pthread_mutex_unlock(&mu);
        if (n == 0)
            return NULL; /* closing, and nothing left to apply */
        pthread_mutex_lock(&rmu);
        for (uint32_t i = 0; i < n; i++, hw.rtail = hw_next(hw.rtail)) {
            size_t k = (size_t)b[i].console * hw.lamps + b[i].lamp;
            if (b[i].id > hw.last[k]) /* another worker may have applied a newer one */
                hw.last[k] = b[i].id, hw.mode[k] = b[i].mode;
            hw.rep[hw.rtail] = (struct hw_reply){b[i].id, 0};
        }
        hw.rcount += n;
        pthread_cond_signal(&has_reply);
        pthread_mutex_unlock(&rmu);
    }
}

int hw_init(uint32_t consoles, uint32_t lamps, uint32_t workers, uint32_t capacity)
{
    size_t nl = (size_t)consoles * lamps;
    if (!consoles || !lamps || !workers || !capacity)
        return -EINVAL;
    hw = (struct hw_state){.consoles = consoles, .lamps = lamps, .cap = capacity};
    hw.req = calloc(capacity, sizeof(*hw.req));
    hw.rep = calloc(capacity, sizeof(*hw.rep));
    hw.mode = calloc(nl, sizeof(*hw.mode));
    hw.last = calloc(nl, sizeof(*hw.last));
    hw.th = calloc(workers, sizeof(*hw.th));
    if (!hw.req || !hw.rep || !hw.mode || !hw.last || !hw.th) {
        hw_shutdown();
        return -ENOMEM;
    }
    for (; hw.nworkers < workers; hw.nworkers++)
        if (pthread_create(&hw.th[hw.nworkers], NULL, hw_worker, NULL) != 0) {
            hw_shutdown();
            return -EAGAIN;
        }
    return 0;
}

uint64_t hw_set_lamp(uint32_t console, uint32_t lamp, uint32_t mode)
{
    uint64_t id = 0;
    if (console >= hw.consoles || lamp >= hw.lamps)
        return 0;
    pthread_mutex_lock(&mu);
    for (; hw.inflight == hw.cap && !hw.closing; hw.waiting--) {
        hw.waiting++;
        pthread_cond_wait(&not_full, &mu);
    }
    if (!hw.closing) {
        id = ++hw.next_id;
        hw.req[hw.tail] = (struct hw_req){id, console, lamp, mode};
        hw.tail = hw_next(hw.tail);
        hw.inflight++;
        if (hw.count++ == 0) /* a worker sleeps only on an empty FIFO */
            pthread_cond_signal(&not_empty);
    }
    pthread_mutex_unlock(&mu);
    return id;
}

int hw_get_replies(struct hw_reply *out, int max, int timeout_ms)
{
    struct timespec dl = {0, 0};
    int n = 0;
    pthread_mutex_lock(&rmu);
    while (hw.rcount == 0 && !hw.closing && timeout_ms != 0) {
        if (timeout_ms < 0) {
            pthread_cond_wait(&has_reply, &rmu);
            continue;
        }
        if (dl.tv_sec == 0) { /* the clock is read only when there is a wait */
            clock_gettime(CLOCK_REALTIME, &dl);
            long ns = dl.tv_nsec + timeout_ms % 1000 * 1000000L;
            dl.tv_sec += timeout_ms / 1000 + ns / 1000000000;
            dl.tv_nsec = ns % 1000000000;
        }
        if (pthread_cond_timedwait(&has_reply, &rmu, &dl) == ETIMEDOUT)
            break;
    }
    for (; !hw.closing && n < max && hw.rcount > 0; n++, hw.rcount--, hw.rhead = hw_next(hw.rhead))
        out[n] = hw.rep[hw.rhead];
    int closing = hw.closing;
    pthread_mutex_unlock(&rmu);
    if (n == 0)
        return closing ? -ESHUTDOWN : -ETIMEDOUT;
    pthread_mutex_lock(&mu); /* give the room back; wake the issuers once half is free */
    hw.inflight -= (uint32_t)n;
    if (hw.waiting && hw.inflight <= hw.cap / 2)
        pthread_cond_broadcast(&not_full);
    pthread_mutex_unlock(&mu);
    return n;
}

int hw_get_reply(uint64_t *id, int32_t *status, int timeout_ms)
{
    struct hw_reply r;
    int rc = hw_get_replies(&r, 1, timeout_ms);
    if (rc > 0)
        *id = r.id, *status = r.status;
    return rc > 0 ? 0 : rc;
}

uint32_t hw_get_lamp(uint32_t console, uint32_t lamp)
{
    uint32_t m = 0;
    if (console >= hw.consoles || lamp >= hw.lamps)
        return 0;
    pthread_mutex_lock(&rmu);
    if (!hw.closing)
        m = hw.mode[(size_t)console * hw.lamps + lamp];
    pthread_mutex_unlock(&rmu);
    return m;
}

void hw_shutdown(void)
{
    pthread_mutex_lock(&mu);
    pthread_mutex_lock(&rmu);
    hw.closing = 1;
    pthread_cond_broadcast(&not_empty);
    pthread_cond_broadcast(&not_full);
    pthread_cond_broadcast(&has_reply);
    pthread_mutex_unlock(&rmu);
    pthread_mutex_unlock(&mu);
    for (uint32_t i = 0; i < hw.nworkers; i++)
        pthread_join(hw.th[i], NULL); /* they apply what was queued, then return */
    pthread_mutex_lock(&mu);
    pthread_mutex_lock(&rmu);
    free(hw.req), free(hw.rep), free(hw.mode), free(hw.last), free(hw.th);
    hw.req = NULL, hw.rep = NULL, hw.mode = NULL, hw.last = NULL, hw.th = NULL;
    hw.nworkers = 0;
    pthread_mutex_unlock(&rmu);
    pthread_mutex_unlock(&mu);
}
