// MCP protocol versions and the catalogue of methods and notifications per version.
//
// Every fact here was read from the specification repository modelcontextprotocol/
// modelcontextprotocol: the ClientRequest / ServerRequest / ClientNotification /
// ServerNotification unions of schema/<version>/schema.ts for membership and direction, the
// PaginatedRequest/PaginatedResult interfaces for pagination and list fields, the params
// interfaces for routing keys, and docs/specification/<version>/ for the transport facts noted in
// VersionTraits. The 2026-07-28 schema is published (schema/2026-07-28/schema.ts); its changelog
// (docs/specification/2026-07-28/changelog.mdx) explains the removals.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "mcp/expected.hpp"
#include "mcp/jsonrpc.hpp"

namespace mcpgw::mcp {

// Oldest first: the enum order is the chronological order.
enum class ProtocolVersion : std::uint8_t {
  v2024_11_05,
  v2025_03_26,
  v2025_06_18,
  v2025_11_25,
  v2026_07_28,
};
inline constexpr std::size_t kProtocolVersionCount = 5;
inline constexpr ProtocolVersion kLatestLegacyVersion = ProtocolVersion::v2025_11_25;
inline constexpr ProtocolVersion kLatestVersion = ProtocolVersion::v2026_07_28;

// legacy: initialize handshake (2024-11-05 .. 2025-11-25); modern: stateless, per-request _meta.
enum class ProtocolEra : std::uint8_t { legacy, modern };

// "2025-06-18" -> v2025_06_18. An unknown string is an error naming the supported versions; it is
// never mapped to a default.
Expected<ProtocolVersion, std::string> parse_protocol_version(std::string_view text);
std::string_view to_string(ProtocolVersion version);
std::string_view to_string(ProtocolEra era);
ProtocolEra era(ProtocolVersion version);
std::span<const ProtocolVersion> supported_protocol_versions();  // oldest first
// "2024-11-05, 2025-03-26, ..." for messages and -32022 data.
std::string supported_protocol_versions_text();

// What changed between versions beyond the method list (sources in catalogue.cpp).
struct VersionTraits {
  bool batches = false;            // JSON-RPC batches in JSONRPCMessage: 2025-03-26 only
  bool initialize = false;         // initialize handshake and sessions: the legacy era
  bool version_header = false;     // HTTP MCP-Protocol-Version header required: 2025-06-18 on
  bool error_id_optional = false;  // JSONRPCErrorResponse.id optional: 2025-11-25 on
  bool per_request_meta = false;   // protocolVersion/clientCapabilities in every _meta: 2026-07-28
  bool result_type = false;        // results carry resultType ("complete"/"input_required")
  std::int64_t resource_not_found_code = error_code::resource_not_found;
};
VersionTraits traits(ProtocolVersion version);

enum class MethodKind : std::uint8_t { request, notification };

// Who sends it. A bit set: both == client_to_server | server_to_client; none: not in a version.
enum class Direction : std::uint8_t {
  none = 0,
  client_to_server = 1,
  server_to_client = 2,
  both = 3,
};
std::string_view to_string(Direction direction);
std::string_view to_string(MethodKind kind);

// Where a message's routing key lives.
enum class RoutingKeyKind : std::uint8_t {
  none,
  name,     // params.name: tools/call, prompts/get
  uri,      // params.uri: resources/read, subscribe, unsubscribe, resources/updated
  ref,      // params.ref: completion/complete ({type: ref/prompt, name} or ref/resource, uri)
  task_id,  // params.taskId: tasks/get, tasks/result, tasks/cancel, tasks/status
  progress_token,   // params.progressToken: notifications/progress
  request_id,       // params.requestId: notifications/cancelled
  elicitation_id,   // params.elicitationId: notifications/elicitation/complete
  subscription_id,  // params._meta["io.modelcontextprotocol/subscriptionId"]: subscriptions/ack
};
std::string_view to_string(RoutingKeyKind kind);
// "params.name", "params.ref", ... ("" for none).
std::string_view routing_key_path(RoutingKeyKind kind);

struct MethodInfo {
  std::string_view name;
  MethodKind kind = MethodKind::request;
  // Indexed by ProtocolVersion; Direction::none where the version does not have the method.
  std::array<Direction, kProtocolVersionCount> directions{};
  bool paginated = false;       // params.cursor in, result.nextCursor out
  std::string_view list_field;  // the array member of the result ("tools", ...); "" if none
  RoutingKeyKind routing_key = RoutingKeyKind::none;
  // From 2026-07-28 no longer a JSON-RPC method: it travels as an InputRequest inside an
  // InputRequiredResult (multi round-trip requests), so lookup() does not find it there.
  bool input_request_in_modern = false;

  bool in(ProtocolVersion version) const {
    return directions[static_cast<std::size_t>(version)] != Direction::none;
  }
  Direction direction(ProtocolVersion version) const {
    return directions[static_cast<std::size_t>(version)];
  }
  // Union of the directions over all versions.
  Direction any_direction() const;
  std::optional<ProtocolVersion> first_version() const;
  std::optional<ProtocolVersion> last_version() const;
};

enum class RefType : std::uint8_t { none, prompt, resource };
std::string_view to_string(RefType type);

struct RoutingKey {
  RoutingKeyKind kind = RoutingKeyKind::none;
  // The key as text: tool or prompt name, URI, task id, elicitation id; for ref the prompt name or
  // the resource URI; for progress tokens and request/subscription ids their JSON text (7, "7").
  std::string value;
  std::optional<RequestId> id;  // the exact value of a progress token or request/subscription id
  RefType ref_type = RefType::none;

  friend bool operator==(const RoutingKey&, const RoutingKey&) = default;
};

enum class RoutingKeyErrorKind : std::uint8_t {
  missing_params,  // params absent or not an object
  missing,         // the key member is absent
  wrong_type,      // present with the wrong JSON type (or an unknown ref type)
};

struct RoutingKeyError {
  RoutingKeyErrorKind kind = RoutingKeyErrorKind::missing;
  std::string message;  // names the method and the member, e.g. "tools/call: params.name ..."
  // Invalid params: the answer a server gives to a request with a bad key.
  std::int64_t code() const noexcept { return error_code::invalid_params; }

  friend bool operator==(const RoutingKeyError&, const RoutingKeyError&) = default;
};

namespace catalogue {

// The entry for a method or notification in any version; nullptr when unknown.
const MethodInfo* lookup(std::string_view method);
// The entry when `version` has the method; nullptr otherwise.
const MethodInfo* lookup(std::string_view method, ProtocolVersion version);
bool is_known(std::string_view method, ProtocolVersion version);
// Every entry, sorted by name.
std::span<const MethodInfo> all();
template <class Visitor>
void for_each(ProtocolVersion version, Visitor&& visit) {
  for (const auto& info : all()) {
    if (info.in(version)) {
      visit(info);
    }
  }
}

// The routing key of a decoded request or notification, located by its catalogue entry. A method
// without a key (or unknown to the catalogue) gives RoutingKeyKind::none without looking at params.
Expected<RoutingKey, RoutingKeyError> routing_key(const Message& message);
// The same for a known key kind; `params` may be null (absent). `method` only labels messages.
Expected<RoutingKey, RoutingKeyError> routing_key(RoutingKeyKind kind, const nlohmann::json* params,
                                                  std::string_view method);

}  // namespace catalogue
}  // namespace mcpgw::mcp
