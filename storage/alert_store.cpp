// Alerts (one row per fingerprint) and silences; UTC time text shared with the outbox.
#include <cstddef>
#include <cstdio>
#include <iterator>
#include <stdexcept>

#include "storage/impl.h"
#include "storage/mail_store.h"

namespace storage {
namespace {

constexpr std::string_view kKinds[] = {"rule_count",       "escalation",       "stale_source",
                                       "rejected_extract", "delivery_failing", "unmatched_file",
                                       "calendar_ending"};

std::string kind_name(AlertKind kind) { return std::string(kKinds[static_cast<int>(kind)]); }

AlertKind parse_kind(const std::string& name) {
  for (int i = 0; i < static_cast<int>(std::size(kKinds)); ++i) {
    if (kKinds[i] == name) {
      return static_cast<AlertKind>(i);
    }
  }
  throw std::runtime_error("alerts: unknown kind '" + name + "'");
}

void bind_time(SQLite::Statement& s, int index, const std::optional<Time>& time) {
  if (time) {
    s.bind(index, format_utc(*time));
  } else {
    s.bind(index);
  }
}

std::optional<Time> column_time(const SQLite::Column& column) {
  if (column.isNull()) {
    return std::nullopt;
  }
  return parse_utc(column.getString());
}

}  // namespace

std::string format_utc(Time time) {
  const auto seconds = time.time_since_epoch().count();
  std::int64_t days = seconds / 86400;
  std::int64_t rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  const rules::Date date = rules::Date::from_days(static_cast<std::int32_t>(days));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%sT%02d:%02d:%02dZ", date.iso().c_str(),
                static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60),
                static_cast<int>(rest % 60));
  return buffer;
}

Time parse_utc(std::string_view text) {
  int hour = 0;
  int minute = 0;
  int second = 0;
  const auto date = text.size() == 20 ? rules::Date::parse_iso(text.substr(0, 10)) : std::nullopt;
  const std::string time(text.size() == 20 ? text.substr(10) : std::string_view{});
  char tail = 0;
  if (!date || std::sscanf(time.c_str(), "T%2d:%2d:%2d%c", &hour, &minute, &second, &tail) != 4 ||
      tail != 'Z') {
    throw std::runtime_error("malformed UTC time '" + std::string(text) + "' in the database");
  }
  return Time(std::chrono::seconds(static_cast<std::int64_t>(date->days()) * 86400 +
                                   std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 + second));
}

std::vector<AlertState> History::alert_states() const {
  SQLite::Statement q(impl_->db,
                      "SELECT fingerprint, kind, subject, scope, team, summary, detail, status, "
                      "started, resolved_at, last_notified, silenced FROM alerts "
                      "ORDER BY fingerprint");
  std::vector<AlertState> out;
  while (q.executeStep()) {
    AlertState s;
    s.fingerprint = q.getColumn(0).getString();
    s.condition.kind = parse_kind(q.getColumn(1).getString());
    s.condition.subject = q.getColumn(2).getString();
    s.condition.scope = q.getColumn(3).getString();
    s.condition.team = q.getColumn(4).getString();
    s.condition.summary = q.getColumn(5).getString();
    s.condition.detail = q.getColumn(6).getString();
    s.status =
        q.getColumn(7).getString() == "firing" ? AlertStatus::kFiring : AlertStatus::kResolved;
    s.started = parse_utc(q.getColumn(8).getString());
    s.resolved_at = column_time(q.getColumn(9));
    s.last_notified = column_time(q.getColumn(10));
    s.silenced = q.getColumn(11).getInt() != 0;
    out.push_back(std::move(s));
  }
  return out;
}

std::size_t History::apply_alerts(const std::vector<AlertState>& states,
                                  const std::vector<std::int64_t>& ended_silences,
                                  const std::vector<OutboxEntry>& mail) {
  SQLite::Transaction transaction(impl_->db);
  SQLite::Statement upsert(
      impl_->db,
      "INSERT INTO alerts (fingerprint, kind, subject, scope, team, summary, detail, status, "
      "started, resolved_at, last_notified, silenced) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (fingerprint) DO UPDATE SET kind = excluded.kind, subject = excluded.subject, "
      "scope = excluded.scope, team = excluded.team, summary = excluded.summary, "
      "detail = excluded.detail, status = excluded.status, started = excluded.started, "
      "resolved_at = excluded.resolved_at, last_notified = excluded.last_notified, "
      "silenced = excluded.silenced");
  for (const AlertState& s : states) {
    upsert.bind(1, s.fingerprint);
    upsert.bind(2, kind_name(s.condition.kind));
    upsert.bind(3, s.condition.subject);
    upsert.bind(4, s.condition.scope);
    upsert.bind(5, s.condition.team);
    upsert.bind(6, s.condition.summary);
    upsert.bind(7, s.condition.detail);
    upsert.bind(8, s.status == AlertStatus::kFiring ? "firing" : "resolved");
    upsert.bind(9, format_utc(s.started));
    bind_time(upsert, 10, s.resolved_at);
    bind_time(upsert, 11, s.last_notified);
    upsert.bind(12, s.silenced ? 1 : 0);
    upsert.exec();
    upsert.reset();
  }
  SQLite::Statement end(impl_->db, "UPDATE silences SET ended = 1 WHERE id = ?");
  for (const std::int64_t id : ended_silences) {
    end.bind(1, id);
    end.exec();
    end.reset();
  }
  const std::size_t added = queue_mail_rows(impl_->db, mail);
  transaction.commit();
  return added;
}

std::vector<Silence> History::silences(bool include_ended) const {
  SQLite::Statement q(impl_->db,
                      "SELECT id, rule, scope, reason, who, created, expires, ended FROM silences "
                      "WHERE ?1 OR ended = 0 ORDER BY id");
  q.bind(1, include_ended ? 1 : 0);
  std::vector<Silence> out;
  while (q.executeStep()) {
    Silence s;
    s.id = q.getColumn(0).getInt64();
    s.rule = q.getColumn(1).getString();
    s.scope = q.getColumn(2).getString();
    s.reason = q.getColumn(3).getString();
    s.who = q.getColumn(4).getString();
    s.created = parse_utc(q.getColumn(5).getString());
    s.expires = column_time(q.getColumn(6));
    s.ended = q.getColumn(7).getInt() != 0;
    out.push_back(std::move(s));
  }
  return out;
}

std::int64_t History::add_silence(const Silence& s) {
  SQLite::Statement insert(impl_->db,
                           "INSERT INTO silences (rule, scope, reason, who, created, expires, "
                           "ended) VALUES (?, ?, ?, ?, ?, ?, 0)");
  insert.bind(1, s.rule);
  insert.bind(2, s.scope);
  insert.bind(3, s.reason);
  insert.bind(4, s.who);
  insert.bind(5, format_utc(s.created));
  bind_time(insert, 6, s.expires);
  insert.exec();
  return impl_->db.getLastInsertRowid();
}

bool History::end_silence(std::int64_t id) {
  SQLite::Statement end(impl_->db, "UPDATE silences SET ended = 1 WHERE id = ? AND ended = 0");
  end.bind(1, id);
  return end.exec() == 1;
}

}  // namespace storage
