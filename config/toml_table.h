// Internal to config/: reading a toml11 document table by table, collecting every problem with
// its position. Included only by config/*.cpp (toml11 stays inside config/).
#ifndef CASEWATCH_CONFIG_TOML_TABLE_H_
#define CASEWATCH_CONFIG_TOML_TABLE_H_

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <toml.hpp>
#include <utility>
#include <vector>

#include "config/config.h"

namespace config::internal {

using Value = toml::value;

inline std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += separator;
    }
    out += parts[i];
  }
  return out;
}

inline std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// Problems found so far, each with the position of the TOML value it is about. One thread at a
// time.
class Diagnostics {
 public:
  void add(const Value& at, std::string message) {
    const auto location = at.location();
    add(location.line(), location.column(), std::move(message));
  }
  void add(std::uint_least32_t line, std::uint_least32_t column, std::string message) {
    problems_.push_back({line, column, std::move(message)});
  }

  // Throws one ConfigError holding every problem as "file:line: message", in line order.
  void throw_if_any(const std::filesystem::path& file) {
    if (problems_.empty()) {
      return;
    }
    std::stable_sort(problems_.begin(), problems_.end(), [](const auto& a, const auto& b) {
      return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    std::vector<std::string> messages;
    messages.reserve(problems_.size());
    for (const auto& problem : problems_) {
      messages.push_back(fmt::format("{}:{}: {}", file.string(), problem.line, problem.message));
    }
    throw ConfigError(std::move(messages));
  }

 private:
  struct Located {
    std::uint_least32_t line;
    std::uint_least32_t column;
    std::string message;
  };
  std::vector<Located> problems_;
};

inline std::string_view type_name(const Value& value) {
  switch (value.type()) {
    case toml::value_t::boolean:
      return "a boolean";
    case toml::value_t::integer:
      return "an integer";
    case toml::value_t::floating:
      return "a float";
    case toml::value_t::string:
      return "a string";
    case toml::value_t::offset_datetime:
    case toml::value_t::local_datetime:
      return "a date-time";
    case toml::value_t::local_date:
      return "a date";
    case toml::value_t::local_time:
      return "a time";
    case toml::value_t::array:
      return "an array";
    case toml::value_t::table:
      return "a table";
    case toml::value_t::empty:
      break;
  }
  return "nothing";
}

// A TOML table being read: remembers which keys were read, so that finish() can report the
// others as unknown. `name` says which table it is in messages ("[[rule]] 'unallocated'").
// Holds references: the TOML value and the Diagnostics must outlive it. One thread at a time.
class Table {
 public:
  Table(const Value& value, std::string name, Diagnostics& diagnostics)
      : value_(value), name_(std::move(name)), diagnostics_(diagnostics) {}

  const Value& value() const { return value_; }
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  Diagnostics& diagnostics() { return diagnostics_; }

  // The value of `key`, marked as read; nullptr when absent (an error when `required`).
  const Value* find(const std::string& key, bool required = false) {
    const auto& table = value_.as_table();
    const auto it = table.find(key);
    if (it == table.end()) {
      if (required) {
        error(fmt::format("missing required key '{}' in {}", key, name_));
      }
      return nullptr;
    }
    read_.insert(key);
    return &it->second;
  }
  bool has(const std::string& key) const { return value_.as_table().count(key) > 0; }
  void mark_read(const std::string& key) { read_.insert(key); }
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& [key, unused] : value_.as_table()) {
      out.push_back(key);
    }
    return out;
  }

  void error(std::string message) { diagnostics_.add(value_, std::move(message)); }
  void error(const Value& at, std::string message) { diagnostics_.add(at, std::move(message)); }

  std::optional<std::string> string(const std::string& key, bool required = false) {
    const Value* v = find(key, required);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (!v->is_string()) {
      return type_error(*v, key, "a string");
    }
    return v->as_string().str;
  }

  std::optional<std::int64_t> integer(const std::string& key, bool required = false) {
    const Value* v = find(key, required);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (!v->is_integer()) {
      return type_error(*v, key, "an integer");
    }
    return v->as_integer();
  }

  // An integer or a float.
  std::optional<double> number(const std::string& key, bool required = false) {
    const Value* v = find(key, required);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (v->is_integer()) {
      return static_cast<double>(v->as_integer());
    }
    if (v->is_floating()) {
      return v->as_floating();
    }
    return type_error(*v, key, "a number");
  }

  std::optional<bool> boolean(const std::string& key) {
    const Value* v = find(key);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (!v->is_boolean()) {
      return type_error(*v, key, "true or false");
    }
    return v->as_boolean();
  }

  // An array of strings.
  std::optional<std::vector<std::string>> strings(const std::string& key, bool required = false) {
    const Value* v = find(key, required);
    if (v == nullptr) {
      return std::nullopt;
    }
    return strings_of(*v, key, false);
  }

  // A string or an array of strings (a single string gives a list of one).
  std::optional<std::vector<std::string>> string_or_strings(const std::string& key,
                                                            bool required = false) {
    const Value* v = find(key, required);
    if (v == nullptr) {
      return std::nullopt;
    }
    return strings_of(*v, key, true);
  }

  std::optional<std::vector<std::string>> strings_of(const Value& v, const std::string& key,
                                                     bool single_allowed) {
    if (single_allowed && v.is_string()) {
      return std::vector<std::string>{v.as_string().str};
    }
    if (!v.is_array()) {
      return type_error(v, key,
                        single_allowed ? "a string or an array of strings" : "an array of strings");
    }
    std::vector<std::string> out;
    bool ok = true;
    for (const auto& item : v.as_array()) {
      if (!item.is_string()) {
        error(item,
              fmt::format("each item of '{}' must be a string, got {}", key, type_name(item)));
        ok = false;
        continue;
      }
      out.push_back(item.as_string().str);
    }
    if (!ok) {
      return std::nullopt;
    }
    return out;
  }

  // The array of tables under `key` ([[source]], or an array of inline tables).
  std::vector<const Value*> tables(const std::string& key, std::string_view description) {
    std::vector<const Value*> out;
    const Value* v = find(key);
    if (v == nullptr) {
      return out;
    }
    if (!v->is_array()) {
      error(*v, fmt::format("'{}' must be {}, got {}", key, description, type_name(*v)));
      return out;
    }
    for (const auto& item : v->as_array()) {
      if (!item.is_table()) {
        error(item, fmt::format("each item of '{}' must be a table, got {}", key, type_name(item)));
        continue;
      }
      out.push_back(&item);
    }
    return out;
  }

  // The table under `key`, or nullptr (absent or not a table, which is reported).
  const Value* table(const std::string& key) {
    const Value* v = find(key);
    if (v == nullptr) {
      return nullptr;
    }
    if (!v->is_table()) {
      error(*v, fmt::format("'{}' must be a table, got {}", key, type_name(*v)));
      return nullptr;
    }
    return v;
  }

  std::nullopt_t type_error(const Value& v, const std::string& key, std::string_view expected) {
    error(v, fmt::format("'{}' must be {}, got {}", key, expected, type_name(v)));
    return std::nullopt;
  }

  // Reports every key that was never read.
  void finish() {
    for (const auto& [key, v] : value_.as_table()) {
      if (read_.count(key) > 0) {
        continue;
      }
      if (name_.empty()) {
        error(v, fmt::format("unknown key '{}' at the top level", key));
      } else {
        error(v, fmt::format("unknown key '{}' in {}", key, name_));
      }
    }
  }

 private:
  const Value& value_;
  std::string name_;
  Diagnostics& diagnostics_;
  std::set<std::string> read_;
};

// Orders TOML values by where they appear in the file (toml11 tables are unordered maps).
inline bool before_in_file(const Value& a, const Value& b) {
  const auto la = a.location();
  const auto lb = b.location();
  return std::pair(la.line(), la.column()) < std::pair(lb.line(), lb.column());
}

}  // namespace config::internal

#endif  // CASEWATCH_CONFIG_TOML_TABLE_H_
