/* fuzz/fuzz_ring.c - the MPMC ring (core/mpmc.h) and the request-id
 * allocator (core/reqid.h), single-threaded, against reference models.
 *
 * Input: byte 0 picks the structure and its size, then operations.
 *  ring:  a TAPIQ_MPMC_DEFINE ring of uint32_t with capacity 1..16 (rounded up
 *         to a power of two >= 2), its free-running positions optionally
 *         started just below 2^64 so they wrap; push/pop of 0..8 elements
 *         and count, checked against a FIFO of the same capacity (exact
 *         capacity, FIFO order, counts, no element lost or duplicated).
 *  reqid: 1..40 slots (optionally with every generation just below its
 *         maximum so generations wrap); alloc_bulk / free_bulk of subsets of
 *         the held ids, checked against the set of held ids: ids never 0,
 *         at most 0x7FFFFFFF, unique among the held ones, index < slots,
 *         all slots allocatable, in_use exact. */
#include <stdint.h>
#include <string.h>

#include "core/mpmc.h"
#include "core/reqid.h"
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

static void fuzz_reqid(struct fuzz_in *in, uint8_t b0)
{
    struct tapiq_reqid r;
    uint32_t nslots = 1 + (b0 >> 1) % SLOTS_MAX;
    uint32_t held[SLOTS_MAX], nheld = 0, ids[SLOTS_MAX + 8], tmp[SLOTS_MAX];
    int ops = 0;

    if (tapiq_reqid_init(&r, nslots))
        return;
    FUZZ_CHECK(tapiq_reqid_in_use(&r) == 0, "fresh allocator has %u in use",
               tapiq_reqid_in_use(&r));
    if (b0 & 0x80) {
        /* Take every slot and give it back as if its generation were just
         * below the maximum (id = gen << idx_bits | index, reqid.h), so that
         * generations wrap within a few rounds. */
        uint32_t back = fuzz_u8(in) % 4;
        FUZZ_CHECK(tapiq_reqid_alloc_bulk(&r, ids, nslots) == nslots, "fresh slots missing");
        for (uint32_t i = 0; i < nslots; i++) {
            uint32_t g = r.gen_max > back ? r.gen_max - back : 1;
            ids[i] = g << r.idx_bits | tapiq_reqid_index(&r, ids[i]);
        }
        tapiq_reqid_free_bulk(&r, ids, nslots);
    }
    while (in->n && ops++ < OPS_MAX) {
        uint8_t op = fuzz_u8(in);
        if (op & 1) { /* alloc n */
            size_t n = (size_t)(op >> 1) % (SLOTS_MAX + 8), k;
            k = tapiq_reqid_alloc_bulk(&r, ids, n);
            FUZZ_CHECK(k == (n < nslots - nheld ? n : nslots - nheld),
                       "alloc %zu with %u/%u held gave %zu", n, nheld, nslots, k);
            for (size_t i = 0; i < k; i++) {
                uint32_t id = ids[i];
                FUZZ_CHECK(id != 0 && id <= 0x7FFFFFFFu, "id %#x out of range", id);
                FUZZ_CHECK(tapiq_reqid_index(&r, id) < nslots, "id %#x has index %u >= %u", id,
                           tapiq_reqid_index(&r, id), nslots);
                for (uint32_t j = 0; j < nheld; j++) {
                    FUZZ_CHECK(held[j] != id, "id %#x handed out twice", id);
                    FUZZ_CHECK(tapiq_reqid_index(&r, held[j]) != tapiq_reqid_index(&r, id),
                               "slot %u handed out twice", tapiq_reqid_index(&r, id));
                }
                held[nheld++] = id;
            }
        } else { /* free the held ids chosen by a mask */
            uint64_t mask = (uint64_t)fuzz_u32(in) << 8 | (op >> 1);
            uint32_t nf = 0, keep = 0;
            for (uint32_t j = 0; j < nheld; j++) {
                if (mask >> (j % 40) & 1)
                    tmp[nf++] = held[j];
                else
                    held[keep++] = held[j];
            }
            nheld = keep;
            tapiq_reqid_free_bulk(&r, tmp, nf);
        }
        FUZZ_CHECK(tapiq_reqid_in_use(&r) == nheld, "in_use %u, held %u",
                   tapiq_reqid_in_use(&r), nheld);
    }
    /* Everything comes back: free all, then every slot is allocatable. */
    tapiq_reqid_free_bulk(&r, held, nheld);
    FUZZ_CHECK(tapiq_reqid_alloc_bulk(&r, ids, nslots + 1) == nslots, "slots lost");
    tapiq_reqid_free_bulk(&r, ids, nslots);
    FUZZ_CHECK(tapiq_reqid_in_use(&r) == 0, "in_use %u after freeing all",
               tapiq_reqid_in_use(&r));
    tapiq_reqid_destroy(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    uint8_t b0 = fuzz_u8(&in);
    if (b0 & 1)
        fuzz_reqid(&in, b0);
    else
        fuzz_mpmc(&in, b0);
    return 0;
}
