#include "daemon/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace service {

namespace fs = std::filesystem;

void make_private_dir(const fs::path& dir) {
  std::error_code error;
  if (!fs::exists(dir, error)) {
    if (dir.has_parent_path() && dir.parent_path() != dir) {
      fs::create_directories(dir.parent_path(), error);
    }
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
      throw std::runtime_error(
          fmt::format("cannot create folder {}: {}", dir.string(), std::strerror(errno)));
    }
  }
  if (!fs::is_directory(dir, error)) {
    throw std::runtime_error(fmt::format("{} is not a folder", dir.string()));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    throw std::runtime_error(
        fmt::format("folder {} is not writable: {}", dir.string(), std::strerror(errno)));
  }
}

void write_private_file(const fs::path& file, std::string_view bytes) {
  const fs::path temporary = file.parent_path() / ("." + file.filename().string() + ".tmp");
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    throw std::runtime_error(
        fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int saved = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      throw std::runtime_error(
          fmt::format("cannot write {}: {}", file.string(), std::strerror(saved)));
    }
    written += static_cast<std::size_t>(n);
  }
  ::fchmod(fd, 0640);  // an existing temporary file keeps its old mode otherwise
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(temporary.c_str(), file.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    throw std::runtime_error(
        fmt::format("cannot write {}: {}", file.string(), std::strerror(saved)));
  }
}

fs::path move_into(const fs::path& file, const fs::path& dir) {
  fs::path target = dir / file.filename();
  const std::string stem = file.stem().string();
  const std::string extension = file.extension().string();
  for (int n = 1; fs::exists(target); ++n) {
    target = dir / fmt::format("{}.{}{}", stem, n, extension);
  }
  if (::rename(file.c_str(), target.c_str()) != 0) {
    throw std::runtime_error(
        fmt::format("cannot move {} to {}: {}", file.string(), dir.string(), std::strerror(errno)));
  }
  return target;
}

}  // namespace service
