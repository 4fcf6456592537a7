/* Objects with cache-line-aligned members (alignas(64)) are allocated at
 * their alignment: the runtime, each application and its completion queues.
 * calloc() gives only 16 bytes, so with it 3 of 4 placements are misaligned
 * (undefined behaviour; UBSan's alignment check reports it, and split
 * cache lines undo the layout). Allocations of odd sizes between the
 * initializations move the heap so that both placements are seen. */
#include <stdint.h>
#include <stdlib.h>

#include <tapiq/tapi.h>

#include "check.h"
#include "core/app.h"
#include "core/runtime.h"

#define ALIGNED(p, T) ((uintptr_t)(p) % _Alignof(T) == 0)

int main(void)
{
    void *junk[64];
    for (int i = 0; i < 64; i++) {
        HPHONEAPP happ[3];
        DWORD ndev, ver = TAPI_CURRENT_VERSION;
        PHONEINITIALIZEEXPARAMS p = {.dwTotalSize = sizeof(p),
                                     .dwOptions = PHONEINITIALIZEEXOPTION_USEEVENT};
        struct tapiq_rt *rt;
        junk[i] = malloc(16 + (size_t)i * 48);
        TQ_CHECK(junk[i] != NULL);
        for (int a = 0; a < 3; a++)
            TQ_CHECK(phoneInitializeEx(&happ[a], NULL, NULL, "align", &ndev, &ver, &p) == 0);
        rt = tapiq_rt_current();
        TQ_CHECK(rt != NULL);
        TQ_CHECKF(ALIGNED(rt, struct tapiq_rt), "runtime at %p", (void *)rt);
        for (int a = 0; a < 3; a++) {
            struct tapiq_app *app = tapiq_app_lookup(rt, happ[a]);
            TQ_CHECK(app != NULL);
            TQ_CHECKF(ALIGNED(app, struct tapiq_app), "application at %p", (void *)app);
            for (uint32_t w = 0; w < app->ncq; w++)
                TQ_CHECKF(ALIGNED(&app->cq[w], struct tapiq_cq), "completion queue at %p",
                          (void *)&app->cq[w]);
        }
        for (int a = 0; a < 3; a++)
            TQ_CHECK(phoneShutdown(happ[a]) == 0);
    }
    for (int i = 0; i < 64; i++)
        free(junk[i]);
    printf("ok: runtime, applications and completion queues aligned over 64 initializations\n");
    return 0;
}
