/* test_resource - RESOURCEUNAVAIL from phoneSetLamp: a tiny request queue
 * and an application that does not read its replies. Backpressure, never a
 * drop: every accepted request is replied once the application reads, and
 * reading makes room again; a thread of another application is still served.
 */
#include <pthread.h>

#include "tq_test.h"

static HPHONE g_other;
static LONG g_other_id;

static void *other_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000 && g_other_id <= 0; i++) {
        g_other_id = phoneSetLamp(g_other, 7, PHONELAMPMODE_FLASH);
        if (g_other_id <= 0) {
            TQ_EXPECT(g_other_id, PHONEERR_RESOURCEUNAVAIL);
            tq_sleep_us(100);
        }
    }
    return NULL;
}

/* RESOURCEUNAVAIL: a tiny request queue and an application that does not read
 * its replies. Backpressure, never a drop: every accepted request is replied
 * once the application reads, and reading makes room again. */
static void case_resource(void)
{
    HPHONEAPP app = tq_start("devices=3,lamps=8,workers=1,queue=4,offline=1", NULL);
    HPHONE own = tq_open(app, 0, PHONEPRIVILEGE_OWNER, 0x11);
    HPHONE own1 = tq_open(app, 1, PHONEPRIVILEGE_OWNER, 0x12);
    HPHONE mon = tq_open(app, 0, PHONEPRIVILEGE_MONITOR, 0x13);
    HPHONE off = tq_open(app, 2, PHONEPRIVILEGE_OWNER, 0x14);
    const uint64_t limit = 1u << 21;
    uint64_t accepted = 0, refused = 0;
    int saturated = 0;
    LONG *ids = malloc(sizeof *ids * limit);
    TQ_CHECK(ids != NULL);

    /* Issue without reading until refusals persist with nothing in flight:
     * then the application's unread replies are what holds the room. */
    for (uint64_t i = 0; i < 64 * limit && accepted < limit; i++) {
        HPHONE h = (i & 1) ? own1 : own;
        LONG r = phoneSetLamp(h, (DWORD)(i % 8), tq_mode((unsigned)(i / 8)));
        if (r > 0) {
            TQ_CHECK(TQ_ID_OK(r));
            ids[accepted++] = r;
            continue;
        }
        TQ_CHECKF(r == (LONG)PHONEERR_RESOURCEUNAVAIL, "phoneSetLamp = %s after %" PRIu64 " accepted",
                  tq_err_name(r), accepted);
        refused++;
        {
            /* The refusals must last: the replies the application does not
             * read fill its completion queue, the worker holds the rest in
             * the thread's ring (still in flight), and the ring is full. */
            int k;
            for (k = 0; k < 200; k++) {
                r = phoneSetLamp(own, 0, PHONELAMPMODE_STEADY);
                if (r != (LONG)PHONEERR_RESOURCEUNAVAIL)
                    break;
                refused++;
                tq_sleep_us(500);
            }
            if (k == 200) {
                saturated = 1;
                break;
            }
            TQ_CHECKF(TQ_ID_OK(r), "phoneSetLamp = %s", tq_err_name(r));
            ids[accepted++] = r;
        }
        sched_yield();
    }
    TQ_CHECKF(saturated, "no lasting RESOURCEUNAVAIL after %" PRIu64 " accepted requests with "
              "queue=4 and no reader", accepted);
    printf("resource: %" PRIu64 " accepted before the application's room ran out (%" PRIu64
           " refusals)\n", accepted, refused);

    /* While saturated, every other error still comes first. */
    TQ_EXPECT(phoneSetLamp(0, 0, PHONELAMPMODE_STEADY), PHONEERR_INVALPHONEHANDLE);
    TQ_EXPECT(phoneSetLamp(mon, 0, PHONELAMPMODE_STEADY), PHONEERR_NOTOWNER);
    TQ_EXPECT(phoneSetLamp(own, 8, PHONELAMPMODE_STEADY), PHONEERR_INVALBUTTONLAMPID);
    TQ_EXPECT(phoneSetLamp(own, 0, 0), PHONEERR_INVALLAMPMODE);
    TQ_EXPECT(phoneSetLamp(off, 0, PHONELAMPMODE_STEADY), PHONEERR_INVALPHONESTATE);
    TQ_EXPECT(phoneSetLamp(own1, 0, PHONELAMPMODE_STEADY), PHONEERR_RESOURCEUNAVAIL);

    /* Another application has its own completion queues: a thread whose
     * rings are free is served while the first one does not read. (A thread
     * shares its rings among applications: this one's are full.) */
    HPHONEAPP app2 = 0;
    TQ_EXPECT(tq_init_app(&app2, NULL, NULL), 0);
    HPHONE other = tq_open(app2, 0, PHONEPRIVILEGE_OWNER, 0x21);
    g_other = other;
    pthread_t th;
    TQ_CHECK(pthread_create(&th, NULL, other_thread, NULL) == 0);
    pthread_join(th, NULL);
    LONG oid = g_other_id;
    TQ_CHECKF(oid > 0, "a second application is refused while the first one does not read");
    PHONEMESSAGE m;
    TQ_EXPECT(phoneGetMessage(app2, &m, 10000), 0);
    TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.dwParam1 == (DWORD_PTR)oid && m.hDevice == other);
    TQ_EXPECT(phoneShutdown(app2), 0);

    /* Every accepted request has its reply waiting, each once. */
    uint32_t *got = malloc(sizeof *got * accepted);
    TQ_CHECK(got != NULL);
    for (uint64_t i = 0; i < accepted; i++) {
        LONG r = phoneGetMessage(app, &m, 10000);
        TQ_CHECKF(r == 0, "reply %" PRIu64 " of %" PRIu64 ": %s", i, accepted, tq_err_name(r));
        TQ_CHECK(m.dwMessageID == PHONE_REPLY);
        TQ_CHECK(m.dwParam2 == 0);
        TQ_CHECK(m.hDevice == own || m.hDevice == own1);
        TQ_CHECK(m.dwCallbackInstance == (m.hDevice == own ? 0x11u : 0x12u));
        got[i] = (uint32_t)m.dwParam1;
    }
    TQ_EXPECT(phoneGetMessage(app, &m, 0), PHONEERR_OPERATIONFAILED);
    uint32_t *want = malloc(sizeof *want * accepted);
    TQ_CHECK(want != NULL);
    for (uint64_t i = 0; i < accepted; i++)
        want[i] = (uint32_t)ids[i];
    qsort(got, accepted, sizeof *got, tq_cmp_u32);
    qsort(want, accepted, sizeof *want, tq_cmp_u32);
    TQ_CHECK(memcmp(got, want, sizeof *got * accepted) == 0);

    /* Reading made room again (allowing the workers a moment to hand the
     * room back: bounded retries). */
    LONG id = PHONEERR_RESOURCEUNAVAIL;
    for (int k = 0; k < 20000 && id == (LONG)PHONEERR_RESOURCEUNAVAIL; k++) {
        id = phoneSetLamp(own, 3, PHONELAMPMODE_STEADY);
        if (id == (LONG)PHONEERR_RESOURCEUNAVAIL) {
            refused++;
            tq_sleep_us(500);
        }
    }
    TQ_CHECKF(id > 0, "after reading every reply phoneSetLamp = %s", tq_err_name(id));
    TQ_EXPECT(phoneGetMessage(app, &m, 10000), 0);
    TQ_CHECK(m.dwMessageID == PHONE_REPLY && m.dwParam1 == (DWORD_PTR)id);
    DWORD mode;
    TQ_EXPECT(phoneGetLamp(own, 3, &mode), 0);
    TQ_CHECK(mode == PHONELAMPMODE_STEADY);

    tapiq_stats st = tq_wait_idle();
    TQ_CHECKF(st.rejected[TAPIQ_REJECT_RESOURCEUNAVAIL] >= refused + 1,
              "stats RESOURCEUNAVAIL %" PRIu64 ", at least %" PRIu64 " were returned",
              st.rejected[TAPIQ_REJECT_RESOURCEUNAVAIL], refused + 1);
    free(got);
    free(want);
    free(ids);
    TQ_EXPECT(phoneShutdown(app), 0);
}

int main(void)
{
    TQ_CHECK(unsetenv("TAPIQ_CONFIG") == 0);
    case_resource();
    printf("test_resource: ok\n");
    return 0;
}
