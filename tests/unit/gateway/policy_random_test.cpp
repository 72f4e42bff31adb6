// Randomised checks against independent brute-force references: decide() on 10,000 rules, and
// the bucketed coverage analysis against pairwise comparison plus sampled soundness.
#include <functional>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gateway/policy/indexed_policy.hpp"
#include "gateway/policy/policy.hpp"
#include "policy_test_support.hpp"

namespace mcpgw::policy {
namespace {

// ---- An independent reference matcher (ASCII test data only) ----

struct GlobToken {
  enum Type { literal, star, one, set };
  GlobToken(Type t, char literal_char = 0) : type(t), c(literal_char) {}
  Type type;
  char c;
  std::string members;
  bool negated = false;
};

std::vector<GlobToken> parse_reference_glob(const std::string& pattern) {
  std::vector<GlobToken> tokens;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '*') {
      tokens.push_back({GlobToken::star});
    } else if (c == '?') {
      tokens.push_back({GlobToken::one});
    } else if (c == '[') {
      GlobToken token(GlobToken::set);
      ++i;
      if (pattern[i] == '!') {
        token.negated = true;
        ++i;
      }
      for (; pattern[i] != ']'; ++i) {
        if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
          for (char m = pattern[i]; m <= pattern[i + 2]; ++m)
            token.members += m;
          i += 2;
        } else {
          token.members += pattern[i];
        }
      }
      tokens.push_back(token);
    } else {
      tokens.push_back({GlobToken::literal, c});
    }
  }
  return tokens;
}

// Classic dynamic programming over (token, position); `reached[j]`: tokens so far match value[..j).
bool reference_glob(const std::vector<GlobToken>& tokens, const std::string& value) {
  std::vector<char> reached(value.size() + 1, 0);
  reached[0] = 1;
  for (const GlobToken& t : tokens) {
    std::vector<char> next(value.size() + 1, 0);
    for (std::size_t j = 0; j <= value.size(); ++j) {
      if (!reached[j])
        continue;
      if (t.type == GlobToken::star) {
        for (std::size_t k = j; k <= value.size(); ++k)
          next[k] = 1;
        break;
      }
      if (j == value.size())
        continue;
      const char v = value[j];
      const bool here = t.type == GlobToken::literal ? v == t.c
                        : t.type == GlobToken::one
                            ? true
                            : ((t.members.find(v) != std::string::npos) != t.negated);
      if (here)
        next[j + 1] = 1;
    }
    reached.swap(next);
  }
  return reached[value.size()] != 0;
}

class ReferenceMatcher {
 public:
  bool pattern(const std::string& text, const std::string& value) {
    if (text.rfind("re:", 0) == 0) {
      auto found = regexes_.find(text);
      if (found == regexes_.end())
        found = regexes_.emplace(text, std::regex(text.substr(3))).first;
      return std::regex_match(value, found->second);
    }
    auto found = globs_.find(text);
    if (found == globs_.end())
      found = globs_.emplace(text, parse_reference_glob(text)).first;
    return reference_glob(found->second, value);
  }
  bool list(const PatternListSpec& spec, const std::string& value) {
    if (!spec.present)
      return true;
    if (value.empty())
      return false;
    for (const PatternSpec& p : spec.patterns) {
      if (pattern(p.text, value))
        return true;
    }
    return false;
  }
  bool rule(const RuleSpec& rule, const Principal& who, const Target& what) {
    if (!list(rule.backends, what.backend))
      return false;
    if (rule.tools.present || rule.prompts.present || rule.resources.present) {
      const PatternListSpec* names = what.kind == TargetKind::tool       ? &rule.tools
                                     : what.kind == TargetKind::prompt   ? &rule.prompts
                                     : what.kind == TargetKind::resource ? &rule.resources
                                                                         : nullptr;
      if (names == nullptr || !names->present || !list(*names, what.name))
        return false;
    }
    if (!list(rule.methods, what.method))
      return false;
    const PrincipalMatcherSpec& p = rule.principal;
    if (p.authenticated && *p.authenticated != who.authenticated)
      return false;
    if (!list(p.subjects, who.subject))
      return false;
    if (!list(p.api_keys, who.api_key))
      return false;
    for (const PatternSpec& scope : p.scopes) {
      bool granted = false;
      for (const std::string& s : who.scopes)
        granted = granted || (!s.empty() && pattern(scope.text, s));
      if (!granted)
        return false;
    }
    for (const ClaimMatcherSpec& claim : p.claims) {
      // Test data only uses top-level claims holding arrays of strings.
      bool matched = false;
      if (who.claims.contains(claim.claim)) {
        for (const auto& element : who.claims[claim.claim]) {
          matched = matched || list(claim.values, element.get<std::string>());
        }
      }
      if (!matched)
        return false;
    }
    return true;
  }
  std::string decide(const PolicySpec& spec, const Principal& who, const Target& what) {
    for (const RuleSpec& r : spec.rules) {
      if (r.effect == Effect::deny && rule(r, who, what))
        return "deny:" + r.id;
    }
    for (const RuleSpec& r : spec.rules) {
      if (r.effect == Effect::allow && rule(r, who, what))
        return "allow:" + r.id;
    }
    return std::string(to_string(spec.default_effect)) + ":";
  }

 private:
  std::map<std::string, std::regex> regexes_;
  std::map<std::string, std::vector<GlobToken>> globs_;
};

// ---- Random policies and requests ----

class Generator {
 public:
  explicit Generator(unsigned seed) : random_(seed) {}

  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  bool chance(int percent) { return below(100) < percent; }
  template <class T>
  const T& pick(const std::vector<T>& items) {
    return items[static_cast<std::size_t>(below(static_cast<int>(items.size())))];
  }

  std::string backend() { return "b" + std::to_string(below(24)); }
  std::string tool_name() {
    static const std::vector<std::string> fixed = {
        "create_issue", "create_pr", "delete_repo", "list_files", "read_file", "t1", "t12"};
    return chance(40) ? pick(fixed) : "t" + std::to_string(below(300));
  }
  std::string name_pattern(bool resources) {
    if (resources) {
      static const std::vector<std::string> globs = {"file:///srv/*", "file:///srv/a*",
                                                     "file:///etc/*"};
      return chance(60) ? "file:///srv/" + std::to_string(below(50)) : pick(globs);
    }
    static const std::vector<std::string> globs = {"create_*", "t1*",    "*_repo",   "*",
                                                   "t?",       "t[0-3]", "t[!0-3]*", "re:t[0-9]+",
                                                   "*file*",   "t2?"};
    return chance(75) ? tool_name() : pick(globs);
  }
  std::vector<std::string> some(int max, const std::function<std::string()>& make) {
    std::vector<std::string> out;
    const int count = 1 + below(max);
    for (int i = 0; i < count; ++i)
      out.push_back(make());
    return out;
  }

  RuleSpec rule(std::size_t index) {
    test::Rule r("r" + std::to_string(index), chance(30) ? Effect::deny : Effect::allow);
    r.line(static_cast<std::uint32_t>(index + 1));
    if (chance(70)) {
      r.backends(some(3, [&] { return chance(85) ? backend() : pick<std::string>({"b1*", "*"}); }));
    }
    if (chance(90)) {
      const int kind = below(100);
      if (kind < 70) {
        r.tools(some(3, [&] { return name_pattern(false); }));
      } else if (kind < 85) {
        r.prompts(some(2, [&] { return name_pattern(false); }));
      } else {
        r.resources(some(2, [&] { return name_pattern(true); }));
      }
      if (chance(5))
        r.prompts({name_pattern(false)});
    }
    if (chance(10))
      r.methods({pick<std::string>({"tools/call", "tools/*", "prompts/get"})});
    if (chance(20))
      r.subjects(some(2, [&] { return pick<std::string>({"u1", "u2", "u*", "u3"}); }));
    if (chance(15))
      r.claim("groups", some(2, [&] { return pick<std::string>({"devs", "ops", "g*"}); }));
    if (chance(5))
      r.scopes({pick<std::string>({"repo:read", "repo:*"})});
    if (chance(5))
      r.authenticated(chance(80));
    return r;
  }

  PolicySpec policy(std::size_t rules) {
    PolicySpec spec;
    spec.default_effect = chance(50) ? Effect::allow : Effect::deny;
    for (std::size_t i = 0; i < rules; ++i)
      spec.rules.push_back(rule(i));
    return spec;
  }

  Principal principal() {
    Principal p;
    p.authenticated = chance(90);
    if (p.authenticated && chance(90))
      p.subject = "u" + std::to_string(below(5));
    nlohmann::json groups = nlohmann::json::array();
    for (const char* g : {"devs", "ops", "gx", "qa"}) {
      if (chance(30))
        groups.push_back(g);
    }
    if (chance(80))
      p.claims["groups"] = groups;
    if (chance(30))
      p.scopes.push_back(chance(50) ? "repo:read" : "repo:write");
    return p;
  }

  Target target() {
    Target t;
    const int kind = below(100);
    t.backend = chance(95) ? backend() : "";
    if (kind < 70) {
      t.kind = TargetKind::tool;
      t.method = chance(90) ? "tools/call" : "tools/list";
      t.name = tool_name();
    } else if (kind < 82) {
      t.kind = TargetKind::prompt;
      t.method = "prompts/get";
      t.name = tool_name();
    } else if (kind < 94) {
      t.kind = TargetKind::resource;
      t.method = "resources/read";
      t.name = chance(80) ? "file:///srv/" + std::to_string(below(60)) : "file:///etc/passwd";
    } else {
      t.kind = TargetKind::other;
      t.method = "logging/setLevel";
    }
    return t;
  }

 private:
  std::mt19937 random_;
};

std::string rough_list(const PatternListSpec& list) {
  if (!list.present)
    return "-";
  std::set<std::string> texts;
  for (const PatternSpec& p : list.patterns)
    texts.insert(p.text);
  if (texts.count("*") != 0)
    return "*";
  std::string out = "[";
  for (const std::string& text : texts)
    out += text + ",";
  return out + "]";
}

std::string rough_matcher(const RuleSpec& r) {
  std::string out = rough_list(r.methods) + rough_list(r.backends) + rough_list(r.tools) +
                    rough_list(r.prompts) + rough_list(r.resources) +
                    rough_list(r.principal.subjects);
  for (const ClaimMatcherSpec& claim : r.principal.claims)
    out += claim.claim + rough_list(claim.values);
  for (const PatternSpec& scope : r.principal.scopes)
    out += scope.text + ";";
  out += r.principal.authenticated ? (*r.principal.authenticated ? "T" : "F") : "-";
  return out;
}

// Compiles, dropping the rules reported as conflicting (errors) until it succeeds.
std::shared_ptr<const CompiledPolicy> compile_dropping_conflicts(PolicySpec& spec,
                                                                 config::Diagnostics& kept) {
  for (int round = 0; round < 10; ++round) {
    config::Diagnostics diagnostics;
    auto compiled = compile(spec, CompileContext{}, diagnostics);
    if (compiled) {
      kept = std::move(diagnostics);
      return compiled;
    }
    std::set<std::uint32_t> bad_lines;
    for (const config::Diagnostic& d : diagnostics.items()) {
      EXPECT_EQ(d.severity == config::Severity::error, d.rule == "conflicting-rule") << d.message;
      if (d.rule == "conflicting-rule")
        bad_lines.insert(d.where.line);
    }
    // Drop every rule with the same (roughly normalised) matchers as a reported one.
    std::set<std::string> bad_matchers;
    for (const RuleSpec& r : spec.rules) {
      if (bad_lines.count(r.where.line) != 0)
        bad_matchers.insert(rough_matcher(r));
    }
    std::erase_if(spec.rules,
                  [&](const RuleSpec& r) { return bad_matchers.count(rough_matcher(r)) != 0; });
  }
  ADD_FAILURE() << "could not compile the random policy";
  return nullptr;
}

TEST(PolicyRandom, TenThousandRulesDecideLikeTheBruteForceReference) {
  Generator generate(20240601);
  PolicySpec spec = generate.policy(10000);
  config::Diagnostics diagnostics;
  auto compiled = compile_dropping_conflicts(spec, diagnostics);
  ASSERT_NE(compiled, nullptr);
  EXPECT_GT(spec.rules.size(), 8500u);

  ReferenceMatcher reference;
  int decided_by_rule = 0;
  for (int i = 0; i < 400; ++i) {
    const Principal who = generate.principal();
    const Target what = generate.target();
    const Decision decision = compiled->decide(who, what);
    const std::string actual = std::string(to_string(decision.effect)) + ":" + decision.rule_id;
    ASSERT_EQ(actual, reference.decide(spec, who, what))
        << "query " << i << ": " << what.method << " " << what.backend << " " << what.name;
    if (!decision.by_default())
      ++decided_by_rule;
  }
  // The data is meant to exercise rules, not just the default.
  EXPECT_GT(decided_by_rule, 200);
}

TEST(PolicyRandom, CoverageIndexFindsWhatPairwiseComparisonFindsAndIsSound) {
  for (unsigned seed = 1; seed <= 4; ++seed) {
    Generator generate(seed);
    PolicySpec spec = generate.policy(400);
    config::Diagnostics diagnostics;
    auto compiled = compile_dropping_conflicts(spec, diagnostics);
    ASSERT_NE(compiled, nullptr);
    const auto& rules = dynamic_cast<const detail::IndexedPolicy&>(*compiled).rules();

    // Pairwise reference over the compiled rules.
    std::map<std::uint32_t, std::string> expected;  // line -> diagnostic rule id
    std::vector<std::string> canonical;
    for (const auto& rule : rules)
      canonical.push_back(rule.canonical_matcher());
    for (std::size_t b = 0; b < rules.size(); ++b) {
      if (rules[b].never_matches_reason())
        continue;
      bool has_identical_deny = false;
      for (std::size_t a = 0; a < rules.size(); ++a) {
        has_identical_deny = has_identical_deny ||
                             (rules[a].effect == Effect::deny && canonical[a] == canonical[b] &&
                              !rules[a].never_matches_reason());
      }
      std::string finding;
      for (std::size_t a = 0; a < rules.size() && finding.empty(); ++a) {
        if (a == b || rules[a].never_matches_reason())
          continue;
        if (rules[b].effect == Effect::allow && !has_identical_deny &&
            rules[a].effect == Effect::deny && rules[a].covers(rules[b])) {
          finding = "unreachable-rule";
        }
      }
      for (std::size_t a = 0; a < b && finding.empty(); ++a) {
        if (rules[a].never_matches_reason())
          continue;
        if (rules[a].effect == rules[b].effect && rules[a].covers(rules[b])) {
          finding = "shadowed-rule";
        }
      }
      if (!finding.empty())
        expected[rules[b].where.line] = finding;
    }
    std::map<std::uint32_t, std::string> actual;
    for (const config::Diagnostic& d : diagnostics.items()) {
      if (d.rule == "shadowed-rule" || d.rule == "unreachable-rule")
        actual[d.where.line] = d.rule;
      EXPECT_NE(d.rule, "analysis-limit");
    }
    EXPECT_EQ(actual, expected) << "seed " << seed;
    EXPECT_FALSE(expected.empty()) << "seed " << seed << " exercises no coverage";

    // Soundness: whenever A covers B, every sampled request B matches, A matches too.
    ReferenceMatcher reference;
    std::vector<std::vector<char>> matched(rules.size());  // by rule, per sample
    std::map<std::uint32_t, const RuleSpec*> by_line;
    for (const RuleSpec& r : spec.rules)
      by_line[r.where.line] = &r;
    for (int i = 0; i < 200; ++i) {
      const Principal who = generate.principal();
      const Target what = generate.target();
      for (std::size_t r = 0; r < rules.size(); ++r) {
        matched[r].push_back(reference.rule(*by_line[rules[r].where.line], who, what) ? 1 : 0);
      }
    }
    for (std::size_t b = 0; b < rules.size(); ++b) {
      for (std::size_t a = 0; a < rules.size(); ++a) {
        if (a == b || !rules[a].covers(rules[b]))
          continue;
        for (std::size_t sample = 0; sample < matched[b].size(); ++sample) {
          if (matched[b][sample]) {
            ASSERT_TRUE(matched[a][sample]) << rules[a].id << " claimed to cover " << rules[b].id;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace mcpgw::policy
