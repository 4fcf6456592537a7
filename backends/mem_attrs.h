/* backends/mem_attrs.h - console attributes besides lamps (the mem and mqtt
 * backends' keys):
 * their configuration keys and the attributes they give each console.
 *
 * Keys (each also per console or range of consoles: `KEY@N` or `KEY@A-B`;
 * such a key overrides the plain one for those consoles, and where ranges of
 * one key overlap the later item wins):
 *   display=RxC          display of R rows x C columns (R x C <= 4096); none
 *   ring_modes=N         ring modes 1..N (<= 255); 0
 *   hookswitch=DEV+...   hookswitch devices: handset, speaker, headset, each
 *                        with volume and gain control and the modes ONHOOK,
 *                        MIC, SPEAKER, MICSPEAKER; none
 *   buttons=SPEC+...     button/lamp positions from 0 (at most `lamps`), each
 *                        MODE[:FUNCTION[:TEXT]]: MODE one of dummy, call,
 *                        feature, keypad, local, display; FUNCTION the name
 *                        of a PHONEBUTTONFUNCTION_* in lower case (hold,
 *                        transfer ...) or its number; TEXT up to button_text
 *                        bytes without '+' or ','. Positions not listed are
 *                        lamps without a button (dummy); none
 *   button_text=N        longest button text in bytes (<= 255); 16
 *   data=SIZE+...        data areas of SIZE bytes each (<= 64 areas of at most
 *                        65536 bytes); none
 * A console none of these keys give anything has only its lamps.
 *
 * Concurrency: configuration calls run under the library's configuration
 * lock; mem_attrs_apply runs in the backend's start. No shared state.
 */
#ifndef TAPIQ_BACKENDS_MEM_ATTRS_H
#define TAPIQ_BACKENDS_MEM_ATTRS_H

#include <stddef.h>
#include <stdint.h>

#include "tapiq/tapiq.h"

struct mem_attrs; /* the parsed keys */

/* An empty set (all defaults), or NULL on ENOMEM. */
struct mem_attrs *mem_attrs_new(void);
void mem_attrs_free(struct mem_attrs *a);

/* Take @key=@value when it is one of the keys above. Returns 0; -ENOENT when
 * the key is not one of them; -EINVAL (message in @err); -ENOMEM. */
int mem_attrs_key(struct mem_attrs *a, const char *key, const char *value, char *err,
                  size_t errlen);

/* Check the keys against the console count and lamps. 0 or -EINVAL. */
int mem_attrs_check(const struct mem_attrs *a, uint32_t devices, uint32_t lamps, char *err,
                    size_t errlen);

/* Give console @device (with @lamps lamps) its attributes through @host.
 * Returns 0, -EINVAL (message in @err), -ENOMEM. */
int mem_attrs_apply(const struct mem_attrs *a, tapiq_host *host, uint32_t device, uint32_t lamps,
                    char *err, size_t errlen);

/* The same, handing the attributes to @give(@ctx, @device, attrs) instead
 * (not called for a console with lamps only; attrs valid during the call).
 * Returns what @give returns, or the errors above. */
int mem_attrs_resolve(const struct mem_attrs *a, uint32_t device, uint32_t lamps,
                      int (*give)(void *ctx, uint32_t device, const tapiq_device_attrs *t),
                      void *ctx, char *err, size_t errlen);

#endif /* TAPIQ_BACKENDS_MEM_ATTRS_H */
