/* The SDK's header name, for the compatibility sample. */
#include <tapiq/tapi.h>
