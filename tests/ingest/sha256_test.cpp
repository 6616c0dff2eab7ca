#include <catch2/catch.hpp>
#include <string>

#include "ingest/ingest.h"
#include "tests/support/temp_dir.h"

TEST_CASE("sha256_hex matches the FIPS 180 test vectors", "[ingest][sha256]") {
  auto [input, digest] = GENERATE(table<std::string, std::string>({
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmn"
       "o"
       "pqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
      {std::string(1'000'000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  }));
  CAPTURE(input.size());
  CHECK(ingest::sha256_hex(input) == digest);
}

TEST_CASE("sha256_hex is right on either side of a block boundary", "[ingest][sha256]") {
  // Worked out with `printf '%0*d' N 0 | tr 0 a | sha256sum`.
  auto [length, digest] = GENERATE(table<std::size_t, std::string>({
      {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
  }));
  CHECK(ingest::sha256_hex(std::string(length, 'a')) == digest);
}

TEST_CASE("file_sha256 hashes a file's bytes and throws when it cannot read it",
          "[ingest][sha256]") {
  test_support::TempDir dir;
  const auto file = dir.write("cases.csv", "abc");
  CHECK(ingest::file_sha256(file) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK_THROWS_WITH(ingest::file_sha256(dir / "absent.csv"),
                    "cannot read " + (dir / "absent.csv").string() + ": No such file or directory");
}

TEST_CASE("file_sha256 hashes a file of several read blocks", "[ingest][sha256]") {
  // 3 MiB + 17 bytes of "abc...zabc...": worked out with Python's hashlib.
  std::string bytes(3 * (std::size_t{1} << 20) + 17, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>('a' + i % 26);
  }
  test_support::TempDir dir;
  const auto file = dir.write("big.csv", bytes);
  CHECK(ingest::file_sha256(file) ==
        "15de0e9f826cbe99d3dd26e87d04835283f33dbeaa3140a25c3476284c930011");
  CHECK(ingest::sha256_hex(bytes) == ingest::file_sha256(file));
}
