#include "report/mime.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rules.h"

namespace report {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::size_t kMaxQpLine = 76;  // RFC 2045: encoded lines at most 76 characters
constexpr std::size_t kMaxB64Line = 76;
// RFC 2047: an encoded word is at most 75 characters; "=?utf-8?B?" + "?=" take 12, leaving 63
// for base64, i.e. 45 bytes of text (a multiple of 3 keeps the words independent).
constexpr std::size_t kEncodedWordBytes = 45;

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += kBase64Alphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// A header value on one logical line: CR, LF and other control characters become spaces.
std::string header_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  return out;
}

bool plain_ascii(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      return false;
    }
  }
  return true;
}

// "Subject: ..." as plain text when it is plain ASCII (folded at spaces to keep lines within 78
// characters, so that filters and searches match it), in RFC 2047 encoded words otherwise.
std::string subject_header(std::string_view subject) {
  const std::string value = header_value(subject);
  const auto longest_word = [&] {
    std::size_t longest = 0;
    std::size_t start = 0;
    while (start <= value.size()) {
      const std::size_t end = std::min(value.find(' ', start), value.size());
      longest = std::max(longest, end - start);
      start = end + 1;
    }
    return longest;
  };
  if (plain_ascii(value) && longest_word() <= 78 - 10) {
    std::string out = "Subject:";
    std::size_t line = out.size();
    std::size_t start = 0;
    while (start <= value.size()) {
      const std::size_t end = std::min(value.find(' ', start), value.size());
      const std::string_view word = std::string_view(value).substr(start, end - start);
      if (line + 1 + word.size() > 78) {
        out += std::string(kCrlf);
        line = 0;
      }
      out += " ";
      out += word;
      line += 1 + word.size();
      start = end + 1;
    }
    return out + std::string(kCrlf);
  }
  std::string out = "Subject:";
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t n = std::min(kEncodedWordBytes, value.size() - i);
    // Never split a UTF-8 sequence: back off over continuation bytes.
    while (n > 1 && i + n < value.size() &&
           (static_cast<unsigned char>(value[i + n]) & 0xC0) == 0x80) {
      --n;
    }
    out += " =?utf-8?B?" + base64(value.substr(i, n)) + "?=" + std::string(kCrlf);
    i += n;
  }
  return out;
}

// "To: a, b, ..." with one address per continuation line when it would be long.
std::string address_list_header(std::string_view name, const std::vector<std::string>& addresses) {
  std::string out = std::string(name) + ":";
  std::size_t line = out.size();
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    const std::string address = header_value(addresses[i]);
    const std::string item = address + (i + 1 < addresses.size() ? "," : "");
    if (i > 0 && line + 1 + item.size() > 78) {
      out += std::string(kCrlf);
      line = 0;
    }
    out += ' ' + item;
    line += 1 + item.size();
  }
  return out + std::string(kCrlf);
}

// A file name safe inside a quoted header parameter: ASCII printable, no quotes or backslashes.
std::string safe_filename(std::string_view name) {
  std::string out;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f || c == '"' || c == '\\' || c == '/') ? '_' : c;
  }
  return out.empty() ? "attachment" : out;
}

// A text part. Inside a multipart body the line break before a boundary belongs to the
// boundary (RFC 2046), so a body ending in a line break gets one more to keep it.
std::string text_part(std::string_view subtype, std::string_view body, bool in_multipart) {
  return fmt::format(
      "Content-Type: text/{}; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n"
      "\r\n"
      "{}{}",
      subtype, quoted_printable(body), in_multipart && body.ends_with('\n') ? "\r\n" : "");
}

std::string alternative_part(const MailMessage& message, std::string_view boundary,
                             bool in_multipart) {
  if (message.html.empty()) {
    return text_part("plain", message.text, in_multipart);
  }
  std::string out =
      fmt::format("Content-Type: multipart/alternative;\r\n boundary=\"{}\"\r\n\r\n", boundary);
  out += fmt::format("--{}\r\n", boundary) + text_part("plain", message.text, true);
  out += fmt::format("--{}\r\n", boundary) + text_part("html", message.html, true);
  out += fmt::format("--{}--\r\n", boundary);
  return out;
}

// Splits one CSV record's fields starting at `pos`, keeping each field's raw text (quotes
// included). Advances `pos` past the record's line ending.
std::vector<std::string_view> csv_record(std::string_view csv, std::size_t& pos) {
  std::vector<std::string_view> fields;
  std::size_t start = pos;
  bool quoted = false;
  while (pos < csv.size()) {
    const char c = csv[pos];
    if (quoted) {
      if (c == '"') {
        if (pos + 1 < csv.size() && csv[pos + 1] == '"') {
          ++pos;
        } else {
          quoted = false;
        }
      }
      ++pos;
      continue;
    }
    if (c == '"') {
      quoted = true;
      ++pos;
    } else if (c == ',') {
      fields.push_back(csv.substr(start, pos - start));
      start = ++pos;
    } else if (c == '\r' || c == '\n') {
      fields.push_back(csv.substr(start, pos - start));
      if (c == '\r' && pos + 1 < csv.size() && csv[pos + 1] == '\n') {
        ++pos;
      }
      ++pos;
      return fields;
    } else {
      ++pos;
    }
  }
  fields.push_back(csv.substr(start, pos - start));
  return fields;
}

std::string unquote(std::string_view field) {
  while (!field.empty() && field.front() == ' ') {
    field.remove_prefix(1);
  }
  while (!field.empty() && field.back() == ' ') {
    field.remove_suffix(1);
  }
  if (field.size() < 2 || field.front() != '"' || field.back() != '"') {
    return std::string(field);
  }
  std::string out;
  for (std::size_t i = 1; i + 1 < field.size(); ++i) {
    out += field[i];
    if (field[i] == '"' && i + 2 < field.size() && field[i + 1] == '"') {
      ++i;
    }
  }
  return out;
}

}  // namespace

std::string quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::size_t begin = 0;
  while (begin <= text.size()) {
    std::size_t end = text.find('\n', begin);
    const bool last = end == std::string_view::npos;
    if (last) {
      end = text.size();
    }
    std::string_view line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (last && line.empty()) {
      break;  // text ended with a line break (or was empty)
    }

    std::string encoded_line;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const auto u = static_cast<unsigned char>(line[i]);
      const bool at_end = i + 1 == line.size();
      std::string piece;
      // Spaces and tabs stay as they are except at the end of a line; a leading '.' is escaped
      // for SMTP's sake.
      const bool blank = (u == ' ' || u == '\t') && !at_end;
      const bool printable = u >= 33 && u <= 126 && u != '=' && !(u == '.' && encoded_line.empty());
      if (blank || printable) {
        piece = static_cast<char>(u);
      } else {
        piece = fmt::format("={:02X}", u);
      }
      // A soft line break ("=") keeps every encoded line within 76 characters.
      if (encoded_line.size() + piece.size() > kMaxQpLine - 1) {
        out += encoded_line + "=" + std::string(kCrlf);
        encoded_line.clear();
        if (piece == ".") {
          piece = "=2E";
        }
      }
      encoded_line += piece;
    }
    out += encoded_line + std::string(kCrlf);
    if (last) {
      break;
    }
    begin = end + 1;
  }
  return out;
}

std::string base64_lines(std::string_view bytes) {
  const std::string encoded = base64(bytes);
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); i += kMaxB64Line) {
    out += encoded.substr(i, kMaxB64Line);
    out += kCrlf;
  }
  return out;
}

std::string rfc5322_date(std::int64_t unix_seconds) {
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::int64_t days = unix_seconds / 86400;
  std::int64_t seconds = unix_seconds % 86400;
  if (seconds < 0) {
    seconds += 86400;
    --days;
  }
  const rules::Date date = rules::Date::from_days(static_cast<std::int32_t>(days));
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kDays[date.weekday() - 1],
                     date.day(), kMonths[date.month() - 1], date.year(), seconds / 3600,
                     seconds / 60 % 60, seconds % 60);
}

std::string review_subject(std::string_view iso_week, std::string_view headline) {
  return fmt::format("casewatch weekly review {}: {}", iso_week, headline);
}

std::string build_message(const MailMessage& message) {
  const std::uint64_t hash = stable_hash(message.message_id);
  // "=_" never occurs in quoted-printable or base64 output, so these cannot collide with a part.
  const std::string mixed = fmt::format("=_casewatch_mixed_{:016x}", hash);
  const std::string alternative = fmt::format("=_casewatch_alt_{:016x}", hash);

  std::string out;
  out += "From: " + header_value(message.from) + std::string(kCrlf);
  out += address_list_header("To", message.to);
  out += subject_header(message.subject);
  out += "Date: " + header_value(message.date) + std::string(kCrlf);
  out += "Message-ID: <" + header_value(message.message_id) + ">" + std::string(kCrlf);
  out += "Auto-Submitted: auto-generated\r\n";
  out += "MIME-Version: 1.0\r\n";
  if (!message.attachment) {
    out += alternative_part(message, alternative, false);
    return out;
  }
  const Attachment& attachment = *message.attachment;
  const std::string filename = safe_filename(attachment.filename);
  out += fmt::format("Content-Type: multipart/mixed;\r\n boundary=\"{}\"\r\n\r\n", mixed);
  out += "This is a multi-part message in MIME format.\r\n";
  out += fmt::format("--{}\r\n", mixed) + alternative_part(message, alternative, true);
  out += fmt::format("--{}\r\n", mixed);
  const bool text = attachment.content_type.starts_with("text/");
  out += fmt::format("Content-Type: {}{}; name=\"{}\"\r\n", header_value(attachment.content_type),
                     text ? "; charset=utf-8" : "", filename);
  out += fmt::format("Content-Disposition: attachment; filename=\"{}\"\r\n", filename);
  out += "Content-Transfer-Encoding: base64\r\n\r\n";
  out += base64_lines(attachment.bytes);
  out += fmt::format("--{}--\r\n", mixed);
  return out;
}

std::string filter_csv_columns(std::string_view csv, const std::vector<std::string>& allowed) {
  std::size_t pos = 0;
  if (csv.empty()) {
    return {};
  }
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  const bool bom = csv.starts_with(kBom);
  if (bom) {
    pos = kBom.size();
  }
  const std::vector<std::string_view> header = csv_record(csv, pos);
  std::vector<bool> keep(header.size(), false);
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string name = unquote(header[i]);
    for (const auto& a : allowed) {
      if (a == name) {
        keep[i] = true;
      }
    }
  }
  auto emit = [&keep](const std::vector<std::string_view>& fields, std::string& out) {
    bool first = true;
    for (std::size_t i = 0; i < fields.size() && i < keep.size(); ++i) {
      if (!keep[i]) {
        continue;
      }
      if (!first) {
        out += ',';
      }
      out += fields[i];
      first = false;
    }
    out += kCrlf;
  };
  std::string out(bom ? kBom : std::string_view());
  emit(header, out);
  while (pos < csv.size()) {
    emit(csv_record(csv, pos), out);
  }
  return out;
}

std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a, 64-bit
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace report
