import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkRules } from '../src/filter.js';
import type { ProxyServer } from '../src/listener.js';
import { Reply } from '../src/socks-protocol.js';
import { createSocksProxy, type SocksProxyOptions } from '../src/socks-proxy.js';
import { collect, connectUnix, deadPort, echoServer, exchange, readUntil, sleep, startTestProxy, tempDir, type TcpServer } from './support.js';

const dir = tempDir();
let proxies: ProxyServer[] = [];
let echo: TcpServer;

async function proxy(rules: Partial<NetworkRules>, extra: Partial<SocksProxyOptions> = {}) {
  const started = await startTestProxy(createSocksProxy, dir.path, rules, extra);
  proxies.push(started.proxy);
  return started;
}

const GREETING = [5, 1, 0];
const port16 = (p: number): number[] => [p >> 8, p & 0xff];
const domainRequest = (host: string, port: number): number[] => [5, 1, 0, 3, host.length, ...Buffer.from(host), ...port16(port)];
const ipv4Request = (ip: string, port: number): number[] => [5, 1, 0, 1, ...ip.split('.').map(Number), ...port16(port)];
const bytes = (...parts: number[][]): Buffer => Buffer.from(parts.flat());

/** Greets, sends a request, and returns the socket after the method reply and the 10+ byte reply. */
async function socksConnect(path: string, request: number[], extra: number[] = []): Promise<{ socket: Socket; reply: Buffer }> {
  const socket = await connectUnix(path);
  socket.write(bytes(GREETING, request, extra));
  const replyLength = (b: Buffer): number => (b.length > 5 && b[5] === 4 ? 22 : 10);
  const buf = await readUntil(socket, (b) => b.length >= 2 + replyLength(b));
  const replyLen = replyLength(buf);
  const rest = buf.subarray(2 + replyLen);
  if (rest.length) socket.unshift(rest);
  expect([...buf.subarray(0, 2)]).toEqual([5, 0]);
  return { socket, reply: buf.subarray(2, 2 + replyLen) };
}

beforeAll(async () => {
  echo = await echoServer();
});

afterEach(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  proxies = [];
});

afterAll(async () => {
  await echo.close();
  dir.remove();
});

describe('createSocksProxy: CONNECT', () => {
  it('connects an allowed domain target and relays both ways, half-close included', async () => {
    const { path, events } = await proxy({ allowedDomains: ['localhost'], allowLocalOutbound: true });
    const { socket, reply } = await socksConnect(path, domainRequest('localhost', echo.port));
    expect(reply[1]).toBe(Reply.SUCCEEDED);
    const all = collect(socket);
    socket.end('ping through socks');
    expect((await all).toString()).toBe('ping through socks');
    expect(events).toMatchObject([
      { source: 'socks', action: 'allow', target: `localhost:${echo.port}`, detail: `CONNECT localhost:${echo.port} ALLOWED` },
    ]);
  });

  it('connects an IPv4 target listed verbatim in allowedDomains', async () => {
    const { path } = await proxy({ allowedDomains: ['127.0.0.1'] });
    const { socket, reply } = await socksConnect(path, ipv4Request('127.0.0.1', echo.port));
    expect(reply[1]).toBe(Reply.SUCCEEDED);
    expect([...reply.subarray(3, 8)]).toEqual([1, 127, 0, 0, 1]);
    const all = collect(socket);
    socket.end('v4');
    expect((await all).toString()).toBe('v4');
  });

  it('parses an IPv6 target and refuses it unless that literal is listed', async () => {
    const { path, events } = await proxy({ allowedDomains: ['localhost'], allowLocalOutbound: true });
    const { reply } = await socksConnect(path, [5, 1, 0, 4, ...Array(15).fill(0), 1, ...port16(echo.port)]);
    expect(reply[1]).toBe(Reply.NOT_ALLOWED);
    expect(events[0]).toMatchObject({ action: 'block', target: `[::1]:${echo.port}`, detail: `CONNECT [::1]:${echo.port} BLOCKED (not in network.allowedDomains)` });
    const listed = await proxy({ allowedDomains: ['::1'], allowLocalOutbound: true });
    expect((await socksConnect(listed.path, [5, 1, 0, 4, ...Array(15).fill(0), 1, ...port16(echo.port)])).reply[1]).not.toBe(Reply.NOT_ALLOWED);
  });

  it('answers a blocked target with 0x02 and reports CONNECT host:port BLOCKED', async () => {
    const { path, events } = await proxy({ allowedDomains: ['github.com'] });
    const reply = await exchange(path, bytes(GREETING, domainRequest('example.com', 443)));
    expect([...reply]).toEqual([5, 0, 5, Reply.NOT_ALLOWED, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(events).toMatchObject([
      { source: 'socks', action: 'block', target: 'example.com:443', process: '', pid: 0, detail: 'CONNECT example.com:443 BLOCKED (not in network.allowedDomains)' },
    ]);
  });

  it('lets deniedDomains win over a wildcard allow', async () => {
    const { path } = await proxy({ allowedDomains: ['*.example.com'], deniedDomains: ['bad.example.com'] });
    const reply = await exchange(path, bytes(GREETING, domainRequest('bad.example.com', 443)));
    expect(reply[3]).toBe(Reply.NOT_ALLOWED);
  });

  it('refuses a name resolving to loopback without allowLocalOutbound (rebinding)', async () => {
    const { path, events } = await proxy({ allowedDomains: ['localhost'] });
    const reply = await exchange(path, bytes(GREETING, domainRequest('localhost', echo.port)));
    expect(reply[3]).toBe(Reply.NOT_ALLOWED);
    expect(events[0]!.reason).toContain('loopback');
  });

  it('answers 0x04 when an allowed name does not resolve', async () => {
    const { path } = await proxy({ allowedDomains: ['nowhere.invalid'] }, {
      resolve: async () => {
        throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' });
      },
    });
    const reply = await exchange(path, bytes(GREETING, domainRequest('nowhere.invalid', 443)));
    expect(reply[3]).toBe(Reply.HOST_UNREACHABLE);
  });

  it('answers 0x05 quickly when the upstream refuses', async () => {
    const { path, events } = await proxy({ allowedDomains: ['127.0.0.1'] });
    const port = await deadPort();
    const started = Date.now();
    const reply = await exchange(path, bytes(GREETING, ipv4Request('127.0.0.1', port)));
    expect(reply[3]).toBe(Reply.CONNECTION_REFUSED);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(events[0]).toMatchObject({ action: 'block', detail: `CONNECT 127.0.0.1:${port} FAILED (upstream unreachable: connection refused (ECONNREFUSED))` });
  });

  it('forwards bytes the client sent right after its request to the upstream', async () => {
    const { path } = await proxy({ allowedDomains: ['127.0.0.1'] });
    const { socket, reply } = await socksConnect(path, ipv4Request('127.0.0.1', echo.port), [...Buffer.from('early')]);
    expect(reply[1]).toBe(Reply.SUCCEEDED);
    const all = collect(socket);
    socket.end();
    expect((await all).toString()).toBe('early');
  });
});

describe('createSocksProxy: malformed and refused handshakes', () => {
  it('closes a SOCKS4 (or any non-5) client without a reply', async () => {
    const { path } = await proxy({});
    expect((await exchange(path, Buffer.from([4, 1, 0, 80, 127, 0, 0, 1, 0]))).length).toBe(0);
    expect((await exchange(path, 'GET / HTTP/1.1\r\n\r\n')).length).toBe(0);
  });

  it('answers 0xFF when no-authentication is not offered', async () => {
    const { path } = await proxy({});
    expect([...(await exchange(path, Buffer.from([5, 1, 2])))]).toEqual([5, 0xff]);
    expect([...(await exchange(path, Buffer.from([5, 0])))]).toEqual([5, 0xff]);
  });

  it('answers 0x07 to BIND and UDP ASSOCIATE', async () => {
    const { path } = await proxy({});
    for (const cmd of [2, 3]) {
      const reply = await exchange(path, bytes(GREETING, [5, cmd, 0, 1, 127, 0, 0, 1, 0, 80]));
      expect(reply[3], `command ${cmd}`).toBe(Reply.COMMAND_NOT_SUPPORTED);
    }
  });

  it('answers 0x08 to an unknown address type', async () => {
    const { path } = await proxy({});
    expect((await exchange(path, bytes(GREETING, [5, 1, 0, 9, 1, 2, 3])))[3]).toBe(Reply.ADDRESS_TYPE_NOT_SUPPORTED);
  });

  it('closes when the request has another version', async () => {
    const { path } = await proxy({});
    expect([...(await exchange(path, bytes(GREETING, [4, 1, 0, 1, 127, 0, 0, 1, 0, 80])))]).toEqual([5, 0]);
  });

  it('assembles a handshake sent one byte at a time', async () => {
    const { path } = await proxy({ allowedDomains: ['127.0.0.1'] });
    const socket = await connectUnix(path);
    for (const b of bytes(GREETING, ipv4Request('127.0.0.1', echo.port))) {
      socket.write(Buffer.from([b]));
      await sleep(2);
    }
    const reply = await readUntil(socket, (b) => b.length >= 12);
    expect(reply[3]).toBe(Reply.SUCCEEDED);
    socket.destroy();
  });

  it('closes a truncated handshake after the handshake timeout', async () => {
    const { path } = await proxy({}, { handshakeTimeoutMs: 200 });
    for (const partial of [[5], [5, 2, 0], [5, 1, 0, 5, 1, 0], [5, 1, 0, 5, 1, 0, 3, 10, 0x61]]) {
      const started = Date.now();
      const socket = await connectUnix(path);
      const all = collect(socket, 3000);
      socket.write(Buffer.from(partial));
      await all;
      expect(Date.now() - started, JSON.stringify(partial)).toBeLessThan(1500);
    }
  });

  it('answers a blocked request followed by garbage with 0x02 and a close', async () => {
    const { path } = await proxy({});
    const reply = await exchange(path, bytes(GREETING, domainRequest('example.com', 443), [...Buffer.from('\x00garbage\xff'.repeat(100))]));
    expect(reply[3]).toBe(Reply.NOT_ALLOWED);
    expect(reply.length).toBe(12);
  });

  it('keeps serving after every kind of bad client', async () => {
    const { path } = await proxy({ allowedDomains: ['127.0.0.1'] });
    for (const junk of [[], [0], [5], [5, 255, ...Array(255).fill(1)], [5, 1, 0, 5, 1, 0, 3, 0, 0, 0], [0xff, 0xff, 0xff]]) {
      const s = await connectUnix(path);
      s.write(Buffer.from(junk));
      s.destroy();
    }
    const { reply, socket } = await socksConnect(path, ipv4Request('127.0.0.1', echo.port));
    expect(reply[1]).toBe(Reply.SUCCEEDED);
    socket.destroy();
  });
});
