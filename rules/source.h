// Sources (what an extract looks like) and records (one row of an extract).
#ifndef CASEWATCH_RULES_SOURCE_H_
#define CASEWATCH_RULES_SOURCE_H_

#include <string>
#include <string_view>
#include <vector>

#include "rules/date.h"

namespace rules {

enum class Encoding { kUtf8, kWindows1252 };

// How an extract is written: a CSV file, a sheet of an Excel workbook (.xlsx, as Ofsted's Annex
// A), or a DfE CIN census XML file.
enum class Format { kCsv, kXlsx, kCinXml };

// A field of a source: a name used by rules ("worker") and the column headers that may carry it
// (["Allocated Worker", "Social Worker"]); the first header found in a file wins.
struct Field {
  std::string name;
  std::vector<std::string> headers;
  bool is_date = false;  // parsed with the source's date formats and stored as ISO
};

// The well-known field names whose values are dates. Config marks these, plus every field a
// rule reads as a date, with Field::is_date.
inline constexpr std::string_view kDateFieldNames[] = {"opened", "closed", "allocation_start",
                                                       "allocation_end"};

// One kind of extract, as configured by a [[source]] table.
struct Source {
  std::string name;
  std::string files = "*.csv";  // glob matched against file names in the inbox
  Format format = Format::kCsv;
  // kXlsx: the sheet to read, matched ignoring case, '_' for ' ' and a title after the name
  // ("List 6" matches "List_6" and "List 6 - Children in Need"); empty = the first sheet.
  std::string sheet;
  // kCinXml: the element each record comes from ("Assessments", "Section47"); its fields are
  // the elements inside it and those of its ancestors (LAchildID, CINreferralDate ...).
  std::string record;
  std::vector<std::string> key;  // column headers whose values identify a record
  Encoding encoding = Encoding::kUtf8;
  std::vector<std::string> date_formats = {"%d/%m/%Y", "%Y-%m-%d"};
  std::vector<Date> null_dates = {*Date::from_ymd(1900, 1, 1), *Date::from_ymd(9999, 12, 31)};
  std::vector<Field> fields;    // Record::values follow this order
  std::string as_of_column;     // header of a column holding the extract date; empty = none
  double max_bad_rows = 0.005;  // a file with more problem rows than this fraction is rejected
  // The set this source's files belong to (an SSDA903 return: episodes, reviews, social
  // workers): the set's files of one as-of date are ingested together. Empty = none.
  std::string set;

  // The index of the field called `name` in `fields`, or -1.
  int field_index(std::string_view name) const;
};

// One row of an extract after ingest. Values follow Source::fields. A date field holds
// "YYYY-MM-DD", "" for empty or a null date, or the raw text when it could not be parsed (the
// row then also has a Problem, and rules treat the date as untrusted).
struct Record {
  std::string key;  // key column values joined with '|'
  std::vector<std::string> values;
  bool operator==(const Record&) const = default;
};

// The separator between key column values in Record::key.
inline constexpr char kKeySeparator = '|';

}  // namespace rules

#endif  // CASEWATCH_RULES_SOURCE_H_
