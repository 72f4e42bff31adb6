// Call routing through the gateway: tools/call, prompts/get and resources/read each reach the
// backend named by the prefix (or URI token) and come back with that backend's own answer;
// unknown names get a JSON-RPC error.
//   node calls.mjs --gateway URL --stdio-name NAME --http-name NAME [--sse]
import {arg, check, connect, run, textOf, types} from './lib.mjs';

run(async () => {
  const stdio = arg('stdio-name');
  const http = arg('http-name');
  const sse = process.argv.includes('--sse');
  const {client} = await connect(arg('gateway'), {sse});
  const server = client.getServerVersion();
  const capabilities = client.getServerCapabilities();
  check(capabilities?.tools && capabilities?.prompts && capabilities?.resources,
        'the virtual server lacks the union of the backends\' capabilities', capabilities);

  const echo = await client.callTool({name: `${stdio}__echo`, arguments: {text: 'to the fixture'}});
  check(textOf(echo) === 'to the fixture', 'stdio echo answer', echo);
  const sum = await client.callTool({name: `${stdio}__add`, arguments: {a: 20, b: 22}});
  check(sum.structuredContent?.sum === 42, 'stdio add structuredContent', sum);
  const httpEcho =
      await client.callTool({name: `${http}__echo`, arguments: {message: 'to everything'}});
  check(textOf(httpEcho) === 'Echo: to everything', 'HTTP backend echo answer', httpEcho);
  const httpSum = await client.callTool({name: `${http}__get-sum`, arguments: {a: 2, b: 3}});
  check(textOf(httpSum).includes('5'), 'HTTP backend get-sum answer', httpSum);

  const stdioPrompt = await client.getPrompt(
      {name: `${stdio}__test_prompt_with_arguments`, arguments: {arg1: 'alpha', arg2: 'beta'}});
  const stdioPromptText = JSON.stringify(stdioPrompt.messages);
  check(stdioPromptText.includes('alpha') && stdioPromptText.includes('beta'),
        'stdio prompts/get answer', stdioPrompt);
  const httpPrompt =
      await client.getPrompt({name: `${http}__args-prompt`, arguments: {city: 'Lisbon'}});
  check(JSON.stringify(httpPrompt.messages).includes('Lisbon'), 'HTTP prompts/get answer',
        httpPrompt);

  const token = (name) => name.toLowerCase().replaceAll('_', '.');
  const staticText = `${token(stdio)}+test://static-text`;
  const read = await client.readResource({uri: staticText});
  check(read.contents?.length === 1 && read.contents[0].uri === staticText &&
            typeof read.contents[0].text === 'string' && read.contents[0].text.length > 0,
        'resources/read of a rewritten fixture URI', read);
  const dynamicText = `${token(http)}+demo://resource/dynamic/text/7`;
  const httpRead = await client.readResource({uri: dynamicText});
  check(httpRead.contents?.[0]?.uri === dynamicText &&
            httpRead.contents[0].text?.startsWith('Resource 7:'),
        'resources/read of a rewritten HTTP backend URI', httpRead);

  const errors = {};
  for (const name of [`${stdio}__no_such_tool`, 'nobody__echo', 'echo']) {
    try {
      const result = await client.callTool({name, arguments: {}});
      // A backend may answer an unknown tool with isError instead of a JSON-RPC error.
      check(result.isError === true, `calling unknown tool ${name} succeeded`, result);
      errors[name] = {isError: true, text: textOf(result)};
    } catch (error) {
      check(error instanceof types.McpError, `unknown tool ${name}: not a JSON-RPC error`,
            String(error));
      errors[name] = {code: error.code, message: error.message};
    }
  }
  for (const name of ['nobody__echo', 'echo']) {
    const text = JSON.stringify(errors[name]);
    check(!text.includes(stdio) && !text.includes(http),
          `the error for unroutable ${name} names a backend`, errors[name]);
  }

  await client.close();
  return {server, errors};
});
