#include "gateway/lint/rules.hpp"

#include <algorithm>

namespace mcpgw::lint {

const std::vector<RuleInfo>& known_rules() {
  static const std::vector<RuleInfo> rules = [] {
    std::vector<RuleInfo> list{
        // Reading and parsing.
        {"io-error", "A file could not be read"},
        {"file-too-large", "A file is larger than the loader accepts"},
        {"missing-file", "A referenced file or directory does not exist"},
        {"toml-syntax", "The file is not valid TOML"},
        {"nesting-too-deep", "Tables or arrays are nested deeper than the loader accepts"},
        {"too-many-diagnostics",
         "Reporting stopped after 1000 findings for one configuration and its includes"},
        {"internal-error", "The loader failed unexpectedly; please report it"},
        // Includes and environment references.
        {"include-cycle", "Files include each other in a cycle"},
        {"include-limit", "Includes are nested too deep, too many, or too large in total"},
        {"duplicate-include", "A file is included more than once"},
        {"empty-include-glob", "An include pattern matches no file"},
        {"root-only", "A table that only the root configuration file may contain"},
        {"undefined-env", "An environment variable that the file refers to is not set"},
        {"invalid-env-reference", "A malformed ${...} environment reference"},
        // Keys and values.
        {"unknown-key", "A key that the configuration format does not define"},
        {"missing-key", "A required key is missing"},
        {"wrong-type", "A value has the wrong TOML type"},
        {"invalid-value", "A value is not one the key accepts"},
        {"conflicting-keys", "Keys that cannot be used together"},
        {"invalid-duration", "A duration that is malformed or not positive"},
        {"invalid-listen", "The listen address is not a valid host:port"},
        {"invalid-url", "A URL that is malformed or uses an unsupported scheme"},
        // Backends and authentication.
        {"invalid-backend-name", "A backend name that cannot prefix tool names"},
        {"duplicate-backend", "Two backends have the same name"},
        {"backend-transport", "A backend's transport settings do not fit together"},
        {"empty-command", "A stdio backend's command names no program"},
        {"long-prefixed-name", "A backend prefix leaves little room in the 64-character names"},
        {"insecure-tls", "TLS certificate verification is disabled"},
        {"duplicate-issuer", "Two JWT sources have the same issuer"},
        {"weak-secret", "An HS256 secret is too short"},
        {"hs256", "HS256 is accepted: anyone holding the shared secret can mint tokens"},
        {"anonymous-allow",
         "Anonymous access with a default allow: callers without credentials reach everything"},
        {"forwarded-headers", "A backend receives client headers whose values clients choose"},
        {"plaintext-listener",
         "Credentials are accepted on a non-loopback listener without TLS (clear text)"},
        {"duplicate-api-key", "Two API keys have the same name or the same hash"},
        {"invalid-api-key-hash", "An API key hash is not a SHA-256 hex digest"},
        // Policy.
        {"invalid-pattern", "A glob or regular expression in a policy is invalid"},
        {"invalid-claim", "A claim matcher has no claim name"},
        {"duplicate-rule-id", "Two rules or two rate limits have the same id"},
        {"unknown-backend", "A policy names a backend that is not configured"},
        {"backend-pattern-matches-nothing", "A backend pattern matches no configured backend"},
        {"prefixed-name", "A policy uses a prefixed name where the backend's own name belongs"},
        {"rule-never-matches", "A rule can never match (an empty list)"},
        {"conflicting-rule", "An allow and a deny rule match exactly the same requests"},
        {"unreachable-rule", "An allow rule that a deny rule always overrides"},
        {"shadowed-rule", "A rule that an earlier rule with the same effect always covers"},
        {"analysis-limit", "The rule analysis stopped early on a very large policy"},
        {"non-positive-rate-limit",
         "A rate limit's requests or window is not positive, or its burst is negative"},
        // Policy decision tests.
        {"no-test-cases", "A policy test file defines no [[case]]"},
        {"duplicate-case-name", "Two policy test cases have the same name"},
        {"policy-test-failed", "A policy decision test did not get the expected decision"},
    };
    std::sort(list.begin(), list.end(),
              [](const RuleInfo& a, const RuleInfo& b) { return a.id < b.id; });
    return list;
  }();
  return rules;
}

const RuleInfo* find_rule(std::string_view id) {
  const auto& rules = known_rules();
  const auto found =
      std::lower_bound(rules.begin(), rules.end(), id,
                       [](const RuleInfo& rule, std::string_view key) { return rule.id < key; });
  if (found == rules.end() || found->id != id)
    return nullptr;
  return &*found;
}

std::string_view rule_description(std::string_view id) {
  const RuleInfo* rule = find_rule(id);
  if (rule != nullptr)
    return rule->description;
  return "An mcpgw configuration or policy finding";
}

}  // namespace mcpgw::lint
