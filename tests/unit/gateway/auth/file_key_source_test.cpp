// The jwks_file key source: read at start, re-read on reload() and on refresh() no more than
// once per jwks_min_refresh, and a bad file never replaces good keys.
#include "gateway/auth/file_key_source.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "gateway/runtime/manual_loop.hpp"
#include "tests/unit/gateway/auth/jwt_test_support.hpp"

namespace mcpgw::auth {
namespace {

using std::chrono::milliseconds;
using test::keys;

class TempFile {
 public:
  TempFile() {
    static int counter = 0;
    path_ = (std::filesystem::temp_directory_path() / ("mcpgw-jwks-" + std::to_string(::getpid()) +
                                                       "-" + std::to_string(++counter) + ".json"))
                .string();
  }
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  void write(const std::string& text) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out << text;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string jwks(std::initializer_list<nlohmann::json> keys) {
  return test::jwks_of(keys).dump();
}

TEST(FileKeySource, LoadsAtStart) {
  runtime::ManualEventLoop loop;
  TempFile file;
  file.write(jwks({test::public_jwk(keys().p256, "a"), test::public_jwk(keys().ed25519, "b")}));
  FileKeySource source(loop, file.path(), milliseconds(30000), "https://idp.test");
  EXPECT_EQ(source.keys(), nullptr);
  source.start();
  ASSERT_NE(source.keys(), nullptr);
  EXPECT_EQ(source.keys()->key_ids(), (std::vector<std::string>{"a", "b"}));
  source.stop();
}

TEST(FileKeySource, RefreshRereadsAtMostOncePerMinRefresh) {
  runtime::ManualEventLoop loop;
  TempFile file;
  file.write(jwks({test::public_jwk(keys().p256, "old")}));
  FileKeySource source(loop, file.path(), milliseconds(30000), "https://idp.test");
  source.start();
  file.write(jwks({test::public_jwk(keys().p256, "new")}));

  int done = 0;
  source.refresh([&] { ++done; });
  EXPECT_EQ(done, 0);  // on the loop, never inside refresh()
  loop.run_ready();
  EXPECT_EQ(done, 1);
  EXPECT_EQ(source.keys()->key_ids(), std::vector<std::string>{"old"});  // too soon

  loop.advance(milliseconds(29999));
  source.refresh([&] { ++done; });
  loop.run_ready();
  EXPECT_EQ(done, 2);
  EXPECT_EQ(source.keys()->key_ids(), std::vector<std::string>{"old"});

  loop.advance(milliseconds(1));
  source.refresh([&] { ++done; });
  loop.run_ready();
  EXPECT_EQ(done, 3);
  EXPECT_EQ(source.keys()->key_ids(), std::vector<std::string>{"new"});

  // The re-read just now starts the next interval.
  file.write(jwks({test::public_jwk(keys().p256, "newer")}));
  source.refresh([&] { ++done; });
  loop.run_ready();
  EXPECT_EQ(source.keys()->key_ids(), std::vector<std::string>{"new"});
  EXPECT_TRUE(source.reload());  // SIGHUP: whatever the time
  EXPECT_EQ(source.keys()->key_ids(), std::vector<std::string>{"newer"});
}

TEST(FileKeySource, BadFilesKeepTheKeysInUse) {
  runtime::ManualEventLoop loop;
  TempFile file;
  file.write(jwks({test::public_jwk(keys().rsa, "good")}));
  FileKeySource source(loop, file.path(), milliseconds(0), "https://idp.test");
  source.start();
  ASSERT_NE(source.keys(), nullptr);
  const auto good = source.keys();

  for (const std::string& bad : {std::string("not json"), std::string(R"({"keys": []})"),
                                 std::string(R"({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})"),
                                 std::string(kMaxJwksBytes + 1, ' ')}) {
    file.write(bad);
    EXPECT_FALSE(source.reload());
    EXPECT_EQ(source.keys(), good);
  }
  std::filesystem::remove(file.path());
  EXPECT_FALSE(source.reload());
  EXPECT_EQ(source.keys(), good);
}

TEST(FileKeySource, MissingFileAtStartMeansNoKeysUntilItAppears) {
  runtime::ManualEventLoop loop;
  TempFile file;
  auto source = make_file_key_source(loop, [&] {
    config::JwtSourceConfig config;
    config.issuer = "https://idp.test";
    config.jwks_file = file.path();
    config.jwks_min_refresh = milliseconds(1000);
    return config;
  }());
  source->start();
  EXPECT_EQ(source->keys(), nullptr);
  file.write(jwks({test::public_jwk(keys().ed25519, "late")}));
  bool done = false;
  source->refresh([&] { done = true; });
  loop.run_ready();
  EXPECT_TRUE(done);
  EXPECT_EQ(source->keys(), nullptr);  // within jwks_min_refresh of the failed read
  loop.advance(milliseconds(1000));
  source->refresh([] {});
  loop.run_ready();
  ASSERT_NE(source->keys(), nullptr);
  EXPECT_EQ(source->keys()->key_ids(), std::vector<std::string>{"late"});
}

}  // namespace
}  // namespace mcpgw::auth
