// Enforcement in the multiplexer (issue 4): authorization of routed and method-level requests,
// list filtering, rate limits, the audit trail, policy reload and forwarded headers.
#include <map>

#include "mux_harness.hpp"

namespace mcpgw::mux::testing {
namespace {

using MuxPolicy = MuxTest;
using policy::Effect;

std::vector<std::string> names_of(const json& items, const char* key = "name") {
  std::vector<std::string> out;
  for (const auto& item : items) {
    out.push_back(item[key].get<std::string>());
  }
  return out;
}

json named(const std::string& name) {
  return {{"name", name}, {"inputSchema", {{"type", "object"}}}};
}

json resource(const std::string& uri) {
  return {{"uri", uri}, {"name", uri}};
}

// Sends a list request and answers it on every backend with that backend's items.
std::shared_ptr<FakeStream> list(MuxWorld& world, ClientSession& client, mcp::RequestId id,
                                 const std::string& method, const std::string& field,
                                 const std::vector<json>& per_backend) {
  auto stream = client.request(std::move(id), method);
  for (std::size_t backend = 0; backend < per_backend.size(); ++backend) {
    auto open = world.newest(backend).open_calls(method);
    EXPECT_EQ(open.size(), 1u) << method << " on backend " << backend;
    if (!open.empty()) {
      json result = json::object();
      result[field] = per_backend[backend];
      world.newest(backend).answer(*open.front(), std::move(result));
    }
  }
  EXPECT_TRUE(stream->ok()) << method;
  return stream;
}

// Lists tools, prompts and resources so that a gateway without prefixes can route them; with
// `secrets`, alpha also offers tool "secret", prompt "hidden" and resource file:///secret.
void list_everything(MuxWorld& world, ClientSession& client, bool secrets) {
  json tools = {named("echo")};
  json prompts = {named("greet")};
  json resources = {resource("file:///public")};
  if (secrets) {
    tools.push_back(named("secret"));
    prompts.push_back(named("hidden"));
    resources.push_back(resource("file:///secret"));
  }
  auto listed_tools =
      list(world, client, "lt", "tools/list", "tools", {tools, json{named("other")}});
  EXPECT_EQ(names_of(listed_tools->result()["tools"]), (std::vector<std::string>{"echo", "other"}));
  auto listed_prompts =
      list(world, client, "lp", "prompts/list", "prompts", {prompts, json::array()});
  EXPECT_EQ(names_of(listed_prompts->result()["prompts"]), (std::vector<std::string>{"greet"}));
  auto listed_resources =
      list(world, client, "lr", "resources/list", "resources", {resources, json::array()});
  EXPECT_EQ(names_of(listed_resources->result()["resources"], "uri"),
            (std::vector<std::string>{"file:///public"}));
}

policy::RuleSpec hide_secrets() {
  auto deny = rule("hide-secrets", Effect::deny);
  deny.backends = patterns({"alpha"});
  deny.tools = patterns({"secret"});
  deny.prompts = patterns({"hidden"});
  deny.resources = patterns({"file:///secret"});
  return deny;
}

std::size_t calls_of(FakeClient& client, const std::string& method) {
  return static_cast<std::size_t>(
      std::count_if(client.calls.begin(), client.calls.end(),
                    [&](const FakeClient::Call& call) { return call.request.method == method; }));
}

TEST_F(MuxPolicy, DeniedNamesAreAnsweredExactlyLikeNamesTheGatewayDoesNotKnow) {
  // Without prefixes, names route only once listed: the second gateway never saw the secrets,
  // so its answers are the gateway's own answers for names it does not know.
  policy_spec.rules.push_back(hide_secrets());
  FakeAuditSink sink;
  GatewayOptions options;
  options.audit = &sink;
  start_ready({{"alpha"}, {"beta"}}, config::PrefixMode::never, capabilities_all(), options);
  auto client = open();
  list_everything(*this, client, true);
  sink.records.clear();

  MuxWorld plain;
  plain.start_ready({{"alpha"}, {"beta"}}, config::PrefixMode::never);
  auto other = plain.open();
  list_everything(plain, other, false);

  const std::vector<std::pair<std::string, json>> requests = {
      {"tools/call", {{"name", "secret"}, {"arguments", json::object()}}},
      {"prompts/get", {{"name", "hidden"}}},
      {"resources/read", {{"uri", "file:///secret"}}},
      {"resources/subscribe", {{"uri", "file:///secret"}}},
      {"resources/unsubscribe", {{"uri", "file:///secret"}}},
      {"completion/complete",
       {{"ref", {{"type", "ref/prompt"}, {"name", "hidden"}}},
        {"argument", {{"name", "a"}, {"value", "b"}}}}},
      {"completion/complete",
       {{"ref", {{"type", "ref/resource"}, {"uri", "file:///secret"}}},
        {"argument", {{"name", "a"}, {"value", "b"}}}}},
  };
  int id = 100;
  for (const auto& [method, params] : requests) {
    auto denied = client.request(id, method, params);
    auto unknown = other.request(id, method, params);
    ++id;
    ASSERT_TRUE(denied->response) << method;
    ASSERT_TRUE(unknown->response) << method;
    EXPECT_FALSE(denied->ok()) << method;
    EXPECT_EQ(mcp::encode(*denied->response), mcp::encode(*unknown->response)) << method;
  }
  // The first gateway did know every name (routing needs it): each was refused by the rule.
  ASSERT_EQ(sink.records.size(), requests.size());
  for (const auto& record : sink.records) {
    EXPECT_EQ(record.decision, "deny") << record.method;
    EXPECT_EQ(record.rule, "hide-secrets") << record.method;
    EXPECT_EQ(record.backend, "alpha") << record.method;
  }
  for (const auto& method : {"tools/call", "prompts/get", "resources/read", "resources/subscribe",
                             "resources/unsubscribe", "completion/complete"}) {
    EXPECT_EQ(calls_of(newest(0), method), 0u) << method << " reached the backend";
    EXPECT_EQ(calls_of(newest(1), method), 0u) << method << " reached the backend";
  }
  // What is allowed still goes through.
  client.request(200, "tools/call", json{{"name", "echo"}});
  EXPECT_EQ(newest(0).only_call("tools/call").params()["name"], "echo");
}

TEST_F(MuxPolicy, DeniedPrefixedNamesGetTheUnknownNameAnswer) {
  policy_spec.rules.push_back(hide_secrets());
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto denied = client.request(1, "tools/call", json{{"name", "alpha__secret"}});
  auto unknown = client.request(1, "tools/call", json{{"name", "gamma__secret"}});
  ASSERT_TRUE(denied->response);
  EXPECT_EQ(denied->error_code(), unknown->error_code());
  EXPECT_EQ(denied->error_message(), "Unknown tool: alpha__secret");
  EXPECT_EQ(unknown->error_message(), "Unknown tool: gamma__secret");
  auto read = client.request(2, "resources/read", json{{"uri", "alpha+file:///secret"}});
  EXPECT_EQ(read->error_code(), mcp::error_code::resource_not_found);
  EXPECT_EQ(read->error_message(), "Resource not found: alpha+file:///secret");
  EXPECT_EQ(client_count(0), 1u) << "no session with alpha was even opened";
}

TEST_F(MuxPolicy, MethodLevelDenialsAreMethodNotFound) {
  auto deny = rule("no-logging", Effect::deny);
  deny.methods = patterns({"logging/setLevel", "resources/templates/list"});
  policy_spec.rules.push_back(deny);
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();

  // The same as a gateway whose backends do not offer logging at all.
  MuxWorld plain;
  json without_logging = capabilities_all();
  without_logging.erase("logging");
  plain.start_ready({{"alpha"}, {"beta"}}, config::PrefixMode::automatic, without_logging);
  auto other = plain.open();

  auto denied = client.request(1, "logging/setLevel", json{{"level", "debug"}});
  auto unknown = other.request(1, "logging/setLevel", json{{"level", "debug"}});
  ASSERT_TRUE(denied->response);
  ASSERT_TRUE(unknown->response);
  EXPECT_EQ(mcp::encode(*denied->response), mcp::encode(*unknown->response));
  EXPECT_EQ(denied->error_code(), mcp::error_code::method_not_found);

  auto templates = client.request(2, "resources/templates/list");
  EXPECT_EQ(templates->error_code(), mcp::error_code::method_not_found);
  EXPECT_EQ(templates->error_message(), "Method not found: resources/templates/list");
  auto nonsense = client.request(3, "no/such/method");
  EXPECT_EQ(nonsense->error_message(), "Method not found: no/such/method");
  EXPECT_EQ(client_count(0), 1u) << "nothing reached a backend";
  EXPECT_EQ(client_count(1), 1u);
  // ping is never decided.
  EXPECT_TRUE(client.request(4, "ping")->ok());
}

// Default deny; lists for everyone, "echo" for everyone, admin tools for the admins group,
// resources under file:///pub/ for everyone.
void admin_policy(policy::PolicySpec& spec) {
  spec.default_effect = Effect::deny;
  auto lists = rule("lists", Effect::allow);
  lists.methods = patterns({"*/list"});
  spec.rules.push_back(lists);
  auto everyone = rule("everyone", Effect::allow);
  everyone.tools = patterns({"echo"});
  everyone.resources = patterns({"file:///pub/*"});
  spec.rules.push_back(everyone);
  auto admins = rule("admins", Effect::allow);
  admins.tools = patterns({"admin_*"});
  admins.principal.claims.push_back({"groups", patterns({"admins"}), {}});
  spec.rules.push_back(admins);
}

TEST_F(MuxPolicy, ListsShowEachPrincipalWhatItMayUseAndPaginationSurvives) {
  admin_policy(policy_spec);
  start_ready({{"alpha"}});
  auto alice = open();
  alice.authenticate("alice", json{{"groups", {"devs", "admins"}}});
  auto bob = open();
  bob.authenticate("bob", json{{"groups", {"devs"}}});
  auto nobody = open();

  const auto first_page = [&](ClientSession& client, const std::string& id) {
    auto stream = client.request(id, "tools/list");
    auto& call = newest(0).only_call("tools/list");
    newest(0).answer(call, {{"tools", {named("admin_reset"), named("echo"), named("rm")}},
                            {"nextCursor", "page-2"}});
    return stream;
  };
  // Each session has its own upstream Client; newest(0) is the one just made or used.
  auto for_alice = first_page(alice, "a1");
  EXPECT_EQ(names_of(for_alice->result()["tools"]),
            (std::vector<std::string>{"admin_reset", "echo"}));
  FakeClient& alice_upstream = newest(0);
  auto for_bob = first_page(bob, "b1");
  FakeClient& bob_upstream = newest(0);
  EXPECT_EQ(names_of(for_bob->result()["tools"]), (std::vector<std::string>{"echo"}));
  ASSERT_TRUE(for_bob->result().contains("nextCursor")) << "a shrunk page keeps its cursor";
  auto for_nobody = first_page(nobody, "n1");
  EXPECT_EQ(names_of(for_nobody->result()["tools"]), (std::vector<std::string>{"echo"}));

  // Bob's second page holds only hidden tools: empty, and the list ends there.
  auto second = bob.request("b2", "tools/list",
                            json{{"cursor", for_bob->result()["nextCursor"].get<std::string>()}});
  auto& call = bob_upstream.only_call("tools/list");
  EXPECT_EQ(call.params()["cursor"], "page-2");
  bob_upstream.answer(call, {{"tools", {named("admin_wipe")}}});
  ASSERT_TRUE(second->ok());
  EXPECT_TRUE(second->result()["tools"].empty());
  EXPECT_FALSE(second->result().contains("nextCursor"));

  // Calls are decided on their own: Bob's admin call never leaves the gateway.
  auto denied = bob.request("b3", "tools/call", json{{"name", "admin_reset"}});
  EXPECT_EQ(denied->error_message(), "Unknown tool: admin_reset");
  EXPECT_TRUE(bob_upstream.open_calls("tools/call").empty());
  alice.request("a3", "tools/call", json{{"name", "admin_reset"}});
  EXPECT_EQ(alice_upstream.only_call("tools/call").params()["name"], "admin_reset");
}

TEST_F(MuxPolicy, ResourcesAndTemplatesAreFilteredByWhatReadingThemNeeds) {
  admin_policy(policy_spec);
  start_ready({{"alpha"}});
  auto client = open();
  auto resources = list(*this, client, 1, "resources/list", "resources",
                        {json{resource("file:///pub/a"), resource("file:///etc/passwd")}});
  EXPECT_EQ(names_of(resources->result()["resources"], "uri"),
            (std::vector<std::string>{"file:///pub/a"}));
  auto templates = list(*this, client, 2, "resources/templates/list", "resourceTemplates",
                        {json{{{"uriTemplate", "file:///pub/{name}"}, {"name", "pub"}},
                              {{"uriTemplate", "db://{table}"}, {"name", "db"}}}});
  EXPECT_EQ(names_of(templates->result()["resourceTemplates"], "uriTemplate"),
            (std::vector<std::string>{"file:///pub/{name}"}));
  auto denied = client.request(3, "resources/read", json{{"uri", "file:///etc/passwd"}});
  EXPECT_EQ(denied->error_code(), mcp::error_code::resource_not_found);
  EXPECT_EQ(denied->error_message(), "Resource not found: file:///etc/passwd");
  EXPECT_TRUE(newest(0).open_calls("resources/read").empty());
}

TEST_F(MuxPolicy, AListChangedNeverExposesAHiddenTool) {
  policy_spec.rules.push_back(hide_secrets());
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto before = list(*this, client, 1, "tools/list", "tools", {json{named("echo")}, json::array()});
  EXPECT_EQ(names_of(before->result()["tools"]), (std::vector<std::string>{"alpha__echo"}));

  // The backend adds the hidden tool and says so; the client asks again at once.
  newest(0).notification(mcp::make_notification("notifications/tools/list_changed"));
  ASSERT_FALSE(client.channel->sent.empty());
  EXPECT_EQ(client.channel->sent.back().method, "notifications/tools/list_changed");
  auto after = list(*this, client, 2, "tools/list", "tools",
                    {json{named("echo"), named("secret")}, json::array()});
  EXPECT_EQ(names_of(after->result()["tools"]), (std::vector<std::string>{"alpha__echo"}));
  auto call = client.request(3, "tools/call", json{{"name", "alpha__secret"}});
  EXPECT_EQ(call->error_code(), mcp::error_code::invalid_params);
  EXPECT_EQ(call->error_message(), "Unknown tool: alpha__secret");
  EXPECT_EQ(calls_of(newest(0), "tools/call"), 0u);
}

TEST_F(MuxPolicy, AnonymousRequestsHaveAnUnauthenticatedPrincipal) {
  auto deny = rule("members-only", Effect::deny);
  deny.tools = patterns({"*"});
  deny.principal.authenticated = false;
  policy_spec.rules.push_back(deny);
  start_ready({{"alpha"}});
  auto anonymous = open();
  auto refused = anonymous.request(1, "tools/call", json{{"name", "echo"}});
  EXPECT_EQ(refused->error_message(), "Unknown tool: echo");
  auto member = open();
  member.authenticate("carol");
  member.request(2, "tools/call", json{{"name", "echo"}});
  EXPECT_EQ(newest(0).open_calls("tools/call").size(), 1u);
}

// Buckets that hold `capacity` tokens and never refill.
class CountingBuckets final : public policy::BucketStore {
 public:
  policy::TakeResult take_all(const std::vector<policy::BucketRequest>& buckets,
                              policy::RateClock::time_point) override {
    for (std::size_t index = 0; index < buckets.size(); ++index) {
      if (taken[buckets[index].key] >= buckets[index].capacity) {
        return {false, index, std::chrono::milliseconds(1500)};
      }
    }
    for (const auto& bucket : buckets) {
      ++taken[bucket.key];
    }
    return {};
  }
  std::size_t size() const noexcept override { return taken.size(); }
  std::uint64_t evictions() const noexcept override { return 0; }
  std::map<std::string, std::int64_t> taken;
};

// One limit per principal over everything it is asked about; records what it was asked.
class PerPrincipalLimit final : public policy::RateLimits {
 public:
  struct Asked {
    std::string key, method, backend, tool;
  };
  explicit PerPrincipalLimit(std::int64_t capacity) : capacity_(capacity) {}
  policy::RateVerdict check(const policy::Principal&, std::string_view principal_key,
                            const policy::RateTarget& target, policy::BucketStore& store,
                            policy::RateClock::time_point now) const override {
    asked.push_back({std::string(principal_key), std::string(target.method),
                     std::string(target.backend), std::string(target.tool)});
    const auto taken = store.take_all({{"per-principal\x1f" + std::string(principal_key), capacity_,
                                        capacity_, std::chrono::milliseconds(60000)}},
                                      now);
    if (taken.allowed) {
      return {};
    }
    return {false, "per-principal", taken.retry_after};
  }
  std::size_t size() const noexcept override { return 1; }
  mutable std::vector<Asked> asked;

 private:
  std::int64_t capacity_;
};

TEST_F(MuxPolicy, ARateLimitRefusesWith32005AndA429AfterTheBucketIsEmpty) {
  policy_spec.rules.push_back(hide_secrets());
  auto limits = std::make_shared<PerPrincipalLimit>(2);
  rate_limits = limits;
  auto buckets = std::make_shared<CountingBuckets>();
  GatewayOptions options;
  options.buckets = buckets;
  build({{"alpha"}, {"beta"}}, config::PrefixMode::automatic, options);
  gateway->start();
  discovery(0).ready(initialize_result_with(capabilities_all(), "a"));
  discovery(1).ready(initialize_result_with(capabilities_all(), "b"));
  auto client = open();
  client.authenticate("dave");

  // A denied request takes no token and is not even counted.
  client.request(1, "tools/call", json{{"name", "alpha__secret"}});
  EXPECT_TRUE(limits->asked.empty());

  client.request(2, "tools/call", json{{"name", "alpha__echo"}});
  client.request(3, "tools/list");
  ASSERT_EQ(limits->asked.size(), 2u);
  EXPECT_EQ(limits->asked[0].key, "sub:dave");
  EXPECT_EQ(limits->asked[0].method, "tools/call");
  EXPECT_EQ(limits->asked[0].backend, "alpha");
  EXPECT_EQ(limits->asked[0].tool, "echo");
  EXPECT_EQ(limits->asked[1].method, "tools/list");
  EXPECT_EQ(limits->asked[1].backend, "") << "fan-out methods name no backend";
  EXPECT_EQ(limits->asked[1].tool, "");
  EXPECT_EQ(buckets->taken["per-principal\x1fsub:dave"], 2);

  auto refused = client.request(4, "tools/call", json{{"name", "beta__echo"}});
  ASSERT_TRUE(refused->response);
  EXPECT_EQ(refused->error_code(), kRateLimitedError);
  EXPECT_EQ(*refused->response->id, mcp::RequestId(4));
  EXPECT_EQ(refused->response->error.data,
            json({{"retryAfterMs", 1500}, {"limit", "per-principal"}}));
  ASSERT_TRUE(refused->refusal);
  EXPECT_EQ(refused->refusal->http_status, 429);
  EXPECT_EQ(refused->refusal->retry_after, std::chrono::seconds(2)) << "1.5 s rounds up";
  EXPECT_EQ(calls_of(newest(1), "tools/call"), 0u) << "the refused call never left the gateway";

  // Another principal has its own bucket.
  auto other = open();
  other.authenticate("erin");
  other.request(5, "tools/call", json{{"name", "beta__echo"}});
  EXPECT_EQ(calls_of(newest(1), "tools/call"), 1u);
}

TEST_F(MuxPolicy, EveryDecisionIsAudited) {
  policy_spec.rules.push_back(hide_secrets());
  auto allow_echo = rule("echo-ok", Effect::allow);
  allow_echo.tools = patterns({"echo"});
  policy_spec.rules.push_back(allow_echo);
  rate_limits = std::make_shared<PerPrincipalLimit>(3);
  FakeAuditSink sink;
  GatewayOptions options;
  options.audit = &sink;
  options.buckets = std::make_shared<CountingBuckets>();
  build({{"alpha"}, {"beta"}}, config::PrefixMode::automatic, options);
  gateway->start();
  discovery(0).ready(initialize_result_with(capabilities_all(), "a"));
  discovery(1).ready(initialize_result_with(capabilities_all(), "b"));
  auto client = open();
  client.authenticate("frank");
  auto principal = std::make_shared<policy::Principal>(*client.context.principal);
  principal->api_key = "ci";
  principal->cert_subject = "CN=frank";
  client.context.principal = principal;

  client.request(1, "tools/call", json{{"name", "alpha__echo"}});
  client.request(2, "tools/call", json{{"name", "alpha__secret"}});
  client.request(3, "prompts/list");
  client.request(4, "tools/call", json{{"name", "alpha__echo"}});
  client.request(5, "tools/call", json{{"name", "alpha__echo"}});
  client.request(6, "ping");
  client.request(7, "tools/call", json{{"name", "nobody__echo"}});

  ASSERT_EQ(sink.records.size(), 5u) << "ping and unroutable names are not decided";
  const auto& allowed = sink.records[0];
  EXPECT_EQ(allowed.session, "sid");
  EXPECT_EQ(allowed.principal_key, "sub:frank");
  EXPECT_EQ(allowed.subject, "frank");
  EXPECT_EQ(allowed.api_key, "ci");
  EXPECT_EQ(allowed.cert_subject, "CN=frank");
  EXPECT_EQ(allowed.method, "tools/call");
  EXPECT_EQ(allowed.backend, "alpha");
  EXPECT_EQ(allowed.kind, policy::TargetKind::tool);
  EXPECT_EQ(allowed.name, "echo");
  EXPECT_EQ(allowed.decision, "allow");
  EXPECT_EQ(allowed.rule, "echo-ok");
  EXPECT_EQ(allowed.policy_generation, 0u);
  EXPECT_EQ(sink.records[1].decision, "deny");
  EXPECT_EQ(sink.records[1].rule, "hide-secrets");
  EXPECT_EQ(sink.records[1].name, "secret");
  EXPECT_EQ(sink.records[2].method, "prompts/list");
  EXPECT_EQ(sink.records[2].backend, "");
  EXPECT_EQ(sink.records[2].kind, policy::TargetKind::other);
  EXPECT_EQ(sink.records[2].rule, "") << "the default decided";
  EXPECT_EQ(sink.records[3].decision, "allow");
  EXPECT_EQ(sink.records[4].decision, "rate_limited");
  EXPECT_EQ(sink.records[4].rule, "per-principal");
}

TEST_F(MuxPolicy, WithoutIncludeAllowedOnlyRefusalsAreAudited) {
  policy_spec.rules.push_back(hide_secrets());
  audit.enabled = true;
  audit.include_allowed = false;
  FakeAuditSink sink;
  GatewayOptions options;
  options.audit = &sink;
  build({{"alpha"}, {"beta"}}, config::PrefixMode::automatic, options);
  gateway->start();
  discovery(0).ready(initialize_result_with(capabilities_all(), "a"));
  discovery(1).ready(initialize_result_with(capabilities_all(), "b"));
  auto client = open();
  client.request(1, "tools/call", json{{"name", "alpha__echo"}});
  client.request(2, "tools/call", json{{"name", "alpha__secret"}});
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].decision, "deny");
  EXPECT_EQ(sink.records[0].principal_key, "anonymous");
  EXPECT_EQ(sink.records[0].subject, "");
}

TEST_F(MuxPolicy, AReloadedPolicyAppliesToRequestsThatArriveAfterIt) {
  FakeAuditSink sink;
  GatewayOptions options;
  options.audit = &sink;
  build({{"alpha"}}, config::PrefixMode::automatic, options);
  gateway->start();
  discovery(0).ready(initialize_result_with(capabilities_all(), "a"));
  auto client = open();
  auto in_flight = client.request(1, "tools/list");

  policy::PolicySpec stricter;
  stricter.default_effect = Effect::allow;
  auto deny = rule("no-echo", Effect::deny);
  deny.tools = patterns({"echo"});
  stricter.rules.push_back(deny);
  auto snapshot = std::make_shared<PolicySnapshot>();
  snapshot->policy = compile_policy(stricter, {"alpha"});
  snapshot->generation = 1;
  gateway->set_policy(snapshot);

  // The list that started before the reload is answered with the policy it started with.
  newest(0).answer(newest(0).only_call("tools/list"), {{"tools", {named("echo")}}});
  EXPECT_EQ(names_of(in_flight->result()["tools"]), (std::vector<std::string>{"echo"}));
  auto after = list(*this, client, 2, "tools/list", "tools", {json{named("echo")}});
  EXPECT_TRUE(after->result()["tools"].empty());
  auto call = client.request(3, "tools/call", json{{"name", "echo"}});
  EXPECT_EQ(call->error_message(), "Unknown tool: echo");
  ASSERT_FALSE(sink.records.empty());
  EXPECT_EQ(sink.records.front().policy_generation, 0u);
  EXPECT_EQ(sink.records.back().policy_generation, 1u);
  EXPECT_EQ(sink.records.back().rule, "no-echo");

  // A snapshot without a policy is refused; generation 1 stays.
  gateway->set_policy(std::make_shared<PolicySnapshot>());
  gateway->set_policy(nullptr);
  auto again = client.request(4, "tools/call", json{{"name", "echo"}});
  EXPECT_EQ(again->error_message(), "Unknown tool: echo");
}

TEST_F(MuxPolicy, AConfigurationWithoutACompiledPolicyHasItsSpecCompiled) {
  auto config = std::make_shared<config::Config>();
  config::BackendConfig backend;
  backend.name = "alpha";
  config->backends.push_back(backend);
  // policy_spec says nothing: the default is deny, as the loader would compile it.
  registry.clients.assign(1, {});
  gateway =
      make_gateway(loop, config,
                   [this](std::size_t index, upstream::ClientOptions client_options,
                          upstream::ClientEvents& events) -> std::unique_ptr<upstream::Client> {
                     auto client = std::make_unique<FakeClient>(registry, index,
                                                                std::move(client_options), events);
                     registry.clients[index].push_back(client.get());
                     return client;
                   });
  gateway->start();
  discovery(0).ready(initialize_result_with(capabilities_all(), "a"));
  auto client = open();
  auto denied = client.request(1, "tools/list");
  EXPECT_EQ(denied->error_code(), mcp::error_code::method_not_found);
  EXPECT_EQ(client_count(0), 1u);
}

TEST_F(MuxPolicy, EachBackendReceivesOnlyTheClientHeadersItMayHave) {
  start_ready({{"alpha", config::SessionMode::per_session, false, {"X-Tenant"}},
               {"beta", config::SessionMode::per_session, false, {"x-trace", "x-tenant"}},
               {"gamma"}});
  server::RequestContext context;
  context.headers = {{"x-tenant", "t1"}, {"x-trace", "tr-9"}, {"x-other", "o"}};
  auto client = open(client_initialize_params(), context);

  client.request(1, "tools/call", json{{"name", "alpha__echo"}});
  auto& alpha_call = newest(0).only_call("tools/call");
  EXPECT_EQ(alpha_call.headers, (upstream::ForwardedHeaders{{"x-tenant", "t1"}}));
  EXPECT_EQ(newest(0).options.handshake_headers, (upstream::ForwardedHeaders{{"x-tenant", "t1"}}))
      << "the session's handshake carries the headers of the request that made it";
  EXPECT_TRUE(discovery(0).options.handshake_headers.empty());

  // A fan-out gives each backend its own share.
  client.request(2, "prompts/list");
  EXPECT_EQ(newest(0).only_call("prompts/list").headers,
            (upstream::ForwardedHeaders{{"x-tenant", "t1"}}));
  EXPECT_EQ(newest(1).only_call("prompts/list").headers,
            (upstream::ForwardedHeaders{{"x-tenant", "t1"}, {"x-trace", "tr-9"}}));
  EXPECT_TRUE(newest(2).only_call("prompts/list").headers.empty());
  EXPECT_TRUE(newest(2).options.handshake_headers.empty());

  // Headers are the request's own: a later request without them forwards nothing.
  client.context.headers.clear();
  client.request(3, "tools/call", json{{"name", "alpha__echo"}});
  EXPECT_TRUE(newest(0).open_calls("tools/call").back()->headers.empty());
}

}  // namespace
}  // namespace mcpgw::mux::testing
