// The legacy HTTP+SSE front end (2024-11-05 transport) with the SDK's SSEClientTransport:
// initialize, tools/list paged to its end with both backends' prefixed tools, calls routed to
// each backend, a sampling round trip (a server-to-client request on the SSE stream, answered
// by POST), prompts/get, text and binary resources/read by rewritten URIs, and progress.
// Only the first progress notification is required here: SDK 1.32's SSEClientTransport
// dispatches the events of one read synchronously while the Protocol runs notification
// handlers a microtask later, so a progress notification that arrives in the same read as its
// response is dropped after the response removed the handler (the gateway sends them in order,
// as the wire shows).
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

  const prompt = await client.getPrompt(
      {name: `${http}__args-prompt`, arguments: {city: 'Porto'}});
  check(JSON.stringify(prompt.messages).includes('Porto'), 'prompts/get over SSE', prompt);
  const token = (name) => name.toLowerCase().replaceAll('_', '.');
  const binaryUri = `${token(stdio)}+test://static-binary`;
  const binary = await client.readResource({uri: binaryUri});
  check(binary.contents?.[0]?.uri === binaryUri && typeof binary.contents[0].blob === 'string',
        'binary resources/read over SSE', binary);
  const textUri = `${token(http)}+demo://resource/dynamic/text/5`;
  const text = await client.readResource({uri: textUri});
  check(text.contents?.[0]?.uri === textUri && text.contents[0].text?.startsWith('Resource 5:'),
        'text resources/read over SSE', text);

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
