// Requests that go to every backend at once: the merged lists with their composite cursor
// (cursor.hpp) and logging/setLevel.
#include <spdlog/spdlog.h>

#include "gateway/mux/core.hpp"
#include "gateway/mux/text.hpp"
#include "mcp/catalogue.hpp"

namespace mcpgw::mux::detail {

struct SessionImpl::FanOut {
  std::vector<bool> asked;
  std::vector<std::optional<mcp::Message>> responses;
  std::size_t outstanding = 0;
  bool completed = false;
};

namespace {

const char* capability_of(std::string_view method) {
  if (method == "tools/list") {
    return "tools";
  }
  if (method == "prompts/list") {
    return "prompts";
  }
  if (method == "tasks/list") {
    return "tasks";
  }
  return "resources";
}

// A progress token cannot be shared by several backends' progress (it must increase), so
// requests that fan out go without one.
void strip_progress_token(mcp::Message& request) {
  if (!request.params || !request.params->is_object()) {
    return;
  }
  const auto meta = request.params->find("_meta");
  if (meta == request.params->end() || !meta->is_object()) {
    return;
  }
  meta->erase("progressToken");
  if (meta->empty()) {
    request.params->erase(meta);
  }
}

}  // namespace

void SessionImpl::fan_out(const mcp::Message& request,
                          const std::shared_ptr<PendingRequest>& pending,
                          std::vector<std::optional<std::optional<std::string>>> plan,
                          void (SessionImpl::*complete)(const std::shared_ptr<PendingRequest>&,
                                                        FanOut&)) {
  const auto count = core_->backend_count();
  auto state = std::make_shared<FanOut>();
  state->asked.assign(count, false);
  state->responses.resize(count);
  state->outstanding = 1;  // held until every call is out, so completion runs once, at the end
  std::weak_ptr<SessionImpl> weak = weak_from_this();
  std::weak_ptr<PendingRequest> weak_pending = pending;
  const auto one_done = [weak, weak_pending, state, complete] {
    if (--state->outstanding != 0 || state->completed) {
      return;
    }
    state->completed = true;
    auto self = weak.lock();
    auto owner = weak_pending.lock();
    if (!self || !owner || self->closed_ || owner->finished) {
      return;
    }
    (self.get()->*complete)(owner, *state);
  };
  mcp::Message base = request;
  strip_progress_token(base);
  for (std::size_t backend = 0; backend < count; ++backend) {
    if (!plan[backend]) {
      continue;
    }
    state->asked[backend] = true;
    ++state->outstanding;
    mcp::Message copy = base;
    if (plan[backend]->has_value()) {
      if (!copy.params || !copy.params->is_object()) {
        copy.params = nlohmann::json::object();
      }
      (*copy.params)["cursor"] = **plan[backend];
    } else if (copy.params && copy.params->is_object()) {
      copy.params->erase("cursor");
    }
    mcp::Message error;
    const bool sent = call(
        backend, std::move(copy), pending,
        [state, backend, one_done](mcp::Message response) {
          state->responses[backend] = std::move(response);
          one_done();
        },
        error);
    if (!sent) {
      state->responses[backend] = std::move(error);
      --state->outstanding;
    }
  }
  one_done();
}

void SessionImpl::list(mcp::Message request, const std::shared_ptr<PendingRequest>& pending) {
  const auto& method = pending->method;
  const auto count = core_->backend_count();
  std::vector<std::optional<std::optional<std::string>>> plan(count);
  const auto* cursor = request.param("cursor");
  if (cursor == nullptr || cursor->is_null()) {
    for (auto& entry : plan) {
      entry.emplace();  // ask, without a cursor
    }
  } else if (!cursor->is_string()) {
    fail(pending, mcp::error_code::invalid_params, "params.cursor must be a string");
    return;
  } else {
    auto decoded = core_->cursors().decode(cursor->get_ref<const std::string&>(), method);
    if (!decoded) {
      fail(pending, mcp::error_code::invalid_params, "Invalid cursor: " + decoded.error());
      return;
    }
    for (std::size_t backend = 0; backend < count; ++backend) {
      if (decoded->backends[backend]) {
        plan[backend].emplace(std::move(decoded->backends[backend]));
      }
    }
  }
  const char* capability = capability_of(method);
  for (std::size_t backend = 0; backend < count; ++backend) {
    if (!plan[backend]) {
      continue;
    }
    if (!core_->may_offer(backend, capability)) {
      plan[backend].reset();
      continue;
    }
    if (!core_->available(backend)) {
      const auto& name = core_->backend_name(backend);
      if (core_->config().backends[backend].fail_closed) {
        fail(pending, upstream::gateway_error::backend_unavailable,
             method + " failed: backend '" + name + "' is unavailable and fail_closed is set");
        return;
      }
      spdlog::warn("mux: {}: backend '{}' is unavailable; the list is partial", method, name);
      plan[backend].reset();
    }
  }
  fan_out(request, pending, std::move(plan), &SessionImpl::complete_list);
}

void SessionImpl::complete_list(const std::shared_ptr<PendingRequest>& pending, FanOut& fan_out) {
  const auto& method = pending->method;
  const auto* info = mcp::catalogue::lookup(method);
  const std::string field(info != nullptr ? info->list_field : std::string_view("items"));
  const auto count = core_->backend_count();
  const bool learn_routes = !core_->uris().rewriting() && count > 1;
  const bool names = method == "tools/list" || method == "prompts/list";
  const auto kind = method == "tools/list" ? NameKind::tool : NameKind::prompt;
  // Each item is shown only to a principal the policy lets use it: decided afresh for every
  // answer, so a list that changed can never be served unfiltered.
  const char* use_method = nullptr;  // the method that uses an item; null: not filtered
  const char* use_key = nullptr;     // the item member that names it
  auto use_kind = policy::TargetKind::resource;
  if (method == "tools/list") {
    use_method = "tools/call";
    use_key = "name";
    use_kind = policy::TargetKind::tool;
  } else if (method == "prompts/list") {
    use_method = "prompts/get";
    use_key = "name";
    use_kind = policy::TargetKind::prompt;
  } else if (method == "resources/list") {
    use_method = "resources/read";
    use_key = "uri";
  } else if (method == "resources/templates/list") {
    use_method = "resources/read";
    use_key = "uriTemplate";
  }
  std::size_t hidden = 0;

  if (names) {
    // Names that need no change claim theirs first, so that one sanitised into the same name
    // on the same page yields to them instead of being renamed after it was listed.
    for (std::size_t backend = 0; backend < count; ++backend) {
      if (!fan_out.asked[backend] || !fan_out.responses[backend] ||
          fan_out.responses[backend]->kind != mcp::MessageKind::success_response) {
        continue;
      }
      const auto& result = fan_out.responses[backend]->result;
      const auto list = result.is_object() ? result.find(field) : result.end();
      if (!result.is_object() || list == result.end() || !list->is_array()) {
        continue;
      }
      for (const auto& item : *list) {
        const auto original = item.is_object() ? item.find("name") : item.end();
        if (item.is_object() && original != item.end() && original->is_string() &&
            core_->names().untouched(backend, original->get_ref<const std::string&>())) {
          core_->names().expose(kind, backend, original->get<std::string>());
        }
      }
    }
  }
  CompositeCursor next{method, std::vector<std::optional<std::string>>(count)};
  nlohmann::json items = nlohmann::json::array();
  for (std::size_t backend = 0; backend < count; ++backend) {
    if (!fan_out.asked[backend] || !fan_out.responses[backend]) {
      continue;
    }
    auto& response = *fan_out.responses[backend];
    const auto& name = core_->backend_name(backend);
    const bool fail_closed = core_->config().backends[backend].fail_closed;
    // True when the whole list failed (fail_closed); otherwise the list goes on without it.
    const auto failed = [&](std::int64_t code, const std::string& why) {
      if (fail_closed) {
        fail(pending, code, method + " failed: backend '" + name + "' (fail_closed): " + why);
        return true;
      }
      spdlog::warn("mux: {}: backend '{}' failed ({}); the list is partial", method, name,
                   printable(why));
      return false;
    };
    if (response.kind == mcp::MessageKind::error_response) {
      if (response.error.code == mcp::error_code::method_not_found) {
        spdlog::debug("mux: {}: backend '{}' does not have it", method, name);
        continue;
      }
      if (failed(response.error.code, response.error.message)) {
        return;
      }
      continue;
    }
    auto& result = response.result;
    const auto list = result.is_object() ? result.find(field) : result.end();
    if (!result.is_object() || list == result.end() || !list->is_array()) {
      if (failed(mcp::error_code::internal_error, "its result has no " + field + " array")) {
        return;
      }
      continue;
    }
    const auto rewriter = core_->rewriter(backend);
    for (auto& item : *list) {
      const auto hide = [&](const nlohmann::json& item_name) {
        if (use_method == nullptr || visible(pending, backend, use_method, use_kind,
                                             item_name.get_ref<const std::string&>())) {
          return false;
        }
        ++hidden;
        return true;
      };
      if (names) {
        const auto original = item.is_object() ? item.find("name") : item.end();
        if (!item.is_object() || original == item.end() || !original->is_string()) {
          continue;
        }
        // Exposed even when hidden: an exposed name is the same for every principal.
        auto exposed = core_->names().expose(kind, backend, original->get<std::string>());
        if (!exposed || hide(*original)) {
          continue;
        }
        *original = std::move(*exposed);
      } else {
        if (learn_routes && item.is_object()) {
          if (const auto uri = item.find("uri");
              method == "resources/list" && uri != item.end() && uri->is_string()) {
            core_->resource_routes().learn_uri(uri->get<std::string>(), backend);
          }
          if (const auto uri = item.find("uriTemplate");
              method == "resources/templates/list" && uri != item.end() && uri->is_string()) {
            core_->resource_routes().learn_template(uri->get<std::string>(), backend);
          }
        }
        if (use_key != nullptr) {
          const auto key = item.is_object() ? item.find(use_key) : item.end();
          if (!item.is_object() || key == item.end() || !key->is_string() || hide(*key)) {
            continue;
          }
        }
        if (!rewriter.list_item(method, item)) {
          continue;
        }
      }
      items.push_back(std::move(item));
    }
    if (const auto cursor = result.find("nextCursor"); cursor != result.end()) {
      if (cursor->is_string() &&
          cursor->get_ref<const std::string&>().size() <= kMaxBackendCursorBytes) {
        next.backends[backend] = cursor->get<std::string>();
      } else if (!cursor->is_null()) {
        if (failed(mcp::error_code::internal_error,
                   cursor->is_string() ? "its nextCursor is over " +
                                             std::to_string(kMaxBackendCursorBytes) + " bytes"
                                       : "its nextCursor is not a string")) {
          return;
        }
      }
    }
  }
  if (hidden != 0) {
    spdlog::debug("mux: session {}: {} items of {} hidden by the policy", serial_, hidden, method);
  }
  nlohmann::json out = nlohmann::json::object();
  out[field] = std::move(items);
  if (next.any_pending()) {
    auto token = core_->cursors().encode(next);
    if (!token) {
      fail(pending, mcp::error_code::internal_error,
           method + " failed: the merged cursor would be too long");
      return;
    }
    out["nextCursor"] = std::move(*token);
  }
  finish(pending, mcp::make_success_response(pending->client_id, std::move(out)));
}

void SessionImpl::set_level(mcp::Message request, const std::shared_ptr<PendingRequest>& pending) {
  const auto count = core_->backend_count();
  std::vector<std::optional<std::optional<std::string>>> plan(count);
  bool offered = false;
  bool any = false;
  for (std::size_t backend = 0; backend < count; ++backend) {
    if (!core_->may_offer(backend, "logging")) {
      continue;
    }
    offered = true;
    if (core_->available(backend)) {
      plan[backend].emplace();
      any = true;
    }
  }
  if (!any) {
    if (offered) {
      fail(pending, upstream::gateway_error::backend_unavailable,
           "No backend that takes logging/setLevel is available");
    } else {
      fail(pending, mcp::error_code::method_not_found, "Method not found: logging/setLevel");
    }
    return;
  }
  fan_out(request, pending, std::move(plan), &SessionImpl::complete_set_level);
}

void SessionImpl::complete_set_level(const std::shared_ptr<PendingRequest>& pending,
                                     FanOut& fan_out) {
  // Success when at least one backend took the level; otherwise the first backend's error.
  std::optional<mcp::Message> first_error;
  for (std::size_t backend = 0; backend < fan_out.responses.size(); ++backend) {
    if (!fan_out.asked[backend] || !fan_out.responses[backend]) {
      continue;
    }
    auto& response = *fan_out.responses[backend];
    if (response.kind == mcp::MessageKind::success_response) {
      finish(pending, mcp::make_success_response(pending->client_id, nlohmann::json::object()));
      return;
    }
    spdlog::warn("mux: logging/setLevel: backend '{}' refused it ({})",
                 core_->backend_name(backend), printable(response.error.message));
    if (!first_error) {
      first_error = std::move(response);
    }
  }
  if (first_error) {
    finish(pending, std::move(*first_error));
  } else {
    fail(pending, mcp::error_code::internal_error, "logging/setLevel reached no backend");
  }
}

}  // namespace mcpgw::mux::detail
