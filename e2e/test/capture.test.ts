/**
 * Programs that ignore the proxy variables (SPEC §3): inside, the DNS stub answers an allowed name
 * with a capture address and the capture rule hands the connection, on any port, to the HTTP proxy
 * as `CONNECT name:port`. The names are real DNS names for the host side (a DNS server of the test,
 * bound as the host's resolver for this run only); inside, only the stub answers.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fence, hasProgram, USERS, workspace, writeSettings, type Workspace } from '../src/fence.js';
import { dnsServer } from '../src/dns-server.js';
import { BIG_SHA256, httpServer, httpsServer } from '../src/servers.js';

const ROOT = process.getuid?.() === 0;
if (!ROOT) console.warn('e2e capture: SKIPPED: binding the host-side test resolver (port 53, a mount namespace) needs root');

const NAMES = ['a.capture.test', 'b.capture.test'];
const ALLOWED = { network: { allowedDomains: ['*.capture.test'], allowLocalOutbound: true } };
/** The proxy variables gone: what a program that ignores them sees. */
const NO_PROXY_ENV = 'env -u HTTP_PROXY -u http_proxy -u HTTPS_PROXY -u https_proxy -u ALL_PROXY -u all_proxy';

let dir: string;
let dns: Awaited<ReturnType<typeof dnsServer>>;
let one: Awaited<ReturnType<typeof httpServer>>;
let two: Awaited<ReturnType<typeof httpServer>>;
let tls: Awaited<ReturnType<typeof httpsServer>>;
let goClient: string | undefined;
let rustClient: string | undefined;
beforeAll(async () => {
  if (!ROOT) return;
  dir = mkdtempSync(join(tmpdir(), 'fence-e2e-capture-'));
  dns = await dnsServer(dir, NAMES);
  [one, two, tls] = [await httpServer(), await httpServer(), await httpsServer()];
  if (hasProgram('go')) goClient = buildClient('get-go', GO_GET, (src, out) => ['sh', '-c', 'cp "$0" "$0.go" && go build -o "$1" "$0.go"', src, out]);
  if (hasProgram('rustc')) rustClient = buildClient('get-rs', RUST_GET, (src, out) => ['rustc', '-O', '-o', out, src]);
}, 120_000);
afterAll(() => {
  if (!ROOT) return;
  dns.close();
  one.close();
  two.close();
  tls.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Programs with resolvers and clients of their own: Go's pure-Go resolver (it reads resolv.conf and
 * speaks DNS itself) with net/http, and Rust's std TcpStream (getaddrinfo). Built on the host. */
const GO_GET = `package main

import (
\t"fmt"
\t"io"
\t"net/http"
\t"os"
)

func main() {
\tr, err := http.Get(os.Args[1])
\tif err != nil {
\t\tfmt.Fprintln(os.Stderr, err)
\t\tos.Exit(1)
\t}
\tdefer r.Body.Close()
\tio.Copy(os.Stdout, r.Body)
}
`;
const RUST_GET = `use std::io::{Read, Write};
use std::net::TcpStream;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let mut s = TcpStream::connect((a[1].as_str(), a[2].parse::<u16>().unwrap())).unwrap_or_else(|e| { eprintln!("{}", e); std::process::exit(1) });
    write!(s, "GET / HTTP/1.0\\r\\nHost: {}:{}\\r\\n\\r\\n", a[1], a[2]).unwrap();
    let mut b = String::new();
    s.read_to_string(&mut b).unwrap();
    print!("{}", b.split("\\r\\n\\r\\n").nth(1).unwrap_or(""));
}
`;

for (const [program, pkg] of [['go', 'golang-go'], ['rustc', 'rustc']] as const)
  if (!hasProgram(program)) console.warn(`e2e capture: the ${program} client test is SKIPPED: no ${program} on this machine (Debian: apt-get install ${pkg})`);

/** Builds `source` with `build(src, out)` in `dir`; returns the program's path, or undefined (and says why). */
function buildClient(name: string, source: string, build: (src: string, out: string) => readonly string[]): string | undefined {
  const src = join(dir, `${name}-src`);
  const out = join(dir, name);
  writeFileSync(src, source);
  const [cmd, ...args] = build(src, out);
  const r = spawnSync(cmd!, args, { encoding: 'utf8', env: { ...process.env, GOCACHE: join(dir, 'gocache'), CGO_ENABLED: '0' } });
  if (r.status === 0) return out;
  console.warn(`e2e capture: the ${name} client could not be built, its test fails: ${r.stderr}`);
  return undefined;
}

describe.runIf(ROOT && hasProgram('curl') && hasProgram('unshare')).each(USERS)('captured connections (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());
  const run = (args: readonly string[]) => fence(ws, args, { resolvConf: dns.resolvConf });

  it("curl --noproxy '*' reaches an allowed name on two ports", async () => {
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    const script = `curl -sS --noproxy '*' http://a.capture.test:${one.port}/ && curl -sS --noproxy '*' http://b.capture.test:${two.port}/`;
    const r = await run(['-c', script]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`hello from a.capture.test:${one.port}\nhello from b.capture.test:${two.port}\n`);
  });

  it('carries TLS sent at once after connect, and 100 MB intact, through captured connections (tunnel handoff)', async () => {
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    // -k: the test certificate names localhost; the TLS client still speaks first, before the proxy's 200.
    const script = `curl -sSk --noproxy '*' https://a.capture.test:${tls.port}/ && curl -sS --noproxy '*' http://b.capture.test:${one.port}/big | sha256sum | cut -c1-64`;
    const r = await run(['-c', script]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`hello from a.capture.test:${tls.port}\n${BIG_SHA256}\n`);
  }, 60_000);

  it("Node's fetch reaches an allowed name with the proxy variables unset", async () => {
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    const js = `fetch("http://a.capture.test:${two.port}/").then((r) => r.text()).then((t) => process.stdout.write(t))`;
    const r = await run(['-c', `${NO_PROXY_ENV} node -e '${js}'`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`hello from a.capture.test:${two.port}\n`);
  });

  it("python's urllib reaches an allowed name with the proxy variables unset", async () => {
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    const py = `import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("http://b.capture.test:${one.port}/").read().decode())`;
    const r = await run(['-c', `${NO_PROXY_ENV} python3 -c '${py}'`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`hello from b.capture.test:${one.port}\n`);
  });

  /** Copies a host-built client into the workspace (the sandbox's /tmp is its own). */
  const inWorkspace = (program: string | undefined): string => {
    expect(program, 'the client was built (see the warning above)').toBeDefined();
    const to = join(ws.dir, program!.split('/').pop()!);
    copyFileSync(program!, to);
    chmodSync(to, 0o755);
    return to;
  };

  it.runIf(hasProgram('go'))('a Go program (pure-Go resolver, net/http) reaches an allowed name with the proxy variables unset', async () => {
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    const get = inWorkspace(goClient);
    const r = await run(['-c', `${NO_PROXY_ENV} GODEBUG=netdns=go ${get} http://a.capture.test:${one.port}/`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`hello from a.capture.test:${one.port}\n`);
  });

  it.runIf(hasProgram('rustc'))("a Rust program (std's TcpStream) reaches an allowed name with the proxy variables unset", async () => {
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    const get = inWorkspace(rustClient);
    const r = await run(['-c', `${NO_PROXY_ENV} ${get} b.capture.test ${two.port}`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`hello from b.capture.test:${two.port}\n`);
  });

  it('the command cannot remove the capture rule nor take loopback down: the network namespace is not its to administer', async () => {
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    // An nftables batch deleting table "ip fence" (raw netlink, as fence-launch wrote it).
    const py = `
import socket, struct
def msg(t, flags, seq, fam, body, res=0):
    return struct.pack("=IHHII", 20 + len(body), t, flags, seq, 0) + struct.pack("=BBH", fam, 0, socket.htons(res)) + body
name = b"fence\\0\\0\\0"
attr = struct.pack("=HH", 4 + 6, 1) + name
try:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
    s.send(msg(0x10, 1, 1, 0, b"", 10) + msg((10 << 8) | 2, 1 | 4, 2, 2, attr) + msg(0x11, 1, 3, 0, b"", 10))
    err = struct.unpack("=i", s.recv(4096)[16:20])[0]
    print("deleted" if err == 0 else "refused")
except OSError:
    print("refused")
`;
    const script = `python3 -c '${py}'; ip link set lo down 2>/dev/null && echo lo-DOWN; curl -sS --noproxy '*' http://a.capture.test:${one.port}/`;
    const r = await run(['-c', script]);
    expect(r.stdout).toBe(`refused\nhello from a.capture.test:${one.port}\n`);
  });

  it('gives a name one capture address for the whole run', async () => {
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    const r = await run(['-c', 'getent hosts a.capture.test; getent hosts b.capture.test; getent hosts a.capture.test']);
    const [a, b, again] = r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
    expect(a).toMatch(/^127\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+$/);
    expect(b).not.toBe(a);
    expect(again).toBe(a);
  });

  it('refuses a name the policy does not allow at once, with the reason in -m and --json', async () => {
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    const r = await run(['-m', '-c', `curl -sS --noproxy '*' http://other.example:${one.port}/`]);
    expect(r.status).toBe(6);
    expect(r.stderr).toContain('Could not resolve host: other.example');
    expect(r.stderr).toMatch(/\[fence:dns\] \d\d:\d\d:\d\d ✗ other\.example NXDOMAIN \(not in network\.allowedDomains\)/);
    writeSettings(ws, { network: { ...ALLOWED.network, deniedDomains: ['denied.capture.test'] } });
    const denied = await run(['-m', '--json', '-c', `${NO_PROXY_ENV} python3 -c 'import socket; socket.gethostbyname("denied.capture.test")'`]);
    expect(denied.status).toBe(1);
    expect(denied.stderr).toContain('Name or service not known');
    const events = denied.stderr.split('\n').filter((l) => l.startsWith('{"time"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events).toContainEqual(expect.objectContaining({ source: 'dns', action: 'block', target: 'denied.capture.test', reason: 'denied by network.deniedDomains' }));
  });

  it('runs, with the capture off and a warning, when /etc/resolv.conf is a link to nothing the sandbox shows', async () => {
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    // bwrap binds the stub's resolv.conf where the link leads; a dangling link, or one into the
    // host's /tmp (private inside), made it fail at start: "Can't create file at /etc/resolv.conf".
    for (const target of ['/run/fence-e2e-missing/resolv.conf', join(dir, 'resolv.conf')]) {
      const r = await fence(ws, ['-c', 'echo ran'], { resolvConfLink: target });
      expect(r.stdout).toBe('ran\n');
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/capture: off \(\/etc\/resolv\.conf (cannot be followed \((ENOENT|EACCES)\)|leads to \/tmp\/.*, which the sandbox does not show)\): programs that ignore/);
    }
  });

  it('sends a captured connection through the address guard: an allowed name on loopback is refused without allowLocalOutbound', async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowedDomains: ['*.capture.test'] } });
    const r = await run(['-m', '-c', `curl -sS --noproxy '*' http://a.capture.test:${one.port}/`]);
    expect(r.stdout).toBe('');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/\[fence:http\] .*✗ CONNECT 403 a\.capture\.test .*resolves to a loopback/);
  });
});

describe.runIf(ROOT && hasProgram('python3')).each(USERS)('the capture listener, attacked (as %s)', (user) => {
  let ws: Workspace;
  let server: Server;
  let connections = 0;
  afterEach(() => {
    ws.cleanup();
    server.close();
  });

  it('gives nothing to a connection made to its port directly, or to a capture address the stub never gave', async () => {
    connections = 0;
    server = createServer((c) => (connections++, c.end('reached\n')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    // Both end without a byte (closed, or reset as the request is left unread): the listener finds no name for them.
    const py = `
import socket
for host, port in (("127.0.0.1", 15001), ("127.64.200.9", ${port})):
    s = socket.create_connection((host, port), timeout=5)
    try:
        s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
        print(host, repr(s.recv(100)))
    except ConnectionResetError:
        print(host, repr(b""))
`;
    const r = await fence(ws, ['--', 'python3', '-c', py], { resolvConf: dns.resolvConf });
    expect(r.stdout).toBe("127.0.0.1 b''\n127.64.200.9 b''\n");
    expect(connections).toBe(0);
  });

  it("cannot starve the relay that serves the stub and the capture: another process's limits are refused (prlimit)", async () => {
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    server = createServer((c) => c.end('reached\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    // The relay and the guard run inside as the command's user; signals are refused (Landlock's
    // scope), prlimit was not: a descriptor limit of 3 made the relay's poll fail and the relay end.
    const py = `
import os, resource, socket
refused = set()
for pid in (int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()):
    try:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, 3))
        refused.add("lowered %d" % pid)
    except PermissionError:
        refused.add("EPERM")
    except ProcessLookupError:
        pass
print(sorted(refused))
s = socket.create_connection((socket.gethostbyname("a.capture.test"), ${port}), timeout=5)
print(s.recv(100).decode(), end="")
`;
    const r = await fence(ws, ['--', 'python3', '-c', py], { resolvConf: dns.resolvConf });
    expect(r.stdout).toBe("['EPERM']\nreached\n");
  });

  it('the DNS stub survives garbage, a compressed name and a name that would break the CONNECT line, and refuses the last', async () => {
    ws = workspace(user);
    writeSettings(ws, ALLOWED);
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    // A name with a space and CR LF, allowed by the wildcard as text: refused (NXDOMAIN) before Fence is asked.
    const py = `
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
for junk in (b"", b"x" * 11, os.urandom(512), b"\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\xc0\\x0c\\x00\\x01\\x00\\x01"):
    s.sendto(junk, ("127.0.0.53", 53))
evil = b"\\x0cx y\\r\\nHost: z\\x07capture\\x04test\\x00"
s.sendto(b"\\xab\\xcd\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00" + evil + b"\\x00\\x01\\x00\\x01", ("127.0.0.53", 53))
while True:
    r, _ = s.recvfrom(600)
    if r[:2] == b"\\xab\\xcd": break
print("rcode", r[3] & 15, "answers", r[7])
print(socket.gethostbyname("a.capture.test").startswith("127."))
`;
    const r = await fence(ws, ['-m', '--', 'python3', '-c', py], { resolvConf: dns.resolvConf });
    expect(r.stdout).toBe('rcode 3 answers 0\nTrue\n');
    expect(r.stderr).not.toContain('[fence:dns]');
  });
});
