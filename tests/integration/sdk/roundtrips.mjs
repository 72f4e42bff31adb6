// Server-to-client requests through the gateway: sampling/createMessage, elicitation/create and
// roots/list, asked by the stdio fixture (test_sampling, test_elicitation, roots) and by the
// HTTP backend (server-everything's trigger-sampling-request, trigger-elicitation-request,
// get-roots-list). The client's handlers answer with values unique to each call; the tool
// results must carry them, so the answer reached the backend that asked. Then the client's
// notifications/roots/list_changed must reach the HTTP backend, which asks for the roots again.
//   node roundtrips.mjs --gateway URL --stdio-name NAME --http-name NAME
import {arg, check, connect, eventually, run, textOf, types} from './lib.mjs';

run(async () => {
  const stdio = arg('stdio-name');
  const http = arg('http-name');
  const {client} = await connect(arg('gateway'), {
    capabilities: {sampling: {}, elicitation: {form: {}}, roots: {listChanged: true}},
  });

  const asked = {sampling: [], elicitation: [], roots: 0};
  client.setRequestHandler(types.CreateMessageRequestSchema, (request) => {
    const prompt = request.params.messages.map((m) => m.content?.text ?? '').join(' ');
    asked.sampling.push(prompt);
    return {
      role: 'assistant',
      content: {type: 'text', text: `sampled#${asked.sampling.length}`},
      model: 'mcpgw-test-model',
      stopReason: 'endTurn',
    };
  });
  client.setRequestHandler(types.ElicitRequestSchema, (request) => {
    asked.elicitation.push(request.params.message);
    const properties = Object.keys(request.params.requestedSchema?.properties ?? {});
    if (properties.includes('username')) {
      return {action: 'accept', content: {username: 'alice-from-sdk', email: 'alice@example.com'}};
    }
    return {action: 'accept', content: {name: 'Bob From SDK'}};
  });
  let rootUri = 'file:///tmp/mcpgw-sdk-root';
  client.setRequestHandler(types.ListRootsRequestSchema, () => {
    asked.roots += 1;
    return {roots: [{uri: rootUri, name: 'sdk-root'}]};
  });

  const call = async (name, args) => textOf(await client.callTool({name, arguments: args}));

  const stdioSampling = await call(`${stdio}__test_sampling`, {prompt: 'prompt-from-fixture-call'});
  check(stdioSampling === 'LLM response: sampled#1',
        'the fixture did not get the client\'s sampling answer', stdioSampling);
  check(asked.sampling[0]?.includes('prompt-from-fixture-call'),
        'the sampling request did not carry the fixture\'s prompt', asked.sampling);

  const httpSampling =
      await call(`${http}__trigger-sampling-request`, {prompt: 'prompt-from-everything-call'});
  check(httpSampling.includes('sampled#2') && httpSampling.includes('mcpgw-test-model'),
        'the HTTP backend did not get the client\'s sampling answer', httpSampling);
  check(asked.sampling[1]?.includes('prompt-from-everything-call'),
        'the sampling request did not carry the HTTP backend\'s prompt', asked.sampling);

  const stdioElicitation = await call(`${stdio}__test_elicitation`, {message: 'who are you?'});
  check(stdioElicitation.includes('action=accept') &&
            stdioElicitation.includes('alice-from-sdk'),
        'the fixture did not get the client\'s elicitation answer', stdioElicitation);
  check(asked.elicitation[0] === 'who are you?', 'elicitation message changed on the way',
        asked.elicitation);

  const httpElicitation = await call(`${http}__trigger-elicitation-request`, {});
  check(httpElicitation.includes('Bob From SDK'),
        'the HTTP backend did not get the client\'s elicitation answer', httpElicitation);

  const stdioRoots = await call(`${stdio}__roots`, {});
  check(stdioRoots.includes('file:///tmp/mcpgw-sdk-root'),
        'the fixture did not get the client\'s roots', stdioRoots);
  const httpRoots = await call(`${http}__get-roots-list`, {});
  check(httpRoots.includes('file:///tmp/mcpgw-sdk-root'),
        'the HTTP backend did not get the client\'s roots', httpRoots);

  // notifications/roots/list_changed goes to every backend: server-everything asks for the
  // roots again and then reports the new one.
  rootUri = 'file:///tmp/mcpgw-sdk-root-changed';
  const rootsAskedBefore = asked.roots;
  await client.sendRootsListChanged();
  const changedRoots = await eventually('the HTTP backend seeing the changed roots', async () => {
    const text = await call(`${http}__get-roots-list`, {});
    return text.includes(rootUri) ? text : undefined;
  });
  check(asked.roots > rootsAskedBefore, 'roots/list_changed did not make a backend ask again',
        asked.roots);

  await client.close();
  return {changedRoots, asked, stdioSampling, httpSampling, stdioElicitation, httpElicitation, stdioRoots,
          httpRoots};
});
