// inspect shows the core's paired exchanges (mcp/exchange.hpp, shared with replay) under
// inspect's own names.
#pragma once

#include "mcp/exchange.hpp"
#include "mcp/pairing.hpp"

namespace mcpgw::inspect {

using mcp::traffic::Exchange;
using mcp::traffic::ExchangeKind;
using mcp::traffic::is_server_to_client_method;
using mcp::traffic::LinkedNotification;
using mcp::traffic::Pairer;
using mcp::traffic::PairerOptions;
using mcp::traffic::Status;

}  // namespace mcpgw::inspect
