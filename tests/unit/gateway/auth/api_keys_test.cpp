// API keys: hashes only in the config, a match by SHA-256 over every entry.
#include <openssl/evp.h>

#include <gtest/gtest.h>

#include "gateway/auth/authenticator.hpp"

namespace mcpgw::auth {
namespace {

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EXPECT_EQ(EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr), 1);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int index = 0; index < length; ++index) {
    out.push_back(kDigits[digest[index] >> 4]);
    out.push_back(kDigits[digest[index] & 0x0f]);
  }
  return out;
}

config::ApiKeyConfig key(std::string name, std::string_view secret) {
  config::ApiKeyConfig out;
  out.name = std::move(name);
  out.sha256_hex = sha256_hex(secret);
  return out;
}

TEST(ApiKeyTable, RightKeysMatchTheirNames) {
  const ApiKeyTable table({key("ci", "ci-secret-0123456789"), key("ops", "ops-secret-abcdef"),
                           key("bot", "bot-secret-zyxwv")});
  EXPECT_FALSE(table.empty());
  EXPECT_EQ(table.match("ci-secret-0123456789"), "ci");
  EXPECT_EQ(table.match("ops-secret-abcdef"), "ops");
  EXPECT_EQ(table.match("bot-secret-zyxwv"), "bot");  // the last entry, after two misses
}

TEST(ApiKeyTable, WrongKeysDoNotMatch) {
  const ApiKeyTable table({key("ci", "ci-secret-0123456789")});
  EXPECT_FALSE(table.match("ci-secret-012345678"));    // a prefix
  EXPECT_FALSE(table.match("ci-secret-01234567890"));  // longer
  EXPECT_FALSE(table.match("CI-SECRET-0123456789"));   // case matters
  EXPECT_FALSE(table.match(""));
  // The hash itself is not the key.
  EXPECT_FALSE(table.match(sha256_hex("ci-secret-0123456789")));
}

TEST(ApiKeyTable, RevokedKeyNoLongerMatches) {
  const ApiKeyTable before({key("ci", "ci-secret"), key("old", "old-secret")});
  const ApiKeyTable after({key("ci", "ci-secret")});
  EXPECT_EQ(before.match("old-secret"), "old");
  EXPECT_FALSE(after.match("old-secret"));
  EXPECT_EQ(after.match("ci-secret"), "ci");
}

TEST(ApiKeyTable, EmptyTableAndInvalidHashes) {
  const ApiKeyTable empty({});
  EXPECT_TRUE(empty.empty());
  EXPECT_FALSE(empty.match("anything"));
  config::ApiKeyConfig broken;
  broken.name = "broken";
  broken.sha256_hex = "not a hash";
  config::ApiKeyConfig short_hash = key("short", "x");
  short_hash.sha256_hex.pop_back();
  const ApiKeyTable table({broken, short_hash, key("good", "good-secret")});
  EXPECT_EQ(table.match("good-secret"), "good");
  EXPECT_FALSE(table.match("not a hash"));
  EXPECT_FALSE(table.match("x"));
}

TEST(ApiKeyTable, KeysWithAnyBytes) {
  const std::string binary("\0\xff\x01 key\n", 8);
  const ApiKeyTable table({key("binary", binary), key("long", std::string(10000, 'k'))});
  EXPECT_EQ(table.match(binary), "binary");
  EXPECT_EQ(table.match(std::string(10000, 'k')), "long");
  EXPECT_FALSE(table.match(std::string(9999, 'k')));
}

}  // namespace
}  // namespace mcpgw::auth
