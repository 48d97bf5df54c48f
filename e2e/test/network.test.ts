import { copyFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fence, writeSettings, hasProgram, own, USERS, workspace, type Workspace } from '../src/fence.js';
import { BIG, BIG_SHA256, httpServer, httpsServer, udpServer } from '../src/servers.js';

type Servers = { http: Awaited<ReturnType<typeof httpServer>>; https: Awaited<ReturnType<typeof httpsServer>> };
let servers: Servers;
beforeAll(async () => {
  servers = { http: await httpServer(), https: await httpsServer() };
});
afterAll(() => {
  servers.http.close();
  servers.https.close();
});

// localhost is in NO_PROXY inside the sandbox (SPEC §3): `--noproxy ''` makes curl use the proxy anyway.
const VIA_PROXY = ['--noproxy', ''];
const LOCAL = { network: { allowedDomains: ['localhost'], allowLocalOutbound: true } };

describe.runIf(hasProgram('curl')).each(USERS)('the network layer (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('reaches an allowed domain through the HTTP proxy', async () => {
    ws = workspace(user);
    writeSettings(ws, LOCAL);
    const r = await fence(ws, ['--', 'curl', '-sS', ...VIA_PROXY, `http://localhost:${servers.http.port}/`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`hello from localhost:${servers.http.port}\n`);
  });

  it('reaches an allowed TLS server through CONNECT', async () => {
    ws = workspace(user);
    writeSettings(ws, LOCAL);
    copyFileSync(servers.https.ca, join(ws.dir, 'ca.pem'));
    const r = await fence(ws, ['--', 'curl', '-sS', ...VIA_PROXY, '--cacert', 'ca.pem', `https://localhost:${servers.https.port}/`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`hello from localhost:${servers.https.port}\n`);
  });

  it('starts the bridges\' relay at the first connection: a command that uses no network never waits for it', async () => {
    ws = workspace(user);
    writeSettings(ws, LOCAL);
    const helpers = "grep -lx fence-launch /proc/[0-9]*/comm 2>/dev/null | grep -vc '^/proc/1/'";
    const r = await fence(ws, ['-c', `${helpers}; curl -sS --noproxy '' http://localhost:${servers.http.port}/; ${helpers}`]);
    expect(r.stdout).toBe(`0\nhello from localhost:${servers.http.port}\n1\n`);
  });

  it('hands CONNECT and SOCKS5 tunnels to fence-launch\'s bridges', async () => {
    ws = workspace(user);
    writeSettings(ws, LOCAL);
    const url = `http://localhost:${servers.http.port}/`;
    const script = `curl -sS --noproxy '' -p ${url} && curl -sS --noproxy '' --proxy socks5h://127.0.0.1:1080 ${url}`;
    const r = await fence(ws, ['-d', '--', 'sh', '-c', script]);
    expect(r.stdout).toBe(`hello from localhost:${servers.http.port}\n`.repeat(2));
    expect(r.stderr).toMatch(/\[fence:proxy\] tunnel handoff on/);
  });

  it('hands a long plain-HTTP response to the bridge intact, and serves the next request on a new connection', async () => {
    ws = workspace(user);
    writeSettings(ws, LOCAL);
    const base = `http://localhost:${servers.http.port}`;
    // One curl: a short answer (kept alive), the 100 MB body, a short one again.
    const script = `curl -sS --noproxy '' ${base}/a -o /tmp/a ${base}/big -o /tmp/big ${base}/b -o /tmp/b -w '%{num_connects}\\n' && cat /tmp/a /tmp/b && sha256sum < /tmp/big | cut -c1-64`;
    const host = `localhost:${servers.http.port}`;
    // Under -d the proxy relays each request (to report it): the long body alone is handed to the
    // bridge, with `Connection: close`, so the third request comes on a new connection.
    const d = await fence(ws, ['-d', '-c', script], { timeoutMs: 120_000 });
    expect(d.stdout).toBe(`1\n0\n1\nhello from ${host}\nhello from ${host}\n${BIG_SHA256}\n`);
    // Otherwise the bridge forwards all three on the connection the first one was granted.
    const r = await fence(ws, ['-c', script], { timeoutMs: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`1\n0\n0\nhello from ${host}\nhello from ${host}\n${BIG_SHA256}\n`);
  }, 240_000);

  it('keeps a handed-off long body on its decided server: a later request for another host reaches nothing else (-d)', async () => {
    ws = workspace(user);
    writeSettings(ws, LOCAL);
    let otherConnections = 0;
    const other = createServer((c) => (otherConnections++, c.destroy()));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const otherPort = (other.address() as { port: number }).port;
    // A client that ignores `Connection: close`: after the long body it asks, on the same
    // connection, for a host the policy does not allow (127.0.0.1 is not in allowedDomains).
    const script = `
import os, socket
s = socket.create_connection(("127.0.0.1", int(os.environ["HTTP_PROXY"].rsplit(":", 1)[1])))
s.sendall(b"GET http://localhost:${servers.http.port}/big HTTP/1.1\\r\\nHost: localhost:${servers.http.port}\\r\\n\\r\\n")
buf = b""
while b"\\r\\n\\r\\n" not in buf: buf += s.recv(65536)
head, body = buf.split(b"\\r\\n\\r\\n", 1)
n = len(body)
while n < ${BIG}: n += len(s.recv(1 << 20))
s.sendall(b"GET http://127.0.0.1:${otherPort}/ HTTP/1.1\\r\\nHost: 127.0.0.1:${otherPort}\\r\\n\\r\\n")
print(b"connection: close" in head.lower(), s.recv(4096).split(b"\\r\\n")[0].decode())
`;
    try {
      // -d keeps the proxy on the path of each request (see http-forward.test.ts for the bridge's own forwarding).
      const r = await fence(ws, ['-d', '--', 'python3', '-c', script], { timeoutMs: 60_000 });
      // The decided server answered it (a proxy would have said 403); the other one saw nothing.
      expect(r.stdout).toBe('True HTTP/1.1 200 OK\n');
      expect(otherConnections).toBe(0);
    } finally {
      other.close();
    }
  }, 60_000);

  it('reaches an allowed domain through socks5h', async () => {
    ws = workspace(user);
    writeSettings(ws, LOCAL);
    const r = await fence(ws, ['--', 'curl', '-sS', '--noproxy', '', '--proxy', 'socks5h://127.0.0.1:1080', `http://localhost:${servers.http.port}/`]);
    expect(r.stdout).toBe(`hello from localhost:${servers.http.port}\n`);
  });

  it('blocks other domains with 403 and reports them with -m', async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowedDomains: ['example.com'] } });
    const r = await fence(ws, ['-m', '--', 'curl', '-s', '-w', '\\n%{http_code}', 'http://blocked.example.org/x']);
    expect(r.stdout).toBe('Connection blocked by network allowlist: not in network.allowedDomains\n\n403');
    expect(r.stderr).toMatch(/\[fence:http\] \d\d:\d\d:\d\d ✗ GET 403 blocked\.example\.org http:\/\/blocked\.example\.org\/x \(not in network\.allowedDomains\)/);
    expect(r.stderr).toMatch(/fence: blocked 1 action \(http 1\)/);
  });

  it('refuses blocked SOCKS connections by ruleset, as JSON with --json', async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowedDomains: ['example.com'], deniedDomains: ['example.com'] } });
    const r = await fence(ws, ['-m', '--json', '--', 'curl', '-s', '--noproxy', '', '--proxy', 'socks5h://127.0.0.1:1080', 'http://example.com/']);
    expect(r.status).not.toBe(0);
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { source: string });
    expect(events.find((e) => e.source === 'socks')).toMatchObject({ source: 'socks', action: 'block', target: 'example.com:80' });
  });

  it('refuses an allowed name that resolves to loopback unless allowLocalOutbound (DNS rebinding)', async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowedDomains: ['localhost'] } });
    const r = await fence(ws, ['--', 'curl', '-s', ...VIA_PROXY, '-o', '/dev/null', '-w', '%{http_code}', `http://localhost:${servers.http.port}/`]);
    expect(r.stdout).toBe('403');
  });

  it('gives no direct way out: --noproxy, /dev/tcp, python sockets, IPv6 and UDP all fail', async () => {
    ws = workspace(user);
    writeSettings(ws, LOCAL);
    const udp = await udpServer();
    const port = servers.http.port;
    const script = [
      `curl -s --max-time 2 --noproxy '*' http://127.0.0.1:${port}/ && echo curl-direct-REACHED`,
      `(echo x > /dev/tcp/127.0.0.1/${port}) 2>/dev/null && echo devtcp-REACHED`,
      `python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), 2)" 2>/dev/null && echo python-REACHED`,
      `curl -s --max-time 2 --noproxy '*' 'http://[::1]:${port}/' && echo ipv6-REACHED`,
      `python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x', ('127.0.0.1', ${udp.port}))" 2>/dev/null`,
      `getent hosts example.com && echo dns-REACHED`,
      'echo done',
    ].join('; ');
    const r = await fence(ws, ['-c', script]);
    udp.close();
    expect(r.stdout).toBe('done\n');
    expect(udp.received()).toBe(0);
  });

  it('keeps host Unix sockets unreachable unless allowed', async () => {
    ws = workspace(user);
    const path = join(ws.dir, 'host.sock');
    const server = createServer((s) => s.end('unix-ok\n'));
    await new Promise<void>((r) => server.listen(path, r));
    own(ws, path);
    const connect = `python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.connect('${path}'); print(s.recv(9).decode().strip())"`;
    const denied = await fence(ws, ['-c', `${connect} 2>&1 | tail -1`]);
    expect(denied.stdout).toMatch(/Operation not permitted/);
    writeSettings(ws, { network: { allowUnixSockets: [path] } });
    const allowed = await fence(ws, ['-c', connect]);
    server.close();
    expect(allowed.stdout).toBe('unix-ok\n');
    // Honest about what a path list means below Landlock ABI 9, on every run; --strict refuses it.
    expect(allowed.stderr).toMatch(/^fence: warning: seccomp: network\.allowUnixSockets lists 1 path\(s\), but connect\(\) cannot be limited to them here/m);
    const strict = await fence(ws, ['--strict', '-c', connect]);
    expect(strict.status).toBe(1);
    expect(strict.stdout).toBe('');
  });

  it('exposes a sandbox port on the host with -p', async () => {
    ws = workspace(user);
    const port = 20000 + Math.floor(Math.random() * 20000);
    let listening!: () => void;
    const ready = new Promise<void>((r) => (listening = r));
    const run = fence(
      ws,
      ['-p', String(port), '--', 'python3', '-c', `
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', ${port})); s.listen(1)
print('listening', flush=True)
c, _ = s.accept(); c.sendall(b'from-sandbox'); c.close()`],
      { onSpawn: (child) => child.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && listening()) },
    );
    await ready;
    const reply = await new Promise<string>((resolve) => {
      let data = '';
      const c = createConnection({ port, host: '127.0.0.1' });
      c.on('data', (d) => (data += d));
      c.on('close', () => resolve(data));
      c.on('error', () => resolve(''));
    });
    const r = await run;
    expect(reply).toBe('from-sandbox');
    expect(r.status).toBe(0);
  });

  it('delivers 20 sequential 100 MB downloads through CONNECT complete', async () => {
    ws = workspace(user);
    writeSettings(ws, LOCAL);
    copyFileSync(servers.https.ca, join(ws.dir, 'ca.pem'));
    const url = `https://localhost:${servers.https.port}/big`;
    const r = await fence(ws, ['-c', `for i in $(seq 20); do curl -sS --noproxy '' --cacert ca.pem ${url} | sha256sum | cut -c1-64; done`], { timeoutMs: 240_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${BIG_SHA256}\n`.repeat(20));
    expect(BIG).toBe(100 * 1024 * 1024);
  }, 240_000);
});
