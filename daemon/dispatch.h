// Where each control command runs, so that the loop thread never waits on SQLite: a loop command
// (CommandTable::Handler) here; a pool command on the job pool's thread after the running job,
// with that thread's connection, its follow-up back here; a reader command on the reader thread
// (daemon/reader.h) with its read-only connection and the settings and findings snapshot of the
// moment it was asked, unless its quick handler has the answer at hand. The session's coroutine
// waits for the answer while the loop serves the others (`status` above all).
// Not thread-safe: handle() from the loop thread.
#ifndef CASEWATCH_DAEMON_DISPATCH_H_
#define CASEWATCH_DAEMON_DISPATCH_H_

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "daemon/control/command_table.h"
#include "daemon/control/findings_view.h"
#include "daemon/jobs.h"
#include "daemon/reader.h"
#include "daemon/settings.h"
#include "storage/storage.h"

namespace service {

class Dispatcher {
 public:
  // REQUIRES: all of these outlive the dispatcher; the pool and the reader are joined before it
  // goes (the pool's connection is its own).
  Dispatcher(boost::asio::io_context& io, const CommandTable& commands, JobQueue& jobs,
             ReaderThread& reader, std::filesystem::path database_file,
             std::function<std::shared_ptr<const Settings>()> settings,
             const FindingsView& findings);

  // Runs the command on `line` where it belongs and returns its reply (never throws for
  // anything the command does).
  boost::asio::awaitable<Reply> handle(std::string_view line, const Peer& peer);

 private:
  Reply read(const CommandTable::Call& call, const Peer& peer,
             const std::shared_ptr<const Settings>& settings,
             std::shared_ptr<const FindingsSnapshot> snapshot);
  std::pair<Reply, std::function<void()>> write(const CommandTable::Call& call, const Peer& peer,
                                                const Settings& settings);
  // The pool thread's connection, opened on first use. REQUIRES: called on the pool thread.
  storage::History& pool_history();

  boost::asio::io_context& io_;
  const CommandTable& commands_;
  JobQueue& jobs_;
  ReaderThread& reader_;
  std::filesystem::path database_file_;
  std::function<std::shared_ptr<const Settings>()> settings_;
  const FindingsView& findings_;
  std::unique_ptr<storage::History> pool_history_;  // only on the pool thread
};

}  // namespace service

#endif  // CASEWATCH_DAEMON_DISPATCH_H_
