#include "gateway/mux/cursor.hpp"

#include <gtest/gtest.h>

#include <string>

#include "gateway/mux/digest.hpp"

namespace mcpgw::mux {
namespace {

const std::vector<std::string> kBackends = {"alpha", "beta", "gamma"};

CompositeCursor sample() {
  return CompositeCursor{"tools/list", {std::string("a-page-2"), std::nullopt, std::string("")}};
}

TEST(MuxCursor, RoundTripsEveryBackendState) {
  const CursorCodec codec(kBackends);
  const auto token = codec.encode(sample());
  ASSERT_TRUE(token);
  // Opaque and URL-safe.
  EXPECT_EQ(
      token->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  EXPECT_EQ(token->find("a-page-2"), std::string::npos);
  const auto decoded = codec.decode(*token, "tools/list");
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_EQ(*decoded, sample());  // the empty cursor stays a cursor, not "done"
}

TEST(MuxCursor, EveryTamperedByteIsRejected) {
  const CursorCodec codec(kBackends);
  const auto token = *codec.encode(sample());
  for (std::size_t index = 0; index < token.size(); ++index) {
    auto tampered = token;
    tampered[index] = tampered[index] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(codec.decode(tampered, "tools/list")) << "position " << index;
  }
  EXPECT_FALSE(codec.decode(token.substr(0, token.size() - 1), "tools/list"));
  EXPECT_FALSE(codec.decode(token + "A", "tools/list"));
  EXPECT_FALSE(codec.decode("", "tools/list"));
  EXPECT_FALSE(codec.decode("not a cursor!", "tools/list"));
  EXPECT_FALSE(codec.decode(base64url_encode("{\"v\":1}0123456789abcdef"), "tools/list"));
}

TEST(MuxCursor, RejectsCursorsOfAnotherListGatewayOrConfiguration) {
  const CursorCodec codec(kBackends);
  const auto token = *codec.encode(sample());
  EXPECT_FALSE(codec.decode(token, "prompts/list"));
  const CursorCodec other_process(kBackends);  // another random key
  EXPECT_FALSE(other_process.decode(token, "tools/list"));
  const std::vector<std::uint8_t> key(32, 7);
  const CursorCodec fixed(kBackends, key);
  const CursorCodec other_config({"alpha", "beta", "delta"}, key);
  const auto fixed_token = *fixed.encode(sample());
  EXPECT_TRUE(fixed.decode(fixed_token, "tools/list"));
  const auto error = other_config.decode(fixed_token, "tools/list");
  ASSERT_FALSE(error);
  EXPECT_NE(error.error().find("configuration"), std::string::npos);
}

TEST(MuxCursor, ACursorWithNothingPendingIsInvalid) {
  const CursorCodec codec(kBackends);
  const auto token =
      codec.encode(CompositeCursor{"tools/list", {std::nullopt, std::nullopt, std::nullopt}});
  ASSERT_TRUE(token);
  EXPECT_FALSE(codec.decode(*token, "tools/list"));
}

TEST(MuxCursor, SizesAreBounded) {
  const CursorCodec codec(kBackends);
  EXPECT_FALSE(codec.decode(std::string(kMaxCursorTokenBytes + 1, 'A'), "tools/list"));
  const std::string huge(kMaxCursorTokenBytes, 'x');
  EXPECT_FALSE(codec.encode(CompositeCursor{"tools/list", {huge, std::nullopt, std::nullopt}}));
  // A backend cursor over the per-backend limit is refused on the way back in.
  const std::string long_cursor(kMaxBackendCursorBytes + 1, 'y');
  const auto token =
      codec.encode(CompositeCursor{"tools/list", {long_cursor, std::nullopt, std::nullopt}});
  ASSERT_TRUE(token);
  EXPECT_FALSE(codec.decode(*token, "tools/list"));
}

TEST(MuxBase64Url, RoundTripsAndIsStrict) {
  for (const std::string& text : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba",
                                                          "foobar", std::string("\0\xff\xfe", 3)}) {
    std::string back;
    ASSERT_TRUE(base64url_decode(base64url_encode(text), back));
    EXPECT_EQ(back, text);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  std::string out;
  EXPECT_FALSE(base64url_decode("Zm9v=", out));  // padding
  EXPECT_FALSE(base64url_decode("Zm9v+", out));  // standard alphabet
  EXPECT_FALSE(base64url_decode("Z", out));      // impossible length
  EXPECT_FALSE(base64url_decode("Zh", out));     // non-zero trailing bits
  EXPECT_TRUE(base64url_decode("Zg", out));
  EXPECT_EQ(out, "f");
}

}  // namespace
}  // namespace mcpgw::mux
