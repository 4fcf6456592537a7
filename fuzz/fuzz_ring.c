/* fuzz/fuzz_ring.c - the MPMC ring (core/mpmc.h), the submission ring
 * (core/sq.h) and the completion queue (core/cq.h), single-threaded, against
 * reference models.
 *
 * Input: byte 0 picks the structure and its size, then operations.
 *  ring:  a TAPIQ_MPMC_DEFINE ring of uint32_t with capacity 1..16 (rounded up
 *         to a power of two >= 2), its free-running positions optionally
 *         started just below 2^64 so they wrap; push/pop of 0..8 elements
 *         and count, checked against a FIFO of the same capacity (exact
 *         capacity, FIFO order, counts, no element lost or duplicated).
 *  sq:    a submission ring (core/sq.h), SPSC or MPSC flavour, 1..16
 *         entries, positions optionally wrapping: push / drain / release
 *         against the FIFO of positions in flight (exact capacity, order,
 *         ids never 0, <= 0x7FFFFFFF and unique among positions in flight).
 *  cq:    a completion queue (core/cq.h), 1..16 entries: room / post /
 *         put ahead of the tail / publish / take with a limit, against a
 *         FIFO (room exact, order, limit, puts invisible until published). */
#include <stdint.h>
#include <string.h>

#include "core/mpmc.h"
#include <errno.h>

#include "core/cq.h"
#include "core/sq.h"
#include "tapiq/tapi.h"
#include "fuzz/fuzz.h"

TAPIQ_MPMC_DEFINE(fz_ring, uint32_t)

#define RING_MAX 16
#define OPS_MAX 4096

static void fuzz_mpmc(struct fuzz_in *in, uint8_t b0)
{
    struct fz_ring r;
    uint32_t model[RING_MAX], out[8], in_vals[8];
    size_t head = 0, count = 0, cap, want_cap = 1 + (b0 >> 1) % RING_MAX;
    uint32_t next = 1, expect_next = 1;
    int ops = 0;

    if (fz_ring_init(&r, want_cap))
        return; /* allocation failed: nothing to test */
    /* The bench baseline mode (every operation under a mutex) must behave
     * the same. */
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    fz_ring_set_baseline_mutex(&r, (b0 & 0x40) ? &mu : NULL);
    cap = fz_ring_capacity(&r);
    FUZZ_CHECK(cap >= 2 && (cap & (cap - 1)) == 0 && cap >= want_cap && cap < 2 * want_cap + 2,
               "capacity %zu for %zu", cap, want_cap);
    if (b0 & 0x80) {
        /* Start the positions just below 2^64 (the header's invariant: free
         * running, compared only by difference) so that they wrap. */
        uint64_t base = UINT64_MAX - (uint64_t)fuzz_u8(in);
        for (uint64_t i = 0; i < cap; i++)
            atomic_store_explicit(&r.cells[(base + i) & r.mask].seq, base + i,
                                  memory_order_relaxed);
        atomic_store_explicit(&r.head, base, memory_order_relaxed);
        atomic_store_explicit(&r.tail, base, memory_order_relaxed);
    }
    while (in->n && ops++ < OPS_MAX) {
        uint8_t op = fuzz_u8(in);
        size_t n = (op >> 2) % 9, k; /* 0 too */
        switch (op & 3) {
        case 0:
        case 1: /* push */
            for (size_t i = 0; i < n; i++)
                in_vals[i] = next + (uint32_t)i;
            k = fz_ring_push_try(&r, in_vals, n);
            FUZZ_CHECK(k == (n < cap - count ? n : cap - count),
                       "push %zu into %zu/%zu gave %zu", n, count, cap, k);
            for (size_t i = 0; i < k; i++)
                model[(head + count + i) % cap] = next + (uint32_t)i;
            count += k;
            next += (uint32_t)k;
            break;
        case 2: /* pop */
            memset(out, 0, sizeof(out));
            k = fz_ring_pop_try(&r, out, n);
            FUZZ_CHECK(k == (n < count ? n : count), "pop %zu from %zu gave %zu", n, count, k);
            for (size_t i = 0; i < k; i++) {
                FUZZ_CHECK(out[i] == model[head] && out[i] == expect_next,
                           "popped %u, expected %u", out[i], expect_next);
                head = (head + 1) % cap;
                expect_next++;
            }
            count -= k;
            break;
        default:
            FUZZ_CHECK(fz_ring_count(&r) == count, "count %zu, model %zu", fz_ring_count(&r),
                       count);
            break;
        }
    }
    FUZZ_CHECK(fz_ring_count(&r) == count, "final count %zu, model %zu", fz_ring_count(&r),
               count);
    fz_ring_destroy(&r);
}

#define SLOTS_MAX 40

/* Submission ring (SPSC or MPSC flavour, one thread) against a model: the
 * entries pushed and not yet released, in order. Positions may start just
 * below 2^32 so they wrap. Checks: capacity exact, FIFO order, avail counts
 * exactly what is pushed and not drained, ids never 0, at most 0x7FFFFFFF,
 * unique among the positions in flight. */
static void fuzz_sq(struct fuzz_in *in, uint8_t b0)
{
    struct tapiq_sq q;
    uint32_t size = 1u << ((b0 >> 2) % 5), rd, rel, tail, pos; /* 1..16 */
    uint32_t idbits = 4 + (b0 >> 5) % 4;                      /* 4..7 >= log2(size) */
    int mpsc = (b0 >> 1) & 1, ops = 0;
    uint64_t pushed = 0; /* the ring's count of pushes: 64 bits, no wrap */
    if (mpsc && size < 2) {
        FUZZ_CHECK(tapiq_sq_init(&q, size, mpsc, 5u << idbits, (1u << idbits) - 1) == -EINVAL,
                   "an MPSC ring of one entry was accepted");
        return;
    }
    if (tapiq_sq_init(&q, size, mpsc, 5u << idbits, (1u << idbits) - 1))
        return;
    rd = rel = tail = 0;
    if (fuzz_u8(in) & 1) {
        uint32_t base = UINT32_MAX - fuzz_u8(in);
        for (uint32_t i = 0; mpsc && i < size; i++)
            atomic_store_explicit(&q.seq[(base + i) & q.mask], base + i, memory_order_relaxed);
        atomic_store_explicit(&q.tail, base, memory_order_relaxed);
        atomic_store_explicit(&q.head, base, memory_order_relaxed);
        q.head_cache = base;
        rd = rel = tail = base;
        pushed = base;
    }
    while (in->n && ops++ < OPS_MAX) {
        uint8_t op = fuzz_u8(in);
        uint32_t n = (op >> 2) % 9;
        switch (op & 3) {
        case 0:
        case 1: /* push n */
            for (uint32_t i = 0; i < n; i++) {
                struct tapiq_sqe e = {.handle = tail * 7u, .dev = tail, .lamp = 1, .mode = 2};
                int r = mpsc ? tapiq_sq_push_mpsc(&q, &e, &pos) : tapiq_sq_push_spsc(&q, &e, &pos);
                if (tail - rel == size) {
                    FUZZ_CHECK(r == -EAGAIN, "push into a full ring: %d", r);
                } else {
                    FUZZ_CHECK(r == 0 && pos == tail, "push %d at %u, expected %u", r, pos, tail);
                    tail++;
                    pushed++;
                }
            }
            break;
        case 2: { /* drain up to n */
            uint32_t k = tapiq_sq_avail(&q, rd, n);
            FUZZ_CHECK(k == (tail - rd < n ? tail - rd : n), "avail %u of %u", k, tail - rd);
            for (uint32_t i = 0; i < k; i++) {
                const struct tapiq_sqe *e = tapiq_sq_entry(&q, rd + i);
                FUZZ_CHECK(e->dev == rd + i && e->handle == (rd + i) * 7u, "entry %u is %u",
                           rd + i, e->dev);
            }
            rd += k;
            break;
        }
        default: { /* release up to n drained positions */
            uint32_t k = rd - rel < n ? rd - rel : n;
            tapiq_sq_release(&q, rel, rel + k);
            rel += k;
            break;
        }
        }
        /* ids of every position in flight are distinct and in range */
        for (uint32_t p = rel; p != tail; p++) {
            uint32_t id = tapiq_sq_id(&q, p);
            FUZZ_CHECK(id != 0 && id <= 0x7FFFFFFFu, "id %#x", id);
            for (uint32_t p2 = rel; p2 != p; p2++)
                FUZZ_CHECK(tapiq_sq_id(&q, p2) != id, "id %#x twice in flight", id);
        }
    }
    FUZZ_CHECK(tapiq_sq_pushed(&q) == pushed, "pushed %llu, model %llu",
               (unsigned long long)tapiq_sq_pushed(&q), (unsigned long long)pushed);
    tapiq_sq_destroy(&q);
}

/* Completion queue (one thread posting and taking) against a FIFO model:
 * room exact, take honours max and the limit, FIFO order, nothing lost;
 * entries put ahead of the tail (tapiq_cq_put) stay invisible until
 * tapiq_cq_publish(), and room counts from the last one put. */
static void fuzz_cq(struct fuzz_in *in, uint8_t b0)
{
    struct tapiq_cq q;
    uint32_t size = 1u << ((b0 >> 2) % 5), head = 0, tail = 0, wtail = 0, limit = 0;
    int ops = 0;
    if (tapiq_cq_init(&q, size))
        return;
    while (in->n && ops++ < OPS_MAX) {
        uint8_t op = fuzz_u8(in);
        uint32_t n = (op >> 2) % 9;
        switch (op & 3) {
        case 0: { /* post (or put, unpublished) up to n where there is room */
            struct tapiq_cqe m[8];
            int put = (op & 0x80) || wtail != tail;
            uint32_t room = put ? tapiq_cq_room_at(&q, wtail, n) : tapiq_cq_room(&q, n);
            /* exact when short of @n; a lower bound otherwise (cached head) */
            FUZZ_CHECK(room <= size - (wtail - head) && (room >= n || room == size - (wtail - head)),
                       "room %u for %u, model %u", room, n, size - (wtail - head));
            if (n > room)
                n = room;
            for (uint32_t i = 0; i < n; i++)
                m[i] = (struct tapiq_cqe){wtail + i, PHONE_REPLY, (wtail + i) * 3u, ~(wtail + i)};
            if (put) {
                for (uint32_t i = 0; i < n; i++)
                    tapiq_cq_put(&q, wtail + i, m[i].handle, m[i].msg, m[i].p1, m[i].p2);
                FUZZ_CHECK(tapiq_cq_tail_own(&q) == tail, "a put moved the tail");
            } else {
                tapiq_cq_post(&q, m, n);
                tail += n;
            }
            wtail += n;
            break;
        }
        case 1: /* read the tail for a later take */
            limit = tapiq_cq_tail(&q);
            FUZZ_CHECK(limit == tail, "tail %u, model %u", limit, tail);
            break;
        case 3:
            if (op & 4) { /* publish what was put */
                tapiq_cq_publish(&q, wtail);
                tail = wtail;
                break;
            }
            /* fall through */
        default: { /* take up to n below the limit */
            struct tapiq_cqe out[8];
            uint32_t want = (int32_t)(limit - head) > 0 ? limit - head : 0;
            uint32_t k = tapiq_cq_take(&q, out, n, limit);
            if (want > n)
                want = n;
            FUZZ_CHECK(k == want, "took %u, expected %u", k, want);
            for (uint32_t i = 0; i < k; i++)
                FUZZ_CHECK(out[i].handle == head + i && out[i].p1 == (head + i) * 3u &&
                               out[i].p2 == ~(head + i) && out[i].msg == PHONE_REPLY,
                           "entry %u wrong", head + i);
            head += k;
            break;
        }
        }
        FUZZ_CHECK(tapiq_cq_pending(&q) == (head != tail), "pending disagrees");
    }
    tapiq_cq_destroy(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    uint8_t b0 = fuzz_u8(&in);
    if ((b0 & 1) == 0)
        fuzz_mpmc(&in, b0);
    else if (b0 & 0x80)
        fuzz_cq(&in, b0);
    else
        fuzz_sq(&in, b0);
    return 0;
}
