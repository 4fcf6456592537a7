/* core/alloc.c - the allocation hook; see alloc.h. */
#include "core/alloc.h"

#ifdef TAPIQ_INTERNAL
int (*tapiq_alloc_fail_hook)(size_t size);
#endif
