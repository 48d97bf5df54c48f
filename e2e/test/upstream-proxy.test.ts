import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';

/**
 * A tiny HTTP proxy on the host's 127.0.0.1 standing for mitmproxy: it records every request it
 * gets (absolute URIs and CONNECT targets) and answers them itself, so nothing leaves the machine.
 */
async function upstreamProxy(): Promise<{ url: string; seen: string[]; close: () => void }> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers['proxy-authorization'] ?? ''}`.trim());
    res.end(`upstream answered ${req.method} ${req.url}\n`);
  });
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    seen.push(`CONNECT ${req.url} ${req.headers['proxy-authorization'] ?? ''}`.trim());
    socket.on('error', () => undefined).write('HTTP/1.1 200 Connection Established\r\n\r\n');
    // Plays the server at the other end: one answer naming the tunnel and the request line it got.
    socket.once('data', (d: Buffer) => socket.end(`HTTP/1.0 200 OK\r\n\r\ntunnel to ${req.url} got ${d.toString().split('\r\n')[0]}\n`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() };
}

const PROXY = 'http://127.0.0.1:3128';

describe.each(USERS)('network.defaultAction "proxy" with network.upstreamProxy (as %s)', (user) => {
  let ws: Workspace;
  let upstream: Awaited<ReturnType<typeof upstreamProxy>>;
  afterEach(() => {
    upstream?.close();
    ws.cleanup();
  });

  it('forwards exactly the names no list decides (plain HTTP, CONNECT, SOCKS5), never a denied one', async () => {
    ws = workspace(user);
    upstream = await upstreamProxy();
    const port = new URL(upstream.url).port;
    writeSettings(ws, {
      network: { allowedDomains: ['allowed.example'], deniedDomains: ['denied.example', '*.denied.example'], defaultAction: 'proxy', upstreamProxy: upstream.url.replace('http://', 'http://inspector:s3cret@') },
    });
    const script = [
      'curl -sS http://grey.example/plain',
      'curl -sS -p http://grey.example:8080/tunnel',
      'curl -sS --socks5-hostname 127.0.0.1:1080 http://grey.example:9090/socks',
      'curl -sS http://denied.example/x; echo',
      'curl -sS -p http://sub.denied.example/x; echo " curl=$?"',
      'curl -sS --socks5-hostname 127.0.0.1:1080 http://denied.example/x; echo " curl=$?"',
      // The address guard still holds for what would be forwarded: the host's own loopback.
      `curl -sS --noproxy '' --proxy ${PROXY} http://127.0.0.1:${port}/guard; echo`,
      `curl -sS --noproxy '' --proxy ${PROXY} http://localhost:${port}/guard; echo`,
    ].join('; ');
    const r = await fence(ws, ['-c', script]);
    const auth = `Basic ${Buffer.from('inspector:s3cret').toString('base64')}`;
    expect(upstream.seen).toEqual([`GET http://grey.example/plain ${auth}`, `CONNECT grey.example:8080 ${auth}`, `CONNECT grey.example:9090 ${auth}`]);
    expect(r.stdout).toContain('upstream answered GET http://grey.example/plain');
    expect(r.stdout).toContain('tunnel to grey.example:8080 got GET /tunnel HTTP/1.1');
    expect(r.stdout).toContain('tunnel to grey.example:9090 got GET /socks HTTP/1.1');
    expect(r.stdout).toContain('Connection blocked by network allowlist: denied by network.deniedDomains');
    expect(r.stdout).toContain('Connection blocked by the address guard: 127.0.0.1 is a loopback address');
    expect(r.stdout).toContain('Connection blocked by the address guard: localhost resolves to a loopback address');
    expect(r.stdout).not.toContain('upstream answered GET http://denied');
  });

  it('an unreachable upstream gives 502 with the reason, in the body, -m and --json', async () => {
    ws = workspace(user);
    upstream = await upstreamProxy();
    const url = upstream.url;
    upstream.close();
    writeSettings(ws, { network: { defaultAction: 'proxy', upstreamProxy: url } });
    const r = await fence(ws, ['-m', '--json', '-c', 'curl -sS -w "%{http_code}\\n" http://grey.example/; curl -sS -p http://grey.example/ 2>&1; true']);
    const reason = `upstream unreachable through network.upstreamProxy ${url}: connection refused (ECONNREFUSED)`;
    expect(r.stdout).toContain(`fence: cannot connect to grey.example:80 through network.upstreamProxy ${url}: connection refused (ECONNREFUSED)\n502\n`);
    const events = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { source: string; action: string; reason: string });
    expect(events.filter((e) => e.action === 'block').map((e) => e.reason)).toEqual([reason, reason]);
    expect(r.stdout).toContain('CONNECT tunnel failed, response 502');
    const text = await fence(ws, ['-m', '--', 'curl', '-sS', 'http://grey.example/']);
    expect(text.stderr).toMatch(new RegExp(`\\[fence:http\\] [0-9:]+ ✗ GET 502 grey\\.example http://grey\\.example/ \\(${reason.replace(/[.()]/g, '\\$&')}\\)`));
  });
});
