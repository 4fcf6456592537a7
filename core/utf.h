/* core/utf.h - UTF-8 <-> UTF-16 for the W variants of the TAPI functions.
 *
 * Pure functions, reentrant, no allocation. Invalid input (a bad UTF-8
 * sequence, an unpaired surrogate) becomes U+FFFD; nothing is refused.
 */
#ifndef TAPIQ_CORE_UTF_H
#define TAPIQ_CORE_UTF_H

#include <stddef.h>
#include <stdint.h>

/* tapiq_utf8_to_utf16 - convert @n bytes of UTF-8 at @s.
 * Ownership: writes at most @cap units to @out (@out may be NULL when @cap
 *            is 0); no terminator is added.
 * Returns:   the number of UTF-16 units of the whole conversion (which may
 *            exceed @cap: call with @cap 0 to size a buffer). */
size_t tapiq_utf8_to_utf16(const char *s, size_t n, uint16_t *out, size_t cap);

/* tapiq_utf16_to_utf8 - convert the NUL-terminated UTF-16 string @s.
 * Ownership: writes at most @cap - 1 bytes and a NUL to @out (@cap >= 1);
 *            a character that does not fit whole is left out, with the rest.
 * Returns:   the length in bytes of the whole conversion (no NUL). */
size_t tapiq_utf16_to_utf8(const uint16_t *s, char *out, size_t cap);

#endif /* TAPIQ_CORE_UTF_H */
