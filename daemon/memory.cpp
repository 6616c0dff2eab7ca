#include "daemon/memory.h"

#include <malloc.h>

namespace service {

void return_free_memory() noexcept { (void)::malloc_trim(0); }

}  // namespace service
