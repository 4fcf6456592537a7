/* fuzz/fuzz.h - shared helpers of the fuzz targets.
 *
 * Every target defines LLVMFuzzerTestOneInput. It is linked either with
 * libFuzzer (-fsanitize=fuzzer, clang, -Dfuzz=enabled) or with replay.c, a
 * small main() that runs every file of a corpus folder through it (any
 * compiler, registered as a test in suite 'fuzz').
 *
 * A violated invariant prints what was expected and abort()s, which both
 * libFuzzer and the replay test report as a failure.
 */
#ifndef TAPIQ_FUZZ_FUZZ_H
#define TAPIQ_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                  \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: invariant violated: %s\n  ", __FILE__, __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* A cursor over the input; reading past the end yields zeros. */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
    uint16_t v = fuzz_u8(in);
    return (uint16_t)(v | (uint16_t)fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
    uint32_t v = fuzz_u16(in);
    return v | (uint32_t)fuzz_u16(in) << 16;
}

#endif /* TAPIQ_FUZZ_FUZZ_H */
