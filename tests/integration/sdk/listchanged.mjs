// list_changed through the gateway: a fixture backend's trigger_list_changed adds a tool and
// sends notifications/tools/list_changed; the SDK client must receive it, and the next
// tools/list through the gateway (paged to its end) must show the new tool, prefixed, while
// the other backend's tools are still all there.
// With --exactly-one (backends that send nothing on their own), the client must have seen
// exactly one list_changed in all: the gateway neither drops nor duplicates it.
//   node listchanged.mjs --gateway URL --changing FIXTURE_NAME --steady NAME
//                        [--exactly-one]
import {arg, check, connect, eventually, listAll, run, textOf, types} from './lib.mjs';

run(async () => {
  const changing = arg('changing');
  const steady = arg('steady');
  const {client} = await connect(arg('gateway'));
  let notifications = 0;
  client.setNotificationHandler(types.ToolListChangedNotificationSchema, () => {
    notifications += 1;
  });

  const names = async () => (await listAll(client, 'listTools', 'tools')).items.map((t) => t.name);
  const before = await names();
  const steadyTools = before.filter((name) => name.startsWith(`${steady}__`));
  check(steadyTools.length > 0, `no tools of ${steady}`, before);

  // server-everything announces the tools it registers after initialize with list_changed of
  // its own, so only what arrives from here on counts.
  const notificationsBefore = notifications;
  const added = await client.callTool({name: `${changing}__trigger_list_changed`, arguments: {}});
  const addedName = /^added tool (dynamic_tool_\d+)$/.exec(textOf(added))?.[1];
  check(addedName !== undefined, 'trigger_list_changed result', added);
  const newTool = `${changing}__${addedName}`;
  check(!before.includes(newTool), `${newTool} was listed before it was added`, before);
  await eventually('notifications/tools/list_changed at the client',
                   () => notifications > notificationsBefore);

  const after = await names();
  check(after.includes(newTool), `${newTool} missing from the list after list_changed`, after);
  check(after.length === before.length + 1, 'the list after list_changed has other changes',
        {before, after});
  check(steadyTools.every((name) => after.includes(name)),
        `tools of ${steady} lost after list_changed`, after);
  const called = await client.callTool({name: newTool, arguments: {}});
  check(!called.isError && textOf(called).length > 0, `calling ${newTool}`, called);
  if (process.argv.includes('--exactly-one')) {
    check(notificationsBefore === 0 && notifications === 1,
          'one trigger should give exactly one list_changed at the client',
          {notificationsBefore, notifications});
  }
  await client.close();
  return {notificationsBefore, notifications, before: before.length, after: after.length, called};
});
