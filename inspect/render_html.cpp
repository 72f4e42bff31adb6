// --html FILE: one self-contained page (inline CSS and JS, no external resources) with a
// waterfall per session. The traffic is untrusted: it only ever appears inside one JSON
// document in a <script type="application/json"> element, written with '<', '>' and '&'
// escaped, and the page's script puts it into the DOM with textContent, never as markup.
#include <algorithm>
#include <fstream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "inspect/render.hpp"
#include "inspect/text.hpp"

namespace mcpgw::inspect {
namespace {

constexpr std::size_t kMaxPayloadBytes = 256 * 1024;  // per message in the page

constexpr std::string_view kPageHead = R"HTML(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mcpgw inspect</title>
<style>
body { font: 13px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { padding: 12px 20px; background: #1d2330; color: #fff; }
header h1 { font-size: 16px; margin: 0 0 4px 0; }
header p { margin: 0; color: #c8cdd8; }
main { padding: 12px 20px 260px 20px; }
section.session { background: #fff; border: 1px solid #d8dce4; border-radius: 6px; margin: 0 0 16px 0; }
section.session h2 { font-size: 13px; margin: 0; padding: 8px 12px; border-bottom: 1px solid #e4e7ed; font-family: ui-monospace, monospace; word-break: break-all; }
.axis, .row { display: grid; grid-template-columns: 90px 340px 1fr 90px; align-items: center; }
.axis { color: #6b7385; font-size: 11px; padding: 2px 12px; border-bottom: 1px solid #eef0f4; }
.axis .end { text-align: right; }
.row { padding: 1px 12px; cursor: pointer; }
.row:hover, .row.selected { background: #eef3ff; }
.row .time { color: #6b7385; font-family: ui-monospace, monospace; font-size: 11px; }
.row .label { font-family: ui-monospace, monospace; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding-right: 8px; }
.row .label .dir { color: #6b7385; }
.row .track { position: relative; height: 14px; background: #f1f3f7; border-radius: 2px; }
.row .bar { position: absolute; top: 2px; height: 10px; min-width: 3px; border-radius: 2px; }
.row .tick { position: absolute; top: 0; width: 2px; height: 14px; background: #4059c9; opacity: .6; }
.row .duration { text-align: right; font-family: ui-monospace, monospace; font-size: 11px; }
.status-ok .bar { background: #2e9e5b; }
.status-error .bar { background: #d33a3a; }
.status-tool-error .bar { background: #e58a1f; }
.status-pending .bar { background: repeating-linear-gradient(45deg, #9aa3b5, #9aa3b5 4px, #c3c9d5 4px, #c3c9d5 8px); }
.status-cancelled .bar { background: #d9b422; }
.status-notification .bar { background: #5b8def; }
.status-error .label, .status-tool-error .label { color: #b42323; }
#details { position: fixed; left: 0; right: 0; bottom: 0; height: 240px; background: #fff; border-top: 2px solid #1d2330; display: grid; grid-template-columns: 1fr 1fr; grid-template-rows: auto 1fr; }
#details h3 { grid-column: 1 / 3; margin: 0; padding: 6px 12px; font-size: 13px; font-family: ui-monospace, monospace; background: #eef0f4; word-break: break-all; }
#details pre { margin: 0; padding: 8px 12px; overflow: auto; font-size: 12px; border-right: 1px solid #e4e7ed; white-space: pre-wrap; word-break: break-all; }
.legend span { display: inline-block; margin-right: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
</style>
</head>
<body>
<header><h1>mcpgw inspect</h1><p id="summary"></p>
<p class="legend"><span><i style="background:#2e9e5b"></i>ok</span><span><i style="background:#d33a3a"></i>error</span><span><i style="background:#e58a1f"></i>tool error</span><span><i style="background:#9aa3b5"></i>pending</span><span><i style="background:#d9b422"></i>cancelled</span><span><i style="background:#5b8def"></i>notification</span></p></header>
<main id="sessions"></main>
<div id="details"><h3 id="details-title">Click a row to see its messages</h3><pre id="details-request"></pre><pre id="details-response"></pre></div>
<script type="application/json" id="inspect-data">)HTML";

constexpr std::string_view kPageTail = R"HTML(</script>
<script>
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("inspect-data").textContent);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };
  const pretty = (text) => {
    if (!text) return "";
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return text; }
  };
  const fmtMs = (ms) => {
    if (ms === null) return "";
    if (ms < 10) return ms.toFixed(2) + " ms";
    if (ms < 1000) return ms.toFixed(1) + " ms";
    return (ms / 1000).toFixed(2) + " s";
  };
  const fmtTime = (us) => {
    if (us === null) return "";
    const d = new Date(Math.floor(us / 1000));
    return d.toISOString().substring(11, 23);
  };
  const statusClass = (x) => x.kind === "notification" ? "notification" : (x.tool_error && x.status === "ok" ? "tool-error" : x.status);
  const statusText = (x) => {
    if (x.kind === "notification") return "notification";
    if (x.status === "error") return "error " + (x.error_code === null ? "" : x.error_code) + (x.error_message ? " " + x.error_message : "");
    if (x.tool_error) return "tool error";
    return x.status;
  };
  const title = document.getElementById("details-title");
  const requestPane = document.getElementById("details-request");
  const responsePane = document.getElementById("details-response");
  let selected = null;
  const show = (row, x) => {
    if (selected) selected.classList.remove("selected");
    selected = row;
    row.classList.add("selected");
    title.textContent = (x.method || "(response without request)") + (x.target ? " " + x.target : "") + (x.id !== null ? "  id " + x.id : "") + "  \u2014 " + statusText(x) + (x.duration_ms !== null ? ", " + fmtMs(x.duration_ms) : "") + "  [" + x.source + "]";
    let request = pretty(x.request);
    for (const n of x.notifications) request += "\n\n\u21b3 " + n.method + (n.time_us !== null ? " at " + fmtTime(n.time_us) : "") + "\n" + pretty(n.message);
    requestPane.textContent = request || "(no request message)";
    responsePane.textContent = pretty(x.response) || (x.kind === "notification" ? "(notifications have no response)" : "(no response)");
  };
  const summary = document.getElementById("summary");
  summary.textContent = data.exchanges + " exchanges in " + data.sessions.length + " session(s) from " + data.inputs.join(", ") + (data.omitted ? " (" + data.omitted + " more not drawn)" : "") + (data.problems ? ", " + data.problems + " input problem(s) skipped" : "");
  const container = document.getElementById("sessions");
  for (const session of data.sessions) {
    const section = el("section", "session");
    section.appendChild(el("h2", null, "session " + session.name + " \u2014 " + session.exchanges.length + " exchanges"));
    const xs = session.exchanges;
    // An orphan response has only its own time.
    const t0 = (x) => x.started_us !== null ? x.started_us : x.ended_us;
    let start = 0, span = 1;
    const byTime = xs.length > 0 && xs.every((x) => t0(x) !== null);
    if (byTime) {
      start = Infinity;
      let end = -Infinity;
      for (const x of xs) {
        start = Math.min(start, t0(x));
        end = Math.max(end, t0(x), x.ended_us === null ? t0(x) : x.ended_us);
      }
      span = Math.max(end - start, 1);
    } else {
      span = Math.max(xs.length, 1);
    }
    const axis = el("div", "axis");
    axis.appendChild(el("span", null, byTime ? fmtTime(start) : ""));
    axis.appendChild(el("span", null, ""));
    axis.appendChild(el("span", null, byTime ? "0 \u2192 " + fmtMs(span / 1000) : "no timestamps: in input order"));
    axis.appendChild(el("span", "end", ""));
    section.appendChild(axis);
    xs.forEach((x, i) => {
      const row = el("div", "row status-" + statusClass(x));
      row.dataset.index = String(i);
      row.appendChild(el("span", "time", fmtTime(t0(x))));
      const label = el("span", "label");
      label.appendChild(el("span", "dir", x.direction === "client->server" ? "\u2192 " : "\u2190 "));
      label.appendChild(document.createTextNode((x.method || "(response without request)") + (x.target ? " " + x.target : "")));
      row.appendChild(label);
      const track = el("span", "track");
      const bar = el("span", "bar");
      let left, width;
      if (byTime) {
        const s = t0(x) - start;
        const e = (x.ended_us === null ? (x.status === "pending" ? start + span : t0(x)) : x.ended_us) - start;
        left = 100 * s / span;
        width = 100 * Math.max(e - s, 0) / span;
        for (const n of x.notifications) {
          if (n.time_us === null) continue;
          const tick = el("span", "tick");
          tick.style.left = (100 * (n.time_us - start) / span) + "%";
          track.appendChild(tick);
        }
      } else {
        left = 100 * i / span;
        width = 100 / span;
      }
      bar.style.left = left + "%";
      bar.style.width = width + "%";
      track.appendChild(bar);
      row.appendChild(track);
      const shortStatus = x.kind === "notification" ? "notification" : x.status === "error" ? "error " + (x.error_code === null ? "" : x.error_code) : x.tool_error ? "tool error" : x.status;
      row.appendChild(el("span", "duration", x.duration_ms === null ? shortStatus : fmtMs(x.duration_ms)));
      row.title = statusText(x) + (x.session ? "\nsession " + x.session : "") + (x.backend ? "\nbackend " + x.backend : "") + "\n" + x.source;
      row.addEventListener("click", () => show(row, x));
      section.appendChild(row);
    });
    container.appendChild(section);
  }
})();
</script>
</body>
</html>
)HTML";

void field_string(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  if (value.empty())
    out += "null";
  else
    append_json_string(out, value, true);
}

void field_number(std::string& out, std::string_view name, std::optional<std::int64_t> value) {
  out += ",\"";
  out += name;
  out += "\":";
  out += value ? std::to_string(*value) : std::string("null");
}

// A message for the page: whole when small, else cut (no longer JSON then, which the script
// shows as plain text). Cut on arrival, so the page's memory is bounded per exchange.
void trim(std::string& message) {
  if (message.size() <= kMaxPayloadBytes)
    return;
  message.resize(kMaxPayloadBytes);
  message += "... (cut at 256 KiB)";
  message.shrink_to_fit();
}

std::string_view bounded(const std::string& message) {
  return message;
}

class HtmlRenderer final : public Renderer {
 public:
  HtmlRenderer(std::string path, std::ostream& err, std::vector<std::string> inputs,
               std::size_t max_exchanges)
      : path_(std::move(path)),
        err_(err),
        inputs_(std::move(inputs)),
        max_exchanges_(max_exchanges) {}

  void on_exchange(Exchange&& exchange) override {
    if (kept_ >= max_exchanges_) {
      ++omitted_;
      return;
    }
    ++kept_;
    trim(exchange.request_message);
    trim(exchange.response_message);
    for (auto& linked : exchange.linked)
      trim(linked.message);
    const std::string key = exchange.session_or_scope();
    auto [found, inserted] = sessions_.try_emplace(key);
    if (inserted)
      order_.push_back(key);
    found->second.push_back(std::move(exchange));
  }

  bool finish(const RunTotals& totals) override {
    std::string json = "{\"v\":1,\"exchanges\":" + std::to_string(kept_);
    json += ",\"omitted\":" + std::to_string(omitted_);
    json += ",\"problems\":" + std::to_string(totals.problems);
    json += ",\"inputs\":[";
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      if (i > 0)
        json += ',';
      append_json_string(json, inputs_[i], true);
    }
    json += "],\"sessions\":[";
    bool first_session = true;
    for (const auto& name : order_) {
      json += first_session ? "{\"name\":" : ",{\"name\":";
      first_session = false;
      append_json_string(json, name, true);
      json += ",\"exchanges\":[";
      auto& exchanges = sessions_[name];
      // The waterfall reads top to bottom in request time when every exchange has one (they
      // arrive in input order, which detached late requests may have disturbed).
      const auto time_of = [](const Exchange& x) {
        return x.started_us ? x.started_us : x.ended_us;
      };
      const bool all_timed = std::all_of(exchanges.begin(), exchanges.end(),
                                         [&](const Exchange& x) { return time_of(x).has_value(); });
      if (all_timed) {
        std::stable_sort(exchanges.begin(), exchanges.end(),
                         [&](const auto& a, const auto& b) { return *time_of(a) < *time_of(b); });
      }
      bool first = true;
      for (const auto& exchange : exchanges) {
        json += first ? "" : ",";
        first = false;
        write_exchange(json, exchange);
      }
      json += "]}";
    }
    json += "]}";

    std::ofstream file(path_, std::ios::binary | std::ios::trunc);
    if (!file) {
      err_ << "mcpgw inspect: cannot write " << path_ << "\n";
      return false;
    }
    file << kPageHead << json << kPageTail;
    file.flush();
    if (!file) {
      err_ << "mcpgw inspect: cannot write " << path_ << "\n";
      return false;
    }
    return true;
  }

 private:
  static void write_exchange(std::string& json, const Exchange& exchange) {
    json += "{\"kind\":";
    append_json_string(json, to_string(exchange.kind), true);
    field_string(json, "method", exchange.method);
    field_string(json, "target", exchange.target);
    field_string(json, "id", exchange.id);
    field_string(json, "session", exchange.session);
    field_string(json, "backend", exchange.backend);
    field_string(json, "direction", mcp::traffic::to_string(exchange.direction));
    field_string(json, "status", to_string(exchange.status));
    json += ",\"tool_error\":";
    json += exchange.tool_error ? "true" : "false";
    field_number(json, "error_code", exchange.error_code);
    field_string(json, "error_message", exchange.error_message);
    field_number(json, "started_us", exchange.started_us);
    field_number(json, "ended_us", exchange.ended_us);
    json += ",\"duration_ms\":";
    const auto duration = exchange.duration_us();
    json += duration ? format_ms_number(*duration) : std::string("null");
    field_string(json, "source", mcp::traffic::describe(exchange.request_where));
    field_string(json, "request", bounded(exchange.request_message));
    field_string(json, "response", bounded(exchange.response_message));
    json += ",\"notifications\":[";
    bool first = true;
    for (const auto& linked : exchange.linked) {
      json += first ? "{\"method\":" : ",{\"method\":";
      first = false;
      append_json_string(json, linked.method, true);
      field_number(json, "time_us", linked.time_us);
      field_string(json, "message", bounded(linked.message));
      json += '}';
    }
    json += "]}";
  }

  std::string path_;
  std::ostream& err_;
  std::vector<std::string> inputs_;
  std::size_t max_exchanges_;
  std::size_t kept_ = 0;
  std::uint64_t omitted_ = 0;
  std::map<std::string, std::vector<Exchange>> sessions_;
  std::vector<std::string> order_;
};

}  // namespace

std::unique_ptr<Renderer> make_html_renderer(std::string path, std::ostream& err,
                                             std::vector<std::string> inputs,
                                             std::size_t max_exchanges) {
  return std::make_unique<HtmlRenderer>(std::move(path), err, std::move(inputs), max_exchanges);
}

}  // namespace mcpgw::inspect
