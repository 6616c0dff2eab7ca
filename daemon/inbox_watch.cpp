#include "daemon/inbox_watch.h"

#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <cstring>
#include <system_error>

#include "daemon/cancel.h"

namespace service {
namespace {

std::optional<SettleTracker::Seen> stat_file(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return SettleTracker::Seen{
      static_cast<std::uintmax_t>(st.st_size),
      static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec};
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

bool is_ignored_name(std::string_view name) {
  return name.empty() || name.front() == '.' || ends_with(name, ".tmp") || ends_with(name, ".part");
}

void SettleTracker::moved_in(const std::string& name, Seen seen) {
  files_[name] = Entry{seen, TimePoint{}, true};
}

bool SettleTracker::observe(const std::string& name, Seen seen, TimePoint now) {
  auto found = files_.find(name);
  if (found == files_.end()) {
    files_.emplace(name, Entry{seen, now, false});
    return settle_.count() <= 0;
  }
  Entry& entry = found->second;
  if (entry.seen != seen) {
    entry = Entry{seen, now, false};
    return settle_.count() <= 0;
  }
  return entry.moved || now - entry.since >= settle_;
}

std::optional<SettleTracker::TimePoint> SettleTracker::settles_at(const std::string& name) const {
  const auto found = files_.find(name);
  if (found == files_.end()) {
    return std::nullopt;
  }
  return found->second.since + settle_;
}

void SettleTracker::keep_only(const std::vector<std::string>& present) {
  std::erase_if(files_, [&](const auto& item) {
    return std::find(present.begin(), present.end(), item.first) == present.end();
  });
}

InboxWatch::InboxWatch(boost::asio::io_context& io, std::filesystem::path inbox,
                       std::chrono::milliseconds settle, std::chrono::milliseconds rescan,
                       Candidates candidates, OnReady on_ready)
    : io_(io),
      inbox_(std::move(inbox)),
      rescan_(rescan),
      candidates_(std::move(candidates)),
      on_ready_(std::move(on_ready)),
      tracker_(settle),
      inotify_(io),
      rescan_timer_(io),
      settle_timer_(io),
      events_(std::size_t{64} * 1024) {}

InboxWatch::~InboxWatch() { stop(); }

void InboxWatch::start() {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    spdlog::warn("inotify unavailable ({}): the inbox is rescanned only",
                 std::system_category().message(errno));
  } else if (::inotify_add_watch(fd, inbox_.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) <
             0) {
    spdlog::warn("cannot watch {} ({}): the inbox is rescanned only", inbox_.string(),
                 std::system_category().message(errno));
    ::close(fd);
  } else {
    inotify_.assign(fd);
    read_events();
  }
  arm_rescan();
  check();
}

void InboxWatch::set_timing(std::chrono::milliseconds settle, std::chrono::milliseconds rescan) {
  tracker_.set_settle(settle);
  rescan_ = rescan;
}

void InboxWatch::stop() noexcept {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  boost::system::error_code ignored;
  inotify_.close(ignored);
  cancel_quietly(rescan_timer_);
  cancel_quietly(settle_timer_);
}

void InboxWatch::read_events() {
  inotify_.async_read_some(
      boost::asio::buffer(events_), [this](boost::system::error_code ec, std::size_t length) {
        if (ec || stopped_) {
          return;
        }
        std::size_t offset = 0;
        while (offset + sizeof(inotify_event) <= length) {
          inotify_event event{};
          std::memcpy(&event, events_.data() + offset, sizeof event);
          const char* name_start = events_.data() + offset + sizeof(inotify_event);
          const std::string name(name_start, ::strnlen(name_start, event.len));
          offset += sizeof(inotify_event) + event.len;
          if ((event.mask & IN_MOVED_TO) != 0 && !is_ignored_name(name)) {
            if (const auto seen = stat_file(inbox_ / name)) {
              tracker_.moved_in(name, *seen);
            }
          }
        }
        check();
        read_events();
      });
}

void InboxWatch::arm_rescan() {
  rescan_timer_.expires_after(rescan_);
  rescan_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopped_) {
      return;
    }
    check();
    arm_rescan();
  });
}

void InboxWatch::check() {
  if (stopped_) {
    return;
  }
  std::vector<std::filesystem::path> files;
  try {
    files = candidates_();
  } catch (const std::filesystem::filesystem_error& e) {
    // A scheduled job's catch site: log it; the next rescan tries again.
    spdlog::error("cannot scan the inbox: {}", e.what());
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> names;
  bool all_ready = true;
  std::optional<SettleTracker::TimePoint> next_look;
  for (const auto& file : files) {
    const std::string name = file.filename().string();
    if (is_ignored_name(name)) {
      continue;
    }
    const auto seen = stat_file(file);
    if (!seen) {
      continue;  // gone meanwhile
    }
    names.push_back(name);
    if (!tracker_.observe(name, *seen, now)) {
      all_ready = false;
      const auto at = tracker_.settles_at(name);
      if (at && (!next_look || *at < *next_look)) {
        next_look = at;
      }
    }
  }
  tracker_.keep_only(names);
  if (!names.empty() && all_ready) {
    on_ready_();
    return;
  }
  if (next_look) {
    settle_timer_.expires_at(*next_look + std::chrono::milliseconds(1));
    settle_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) {
        check();
      }
    });
  }
}

}  // namespace service
