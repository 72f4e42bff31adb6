#include "gateway/mux/naming.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "mux_harness.hpp"

namespace mcpgw::mux {
namespace {

using testing::WarningCounter;

bool matches_provider_pattern(const std::string& name) {
  static const std::regex kPattern("^[A-Za-z0-9_-]{1,64}$");
  return std::regex_match(name, kPattern);
}

TEST(MuxNaming, PrefixingAppliesPerMode) {
  EXPECT_FALSE(prefixing_applies(config::PrefixMode::automatic, 1));
  EXPECT_TRUE(prefixing_applies(config::PrefixMode::automatic, 2));
  EXPECT_TRUE(prefixing_applies(config::PrefixMode::always, 1));
  EXPECT_FALSE(prefixing_applies(config::PrefixMode::never, 3));
}

TEST(MuxNaming, SanitizeReplacesEveryForeignCharacter) {
  EXPECT_EQ(sanitize_name("read.file"), "read_file");
  EXPECT_EQ(sanitize_name("a:b/c d"), "a_b_c_d");
  EXPECT_EQ(sanitize_name("caf\xc3\xa9"), "caf__");  // both bytes of the UTF-8 sequence
  EXPECT_EQ(sanitize_name(""), "_");
  EXPECT_EQ(sanitize_name("ok_Name-2"), "ok_Name-2");
  EXPECT_TRUE(is_valid_exposed_name("ok_Name-2"));
  EXPECT_FALSE(is_valid_exposed_name(""));
  EXPECT_FALSE(is_valid_exposed_name("a.b"));
  EXPECT_FALSE(is_valid_exposed_name(std::string(65, 'a')));
}

TEST(MuxNaming, PrefixedNamesRoundTripAndParseBeforeAnyList) {
  NameTable table({"alpha", "beta"}, "__", true);
  EXPECT_EQ(table.expose(NameKind::tool, 0, "echo"), "alpha__echo");
  EXPECT_EQ(table.expose(NameKind::tool, 1, "echo"), "beta__echo");
  EXPECT_EQ(table.resolve(NameKind::tool, "alpha__echo"), (NameTarget{0, "echo"}));
  // Never listed, still routable: an untouched prefixed name is parsed.
  EXPECT_EQ(table.resolve(NameKind::tool, "beta__search__deep"), (NameTarget{1, "search__deep"}));
  EXPECT_FALSE(table.resolve(NameKind::tool, "gamma__echo"));
  EXPECT_FALSE(table.resolve(NameKind::tool, "echo"));
  EXPECT_FALSE(table.resolve(NameKind::tool, "alpha__"));
  // Kinds are separate namespaces.
  EXPECT_EQ(table.expose(NameKind::prompt, 0, "echo"), "alpha__echo");
}

TEST(MuxNaming, SeparatorIsConfigurable) {
  NameTable table({"fs", "web"}, "-", true);
  EXPECT_EQ(table.expose(NameKind::tool, 1, "get"), "web-get");
  EXPECT_EQ(table.resolve(NameKind::tool, "fs-read"), (NameTarget{0, "read"}));
}

TEST(MuxNaming, SanitisedNamesResolveThroughTheTable) {
  NameTable table({"alpha", "beta"}, "__", true);
  const auto exposed = table.expose(NameKind::tool, 0, "read.file");
  ASSERT_TRUE(exposed);
  EXPECT_EQ(*exposed, "alpha__read_file");
  EXPECT_EQ(table.resolve(NameKind::tool, "alpha__read_file"), (NameTarget{0, "read.file"}));
}

TEST(MuxNaming, NoPrefixWithOneBackendPassesNamesThrough) {
  NameTable table({"only"}, "__", false);
  EXPECT_EQ(table.expose(NameKind::tool, 0, "echo"), "echo");
  EXPECT_EQ(table.resolve(NameKind::tool, "anything"), (NameTarget{0, "anything"}));
  EXPECT_EQ(table.expose(NameKind::tool, 0, "a.b"), "a_b");
  EXPECT_EQ(table.resolve(NameKind::tool, "a_b"), (NameTarget{0, "a.b"}));
}

TEST(MuxNaming, NoPrefixWithSeveralBackendsNeedsAList) {
  NameTable table({"alpha", "beta"}, "__", false);
  EXPECT_FALSE(table.resolve(NameKind::tool, "echo"));
  EXPECT_EQ(table.expose(NameKind::tool, 1, "echo"), "echo");
  EXPECT_EQ(table.resolve(NameKind::tool, "echo"), (NameTarget{1, "echo"}));
}

TEST(MuxNaming, LongNamesAreTruncatedWithADeterministicHash) {
  const std::string original(100, 'x');
  NameTable first({"alpha", "beta"}, "__", true);
  NameTable second({"alpha", "beta"}, "__", true);
  const auto a = first.expose(NameKind::tool, 0, original);
  const auto again = second.expose(NameKind::tool, 0, original);
  const auto b = first.expose(NameKind::tool, 1, original);
  ASSERT_TRUE(a && again && b);
  EXPECT_EQ(*a, *again);
  EXPECT_NE(*a, *b);  // the hash covers the backend
  EXPECT_EQ(a->size(), 64u);
  EXPECT_TRUE(matches_provider_pattern(*a));
  EXPECT_EQ(a->substr(0, 55), ("alpha__" + original).substr(0, 55));
  EXPECT_EQ((*a)[55], '_');
  EXPECT_EQ(a->substr(56), name_hash("alpha", original));
  EXPECT_EQ(first.resolve(NameKind::tool, *a), (NameTarget{0, original}));
  // Two long names sharing their first 55 characters still differ.
  const auto c = first.expose(NameKind::tool, 0, original + "y");
  ASSERT_TRUE(c);
  EXPECT_NE(*a, *c);
}

TEST(MuxNaming, HashIsStable) {
  // Pinned: exposed names must not change between releases.
  // SHA-256("alpha\0tool") and SHA-256("alpha\0tool\0" "1"), first four bytes.
  EXPECT_EQ(name_hash("alpha", "tool"), "2f397fdf");
  EXPECT_EQ(name_hash("alpha", "tool", 1), "a7294311");
  EXPECT_NE(name_hash("alpha", "tool"), name_hash("alph", "atool"));
  EXPECT_NE(name_hash("alpha", "tool", 1), name_hash("alpha", "tool"));
}

TEST(MuxNaming, EveryExposedNameMatchesTheProviderPattern) {
  NameTable table({"alpha", "b"}, "__", true);
  for (const std::string& original :
       std::vector<std::string>{"", "a", "a.b.c", "sp ace", "\xe2\x9c\x93", std::string(63, 'q'),
                                std::string(300, '.'), std::string("nul\0byte", 8)}) {
    const auto exposed = table.expose(NameKind::tool, 1, original);
    ASSERT_TRUE(exposed);
    EXPECT_TRUE(matches_provider_pattern(*exposed)) << *exposed;
    EXPECT_EQ(table.resolve(NameKind::tool, *exposed), (NameTarget{1, original}));
  }
}

TEST(MuxNaming, UntouchedNameWinsACollisionWhicheverComesFirst) {
  WarningCounter warnings;
  for (const bool sanitised_first : {true, false}) {
    NameTable table({"alpha", "beta"}, "__", true);
    std::optional<std::string> dotted;
    std::optional<std::string> plain;
    if (sanitised_first) {
      dotted = table.expose(NameKind::tool, 0, "x.y");
      EXPECT_EQ(dotted, "alpha__x_y");
      plain = table.expose(NameKind::tool, 0, "x_y");
      dotted = table.expose(NameKind::tool, 0, "x.y");  // re-read after the reassignment
    } else {
      plain = table.expose(NameKind::tool, 0, "x_y");
      dotted = table.expose(NameKind::tool, 0, "x.y");
    }
    ASSERT_TRUE(plain && dotted);
    EXPECT_EQ(*plain, "alpha__x_y");
    EXPECT_EQ(*dotted, "alpha__x_y_" + name_hash("alpha", "x.y"));
    EXPECT_EQ(table.resolve(NameKind::tool, *plain), (NameTarget{0, "x_y"}));
    EXPECT_EQ(table.resolve(NameKind::tool, *dotted), (NameTarget{0, "x.y"}));
  }
  EXPECT_GE(warnings.count("alpha__x_y"), 1u);
}

TEST(MuxNaming, ConfigOrderWinsACollisionWithoutPrefixes) {
  WarningCounter warnings;
  for (const bool later_first : {true, false}) {
    NameTable table({"alpha", "beta"}, "__", false);
    std::optional<std::string> from_alpha;
    std::optional<std::string> from_beta;
    if (later_first) {
      from_beta = table.expose(NameKind::tool, 1, "search");
      from_alpha = table.expose(NameKind::tool, 0, "search");
      from_beta = table.expose(NameKind::tool, 1, "search");
    } else {
      from_alpha = table.expose(NameKind::tool, 0, "search");
      from_beta = table.expose(NameKind::tool, 1, "search");
    }
    ASSERT_TRUE(from_alpha && from_beta);
    EXPECT_EQ(*from_alpha, "search");
    EXPECT_EQ(*from_beta, "search_" + name_hash("beta", "search"));
    EXPECT_EQ(table.resolve(NameKind::tool, "search"), (NameTarget{0, "search"}));
    EXPECT_EQ(table.resolve(NameKind::tool, *from_beta), (NameTarget{1, "search"}));
  }
  EXPECT_GE(warnings.count("'search'"), 1u);
}

TEST(MuxNaming, ACollisionIsLoggedOnce) {
  WarningCounter warnings;
  NameTable table({"alpha", "beta"}, "__", false);
  for (int round = 0; round < 5; ++round) {
    table.expose(NameKind::tool, 0, "same");
    table.expose(NameKind::tool, 1, "same");
    table.invalidate(NameKind::tool, 1);  // listed again after a list_changed
  }
  EXPECT_EQ(warnings.count("'same'"), 1u);
}

TEST(MuxNaming, InvalidateForgetsOneBackend) {
  NameTable table({"alpha", "beta"}, "__", true);
  table.expose(NameKind::tool, 0, "a.b");
  table.expose(NameKind::tool, 1, "c.d");
  table.invalidate(NameKind::tool, 0);
  // A sanitised name is gone with its backend's list; untouched ones still parse.
  EXPECT_EQ(table.resolve(NameKind::tool, "alpha__a_b"), (NameTarget{0, "a_b"}));
  EXPECT_EQ(table.resolve(NameKind::tool, "beta__c_d"), (NameTarget{1, "c.d"}));
  EXPECT_EQ(table.size(), 1u);
}

TEST(MuxNaming, TableIsBounded) {
  NameTable table({"alpha"}, "__", false, 16);
  for (int index = 0; index < 100; ++index) {
    table.expose(NameKind::tool, 0, "t." + std::to_string(index));
  }
  EXPECT_LE(table.size(), 16u);
  // The newest names are still known.
  EXPECT_EQ(table.resolve(NameKind::tool, "t_99"), (NameTarget{0, "t.99"}));
}

TEST(MuxUriCodec, PrefixesTheSchemeReversibly) {
  UriCodec codec({"alpha", "Beta_2", "9lives"}, true);
  EXPECT_EQ(codec.expose(0, "file:///tmp/a.txt"), "alpha+file:///tmp/a.txt");
  EXPECT_EQ(codec.expose(1, "test://x"), "beta.2+test://x");
  EXPECT_EQ(codec.expose(2, "x"), "x9lives+x");
  for (std::size_t backend = 0; backend < 3; ++backend) {
    for (const std::string uri : {"file:///a+b", "test://template/{id}/data", "relative", ""}) {
      const auto exposed = codec.expose(backend, uri);
      const auto back = codec.resolve(exposed);
      ASSERT_TRUE(back) << exposed;
      EXPECT_EQ(back->first, backend);
      EXPECT_EQ(back->second, uri);
    }
  }
  // Schemes are case-insensitive.
  EXPECT_EQ(codec.resolve("ALPHA+file:///x")->first, 0u);
  EXPECT_FALSE(codec.resolve("gamma+file:///x"));
  EXPECT_FALSE(codec.resolve("file:///x"));
  EXPECT_FALSE(codec.resolve("+file:///x"));
}

TEST(MuxUriCodec, TemplatesStillExpandToRoutableUris) {
  UriCodec codec({"fs", "web"}, true);
  const auto exposed_template = codec.expose(1, "test://template/{id}/data");
  EXPECT_EQ(exposed_template, "web+test://template/{id}/data");
  // What a client gets by expanding the exposed template.
  const auto back = codec.resolve("web+test://template/42/data");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->first, 1u);
  EXPECT_EQ(back->second, "test://template/42/data");
  // A template starting with an expression.
  EXPECT_EQ(codec.resolve(codec.expose(0, "/srv/x"))->second, "/srv/x");
}

TEST(MuxUriCodec, TokensThatWouldCollideGetAHash) {
  UriCodec codec({"Data", "data"}, true);
  EXPECT_EQ(codec.token(0), "data");
  EXPECT_NE(codec.token(1), "data");
  EXPECT_EQ(codec.resolve(codec.expose(1, "u://1"))->first, 1u);
  EXPECT_EQ(codec.resolve(codec.expose(0, "u://1"))->first, 0u);
}

TEST(MuxUriCodec, NotRewritingLeavesUrisAlone) {
  UriCodec codec({"alpha"}, false);
  EXPECT_EQ(codec.expose(0, "file:///a"), "file:///a");
}

TEST(MuxTaskIds, PrefixedWithSeveralBackendsOnly) {
  TaskIdCodec several({"alpha", "beta"}, "__");
  EXPECT_EQ(several.expose(1, "t-1"), "beta__t-1");
  EXPECT_EQ(several.resolve("beta__t-1"), (std::pair<std::size_t, std::string>{1, "t-1"}));
  EXPECT_EQ(several.resolve("alpha__a__b"), (std::pair<std::size_t, std::string>{0, "a__b"}));
  EXPECT_FALSE(several.resolve("gamma__t"));
  EXPECT_FALSE(several.resolve("t-1"));
  TaskIdCodec one({"alpha"}, "__");
  EXPECT_EQ(one.expose(0, "t-1"), "t-1");
  EXPECT_EQ(one.resolve("t-1"), (std::pair<std::size_t, std::string>{0, "t-1"}));
}

TEST(MuxResourceRoutes, ExactUrisThenLongestTemplatePrefix) {
  ResourceRoutes routes;
  routes.learn_uri("file:///a", 1);
  routes.learn_uri("file:///a", 0);  // the earlier backend keeps a shared URI
  routes.learn_template("test://template/{id}", 1);
  routes.learn_template("test://{any}", 0);
  routes.learn_template("{+everything}", 0);  // no literal text: ignored
  EXPECT_EQ(routes.find("file:///a"), 0u);
  EXPECT_EQ(routes.find("test://template/7"), 1u);
  EXPECT_EQ(routes.find("test://other"), 0u);
  EXPECT_FALSE(routes.find("http://x"));
  routes.invalidate(1);
  EXPECT_EQ(routes.find("test://template/7"), 0u);
}

}  // namespace
}  // namespace mcpgw::mux
