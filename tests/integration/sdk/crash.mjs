// A backend killed mid-call. Starts the victim fixture's `sleep` (60 s) and makes sure the
// backend has it (an echo on the same backend answers after the sleep was forwarded); then the
// backend process dies, either by the fixture's own `crash` tool (--mode tool) or killed by the
// test (--mode external: the script pauses at {"event":"sleeping"} until the test killed the
// process, and at {"event":"failed"} so the test can start an HTTP backend again). Every call
// in flight must fail promptly with a JSON-RPC error (not hang until a timeout), the survivor
// backend must keep answering, and then the victim answers again (a stdio backend restarted
// by the gateway after its backoff; an HTTP backend on a new process with a new session).
//   node crash.mjs --gateway URL --victim FIXTURE_NAME --survivor NAME --mode tool|external
import {arg, check, connect, eventually, pause, run, textOf, types} from './lib.mjs';

const errorOf = (promise) => promise.then((result) => ({result}), (error) => ({error}));
const describe = (outcome) => outcome.error
    ? {code: outcome.error.code, message: outcome.error.message}
    : {result: outcome.result};

run(async () => {
  const victim = arg('victim');
  const survivor = arg('survivor');
  const mode = arg('mode');
  const {client} = await connect(arg('gateway'));

  const sleeping = errorOf(client.callTool({name: `${victim}__sleep`, arguments: {ms: 60000}},
                                           undefined, {timeout: 120000}));
  const echo = await client.callTool({name: `${victim}__echo`, arguments: {text: 'alive'}});
  check(textOf(echo) === 'alive', 'echo before the crash', echo);

  let started;
  const outcomes = {};
  if (mode === 'tool') {
    started = Date.now();
    const crash = await errorOf(client.callTool({name: `${victim}__crash`, arguments: {}}));
    outcomes.crash = describe(crash);
    check(crash.error instanceof types.McpError,
          'the call that crashed the backend did not get a JSON-RPC error', outcomes.crash);
  } else {
    await pause('sleeping');
    started = Date.now();
  }
  const sleep = await sleeping;
  const failedAfterMs = Date.now() - started;
  outcomes.sleep = describe(sleep);
  check(sleep.error instanceof types.McpError,
        'the call in flight when the backend died did not get a JSON-RPC error', outcomes.sleep);
  check(failedAfterMs < 10000, 'the call in flight was not failed promptly', failedAfterMs);
  if (mode !== 'tool') await pause('failed');

  // The fixture's echo takes `text`, server-everything's `message`; each ignores the other.
  const other = await client.callTool(
      {name: `${survivor}__echo`, arguments: {text: 'still here', message: 'still here'}});
  check(!other.isError && textOf(other).includes('still here'),
        'the survivor backend after the crash', other);

  let attempts = 0;
  const restarted = await eventually(`${victim} answering again after its restart`, async () => {
    attempts += 1;
    const again = await client.callTool({name: `${victim}__echo`, arguments: {text: 'back'}});
    return textOf(again) === 'back' ? again : undefined;
  }, {timeoutMs: 10000, intervalMs: 100});
  await client.close();
  return {outcomes, failedAfterMs, attempts, restarted};
});
