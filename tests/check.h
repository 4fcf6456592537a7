/* tests/check.h - the check macros of every test (tests/, backends/<name>/tests/,
 * the bench's programs that check their own runs).
 *
 *   TQ_CHECK(cond)              fail unless cond holds
 *   TQ_CHECKF(cond, fmt, ...)   the same, saying why (printf-style)
 *   TQ_FAIL(fmt, ...)           fail here
 *   tq_run_cases(...)           run a test's named cases (all, or the one named)
 *
 * A failure prints "FAIL file:line: cond: why" to stderr, runs the fixture's
 * cleanup if one is set (tq_check_cleanup: e.g. stop the brokers a test
 * started), and ends the process with exit status 1 at once: other threads
 * may still be running and nothing else is cleaned up. Everything here is
 * static: each test is one executable. C11 and C++11.
 */
#ifndef TAPIQ_TESTS_CHECK_H
#define TAPIQ_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define TQ_NORETURN __attribute__((noreturn))
#define TQ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TQ_NORETURN
#define TQ_PRINTF(a, b)
#endif

/* Set by a fixture; run once, by the first failure, before the exit. */
static void (*tq_check_cleanup)(void);

static inline void tq_fail_where(const char *file, int line, const char *cond)
{
    fprintf(stderr, "FAIL %s:%d: %s", file, line, cond);
}

static inline TQ_NORETURN void tq_fail_exit(void)
{
    void (*cleanup)(void) = tq_check_cleanup;
    fputc('\n', stderr);
    fflush(stderr);
    fflush(stdout);
    tq_check_cleanup = NULL;
    if (cleanup)
        cleanup();
    _Exit(1);
}

static inline TQ_NORETURN TQ_PRINTF(1, 2) void tq_fail_why(const char *fmt, ...)
{
    va_list ap;
    fputs(": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    tq_fail_exit();
}

#define TQ_CHECK(cond)                                                                       \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            tq_fail_where(__FILE__, __LINE__, #cond);                                        \
            tq_fail_exit();                                                                  \
        }                                                                                    \
    } while (0)

#define TQ_CHECKF(cond, ...)                                                                 \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            tq_fail_where(__FILE__, __LINE__, #cond);                                        \
            tq_fail_why(__VA_ARGS__);                                                        \
        }                                                                                    \
    } while (0)

#define TQ_FAIL(...)                                                                         \
    do {                                                                                     \
        tq_fail_where(__FILE__, __LINE__, "failed");                                         \
        tq_fail_why(__VA_ARGS__);                                                            \
    } while (0)

/* A test made of named cases. */
struct tq_case {
    const char *name;
    void (*fn)(void);
};

/* Run every case, or only the one named by argv[1] (a name that is no case
 * fails); then print "TEST: ok". Returns main's exit status. */
static inline int tq_run_cases(int argc, char **argv, const char *test, const struct tq_case *c,
                               size_t n)
{
    int ran = 0;
    for (size_t i = 0; i < n; i++)
        if (argc < 2 || strcmp(argv[1], c[i].name) == 0) {
            c[i].fn();
            ran++;
        }
    TQ_CHECKF(ran > 0, "%s: no case named '%s'", test, argc > 1 ? argv[1] : "");
    printf("%s: ok\n", test);
    return 0;
}

#endif /* TAPIQ_TESTS_CHECK_H */
