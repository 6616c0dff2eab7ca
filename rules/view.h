// RecordView: a compact, read-only, columnar view of a source's current records, as evaluation
// reads them. Only the fields the rules read are held; each held field is dictionary-coded (one
// 32-bit code per record into the field's distinct texts), and a date field's distinct texts
// are parsed once into day numbers. A million records of the example `cases` source take about
// 60 MB, against about 320 MB as std::vector<Record>.
// Built by RecordViewBuilder from records as stored (storage builds one straight from the stored
// snapshot), or from records in memory (RecordView::of); shared read-only by evaluations.
#ifndef CASEWATCH_RULES_VIEW_H_
#define CASEWATCH_RULES_VIEW_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rule.h"

namespace rules {

// A date field's value in a record: absent or empty, a date, or raw text that is not a date.
struct DateValue {
  enum class Kind { kEmpty, kDate, kBad };
  Kind kind = Kind::kEmpty;
  Date date;
  std::string_view raw;  // the text, for kBad (it views the RecordView holding it)
  bool empty() const { return kind == Kind::kEmpty; }
  bool is_date() const { return kind == Kind::kDate; }
  bool bad() const { return kind == Kind::kBad; }
};

// How a stored date text reads: trimmed, "" is empty, "YYYY-MM-DD" a date, anything else bad.
DateValue parse_date_value(std::string_view text);

// How the rules read a field: not at all, as text, or as a date (and as text).
enum class FieldUse : unsigned char { kNone, kText, kDate };

// How the rules of `rules` read each of `source`'s fields (by index in Source::fields): where
// and unless filters, the fields each kind reads, and the fields of `source` as an events or
// allocations source.
std::vector<FieldUse> fields_read(const RuleSet& rules, const Source& source);

class RecordView {
 public:
  // The view of `records` holding every field of `source`, each as text and as a date.
  static RecordView of(const Source& source, const std::vector<Record>& records);

  RecordView() = default;
  // Move only: DateValue::raw views the view's own texts.
  RecordView(RecordView&&) = default;
  RecordView& operator=(RecordView&&) = default;
  RecordView(const RecordView&) = delete;
  RecordView& operator=(const RecordView&) = delete;

  std::size_t size() const { return key_ends_.size(); }
  std::string_view key(std::size_t row) const {
    const std::uint32_t begin = row == 0 ? 0 : key_ends_[row - 1];
    return std::string_view(keys_).substr(begin, key_ends_[row] - begin);
  }
  // Whether field `field` is held (false for -1 and fields no rule reads).
  bool holds(int field) const {
    return field >= 0 && static_cast<std::size_t>(field) < columns_.size() &&
           columns_[static_cast<std::size_t>(field)].held;
  }
  // The text of field `field` in record `row`: "" when the record has no such value or the field
  // is not held.
  std::string_view text(std::size_t row, int field) const {
    if (!holds(field)) {
      return {};
    }
    const Column& column = columns_[static_cast<std::size_t>(field)];
    return column.entry(column.codes[row]);
  }
  // The value of date field `field` in record `row` (as parse_date_value of its text); empty
  // when the field is not held as a date.
  const DateValue& date(std::size_t row, int field) const {
    if (!holds(field) || columns_[static_cast<std::size_t>(field)].dates.empty()) {
      return kNoDate;
    }
    const Column& column = columns_[static_cast<std::size_t>(field)];
    return column.dates[column.codes[row]];
  }
  // Field `field`'s code in record `row` (equal codes, equal texts; a text field of nearly all
  // distinct texts may give equal texts different codes), and the number of codes.
  // REQUIRES: holds(field).
  std::uint32_t code(std::size_t row, int field) const {
    return columns_[static_cast<std::size_t>(field)].codes[row];
  }
  std::size_t codes(int field) const {
    return holds(field) ? columns_[static_cast<std::size_t>(field)].ends.size() : 0;
  }
  // The text of code `code` of field `field`. REQUIRES: code < codes(field).
  std::string_view code_text(int field, std::uint32_t code) const {
    return columns_[static_cast<std::size_t>(field)].entry(code);
  }
  // Bytes held, for the service's figures and the benchmark.
  std::size_t bytes() const;

 private:
  friend class RecordViewBuilder;
  static const DateValue kNoDate;
  struct Column {
    bool held = false;
    std::vector<std::uint32_t> codes;  // per record
    std::string texts;                 // the distinct texts back to back, code 0 = ""
    std::vector<std::uint32_t> ends;   // per code, the end of its text in `texts`
    std::vector<DateValue> dates;      // per code, for fields held as dates (few codes)
    std::string_view entry(std::uint32_t code) const {
      const std::uint32_t begin = code == 0 ? 0 : ends[code - 1];
      return std::string_view(texts).substr(begin, ends[code] - begin);
    }
  };
  std::string keys_;
  std::vector<std::uint32_t> key_ends_;
  std::vector<Column> columns_;  // by field index
};

// Builds a RecordView a record at a time. Throws std::length_error past 4 GiB of keys or of one
// field's distinct texts.
class RecordViewBuilder {
 public:
  // `uses[i]`: how to hold field i (Source::fields order); fields past the end are not held.
  explicit RecordViewBuilder(const std::vector<FieldUse>& uses);
  // Reserves room for `records` records.
  void reserve(std::size_t records);
  // Adds a record: its key and its values in field order (missing values are "").
  void add(std::string_view key, const std::vector<std::string_view>& values);
  void add(const Record& record);
  // The view; the builder is empty afterwards.
  RecordView finish();

 private:
  // Per held column: its distinct texts by hash (open addressing; slot i = [hash, code + 1]).
  struct Dictionary {
    std::vector<std::uint32_t> slots;
    bool dated = false;
    bool plain = false;  // a text field of nearly all distinct texts: no lookup, a code per text
  };
  std::uint32_t code_of(std::size_t field, std::string_view text);
  void grow(std::size_t field);
  RecordView view_;
  std::vector<Dictionary> dictionaries_;
  std::vector<std::string_view> scratch_;
};

}  // namespace rules

#endif  // CASEWATCH_RULES_VIEW_H_
