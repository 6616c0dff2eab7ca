#include "daemon/reader.h"

#include <boost/asio/post.hpp>

namespace service {

ReaderThread::ReaderThread(std::filesystem::path database_file)
    : database_file_(std::move(database_file)) {}

ReaderThread::~ReaderThread() { join(); }

void ReaderThread::post(std::function<void()> work) { boost::asio::post(thread_, std::move(work)); }

void ReaderThread::join() {
  thread_.join();
  // The thread is gone: what it owned is this thread's now.
  engine_.reset();
  engine_settings_.reset();
  history_.reset();
}

storage::History& ReaderThread::history() {
  if (!history_) {
    history_ =
        std::make_unique<storage::History>(database_file_, storage::History::Access::kReadOnly);
  }
  return *history_;
}

RenderReview ReaderThread::review_renderer(std::shared_ptr<const Settings> settings) {
  if (!engine_ || engine_settings_ != settings) {
    engine_.reset();  // it refers to the old settings
    engine_settings_ = std::move(settings);
    engine_ =
        std::make_unique<Engine>(engine_settings_->config, engine_settings_->calendar, history());
  }
  return [engine = engine_.get()](rules::IsoWeek week, rules::Date as_of, std::string_view format) {
    return engine->render_review(week, as_of, format);
  };
}

}  // namespace service
