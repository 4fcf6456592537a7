/* core/snap.h - a snapshot cell: a small byte array with one writer and any
 * number of readers, each of whom copies out one consistent version.
 *
 * Two copies of the array and a version word: version v lives in copy
 * v & 1. The writer builds version v + 1 in the other copy (the current one,
 * then its change) and publishes it with a release store of the version; a
 * reader loads the version, copies from that copy and checks the version is
 * unchanged, else starts again. Every byte is read and written through
 * _Atomic words (relaxed), so concurrent access is race-free in C11 terms.
 *
 * Synchronization table:
 *   read:  any number of threads, concurrently with each other and with
 *          write_unsync; lock-free: a reader starts again only when a write
 *          was published while it copied (a completed write, never one in
 *          progress), so a reader never waits for the writer.
 *   write_unsync: one thread at a time (the caller provides exclusion: the
 *          device's worker); wait-free (copies the cell once).
 *   init_unsync: before the cell is shared (publication orders it).
 * Invariants: the version only grows (mod 2^32; a reader that sleeps through
 * exactly 2^32 writes could take a mixed copy); copy (v & 1) is never written
 * while v is the published version.
 */
#ifndef TAPIQ_CORE_SNAP_H
#define TAPIQ_CORE_SNAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct tapiq_snap {
    _Atomic uint32_t ver;  /* the published version */
    uint32_t words;        /* 32-bit words per copy */
    _Atomic uint32_t *buf; /* 2 x words: copy 0, then copy 1 */
};

/* Bytes of storage a cell of @bytes needs (both copies). */
static inline size_t tapiq_snap_storage(uint32_t bytes)
{
    return 2 * (((size_t)bytes + 3) / 4) * sizeof(uint32_t);
}

/* tapiq_snap_init_unsync - make @s a cell of @bytes over @storage
 * (tapiq_snap_storage(@bytes) bytes, 4-byte aligned), holding @init (NULL:
 * zeros; otherwise @bytes bytes).
 * Concurrency: before any reader can reach @s.
 * Ownership:   @storage stays the caller's; it must outlive the cell. */
void tapiq_snap_init_unsync(struct tapiq_snap *s, void *storage, uint32_t bytes, const void *init);

/* tapiq_snap_read - copy bytes [@off, @off + @n) of the published version
 * into @dst.
 * Concurrency: any thread, any number; lock-free (see above).
 * Ordering:    acquire; everything the writer wrote before publishing the
 *              version copied happens-before the return.
 * Returns:     the version copied. */
uint32_t tapiq_snap_read(const struct tapiq_snap *s, uint32_t off, void *dst, uint32_t n);

/* tapiq_snap_write_unsync - publish a new version equal to the current one
 * but for bytes [@off, @off + @n), which become @src.
 * Concurrency: one writer at a time (the caller's exclusion); wait-free.
 * Ordering:    release; readers that copy the new version see all of it.
 * Returns:     1 when the bytes changed, 0 when they already were @src
 *              (nothing is published then). */
int tapiq_snap_write_unsync(struct tapiq_snap *s, uint32_t off, const void *src, uint32_t n);

#endif /* TAPIQ_CORE_SNAP_H */
