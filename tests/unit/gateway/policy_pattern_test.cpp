#include "gateway/policy/pattern.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mcpgw::policy {
namespace {

Pattern compiled(const std::string& text, PatternEngine engine = PatternEngine::automatic) {
  auto pattern = Pattern::compile(text, engine);
  EXPECT_TRUE(pattern.has_value()) << text << ": " << (pattern ? "" : pattern.error());
  return pattern ? *pattern : *Pattern::compile("never-used-fallback");
}

std::string error_of(const std::string& text) {
  auto pattern = Pattern::compile(text);
  EXPECT_FALSE(pattern.has_value()) << text << " should be rejected";
  return pattern ? std::string() : pattern.error();
}

TEST(PolicyPattern, ClassifiesSimpleShapesWithoutRegex) {
  EXPECT_EQ(compiled("*").kind(), Pattern::Kind::any);
  EXPECT_EQ(compiled("***").kind(), Pattern::Kind::any);
  EXPECT_EQ(compiled("create_issue").kind(), Pattern::Kind::literal);
  EXPECT_EQ(compiled("create_*").kind(), Pattern::Kind::prefix);
  EXPECT_EQ(compiled("create_**").kind(), Pattern::Kind::prefix);
  EXPECT_EQ(compiled("*_admin").kind(), Pattern::Kind::suffix);
  EXPECT_EQ(compiled("*secret*").kind(), Pattern::Kind::contains);
  EXPECT_EQ(compiled("a*b").kind(), Pattern::Kind::glob);
  EXPECT_EQ(compiled("file?").kind(), Pattern::Kind::glob);
  EXPECT_EQ(compiled("re:abc").kind(), Pattern::Kind::regex);
  // Escaped metacharacters are literal.
  EXPECT_EQ(compiled("a\\*b").kind(), Pattern::Kind::literal);
  EXPECT_EQ(compiled("a\\*b").fixed(), "a*b");
}

TEST(PolicyPattern, LiteralMatchesOnlyItself) {
  const Pattern p = compiled("create_issue");
  EXPECT_TRUE(p.matches("create_issue"));
  EXPECT_FALSE(p.matches("create_issues"));
  EXPECT_FALSE(p.matches("Create_issue"));
  EXPECT_FALSE(p.matches(""));
}

TEST(PolicyPattern, StarMatchesAnyRunIncludingSlashAndEmpty) {
  const Pattern p = compiled("file:///srv/*");
  EXPECT_TRUE(p.matches("file:///srv/"));
  EXPECT_TRUE(p.matches("file:///srv/a/b/c.txt"));
  EXPECT_FALSE(p.matches("file:///etc/passwd"));
  const Pattern middle = compiled("a*z");
  EXPECT_TRUE(middle.matches("az"));
  EXPECT_TRUE(middle.matches("a/b\nz"));
  EXPECT_FALSE(middle.matches("a/b/y"));
  EXPECT_TRUE(compiled("*").matches(""));
  EXPECT_TRUE(compiled("*").matches("anything/at/all"));
  EXPECT_TRUE(compiled("*_admin").matches("db_admin"));
  EXPECT_FALSE(compiled("*_admin").matches("db_admins"));
  EXPECT_TRUE(compiled("*secret*").matches("my_secret_tool"));
  EXPECT_FALSE(compiled("*secret*").matches("my_tool"));
}

TEST(PolicyPattern, QuestionMarkIsExactlyOneCharacter) {
  const Pattern p = compiled("ca?e");
  EXPECT_TRUE(p.matches("cafe"));
  EXPECT_TRUE(p.matches("ca/e"));
  EXPECT_FALSE(p.matches("cae"));
  EXPECT_FALSE(p.matches("caffe"));
  // One character is one UTF-8 code point, not one byte.
  EXPECT_TRUE(compiled("caf?").matches("caf\xC3\xA9"));
}

TEST(PolicyPattern, CharacterClasses) {
  const Pattern set = compiled("v[123]");
  EXPECT_TRUE(set.matches("v1"));
  EXPECT_TRUE(set.matches("v3"));
  EXPECT_FALSE(set.matches("v4"));
  EXPECT_FALSE(set.matches("v12"));

  const Pattern range = compiled("[a-c]x");
  EXPECT_TRUE(range.matches("bx"));
  EXPECT_FALSE(range.matches("dx"));

  const Pattern negated = compiled("[!abc]x");
  EXPECT_TRUE(negated.matches("dx"));
  EXPECT_TRUE(negated.matches("/x"));
  EXPECT_FALSE(negated.matches("ax"));
  EXPECT_FALSE(negated.matches("x"));
  EXPECT_TRUE(compiled("[^abc]x").matches("dx"));

  // "]" first in a class is a member; "-" at either end is a member.
  EXPECT_TRUE(compiled("[]a]").matches("]"));
  EXPECT_TRUE(compiled("[!]a]").matches("b"));
  EXPECT_FALSE(compiled("[!]a]").matches("]"));
  EXPECT_TRUE(compiled("[a-]").matches("-"));
  EXPECT_TRUE(compiled("[-a]").matches("-"));
  // Escapes inside classes, and metacharacters that are plain members.
  EXPECT_TRUE(compiled("[\\]x]").matches("]"));
  EXPECT_TRUE(compiled("[*?.]").matches("."));
  EXPECT_FALSE(compiled("[*?.]").matches("a"));
  // Non-ASCII members and ranges.
  EXPECT_TRUE(compiled("[\xC3\xA9\xC3\xA8]").matches("\xC3\xA8"));
  EXPECT_TRUE(compiled("[\xCE\xB1-\xCF\x89]").matches("\xCE\xBB"));  // alpha..omega, lambda
}

TEST(PolicyPattern, EscapesMakeMetacharactersLiteral) {
  EXPECT_TRUE(compiled("a\\*b").matches("a*b"));
  EXPECT_FALSE(compiled("a\\*b").matches("axb"));
  EXPECT_TRUE(compiled("what\\?").matches("what?"));
  EXPECT_FALSE(compiled("what\\?").matches("whats"));
  EXPECT_TRUE(compiled("\\[x]").matches("[x]"));
  EXPECT_TRUE(compiled("a\\\\b").matches("a\\b"));
  // Regex metacharacters in globs are plain characters.
  EXPECT_TRUE(compiled("a.b+(c)|d*").matches("a.b+(c)|d-and-more"));
  EXPECT_FALSE(compiled("a.b+(c)|d*").matches("axb+(c)|d"));
}

TEST(PolicyPattern, InvalidGlobsAreRejectedWithReasons) {
  EXPECT_EQ(error_of(""), "empty pattern");
  EXPECT_EQ(error_of("[abc"), "unterminated character class");
  EXPECT_EQ(error_of("tool[!"), "unterminated character class");
  EXPECT_EQ(error_of("[]"), "unterminated character class");
  EXPECT_EQ(error_of("abc\\"), "trailing backslash");
  EXPECT_EQ(error_of("[a\\"), "unterminated character class");
  EXPECT_NE(error_of("[z-a]").find("invalid range 'z-a'"), std::string::npos);
  EXPECT_EQ(error_of("bad\xFFutf8"), "pattern is not valid UTF-8");
}

TEST(PolicyPattern, RegexMustMatchTheWholeString) {
  const Pattern p = compiled("re:ab+");
  EXPECT_TRUE(p.matches("abbb"));
  EXPECT_FALSE(p.matches("xabbb"));
  EXPECT_FALSE(p.matches("abbbx"));
  // Alternation is anchored as a whole, not just its first or last branch.
  const Pattern alternation = compiled("re:read|list");
  EXPECT_TRUE(alternation.matches("read"));
  EXPECT_TRUE(alternation.matches("list"));
  EXPECT_FALSE(alternation.matches("readme"));
  EXPECT_FALSE(alternation.matches("blacklist"));
  EXPECT_TRUE(compiled("re:(?i)admin_.*").matches("ADMIN_users"));
}

TEST(PolicyPattern, InvalidRegexIsRejectedWithTheRe2Error) {
  const std::string missing_paren = error_of("re:(abc");
  EXPECT_NE(missing_paren.find("invalid regular expression"), std::string::npos);
  EXPECT_NE(missing_paren.find("missing )"), std::string::npos) << missing_paren;
  EXPECT_EQ(error_of("re:"), "empty regular expression");
  // RE2 rejects backreferences and lookaround (they are not linear time).
  EXPECT_FALSE(Pattern::compile("re:(a)\\1").has_value());
  EXPECT_FALSE(Pattern::compile("re:a(?=b)").has_value());
}

TEST(PolicyPattern, HostileRegexIsAnErrorNotMemoryExhaustion) {
  const std::string too_large = error_of("re:((a{100}){100}){100}");
  EXPECT_FALSE(too_large.empty());
  const std::string nested = error_of("re:(((((x{50}){50}){50}){50}){50})");
  EXPECT_FALSE(nested.empty());
  EXPECT_NE(error_of("re:a{100000}").find("invalid regular expression"), std::string::npos);
  // A huge glob gets the same budget.
  std::string glob;
  for (int i = 0; i < 20000; ++i)
    glob += "[a-z]?";
  EXPECT_NE(error_of(glob).find("too large"), std::string::npos);
}

TEST(PolicyPattern, FastPathsAgreeWithTheRegexTranslation) {
  const std::vector<std::string> patterns = {
      "create_issue", "create_*", "*_admin",     "*secret*", "*",     "a.b",   "a+b",
      "(x)",          "a\\*b",    "caf\xC3\xA9", "x/y/*",    "*.txt", "[abc]", "re:x.*"};
  const std::vector<std::string> values = {"",
                                           "create_issue",
                                           "create_issues",
                                           "create_",
                                           "xcreate_issue",
                                           "db_admin",
                                           "_admin",
                                           "admin",
                                           "the_secret_sauce",
                                           "secret",
                                           "a.b",
                                           "axb",
                                           "a+b",
                                           "aab",
                                           "(x)",
                                           "x",
                                           "a*b",
                                           "caf\xC3\xA9",
                                           "cafe",
                                           "x/y/z/w",
                                           "x/y",
                                           "notes.txt",
                                           "txt",
                                           "b",
                                           "line\nbreak_admin"};
  for (const std::string& text : patterns) {
    const Pattern fast = compiled(text);
    const Pattern slow = compiled(text, PatternEngine::re2_only);
    for (const std::string& value : values) {
      EXPECT_EQ(fast.matches(value), slow.matches(value)) << text << " on " << value;
    }
  }
}

TEST(PolicyPattern, GlobTranslationQuotesRegexMetacharacters) {
  const auto regex = glob_to_regex("a.b*c?[!x-z]");
  ASSERT_TRUE(regex.has_value());
  EXPECT_EQ(*regex, "a\\.b.*c.[^\\x{78}-\\x{7A}]");
  EXPECT_FALSE(glob_to_regex("[oops").has_value());
}

TEST(PolicyPattern, CanonicalFormIgnoresSpelling) {
  EXPECT_EQ(compiled("a\\b").canonical(), compiled("ab").canonical());
  EXPECT_EQ(compiled("x**").canonical(), compiled("x*").canonical());
  EXPECT_NE(compiled("x*").canonical(), compiled("x").canonical());
  EXPECT_NE(compiled("re:x").canonical(), compiled("x").canonical());
}

TEST(PolicyPattern, CoverageIsProvenOnlyWhenCertain) {
  const auto covers = [](const std::string& a, const std::string& b) {
    return compiled(a).covers(compiled(b));
  };
  // Positive cases.
  EXPECT_TRUE(covers("*", "anything"));
  EXPECT_TRUE(covers("*", "re:.*"));
  EXPECT_TRUE(covers("create_*", "create_issue"));
  EXPECT_TRUE(covers("create_*", "create_issue_*"));
  EXPECT_TRUE(covers("create_*", "create_[ab]*"));
  EXPECT_TRUE(covers("create_*", "create_*"));
  EXPECT_TRUE(covers("*_admin", "db_admin"));
  EXPECT_TRUE(covers("*_admin", "*db_admin"));
  EXPECT_TRUE(covers("*sec*", "*secret*"));
  EXPECT_TRUE(covers("*sec*", "secret_*"));
  EXPECT_TRUE(covers("*sec*", "my_secret"));
  EXPECT_TRUE(covers("a?c", "abc"));
  EXPECT_TRUE(covers("re:ab+", "abbb"));
  EXPECT_TRUE(covers("re:ab+", "re:ab+"));
  EXPECT_TRUE(covers("x[ab]*", "x[ab]*"));
  // Negative cases: never a false positive.
  EXPECT_FALSE(covers("create_*", "delete_x"));
  EXPECT_FALSE(covers("create_*", "create"));
  EXPECT_FALSE(covers("create_*", "*"));
  EXPECT_FALSE(covers("create_*", "c*"));
  EXPECT_FALSE(covers("create_*", "re:create_.*"));
  EXPECT_FALSE(covers("create_issue", "create_*"));
  EXPECT_FALSE(covers("create_issue", "create_issu?"));
  EXPECT_FALSE(covers("*_admin", "admin"));
  EXPECT_FALSE(covers("*_admin", "*admin"));
  EXPECT_FALSE(covers("*sec*", "*se*"));
  EXPECT_FALSE(covers("a?c", "a*c"));
  EXPECT_FALSE(covers("re:ab+", "re:ab"));
  EXPECT_FALSE(covers("[ab]x", "[abc]x"));
}

}  // namespace
}  // namespace mcpgw::policy
