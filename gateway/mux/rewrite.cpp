#include "gateway/mux/rewrite.hpp"

namespace mcpgw::mux {

namespace {

// Rewrites object[key] when it is a string.
template <class Function>
void rewrite_string(nlohmann::json& object, const char* key, Function&& function) {
  if (!object.is_object()) {
    return;
  }
  const auto found = object.find(key);
  if (found != object.end() && found->is_string()) {
    *found = function(found->get_ref<const std::string&>());
  }
}

}  // namespace

void BackendRewriter::content(nlohmann::json& blocks) const {
  if (blocks.is_array()) {
    for (auto& block : blocks) {
      content(block);
    }
    return;
  }
  if (!blocks.is_object()) {
    return;
  }
  const auto type = blocks.find("type");
  if (type == blocks.end() || !type->is_string()) {
    return;
  }
  const auto uri = [this](const std::string& value) { return uris.expose(backend, value); };
  const auto& kind = type->get_ref<const std::string&>();
  if (kind == "resource_link") {
    rewrite_string(blocks, "uri", uri);
  } else if (kind == "resource") {
    const auto resource = blocks.find("resource");
    if (resource != blocks.end()) {
      rewrite_string(*resource, "uri", uri);
    }
  }
}

void BackendRewriter::task(nlohmann::json& value) const {
  rewrite_string(value, "taskId",
                 [this](const std::string& id) { return tasks.expose(backend, id); });
}

void BackendRewriter::related_task(nlohmann::json& object) const {
  if (!object.is_object()) {
    return;
  }
  const auto meta = object.find("_meta");
  if (meta == object.end() || !meta->is_object()) {
    return;
  }
  const auto related = meta->find(kRelatedTaskMeta);
  if (related != meta->end()) {
    task(*related);
  }
}

void BackendRewriter::result(std::string_view method, nlohmann::json& value) const {
  if (!value.is_object()) {
    return;
  }
  related_task(value);
  if (method == "tools/call" || method == "tasks/result") {
    if (const auto found = value.find("content"); found != value.end()) {
      content(*found);
    }
    // CreateTaskResult, the answer to a task-augmented call.
    if (const auto created = value.find("task"); created != value.end()) {
      task(*created);
    }
  } else if (method == "prompts/get") {
    if (const auto messages = value.find("messages");
        messages != value.end() && messages->is_array()) {
      for (auto& message : *messages) {
        if (message.is_object()) {
          if (const auto found = message.find("content"); found != message.end()) {
            content(*found);
          }
        }
      }
    }
  } else if (method == "resources/read") {
    if (const auto contents = value.find("contents");
        contents != value.end() && contents->is_array()) {
      for (auto& item : *contents) {
        rewrite_string(item, "uri",
                       [this](const std::string& uri) { return uris.expose(backend, uri); });
      }
    }
  } else if (method == "tasks/get" || method == "tasks/cancel") {
    task(value);
  }
}

bool BackendRewriter::list_item(std::string_view method, nlohmann::json& item) const {
  if (!item.is_object()) {
    return false;
  }
  const char* key = method == "resources/list"             ? "uri"
                    : method == "resources/templates/list" ? "uriTemplate"
                    : method == "tasks/list"               ? "taskId"
                                                           : "name";
  const auto found = item.find(key);
  if (found == item.end() || !found->is_string()) {
    return false;
  }
  if (method == "resources/list" || method == "resources/templates/list") {
    *found = uris.expose(backend, found->get_ref<const std::string&>());
  } else if (method == "tasks/list") {
    *found = tasks.expose(backend, found->get_ref<const std::string&>());
  }
  return true;
}

void BackendRewriter::notification(std::string_view method, nlohmann::json& params) const {
  if (!params.is_object()) {
    return;
  }
  related_task(params);
  if (method == "notifications/resources/updated") {
    rewrite_string(params, "uri",
                   [this](const std::string& uri) { return uris.expose(backend, uri); });
  } else if (method == "notifications/tasks/status") {
    task(params);
  }
}

}  // namespace mcpgw::mux
