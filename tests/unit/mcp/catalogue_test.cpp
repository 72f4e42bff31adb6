#include "mcp/catalogue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace mcpgw::mcp {
namespace {

using nlohmann::json;
using V = ProtocolVersion;

// ---- versions ----

TEST(ProtocolVersionTest, ParseAndPrintEverySupportedVersion) {
  const std::pair<const char*, V> expected[] = {
      {"2024-11-05", V::v2024_11_05}, {"2025-03-26", V::v2025_03_26},
      {"2025-06-18", V::v2025_06_18}, {"2025-11-25", V::v2025_11_25},
      {"2026-07-28", V::v2026_07_28},
  };
  ASSERT_EQ(supported_protocol_versions().size(), std::size(expected));
  std::size_t index = 0;
  for (const auto& [text, version] : expected) {
    const auto parsed = parse_protocol_version(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, version);
    EXPECT_EQ(to_string(version), text);
    EXPECT_EQ(supported_protocol_versions()[index++], version);
  }
  EXPECT_EQ(supported_protocol_versions_text(),
            "2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28");
}

TEST(ProtocolVersionTest, UnknownVersionsAreReportedNotDefaulted) {
  for (const char* text : {"", "2025-01-01", "2024-11-05 ", " 2024-11-05", "2025-6-18", "latest",
                           "draft", "DRAFT-2026-v1", "2026-07-28\n"}) {
    const auto parsed = parse_protocol_version(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_NE(parsed.error().find("unknown MCP protocol version"), std::string::npos);
    EXPECT_NE(parsed.error().find("2025-11-25"), std::string::npos) << parsed.error();
  }
  // Hostile text is quoted short and printable.
  const auto hostile = parse_protocol_version(std::string(10000, 'x') + "\n\x01");
  ASSERT_FALSE(hostile.has_value());
  EXPECT_LT(hostile.error().size(), 200u);
  const auto control = parse_protocol_version("a\nb");
  ASSERT_FALSE(control.has_value());
  EXPECT_EQ(control.error().find('\n'), std::string::npos);
}

TEST(ProtocolVersionTest, OrderingEraAndLatest) {
  EXPECT_LT(V::v2024_11_05, V::v2025_03_26);
  EXPECT_LT(V::v2025_03_26, V::v2025_06_18);
  EXPECT_LT(V::v2025_06_18, V::v2025_11_25);
  EXPECT_LT(V::v2025_11_25, V::v2026_07_28);
  const auto versions = supported_protocol_versions();
  EXPECT_TRUE(std::is_sorted(versions.begin(), versions.end()));
  // The enum order matches the date order of the strings.
  for (std::size_t i = 1; i < versions.size(); ++i) {
    EXPECT_LT(to_string(versions[i - 1]), to_string(versions[i]));
  }
  for (const auto legacy : {V::v2024_11_05, V::v2025_03_26, V::v2025_06_18, V::v2025_11_25}) {
    EXPECT_EQ(era(legacy), ProtocolEra::legacy) << to_string(legacy);
  }
  EXPECT_EQ(era(V::v2026_07_28), ProtocolEra::modern);
  EXPECT_EQ(kLatestLegacyVersion, V::v2025_11_25);
  EXPECT_EQ(kLatestVersion, V::v2026_07_28);
  EXPECT_EQ(versions.back(), kLatestVersion);
  EXPECT_EQ(to_string(ProtocolEra::legacy), "legacy");
  EXPECT_EQ(to_string(ProtocolEra::modern), "modern");
}

TEST(ProtocolVersionTest, Traits) {
  // Batches: JSONRPCMessage includes JSONRPCBatchRequest only in schema/2025-03-26/schema.ts.
  EXPECT_FALSE(traits(V::v2024_11_05).batches);
  EXPECT_TRUE(traits(V::v2025_03_26).batches);
  EXPECT_FALSE(traits(V::v2025_06_18).batches);
  EXPECT_FALSE(traits(V::v2025_11_25).batches);
  EXPECT_FALSE(traits(V::v2026_07_28).batches);
  // initialize: ClientRequest has InitializeRequest up to 2025-11-25, not in 2026-07-28.
  EXPECT_TRUE(traits(V::v2025_11_25).initialize);
  EXPECT_FALSE(traits(V::v2026_07_28).initialize);
  // MCP-Protocol-Version header: docs/specification/2025-06-18/basic/transports.mdx onwards.
  EXPECT_FALSE(traits(V::v2025_03_26).version_header);
  EXPECT_TRUE(traits(V::v2025_06_18).version_header);
  EXPECT_TRUE(traits(V::v2026_07_28).version_header);
  // JSONRPCErrorResponse.id optional: schema/2025-11-25/schema.ts `id?: RequestId`.
  EXPECT_FALSE(traits(V::v2025_06_18).error_id_optional);
  EXPECT_TRUE(traits(V::v2025_11_25).error_id_optional);
  EXPECT_TRUE(traits(V::v2026_07_28).per_request_meta);
  EXPECT_FALSE(traits(V::v2025_11_25).per_request_meta);
  EXPECT_TRUE(traits(V::v2026_07_28).result_type);
  // Resource not found: -32002 in server/resources.mdx up to 2025-11-25, -32602 in 2026-07-28.
  EXPECT_EQ(traits(V::v2024_11_05).resource_not_found_code, -32002);
  EXPECT_EQ(traits(V::v2025_11_25).resource_not_found_code, -32002);
  EXPECT_EQ(traits(V::v2026_07_28).resource_not_found_code, -32602);
}

// ---- methods ----

// Facts verified in modelcontextprotocol/modelcontextprotocol schema/<version>/schema.ts: the
// ClientRequest/ServerRequest/ClientNotification/ServerNotification unions (membership and
// direction), PaginatedRequest/PaginatedResult (pagination), List*Result (list field). One
// letter per version 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28:
// C client->server, S server->client, B both, - absent.
struct Expectation {
  const char* method;
  MethodKind kind;
  const char* directions;
  bool paginated;
  const char* list_field;
  RoutingKeyKind key;
};

constexpr auto R = MethodKind::request;
constexpr auto Nt = MethodKind::notification;

const Expectation kExpected[] = {
    // completion/complete is in the 2024-11-05 ClientRequest union already.
    {"completion/complete", R, "CCCCC", false, "", RoutingKeyKind::ref},
    // ElicitRequest joins ServerRequest in 2025-06-18; 2026-07-28 makes it an InputRequest.
    {"elicitation/create", R, "--SS-", false, "", RoutingKeyKind::none},
    {"initialize", R, "CCCC-", false, "", RoutingKeyKind::none},
    // 2026-07-28 changelog: logging/setLevel replaced by _meta io.modelcontextprotocol/logLevel.
    {"logging/setLevel", R, "CCCC-", false, "", RoutingKeyKind::none},
    // CancelledNotification is in both notification unions in every version (2026-07-28: the
    // server sends it on stdio to end a subscriptions/listen stream).
    {"notifications/cancelled", Nt, "BBBBB", false, "", RoutingKeyKind::request_id},
    // ElicitationCompleteNotification: ServerNotification of 2025-11-25 only.
    {"notifications/elicitation/complete", Nt, "---S-", false, "", RoutingKeyKind::elicitation_id},
    {"notifications/initialized", Nt, "CCCC-", false, "", RoutingKeyKind::none},
    {"notifications/message", Nt, "SSSSS", false, "", RoutingKeyKind::none},
    // ProgressNotification is in both unions until 2025-11-25; 2026-07-28 ClientNotification is
    // CancelledNotification alone.
    {"notifications/progress", Nt, "BBBBS", false, "", RoutingKeyKind::progress_token},
    {"notifications/prompts/list_changed", Nt, "SSSSS", false, "", RoutingKeyKind::none},
    {"notifications/resources/list_changed", Nt, "SSSSS", false, "", RoutingKeyKind::none},
    {"notifications/resources/updated", Nt, "SSSSS", false, "", RoutingKeyKind::uri},
    {"notifications/roots/list_changed", Nt, "CCCC-", false, "", RoutingKeyKind::none},
    {"notifications/subscriptions/acknowledged", Nt, "----S", false, "",
     RoutingKeyKind::subscription_id},
    // TaskStatusNotification is in ClientNotification and ServerNotification of 2025-11-25.
    {"notifications/tasks/status", Nt, "---B-", false, "", RoutingKeyKind::task_id},
    {"notifications/tools/list_changed", Nt, "SSSSS", false, "", RoutingKeyKind::none},
    // PingRequest is in ClientRequest and ServerRequest until 2025-11-25, gone in 2026-07-28.
    {"ping", R, "BBBB-", false, "", RoutingKeyKind::none},
    {"prompts/get", R, "CCCCC", false, "", RoutingKeyKind::name},
    {"prompts/list", R, "CCCCC", true, "prompts", RoutingKeyKind::none},
    {"resources/list", R, "CCCCC", true, "resources", RoutingKeyKind::none},
    {"resources/read", R, "CCCCC", false, "", RoutingKeyKind::uri},
    // SubscribeRequest/UnsubscribeRequest: replaced by subscriptions/listen in 2026-07-28.
    {"resources/subscribe", R, "CCCC-", false, "", RoutingKeyKind::uri},
    {"resources/templates/list", R, "CCCCC", true, "resourceTemplates", RoutingKeyKind::none},
    {"resources/unsubscribe", R, "CCCC-", false, "", RoutingKeyKind::uri},
    // ListRootsRequest extends Request, not PaginatedRequest; ListRootsResult has roots[].
    {"roots/list", R, "SSSS-", false, "roots", RoutingKeyKind::none},
    {"sampling/createMessage", R, "SSSS-", false, "", RoutingKeyKind::none},
    {"server/discover", R, "----C", false, "", RoutingKeyKind::none},
    {"subscriptions/listen", R, "----C", false, "", RoutingKeyKind::none},
    // Tasks: ClientRequest and ServerRequest of 2025-11-25; params.taskId; ListTasksRequest
    // extends PaginatedRequest with tasks[] in ListTasksResult. 2026-07-28 moves them to an
    // extension.
    {"tasks/cancel", R, "---B-", false, "", RoutingKeyKind::task_id},
    {"tasks/get", R, "---B-", false, "", RoutingKeyKind::task_id},
    {"tasks/list", R, "---B-", true, "tasks", RoutingKeyKind::none},
    {"tasks/result", R, "---B-", false, "", RoutingKeyKind::task_id},
    {"tools/call", R, "CCCCC", false, "", RoutingKeyKind::name},
    {"tools/list", R, "CCCCC", true, "tools", RoutingKeyKind::none},
};

Direction direction_from(char letter) {
  switch (letter) {
    case 'C':
      return Direction::client_to_server;
    case 'S':
      return Direction::server_to_client;
    case 'B':
      return Direction::both;
    default:
      return Direction::none;
  }
}

TEST(CatalogueTest, MatchesTheSchemaFacts) {
  ASSERT_EQ(catalogue::all().size(), std::size(kExpected));
  for (const auto& expected : kExpected) {
    SCOPED_TRACE(expected.method);
    const MethodInfo* info = catalogue::lookup(expected.method);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->name, expected.method);
    EXPECT_EQ(info->kind, expected.kind);
    EXPECT_EQ(info->paginated, expected.paginated);
    EXPECT_EQ(info->list_field, expected.list_field);
    EXPECT_EQ(info->routing_key, expected.key);
    for (const auto version : supported_protocol_versions()) {
      const auto index = static_cast<std::size_t>(version);
      const Direction want = direction_from(expected.directions[index]);
      EXPECT_EQ(info->direction(version), want) << to_string(version);
      EXPECT_EQ(info->in(version), want != Direction::none) << to_string(version);
      EXPECT_EQ(catalogue::is_known(expected.method, version), want != Direction::none);
      EXPECT_EQ(catalogue::lookup(expected.method, version),
                want != Direction::none ? info : nullptr);
    }
  }
}

TEST(CatalogueTest, MethodCountsPerVersion) {
  // Distinct method literals in each schema's four unions.
  const std::pair<V, std::size_t> counts[] = {
      {V::v2024_11_05, 24}, {V::v2025_03_26, 24}, {V::v2025_06_18, 25},
      {V::v2025_11_25, 31}, {V::v2026_07_28, 18},
  };
  for (const auto& [version, count] : counts) {
    std::size_t seen = 0;
    catalogue::for_each(version, [&](const MethodInfo& info) {
      EXPECT_TRUE(info.in(version));
      ++seen;
    });
    EXPECT_EQ(seen, count) << to_string(version);
  }
}

TEST(CatalogueTest, NotableDifferencesBetweenVersions) {
  // 2025-03-26 added no method over 2024-11-05 (it added batches, see Traits).
  for (const auto& info : catalogue::all()) {
    EXPECT_EQ(info.in(V::v2024_11_05), info.in(V::v2025_03_26)) << info.name;
  }
  EXPECT_FALSE(catalogue::is_known("elicitation/create", V::v2025_03_26));
  EXPECT_TRUE(catalogue::is_known("elicitation/create", V::v2025_06_18));
  EXPECT_FALSE(catalogue::is_known("tasks/get", V::v2025_06_18));
  EXPECT_TRUE(catalogue::is_known("tasks/get", V::v2025_11_25));
  EXPECT_TRUE(catalogue::is_known("notifications/elicitation/complete", V::v2025_11_25));
  EXPECT_FALSE(catalogue::is_known("notifications/elicitation/complete", V::v2026_07_28));
  EXPECT_TRUE(catalogue::is_known("completion/complete", V::v2024_11_05));
  for (const char* removed : {"initialize", "notifications/initialized", "ping", "logging/setLevel",
                              "resources/subscribe", "resources/unsubscribe", "tasks/list",
                              "notifications/roots/list_changed"}) {
    EXPECT_TRUE(catalogue::is_known(removed, kLatestLegacyVersion)) << removed;
    EXPECT_FALSE(catalogue::is_known(removed, kLatestVersion)) << removed;
    EXPECT_NE(catalogue::lookup(removed), nullptr) << removed;  // still known by name
  }
  for (const char* added :
       {"server/discover", "subscriptions/listen", "notifications/subscriptions/acknowledged"}) {
    EXPECT_FALSE(catalogue::is_known(added, kLatestLegacyVersion)) << added;
    EXPECT_TRUE(catalogue::is_known(added, kLatestVersion)) << added;
    EXPECT_EQ(catalogue::lookup(added)->first_version(), kLatestVersion);
  }
}

TEST(CatalogueTest, InputRequestsInTheModernEra) {
  // 2026-07-28 schema.ts: `type InputRequest = CreateMessageRequest | ListRootsRequest |
  // ElicitRequest`, no longer in any request union.
  std::set<std::string_view> flagged;
  for (const auto& info : catalogue::all()) {
    if (info.input_request_in_modern) {
      flagged.insert(info.name);
      EXPECT_FALSE(info.in(V::v2026_07_28)) << info.name;
      EXPECT_EQ(info.any_direction(), Direction::server_to_client) << info.name;
    }
  }
  EXPECT_EQ(flagged, (std::set<std::string_view>{"elicitation/create", "roots/list",
                                                 "sampling/createMessage"}));
}

TEST(CatalogueTest, LookupDetails) {
  EXPECT_EQ(catalogue::lookup("tools/unknown"), nullptr);
  EXPECT_EQ(catalogue::lookup(""), nullptr);
  EXPECT_EQ(catalogue::lookup("TOOLS/CALL"), nullptr);
  EXPECT_EQ(catalogue::lookup("tools/call "), nullptr);
  EXPECT_EQ(catalogue::lookup(std::string_view("tools/call\0x", 12)), nullptr);
  EXPECT_EQ(catalogue::lookup("a"), nullptr);
  EXPECT_EQ(catalogue::lookup("zzz"), nullptr);
  EXPECT_FALSE(catalogue::is_known("nope", V::v2025_11_25));

  const MethodInfo* ping = catalogue::lookup("ping");
  ASSERT_NE(ping, nullptr);
  EXPECT_EQ(ping->first_version(), V::v2024_11_05);
  EXPECT_EQ(ping->last_version(), V::v2025_11_25);
  EXPECT_EQ(ping->any_direction(), Direction::both);
  EXPECT_EQ(catalogue::lookup("notifications/progress")->any_direction(), Direction::both);
  EXPECT_EQ(catalogue::lookup("notifications/progress")->direction(V::v2026_07_28),
            Direction::server_to_client);

  // Sorted and unique, so lookup's binary search sees every entry.
  const auto all = catalogue::all();
  for (std::size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1].name, all[i].name);
  }
  for (const auto& info : all) {
    EXPECT_EQ(catalogue::lookup(info.name), &info);
    EXPECT_TRUE(info.first_version().has_value()) << info.name;
    EXPECT_EQ(info.name.rfind("notifications/", 0) == 0, info.kind == MethodKind::notification)
        << info.name;
    EXPECT_EQ(info.paginated, !info.list_field.empty() && info.name != "roots/list") << info.name;
  }
}

TEST(CatalogueTest, Names) {
  EXPECT_EQ(to_string(Direction::client_to_server), "client->server");
  EXPECT_EQ(to_string(Direction::server_to_client), "server->client");
  EXPECT_EQ(to_string(Direction::both), "both");
  EXPECT_EQ(to_string(Direction::none), "none");
  EXPECT_EQ(to_string(MethodKind::request), "request");
  EXPECT_EQ(to_string(MethodKind::notification), "notification");
  EXPECT_EQ(to_string(RoutingKeyKind::task_id), "task_id");
  EXPECT_EQ(routing_key_path(RoutingKeyKind::name), "params.name");
  EXPECT_EQ(routing_key_path(RoutingKeyKind::request_id), "params.requestId");
  EXPECT_EQ(routing_key_path(RoutingKeyKind::none), "");
  EXPECT_EQ(to_string(RefType::prompt), "ref/prompt");
  EXPECT_EQ(to_string(RefType::resource), "ref/resource");
}

// ---- routing keys ----

Message request(const std::string& method, const std::string& params_json) {
  auto decoded = decode_message(R"({"jsonrpc":"2.0","id":1,"method":")" + method +
                                R"(","params":)" + params_json + "}");
  EXPECT_TRUE(decoded.has_value()) << params_json;
  return decoded ? std::move(decoded).value() : Message{};
}

RoutingKey key_ok(const Message& message) {
  auto key = catalogue::routing_key(message);
  EXPECT_TRUE(key.has_value()) << message.method << ": " << (key ? "" : key.error().message);
  return key ? key.value() : RoutingKey{};
}

RoutingKeyError key_fail(const Message& message) {
  auto key = catalogue::routing_key(message);
  EXPECT_FALSE(key.has_value()) << message.method;
  if (key) {
    return RoutingKeyError{};
  }
  EXPECT_EQ(key.error().code(), error_code::invalid_params);
  EXPECT_EQ(key.error().message.rfind(message.method + ": ", 0), 0u) << key.error().message;
  return key.error();
}

TEST(RoutingKeyTest, NamesAndUris) {
  const RoutingKey tool = key_ok(request("tools/call", R"({"name":"search","arguments":{}})"));
  EXPECT_EQ(tool.kind, RoutingKeyKind::name);
  EXPECT_EQ(tool.value, "search");
  EXPECT_FALSE(tool.id.has_value());

  const RoutingKey prompt = key_ok(request("prompts/get", R"({"name":"greet"})"));
  EXPECT_EQ(prompt.kind, RoutingKeyKind::name);
  EXPECT_EQ(prompt.value, "greet");

  for (const char* method : {"resources/read", "resources/subscribe", "resources/unsubscribe"}) {
    const RoutingKey uri = key_ok(request(method, R"({"uri":"file:///a b"})"));
    EXPECT_EQ(uri.kind, RoutingKeyKind::uri) << method;
    EXPECT_EQ(uri.value, "file:///a b") << method;
  }
  const auto updated = decode_message(
      R"({"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"test://x"}})");
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(key_ok(*updated).value, "test://x");
}

TEST(RoutingKeyTest, MissingOrWrongTypedKeys) {
  const RoutingKeyError missing = key_fail(request("tools/call", R"({"arguments":{}})"));
  EXPECT_EQ(missing.kind, RoutingKeyErrorKind::missing);
  EXPECT_NE(missing.message.find("params.name is missing"), std::string::npos) << missing.message;

  const RoutingKeyError number = key_fail(request("tools/call", R"({"name":42})"));
  EXPECT_EQ(number.kind, RoutingKeyErrorKind::wrong_type);
  EXPECT_NE(number.message.find("params.name must be a string, got an integer"), std::string::npos)
      << number.message;

  EXPECT_EQ(key_fail(request("resources/read", R"({"uri":null})")).kind,
            RoutingKeyErrorKind::wrong_type);
  EXPECT_EQ(key_fail(request("prompts/get", R"({"name":["a"]})")).kind,
            RoutingKeyErrorKind::wrong_type);

  const auto no_params = decode_message(R"({"jsonrpc":"2.0","id":1,"method":"tools/call"})");
  ASSERT_TRUE(no_params.has_value());
  const RoutingKeyError absent = key_fail(*no_params);
  EXPECT_EQ(absent.kind, RoutingKeyErrorKind::missing_params);
  EXPECT_NE(absent.message.find("params.name"), std::string::npos) << absent.message;

  const RoutingKeyError array = key_fail(request("tools/call", R"(["search"])"));
  EXPECT_EQ(array.kind, RoutingKeyErrorKind::missing_params);
  EXPECT_NE(array.message.find("an array"), std::string::npos) << array.message;
}

TEST(RoutingKeyTest, CompletionRef) {
  const RoutingKey prompt = key_ok(request(
      "completion/complete",
      R"({"ref":{"type":"ref/prompt","name":"code_review"},"argument":{"name":"language","value":"py"}})"));
  EXPECT_EQ(prompt.kind, RoutingKeyKind::ref);
  EXPECT_EQ(prompt.ref_type, RefType::prompt);
  EXPECT_EQ(prompt.value, "code_review");

  const RoutingKey resource = key_ok(
      request("completion/complete", R"({"ref":{"type":"ref/resource","uri":"file:///{path}"}})"));
  EXPECT_EQ(resource.ref_type, RefType::resource);
  EXPECT_EQ(resource.value, "file:///{path}");

  struct Case {
    const char* params;
    RoutingKeyErrorKind kind;
    const char* fragment;
  };
  const Case cases[] = {
      {R"({"argument":{}})", RoutingKeyErrorKind::missing, "params.ref is missing"},
      {R"({"ref":"ref/prompt"})", RoutingKeyErrorKind::wrong_type, "must be an object"},
      {R"({"ref":{"name":"x"}})", RoutingKeyErrorKind::missing, "params.ref.type is missing"},
      {R"({"ref":{"type":1,"name":"x"}})", RoutingKeyErrorKind::wrong_type,
       "params.ref.type must be a string"},
      {R"({"ref":{"type":"ref/tool","name":"x"}})", RoutingKeyErrorKind::wrong_type,
       "\"ref/tool\""},
      {R"({"ref":{"type":"ref/prompt","uri":"x"}})", RoutingKeyErrorKind::missing,
       "params.ref.name is missing"},
      {R"({"ref":{"type":"ref/resource","name":"x"}})", RoutingKeyErrorKind::missing,
       "params.ref.uri is missing"},
      {R"({"ref":{"type":"ref/resource","uri":{}}})", RoutingKeyErrorKind::wrong_type,
       "params.ref.uri must be a string"},
  };
  for (const auto& c : cases) {
    const RoutingKeyError error = key_fail(request("completion/complete", c.params));
    EXPECT_EQ(error.kind, c.kind) << c.params;
    EXPECT_NE(error.message.find(c.fragment), std::string::npos)
        << c.params << ": " << error.message;
  }
}

TEST(RoutingKeyTest, TaskIds) {
  for (const char* method : {"tasks/get", "tasks/result", "tasks/cancel"}) {
    const RoutingKey key = key_ok(request(method, R"({"taskId":"t-1"})"));
    EXPECT_EQ(key.kind, RoutingKeyKind::task_id) << method;
    EXPECT_EQ(key.value, "t-1");
    EXPECT_EQ(key_fail(request(method, R"({"taskId":1})")).kind, RoutingKeyErrorKind::wrong_type);
  }
  const auto status = decode_message(
      R"({"jsonrpc":"2.0","method":"notifications/tasks/status","params":{"taskId":"t-2","status":"working"}})");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(key_ok(*status).value, "t-2");
  // tasks/list has no key even though it has params.
  EXPECT_EQ(key_ok(request("tasks/list", R"({"cursor":"c"})")).kind, RoutingKeyKind::none);
}

TEST(RoutingKeyTest, ProgressTokensKeepStringVersusInteger) {
  auto progress = [](const std::string& token) {
    auto decoded = decode_message(
        R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":)" + token +
        R"(,"progress":1}})");
    EXPECT_TRUE(decoded.has_value());
    return decoded ? std::move(decoded).value() : Message{};
  };
  const RoutingKey integer = key_ok(progress("7"));
  EXPECT_EQ(integer.kind, RoutingKeyKind::progress_token);
  EXPECT_EQ(integer.id, RequestId(7));
  EXPECT_EQ(integer.value, "7");
  const RoutingKey text = key_ok(progress("\"7\""));
  EXPECT_EQ(text.id, RequestId("7"));
  EXPECT_EQ(text.value, "\"7\"");
  EXPECT_NE(integer, text);

  for (const char* bad : {"7.5", "null", "true", "{}", "[7]"}) {
    const RoutingKeyError error = key_fail(progress(bad));
    EXPECT_EQ(error.kind, RoutingKeyErrorKind::wrong_type) << bad;
    EXPECT_NE(error.message.find("params.progressToken must be a string or an integer"),
              std::string::npos)
        << error.message;
  }
}

TEST(RoutingKeyTest, CancelledRequestId) {
  auto cancelled = [](const std::string& params) {
    auto decoded = decode_message(
        R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":)" + params + "}");
    EXPECT_TRUE(decoded.has_value());
    return decoded ? std::move(decoded).value() : Message{};
  };
  const RoutingKey integer = key_ok(cancelled(R"({"requestId":12,"reason":"user"})"));
  EXPECT_EQ(integer.kind, RoutingKeyKind::request_id);
  EXPECT_EQ(integer.id, RequestId(12));
  EXPECT_EQ(key_ok(cancelled(R"({"requestId":"12"})")).id, RequestId("12"));
  // Optional in 2025-11-25 (task cancellation uses tasks/cancel): reported as missing.
  EXPECT_EQ(key_fail(cancelled(R"({"reason":"x"})")).kind, RoutingKeyErrorKind::missing);
  EXPECT_EQ(key_fail(cancelled(R"({"requestId":1.5})")).kind, RoutingKeyErrorKind::wrong_type);
  EXPECT_EQ(key_fail(cancelled(R"({"requestId":9223372036854775808})")).kind,
            RoutingKeyErrorKind::wrong_type);
}

TEST(RoutingKeyTest, ElicitationAndSubscriptionIds) {
  const auto complete = decode_message(
      R"({"jsonrpc":"2.0","method":"notifications/elicitation/complete","params":{"elicitationId":"e9"}})");
  ASSERT_TRUE(complete.has_value());
  const RoutingKey elicitation = key_ok(*complete);
  EXPECT_EQ(elicitation.kind, RoutingKeyKind::elicitation_id);
  EXPECT_EQ(elicitation.value, "e9");

  auto ack = [](const std::string& params) {
    auto decoded = decode_message(
        R"({"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged","params":)" +
        params + "}");
    EXPECT_TRUE(decoded.has_value());
    return decoded ? std::move(decoded).value() : Message{};
  };
  const RoutingKey subscription = key_ok(ack(
      R"({"notifications":{"toolsListChanged":true},"_meta":{"io.modelcontextprotocol/subscriptionId":3}})"));
  EXPECT_EQ(subscription.kind, RoutingKeyKind::subscription_id);
  EXPECT_EQ(subscription.id, RequestId(3));
  EXPECT_EQ(key_fail(ack(R"({"notifications":{}})")).kind, RoutingKeyErrorKind::missing);
  EXPECT_EQ(key_fail(ack(R"({"_meta":[]})")).kind, RoutingKeyErrorKind::wrong_type);
  EXPECT_EQ(key_fail(ack(R"({"_meta":{"io.modelcontextprotocol/subscriptionId":null}})")).kind,
            RoutingKeyErrorKind::wrong_type);
}

TEST(RoutingKeyTest, MessagesWithoutKeys) {
  // No key: params are not inspected at all.
  EXPECT_EQ(key_ok(request("tools/list", R"(["odd"])")).kind, RoutingKeyKind::none);
  EXPECT_EQ(key_ok(request("initialize", R"({"protocolVersion":"2025-06-18"})")).kind,
            RoutingKeyKind::none);
  EXPECT_EQ(key_ok(request("vendor/custom", R"({"name":1})")).kind, RoutingKeyKind::none);
  const auto response = decode_message(R"({"jsonrpc":"2.0","id":1,"result":{"name":5}})");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(key_ok(*response).kind, RoutingKeyKind::none);
}

TEST(RoutingKeyTest, ExplicitKindOverload) {
  const json params = json::parse(R"({"name":"t"})");
  const auto key = catalogue::routing_key(RoutingKeyKind::name, &params, "tools/call");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->value, "t");
  const auto absent = catalogue::routing_key(RoutingKeyKind::uri, nullptr, "");
  ASSERT_FALSE(absent.has_value());
  EXPECT_EQ(absent.error().kind, RoutingKeyErrorKind::missing_params);
  EXPECT_EQ(absent.error().message.rfind("params are missing", 0), 0u) << absent.error().message;
  EXPECT_TRUE(catalogue::routing_key(RoutingKeyKind::none, nullptr, "x").has_value());
}

}  // namespace
}  // namespace mcpgw::mcp
