/* Event ring: event reservations are bounded, messages held elsewhere count
 * as pending, posts keep FIFO
 * order, pop on empty returns 0, wait times out, wakes on post, and returns
 * -ESHUTDOWN after close, and returns poll()'s -errno when the wait itself
 * fails (rather than 0, which would make an unbounded wait spin); a
 * level-triggered ring's fd is readable exactly while messages are pending. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/cring.h"
#include "check.h"

/* Take one message: 1, or 0 when empty. */
static int pop1(struct tapiq_cring *c, struct tapiq_cmsg *m)
{
    return tapiq_cmq_pop_try(&c->q, m, 1) == 1;
}

static int readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

static void test_events(void)
{
    struct tapiq_cring c;
    TQ_CHECK(tapiq_cring_init(&c, 4, 0, NULL, NULL) == 0);
    TQ_CHECK(tapiq_cring_reserve_events(&c, 3) == 0);
    TQ_CHECK(tapiq_cring_reserve_events(&c, 2) == -EAGAIN);
    tapiq_cring_release_events(&c, 3);
    TQ_CHECK(tapiq_cring_reserve_events(&c, 4) == 0);
    TQ_CHECK(tapiq_cring_reserve_events(&c, 1) == -EAGAIN);
    tapiq_cring_destroy(&c);
}

/* Messages held elsewhere (a completion queue) count as pending. */
static int g_elsewhere;
static int elsewhere(void *arg)
{
    return *(int *)arg;
}

static void test_pending_elsewhere(void)
{
    struct tapiq_cring c;
    TQ_CHECK(tapiq_cring_init(&c, 4, 1, elsewhere, &g_elsewhere) == 0);
    TQ_CHECK(!readable(c.efd));
    g_elsewhere = 1;
    tapiq_cring_notify(&c);
    TQ_CHECK(readable(c.efd));
    TQ_CHECK(tapiq_cring_wait_blocking(&c, 10) == 0); /* pending: no sleep */
    tapiq_cring_settle(&c);
    TQ_CHECK(readable(c.efd));
    g_elsewhere = 0;
    tapiq_cring_settle(&c);
    TQ_CHECK(!readable(c.efd));
    tapiq_cring_destroy(&c);
}

static void test_fifo(void)
{
    struct tapiq_cring c;
    struct tapiq_cmsg m[12], out;
    TQ_CHECK(tapiq_cring_init(&c, 12, 0, NULL, NULL) == 0);
    TQ_CHECK(!pop1(&c, &out));
    /* several laps: capacity 12 rounds up to 16 cells */
    for (uint32_t lap = 0; lap < 10; lap++) {
        for (uint32_t i = 0; i < 12; i++)
            m[i] = (struct tapiq_cmsg){i + 1, 17, lap * 100 + i, 0};
        tapiq_cring_post_blocking(&c, m, 12);
        for (uint32_t i = 0; i < 12; i++) {
            TQ_CHECK(pop1(&c, &out));
            TQ_CHECK(out.handle == i + 1 && out.p1 == lap * 100 + i);
        }
        TQ_CHECK(!pop1(&c, &out));
    }
    tapiq_cring_destroy(&c);
}

static struct tapiq_cring g_c;

static void *poster(void *arg)
{
    struct tapiq_cmsg m = {1, 17, 42, 0};
    (void)arg;
    usleep(20000);
    tapiq_cring_post_blocking(&g_c, &m, 1);
    return NULL;
}

static void *closer(void *arg)
{
    (void)arg;
    usleep(20000);
    tapiq_cring_close(&g_c);
    return NULL;
}

static void test_wait(void)
{
    pthread_t t;
    struct tapiq_cmsg out;
    int r;
    TQ_CHECK(tapiq_cring_init(&g_c, 8, 0, NULL, NULL) == 0);
    TQ_CHECK(tapiq_cring_wait_blocking(&g_c, 10) == -ETIMEDOUT);
    /* a post from another thread ends an unbounded wait */
    TQ_CHECK(pthread_create(&t, NULL, poster, NULL) == 0);
    do {
        r = tapiq_cring_wait_blocking(&g_c, UINT32_MAX);
        TQ_CHECK(r == 0);
    } while (!pop1(&g_c, &out));
    TQ_CHECK(out.p1 == 42);
    pthread_join(t, NULL);
    /* close ends an unbounded wait with -ESHUTDOWN */
    TQ_CHECK(pthread_create(&t, NULL, closer, NULL) == 0);
    do
        r = tapiq_cring_wait_blocking(&g_c, UINT32_MAX);
    while (r == 0);
    TQ_CHECK(r == -ESHUTDOWN);
    pthread_join(t, NULL);
    tapiq_cring_destroy(&g_c);
}

/* poll() refuses one fd while RLIMIT_NOFILE is 0 (EINVAL): an unbounded
 * wait returns the error instead of 0 ("look again"). */
static void test_wait_fails(void)
{
    struct tapiq_cring c;
    struct rlimit old, zero;
    int r;
    TQ_CHECK(tapiq_cring_init(&c, 4, 0, NULL, NULL) == 0);
    TQ_CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
    zero = old;
    zero.rlim_cur = 0;
    TQ_CHECK(setrlimit(RLIMIT_NOFILE, &zero) == 0);
    r = tapiq_cring_wait_blocking(&c, UINT32_MAX);
    TQ_CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
    TQ_CHECKF(r == -EINVAL, "wait with RLIMIT_NOFILE 0 = %d (want -EINVAL)", r);
    TQ_CHECK(tapiq_cring_wait_blocking(&c, 1) == -ETIMEDOUT); /* works again */
    tapiq_cring_destroy(&c);
}

static void test_level(void)
{
    struct tapiq_cring c;
    struct tapiq_cmsg m = {1, 17, 1, 0}, out;
    TQ_CHECK(tapiq_cring_init(&c, 4, 1, NULL, NULL) == 0);
    TQ_CHECK(!readable(c.efd));
    tapiq_cring_post_blocking(&c, &m, 1);
    tapiq_cring_post_blocking(&c, &m, 1);
    TQ_CHECK(readable(c.efd));
    TQ_CHECK(pop1(&c, &out));
    tapiq_cring_settle(&c);
    TQ_CHECK(readable(c.efd)); /* one still pending */
    TQ_CHECK(pop1(&c, &out));
    tapiq_cring_settle(&c);
    TQ_CHECK(!readable(c.efd));
    tapiq_cring_post_blocking(&c, &m, 1);
    TQ_CHECK(readable(c.efd));
    tapiq_cring_destroy(&c);
}

int main(void)
{
    test_events();
    test_pending_elsewhere();
    test_fifo();
    test_wait();
    test_wait_fails();
    test_level();
    printf("cring: ok\n");
    return 0;
}
