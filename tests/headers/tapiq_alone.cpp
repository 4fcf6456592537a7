// <tapiq/tapiq.h> compiles alone as C++ (C++11 and C++17 builds of this file).
#include <tapiq/tapiq.h>

int main()
{
    tapiq_stats s = {};
    tapiq_backend_ops ops = {};
    static_cast<void>(ops);
    return static_cast<int>(s.accepted);
}
