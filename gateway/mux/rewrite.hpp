// Rewrites what a backend sends so that the client sees the gateway's resource URIs and task
// ids (naming.hpp), and every other member exactly as the backend sent it.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "gateway/mux/naming.hpp"

namespace mcpgw::mux {

struct BackendRewriter {
  const UriCodec& uris;
  const TaskIdCodec& tasks;
  std::size_t backend = 0;

  // A ContentBlock (or an array of them): resource_link.uri and resource.resource.uri.
  void content(nlohmann::json& blocks) const;
  // The result of a request routed to this backend (not of lists: see list_item).
  void result(std::string_view method, nlohmann::json& result) const;
  // One element of a list result; false when it lacks its key member (it is then dropped).
  bool list_item(std::string_view method, nlohmann::json& item) const;
  // params of a backend notification or request to the client: resources/updated uri,
  // tasks/status taskId, related-task _meta.
  void notification(std::string_view method, nlohmann::json& params) const;
  // _meta["io.modelcontextprotocol/related-task"].taskId of a result or params object.
  void related_task(nlohmann::json& object) const;
  // A Task object (taskId).
  void task(nlohmann::json& task) const;
};

inline constexpr std::string_view kRelatedTaskMeta = "io.modelcontextprotocol/related-task";

}  // namespace mcpgw::mux
