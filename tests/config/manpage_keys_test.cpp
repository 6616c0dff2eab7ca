// casewatch.toml(5) lists every key the parser accepts, and only those. The parser is asked
// rather than read: every identifier-like string literal in config/'s sources (where any key
// it reads must be spelt), and every key the page lists, is written into each table of a
// valid configuration in turn; the parser accepts it there when it does not answer
// "unknown key". So a key added to any reader, in any file of config/, fails this test until
// the page describes it.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"

namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = CASEWATCH_SOURCE_DIR;

// A valid configuration with a "@table@" mark in each table, where a probed key goes.
constexpr std::string_view kProbeConfig = R"(@top@
[service]
state_dir = "state"
@service@
[calendar]
@calendar@
[[source]]
name = "cases"
key = "Case ID"
@source@
[source.fields]
start = "Start"
end = "End"
[[rule]]
id = "r"
kind = "timescale"
source = "cases"
start = "start"
end = "end"
limit = "10wd"
bands = [{ label = "a", bound = "7d" @bands@ }, { label = "b" }]
earlier_limits = [{ before = "2010-04-01", limit = "7wd" @earlier_limits@ }]
@rule@
[mail]
server = "smtp://localhost:25"
from = "casewatch@example.org"
@mail@
[[route]]
name = "all"
to = ["hos@example.org"]
@route@
[review]
@review@
[metrics]
@metrics@
[retention]
@retention@
)";

// Each probed table: its mark, and the start of the page's headings that describe its keys.
struct ProbedTable {
  std::string mark;
  std::string heading;
  bool inline_table = false;
};
const std::vector<ProbedTable> kTables = {
    {"top", "top level"},
    {"service", "[service]"},
    {"calendar", "[calendar]"},
    {"source", "[[source]]"},
    {"rule", "[[rule]]"},
    {"bands", "bands = [...]", true},
    {"earlier_limits", "earlier_limits = [...]", true},
    {"mail", "[mail]"},
    {"route", "[[route]]"},
    {"review", "[review]"},
    {"metrics", "[metrics]"},
    {"retention", "[retention]"},
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The probe configuration with `key` in the table marked `mark` (no key when `key` is empty).
std::string probe_text(const std::string& mark, const std::string& key) {
  std::string text(kProbeConfig);
  for (const auto& table : kTables) {
    std::string line;
    if (table.mark == mark && !key.empty()) {
      line = table.inline_table ? ", " + key + " = 1" : key + " = 1";
    }
    const std::string placeholder = "@" + table.mark + "@";
    text.replace(text.find(placeholder), placeholder.size(), line);
  }
  return text;
}

// The messages of parsing `text`; none when it is valid.
std::vector<std::string> parse_messages(const std::string& text) {
  try {
    config::parse_config(text, "probe.toml");
  } catch (const config::ConfigError& e) {
    return e.messages();
  }
  return {};
}

bool accepts(const std::string& mark, const std::string& key) {
  for (const auto& message : parse_messages(probe_text(mark, key))) {
    if (message.find("unknown key '" + key + "'") != std::string::npos) {
      return false;
    }
  }
  return true;
}

// Identifier-like string literals in config/'s sources.
std::set<std::string> literals_in_config() {
  std::set<std::string> out;
  const std::regex literal(R"re("([a-z][a-z0-9_]*)")re");
  for (const auto& entry : fs::recursive_directory_iterator(kSourceDir / "config")) {
    const auto extension = entry.path().extension();
    if (extension != ".cpp" && extension != ".h") {
      continue;
    }
    const std::string text = read_file(entry.path());
    for (std::sregex_iterator it(text.begin(), text.end(), literal), end; it != end; ++it) {
      out.insert((*it)[1].str());
    }
  }
  return out;
}

// The keys the page lists (".TP" then ".B key"), by the ".SS" heading they are under.
std::map<std::string, std::set<std::string>> page_keys() {
  std::map<std::string, std::set<std::string>> out;
  std::istringstream page(read_file(kSourceDir / "packaging" / "man" / "casewatch.toml.5"));
  std::string line;
  std::string heading;
  bool tag = false;
  while (std::getline(page, line)) {
    if (line.rfind(".SS ", 0) == 0) {
      heading = line.substr(4);
      if (heading.size() >= 2 && heading.front() == '"') {
        heading = heading.substr(1, heading.size() - 2);
      }
    } else if (line == ".TP") {
      tag = true;
      continue;
    } else if (tag && line.rfind(".B ", 0) == 0 && !heading.empty()) {
      out[heading].insert(line.substr(3));
    }
    tag = false;
  }
  return out;
}

std::set<std::string> listed_under(const std::map<std::string, std::set<std::string>>& page,
                                   const std::string& heading) {
  std::set<std::string> out;
  for (const auto& [name, keys] : page) {
    if (name.rfind(heading, 0) == 0) {
      out.insert(keys.begin(), keys.end());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("the probe configuration is valid without a probed key", "[config][manpage]") {
  CHECK(parse_messages(probe_text("", "")).empty());
  CHECK(accepts("service", "state_dir"));
  CHECK_FALSE(accepts("service", "state_dirr"));
}

TEST_CASE("casewatch.toml(5) lists every key the parser accepts, and no other",
          "[config][manpage]") {
  const auto page = page_keys();
  std::set<std::string> candidates = literals_in_config();
  for (const auto& [heading, keys] : page) {
    candidates.insert(keys.begin(), keys.end());
  }

  for (const auto& table : kTables) {
    const auto listed = listed_under(page, table.heading);
    CAPTURE(table.heading);
    CHECK_FALSE(listed.empty());
    for (const auto& key : candidates) {
      const bool accepted = accepts(table.mark, key);
      const bool documented = listed.count(key) > 0;
      if (accepted && !documented) {
        FAIL_CHECK(table.heading << " accepts '" << key
                                 << "' but casewatch.toml(5) does not list it under "
                                 << table.heading);
      } else if (documented && !accepted) {
        FAIL_CHECK("casewatch.toml(5) lists '" << key << "' under " << table.heading
                                               << " but the parser refuses it there");
      }
    }
  }
}
