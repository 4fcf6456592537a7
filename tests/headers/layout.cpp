// The same layout as seen by a C++ compiler (offsetof on the packed structs).
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <tapiq/tapiq.h>

static_assert(sizeof(PHONEMESSAGE) == 40, "PHONEMESSAGE is 40 bytes");
static_assert(sizeof(PHONECAPS) == 196, "PHONECAPS is 196 bytes");
static_assert(sizeof(PHONESTATUS) == 104, "PHONESTATUS is 104 bytes");
static_assert(sizeof(PHONEINITIALIZEEXPARAMS) == 28, "PHONEINITIALIZEEXPARAMS is 28 bytes");
static_assert(sizeof(VARSTRING) == 24, "VARSTRING is 24 bytes");
static_assert(sizeof(PHONEBUTTONINFO) == 40, "PHONEBUTTONINFO is 40 bytes");
static_assert(std::is_same<WCHAR, char16_t>::value, "WCHAR is char16_t: u\"...\" is LPCWSTR");
static_assert(std::is_same<DWORD, std::uint32_t>::value, "DWORD is uint32_t");
static_assert(std::is_same<LONG, std::int32_t>::value, "LONG is int32_t");
static_assert(std::is_same<DWORD_PTR, std::uintptr_t>::value, "DWORD_PTR is uintptr_t");
static_assert(offsetof(PHONEMESSAGE, dwParam3) == 32, "PHONEMESSAGE layout");
static_assert(offsetof(PHONECAPS, dwPhoneFeatures) == 152, "PHONECAPS layout");
static_assert(offsetof(PHONESTATUS, dwLampModesOffset) == 80, "PHONESTATUS layout");
static_assert(static_cast<LONG>(PHONEERR_RESOURCEUNAVAIL) < 0, "errors are negative as LONG");
static_assert(PHONEERR_UNINITIALIZED == 0x90000022u, "error value, as the SDK writes it");

int main()
{
    LPCWSTR cls = u"tapi/phone";
    static_cast<void>(cls);
    LONG (*setlamp)(HPHONE, DWORD, DWORD) = phoneSetLamp;
    return setlamp ? 0 : 1;
}
