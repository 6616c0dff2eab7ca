#include "daemon/control/backup_command.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <filesystem>

#include "daemon/files.h"
#include "storage/storage.h"

namespace service {

namespace json = boost::json;

Answer backup_command(const Request& request, const config::Config& config) {
  const auto file = string_argument(request, "file");
  if (!file || file->empty()) {
    return Answer{ResultCode::kError, "backup needs a file", nullptr};
  }
  std::filesystem::path target(*file);
  if (target.is_relative()) {
    const auto folder = config.service.state_dir / "backups";
    make_private_dir(folder);
    target = folder / target;
  }
  const auto copied = storage::backup_database(config.service.database_file(), target);
  spdlog::info("backup of the database written to {} ({} bytes)", target.string(), copied.bytes);
  return Answer{ResultCode::kSuccess,
                fmt::format("backup written to {} ({} bytes, schema version {}; PRAGMA "
                            "integrity_check ok)",
                            target.string(), copied.bytes, copied.schema_version),
                json::object{{"file", target.string()},
                             {"bytes", copied.bytes},
                             {"schema_version", copied.schema_version}}};
}

}  // namespace service
