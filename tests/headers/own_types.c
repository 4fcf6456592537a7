/* A program that already has the Windows types: TAPIQ_NO_WINTYPES makes
 * <tapiq/tapi.h> use them instead of defining its own; including both public
 * headers twice, in either order, is harmless. */
#include <stdint.h>

#define TAPIQ_NO_WINTYPES 1
typedef uint32_t DWORD;
typedef int32_t LONG;
typedef uint16_t WORD;
typedef uint8_t BYTE;
typedef uintptr_t DWORD_PTR;
typedef void *HANDLE;
typedef void *HINSTANCE;
typedef void *HWND;
typedef void *HICON;
typedef void *LPVOID;
typedef DWORD *LPDWORD;
typedef const char *LPCSTR;
typedef uint16_t WCHAR;
typedef WCHAR *LPWSTR;
typedef const WCHAR *LPCWSTR;
typedef struct guid_tag {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;

#include <tapiq/tapiq.h>
#include <tapiq/tapi.h>
#include <tapiq/tapiq.h>

int main(void)
{
    PHONECAPS c;
    c.dwTotalSize = (DWORD)sizeof c;
    return c.dwTotalSize == 196 ? 0 : 1;
}
