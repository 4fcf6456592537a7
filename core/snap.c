/* core/snap.c - snapshot cells; see snap.h. */
#include "core/snap.h"

#include <string.h>

void tapiq_snap_init_unsync(struct tapiq_snap *s, void *storage, uint32_t bytes, const void *init)
{
    uint32_t words = (bytes + 3) / 4;
    s->words = words;
    s->buf = storage;
    for (uint32_t i = 0; i < 2 * words; i++) {
        uint32_t w = 0;
        uint32_t at = (i % words) * 4;
        if (init && at < bytes)
            memcpy(&w, (const unsigned char *)init + at, bytes - at < 4 ? bytes - at : 4);
        atomic_init(&s->buf[i], w);
    }
    atomic_init(&s->ver, 0);
}

uint32_t tapiq_snap_read(const struct tapiq_snap *s, uint32_t off, void *dst, uint32_t n)
{
    unsigned char *out = dst;
    if (n == 0)
        return 0;
    for (;;) {
        /* acquire: pairs with the release store in tapiq_snap_write_unsync(),
         * so the version's words are visible. */
        uint32_t v = atomic_load_explicit((_Atomic uint32_t *)&s->ver, memory_order_acquire);
        const _Atomic uint32_t *b = s->buf + (size_t)(v & 1) * s->words;
        for (uint32_t at = off; at < off + n;) {
            uint32_t w = atomic_load_explicit((_Atomic uint32_t *)&b[at / 4], memory_order_relaxed);
            uint32_t k = 4 - at % 4;
            if (k > off + n - at)
                k = off + n - at;
            memcpy(out + (at - off), (unsigned char *)&w + at % 4, k);
            at += k;
        }
        /* acquire fence: pairs with the release fence in
         * tapiq_snap_write_unsync(); if a word above came from a write that
         * began after version v + 1 was published, the load below sees a
         * version past v. */
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit((_Atomic uint32_t *)&s->ver, memory_order_relaxed) == v)
            return v;
    }
}

int tapiq_snap_write_unsync(struct tapiq_snap *s, uint32_t off, const void *src, uint32_t n)
{
    /* relaxed: the writer's own word. */
    uint32_t v = atomic_load_explicit(&s->ver, memory_order_relaxed);
    _Atomic uint32_t *cur = s->buf + (size_t)(v & 1) * s->words;
    _Atomic uint32_t *nxt = s->buf + (size_t)((v + 1) & 1) * s->words;
    const unsigned char *in = src;
    int same = 1;

    for (uint32_t at = off; at < off + n && same;) {
        /* relaxed: only this thread writes the cell. */
        uint32_t w = atomic_load_explicit(&cur[at / 4], memory_order_relaxed);
        uint32_t k = 4 - at % 4;
        if (k > off + n - at)
            k = off + n - at;
        same = memcmp((unsigned char *)&w + at % 4, in + (at - off), k) == 0;
        at += k;
    }
    if (same)
        return 0;
    /* release fence: pairs with the acquire fence in tapiq_snap_read(). The
     * copy written below is the one of version v - 1; a reader still copying
     * it and seeing any of these stores then sees version v (or later) and
     * starts again. */
    atomic_thread_fence(memory_order_release);
    for (uint32_t i = 0; i < s->words; i++) {
        uint32_t w = atomic_load_explicit(&cur[i], memory_order_relaxed);
        uint32_t at = i * 4;
        if (at + 4 > off && at < off + n) {
            uint32_t from = at > off ? at : off;
            uint32_t to = at + 4 < off + n ? at + 4 : off + n;
            memcpy((unsigned char *)&w + (from - at), in + (from - off), to - from);
        }
        atomic_store_explicit(&nxt[i], w, memory_order_relaxed);
    }
    /* release: pairs with the acquire load in tapiq_snap_read(). */
    atomic_store_explicit(&s->ver, v + 1, memory_order_release);
    return 1;
}
