#include "daemon/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace service {

namespace fs = std::filesystem;

void make_private_dir(const fs::path& dir, unsigned allowed) {
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
  // An existing folder that others may read, or the group may change: say so, and tighten it
  // when it is ours.
  struct stat st {};
  const unsigned loose = 0027U & ~allowed;
  if (::stat(dir.c_str(), &st) == 0 && (st.st_mode & loose) != 0) {
    const unsigned mode = st.st_mode & 07777;
    const unsigned tight = mode & ~loose;
    if (st.st_uid == ::geteuid() && ::chmod(dir.c_str(), tight) == 0) {
      spdlog::warn("folder {} had mode {:04o}, looser than 0750; tightened to {:04o}", dir.string(),
                   mode, tight);
    } else {
      spdlog::warn(
          "folder {} has mode {:04o}, looser than 0750, and cannot be tightened (owner uid {}): "
          "others may read children's data; chmod o-rwx,g-w it",
          dir.string(), mode, st.st_uid);
    }
  }
}

std::size_t remove_stale_temporaries(const fs::path& dir, std::string_view suffix, bool recursive) {
  std::size_t removed = 0;
  std::error_code error;
  const auto remove_if_stale = [&](const fs::directory_entry& entry) {
    const std::string name = entry.path().filename().string();
    if (name.size() > suffix.size() + 1 && name.front() == '.' && name.ends_with(suffix) &&
        entry.is_regular_file(error) && fs::remove(entry.path(), error)) {
      ++removed;
    }
  };
  if (recursive) {
    for (auto it = fs::recursive_directory_iterator(dir, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      remove_if_stale(*it);
    }
  } else {
    for (auto it = fs::directory_iterator(dir, error); !error && it != fs::directory_iterator();
         it.increment(error)) {
      remove_if_stale(*it);
    }
  }
  return removed;
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
    if (n < 0 && errno == EINTR) {
      continue;
    }
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

namespace {

[[noreturn]] void fail_move(const fs::path& file, const fs::path& dir, std::string_view what,
                            int error) {
  throw std::runtime_error(fmt::format("cannot move {} to {}: {}: {}", file.string(), dir.string(),
                                       what, std::strerror(error)));
}

// Closes a descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int value) : fd(value) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

// fsync of a folder, so that a rename or unlink in it survives a power cut.
bool sync_dir(const fs::path& dir) {
  const Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd.fd >= 0 && ::fsync(fd.fd) == 0;
}

// True when files `a` and `b` hold the same bytes.
bool same_bytes(const fs::path& a, const fs::path& b) {
  std::error_code error;
  const auto size = fs::file_size(a, error);
  if (error || size != fs::file_size(b, error) || error) {
    return false;
  }
  const Fd fa(::open(a.c_str(), O_RDONLY | O_CLOEXEC));
  const Fd fb(::open(b.c_str(), O_RDONLY | O_CLOEXEC));
  if (fa.fd < 0 || fb.fd < 0) {
    return false;
  }
  std::string ba(1 << 16, '\0');
  std::string bb(1 << 16, '\0');
  while (true) {
    const ssize_t na = ::read(fa.fd, ba.data(), ba.size());
    if (na < 0 && errno == EINTR) {
      continue;
    }
    if (na < 0) {
      return false;
    }
    std::size_t got = 0;
    while (got < static_cast<std::size_t>(na)) {
      const ssize_t nb = ::read(fb.fd, bb.data() + got, static_cast<std::size_t>(na) - got);
      if (nb < 0 && errno == EINTR) {
        continue;
      }
      if (nb <= 0) {
        return false;
      }
      got += static_cast<std::size_t>(nb);
    }
    if (na == 0) {
      return true;
    }
    if (std::memcmp(ba.data(), bb.data(), got) != 0) {
      return false;
    }
  }
}

// Copies `file` to `temporary` (mode 0640) and fsyncs it; throws naming the step that failed.
void copy_synced(const fs::path& file, const fs::path& temporary, const fs::path& dir) {
  const Fd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) {
    fail_move(file, dir, "cannot open it", errno);
  }
  const Fd out(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (out.fd < 0) {
    fail_move(file, dir, "cannot create " + temporary.filename().string(), errno);
  }
  std::string buffer(1 << 16, '\0');
  while (true) {
    const ssize_t n = ::read(in.fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      fail_move(file, dir, "cannot read it", errno);
    }
    if (n == 0) {
      break;
    }
    std::size_t written = 0;
    while (written < static_cast<std::size_t>(n)) {
      const ssize_t w =
          ::write(out.fd, buffer.data() + written, static_cast<std::size_t>(n) - written);
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w < 0) {
        const int saved = errno;
        ::unlink(temporary.c_str());
        fail_move(file, dir, "cannot write the copy", saved);
      }
      written += static_cast<std::size_t>(w);
    }
  }
  if (::fchmod(out.fd, 0640) != 0 || ::fsync(out.fd) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    fail_move(file, dir, "cannot sync the copy", saved);
  }
}

}  // namespace

fs::path move_into(const fs::path& file, const fs::path& dir) {
  fs::path first = dir / file.filename();  // not const: returned by move
  // A copy already renamed into place by a move that a crash stopped before it could unlink the
  // original: finish that move rather than archive the file twice.
  std::error_code error;
  if (fs::is_regular_file(first, error) && same_bytes(file, first)) {
    if (::unlink(file.c_str()) != 0) {
      fail_move(file, dir, "cannot unlink the original", errno);
    }
    sync_dir(file.parent_path());
    return first;
  }
  fs::path target = first;
  const std::string stem = file.stem().string();
  const std::string extension = file.extension().string();
  for (int n = 1; fs::exists(target); ++n) {
    target = dir / fmt::format("{}.{}{}", stem, n, extension);
  }
  if (::rename(file.c_str(), target.c_str()) == 0) {
    // Mode 0640 whatever it arrived with; the file holds children's data. The move itself is
    // done: a failure here is worth a warning, not undoing it.
    // A file an export job dropped (group casewatch-drop in the shipped inbox) is not ours to
    // chmod: archive/ and rejected/ (0750) keep it from everyone else.
    if (::chmod(target.c_str(), 0640) != 0 && errno != EPERM) {
      spdlog::warn("cannot set mode 0640 on {}: {}", target.string(), std::strerror(errno));
    }
    if (!sync_dir(dir)) {
      spdlog::warn("cannot sync folder {}: {}", dir.string(), std::strerror(errno));
    }
    return target;
  }
  if (errno != EXDEV) {
    fail_move(file, dir, "rename failed", errno);
  }
  // Another file system: copy, sync, rename into place, sync the folder, then unlink.
  const fs::path temporary = dir / ("." + file.filename().string() + ".moving");
  copy_synced(file, temporary, dir);
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    fail_move(file, dir, "cannot rename the copy into place", saved);
  }
  if (!sync_dir(dir)) {
    fail_move(file, dir, "cannot sync the folder", errno);
  }
  if (::unlink(file.c_str()) != 0) {
    fail_move(file, dir, "cannot unlink the original", errno);
  }
  sync_dir(file.parent_path());
  return target;
}

}  // namespace service
