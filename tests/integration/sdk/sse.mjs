// The legacy HTTP+SSE front end (2024-11-05 transport) with the SDK's SSEClientTransport:
// initialize, tools/list paged to its end with both backends' prefixed tools, calls routed to
// each backend, a sampling round trip (a server-to-client request on the SSE stream, answered
// by POST), and the first progress notification (see progress.mjs for why not the last).
//   node sse.mjs --gateway SSE_URL --stdio-name NAME --http-name NAME
import {arg, check, connect, listAll, run, textOf, types} from './lib.mjs';

run(async () => {
  const stdio = arg('stdio-name');
  const http = arg('http-name');
  const {client} = await connect(arg('gateway'), {sse: true, capabilities: {sampling: {}}});
  const server = client.getServerVersion();
  check(server?.name === 'mcpgw', 'serverInfo of the virtual server', server);
  client.setRequestHandler(types.CreateMessageRequestSchema, () => ({
    role: 'assistant',
    content: {type: 'text', text: 'sampled over sse'},
    model: 'mcpgw-test-model',
  }));

  const tools = await listAll(client, 'listTools', 'tools');
  const names = tools.items.map((t) => t.name);
  check(new Set(names).size === names.length, 'duplicate tools over SSE', names);
  check(tools.pages > 1, 'the tool list over SSE should need several pages', tools.pages);
  for (const expected of [`${stdio}__echo`, `${stdio}__tool_0`, `${http}__echo`,
                          `${http}__trigger-sampling-request`]) {
    check(names.includes(expected), `${expected} missing from tools/list over SSE`, names);
  }

  const echo = await client.callTool({name: `${stdio}__echo`, arguments: {text: 'over sse'}});
  check(textOf(echo) === 'over sse', 'stdio backend call over SSE', echo);
  const httpEcho =
      await client.callTool({name: `${http}__echo`, arguments: {message: 'over sse'}});
  check(textOf(httpEcho) === 'Echo: over sse', 'HTTP backend call over SSE', httpEcho);
  const sampled = await client.callTool({name: `${stdio}__test_sampling`, arguments: {prompt: 'p'}});
  check(textOf(sampled) === 'LLM response: sampled over sse', 'sampling round trip over SSE',
        sampled);

  const progress = [];
  const withProgress = await client.callTool(
      {name: `${stdio}__test_tool_with_progress`, arguments: {}}, undefined,
      {onprogress: (p) => progress.push(p)});
  check(textOf(withProgress) === 'Tool with progress executed successfully',
        'progress tool over SSE', withProgress);
  check(progress.length >= 1 && progress[0].progress === 0 && progress[0].total === 100,
        'the first progress notification over SSE', progress);

  await client.close();
  return {server, pages: tools.pages, tools: names.length, progress};
});
