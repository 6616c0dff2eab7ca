// A tmpfs mounted for one test (another file system, or a tiny one that fills up), unmounted
// when the object goes out of scope. Mounting needs CAP_SYS_ADMIN: where it is not permitted,
// mounted() is false and why() says so, and the test skips with that reason.
#ifndef CASEWATCH_TESTS_SUPPORT_TMPFS_H_
#define CASEWATCH_TESTS_SUPPORT_TMPFS_H_

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace test_support {

class Tmpfs {
 public:
  // Mounts a tmpfs of `size` (mount(8)'s "size=" syntax, e.g. "1m") on `dir`, created if missing.
  Tmpfs(const std::filesystem::path& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    const std::string options = "size=" + size + ",mode=0750";
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      why_ = "cannot mount a tmpfs on " + dir.string() + ": " + std::strerror(errno) +
             " (mounting needs CAP_SYS_ADMIN)";
    }
  }
  ~Tmpfs() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
  std::string why_;
};

}  // namespace test_support

// Skips the rest of a test (with a warning saying why) when `tmpfs` could not be mounted.
#define CASEWATCH_REQUIRE_MOUNTED(tmpfs)  \
  do {                                    \
    if (!(tmpfs).mounted()) {             \
      WARN("skipped: " << (tmpfs).why()); \
      return;                             \
    }                                     \
  } while (false)

#endif  // CASEWATCH_TESTS_SUPPORT_TMPFS_H_
