// Placeholder until the JSON-RPC codec lands.
