/* core/tapi_boundary.h - helpers shared by the TAPI boundary files
 * (tapi_caps.c, tapi_phone.c): entering a call on a phone handle and laying
 * out the variable part of TAPI's variable-size structures. Internal; the
 * boundary is the one place that translates -errno into PHONEERR_*. */
#ifndef TAPIQ_CORE_TAPI_BOUNDARY_H
#define TAPIQ_CORE_TAPI_BOUNDARY_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/guard.h"
#include "core/handle.h"
#include "core/runtime.h"
#include "core/utf.h"

/* Enter a read-side section and find the open handle @h.
 * Returns 0 with *rtp and *hsp set, or PHONEERR_UNINITIALIZED /
 * PHONEERR_INVALPHONEHANDLE; in every case the caller leaves with
 * tapiq_guard_exit(). */
static inline LONG tapiq_enter_handle(HPHONE h, struct tapiq_rt **rtp,
                                      struct tapiq_handle **hsp)
{
    tapiq_guard_enter();
    *rtp = tapiq_rt_current();
    if (!*rtp)
        return (LONG)PHONEERR_UNINITIALIZED;
    *hsp = tapiq_handle_lookup(*rtp, h);
    return *hsp ? 0 : (LONG)PHONEERR_INVALPHONEHANDLE;
}

/* The head of TAPI's variable-size structures: dwTotalSize, dwNeededSize,
 * dwUsedSize. A caller's structure too small for the fixed part still gets
 * dwNeededSize when it holds this head. */
#define TAPIQ_VARSIZE_HEAD 12u
#define TAPIQ_VARSIZE_HEAD_OF(type) (offsetof(type, dwUsedSize) + sizeof(DWORD))
static_assert(TAPIQ_VARSIZE_HEAD_OF(PHONECAPS) == TAPIQ_VARSIZE_HEAD, "PHONECAPS head");
static_assert(TAPIQ_VARSIZE_HEAD_OF(PHONESTATUS) == TAPIQ_VARSIZE_HEAD, "PHONESTATUS head");
static_assert(TAPIQ_VARSIZE_HEAD_OF(PHONEBUTTONINFO) == TAPIQ_VARSIZE_HEAD, "PHONEBUTTONINFO head");
static_assert(TAPIQ_VARSIZE_HEAD_OF(VARSTRING) == TAPIQ_VARSIZE_HEAD, "VARSTRING head");
static_assert(TAPIQ_VARSIZE_HEAD_OF(PHONEINITIALIZEEXPARAMS) == TAPIQ_VARSIZE_HEAD,
              "PHONEINITIALIZEEXPARAMS head");

/* The variable part of a structure, laid out twice: once to measure
 * (write 0: the caller's buffer is not touched; give the fill functions a
 * scratch copy of the fixed part), once to fill (write 1). Each field starts
 * at a multiple of 4; padding is written as zeros. */
struct tapiq_var {
    unsigned char *base;
    DWORD off;
    int write;
};

/* Where a variable field went (the structures are packed: no pointers to
 * their fields, the caller stores these). */
struct tapiq_field {
    DWORD size, offset;
};

/* Put @n bytes of @src (NULL: the caller fills them). */
static inline struct tapiq_field tapiq_var_put(struct tapiq_var *v, const void *src, DWORD n)
{
    struct tapiq_field f;
    f.offset = (v->off + 3) & ~3u;
    f.size = n;
    if (v->write)
        memset(v->base + v->off, 0, f.offset - v->off);
    if (v->write && src && n)
        memcpy(v->base + f.offset, src, n);
    v->off = f.offset + n;
    return f;
}

/* Put @len bytes of UTF-8 at @s and a NUL: as they are, or as UTF-16 when
 * @wide (at most TAPIQ_VAR_MAX_UNITS units: the strings of the boundary,
 * names and button texts, are shorter). */
#define TAPIQ_VAR_MAX_UNITS 256u
static inline struct tapiq_field tapiq_var_put_str(struct tapiq_var *v, const char *s,
                                                   size_t len, int wide)
{
    uint16_t tmp[TAPIQ_VAR_MAX_UNITS];
    struct tapiq_field f;
    size_t units;
    if (!wide) {
        f = tapiq_var_put(v, s, (DWORD)len + 1);
        if (v->write)
            v->base[f.offset + len] = '\0';
        return f;
    }
    units = tapiq_utf8_to_utf16(s, len, tmp, TAPIQ_VAR_MAX_UNITS - 1);
    if (units > TAPIQ_VAR_MAX_UNITS - 1)
        units = TAPIQ_VAR_MAX_UNITS - 1;
    tmp[units++] = 0;
    return tapiq_var_put(v, tmp, (DWORD)(units * 2));
}

#endif /* TAPIQ_CORE_TAPI_BOUNDARY_H */
