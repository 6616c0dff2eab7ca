#include "daemon/memory.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace service {

void return_free_memory() noexcept { (void)::malloc_trim(0); }

void use_huge_pages(char* argv[]) {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const std::string current = tunables != nullptr ? tunables : "";
  if (current.find("glibc.malloc.hugetlb") != std::string::npos) {
    return;  // said already, by whoever started us (or by us, before the exec)
  }
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  if (!std::getline(mode, line) || line.find("[madvise]") == std::string::npos) {
    return;  // "[always]": every program has them; "[never]" or no such file: none can
  }
  const std::string wanted =
      current.empty() ? "glibc.malloc.hugetlb=1" : current + ":glibc.malloc.hugetlb=1";
  if (::setenv("GLIBC_TUNABLES", wanted.c_str(), 1) != 0) {
    return;
  }
  ::execv("/proc/self/exe", argv);
  // Still here: exec failed. Go on as we are, with the environment as it was.
  if (tunables != nullptr) {
    ::setenv("GLIBC_TUNABLES", current.c_str(), 1);
  } else {
    ::unsetenv("GLIBC_TUNABLES");
  }
}

}  // namespace service
