// The compatibility sample, compiled as C++ (C++17 in meson.build).
#include "sample.c"
