#include "storage/key_table.h"

#include <catch2/catch.hpp>
#include <string>

TEST_CASE("the key table finds every key it holds across growth, and no other", "[storage]") {
  storage::KeyTable table;
  const auto hash_of = [](const std::string& key) {
    return static_cast<std::uint64_t>(key.size() % 3);  // many collisions on purpose
  };
  for (int i = 0; i < 5000; ++i) {
    const std::string key = "K" + std::to_string(i);
    table.add(key, hash_of(key), static_cast<std::uint64_t>(i), i + 100);
  }
  for (int i = 0; i < 5000; i += 499) {
    const std::string key = "K" + std::to_string(i);
    const auto* entry = table.find(key, hash_of(key));
    REQUIRE(entry != nullptr);
    CHECK(entry->content_hash == static_cast<std::uint64_t>(i));
    CHECK(entry->row_id == i + 100);
    CHECK(table.key(*entry) == key);
  }
  CHECK(table.find("K5000", hash_of("K5000")) == nullptr);
  CHECK(table.entries().size() == 5000);
}

TEST_CASE("an empty key table finds nothing", "[storage]") {
  storage::KeyTable table;
  CHECK(table.find("K1", 42) == nullptr);
}

TEST_CASE("a key table reserved for fewer keys than it gets still finds them all", "[storage]") {
  storage::KeyTable table;
  table.reserve(100);
  for (int i = 0; i < 3000; ++i) {
    const std::string key = "K" + std::to_string(i);
    table.add(key, static_cast<std::uint64_t>(i) * 7919, static_cast<std::uint64_t>(i), i);
  }
  table.reserve(10);  // smaller than it holds: changes nothing
  for (int i = 0; i < 3000; i += 7) {
    const std::string key = "K" + std::to_string(i);
    const auto* entry = table.find(key, static_cast<std::uint64_t>(i) * 7919);
    REQUIRE(entry != nullptr);
    CHECK(entry->row_id == i);
  }
  CHECK(table.find("K3000", 3000ULL * 7919) == nullptr);
}

TEST_CASE("keys whose hashes share a slot but differ in the high half are told apart",
          "[storage]") {
  storage::KeyTable table;
  const std::uint64_t low = 0x1234;  // same slot for every key below
  for (std::uint64_t i = 0; i < 50; ++i) {
    table.add("K" + std::to_string(i), (i << 32) | low, i, static_cast<std::int64_t>(i));
  }
  for (std::uint64_t i = 0; i < 50; ++i) {
    table.prefetch((i << 32) | low);
    const auto* entry = table.find("K" + std::to_string(i), (i << 32) | low);
    REQUIRE(entry != nullptr);
    CHECK(entry->row_id == static_cast<std::int64_t>(i));
  }
  CHECK(table.find("K7", (8ULL << 32) | low) == nullptr);  // right key, wrong hash
  CHECK(table.find("K50", (50ULL << 32) | low) == nullptr);
}

TEST_CASE("keys loaded in a row are all found, through growth and mixed with add()", "[storage]") {
  storage::KeyTable table;
  const auto hash_of = [](int i) { return static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ULL; };
  for (int i = 0; i < 5000; ++i) {
    table.load("K" + std::to_string(i), hash_of(i), 0, i);
  }
  table.add("extra", hash_of(99999), 0, 99999);
  for (int i = 5000; i < 5010; ++i) {
    table.load("K" + std::to_string(i), hash_of(i), 0, i);
  }
  for (int i = 0; i < 5010; ++i) {
    const auto* entry = table.find("K" + std::to_string(i), hash_of(i));
    REQUIRE(entry != nullptr);
    CHECK(entry->row_id == i);
  }
  CHECK(table.find("extra", hash_of(99999)) != nullptr);
  CHECK(table.find("K5010", hash_of(5010)) == nullptr);
  CHECK(table.entries().size() == 5011);
}
