#include "bench/generator.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace bench {
namespace {

constexpr std::array<std::string_view, 5> kAreas = {"North", "South", "East", "West", "Central"};
// One function has a comma, so its team names are quoted in the CSV.
constexpr std::array<std::string_view, 8> kFunctions = {"Assessment",
                                                        "Safeguarding",
                                                        "Children in Care",
                                                        "Disabled Children",
                                                        "Care Leavers",
                                                        "Early Help",
                                                        "Court, Permanence and Adoption",
                                                        "Family Support"};
constexpr std::array<std::string_view, 30> kForenames = {
    "Amara", "Ben",   "Chloe", "Dev",  "Ella",  "Femi",  "Grace", "Hamza", "Isla", "Jack",
    "Kiran", "Leah",  "Mo",    "Nia",  "Owen",  "Priya", "Quinn", "Rosa",  "Sam",  "Tara",
    "Umar",  "Vicky", "Will",  "Xena", "Yusuf", "Zara",  "Aled",  "Bea",   "Cai",  "Dina"};
constexpr std::array<std::string_view, 30> kSurnames = {
    "Patel",   "Okafor",   "Nowak",   "Evans",  "Murphy", "Hughes", "Khan",   "Smith",
    "Jones",   "Taylor",   "Brown",   "Wilson", "Davies", "Walker", "Wright", "Thompson",
    "O'Neill", "Robinson", "Clarke",  "Ahmed",  "Lewis",  "Green",  "Hall",   "Wood",
    "Harris",  "Martin",   "Jackson", "Begum",  "Shaw",   "Ali"};
constexpr std::size_t kTeams = kAreas.size() * kFunctions.size();  // 40
constexpr std::size_t kWorkers = 900;

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// An independent stream per (seed, purpose, row).
Random stream(std::uint64_t seed, std::uint64_t purpose, std::size_t i) {
  return Random(splitmix(splitmix(seed ^ (purpose * 0x632be59bd9b4e019ULL)) + i));
}

std::string team_name(std::size_t team) {
  return fmt::format("{} {}", kFunctions[team % kFunctions.size()],
                     kAreas[team / kFunctions.size()]);
}

// Worker w belongs to team w % kTeams. Every sixth is written "Surname, Forename" (quoted).
std::string worker_name(std::size_t worker) {
  const auto forename = kForenames[worker % kForenames.size()];
  const auto surname = kSurnames[(worker / kForenames.size()) % kSurnames.size()];
  if (worker % 6 == 0) {
    return fmt::format("{}, {}", surname, forename);
  }
  return fmt::format("{} {}", forename, surname);
}

// A random worker of `team`.
std::size_t pick_worker(Random& random, std::size_t team) {
  const std::size_t in_team = (kWorkers - team + kTeams - 1) / kTeams;
  return team + kTeams * random.below(in_team);
}

rules::Date between(Random& random, rules::Date from, rules::Date to) {
  if (to - from <= 0) {
    return from;
  }
  return from + static_cast<int>(random.below(static_cast<std::uint64_t>(to - from) + 1));
}

void append_field(std::string_view value, std::string& out, bool& quoted) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += value;
    return;
  }
  quoted = true;
  out += '"';
  for (char c : value) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
}

void append_date(const std::optional<rules::Date>& date, std::string& out) {
  if (!date) {
    return;
  }
  char text[11];
  const int d = date->day(), m = date->month(), y = date->year();
  text[0] = static_cast<char>('0' + d / 10);
  text[1] = static_cast<char>('0' + d % 10);
  text[2] = '/';
  text[3] = static_cast<char>('0' + m / 10);
  text[4] = static_cast<char>('0' + m % 10);
  text[5] = '/';
  text[6] = static_cast<char>('0' + y / 1000);
  text[7] = static_cast<char>('0' + y / 100 % 10);
  text[8] = static_cast<char>('0' + y / 10 % 10);
  text[9] = static_cast<char>('0' + y % 10);
  out.append(text, 10);
}

bool append_csv(const CaseRow& row, std::string& out) {
  bool quoted = false;
  append_field(row.case_id, out, quoted);
  out += ',';
  append_field(row.child_id, out, quoted);
  out += ',';
  append_field(row.team, out, quoted);
  out += ',';
  append_field(row.worker, out, quoted);
  out += ',';
  append_date(row.referral, out);
  out += ',';
  append_date(row.closure, out);
  out += ',';
  append_field(row.status, out, quoted);
  out += ',';
  append_date(row.allocation_start, out);
  out += ',';
  if (row.null_end) {
    out += "31/12/9999";
  } else {
    append_date(row.allocation_end, out);
  }
  out += "\r\n";
  return quoted;
}

// Streams text into a new 0640 file in large writes.
class Output {
 public:
  explicit Output(const std::filesystem::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      fail("cannot create");
    }
    buffer_.reserve(kChunk + 4096);
  }
  ~Output() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  std::string& buffer() { return buffer_; }
  void maybe_flush() {
    if (buffer_.size() >= kChunk) {
      flush();
    }
  }
  void close() {
    flush();
    if (::close(fd_) != 0) {
      fail("cannot close");
    }
    fd_ = -1;
  }

 private:
  static constexpr std::size_t kChunk = 1 << 20;
  void flush() {
    std::size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        fail("cannot write");
      }
      done += static_cast<std::size_t>(n);
    }
    buffer_.clear();
  }
  [[noreturn]] void fail(const char* what) {
    throw std::runtime_error(fmt::format("{} {}: {}", what, path_.string(), std::strerror(errno)));
  }
  std::filesystem::path path_;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace

std::uint64_t Random::next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::size_t team_count() { return kTeams; }
std::size_t worker_count() { return kWorkers; }

bool is_changed(const ExtractSpec& spec, std::size_t i) {
  return stream(spec.seed, 2, i).chance(spec.changed);
}

CaseRow make_case_row(const ExtractSpec& spec, std::size_t i, bool changed) {
  Random random = stream(spec.seed, 1, i);
  CaseRow row;
  row.case_id = fmt::format("C{:07}", 1'000'000 + i);
  // Every thirteenth case is a sibling's or a re-referral: the same child as the case before.
  row.child_id = fmt::format("P{:07}", 2'000'000 + i - (i % 13 == 12 ? 1 : 0));
  const std::size_t team = random.below(kTeams);
  row.team = team_name(team);
  const rules::Date as_of = spec.as_of;
  const bool closed = random.chance(spec.closed);
  if (closed) {
    row.referral = as_of - 30 - static_cast<int>(random.below(1800));
    row.closure = between(random, row.referral + 7, as_of);
    row.status = "Closed";
    row.worker = worker_name(pick_worker(random, team));
    row.allocation_start = between(random, row.referral, row.referral + 5);
    row.allocation_end = row.closure;
  } else {
    // Open cases are mostly recent: referred within the last two years.
    row.referral = as_of - static_cast<int>(random.below(730));
    row.status = "Open";
    if (random.chance(spec.unallocated)) {
      switch (random.below(6)) {
        case 0:
          break;  // empty
        case 1:
          row.worker = "Unallocated";
          break;
        case 2:
          row.worker = "Duty";
          break;
        case 3:
          row.worker = row.team;
          break;
        case 4:
          row.worker = "#N/A";
          break;
        default:  // allocated once, the allocation ended and nobody took over
          row.worker = worker_name(pick_worker(random, team));
          row.allocation_start = between(random, row.referral, row.referral + 5);
          row.allocation_end = between(random, *row.allocation_start + 1, as_of);
          break;
      }
    } else {
      row.worker = worker_name(pick_worker(random, team));
      row.allocation_start = between(random, row.referral, std::min(row.referral + 10, as_of));
      row.null_end = random.chance(0.02);
    }
  }
  if (!changed || !is_changed(spec, i)) {
    return row;
  }

  // The week after: reallocated (half), closed (a quarter), allocation ended (a quarter).
  Random change = stream(spec.seed, 3, i);
  const rules::Date next = as_of + 7;
  const auto kind = change.below(4);
  if (row.status == "Closed" || kind <= 1) {
    row.worker = worker_name(pick_worker(change, team));
    if (row.status != "Closed") {
      row.allocation_start = between(change, as_of + 1, next);
      row.allocation_end.reset();
      row.null_end = false;
    }
  } else if (kind == 2) {
    row.status = "Closed";
    row.closure = between(change, as_of + 1, next);
    row.allocation_end = row.closure;
    row.null_end = false;
  } else {
    row.allocation_end = between(change, as_of + 1, next);
    if (!row.allocation_start || *row.allocation_start >= *row.allocation_end) {
      row.allocation_start = row.referral;
    }
    row.null_end = false;
  }
  return row;
}

void append_csv_line(const CaseRow& row, std::string& out) { append_csv(row, out); }

rules::Record to_record(const CaseRow& row, const rules::Source& source) {
  rules::Record record;
  record.key = row.case_id;
  record.values.resize(source.fields.size());
  const auto set = [&](std::string_view field, std::string value) {
    const int index = source.field_index(field);
    if (index >= 0) {
      record.values[static_cast<std::size_t>(index)] = std::move(value);
    }
  };
  const auto iso = [](const std::optional<rules::Date>& date) {
    return date ? date->iso() : std::string();
  };
  set("person", row.child_id);
  set("team", row.team);
  set("worker", row.worker);
  set("opened", row.referral.iso());
  set("closed", iso(row.closure));
  set("status", row.status);
  set("allocation_start", iso(row.allocation_start));
  set("allocation_end", row.null_end ? std::string() : iso(row.allocation_end));
  return record;
}

GeneratedFiles write_extracts(const ExtractSpec& spec, const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  GeneratedFiles files;
  files.first = folder / fmt::format("cases_{}.csv", spec.as_of.iso());
  files.changed = folder / fmt::format("cases_{}.csv", (spec.as_of + 7).iso());
  Output first(files.first);
  Output changed(files.changed);
  for (Output* out : {&first, &changed}) {
    out->buffer() += kCaseHeader;
    out->buffer() += "\r\n";
  }
  for (std::size_t i = 0; i < spec.rows; ++i) {
    const CaseRow row = make_case_row(spec, i, false);
    if (append_csv(row, first.buffer())) {
      ++files.quoted_rows;
    }
    if (row.status == "Closed") {
      ++files.closed_rows;
    } else if (row.worker.empty() || row.worker == "Unallocated" || row.worker == "Duty" ||
               row.worker == "#N/A" || row.worker == row.team ||
               (row.allocation_end && *row.allocation_end <= spec.as_of)) {
      ++files.unallocated_rows;
    }
    if (is_changed(spec, i)) {
      ++files.changed_rows;
      append_csv(make_case_row(spec, i, true), changed.buffer());
    } else {
      append_csv(row, changed.buffer());
    }
    first.maybe_flush();
    changed.maybe_flush();
  }
  first.close();
  changed.close();
  files.rows = spec.rows;
  files.bytes = std::filesystem::file_size(files.first);
  return files;
}

}  // namespace bench
