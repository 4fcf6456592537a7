/* UTF-8 <-> UTF-16 (core/utf.h), as the W variants use it: ASCII, two-,
 * three- and four-byte sequences (surrogate pairs), every kind of invalid
 * input becoming U+FFFD, sizing with a capacity of 0, and truncation that
 * never cuts a character. */
#include <stdint.h>
#include <string.h>

#include "core/utf.h"
#include "check.h"

static int units_are(const char *s, const uint16_t *want, size_t n)
{
    uint16_t out[64];
    size_t k = tapiq_utf8_to_utf16(s, strlen(s), out, 64);
    return k == n && tapiq_utf8_to_utf16(s, strlen(s), NULL, 0) == n &&
           memcmp(out, want, n * 2) == 0;
}

int main(void)
{
    static const uint16_t ascii[] = {'t', 'a', 'p', 'i'};
    static const uint16_t mixed[] = {'U', 0xDC, 0x2192, 0xD83D, 0xDCDE};
    static const uint16_t bad[] = {0xFFFD, 'a', 0xFFFD, 'b', 0xFFFD, 0xFFFD};
    static const uint16_t wide[] = {'Z', 0xDC, 0x2192, 0xD83D, 0xDCDE, 0xD800, 'x', 0xDC00, 0};
    uint16_t out[4];
    char u8[32];

    TQ_CHECK(units_are("tapi", ascii, 4));
    TQ_CHECK(units_are("U\xC3\x9C\xE2\x86\x92\xF0\x9F\x93\x9E", mixed, 5));
    /* a lone continuation byte, an overlong 'a' (C1 A1), a surrogate coded
     * in UTF-8, a truncated sequence: one U+FFFD each */
    TQ_CHECK(units_are("\x80" "a" "\xC1\xA1" "b" "\xED\xA0\x80" "\xF0\x9F", bad, 6));
    TQ_CHECK(tapiq_utf8_to_utf16("\xF4\x90\x80\x80", 4, out, 4) == 1 && out[0] == 0xFFFD);
    TQ_CHECK(tapiq_utf8_to_utf16("\xFF", 1, out, 4) == 1 && out[0] == 0xFFFD);
    /* a capacity that cuts a surrogate pair writes only what fits */
    memset(out, 0, sizeof out);
    TQ_CHECK(tapiq_utf8_to_utf16("a\xF0\x9F\x93\x9E", 5, out, 2) == 3 && out[0] == 'a' &&
             out[1] == 0xD83D && out[2] == 0);

    /* UTF-16 to UTF-8; unpaired surrogates become U+FFFD (EF BF BD) */
    TQ_CHECK(tapiq_utf16_to_utf8(wide, u8, sizeof u8) == 1 + 2 + 3 + 4 + 3 + 1 + 3);
    TQ_CHECK(strcmp(u8, "Z\xC3\x9C\xE2\x86\x92\xF0\x9F\x93\x9E\xEF\xBF\xBDx\xEF\xBF\xBD") == 0);
    /* truncation keeps whole characters and the NUL */
    TQ_CHECK(tapiq_utf16_to_utf8(wide, u8, 4) == 17 && strcmp(u8, "Z\xC3\x9C") == 0);
    TQ_CHECK(tapiq_utf16_to_utf8(wide, u8, 1) == 17 && u8[0] == '\0');
    printf("test_utf: ok\n");
    return 0;
}
