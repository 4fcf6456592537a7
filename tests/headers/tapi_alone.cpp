// <tapiq/tapi.h> compiles alone as C++ (C++11 and C++17 builds of this file).
#include <tapiq/tapi.h>

int main()
{
    PHONEMESSAGE m = {0, PHONE_REPLY, 0, 0, 0, 0};
    PHONECALLBACK cb = nullptr;
    static_cast<void>(cb);
    return m.dwMessageID == PHONE_REPLY ? 0 : 1;
}
