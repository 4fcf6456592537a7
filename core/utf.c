/* core/utf.c - UTF-8 <-> UTF-16; see utf.h. */
#include "core/utf.h"

#define REPLACEMENT 0xFFFDu

/* Decode one code point at s[*i] (i < n); advances *i. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    uint32_t c = s[*i], cp, min;
    size_t len;
    if (c < 0x80) {
        ++*i;
        return c;
    }
    if ((c & 0xE0) == 0xC0) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        ++*i;
        return REPLACEMENT;
    }
    for (size_t k = 1; k < len; k++) {
        if (*i + k >= n || (s[*i + k] & 0xC0) != 0x80) {
            *i += k; /* the bytes taken so far are the bad sequence */
            return REPLACEMENT;
        }
        cp = cp << 6 | (s[*i + k] & 0x3Fu);
    }
    *i += len;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return REPLACEMENT;
    return cp;
}

size_t tapiq_utf8_to_utf16(const char *s, size_t n, uint16_t *out, size_t cap)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k = 0;
    while (i < n) {
        uint32_t cp = utf8_next(u, n, &i);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            if (k < cap)
                out[k] = (uint16_t)(0xD800 | cp >> 10);
            if (k + 1 < cap)
                out[k + 1] = (uint16_t)(0xDC00 | (cp & 0x3FF));
            k += 2;
        } else {
            if (k < cap)
                out[k] = (uint16_t)cp;
            k++;
        }
    }
    return k;
}

size_t tapiq_utf16_to_utf8(const uint16_t *s, char *out, size_t cap)
{
    size_t k = 0, total = 0;
    int full = 0;
    for (size_t i = 0; s[i]; i++) {
        uint32_t cp = s[i];
        unsigned char b[4];
        size_t len;
        if (cp >= 0xD800 && cp <= 0xDBFF && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (s[i + 1] - 0xDC00u);
            i++;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = REPLACEMENT;
        }
        if (cp < 0x80) {
            b[0] = (unsigned char)cp, len = 1;
        } else if (cp < 0x800) {
            b[0] = (unsigned char)(0xC0 | cp >> 6), b[1] = (unsigned char)(0x80 | (cp & 0x3F));
            len = 2;
        } else if (cp < 0x10000) {
            b[0] = (unsigned char)(0xE0 | cp >> 12);
            b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            b[2] = (unsigned char)(0x80 | (cp & 0x3F));
            len = 3;
        } else {
            b[0] = (unsigned char)(0xF0 | cp >> 18);
            b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
            b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            b[3] = (unsigned char)(0x80 | (cp & 0x3F));
            len = 4;
        }
        if (!full && k + len < cap) {
            for (size_t j = 0; j < len; j++)
                out[k++] = (char)b[j];
        } else {
            full = 1;
        }
        total += len;
    }
    out[k] = '\0';
    return total;
}
