#include <catch2/catch.hpp>
#include <stdexcept>

#include "daemon/control/command_table.h"

namespace {

using service::Answer;
using service::CommandTable;
using service::Peer;
using service::Permission;
using service::Request;
using service::ResultCode;

Peer peer_with(Permission permission) {
  Peer peer;
  peer.uid = 1001;
  peer.gid = 1001;
  peer.user = "alice";
  peer.permission = permission;
  return peer;
}

CommandTable test_table() {
  CommandTable table;
  table.add("echo", Permission::kRead, [](const Request& request, const Peer& peer) {
    const auto word = service::string_argument(request, "word");
    return Answer{ResultCode::kSuccess, word.value_or("") + " from " + peer.user, nullptr};
  });
  table.add("shutdown", Permission::kWrite, [](const Request&, const Peer&) {
    return Answer{ResultCode::kSuccess, "shutting down", nullptr};
  });
  table.add("broken", Permission::kRead, [](const Request&, const Peer&) -> Answer {
    throw std::runtime_error("database is locked");
  });
  table.add("counts", Permission::kRead, [](const Request&, const Peer&) {
    return Answer{ResultCode::kSuccess, "1 rule", boost::json::object{{"unallocated", 3}}};
  });
  return table;
}

}  // namespace

TEST_CASE("handle_line answers each kind of request line with a whole Kea-shaped reply",
          "[daemon][control]") {
  auto [line, expected] = GENERATE(table<std::string, std::string>({
      {R"({"command": "echo", "arguments": {"word": "hi"}, "id": 7})",
       R"({"result":0,"text":"hi from alice","id":7})"},
      {R"({"command": "echo", "id": "abc"})", R"({"result":0,"text":" from alice","id":"abc"})"},
      {R"({"command": "counts"})", R"({"result":0,"text":"1 rule","arguments":{"unallocated":3}})"},
      {R"({"command": "frobnicate", "id": 1})",
       R"({"result":2,"text":"unknown command 'frobnicate'","id":1})"},
      {R"({"command": "broken", "id": 2})",
       R"({"result":1,"text":"broken failed: database is locked","id":2})"},
      {R"({"command": "echo", "arguments": {"word": 5}})",
       R"({"result":1,"text":"echo failed: argument \"word\" must be a string"})"},
      {R"({"command": "echo", "arguments": [1]})",
       R"({"result":1,"text":"\"arguments\" must be a JSON object"})"},
      {R"(["echo"])",
       R"({"result":1,"text":"a request is a JSON object with a \"command\" string"})"},
      {R"({"id": 3})",
       R"({"result":1,"text":"a request is a JSON object with a \"command\" string","id":3})"},
      {"hello", R"({"result":1,"text":"not JSON: syntax error"})"},
      // 1e999 reads as infinity, which cannot be written back as JSON: refused, id not echoed
      // (found by the control fuzzer).
      {R"({"command": "echo", "id": 1e999})",
       R"({"result":1,"text":"a number in the request is too large"})"},
      {R"({"command": "echo", "arguments": {"n": [1, {"m": -1e999}]}, "id": 8})",
       R"({"result":1,"text":"a number in the request is too large"})"},
      {R"({"command": "echo", "id": 1e308})", R"({"result":0,"text":" from alice","id":1E308})"},
      {"", R"({"result":1,"text":"not JSON: incomplete JSON"})"},
  }));
  CAPTURE(line);

  const auto reply = test_table().handle_line(line, peer_with(Permission::kRead));

  CHECK(reply.line == expected);
  CHECK_FALSE(reply.close);
}

TEST_CASE("handle_line refuses write commands to readers and everything to strangers",
          "[daemon][control]") {
  const CommandTable table = test_table();

  SECTION("a reader may not shut the daemon down") {
    const auto reply =
        table.handle_line(R"({"command": "shutdown", "id": 4})", peer_with(Permission::kRead));
    CHECK(reply.line == R"({"result":1,"text":"permission denied","id":4})");
    CHECK(reply.close);
    CHECK(reply.command == "shutdown");
    CHECK(reply.result == ResultCode::kError);
  }
  SECTION("an administrator may") {
    const auto reply =
        table.handle_line(R"({"command": "shutdown"})", peer_with(Permission::kWrite));
    CHECK(reply.line == R"({"result":0,"text":"shutting down"})");
    CHECK_FALSE(reply.close);
  }
  SECTION("a peer outside the groups may not even read") {
    const auto reply = table.handle_line(R"({"command": "echo"})", peer_with(Permission::kNone));
    CHECK(reply.line == R"({"result":1,"text":"permission denied"})");
    CHECK(reply.close);
  }
}

TEST_CASE("handle_line reports the command and result for the audit", "[daemon][control]") {
  const CommandTable table = test_table();
  const auto unknown = table.handle_line(R"({"command": "nope"})", peer_with(Permission::kRead));
  CHECK(unknown.command == "nope");
  CHECK(unknown.result == ResultCode::kUnsupported);
  const auto garbage = table.handle_line("{{{", peer_with(Permission::kRead));
  CHECK(garbage.command.empty());
  CHECK(garbage.result == ResultCode::kError);
}

TEST_CASE("permission_for gives write to root, the service and admins, read to the group",
          "[daemon][control]") {
  const service::AccessPolicy policy{500, 600, 700};
  auto [uid, groups, expected] =
      GENERATE(table<std::int64_t, std::vector<std::int64_t>, Permission>({
          {0, {0}, Permission::kWrite},
          {500, {500}, Permission::kWrite},
          {1001, {1001, 700}, Permission::kWrite},
          {1001, {1001, 600}, Permission::kRead},
          {1001, {600, 700}, Permission::kWrite},
          {1001, {1001}, Permission::kNone},
          {65534, {65534}, Permission::kNone},
      }));
  CAPTURE(uid);
  CHECK(service::permission_for(uid, groups, policy) == expected);
}

TEST_CASE("permission_for without groups configured admits only root and the service",
          "[daemon][control]") {
  const service::AccessPolicy policy{500, std::nullopt, std::nullopt};
  CHECK(service::permission_for(1001, {1001, 600}, policy) == Permission::kNone);
  CHECK(service::permission_for(500, {500}, policy) == Permission::kWrite);
}

TEST_CASE("user_name names root and falls back to the uid", "[daemon][control]") {
  CHECK(service::user_name(0) == "root");
  CHECK(service::user_name(2147480000) == "uid 2147480000");
  CHECK_FALSE(service::group_id("no-such-group-casewatch"));
  CHECK(service::group_id("root") == 0);
}

TEST_CASE("format_reply copies cached arguments in as they are, before the id",
          "[daemon][control]") {
  Answer answer{ResultCode::kSuccess, "2 findings \"cached\"", nullptr};
  answer.serialized_arguments = std::make_shared<const std::string>(R"({"findings":[1,2]})");

  CHECK(service::format_reply(answer, boost::json::value(7)) ==
        R"({"result":0,"text":"2 findings \"cached\"","arguments":{"findings":[1,2]},"id":7})");
  CHECK(service::format_reply(Answer{ResultCode::kEmpty, "none", nullptr}, nullptr) ==
        R"({"result":3,"text":"none"})");
  CHECK(service::format_reply(Answer{ResultCode::kSuccess, "x", boost::json::object{{"a", 1}}},
                              boost::json::value("abc")) ==
        R"({"result":0,"text":"x","arguments":{"a":1},"id":"abc"})");
}

TEST_CASE("id_argument takes a whole number given as a number or as digits", "[daemon][control]") {
  const auto request_with = [](boost::json::value id) {
    Request request;
    request.command = "unsilence";
    request.arguments["id"] = std::move(id);
    return request;
  };

  CHECK(service::id_argument(request_with(12), "id") == 12);
  CHECK(service::id_argument(request_with("12"), "id") == 12);
  CHECK(service::id_argument(request_with(nullptr), "id") == std::nullopt);
  CHECK(service::id_argument(Request{}, "id") == std::nullopt);
  const auto [value, message] = GENERATE(table<boost::json::value, std::string>({
      {boost::json::value("12a"), "argument \"id\" must be a whole number"},
      {boost::json::value(""), "argument \"id\" must be a whole number"},
      {boost::json::value(-3), "argument \"id\" must be a whole number"},
      {boost::json::value(1.5), "argument \"id\" must be a whole number"},
      {boost::json::value(true), "argument \"id\" must be a whole number"},
  }));
  CHECK_THROWS_WITH(service::id_argument(request_with(value), "id"), message);
}
