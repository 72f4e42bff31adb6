// Preload (`node --require loopback.cjs server.js`) for Node servers that call
// `app.listen(PORT)` and so bind every interface: every TCP listen without a host is bound to
// 127.0.0.1 instead, and once bound the real address is announced on stdout as
// "listening on http://127.0.0.1:PORT/mcp", so a test can start the server with PORT=0 and
// learn its port. The server's own console.log goes to stderr, keeping stdout for that line
// (a test that stops reading stdout must not block the server on a full pipe).
'use strict';
const net = require('node:net');

const originalListen = net.Server.prototype.listen;
const originalLog = console.log;
console.log = (...args) => console.error(...args);

function withLoopbackHost(args) {
  const first = args[0];
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    if (first.path === undefined && first.host === undefined && first.fd === undefined &&
        first.handle === undefined && first._handle === undefined) {
      return [{...first, host: '127.0.0.1'}, ...args.slice(1)];
    }
    return args;
  }
  const isPort = typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first));
  if (!isPort && first !== undefined && typeof first !== 'function') return args;  // a pipe path
  if (typeof args[1] === 'string') return args;  // a host was given
  if (first === undefined || typeof first === 'function') return [0, '127.0.0.1', ...args];
  return [first, '127.0.0.1', ...args.slice(1)];
}

net.Server.prototype.listen = function listenOnLoopback(...args) {
  this.once('listening', () => {
    const address = this.address();
    if (address !== null && typeof address === 'object') {
      originalLog(`listening on http://${address.address}:${address.port}/mcp`);
    }
  });
  return originalListen.apply(this, withLoopbackHost(args));
};
