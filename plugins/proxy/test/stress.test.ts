/**
 * Load and abuse: bulk transfers must arrive complete, 1000 concurrent tunnels must succeed and
 * leave no descriptor behind, and random bytes must never take a proxy down.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpProxy } from '../src/http-proxy.js';
import type { ProxyServer } from '../src/listener.js';
import { createSocksProxy } from '../src/socks-proxy.js';
import { collect, connectUnix, echoServer, fdCount, fdsSettle, listenTcp, readUntil, recorder, sleep, tempDir, type TcpServer } from './support.js';

const dir = tempDir();
const rules = { allowedDomains: ['127.0.0.1'], deniedDomains: [], allowLocalOutbound: false };
const httpPath = join(dir.path, 'http.sock');
const socksPath = join(dir.path, 'socks.sock');
let http: ProxyServer;
let socks: ProxyServer;
let echo: TcpServer;

beforeAll(async () => {
  echo = await echoServer();
  http = createHttpProxy({ listen: { path: httpPath }, rules, violations: recorder() });
  socks = createSocksProxy({ listen: { path: socksPath }, rules, violations: recorder() });
  await Promise.all([http.start(), socks.start()]);
});

afterAll(async () => {
  await Promise.all([http.stop(), socks.stop(), echo.close()]);
  dir.remove();
});

async function httpTunnel(port: number): Promise<Socket> {
  const s = await connectUnix(httpPath);
  s.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  const head = await readUntil(s, (b) => b.includes('\r\n\r\n'), 20_000);
  if (!head.toString().startsWith('HTTP/1.1 200')) throw new Error(`CONNECT failed: ${head.toString()}`);
  const rest = head.subarray(head.indexOf('\r\n\r\n') + 4);
  if (rest.length) s.unshift(rest);
  return s;
}

async function socksTunnel(port: number): Promise<Socket> {
  const s = await connectUnix(socksPath);
  s.write(Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff]));
  const reply = await readUntil(s, (b) => b.length >= 12, 20_000);
  if (reply[3] !== 0) throw new Error(`SOCKS reply ${reply[3]}`);
  if (reply.length > 12) s.unshift(reply.subarray(12));
  return s;
}

describe('proxies under load', () => {
  it('carries 20 sequential 100 MB downloads through CONNECT complete and intact', async () => {
    const block = randomBytes(1024 * 1024);
    const blocks = 100;
    const expected = createHash('sha256');
    for (let i = 0; i < blocks; i++) expected.update(block);
    const digest = expected.digest('hex');
    const source = await listenTcp((s) => {
      let sent = 0;
      const pump = (): void => {
        while (sent < blocks) {
          sent++;
          if (!s.write(block)) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
    const started = Date.now();
    for (let round = 0; round < 20; round++) {
      const s = await httpTunnel(source.port);
      const hash = createHash('sha256');
      let bytes = 0;
      await new Promise<void>((resolve, reject) => {
        s.on('data', (c: Buffer) => {
          bytes += c.length;
          hash.update(c);
        });
        s.once('end', () => {
          s.end();
          resolve();
        });
        s.once('error', reject);
        s.resume();
      });
      expect(bytes, `round ${round}`).toBe(blocks * block.length);
      expect(hash.digest('hex'), `round ${round}`).toBe(digest);
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`20 x 100 MB through CONNECT in ${seconds.toFixed(1)} s (${((20 * 100) / seconds).toFixed(0)} MB/s)`);
    await source.close();
  }, 120_000);

  for (const [name, open] of [
    ['HTTP CONNECT', httpTunnel],
    ['SOCKS5', socksTunnel],
  ] as const) {
    it(`runs 1000 concurrent ${name} tunnels and returns to its descriptor count`, async () => {
      const start = fdCount();
      const tunnels = await Promise.all(Array.from({ length: 1000 }, () => open(echo.port)));
      expect(http.openSockets + socks.openSockets).toBe(2000);
      const replies = tunnels.map((s, i) => {
        const all = collect(s, 20_000);
        s.end(`tunnel ${i}`);
        return all;
      });
      const texts = (await Promise.all(replies)).map((b) => b.toString());
      texts.forEach((t, i) => expect(t).toBe(`tunnel ${i}`));
      expect(await fdsSettle(start)).toBeLessThanOrEqual(start);
      expect(http.openSockets + socks.openSockets).toBe(0);
    }, 60_000);
  }

  it('never truncates: a FIN is passed on only after the data before it, in both directions', async () => {
    const payload = randomBytes(20 * 1024 * 1024);
    // Downstream: the source writes everything and closes at once; the client starts reading late.
    const source = await listenTcp((s) => s.end(payload));
    // Upstream: the client writes everything and half-closes at once; the sink reads late, then answers.
    const sink = await listenTcp((s) => {
      s.pause();
      setTimeout(() => {
        const hash = createHash('sha256');
        s.on('data', (c: Buffer) => hash.update(c));
        s.once('end', () => s.end(hash.digest('hex')));
        s.resume();
      }, 300);
    });
    const want = createHash('sha256').update(payload).digest('hex');
    for (const open of [httpTunnel, socksTunnel]) {
      const down = await open(source.port);
      down.end();
      await sleep(300);
      expect(createHash('sha256').update(await collect(down, 20_000)).digest('hex')).toBe(want);
      const up = await open(sink.port);
      const answer = collect(up, 20_000);
      up.end(payload);
      expect((await answer).toString()).toBe(want);
    }
    await Promise.all([source.close(), sink.close()]);
  }, 60_000);

  it('survives 5 s of random bytes at both parsers and leaks no descriptor', async () => {
    const start = fdCount();
    const prefixes = [
      '',
      'GET ',
      'CONNECT ',
      `CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n\r\n`,
      'GET http://127.0.0.1/ HTTP/1.1\r\nHost: x\r\n',
      'GET http://127.0.0.1/ HTTP/1.1\r\nContent-Length: 5\r\n\r\n',
      '\x05\x01\x00',
      `\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01${String.fromCharCode(echo.port >> 8, echo.port & 0xff)}`,
      '\x05\x01\x00\x05\x01\x00\x03',
    ];
    const one = async (): Promise<void> => {
      const path = Math.random() < 0.5 ? httpPath : socksPath;
      const s = await connectUnix(path);
      s.on('error', () => undefined);
      s.resume();
      const prefix = prefixes[Math.floor(Math.random() * prefixes.length)]!;
      s.write(Buffer.from(prefix, 'latin1'));
      for (let chunks = Math.floor(Math.random() * 4); chunks >= 0; chunks--) {
        if (s.destroyed) break;
        s.write(randomBytes(Math.floor(Math.random() * 3000)));
        if (Math.random() < 0.3) await sleep(1);
      }
      if (Math.random() < 0.5) s.end();
      await Promise.race([new Promise((r) => s.once('close', r)), sleep(Math.random() * 100)]);
      s.destroy();
    };
    const until = Date.now() + 5000;
    let sent = 0;
    while (Date.now() < until) {
      await Promise.all(Array.from({ length: 25 }, one));
      sent += 25;
    }
    expect(sent).toBeGreaterThan(100);
    // Still serving, both of them.
    const t = await httpTunnel(echo.port);
    const a = collect(t);
    t.end('after fuzz');
    expect((await a).toString()).toBe('after fuzz');
    const u = await socksTunnel(echo.port);
    const b = collect(u);
    u.end('after fuzz');
    expect((await b).toString()).toBe('after fuzz');
    expect(await fdsSettle(start)).toBeLessThanOrEqual(start);
  }, 30_000);
});
