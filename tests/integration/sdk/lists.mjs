// Prefixed lists with pagination across backends. Lists every backend directly first (the
// stdio fixture through the SDK's StdioClientTransport with the gateway's own command line, the
// HTTP backend over Streamable HTTP), then pages through the gateway with cursors and requires
// exactly the union, each item prefixed with its backend's name (tools, prompts) or URI token
// (resources, templates), with no duplicates. A dropped nextCursor loses items, so it fails.
//   node lists.mjs --gateway URL --http-backend URL --http-name NAME
//                  --stdio-command JSON --stdio-name NAME
import {arg, check, connect, Client, listAll, run, StdioClientTransport} from './lib.mjs';

const capabilities = {sampling: {}, elicitation: {}, roots: {listChanged: true}};

// Each list of one server, paged to its end.
async function listServer(client) {
  const tools = await listAll(client, 'listTools', 'tools');
  const prompts = await listAll(client, 'listPrompts', 'prompts');
  const resources = await listAll(client, 'listResources', 'resources');
  const templates = await listAll(client, 'listResourceTemplates', 'resourceTemplates');
  return {tools, prompts, resources, templates};
}

async function listDirectStdio(command) {
  const client = new Client({name: 'mcpgw-sdk-test-direct', version: '1.0.0'}, {capabilities});
  const transport = new StdioClientTransport({command: command[0], args: command.slice(1),
                                              stderr: 'ignore'});
  await client.connect(transport);
  try {
    return await listServer(client);
  } finally {
    await client.close();
  }
}

async function listDirectHttp(url) {
  const {client} = await connect(url, {capabilities});
  try {
    return await listServer(client);
  } finally {
    await client.close();
  }
}

function expectSameSet(what, actual, expected) {
  const seen = new Set();
  const duplicates = actual.filter((item) => (seen.has(item) ? true : (seen.add(item), false)));
  check(duplicates.length === 0, `${what}: duplicates through the gateway`, duplicates);
  const wanted = new Set(expected);
  const missing = expected.filter((item) => !seen.has(item));
  const extra = actual.filter((item) => !wanted.has(item));
  check(missing.length === 0 && extra.length === 0, `${what}: gateway list differs`,
        {missing, extra});
}

run(async () => {
  const stdioName = arg('stdio-name');
  const httpName = arg('http-name');
  const stdioDirect = await listDirectStdio(JSON.parse(arg('stdio-command')));
  const httpDirect = await listDirectHttp(arg('http-backend'));
  check(stdioDirect.tools.pages > 1, 'the stdio fixture should page its tools itself',
        stdioDirect.tools.pages);

  const {client} = await connect(arg('gateway'), {capabilities});
  const gateway = await listServer(client);
  await client.close();

  const uriToken = (name) => name.toLowerCase().replaceAll('_', '.');
  const named = (list, prefix) => list.items.map((item) => `${prefix}__${item.name}`);
  const uris = (list, token, field) => list.items.map((item) => `${token}+${item[field]}`);
  expectSameSet('tools', gateway.tools.items.map((t) => t.name),
                [...named(stdioDirect.tools, stdioName), ...named(httpDirect.tools, httpName)]);
  expectSameSet('prompts', gateway.prompts.items.map((p) => p.name),
                [...named(stdioDirect.prompts, stdioName),
                 ...named(httpDirect.prompts, httpName)]);
  expectSameSet('resources', gateway.resources.items.map((r) => r.uri),
                [...uris(stdioDirect.resources, uriToken(stdioName), 'uri'),
                 ...uris(httpDirect.resources, uriToken(httpName), 'uri')]);
  expectSameSet('resource templates', gateway.templates.items.map((t) => t.uriTemplate),
                [...uris(stdioDirect.templates, uriToken(stdioName), 'uriTemplate'),
                 ...uris(httpDirect.templates, uriToken(httpName), 'uriTemplate')]);
  for (const tool of gateway.tools.items) {
    check(/^[A-Za-z0-9_-]{1,64}$/.test(tool.name), 'exposed tool name outside [A-Za-z0-9_-]{1,64}',
          tool.name);
  }

  const summary = (lists) => Object.fromEntries(Object.entries(lists).map(
      ([kind, list]) => [kind, {pages: list.pages, count: list.items.length}]));
  return {
    gateway: summary(gateway),
    stdio: summary(stdioDirect),
    http: summary(httpDirect),
    toolNames: gateway.tools.items.map((t) => t.name),
  };
});
