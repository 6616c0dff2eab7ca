// The inbox: which files wait there, for which source, and the as-of date in a file's name.
#include <algorithm>
#include <functional>
#include <system_error>
#include <tuple>

#include "ingest/ingest.h"

namespace ingest {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int number(std::string_view digits) {
  int value = 0;
  for (const char c : digits) {
    value = value * 10 + (c - '0');
  }
  return value;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// How a bracket expression ("[abc]", "[!0-9]") at the start of `bracket` matched.
struct BracketMatch {
  bool closed = false;  // false: no ']' ends it, so '[' is a literal
  bool matched = false;
  std::size_t length = 0;  // of the expression, brackets included
};

BracketMatch match_bracket(std::string_view bracket, char c) {
  std::size_t i = 1;
  bool negate = false;
  if (i < bracket.size() && (bracket[i] == '!' || bracket[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < bracket.size() && (first || bracket[i] != ']')) {
    first = false;
    if (i + 2 < bracket.size() && bracket[i + 1] == '-' && bracket[i + 2] != ']') {
      matched = matched || (bracket[i] <= c && c <= bracket[i + 2]);
      i += 3;
    } else {
      matched = matched || bracket[i] == c;
      ++i;
    }
  }
  if (i >= bracket.size()) {
    return BracketMatch{};
  }
  return BracketMatch{true, matched != negate, i + 1};
}

}  // namespace

std::optional<rules::Date> as_of_from_file_name(std::string_view file_name) {
  const std::size_t n = file_name.size();
  std::size_t i = 0;
  while (i < n) {
    if (!is_digit(file_name[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && is_digit(file_name[j])) {
      ++j;
    }
    const std::string_view run = file_name.substr(i, j - i);
    if (run.size() == 8) {
      if (auto date = rules::Date::from_ymd(number(run.substr(0, 4)), number(run.substr(4, 2)),
                                            number(run.substr(6, 2)))) {
        return date;
      }
    } else if (run.size() == 4 && j + 6 <= n && file_name[j] == '-' && is_digit(file_name[j + 1]) &&
               is_digit(file_name[j + 2]) && file_name[j + 3] == '-' &&
               is_digit(file_name[j + 4]) && is_digit(file_name[j + 5]) &&
               (j + 6 == n || !is_digit(file_name[j + 6]))) {
      if (auto date = rules::Date::from_ymd(number(run), number(file_name.substr(j + 1, 2)),
                                            number(file_name.substr(j + 4, 2)))) {
        return date;
      }
    }
    i = j;
  }
  return std::nullopt;
}

bool glob_match(std::string_view pattern, std::string_view name) {
  std::size_t p = 0;
  std::size_t s = 0;
  std::size_t star_p = std::string_view::npos;  // pattern index after the last '*'
  std::size_t star_s = 0;                       // name index that '*' is retried from
  while (s < name.size()) {
    bool advanced = false;
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star_p = ++p;
        star_s = s;
        continue;
      }
      if (pc == '[') {
        const BracketMatch bracket = match_bracket(pattern.substr(p), name[s]);
        if (bracket.closed && bracket.matched) {
          p += bracket.length;
          ++s;
          advanced = true;
        } else if (!bracket.closed && name[s] == '[') {
          ++p;  // an unclosed '[' is a literal
          ++s;
          advanced = true;
        }
      } else if (pc == '?' || pc == name[s]) {
        ++p;
        ++s;
        advanced = true;
      }
    }
    if (advanced) {
      continue;
    }
    if (star_p == std::string_view::npos) {
      return false;
    }
    p = star_p;
    s = ++star_s;
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

namespace {

// Calls `each(entry, name, source or nullptr, modified)` for every regular file of `inbox` that is
// not a dot-file, *.tmp or *.part; `source` is the first whose glob matches the name.
template <typename Each>
void each_inbox_file(const std::filesystem::path& inbox, const std::vector<rules::Source>& sources,
                     const Each& each) {
  namespace fs = std::filesystem;
  for (const fs::directory_entry& entry : fs::directory_iterator(inbox)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.' || ends_with(name, ".tmp") || ends_with(name, ".part")) {
      continue;
    }
    // Symbolic links are not followed: only files really in the inbox are read and moved.
    std::error_code error;
    if (!fs::is_regular_file(entry.symlink_status(error)) || error) {
      continue;
    }
    const auto source = std::find_if(sources.begin(), sources.end(),
                                     [&](const auto& s) { return glob_match(s.files, name); });
    const auto modified = entry.last_write_time(error);
    if (error) {
      continue;  // gone since it was listed
    }
    each(entry.path(), source == sources.end() ? nullptr : &*source, modified);
  }
}

}  // namespace

std::vector<UnmatchedFile> unmatched_files(const std::filesystem::path& inbox,
                                           const std::vector<rules::Source>& sources) {
  std::string globs;
  for (const auto& source : sources) {
    globs += (globs.empty() ? "" : ", ") + source.files;
  }
  const std::string reason = "matches no source's files glob (" + globs + ")";
  std::vector<UnmatchedFile> files;
  each_inbox_file(inbox, sources,
                  [&](const auto& path, const rules::Source* source, auto modified) {
                    if (source == nullptr) {
                      files.push_back(UnmatchedFile{path, reason, modified});
                    }
                  });
  std::sort(files.begin(), files.end(),
            [](const UnmatchedFile& a, const UnmatchedFile& b) { return a.path < b.path; });
  return files;
}

std::vector<InboxFile> scan_inbox(const std::filesystem::path& inbox,
                                  const std::vector<rules::Source>& sources) {
  std::vector<InboxFile> files;
  each_inbox_file(inbox, sources,
                  [&](const auto& path, const rules::Source* source, auto modified) {
                    if (source == nullptr) {
                      return;
                    }
                    InboxFile file{path, source->name, modified, {source->name}};
                    if (source->format != rules::Format::kCsv) {
                      const std::string name = path.filename().string();
                      for (const auto& other : sources) {
                        if (&other != source && other.format == source->format &&
                            glob_match(other.files, name)) {
                          file.sources.push_back(other.name);
                        }
                      }
                    }
                    files.push_back(std::move(file));
                  });
  std::sort(files.begin(), files.end(), [](const InboxFile& a, const InboxFile& b) {
    return std::tie(a.modified, a.path) < std::tie(b.modified, b.path);
  });
  return files;
}

std::vector<InboxGroup> group_inbox(const std::vector<InboxFile>& files,
                                    const std::vector<rules::Source>& sources,
                                    const std::function<rules::Date(const InboxFile&)>& as_of) {
  const auto source_of = [&](const std::string& name) -> const rules::Source* {
    const auto found = std::find_if(sources.begin(), sources.end(),
                                    [&](const rules::Source& s) { return s.name == name; });
    return found == sources.end() ? nullptr : &*found;
  };
  // A source's place in the configuration: a set's files are read in that order.
  const auto rank = [&](const InboxFile& file) {
    const rules::Source* source = source_of(file.source);
    return source == nullptr ? sources.size() : static_cast<std::size_t>(source - sources.data());
  };
  std::vector<InboxGroup> groups;
  for (const auto& file : files) {
    const rules::Source* source = source_of(file.source);
    if (source == nullptr || source->set.empty()) {
      groups.push_back(InboxGroup{{file}, "", {}, {}});
      continue;
    }
    const rules::Date date = as_of(file);
    const auto open = std::find_if(groups.begin(), groups.end(), [&](const InboxGroup& g) {
      return g.set == source->set && g.as_of == date &&
             std::none_of(g.files.begin(), g.files.end(),
                          [&](const InboxFile& f) { return f.source == file.source; });
    });
    if (open == groups.end()) {
      groups.push_back(InboxGroup{{file}, source->set, date, {}});
      continue;
    }
    open->files.insert(
        std::upper_bound(open->files.begin(), open->files.end(), file,
                         [&](const InboxFile& a, const InboxFile& b) { return rank(a) < rank(b); }),
        file);
  }
  for (auto& group : groups) {
    if (group.set.empty()) {
      continue;
    }
    for (const auto& source : sources) {
      if (source.set != group.set) {
        continue;
      }
      if (std::none_of(group.files.begin(), group.files.end(),
                       [&](const InboxFile& f) { return f.source == source.name; })) {
        group.missing.push_back(source.name);
      }
    }
  }
  return groups;
}

}  // namespace ingest
