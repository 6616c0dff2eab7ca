#include "daemon/dispatch.h"

#include <spdlog/spdlog.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <utility>
#include <variant>

namespace service {
namespace {

namespace asio = boost::asio;

// Reader work that took this long (a review or a case rendered) is followed by
// JobQueue::release_memory_when_idle.
constexpr auto kHeavyReaderWork = std::chrono::milliseconds(50);

// Runs `work` on another thread (`post` puts it there) and resumes the caller, on the loop,
// with its result. The io_context stays alive until then. Not a coroutine itself:
// async_initiate keeps `work` (GCC 12 destroyed a lambda captured into a co_await expression
// twice).
template <class Post, class Work>
asio::awaitable<std::invoke_result_t<Work>> on_thread(asio::io_context& io, Post post, Work work) {
  using Result = std::invoke_result_t<Work>;
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, Result)>(
      [&io, post](auto handler, Work work) {
        auto resume = std::make_shared<decltype(handler)>(std::move(handler));
        // The work and what it holds (a findings snapshot, settings) go on that thread.
        post([&io, resume, work = std::move(work), guard = asio::make_work_guard(io)] {
          std::exception_ptr error;
          Result result;
          try {
            result = work();
          } catch (...) {
            error = std::current_exception();
          }
          asio::post(io, [resume, error, result = std::move(result)]() mutable {
            (*resume)(error, std::move(result));
          });
        });
      },
      asio::use_awaitable, std::move(work));
}

}  // namespace

Dispatcher::Dispatcher(asio::io_context& io, const CommandTable& commands, JobQueue& jobs,
                       ReaderThread& reader, std::filesystem::path database_file,
                       std::function<std::shared_ptr<const Settings>()> settings,
                       const FindingsView& findings)
    : io_(io),
      commands_(commands),
      jobs_(jobs),
      reader_(reader),
      database_file_(std::move(database_file)),
      settings_(std::move(settings)),
      findings_(findings) {}

asio::awaitable<Reply> Dispatcher::handle(std::string_view line, const Peer& peer) {
  auto prepared = commands_.prepare(line, peer);
  auto* call = std::get_if<CommandTable::Call>(&prepared);
  if (call == nullptr) {
    co_return std::get<Reply>(std::move(prepared));
  }
  if (call->reader != nullptr) {
    if (auto quick = commands_.run_quick(*call, peer)) {
      co_return std::move(*quick);
    }
    // Named, not temporaries in the co_await expression (GCC 12 destroyed one twice).
    auto work = [this, call = std::move(*call), peer, settings = settings_(),
                 snapshot = findings_.snapshot()] { return read(call, peer, settings, snapshot); };
    auto to_reader = [this](std::function<void()> run) {
      reader_.post([this, run = std::move(run)] {
        const auto started = std::chrono::steady_clock::now();
        run();
        if (std::chrono::steady_clock::now() - started >= kHeavyReaderWork) {
          asio::post(io_, [this] { jobs_.release_memory_when_idle(); });
        }
      });
    };
    co_return co_await on_thread(io_, to_reader, std::move(work));
  }
  if (call->pool == nullptr) {
    co_return commands_.run(*call, peer);
  }
  auto work = [this, call = std::move(*call), peer, settings = settings_()] {
    return write(call, peer, *settings);
  };
  auto to_pool = [this](std::function<void()> run) { jobs_.post(std::move(run)); };
  std::pair<Reply, std::function<void()>> done = co_await on_thread(io_, to_pool, std::move(work));
  if (done.second) {
    done.second();
  }
  co_return std::move(done.first);
}

Reply Dispatcher::read(const CommandTable::Call& call, const Peer& peer,
                       const std::shared_ptr<const Settings>& settings,
                       std::shared_ptr<const FindingsSnapshot> snapshot) {
  // Queued behind a long read when the service began to stop: answered without reading.
  if (reader_.stopping()) {
    return CommandTable::failed(call.request, "the service is stopping");
  }
  try {
    if (!snapshot) {  // none read on the loop yet (or reading it failed there)
      snapshot = std::make_shared<const FindingsSnapshot>(
          load_open_findings(settings->config, reader_.history()));
    }
    const RenderReview render = reader_.review_renderer(settings);
    const Reading reading{reader_.history(), *settings, *snapshot, render};
    return commands_.run(call, peer, nullptr, nullptr, nullptr, &reading);
  } catch (const std::exception& e) {  // opening the reader's connection failed
    spdlog::error("{}: {}", call.request.command, e.what());
    return CommandTable::failed(call.request, e.what());
  }
}

std::pair<Reply, std::function<void()>> Dispatcher::write(const CommandTable::Call& call,
                                                          const Peer& peer,
                                                          const Settings& settings) {
  std::function<void()> follow_up;
  try {
    Reply out = commands_.run(call, peer, &pool_history(), &settings, &follow_up);
    return {std::move(out), std::move(follow_up)};
  } catch (const std::exception& e) {  // opening the pool's connection failed
    spdlog::error("{}: {}", call.request.command, e.what());
    return {CommandTable::failed(call.request, e.what()), {}};
  }
}

storage::History& Dispatcher::pool_history() {
  if (!pool_history_) {
    pool_history_ = std::make_unique<storage::History>(database_file_);
  }
  return *pool_history_;
}

}  // namespace service
