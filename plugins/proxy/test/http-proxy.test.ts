import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, createServer as createHttpServer, request, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkRules } from '../src/filter.js';
import { BLOCKED_BODY } from '../src/http-message.js';
import { createHttpProxy, type HttpProxyOptions } from '../src/http-proxy.js';
import type { ProxyServer } from '../src/listener.js';
import { collect, connectUnix, deadPort, echoServer, exchange, fdCount, fdsSettle, readUntil, sleep, startTestProxy, tempDir } from './support.js';

const dir = tempDir();
let proxies: ProxyServer[] = [];

async function proxy(rules: Partial<NetworkRules>, extra: Partial<HttpProxyOptions> = {}) {
  const started = await startTestProxy(createHttpProxy, dir.path, rules, extra);
  proxies.push(started.proxy);
  return started;
}

const local = { allowedDomains: ['localhost', '127.0.0.1'], allowLocalOutbound: true };

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function get(path: string, url: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer; agent?: Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({
      ...(init.agent ? { agent: init.agent } : { createConnection: () => connect({ path }) }),
      method: init.method ?? 'GET',
      path: url,
      headers: init.headers,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.end(init.body);
  });
}

let origin: HttpServer;
let originPort = 0;
const seen: { method: string; url: string; headers: IncomingHttpHeaders; bytes: number }[] = [];

beforeAll(async () => {
  origin = createHttpServer({ maxHeaderSize: 256 * 1024 }, (req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes });
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.setHeader('Connection', 'keep-alive, X-Secret-Hop');
      res.setHeader('X-Secret-Hop', 'hop');
      res.end(`hello ${req.url} ${bytes}`);
    });
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as { port: number }).port;
});

afterEach(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  proxies = [];
});

afterAll(async () => {
  await new Promise((r) => origin.close(r));
  dir.remove();
});

describe('createHttpProxy: forwarding absolute-URI requests', () => {
  it('forwards an allowed request upstream with hop-by-hop headers removed both ways', async () => {
    const { path, events } = await proxy(local);
    const res = await get(path, `http://localhost:${originPort}/a?b=1`, {
      headers: { 'Proxy-Connection': 'keep-alive', 'Proxy-Authorization': 'secret', Connection: 'X-Drop', 'X-Drop': '1', 'X-Keep': '1' },
    });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello /a?b=1 0');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['x-secret-hop']).toBeUndefined();
    const up = seen.at(-1)!;
    expect(up.url).toBe('/a?b=1');
    expect(up.headers.host).toBe(`localhost:${originPort}`);
    expect(up.headers['x-keep']).toBe('1');
    for (const h of ['proxy-connection', 'proxy-authorization', 'x-drop']) expect(up.headers[h], h).toBeUndefined();
    expect(events).toMatchObject([
      { source: 'http', action: 'allow', target: `localhost:${originPort}`, detail: `GET 200 localhost http://localhost:${originPort}/a?b=1` },
    ]);
  });

  it('answers a blocked request with 403 and the exact body, and reports it', async () => {
    const { path, events } = await proxy({ allowedDomains: ['github.com'] });
    const res = await get(path, 'http://example.com/path');
    expect(res.status).toBe(403);
    expect(res.body.toString()).toBe(`${BLOCKED_BODY}: not in network.allowedDomains\n`);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'http',
      action: 'block',
      target: 'example.com:80',
      process: '',
      pid: 0,
      reason: 'not in network.allowedDomains',
      detail: 'GET 403 example.com http://example.com/path (not in network.allowedDomains)',
    });
    expect(typeof events[0]!.time).toBe('number');
  });

  it('lets deniedDomains win over allowedDomains, and wildcards match subdomains only', async () => {
    const { path } = await proxy({ allowedDomains: ['*.example.com'], deniedDomains: ['bad.example.com'] }, {
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    expect((await get(path, 'http://bad.example.com/')).status).toBe(403);
    expect((await get(path, 'http://example.com/')).status).toBe(403);
    // Allowed by the wildcard, then stopped by the address guard: the fake name resolves to loopback.
    const rebound = await get(path, 'http://api.example.com/');
    expect(rebound.status).toBe(403);
  });

  it('streams request bodies upstream without buffering them whole', async () => {
    const { path } = await proxy(local);
    const body = Buffer.alloc(8 * 1024 * 1024, 7);
    const res = await get(path, `http://127.0.0.1:${originPort}/upload`, { method: 'POST', body });
    expect(res.body.toString()).toBe(`hello /upload ${body.length}`);
  });

  it('streams a large response body to the client complete', async () => {
    const payload = randomBytes(32 * 1024 * 1024);
    const big = createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(payload);
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
    const { path } = await proxy(local);
    const res = await get(path, `http://127.0.0.1:${(big.address() as { port: number }).port}/big`);
    expect(res.body.length).toBe(payload.length);
    expect(createHash('sha256').update(res.body).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    await new Promise((r) => big.close(r));
    // 32 MiB relayed by Node and hashed twice: over 5 s on a loaded 2-core machine.
  }, 30_000);

  it('keeps the client connection alive across requests', async () => {
    const { path } = await proxy(local);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let opened = 0;
    (agent as unknown as { createConnection: () => Socket }).createConnection = () => {
      opened++;
      return connect({ path });
    };
    for (let i = 0; i < 5; i++) {
      const res = await get(path, `http://localhost:${originPort}/k${i}`, { agent });
      expect(res.body.toString()).toBe(`hello /k${i} 0`);
    }
    agent.destroy();
    expect(opened).toBe(1);
  });

  it('reuses an idle upstream connection for the next request to the same server, still deciding each request', async () => {
    let lookups = 0;
    const resolve = async () => (lookups++, [{ address: '127.0.0.1', family: 4 as const }]);
    const { path, events } = await proxy({ ...local, allowedDomains: ['localhost'] }, { resolve });
    let upstreamConnections = 0;
    const count = (): void => void upstreamConnections++;
    origin.on('connection', count);
    try {
      for (let i = 0; i < 4; i++) {
        // A new client connection each time: the pool is the proxy's, not the client's.
        expect((await get(path, `http://localhost:${originPort}/p${i}`)).body.toString()).toBe(`hello /p${i} 0`);
        expect((await get(path, `http://127.0.0.1:${originPort}/p${i}`)).status).toBe(403);
      }
    } finally {
      origin.off('connection', count);
    }
    expect(upstreamConnections).toBe(1);
    // The idle connection stood in for the lookup; the allowlist still saw every request.
    expect(lookups).toBe(1);
    expect(events.map((e) => e.action)).toEqual(['allow', 'block', 'allow', 'block', 'allow', 'block', 'allow', 'block']);
  });

  it('answers 502 quickly when the upstream is dead', async () => {
    const { path, events } = await proxy(local);
    const port = await deadPort();
    const started = Date.now();
    const res = await get(path, `http://127.0.0.1:${port}/`);
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain('connection refused');
    expect(Date.now() - started).toBeLessThan(2000);
    // A refusal Fence answered, so -m shows it, with the real reason.
    expect(events[0]).toMatchObject({ action: 'block', reason: 'upstream unreachable: connection refused (ECONNREFUSED)' });
    expect(events[0]!.detail).toBe(`GET 502 127.0.0.1 http://127.0.0.1:${port}/ (upstream unreachable: connection refused (ECONNREFUSED))`);
  });

  it('answers 502 when an allowed name does not resolve', async () => {
    const { path } = await proxy({ allowedDomains: ['nowhere.invalid'] }, {
      resolve: async () => {
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      },
    });
    const res = await get(path, 'http://nowhere.invalid/');
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain('cannot resolve nowhere.invalid (ENOTFOUND)');
  });

  it('refuses origin-form and https:// targets with 400', async () => {
    const { path } = await proxy(local);
    expect((await get(path, '/just-a-path')).status).toBe(400);
    expect((await get(path, 'https://localhost/')).status).toBe(400);
  });
});

describe('createHttpProxy: CONNECT tunnels', () => {
  let tls: TlsServer;
  let tlsPort = 0;
  let ca: Buffer;

  beforeAll(async () => {
    const pki = join(dir.path, 'pki');
    execFileSync('mkdir', ['-p', pki]);
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: 'ignore' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=Fence Test CA');
    ssl('req', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost');
    writeFileSync(join(pki, 'ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.crt', '-days', '1', '-extfile', 'ext');
    ca = readFileSync(join(pki, 'ca.crt'));
    tls = createTlsServer({ key: readFileSync(join(pki, 'srv.key')), cert: readFileSync(join(pki, 'srv.crt')) }, (s) => {
      s.on('error', () => undefined);
      s.once('data', (req: Buffer) => s.end(`HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecret${req.length > 0 ? '' : '?'}`));
    });
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    tlsPort = (tls.address() as { port: number }).port;
  });

  afterAll(() => new Promise<void>((r) => tls.close(() => r())));

  async function open(path: string, authority: string): Promise<{ socket: Socket; head: string }> {
    const socket = await connectUnix(path);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    const buf = await readUntil(socket, (b) => b.includes('\r\n\r\n'));
    const end = buf.indexOf('\r\n\r\n') + 4;
    if (end < buf.length) socket.unshift(buf.subarray(end));
    return { socket, head: buf.subarray(0, end).toString() };
  }

  it('tunnels TLS to an allowed host end to end', async () => {
    const { path, events } = await proxy(local);
    const { socket, head } = await open(path, `localhost:${tlsPort}`);
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    const secure = tlsConnect({ socket, servername: 'localhost', ca });
    const reply = collect(secure);
    secure.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect((await reply).toString()).toMatch(/secret$/);
    expect(events).toMatchObject([{ action: 'allow', detail: `CONNECT 200 localhost https://localhost:${tlsPort}` }]);
  });

  it('refuses a name that resolves to loopback without allowLocalOutbound (rebinding)', async () => {
    const { path, events } = await proxy({ allowedDomains: ['localhost'] });
    const reply = await exchange(path, `CONNECT localhost:${tlsPort} HTTP/1.1\r\n\r\n`);
    expect(reply.toString()).toMatch(/^HTTP\/1\.1 403 /);
    // The name is allowed: the body names the address guard, not the allowlist.
    expect(reply.toString()).toMatch(/\r\n\r\nConnection blocked by the address guard: localhost resolves to a loopback address \(.*; set network\.allowLocalOutbound to reach it\)\n$/);
    expect(events[0]).toMatchObject({ action: 'block' });
    expect(events[0]!.detail).toMatch(new RegExp(`^CONNECT 403 localhost https://localhost:${tlsPort} \\(localhost resolves to a loopback address`));
    expect(events[0]!.reason).toMatch(/localhost resolves to a loopback address/);
  });

  it('answers a blocked CONNECT with 403, the exact body, a close, and a violation', async () => {
    const { path, events } = await proxy({ allowedDomains: ['github.com'] });
    const reply = (await exchange(path, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')).toString();
    expect(reply).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(reply.split('\r\n\r\n')[1]).toBe(`${BLOCKED_BODY}: not in network.allowedDomains\n`);
    expect(events).toMatchObject([
      { source: 'http', action: 'block', target: 'example.com:443', detail: 'CONNECT 403 example.com https://example.com:443 (not in network.allowedDomains)' },
    ]);
  });

  it('reuses an idle upstream connection for the next request to the same server, still deciding each request', async () => {
    let lookups = 0;
    const resolve = async () => (lookups++, [{ address: '127.0.0.1', family: 4 as const }]);
    const { path, events } = await proxy({ ...local, allowedDomains: ['localhost'] }, { resolve });
    let upstreamConnections = 0;
    const count = (): void => void upstreamConnections++;
    origin.on('connection', count);
    try {
      for (let i = 0; i < 4; i++) {
        // A new client connection each time: the pool is the proxy's, not the client's.
        expect((await get(path, `http://localhost:${originPort}/p${i}`)).body.toString()).toBe(`hello /p${i} 0`);
        expect((await get(path, `http://127.0.0.1:${originPort}/p${i}`)).status).toBe(403);
      }
    } finally {
      origin.off('connection', count);
    }
    expect(upstreamConnections).toBe(1);
    // The idle connection stood in for the lookup; the allowlist still saw every request.
    expect(lookups).toBe(1);
    expect(events.map((e) => e.action)).toEqual(['allow', 'block', 'allow', 'block', 'allow', 'block', 'allow', 'block']);
  });

  it('answers 502 quickly when the upstream is dead', async () => {
    const { path } = await proxy(local);
    const port = await deadPort();
    const started = Date.now();
    const reply = (await exchange(path, `CONNECT 127.0.0.1:${port} HTTP/1.1\r\n\r\n`)).toString();
    expect(reply).toMatch(/^HTTP\/1\.1 502 /);
    expect(reply).toContain('connection refused (ECONNREFUSED)');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('passes data sent right after CONNECT to the upstream, and keeps a half-closed tunnel flowing', async () => {
    const echo = await echoServer();
    const { path } = await proxy(local);
    const socket = await connectUnix(path);
    const all = collect(socket);
    socket.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n\r\nearly-bytes`);
    await sleep(50);
    socket.end('+late');
    const text = (await all).toString();
    expect(text.split('\r\n\r\n')[1]).toBe('early-bytes+late');
    await echo.close();
  });

  it('does not close a tunnel that is idle for longer than the header timeout', async () => {
    const echo = await echoServer();
    const { path } = await proxy(local, { headersTimeoutMs: 200 });
    const { socket } = await open(path, `127.0.0.1:${echo.port}`);
    await sleep(700);
    socket.write('still here');
    expect((await readUntil(socket, (b) => b.length >= 10)).toString()).toBe('still here');
    socket.destroy();
    await echo.close();
  });

  it('closes a tunnel after the idle timeout', async () => {
    const echo = await echoServer();
    const { path } = await proxy(local, { idleTimeoutMs: 200 });
    const { socket } = await open(path, `127.0.0.1:${echo.port}`);
    const closed = collect(socket, 3000);
    await closed;
    await echo.close();
  });
});

describe('createHttpProxy: malformed input', () => {
  it('answers a bad request line with 400 and closes, and keeps serving', async () => {
    const { path } = await proxy(local);
    for (const junk of ['BLAH\r\n\r\n', 'GET\r\n\r\n', '\x00\x01\x02\r\n\r\n', 'GET / HTTP/9.9.9\r\n\r\n', 'CONNECT nohost HTTP/1.1\r\n\r\n']) {
      const reply = (await exchange(path, junk)).toString();
      expect(reply, JSON.stringify(junk)).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect((await get(path, `http://localhost:${originPort}/after`)).status).toBe(200);
  });

  it('answers headers over 64 KiB with 431 and closes, while 60 KiB passes', async () => {
    const { path } = await proxy(local);
    const big = `GET http://localhost:${originPort}/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70 * 1024)}\r\n\r\n`;
    expect((await exchange(path, big)).toString()).toMatch(/^HTTP\/1\.1 431 /);
    const ok = await get(path, `http://localhost:${originPort}/ok`, { headers: { 'X-Big': 'a'.repeat(60 * 1024) } });
    expect(ok.status).toBe(200);
  });

  it('answers a client too slow to send its headers with 408 and closes', async () => {
    const { path } = await proxy(local, { headersTimeoutMs: 300 });
    const socket = await connectUnix(path);
    const reply = collect(socket, 3000);
    socket.write('GET http://localhost/ HTTP/1.1\r\nHost: x\r\n');
    expect((await reply).toString()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('survives clients that vanish mid-request and leaks no descriptor', async () => {
    const { path, proxy: p } = await proxy(local);
    const start = fdCount();
    for (let i = 0; i < 20; i++) {
      const s = await connectUnix(path);
      s.write(i % 2 ? `CONNECT localhost:${originPort} HTTP/1.1\r\n` : `POST http://localhost:${originPort}/ HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc`);
      await sleep(5);
      s.destroy();
    }
    await sleep(100);
    expect(await fdsSettle(start)).toBeLessThanOrEqual(start);
    expect(p.openSockets).toBe(0);
    expect((await get(path, `http://localhost:${originPort}/alive`)).status).toBe(200);
  });

  it('closes every open connection on stop()', async () => {
    const echo = await echoServer();
    const { path, proxy: p } = await proxy(local);
    const s = await connectUnix(path);
    s.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n\r\n`);
    await readUntil(s, (b) => b.includes('\r\n\r\n'));
    const closed = collect(s);
    expect(p.openSockets).toBe(2);
    await p.stop();
    await closed;
    expect(p.openSockets).toBe(0);
    await echo.close();
  });
});

describe('createHttpProxy: a client that half-closes after its request', () => {
  it('still gets the answer (printf … | socat -t3 -)', async () => {
    const { path } = await proxy({ allowedDomains: ['github.com'] });
    const socket = await connectUnix(path);
    const all = collect(socket);
    socket.end('GET http://example.com/ HTTP/1.0\r\n\r\n');
    expect((await all).toString()).toMatch(/^HTTP\/1\.1 403 [\s\S]*not in network\.allowedDomains\n$/);
  });
});
