// auth_bench: what authentication plus authorization costs per request in `serve` with cached
// keys (issue 4 target: <= 20 us). One request = Authenticator::authenticate() on an
// "Authorization: Bearer <jwt>" header (base64url, JSON, signature, claims, principal) followed by
// one CompiledPolicy::decide() for a tools/call, as the front end and the gateway do it.
//
// Scenarios: a fresh verification for RS256 (2048-bit key), ES256 (P-256) and EdDSA (Ed25519),
// with the token cache off, and a token cache hit (SHA-256 of the token, then the cached
// principal). Keys are generated at start with OpenSSL; tokens carry realistic claims (~700
// bytes). The policy has 200 rules over 10 backends with subject, group-claim and scope
// matchers.
// Times: CPU time of this thread per request (the best of K runs), which is what a request costs
// whatever else runs on the machine, and wall-clock p50/p99 per request of the last run, which
// include preemption by other processes on a loaded machine.
// Usage: auth_bench [--requests N] [--runs K]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gateway/auth/authenticator.hpp"
#include "gateway/policy/policy.hpp"
#include "gateway/runtime/manual_loop.hpp"
#include "tests/unit/gateway/auth/jwt_test_support.hpp"

namespace {

using namespace mcpgw;
using Clock = std::chrono::steady_clock;
namespace test = auth::test;

constexpr const char* kIssuer = "https://idp.example.com/realms/main";

class FixedKeySource final : public auth::KeySource {
 public:
  explicit FixedKeySource(std::shared_ptr<const auth::KeySet> keys) : keys_(std::move(keys)) {}
  std::shared_ptr<const auth::KeySet> keys() const override { return keys_; }
  void refresh(std::function<void()> done) override { done(); }
  void start() override {}
  void stop() override {}

 private:
  std::shared_ptr<const auth::KeySet> keys_;
};

policy::PatternListSpec patterns(std::vector<std::string> items) {
  policy::PatternListSpec spec;
  spec.present = !items.empty();
  for (auto& item : items) {
    spec.patterns.push_back({std::move(item), {}});
  }
  return spec;
}

std::shared_ptr<const policy::CompiledPolicy> make_policy() {
  policy::PolicySpec spec;
  spec.default_effect = policy::Effect::deny;
  policy::CompileContext context;
  context.backends_known = true;
  for (int backend = 0; backend < 10; ++backend) {
    context.backends.push_back("backend" + std::to_string(backend));
  }
  context.backends.push_back("github");
  for (int index = 0; index < 200; ++index) {
    policy::RuleSpec rule;
    rule.id = "rule" + std::to_string(index);
    rule.where = {"bench.toml", static_cast<std::uint32_t>(index + 1), 1};
    rule.effect = index % 10 == 9 ? policy::Effect::deny : policy::Effect::allow;
    rule.backends = patterns({context.backends[static_cast<std::size_t>(index % 11)]});
    rule.methods = patterns({"tools/call"});
    if (rule.effect == policy::Effect::deny) {
      rule.tools = patterns({"danger_" + std::to_string(index) + "_*"});
    } else {
      rule.tools = patterns(
          {"tool_" + std::to_string(index) + "_*", "create_issue_" + std::to_string(index)});
      rule.principal.claims.push_back(
          {"groups", patterns({"team-" + std::to_string(index % 20)}), {}});
    }
    spec.rules.push_back(std::move(rule));
  }
  policy::RuleSpec allow;
  allow.id = "devs-may-file-issues";
  allow.where = {"bench.toml", 1000, 1};
  allow.backends = patterns({"github"});
  allow.tools = patterns({"create_issue", "list_*"});
  allow.principal.claims.push_back({"groups", patterns({"devs"}), {}});
  allow.principal.scopes.push_back({"mcp:call", {}});
  spec.rules.push_back(std::move(allow));
  config::Diagnostics diagnostics;
  auto compiled = policy::compile(spec, context, diagnostics);
  if (!compiled) {
    std::fprintf(stderr, "auth_bench: the policy did not compile\n");
    std::exit(1);
  }
  return compiled;
}

nlohmann::json claims(std::int64_t now) {
  return {
      {"iss", kIssuer},
      {"aud", nlohmann::json::array({"mcpgw", "account"})},
      {"sub", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"},
      {"azp", "mcp-client"},
      {"iat", now},
      {"nbf", now},
      {"exp", now + 3600},
      {"jti", "3f1c6d0e-9a57-4b8e-9d0f-6a1f2f2f8c11"},
      {"scope", "openid profile email mcp:read mcp:call"},
      {"email", "alice@example.com"},
      {"preferred_username", "alice"},
      {"groups", {"devs", "oncall", "team-7"}},
      {"realm_access", {{"roles", {"offline_access", "uma_authorization", "developer"}}}},
  };
}

double thread_cpu_us() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

struct Result {
  std::string name;
  std::size_t token_bytes = 0;
  double cpu_us = 0;
  double p50_us = 0;
  double p99_us = 0;
  bool all_allowed = true;
};

Result measure(const std::string& name, auth::Authenticator& authenticator,
               const std::string& header, const policy::CompiledPolicy& policy,
               std::size_t requests, std::size_t runs) {
  policy::Target target;
  target.method = "tools/call";
  target.backend = "github";
  target.kind = policy::TargetKind::tool;
  target.name = "create_issue";
  auth::Credentials credentials;
  credentials.authorization = header;

  Result result;
  result.name = name;
  result.token_bytes = header.size() - 7;
  std::vector<double> samples;
  samples.reserve(requests);
  std::vector<double> run_cpu;
  for (std::size_t run = 0; run < runs; ++run) {
    samples.clear();
    const double run_start = thread_cpu_us();
    for (std::size_t index = 0; index < requests; ++index) {
      const auto start = Clock::now();
      bool allowed = false;
      authenticator.authenticate(credentials, "gw.example.com", [&](auth::AuthResult answer) {
        allowed =
            answer.ok && policy.decide(*answer.principal, target).effect == policy::Effect::allow;
      });
      samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      result.all_allowed = result.all_allowed && allowed;
    }
    run_cpu.push_back((thread_cpu_us() - run_start) / static_cast<double>(requests));
  }
  result.cpu_us = *std::min_element(run_cpu.begin(), run_cpu.end());
  std::sort(samples.begin(), samples.end());
  result.p50_us = samples[samples.size() / 2];
  result.p99_us = samples[samples.size() * 99 / 100];
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t requests = 20000;
  std::size_t runs = 5;
  for (int index = 1; index < argc; ++index) {
    const std::string argument = argv[index];
    if ((argument == "--requests" || argument == "--runs") && index + 1 < argc) {
      const auto value = std::strtoull(argv[++index], nullptr, 10);
      (argument == "--requests" ? requests : runs) = std::max<std::size_t>(1, value);
    } else {
      std::fprintf(stderr, "usage: auth_bench [--requests N] [--runs K]\n");
      return 2;
    }
  }

  const auto rsa = test::generate_key(test::KeyKind::rsa, 2048);
  const auto p256 = test::generate_key(test::KeyKind::p256);
  const auto ed25519 = test::generate_key(test::KeyKind::ed25519);
  auto keys = auth::parse_jwks(
      test::jwks_of({test::public_jwk(rsa, "rsa-2048"), test::public_jwk(p256, "p256"),
                     test::public_jwk(ed25519, "ed25519")})
          .dump());
  if (!keys) {
    std::fprintf(stderr, "auth_bench: %s\n", keys.error().c_str());
    return 1;
  }
  const auto policy = make_policy();

  config::AuthConfig auth_config;
  config::JwtSourceConfig source;
  source.issuer = kIssuer;
  source.audiences = {"mcpgw"};
  source.jwks_file = "(bench)";
  auth_config.jwt.push_back(source);
  auth_config.required_scopes = {"mcp:call"};

  runtime::ManualEventLoop loop;
  const auto now = test::unix_now();
  auth::AuthenticatorOptions no_cache;
  no_cache.token_cache_entries = 0;
  const auto uncached = auth::make_authenticator(
      loop, auth_config, {std::make_shared<FixedKeySource>(*keys)}, no_cache);
  const auto cached = auth::make_authenticator(
      loop, auth_config, {std::make_shared<FixedKeySource>(*keys)}, auth::AuthenticatorOptions{});

  const auto bearer = [&](const char* algorithm, const test::TestKey& key, const char* kid) {
    return "Bearer " + test::signed_token(algorithm, key, kid, claims(now));
  };
  std::vector<Result> results;
  results.push_back(measure("RS256 (RSA 2048), verified", *uncached,
                            bearer("RS256", rsa, "rsa-2048"), *policy, requests, runs));
  results.push_back(measure("ES256 (P-256), verified", *uncached, bearer("ES256", p256, "p256"),
                            *policy, requests, runs));
  results.push_back(measure("EdDSA (Ed25519), verified", *uncached,
                            bearer("EdDSA", ed25519, "ed25519"), *policy, requests, runs));
  results.push_back(measure("token cache hit (ES256 token)", *cached, bearer("ES256", p256, "p256"),
                            *policy, requests, runs));

  std::printf("auth_bench: authenticate() + decide() per request, %zu requests x %zu runs\n",
              requests, runs);
  std::printf("policy: %zu rules; target tools/call github/create_issue (allowed)\n\n",
              policy->rule_count());
  std::printf(
      "| scenario | token bytes | CPU us/request | wall p50 us | wall p99 us | req/s per core |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  bool all_allowed = true;
  for (const auto& result : results) {
    std::printf("| %s | %zu | %.2f | %.2f | %.2f | %.0f |\n", result.name.c_str(),
                result.token_bytes, result.cpu_us, result.p50_us, result.p99_us,
                1e6 / result.cpu_us);
    all_allowed = all_allowed && result.all_allowed;
  }
  if (!all_allowed) {
    std::fprintf(stderr, "auth_bench: a request was refused; the numbers are not valid\n");
    return 1;
  }
  return 0;
}
