#include "mcp/catalogue.hpp"

#include <algorithm>
#include <iterator>

namespace mcpgw::mcp {

using nlohmann::json;

namespace {

constexpr std::array<ProtocolVersion, kProtocolVersionCount> kVersions = {
    ProtocolVersion::v2024_11_05, ProtocolVersion::v2025_03_26, ProtocolVersion::v2025_06_18,
    ProtocolVersion::v2025_11_25, ProtocolVersion::v2026_07_28,
};
constexpr std::array<std::string_view, kProtocolVersionCount> kVersionNames = {
    "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28",
};

constexpr auto N = Direction::none;
constexpr auto C = Direction::client_to_server;
constexpr auto S = Direction::server_to_client;
constexpr auto B = Direction::both;
constexpr auto kRequest = MethodKind::request;
constexpr auto kNotification = MethodKind::notification;

// Columns: 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25, 2026-07-28.
// Directions: membership of the ClientRequest/ServerRequest/ClientNotification/ServerNotification
// unions in schema/<version>/schema.ts ("both" = in the client and the server union).
// - 2024-11-05 and 2025-03-26 have the same method set; 2025-06-18 adds elicitation/create;
//   2025-11-25 adds tasks/{get,result,list,cancel} and notifications/tasks/status (both unions) and
//   notifications/elicitation/complete. completion/complete exists from 2024-11-05 on.
// - 2026-07-28 (schema.ts + changelog.mdx): no initialize/initialized, ping, logging/setLevel,
//   notifications/roots/list_changed, resources/(un)subscribe (replaced by subscriptions/listen),
//   tasks (moved to the io.modelcontextprotocol/tasks extension) or
//   notifications/elicitation/complete; adds server/discover, subscriptions/listen and
//   notifications/subscriptions/acknowledged; ClientNotification is only CancelledNotification,
//   so progress flows server->client only, while the server may send notifications/cancelled on
//   stdio to end a subscriptions/listen stream; sampling/createMessage, roots/list and
//   elicitation/create are InputRequest values of InputRequiredResult, not JSON-RPC requests.
// Pagination and list fields: the methods whose request extends PaginatedRequest and whose result
// extends PaginatedResult (roots/list has a "roots" array but is not paginated).
// clang-format off
constexpr std::array<MethodInfo, 34> kMethods = {{
    {"completion/complete", kRequest, {C, C, C, C, C}, false, "", RoutingKeyKind::ref, false},
    {"elicitation/create", kRequest, {N, N, S, S, N}, false, "", RoutingKeyKind::none, true},
    {"initialize", kRequest, {C, C, C, C, N}, false, "", RoutingKeyKind::none, false},
    {"logging/setLevel", kRequest, {C, C, C, C, N}, false, "", RoutingKeyKind::none, false},
    {"notifications/cancelled", kNotification, {B, B, B, B, B}, false, "", RoutingKeyKind::request_id, false},
    {"notifications/elicitation/complete", kNotification, {N, N, N, S, N}, false, "", RoutingKeyKind::elicitation_id, false},
    {"notifications/initialized", kNotification, {C, C, C, C, N}, false, "", RoutingKeyKind::none, false},
    {"notifications/message", kNotification, {S, S, S, S, S}, false, "", RoutingKeyKind::none, false},
    {"notifications/progress", kNotification, {B, B, B, B, S}, false, "", RoutingKeyKind::progress_token, false},
    {"notifications/prompts/list_changed", kNotification, {S, S, S, S, S}, false, "", RoutingKeyKind::none, false},
    {"notifications/resources/list_changed", kNotification, {S, S, S, S, S}, false, "", RoutingKeyKind::none, false},
    {"notifications/resources/updated", kNotification, {S, S, S, S, S}, false, "", RoutingKeyKind::uri, false},
    {"notifications/roots/list_changed", kNotification, {C, C, C, C, N}, false, "", RoutingKeyKind::none, false},
    {"notifications/subscriptions/acknowledged", kNotification, {N, N, N, N, S}, false, "", RoutingKeyKind::subscription_id, false},
    {"notifications/tasks/status", kNotification, {N, N, N, B, N}, false, "", RoutingKeyKind::task_id, false},
    {"notifications/tools/list_changed", kNotification, {S, S, S, S, S}, false, "", RoutingKeyKind::none, false},
    {"ping", kRequest, {B, B, B, B, N}, false, "", RoutingKeyKind::none, false},
    {"prompts/get", kRequest, {C, C, C, C, C}, false, "", RoutingKeyKind::name, false},
    {"prompts/list", kRequest, {C, C, C, C, C}, true, "prompts", RoutingKeyKind::none, false},
    {"resources/list", kRequest, {C, C, C, C, C}, true, "resources", RoutingKeyKind::none, false},
    {"resources/read", kRequest, {C, C, C, C, C}, false, "", RoutingKeyKind::uri, false},
    {"resources/subscribe", kRequest, {C, C, C, C, N}, false, "", RoutingKeyKind::uri, false},
    {"resources/templates/list", kRequest, {C, C, C, C, C}, true, "resourceTemplates", RoutingKeyKind::none, false},
    {"resources/unsubscribe", kRequest, {C, C, C, C, N}, false, "", RoutingKeyKind::uri, false},
    {"roots/list", kRequest, {S, S, S, S, N}, false, "roots", RoutingKeyKind::none, true},
    {"sampling/createMessage", kRequest, {S, S, S, S, N}, false, "", RoutingKeyKind::none, true},
    {"server/discover", kRequest, {N, N, N, N, C}, false, "", RoutingKeyKind::none, false},
    {"subscriptions/listen", kRequest, {N, N, N, N, C}, false, "", RoutingKeyKind::none, false},
    {"tasks/cancel", kRequest, {N, N, N, B, N}, false, "", RoutingKeyKind::task_id, false},
    {"tasks/get", kRequest, {N, N, N, B, N}, false, "", RoutingKeyKind::task_id, false},
    {"tasks/list", kRequest, {N, N, N, B, N}, true, "tasks", RoutingKeyKind::none, false},
    {"tasks/result", kRequest, {N, N, N, B, N}, false, "", RoutingKeyKind::task_id, false},
    {"tools/call", kRequest, {C, C, C, C, C}, false, "", RoutingKeyKind::name, false},
    {"tools/list", kRequest, {C, C, C, C, C}, true, "tools", RoutingKeyKind::none, false},
}};
// clang-format on

static_assert(std::is_sorted(kMethods.begin(), kMethods.end(),
                             [](const MethodInfo& a, const MethodInfo& b) {
                               return a.name < b.name;
                             }),
              "kMethods must stay sorted by name for the binary search in lookup()");

constexpr std::string_view kSubscriptionIdKey = "io.modelcontextprotocol/subscriptionId";

std::string_view member_name(RoutingKeyKind kind) {
  switch (kind) {
    case RoutingKeyKind::none:
      return "";
    case RoutingKeyKind::name:
      return "name";
    case RoutingKeyKind::uri:
      return "uri";
    case RoutingKeyKind::ref:
      return "ref";
    case RoutingKeyKind::task_id:
      return "taskId";
    case RoutingKeyKind::progress_token:
      return "progressToken";
    case RoutingKeyKind::request_id:
      return "requestId";
    case RoutingKeyKind::elicitation_id:
      return "elicitationId";
    case RoutingKeyKind::subscription_id:
      return kSubscriptionIdKey;
  }
  return "";
}

// Quotes caller-supplied text in a diagnostic: short and printable, whatever it holds.
std::string quote_short(std::string_view text) {
  constexpr std::size_t kLimit = 64;
  std::string out = "\"";
  for (const char c : text.substr(0, kLimit)) {
    const auto byte = static_cast<unsigned char>(c);
    out += (byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\') ? c : '?';
  }
  out += text.size() > kLimit ? "...\"" : "\"";
  return out;
}

std::string label(std::string_view method) {
  if (method.empty()) {
    return std::string();
  }
  std::string out = quote_short(method);
  return out.substr(1, out.size() - 2) + ": ";
}

Unexpected<RoutingKeyError> key_error(RoutingKeyErrorKind kind, std::string message) {
  return unexpected(RoutingKeyError{kind, std::move(message)});
}

// A required string member of `object`, reported as `path` in errors.
Expected<std::string, RoutingKeyError> string_member(const json& object, std::string_view member,
                                                     std::string_view path,
                                                     std::string_view method) {
  const auto found = object.find(member);
  if (found == object.end()) {
    return key_error(RoutingKeyErrorKind::missing,
                     label(method) + std::string(path) + " is missing");
  }
  const auto* text = found->get_ptr<const json::string_t*>();
  if (text == nullptr) {
    return key_error(RoutingKeyErrorKind::wrong_type, label(method) + std::string(path) +
                                                          " must be a string, got " +
                                                          std::string(describe_json_type(*found)));
  }
  return *text;
}

// A required string-or-integer member (progress token, request id, subscription id).
Expected<RoutingKey, RoutingKeyError> id_member(RoutingKeyKind kind, const json& object,
                                                std::string_view member, std::string_view path,
                                                std::string_view method) {
  const auto found = object.find(member);
  if (found == object.end()) {
    return key_error(RoutingKeyErrorKind::missing,
                     label(method) + std::string(path) + " is missing");
  }
  auto id = RequestId::from_json(*found);
  if (!id) {
    return key_error(RoutingKeyErrorKind::wrong_type,
                     label(method) + std::string(path) + " " + id.error());
  }
  RoutingKey key;
  key.kind = kind;
  key.value = id->to_string();
  key.id = std::move(*id);
  return key;
}

Expected<RoutingKey, RoutingKeyError> ref_key(const json& params, std::string_view method) {
  const auto found = params.find("ref");
  if (found == params.end()) {
    return key_error(RoutingKeyErrorKind::missing, label(method) + "params.ref is missing");
  }
  if (!found->is_object()) {
    return key_error(RoutingKeyErrorKind::wrong_type, label(method) +
                                                          "params.ref must be an object, got " +
                                                          std::string(describe_json_type(*found)));
  }
  auto type = string_member(*found, "type", "params.ref.type", method);
  if (!type) {
    return unexpected(std::move(type.error()));
  }
  RoutingKey key;
  key.kind = RoutingKeyKind::ref;
  Expected<std::string, RoutingKeyError> target = std::string();
  if (*type == "ref/prompt") {
    key.ref_type = RefType::prompt;
    target = string_member(*found, "name", "params.ref.name", method);
  } else if (*type == "ref/resource") {
    key.ref_type = RefType::resource;
    target = string_member(*found, "uri", "params.ref.uri", method);
  } else {
    return key_error(RoutingKeyErrorKind::wrong_type,
                     label(method) +
                         "params.ref.type must be \"ref/prompt\" or \"ref/resource\", got " +
                         quote_short(*type));
  }
  if (!target) {
    return unexpected(std::move(target.error()));
  }
  key.value = std::move(*target);
  return key;
}

}  // namespace

// ---- versions ----

Expected<ProtocolVersion, std::string> parse_protocol_version(std::string_view text) {
  for (std::size_t index = 0; index < kVersions.size(); ++index) {
    if (kVersionNames[index] == text) {
      return kVersions[index];
    }
  }
  return unexpected("unknown MCP protocol version " + quote_short(text) +
                    " (supported: " + supported_protocol_versions_text() + ")");
}

std::string_view to_string(ProtocolVersion version) {
  return kVersionNames[static_cast<std::size_t>(version)];
}

std::string_view to_string(ProtocolEra value) {
  return value == ProtocolEra::legacy ? "legacy" : "modern";
}

ProtocolEra era(ProtocolVersion version) {
  return version >= ProtocolVersion::v2026_07_28 ? ProtocolEra::modern : ProtocolEra::legacy;
}

std::span<const ProtocolVersion> supported_protocol_versions() {
  return kVersions;
}

std::string supported_protocol_versions_text() {
  std::string out;
  for (const auto name : kVersionNames) {
    if (!out.empty()) {
      out += ", ";
    }
    out += name;
  }
  return out;
}

VersionTraits traits(ProtocolVersion version) {
  VersionTraits result;
  // schema/2025-03-26/schema.ts: JSONRPCMessage includes JSONRPCBatchRequest/BatchResponse; the
  // 2025-06-18 schema drops them again.
  result.batches = version == ProtocolVersion::v2025_03_26;
  // changelog 2026-07-28 items 1-2: no initialize handshake, no sessions.
  result.initialize = era(version) == ProtocolEra::legacy;
  // docs/specification/2025-06-18/basic/transports.mdx: clients MUST send MCP-Protocol-Version;
  // 2026-07-28 basic/transports/streamable-http.mdx keeps it.
  result.version_header = version >= ProtocolVersion::v2025_06_18;
  // JSONRPCErrorResponse.id is `id?: RequestId` from 2025-11-25 (`id: RequestId` before).
  result.error_id_optional = version >= ProtocolVersion::v2025_11_25;
  // schema/2026-07-28: RequestMetaObject requires io.modelcontextprotocol/protocolVersion and
  // clientCapabilities; Result requires resultType.
  result.per_request_meta = version >= ProtocolVersion::v2026_07_28;
  result.result_type = version >= ProtocolVersion::v2026_07_28;
  // server/resources.mdx: -32002 up to 2025-11-25; 2026-07-28 changelog minor item 6: -32602.
  result.resource_not_found_code = version >= ProtocolVersion::v2026_07_28
                                       ? error_code::invalid_params
                                       : error_code::resource_not_found;
  return result;
}

// ---- methods ----

std::string_view to_string(Direction direction) {
  switch (direction) {
    case Direction::none:
      return "none";
    case Direction::client_to_server:
      return "client->server";
    case Direction::server_to_client:
      return "server->client";
    case Direction::both:
      return "both";
  }
  return "none";
}

std::string_view to_string(MethodKind kind) {
  return kind == MethodKind::request ? "request" : "notification";
}

namespace {

// Name and location of each routing key, in RoutingKeyKind order.
struct RoutingKeyText {
  std::string_view name;
  std::string_view path;
};
constexpr RoutingKeyText kRoutingKeyTexts[] = {
    {"none", ""},
    {"name", "params.name"},
    {"uri", "params.uri"},
    {"ref", "params.ref"},
    {"task_id", "params.taskId"},
    {"progress_token", "params.progressToken"},
    {"request_id", "params.requestId"},
    {"elicitation_id", "params.elicitationId"},
    {"subscription_id", "params._meta[\"io.modelcontextprotocol/subscriptionId\"]"},
};
static_assert(std::size(kRoutingKeyTexts) ==
                  static_cast<std::size_t>(RoutingKeyKind::subscription_id) + 1,
              "one entry per RoutingKeyKind");

const RoutingKeyText& routing_key_text(RoutingKeyKind kind) {
  const auto index = static_cast<std::size_t>(kind);
  return index < std::size(kRoutingKeyTexts) ? kRoutingKeyTexts[index] : kRoutingKeyTexts[0];
}

}  // namespace

std::string_view to_string(RoutingKeyKind kind) {
  return routing_key_text(kind).name;
}

std::string_view routing_key_path(RoutingKeyKind kind) {
  return routing_key_text(kind).path;
}

std::string_view to_string(RefType type) {
  switch (type) {
    case RefType::none:
      return "none";
    case RefType::prompt:
      return "ref/prompt";
    case RefType::resource:
      return "ref/resource";
  }
  return "none";
}

Direction MethodInfo::any_direction() const {
  unsigned bits = 0;
  for (const auto direction : directions) {
    bits |= static_cast<unsigned>(direction);
  }
  return static_cast<Direction>(bits);
}

std::optional<ProtocolVersion> MethodInfo::first_version() const {
  for (const auto version : kVersions) {
    if (in(version)) {
      return version;
    }
  }
  return std::nullopt;
}

std::optional<ProtocolVersion> MethodInfo::last_version() const {
  for (auto it = kVersions.rbegin(); it != kVersions.rend(); ++it) {
    if (in(*it)) {
      return *it;
    }
  }
  return std::nullopt;
}

namespace catalogue {

const MethodInfo* lookup(std::string_view method) {
  const auto found = std::lower_bound(
      kMethods.begin(), kMethods.end(), method,
      [](const MethodInfo& info, std::string_view name) { return info.name < name; });
  if (found == kMethods.end() || found->name != method) {
    return nullptr;
  }
  return &*found;
}

const MethodInfo* lookup(std::string_view method, ProtocolVersion version) {
  const MethodInfo* info = lookup(method);
  return info != nullptr && info->in(version) ? info : nullptr;
}

bool is_known(std::string_view method, ProtocolVersion version) {
  return lookup(method, version) != nullptr;
}

std::span<const MethodInfo> all() {
  return kMethods;
}

Expected<RoutingKey, RoutingKeyError> routing_key(const Message& message) {
  if (message.is_response()) {
    return RoutingKey{};
  }
  const MethodInfo* info = lookup(message.method);
  if (info == nullptr || info->routing_key == RoutingKeyKind::none) {
    return RoutingKey{};
  }
  return routing_key(info->routing_key, message.params ? &*message.params : nullptr,
                     message.method);
}

Expected<RoutingKey, RoutingKeyError> routing_key(RoutingKeyKind kind, const json* params,
                                                  std::string_view method) {
  if (kind == RoutingKeyKind::none) {
    return RoutingKey{};
  }
  if (params == nullptr) {
    return key_error(RoutingKeyErrorKind::missing_params, label(method) + "params are missing; " +
                                                              std::string(routing_key_path(kind)) +
                                                              " is required");
  }
  if (!params->is_object()) {
    return key_error(RoutingKeyErrorKind::missing_params,
                     label(method) + "params must be an object, got " +
                         std::string(describe_json_type(*params)));
  }
  switch (kind) {
    case RoutingKeyKind::ref:
      return ref_key(*params, method);
    case RoutingKeyKind::progress_token:
    case RoutingKeyKind::request_id:
      return id_member(kind, *params, member_name(kind), routing_key_path(kind), method);
    case RoutingKeyKind::subscription_id: {
      const auto meta = params->find("_meta");
      if (meta == params->end()) {
        return key_error(RoutingKeyErrorKind::missing,
                         label(method) + std::string(routing_key_path(kind)) + " is missing");
      }
      if (!meta->is_object()) {
        return key_error(RoutingKeyErrorKind::wrong_type,
                         label(method) + "params._meta must be an object, got " +
                             std::string(describe_json_type(*meta)));
      }
      return id_member(kind, *meta, kSubscriptionIdKey, routing_key_path(kind), method);
    }
    case RoutingKeyKind::name:
    case RoutingKeyKind::uri:
    case RoutingKeyKind::task_id:
    case RoutingKeyKind::elicitation_id: {
      auto text = string_member(*params, member_name(kind), routing_key_path(kind), method);
      if (!text) {
        return unexpected(std::move(text.error()));
      }
      RoutingKey key;
      key.kind = kind;
      key.value = std::move(*text);
      return key;
    }
    case RoutingKeyKind::none:
      break;
  }
  return RoutingKey{};
}

}  // namespace catalogue
}  // namespace mcpgw::mcp
