// Cancellation reaches only the owning backend. For each (owner, other) pair of fixture
// backends: starts owner's `sleep` through the SDK with an AbortSignal, makes sure the backend
// has it (an echo on the same backend answers after the sleep was forwarded), aborts (the SDK
// sends notifications/cancelled), then waits until owner's `cancellations` tool lists one more
// request id while other's list stays as it was.
//   node cancel.mjs --gateway URL --backends NAME,NAME
import {arg, check, connect, eventually, run, textOf} from './lib.mjs';

run(async () => {
  const backends = arg('backends').split(',');
  check(backends.length === 2, '--backends takes two names');
  const {client} = await connect(arg('gateway'));

  const cancelled = async (backend) => {
    const result = await client.callTool({name: `${backend}__cancellations`, arguments: {}});
    check(Array.isArray(result.structuredContent?.cancelled),
          `${backend}__cancellations has no list`, result);
    return result.structuredContent.cancelled;
  };

  const rounds = [];
  for (const [owner, other] of [backends, [...backends].reverse()]) {
    const ownerBefore = await cancelled(owner);
    const otherBefore = await cancelled(other);
    const abort = new AbortController();
    const sleeping = client.callTool({name: `${owner}__sleep`, arguments: {ms: 30000}}, undefined,
                                     {signal: abort.signal});
    const settled = sleeping.then((result) => ({result}), (error) => ({error}));
    const echo = await client.callTool({name: `${owner}__echo`, arguments: {text: 'in order'}});
    check(textOf(echo) === 'in order', `${owner}__echo while sleeping`, echo);
    abort.abort('the test cancels it');
    const outcome = await settled;
    check(outcome.error !== undefined, `${owner}__sleep was not aborted`, outcome.result);

    const ownerAfter = await eventually(`${owner} recording the cancellation`, async () => {
      const list = await cancelled(owner);
      return list.length > ownerBefore.length ? list : undefined;
    });
    check(ownerAfter.length === ownerBefore.length + 1,
          `${owner} recorded more than one cancellation`, ownerAfter);
    const otherAfter = await cancelled(other);
    check(otherAfter.length === otherBefore.length,
          `the cancellation of ${owner}'s request also reached ${other}`, otherAfter);
    rounds.push({owner, other, ownerAfter, otherAfter});
  }
  await client.close();
  return {rounds};
});
