// The SDK values and idioms of constants.c, as seen by a C++ compiler: the
// DWORD tables of names must not narrow, the #if lines must preprocess.
#include "constants.c"
