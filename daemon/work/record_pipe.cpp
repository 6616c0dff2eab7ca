#include "daemon/work/record_pipe.h"

#include <span>
#include <string_view>

namespace service {

void write_rows(ingest::Reader& reader, storage::History::ExtractWriter& writer,
                const FirstRow* first, std::optional<rules::RecordViewBuilder>& view) {
  using Action = storage::PreparedRecord::Action;
  if (first != nullptr) {
    storage::PreparedRecord prepared;
    storage::prepare_record(*first->record, prepared);
    prepared.row_hash = first->row_hash;
    prepared.line = first->line;
    writer.classify(prepared);
    writer.write(std::span<const storage::PreparedRecord>(&prepared, 1));
    if (prepared.action != Action::kInsert && prepared.action != Action::kReplace) {
      view.reset();
    } else if (view) {
      view->add(*first->record);
    }
  }
  RecordPipe pipe;
  ParseThread reading(reader, writer, pipe);
  std::vector<std::string_view> values;
  while (auto batch = pipe.pop()) {
    const std::span<const storage::PreparedRecord> records(batch->prepared.data(), batch->size);
    writer.write(records);
    if (view && reading.kept_any()) {
      view.reset();
    }
    if (view) {
      for (const auto& prepared : records) {
        storage::add_to_view(prepared, *view, values);
      }
    }
    pipe.give_back(std::move(*batch));
  }
  reading.wait();
  if (reading.kept_any()) {
    view.reset();
  }
}

}  // namespace service
