// Call routing through the gateway: tools/call, prompts/get, resources/read and
// completion/complete each reach the backend named by the prefix (or URI token) and come back
// with that backend's own answer; ping is answered; logging/setLevel is accepted and the
// backend's notifications/message arrive; unknown names get a JSON-RPC error.
//   node calls.mjs --gateway URL --stdio-name NAME --http-name NAME
import {arg, check, connect, run, textOf, types} from './lib.mjs';

run(async () => {
  const stdio = arg('stdio-name');
  const http = arg('http-name');
  const {client} = await connect(arg('gateway'));
  const token = (name) => name.toLowerCase().replaceAll('_', '.');
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

  // completion/complete goes to the owner of its ref (a prompt name or a template URI).
  const completion = async (ref, name, value, context) =>
      (await client.complete({ref, argument: {name, value}, ...(context ? {context} : {})}))
          .completion.values;
  const completions = {
    stdioPrompt: await completion({type: 'ref/prompt', name: `${stdio}__test_prompt_with_arguments`},
                                  'arg1', 'hel'),
    stdioTemplate: await completion(
        {type: 'ref/resource', uri: `${token(stdio)}+test://template/{id}/data`}, 'id', '12'),
    httpPrompt: await completion({type: 'ref/prompt', name: `${http}__completable-prompt`},
                                 'department', 'Eng'),
  };
  check(JSON.stringify(completions.stdioPrompt) === '["hello","help"]',
        'completion of a fixture prompt argument', completions);
  check(JSON.stringify(completions.stdioTemplate) === '["12","123"]',
        'completion of a fixture template variable', completions);
  check(JSON.stringify(completions.httpPrompt) === '["Engineering"]',
        'completion of an HTTP backend prompt argument', completions);

  // ping is answered by the gateway itself.
  check(JSON.stringify(await client.ping()) === '{}', 'ping');

  // logging/setLevel reaches the backends; the fixture's log messages reach this session.
  const logs = [];
  client.setNotificationHandler(types.LoggingMessageNotificationSchema,
                                (notification) => logs.push(notification.params));
  await client.setLoggingLevel('debug');
  const logged = await client.callTool({name: `${stdio}__test_tool_with_logging`, arguments: {}});
  check(textOf(logged) === 'Tool with logging executed successfully', 'logging tool', logged);
  const logTexts = logs.map((entry) => JSON.stringify(entry.data));
  check(['Tool execution started', 'Tool processing data', 'Tool execution completed'].every(
            (text) => logTexts.some((logText) => logText.includes(text))),
        'notifications/message of the fixture', logs);

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
  return {server, completions, logs: logs.length, errors};
});
