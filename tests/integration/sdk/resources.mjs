// Resource reads through the gateway, text and binary, on both backends, by the rewritten URIs
// (`<token>+<original>`): listed resources, template expansions, and URIs that came back in
// tool results (resource links, embedded resources). Also a subscription: the fixture's
// notifications/resources/updated reaches the client with the rewritten URI.
//   node resources.mjs --gateway URL --stdio-name NAME --http-name NAME
import {arg, check, connect, eventually, listAll, run, types} from './lib.mjs';

const decode = (blob) => Buffer.from(blob, 'base64');

run(async () => {
  const token = (name) => name.toLowerCase().replaceAll('_', '.');
  const stdio = token(arg('stdio-name'));
  const http = token(arg('http-name'));
  const {client} = await connect(arg('gateway'));
  const updated = [];
  client.setNotificationHandler(types.ResourceUpdatedNotificationSchema,
                                (notification) => updated.push(notification.params.uri));

  const readOne = async (uri) => {
    const result = await client.readResource({uri});
    check(result.contents?.length === 1, `resources/read ${uri}: one content`, result);
    check(result.contents[0].uri === uri, `resources/read ${uri}: the URI comes back rewritten`,
          result.contents[0].uri);
    return result.contents[0];
  };
  const reads = {};

  const text = await readOne(`${stdio}+test://static-text`);
  check(typeof text.text === 'string' && text.text.length > 0, 'fixture text resource', text);
  const png = await readOne(`${stdio}+test://static-binary`);
  check(png.mimeType === 'image/png' && typeof png.blob === 'string' &&
            decode(png.blob).subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47])),
        'fixture binary resource is a PNG', png);
  reads.fixtureBinaryBytes = decode(png.blob).length;
  const templated = await readOne(`${stdio}+test://template/42/data`);
  check(JSON.stringify(templated).includes('42'), 'fixture template resource', templated);

  const blob = await readOne(`${http}+demo://resource/dynamic/blob/3`);
  check(decode(blob.blob).toString().startsWith('Resource 3: This is a base64 blob'),
        'HTTP backend binary resource', blob);
  const listed = (await listAll(client, 'listResources', 'resources')).items;
  const httpDocument = listed.find((r) => r.uri.startsWith(`${http}+demo://resource/static/`));
  check(httpDocument !== undefined, 'no static document of the HTTP backend listed', listed);
  const document = await readOne(httpDocument.uri);
  check(typeof document.text === 'string' && document.text.length > 0,
        'HTTP backend static document', document);
  reads.httpDocument = httpDocument.uri;

  const links = await client.callTool({name: `${arg('http-name')}__get-resource-links`,
                                       arguments: {count: 2}});
  const linked = links.content.filter((block) => block.type === 'resource_link');
  check(linked.length === 2 && linked.every((l) => l.uri.startsWith(`${http}+demo://`)),
        'resource links in a tool result are rewritten', linked);
  for (const link of linked) {
    const content = await readOne(link.uri);
    check(typeof (content.text ?? content.blob) === 'string', `reading the link ${link.uri}`,
          content);
  }
  const embedded = await client.callTool({name: `${arg('stdio-name')}__test_embedded_resource`,
                                          arguments: {}});
  const resource = embedded.content.find((block) => block.type === 'resource')?.resource;
  check(resource?.uri?.startsWith(`${stdio}+`), 'embedded resource URI is rewritten', embedded);

  const watched = `${stdio}+test://watched-resource`;
  await client.subscribeResource({uri: watched});
  await client.callTool({name: `${arg('stdio-name')}__update_watched_resource`, arguments: {}});
  await eventually('notifications/resources/updated at the client', () => updated.length > 0);
  check(updated.every((uri) => uri === watched), 'resources/updated carries the rewritten URI',
        updated);
  await client.unsubscribeResource({uri: watched});

  await client.close();
  return {reads, links: linked.map((l) => l.uri), embedded: resource.uri, updated};
});
