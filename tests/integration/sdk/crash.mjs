// A backend killed mid-call. Starts the stdio fixture's `sleep` (60 s) and makes sure the
// backend has it; then the backend process dies, either by the fixture's own `crash` tool
// (--mode tool) or killed from outside (--mode external: the script prints
// {"event":"sleeping"} and waits for a line on stdin once the test killed the process). Every
// call in flight must fail promptly with a JSON-RPC error (not hang until a timeout), the other
// backend must keep answering, and after the restart backoff the crashed backend answers again.
//   node crash.mjs --gateway URL --stdio-name NAME --http-name NAME --mode tool|external
import {arg, check, connect, eventually, pause, run, textOf, types} from './lib.mjs';

const errorOf = (promise) => promise.then((result) => ({result}), (error) => ({error}));

run(async () => {
  const stdio = arg('stdio-name');
  const http = arg('http-name');
  const mode = arg('mode');
  const {client} = await connect(arg('gateway'));

  const sleeping = errorOf(client.callTool({name: `${stdio}__sleep`, arguments: {ms: 60000}},
                                           undefined, {timeout: 120000}));
  const echo = await client.callTool({name: `${stdio}__echo`, arguments: {text: 'alive'}});
  check(textOf(echo) === 'alive', 'echo before the crash', echo);

  let started;
  const outcomes = {};
  if (mode === 'tool') {
    started = Date.now();
    const crash = await errorOf(client.callTool({name: `${stdio}__crash`, arguments: {}}));
    outcomes.crash = crash.error ? {code: crash.error.code, message: crash.error.message}
                                 : {result: crash.result};
    check(crash.error instanceof types.McpError,
          'the call that crashed the backend did not get a JSON-RPC error', outcomes.crash);
  } else {
    await pause('sleeping');
    started = Date.now();
  }
  const sleep = await sleeping;
  const failedAfterMs = Date.now() - started;
  outcomes.sleep = sleep.error ? {code: sleep.error.code, message: sleep.error.message}
                               : {result: sleep.result};
  check(sleep.error instanceof types.McpError,
        'the call in flight when the backend died did not get a JSON-RPC error', outcomes.sleep);
  check(failedAfterMs < 10000, 'the call in flight was not failed promptly', failedAfterMs);

  const other = await client.callTool({name: `${http}__echo`, arguments: {message: 'still here'}});
  check(textOf(other) === 'Echo: still here', 'the other backend after the crash', other);

  let attempts = 0;
  const restarted = await eventually(`${stdio} answering again after its restart`, async () => {
    attempts += 1;
    const again = await client.callTool({name: `${stdio}__echo`, arguments: {text: 'back'}});
    return textOf(again) === 'back' ? again : undefined;
  }, {timeoutMs: 10000, intervalMs: 100});
  await client.close();
  return {outcomes, failedAfterMs, attempts, restarted};
});
