// Shared plumbing for the official-SDK client scripts that tests/integration/sdk_test.cpp runs
// with Node 22. The SDK is loaded from the npm peers folder named by MCPGW_PEERS_DIR (ESM
// ignores NODE_PATH, so it is imported by absolute path). A script calls run(main): main's
// return value is printed as one JSON line on stdout and the exit code is 0; a failed check or
// any error prints the reason on stderr and exits 1; a script that has not finished within
// MCPGW_SDK_SCRIPT_TIMEOUT_MS (default 20 s) exits 2.
import path from 'node:path';
import readline from 'node:readline';
import {pathToFileURL} from 'node:url';

const peers = process.env.MCPGW_PEERS_DIR;
if (!peers) {
  console.error('MCPGW_PEERS_DIR is not set');
  process.exit(1);
}
const esm = path.join(peers, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm');
const load = (relative) => import(pathToFileURL(path.join(esm, relative)).href);

export const {Client} = await load('client/index.js');
export const {StreamableHTTPClientTransport, StreamableHTTPError} =
    await load('client/streamableHttp.js');
export const {SSEClientTransport} = await load('client/sse.js');
export const {StdioClientTransport} = await load('client/stdio.js');
export const types = await load('types.js');

export class CheckFailed extends Error {}

// A failed expectation: the script ends with exit code 1 and `message` on stderr.
export function check(condition, message, detail) {
  if (!condition) {
    const suffix = detail === undefined ? '' : `: ${JSON.stringify(detail)}`;
    throw new CheckFailed(`${message}${suffix}`);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `attempt` (async; returns a value or throws) until it returns something truthy, at
// most `timeoutMs`; throws the last error (or a CheckFailed) when time runs out.
export async function eventually(what, attempt, {timeoutMs = 5000, intervalMs = 50} = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await attempt();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new CheckFailed(`${what} did not happen within ${timeoutMs} ms` +
                        (lastError ? ` (last error: ${lastError.message})` : ''));
}

// Every item of a paginated list, paging with cursors; also the page count.
export async function listAll(client, method, field, {maxPages = 100} = {}) {
  const items = [];
  let cursor;
  let pages = 0;
  for (;;) {
    const page = await client[method](cursor === undefined ? {} : {cursor});
    ++pages;
    check(Array.isArray(page[field]), `${method} page ${pages} has no ${field} array`, page);
    items.push(...page[field]);
    if (page.nextCursor === undefined) break;
    check(typeof page.nextCursor === 'string', `${method}: nextCursor is not a string`, page);
    check(pages < maxPages, `${method}: more than ${maxPages} pages`);
    cursor = page.nextCursor;
  }
  return {items, pages};
}

export const textOf = (result) =>
    (result.content ?? []).filter((block) => block.type === 'text').map((b) => b.text).join('');

// A connected SDK client over Streamable HTTP (or legacy SSE with {sse: true}) to `url`.
export async function connect(url, {capabilities = {}, sse = false, name = 'mcpgw-sdk-test',
                                    transportOptions = {}} = {}) {
  const client = new Client({name, version: '1.0.0'}, {capabilities});
  const transport = sse ? new SSEClientTransport(new URL(url), transportOptions)
                        : new StreamableHTTPClientTransport(new URL(url), transportOptions);
  await client.connect(transport);
  return {client, transport};
}

// Prints {"event": event} on stdout and waits until the test writes a line on stdin (the test
// acts on the gateway or its backends meanwhile).
let stdinLines;
export async function pause(event) {
  stdinLines ??= readline.createInterface({input: process.stdin})[Symbol.asyncIterator]();
  process.stdout.write(`${JSON.stringify({event})}\n`);
  const line = await stdinLines.next();
  check(!line.done, `stdin closed while paused at ${event}`);
  return line.value;
}

export function arg(name) {
  const at = process.argv.indexOf(`--${name}`);
  check(at > 0 && at + 1 < process.argv.length, `missing --${name}`);
  return process.argv[at + 1];
}

export function run(main) {
  const limit = Number(process.env.MCPGW_SDK_SCRIPT_TIMEOUT_MS ?? 20000);
  const timer = setTimeout(() => {
    console.error(`script timed out after ${limit} ms`);
    process.exit(2);
  }, limit);
  main().then(
      (result) => {
        clearTimeout(timer);
        process.stdout.write(`${JSON.stringify(result ?? {})}\n`, () => process.exit(0));
      },
      (error) => {
        clearTimeout(timer);
        console.error(error instanceof CheckFailed ? `CHECK FAILED: ${error.message}`
                                                   : (error?.stack ?? String(error)));
        process.exit(1);
      });
}
