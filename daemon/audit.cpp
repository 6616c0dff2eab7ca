#include "daemon/audit.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <vector>

#include "daemon/cancel.h"

namespace service {

namespace asio = boost::asio;

AuditLog::AuditLog(asio::io_context& io, JobQueue& jobs, std::filesystem::path database)
    : io_(io), jobs_(jobs), database_(std::move(database)), timer_(io) {}

void AuditLog::record(std::int64_t uid, std::string command, int result, SysSeconds at) {
  waiting_.push_back({uid, std::move(command), result, utc_text(at)});
  if (waiting_.size() >= kBatch) {
    flush();
  } else if (!timer_armed_) {
    arm(kDelay);
  }
}

void AuditLog::arm(std::chrono::milliseconds delay) {
  timer_armed_ = true;
  timer_.expires_after(delay);
  timer_.async_wait([this](boost::system::error_code) {
    timer_armed_ = false;
    flush();
  });
}

void AuditLog::flush() noexcept {
  if (in_flight_ || waiting_.empty()) {
    return;
  }
  in_flight_ = true;
  std::vector<storage::History::AuditEntry> batch(std::make_move_iterator(waiting_.begin()),
                                                  std::make_move_iterator(waiting_.end()));
  waiting_.clear();
  try {
    jobs_.post([this, batch = std::move(batch)]() mutable {
      std::size_t written = 0;
      try {
        if (!history_) {
          history_ = std::make_unique<storage::History>(database_);
        }
        history_->audit(batch);  // one transaction: all written or none
        written = batch.size();
      } catch (const std::exception& e) {
        spdlog::error("cannot write {} audit entries (kept, tried again): {}",
                      batch.size() - written, e.what());
      }
      batch.erase(batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(written));
      asio::post(io_, [this, rest = std::move(batch)]() mutable {
        in_flight_ = false;
        const bool failed = !rest.empty();
        waiting_.insert(waiting_.begin(), std::make_move_iterator(rest.begin()),
                        std::make_move_iterator(rest.end()));
        if (!waiting_.empty() && !stopping_ && !timer_armed_) {
          arm(failed ? std::chrono::milliseconds(5000) : kDelay);
        }
      });
    });
  } catch (const std::exception& e) {  // posting failed (out of memory)
    in_flight_ = false;
    spdlog::error("audit entries lost: cannot hand them to the pool: {}", e.what());
  }
}

void AuditLog::stop() noexcept {
  stopping_ = true;
  cancel_quietly(timer_);
  flush();
}

void AuditLog::write_rest(storage::History& history) noexcept {
  for (const auto& entry : waiting_) {
    try {
      history.audit(entry.uid, entry.command, entry.result, entry.at);
    } catch (const std::exception& e) {
      spdlog::error("cannot write the audit entry for a {} request: {}", entry.command, e.what());
    }
  }
  waiting_.clear();
}

}  // namespace service
