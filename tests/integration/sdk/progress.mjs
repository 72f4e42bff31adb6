// Progress through the gateway: the SDK's onprogress callback receives the backend's
// notifications/progress for its own call, with the values the backend sent. Runs the stdio
// fixture's test_tool_with_progress (0, 50, 100 of 100) and the HTTP backend's
// trigger-long-running-operation (1..steps of steps) at the same time, so each progress token
// must be routed back to the right call; a second client session makes the same stdio call at
// the same time and must see only its own notifications (its request ids and progress tokens
// are the same as the first client's).
//   node progress.mjs --gateway URL --stdio-name NAME --http-name NAME
import {arg, check, connect, run, textOf} from './lib.mjs';

run(async () => {
  const stdio = arg('stdio-name');
  const http = arg('http-name');
  const {client} = await connect(arg('gateway'));
  const second = await connect(arg('gateway'));

  const stdioProgress = [];
  const httpProgress = [];
  const secondProgress = [];
  const steps = 3;
  const [stdioResult, httpResult, secondResult] = await Promise.all([
    client.callTool({name: `${stdio}__test_tool_with_progress`, arguments: {}}, undefined, {
      onprogress: (p) => stdioProgress.push(p),
    }),
    client.callTool(
        {name: `${http}__trigger-long-running-operation`,
         arguments: {duration: 0.3, steps}},
        undefined, {onprogress: (p) => httpProgress.push(p)}),
    // Another client session with a call of its own: progress tokens are per session (both
    // SDK clients number their requests alike), so each must get only its own notifications.
    second.client.callTool({name: `${stdio}__test_tool_with_progress`, arguments: {}},
                           undefined, {onprogress: (p) => secondProgress.push(p)}),
  ]);
  check(textOf(secondResult) === 'Tool with progress executed successfully',
        'second session progress tool result', secondResult);
  check(textOf(stdioResult) === 'Tool with progress executed successfully',
        'stdio progress tool result', stdioResult);
  check(textOf(httpResult).includes('Long running operation completed'),
        'HTTP progress tool result', httpResult);

  const values = (list) => list.map((p) => p.progress);
  const expectedStdio = [0, 50, 100];
  const expectedHttp = Array.from({length: steps}, (_, i) => i + 1);
  const same = (actual, expected) => JSON.stringify(actual) === JSON.stringify(expected);
  check(same(values(stdioProgress), expectedStdio), 'stdio backend progress values',
        stdioProgress);
  check(stdioProgress.every((p) => p.total === 100), 'stdio backend progress total',
        stdioProgress);
  check(same(values(httpProgress), expectedHttp), 'HTTP backend progress values', httpProgress);
  check(httpProgress.every((p) => p.total === steps), 'HTTP backend progress total',
        httpProgress);
  check(same(values(secondProgress), expectedStdio), 'second session progress values',
        secondProgress);

  await client.close();
  await second.client.close();
  return {stdioProgress, httpProgress, secondProgress};
});
