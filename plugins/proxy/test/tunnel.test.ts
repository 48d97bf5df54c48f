import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpProxy } from '../src/http-proxy.js';
import type { TunnelProxy } from '../src/listener.js';
import { createSocksProxy } from '../src/socks-proxy.js';
import type { FdSender } from '../src/tunnel.js';
import { collect, connectUnix, echoServer, fdsSettle, fdCount, listenTcp, readUntil, startTestProxy, tempDir, type TcpServer } from './support.js';

const native = createRequire(import.meta.url)('@fence/native') as { addon(): { sendFd?: FdSender } | undefined };
const sendFd = native.addon()?.sendFd;
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/**
 * Plays fence-launch's bridge: sends `request`, receives the handoff message with its descriptor,
 * then talks to the upstream through that descriptor alone. Prints the message and the echo.
 */
const BRIDGE = `
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
request, split = bytes.fromhex(sys.argv[2]), int(sys.argv[3])
# split > 0: the request arrives in pieces of that size, so the proxy reads it in several reads.
for i in range(0, len(request), split or len(request)):
    s.sendall(request[i:i + (split or len(request))]); time.sleep(0.02 if split else 0)
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

function bridge(path: string, request: Buffer, split = 0): Promise<{ message: Buffer; fds: number; echoed?: string }> {
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', BRIDGE, path, request.toString('hex'), String(split)], { timeout: 10_000 }, (err, stdout) => {
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

/** The end of a handoff message: N, the bytes the proxy read from the bridge (uint64 LE), then the marker 0. */
function trailer(n: number): Buffer {
  const t = Buffer.alloc(9);
  t.writeBigUInt64LE(BigInt(n));
  return t;
}

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

  it('passes an allowed CONNECT upstream socket with the reply, the count of bytes read and the marker, and keeps no socket', async () => {
    const start = fdCount();
    const { path, proxy: p, events } = await proxy(createHttpProxy, send);
    const r = await bridge(path, connect());
    // N counts exactly the request head: the bridge re-sends whatever it wrote past it.
    const message = Buffer.concat([Buffer.from(CONNECTED), trailer(connect().length)]);
    expect(r).toEqual({ message, fds: 1, echoed: 'through the passed socket' });
    expect(events).toMatchObject([{ action: 'allow', detail: `CONNECT 200 localhost https://localhost:${echo.port}` }]);
    expect(p.openSockets).toBe(0);
    await p.stop();
    expect(await fdsSettle(start)).toBe(start);
  });

  it('counts every read in N when the CONNECT head arrives in pieces', async () => {
    const { path } = await proxy(createHttpProxy, send);
    const r = await bridge(path, connect(), 7);
    expect(r.message).toEqual(Buffer.concat([Buffer.from(CONNECTED), trailer(connect().length)]));
    expect(r.echoed).toBe('through the passed socket');
  });

  it('splices instead when the client sends right before the handoff: no byte is lost or reordered', async () => {
    let s: Socket | undefined;
    // A delay hook before sendFd: the client's first payload reaches the proxy's socket after its
    // own checks (nothing buffered in Node) and before the send, which then refuses (EBUSY).
    const { path, calls } = await proxy(createHttpProxy, (u, f, data) => {
      s?.write('early ');
      const until = Date.now() + 50;
      while (Date.now() < until); // the write lands in the Unix socket's queue
      send(u, f, data);
    });
    s = await connectUnix(path);
    s.write(connect());
    expect((await readUntil(s, (b) => b.toString().endsWith('early '))).toString()).toBe(`${CONNECTED}early `);
    const all = collect(s);
    s.end('then the rest');
    expect((await all).toString()).toBe('then the rest');
    expect(calls).toHaveLength(1);
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
    expect(calls).toEqual([CONNECTED.length + 9]); // tried once, with the trailer
  });

  it('passes a SOCKS5 CONNECT upstream socket after the method reply, with the success reply', async () => {
    const { path, events } = await proxy(createSocksProxy, send);
    const host = Buffer.from('localhost');
    const request = Buffer.from([5, 1, 0, 3, host.length, ...host, echo.port >> 8, echo.port & 0xff]);
    const r = await bridge(path, Buffer.concat([Buffer.from([5, 1, 0]), request]));
    expect(r.fds).toBe(1);
    expect([...r.message.subarray(0, 2)]).toEqual([5, 0]); // the method reply
    expect([...r.message.subarray(2, 6)]).toEqual([5, 0, 0, 1]); // succeeded, IPv4 bound address
    expect(r.message.length).toBe(2 + 10 + 9);
    expect(r.message.subarray(12)).toEqual(trailer(3 + request.length)); // N: the greeting and the request
    expect(r.echoed).toBe('through the passed socket');
    expect(events).toMatchObject([{ action: 'allow', detail: `CONNECT localhost:${echo.port} ALLOWED` }]);
  });
});

describe.skipIf(!sendFd)('grant (plain HTTP to the bridge)', () => {
  const send = sendFd as FdSender;
  const get = (extra = ''): Buffer => Buffer.from(`GET http://LocalHost:${echo.port}/x?y HTTP/1.1\r\nHost: x\r\n${extra}\r\n`);

  /** The end of a grant message: authority, Host value, their lengths (uint16 LE), N = 0, the marker 1. */
  function grantTrailer(authority: string, host: string): Buffer {
    const t = Buffer.alloc(13);
    t.writeUInt16LE(authority.length, 0);
    t.writeUInt16LE(host.length, 2);
    t[12] = 1;
    return Buffer.concat([Buffer.from(authority), Buffer.from(host), t]);
  }

  it('passes the upstream socket of an allowed first request with its raw authority, the Host value, N = 0 and marker 1', async () => {
    const start = fdCount();
    const { path, proxy: p, events } = await proxy(createHttpProxy, send);
    const r = await bridge(path, get());
    expect(r).toEqual({ message: grantTrailer(`LocalHost:${echo.port}`, `localhost:${echo.port}`), fds: 1, echoed: 'through the passed socket' });
    expect(events).toMatchObject([{ action: 'allow', detail: expect.stringMatching(/^GET bridge localhost http:\/\/LocalHost:\d+\/x\?y /) }]);
    expect(p.openSockets).toBe(0);
    await p.stop();
    expect(await fdsSettle(start)).toBe(start);
  });

  it('relays itself what the bridge would not re-send or frame: a chunked body, Expect, a long body', async () => {
    for (const extra of ['Transfer-Encoding: chunked\r\n', 'Expect: 100-continue\r\nContent-Length: 1\r\n', 'Content-Length: 70000\r\n']) {
      const { path, calls } = await proxy(createHttpProxy, send);
      const s = await connectUnix(path);
      s.on('error', () => undefined);
      s.write(get(extra));
      await new Promise((r) => setTimeout(r, 100));
      s.destroy();
      expect(calls, extra).toEqual([]);
    }
  });

  it('grants nothing when every request is to be reported (-d)', async () => {
    // Answers with the request line it got.
    const server = await listenTcp((c) =>
      c.once('data', (d: Buffer) => {
        const line = d.toString().split('\r\n')[0]!;
        c.end(`HTTP/1.1 200 OK\r\nContent-Length: ${line.length}\r\nConnection: close\r\n\r\n${line}`);
      }),
    );
    const calls: number[] = [];
    const started = await startTestProxy(createHttpProxy, dir.path, local, { reportEveryRequest: true });
    const p = started.proxy as TunnelProxy;
    proxies.push(p);
    p.enableHandoff((u, f, data) => (calls.push(data.length), send(u, f, data)));
    const s = await connectUnix(started.path);
    s.write(Buffer.from(`GET http://localhost:${server.port}/x?y HTTP/1.1\r\nHost: x\r\n\r\n`));
    // The proxy relayed it itself, in origin form.
    expect((await readUntil(s, (b) => b.includes('GET /x?y HTTP/1.1'))).toString()).toMatch(/^HTTP\/1\.1 200 /);
    s.destroy();
    await server.close();
    expect(calls).toEqual([]);
    expect(started.events).toMatchObject([{ action: 'allow', detail: expect.stringMatching(/^GET 200 localhost /) }]);
  });
});
