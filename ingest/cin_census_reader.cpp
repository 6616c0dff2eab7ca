// The CIN census reader: a DfE CIN census XML file (Message/Header, Children/Child/CINdetails)
// streamed with expat, one record per Source::record element (Assessments, Section47 ...).
// Each <Child> is held while it is read (a few kilobytes), then its records are made: a field
// is the element of that name inside the record element (several joined with ","), else a
// direct child of one of its ancestors (CINdetails' CINreferralDate), else inside a container
// such an ancestor holds once (Child/ChildIdentifiers/LAchildID).
#include <expat.h>
#include <fmt/format.h>

#include <cstddef>
#include <deque>
#include <istream>
#include <map>
#include <utility>

#include "ingest/formats.h"
#include "ingest/row_book.h"

namespace ingest {
namespace {

constexpr std::size_t kChunk = std::size_t{256} * 1024;
// Elements held for one <Child>; past this the child is too large to be real census data.
constexpr std::size_t kMaxChildNodes = 200'000;

// Without surrounding XML white space (space, tab, CR, LF).
std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::string_view local_name(const XML_Char* name) {
  std::string_view view(name);
  const auto colon = view.rfind(':');
  return colon == std::string_view::npos ? view : view.substr(colon + 1);
}

struct Node {
  std::string name;
  std::string text;
  std::size_t parent = 0;  // index in the child's nodes; the Child itself is 0
  std::vector<std::size_t> children;
  std::size_t line = 0;
};

// A record ready to be read: its line and the values of the source's key and fields.
struct Pending {
  std::size_t line = 0;
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<std::string> notes;
};

class CinCensusReader final : public BookReader {
 public:
  CinCensusReader(std::unique_ptr<std::istream> in, const rules::Source& source)
      : BookReader(source),
        source_(source),
        in_(std::move(in)),
        parser_(XML_ParserCreate(nullptr)) {
    if (parser_ == nullptr) {
      throw std::bad_alloc();
    }
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(
        parser_,
        [](void* data, const XML_Char* name, const XML_Char**) {
          static_cast<CinCensusReader*>(data)->start(local_name(name));
        },
        [](void* data, const XML_Char* name) {
          static_cast<CinCensusReader*>(data)->end(local_name(name));
        });
    XML_SetCharacterDataHandler(parser_, [](void* data, const XML_Char* s, int len) {
      static_cast<CinCensusReader*>(data)->text(std::string_view(s, static_cast<std::size_t>(len)));
    });
    // A DTD is refused: a census file has none, and entities are how an XML bomb ("billion
    // laughs") or an external entity would get in. Entities can be declared only inside a DTD,
    // so the entity handler is a second lock on the same door.
    XML_SetStartDoctypeDeclHandler(
        parser_, [](void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
          static_cast<CinCensusReader*>(data)->refuse_dtd();
        });
    XML_SetEntityDeclHandler(
        parser_, [](void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                    const XML_Char*, const XML_Char*,
                    const XML_Char*) { static_cast<CinCensusReader*>(data)->refuse_dtd(); });
    if (source_.record.empty()) {
      header_problem_ = "the source names no record element";
    }
    if (source_.key.empty()) {
      header_problem_ = "the source has no key columns";
    }
  }
  ~CinCensusReader() override { XML_ParserFree(parser_); }

  bool next(rules::Record& out) override;
  std::optional<std::string> verdict() const override;

 private:
  void start(std::string_view name);
  void end(std::string_view name);
  void text(std::string_view s);
  void refuse_dtd();
  void finish_child();
  std::string find(std::size_t record, const std::string& name) const;
  bool feed();
  void check_header();

  const rules::Source& source_;
  std::unique_ptr<std::istream> in_;
  XML_Parser parser_;
  std::optional<std::string> error_;
  bool done_ = false;
  std::string chunk_;

  std::vector<std::string> path_;              // open elements outside a Child
  std::map<std::string, std::string> header_;  // Header leaves (Year, ReferenceDate ...)
  bool header_checked_ = false;
  std::vector<Node> nodes_;        // the Child being read; empty outside one
  std::vector<std::size_t> open_;  // open elements in nodes_
  std::vector<std::string> child_notes_;
  std::deque<Pending> ready_;
  std::vector<std::string> file_notes_;
};

void CinCensusReader::start(std::string_view name) {
  const auto line = static_cast<std::size_t>(XML_GetCurrentLineNumber(parser_));
  if (nodes_.empty() && name != "Child") {
    path_.emplace_back(name);
    return;
  }
  if (nodes_.size() >= kMaxChildNodes) {
    error_ = fmt::format("the <Child> starting on line {} holds more than {} elements",
                         nodes_.empty() ? line : nodes_[0].line, kMaxChildNodes);
    XML_StopParser(parser_, XML_FALSE);
    return;
  }
  Node node;
  node.name = name;
  node.line = line;
  node.parent = open_.empty() ? 0 : open_.back();
  const std::size_t index = nodes_.size();
  if (!open_.empty()) {
    nodes_[open_.back()].children.push_back(index);
  }
  nodes_.push_back(std::move(node));
  open_.push_back(index);
}

void CinCensusReader::end(std::string_view name) {
  if (open_.empty()) {
    if (!path_.empty()) {
      path_.pop_back();
    }
    return;
  }
  const std::size_t index = open_.back();
  open_.pop_back();
  Node& node = nodes_[index];
  const std::string_view content = trim(node.text);
  if (!node.children.empty() && !content.empty()) {
    // Mixed content: text beside elements is a stray left by whatever wrote the file.
    child_notes_.push_back(fmt::format("stray text '{}' inside <{}> (line {}) is ignored",
                                       std::string(content.substr(0, 40)), node.name, node.line));
  }
  if (name == "Child" && open_.empty()) {
    finish_child();
  }
}

void CinCensusReader::text(std::string_view s) {
  if (!open_.empty()) {
    nodes_[open_.back()].text += s;
    return;
  }
  const std::string_view content = trim(s);
  if (content.empty() || path_.empty()) {
    return;
  }
  if (path_.size() >= 2 && path_[path_.size() - 2] != "Message") {
    header_[path_.back()] += content;
  }
}

void CinCensusReader::check_header() {
  header_checked_ = true;
  const auto reference = header_.find("ReferenceDate");
  const auto year = header_.find("Year");
  if (reference != header_.end() && year != header_.end()) {
    const auto date = rules::Date::parse_iso(reference->second);
    if (date) {
      // The census year ending 31 March 2024 is collection year 2024 (2023-24).
      const int expected = date->month() >= 4 ? date->year() + 1 : date->year();
      if (year->second != std::to_string(expected)) {
        file_notes_.push_back(fmt::format(
            "the header's Year {} does not match its ReferenceDate {} (census year {}-{:02})",
            year->second, reference->second, expected - 1, expected % 100));
      }
    }
  }
  if (!source_.as_of_column.empty()) {
    const auto found = header_.find(source_.as_of_column);
    if (found != header_.end()) {
      as_of_ = rules::parse_date_any(found->second, source_.date_formats);
    }
  }
}

// The value of element `name` for the record at `record` (see the file's comment).
std::string CinCensusReader::find(std::size_t record, const std::string& name) const {
  std::string joined;
  // Inside the record: every element of that name, in order.
  std::vector<std::size_t> stack{record};
  while (!stack.empty()) {
    const std::size_t at = stack.back();
    stack.pop_back();
    const Node& node = nodes_[at];
    if (at != record && node.name == name && node.children.empty()) {
      if (!joined.empty()) {
        joined += ",";
      }
      joined += trim(node.text);
    }
    for (auto it = node.children.rbegin(); it != node.children.rend(); ++it) {
      stack.push_back(*it);
    }
  }
  if (!joined.empty() || nodes_[record].name == name) {
    return joined;
  }
  // Then each ancestor's own leaves, then those of a container it holds once.
  std::size_t below = record;
  for (std::size_t at = nodes_[record].parent;; at = nodes_[at].parent) {
    const Node& node = nodes_[at];
    for (const std::size_t c : node.children) {
      if (nodes_[c].name == name && nodes_[c].children.empty()) {
        return std::string(trim(nodes_[c].text));
      }
    }
    for (const std::size_t c : node.children) {
      if (c == below || nodes_[c].children.empty()) {
        continue;
      }
      std::size_t same = 0;
      for (const std::size_t o : node.children) {
        same += nodes_[o].name == nodes_[c].name ? 1 : 0;
      }
      if (same != 1) {
        continue;
      }
      for (const std::size_t g : nodes_[c].children) {
        if (nodes_[g].name == name && nodes_[g].children.empty()) {
          return std::string(trim(nodes_[g].text));
        }
      }
    }
    if (at == 0) {
      break;
    }
    below = at;
  }
  return {};
}

void CinCensusReader::finish_child() {
  if (!header_checked_) {
    check_header();
  }
  bool first = true;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].name != source_.record) {
      continue;
    }
    Pending pending;
    pending.line = nodes_[i].line;
    for (const auto& key : source_.key) {
      pending.keys.push_back(find(i, key));
    }
    for (const auto& field : source_.fields) {
      std::string value;
      for (const auto& header : field.headers) {
        value = find(i, header);
        if (!value.empty()) {
          break;
        }
      }
      pending.values.push_back(std::move(value));
    }
    if (first) {
      pending.notes = std::move(child_notes_);
    }
    first = false;
    ready_.push_back(std::move(pending));
  }
  nodes_.clear();
  child_notes_.clear();
}

// A DTD comes before the root element, so before any record: the whole file is refused.
void CinCensusReader::refuse_dtd() {
  if (!header_problem_) {
    header_problem_ = fmt::format(
        "the XML declares a DTD (<!DOCTYPE> at line {}), which a CIN census file never has; "
        "refused",
        XML_GetCurrentLineNumber(parser_));
  }
  XML_StopParser(parser_, XML_FALSE);
}

bool CinCensusReader::feed() {
  // 64 KiB first, then kChunk: a small file needs no large buffer.
  chunk_.resize(chunk_.empty() ? kChunk / 4 : kChunk);
  in_->read(chunk_.data(), static_cast<std::streamsize>(chunk_.size()));
  const std::streamsize n = in_->gcount();
  if (in_->bad()) {
    throw std::runtime_error("the file cannot be read");
  }
  const bool last = n == 0;
  if (XML_Parse(parser_, chunk_.data(), static_cast<int>(n), last) == XML_STATUS_ERROR) {
    if (!error_) {
      error_ = fmt::format(
          "the XML is not well-formed at line {}, column {} ({}): the file is "
          "damaged or cut short",
          XML_GetCurrentLineNumber(parser_), XML_GetCurrentColumnNumber(parser_),
          XML_ErrorString(XML_GetErrorCode(parser_)));
    }
    done_ = true;
    return false;
  }
  if (last) {
    done_ = true;
  }
  return true;
}

bool CinCensusReader::next(rules::Record& out) {
  if (header_problem_) {
    return false;
  }
  for (;;) {
    while (ready_.empty() && !done_) {
      feed();
    }
    if (!header_checked_) {
      check_header();
    }
    if (ready_.empty()) {
      return false;
    }
    Pending pending = std::move(ready_.front());
    ready_.pop_front();
    line_ = pending.line;
    book_.start_row(line_);
    for (auto& note : file_notes_) {
      book_.add_note({}, std::move(note));
    }
    file_notes_.clear();
    for (auto& note : pending.notes) {
      book_.add_note({}, std::move(note));
    }
    std::string key;
    bool empty_key = false;
    for (std::size_t k = 0; k < pending.keys.size(); ++k) {
      if (pending.keys[k].empty()) {
        book_.add_problem(source_.key[k], fmt::format("<{}> has no {}; the record is skipped",
                                                      source_.record, source_.key[k]));
        empty_key = true;
        break;
      }
      if (k > 0) {
        key.push_back(rules::kKeySeparator);
      }
      key += pending.keys[k];
    }
    if (empty_key) {
      book_.finish_row(false);
      continue;
    }
    out.key = key;
    out.values.resize(source_.fields.size());
    std::string content = key;
    for (std::size_t f = 0; f < source_.fields.size(); ++f) {
      const std::string& value = pending.values[f];
      content += '\x1f';
      content += value;
      if (source_.fields[f].is_date && !value.empty()) {
        if (auto problem = put_date(value, source_, out.values[f])) {
          book_.add_problem(source_.fields[f].headers[0], std::move(*problem));
        }
      } else {
        out.values[f] = value;
      }
    }
    const std::uint64_t key_hash = book_.prefetch_key(key);
    if (!book_.check_key(key, key_hash, KeySet::hash(content))) {
      book_.finish_row(false);
      continue;
    }
    book_.finish_row(true);
    return true;
  }
}

std::optional<std::string> CinCensusReader::verdict() const {
  if (header_problem_) {
    return header_problem_;
  }
  std::vector<std::string> reasons;
  if (error_) {
    reasons.push_back(*error_);
  }
  return book_.verdict(std::move(reasons),
                       fmt::format("the file has no <{}> records", source_.record));
}

}  // namespace

std::unique_ptr<Reader> open_cin_census(std::unique_ptr<std::istream> in,
                                        const rules::Source& source) {
  return std::make_unique<CinCensusReader>(std::move(in), source);
}

}  // namespace ingest
