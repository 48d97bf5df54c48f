import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpProxy } from '../src/http-proxy.js';
import type { TunnelProxy } from '../src/listener.js';
import { createSocksProxy } from '../src/socks-proxy.js';
import type { FdSender } from '../src/tunnel.js';
import { collect, connectUnix, echoServer, fdsSettle, fdCount, readUntil, startTestProxy, tempDir, type TcpServer } from './support.js';

const native = createRequire(import.meta.url)('@fence/native') as { addon(): { sendFd?: FdSender } | undefined };
const sendFd = native.addon()?.sendFd;
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/**
 * Plays fence-launch's bridge: sends `request`, receives the handoff message with its descriptor,
 * then talks to the upstream through that descriptor alone. Prints the message and the echo.
 */
const BRIDGE = `
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(bytes.fromhex(sys.argv[2]))
data, fds = b"", []
while not fds:
    chunk, fds, _, _ = socket.recv_fds(s, 4096, 4)
    if not chunk: break
    data += chunk
print(data.hex(), len(fds))
if fds:
    s.close()
    up = socket.socket(fileno=fds[0]); up.setblocking(True)
    up.sendall(b"through the passed socket"); up.shutdown(socket.SHUT_WR)
    got = b""
    while chunk := up.recv(4096): got += chunk
    print(got.decode())
`;

function bridge(path: string, request: Buffer): Promise<{ message: Buffer; fds: number; echoed?: string }> {
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', BRIDGE, path, request.toString('hex')], { timeout: 10_000 }, (err, stdout) => {
      if (err) return reject(err);
      const [line, echoed] = stdout.split('\n');
      const [hex, fds] = line.split(' ');
      resolve({ message: Buffer.from(hex, 'hex'), fds: Number(fds), echoed: echoed || undefined });
    });
  });
}

const dir = tempDir();
let echo: TcpServer;
let proxies: TunnelProxy[] = [];
const local = { allowedDomains: ['localhost'], allowLocalOutbound: true };
const CONNECTED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

async function proxy(create: typeof createHttpProxy | typeof createSocksProxy, send?: FdSender) {
  const calls: number[] = [];
  const started = await startTestProxy(create, dir.path, local);
  const p = started.proxy as TunnelProxy;
  proxies.push(p);
  if (send) p.enableHandoff((u, f, data) => (calls.push(data.length), send(u, f, data)));
  return { ...started, proxy: p, calls };
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

if (!sendFd) console.warn('handOff tests skipped: the @fence/native addon is not built');

describe.skipIf(!sendFd)('handOff', () => {
  const send = sendFd as FdSender;
  const connect = (): Buffer => Buffer.from(`CONNECT localhost:${echo.port} HTTP/1.1\r\nHost: localhost\r\n\r\n`);

  it('is not used until the proxy enables it: the tunnel is spliced in Node', async () => {
    const { path, calls } = await proxy(createHttpProxy);
    const s = await connectUnix(path);
    s.write(connect());
    await readUntil(s, (b) => b.toString().endsWith('\r\n\r\n'));
    const all = collect(s);
    s.end('spliced');
    expect((await all).toString()).toBe('spliced');
    expect(calls).toEqual([]);
  });

  it('passes an allowed CONNECT upstream socket with the reply and the marker, and keeps no socket', async () => {
    const start = fdCount();
    const { path, proxy: p, events } = await proxy(createHttpProxy, send);
    const r = await bridge(path, connect());
    expect(r).toEqual({ message: Buffer.from(`${CONNECTED}\0`), fds: 1, echoed: 'through the passed socket' });
    expect(events).toMatchObject([{ action: 'allow', detail: `CONNECT 200 localhost https://localhost:${echo.port}` }]);
    expect(p.openSockets).toBe(0);
    await p.stop();
    expect(await fdsSettle(start)).toBe(start);
  });

  it('splices instead when bytes follow the CONNECT header', async () => {
    const { path, calls } = await proxy(createHttpProxy, send);
    const s = await connectUnix(path);
    const all = collect(s);
    s.end(Buffer.concat([connect(), Buffer.from('early')]));
    expect((await all).toString()).toBe(`${CONNECTED}early`);
    expect(calls).toEqual([]);
  });

  it('falls back to writing the reply and splicing when the send fails', async () => {
    const { path, calls } = await proxy(createHttpProxy, () => {
      throw Object.assign(new Error('sendFd: Resource temporarily unavailable'), { code: 'EAGAIN' });
    });
    const s = await connectUnix(path);
    s.write(connect());
    expect((await readUntil(s, (b) => b.toString().endsWith('\r\n\r\n'))).toString()).toBe(CONNECTED);
    const all = collect(s);
    s.end('after a failed handoff');
    expect((await all).toString()).toBe('after a failed handoff');
    expect(calls).toEqual([CONNECTED.length + 1]); // tried once, with the marker
  });

  it('passes a SOCKS5 CONNECT upstream socket after the method reply, with the success reply', async () => {
    const { path, events } = await proxy(createSocksProxy, send);
    const host = Buffer.from('localhost');
    const request = Buffer.from([5, 1, 0, 5, 1, 0, 3, host.length, ...host, echo.port >> 8, echo.port & 0xff]);
    const r = await bridge(path, request);
    expect(r.fds).toBe(1);
    expect([...r.message.subarray(0, 2)]).toEqual([5, 0]); // the method reply
    expect([...r.message.subarray(2, 6)]).toEqual([5, 0, 0, 1]); // succeeded, IPv4 bound address
    expect(r.message.length).toBe(2 + 10 + 1);
    expect(r.message.at(-1)).toBe(0);
    expect(r.echoed).toBe('through the passed socket');
    expect(events).toMatchObject([{ action: 'allow', detail: `CONNECT localhost:${echo.port} ALLOWED` }]);
  });
});
