// Session DELETE: transport.terminateSession() ends the gateway session; afterwards every
// request with the old Mcp-Session-Id (POST, GET, DELETE, and an SDK client resuming it) gets
// 404, while a new session works. Pauses at {"event":"connected"} once the session has used
// the stdio backend, so the test can see which backend process belongs to it.
//   node delete.mjs --gateway URL --stdio-name NAME --http-name NAME
import {arg, check, connect, pause, run, StreamableHTTPClientTransport, StreamableHTTPError,
        textOf} from './lib.mjs';

run(async () => {
  const url = arg('gateway');
  const stdio = arg('stdio-name');
  const http = arg('http-name');
  const {client, transport} = await connect(url);
  const echo = await client.callTool({name: `${stdio}__echo`, arguments: {text: 'before'}});
  check(textOf(echo) === 'before', 'call before DELETE', echo);
  const sessionId = transport.sessionId;
  check(typeof sessionId === 'string' && sessionId.length >= 22,
        'Mcp-Session-Id too short for 128 random bits', sessionId);
  const version = transport.protocolVersion;
  await pause('connected');
  await transport.terminateSession();
  check(transport.sessionId === undefined, 'the SDK kept the session id after DELETE');

  const headers = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'Mcp-Session-Id': sessionId,
    'MCP-Protocol-Version': version,
  };
  const statuses = {};
  const post = await fetch(url, {
    method: 'POST', headers,
    body: JSON.stringify({jsonrpc: '2.0', id: 99, method: 'tools/list', params: {}}),
  });
  statuses.post = post.status;
  statuses.postBody = await post.text();
  const get = await fetch(url, {method: 'GET', headers: {...headers, Accept: 'text/event-stream'}});
  statuses.get = get.status;
  await get.body?.cancel();
  const again = await fetch(url, {method: 'DELETE', headers});
  statuses.delete = again.status;
  await again.body?.cancel();
  check(statuses.post === 404 && statuses.get === 404 && statuses.delete === 404,
        'requests with the ended session id', statuses);

  // The SDK resuming the old session sees the 404 as a StreamableHTTPError.
  const staleTransport = new StreamableHTTPClientTransport(new URL(url), {sessionId});
  let staleError;
  try {
    await staleTransport.start();
    await staleTransport.send({jsonrpc: '2.0', id: 1, method: 'tools/list', params: {}});
  } catch (error) {
    staleError = error;
  }
  await staleTransport.close();
  check(staleError instanceof StreamableHTTPError && staleError.code === 404,
        'the SDK transport with the old session id', String(staleError));

  const fresh = await connect(url);
  const tools = await fresh.client.listTools();
  check(tools.tools.some((t) => t.name.startsWith(`${http}__`)), 'a new session after DELETE');
  await fresh.transport.terminateSession();
  await fresh.client.close();
  await client.close();
  return {sessionId, statuses, staleError: String(staleError)};
});
