'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { describe, it } = require('node:test');
const { READ_EXEC, abi, freePort, fsRights, hasCommand, helper, launch, openDir, openSocketPath, pidsCgroup, python } = require('./helpers.js');

const skip = !helper && 'fence-launch is not built (npm run build)';

function listen(server, where) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => resolve(server));
  });
}

/** The end of a handoff message: N, the bytes the proxy read (uint64 LE), then the marker 0. */
function trailer(n) {
  const t = Buffer.alloc(9);
  t.writeBigUInt64LE(BigInt(n));
  return t;
}

/**
 * A fake host proxy on a Unix socket (python: it can read exactly the request): reads `readLen`
 * bytes, waits until `waitQueued` more bytes are queued unread (the client did not wait for the
 * reply), connects to 127.0.0.1:upPort and hands that socket over claiming N = `claim` bytes read.
 */
const FAKE_PROXY = `
import socket, sys, time
path, read_len, wait_queued, claim, up_port, reply = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), bytes.fromhex(sys.argv[6])
srv = socket.socket(socket.AF_UNIX); srv.bind(path); srv.listen(1)
print("ready", flush=True)
c, _ = srv.accept()
got = b""
while len(got) < read_len:
    got += c.recv(read_len - len(got))
deadline = time.time() + 5
while wait_queued and len(c.recv(wait_queued, socket.MSG_PEEK)) < wait_queued and time.time() < deadline:
    time.sleep(0.01)
up = socket.create_connection(("127.0.0.1", up_port))
socket.send_fds(c, [reply + claim.to_bytes(8, "little") + b"\\0"], [up.fileno()])
c.close(); up.close()
print("handed", got.hex(), flush=True)
`;

function fakeProxy(t, args) {
  const { spawn } = require('node:child_process');
  const child = spawn(python, ['-c', FAKE_PROXY, ...args.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill());
  let out = '';
  const lines = new Promise((resolve) => child.stdout.on('data', (d) => (out += d)).on('end', () => resolve(out)));
  const ready = new Promise((resolve) => child.stdout.on('data', () => out.startsWith('ready') && resolve()));
  return { ready, lines };
}

describe('fence-launch bridges', { skip }, () => {
  it('tcp-to-unix under an HTTP grant: forwards the granted authority\'s requests, gives another back to the proxy from its start', async (t) => {
    const addon = require('..').addon();
    if (!addon) return t.skip('the addon is not built (npm run build)');
    // The allowed server: records each request's line and Host.
    const seen = [];
    const upstream = await listen(
      http.createServer((req, res) => {
        seen.push(`${req.method} ${req.url} ${req.headers.host}`);
        res.end(`hi ${req.url}\n`);
      }),
      { port: 0, host: '127.0.0.1' },
    );
    t.after(() => upstream.close());
    const authority = `localhost:${upstream.address().port}`;
    const grant = (host) => {
      const tail = Buffer.alloc(13);
      tail.writeUInt16LE(authority.length, 0);
      tail.writeUInt16LE(host.length, 2);
      tail[12] = 1; // N = 0: the request starts the connection
      return Buffer.concat([Buffer.from(authority), Buffer.from(host), tail]);
    };
    // The proxy: grants a connection whose first request is for `authority`; answers any other 403.
    const given = [];
    const sock = path.join(openDir(t, 'bridge'), 'proxy.sock');
    const proxy = await listen(
      net.createServer((client) => {
        let got = Buffer.alloc(0);
        let decided = false;
        client.on('data', (d) => {
          got = Buffer.concat([got, d]);
          if (decided || got.indexOf('\r\n\r\n') < 0) return;
          decided = true;
          client.pause();
          const line = got.subarray(0, got.indexOf('\r\n')).toString();
          if (line.includes(`http://${authority}/`)) {
            const up = net.createConnection(upstream.address().port, '127.0.0.1', () => {
              addon.sendFd(client._handle.fd, up._handle.fd, grant(authority));
              client.destroy();
              up.destroy();
            });
            return;
          }
          given.push(got.toString());
          client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\nConnection: close\r\n\r\nrefused');
        });
      }),
      sock,
    );
    t.after(() => proxy.close());
    const port = await freePort();
    // Three requests in one write: the second comes from the ring the bridge replays from N = 0.
    const client = `
import re, socket
s = socket.create_connection(("127.0.0.1", ${port}))
s.sendall(b"GET http://${authority}/1 HTTP/1.1\\r\\nHost: x\\r\\nProxy-Connection: keep-alive\\r\\n\\r\\n"
          b"POST http://${authority.toUpperCase()}/2 HTTP/1.1\\r\\nContent-Length: 3\\r\\n\\r\\nabc"
          b"GET http://127.0.0.1:1/3 HTTP/1.1\\r\\nHost: y\\r\\n\\r\\n")
got = b""
while chunk := s.recv(65536):
    got += chunk
print(" ".join(re.findall(r"HTTP/1\\.1 \\d+|hi /\\d|refused", got.decode())))`;
    const plan = { bridges: [{ kind: 'tcp-to-unix', port, fd: 4 }], rlimits: [] };
    const r = await launch(plan, [python, '-c', client], { pass: [openSocketPath(sock)] });
    assert.equal(r.stdout, 'HTTP/1.1 200 hi /1 HTTP/1.1 200 hi /2 HTTP/1.1 403 refused\n', r.stderr);
    assert.deepEqual(seen, [`GET /1 ${authority}`, `POST /2 ${authority}`]);
    assert.deepEqual(given, ['GET http://127.0.0.1:1/3 HTTP/1.1\r\nHost: y\r\n\r\n']);
  });

  it('tcp-to-unix: a client on 127.0.0.1:port reaches a host Unix socket server', async (t) => {
    if (!hasCommand('curl')) return t.skip('curl is not installed');
    const sock = path.join(openDir(t, 'bridge'), 'http.sock');
    const server = await listen(http.createServer((req, res) => res.end(`hello from unix ${req.url}\n`)), sock);
    t.after(() => server.close());
    const port = await freePort();
    const plan = { bridges: [{ kind: 'tcp-to-unix', port, fd: 4 }], rlimits: [] };
    const r = await launch(plan, ['curl', '-sS', `http://127.0.0.1:${port}/a`, `http://127.0.0.1:${port}/b`], { pass: [openSocketPath(sock)] });
    assert.equal(r.stdout, 'hello from unix /a\nhello from unix /b\n', r.stderr);
    assert.equal(r.code, 0);
  });

  it('tcp-to-unix relays 4 MiB both ways and passes the half-close on', async (t) => {
    const sock = path.join(openDir(t, 'bridge'), 'echo.sock');
    // Echoes everything, and ends its side only after the client ended its own.
    const server = await listen(net.createServer({ allowHalfOpen: true }, (c) => c.pipe(c)), sock);
    t.after(() => server.close());
    const port = await freePort();
    const data = crypto.randomBytes(4 << 20);
    const client = `
import hashlib, socket, sys, threading
s = socket.create_connection(("127.0.0.1", ${port}))
data = sys.stdin.buffer.read()
def send():
    s.sendall(data); s.shutdown(socket.SHUT_WR)
threading.Thread(target=send).start()
got = b""
while chunk := s.recv(65536):
    got += chunk
print(len(got), hashlib.sha256(got).hexdigest())`;
    const plan = { bridges: [{ kind: 'tcp-to-unix', port, fd: 4 }], rlimits: [] };
    const r = await launch(plan, [python, '-c', client], { stdin: data, pass: [openSocketPath(sock)] });
    assert.equal(r.stdout, `${data.length} ${crypto.createHash('sha256').update(data).digest('hex')}\n`, r.stderr);
  });

  it('tcp-to-unix hands the stream over to a passed socket: reply, 4 MiB both ways, half-close, no leaked descriptor', async (t) => {
    const addon = require('..').addon();
    if (!addon) return t.skip('the addon is not built (npm run build)');
    // The upstream: echoes, and ends its side only after the client ended its own.
    const echo = await listen(net.createServer({ allowHalfOpen: true }, (c) => c.pipe(c)), { port: 0, host: '127.0.0.1' });
    t.after(() => echo.close());
    const reply = 'HTTP/1.1 200 Connection established\r\n\r\n';
    const sock = path.join(openDir(t, 'bridge'), 'proxy.sock');
    // The proxy: connects upstream, then passes that socket with its reply and the marker byte.
    const proxy = await listen(
      net.createServer({ pauseOnConnect: true }, (client) => {
        const up = net.createConnection(echo.address().port, '127.0.0.1', () => {
          addon.sendFd(client._handle.fd, up._handle.fd, Buffer.concat([Buffer.from(reply), trailer(client.bytesRead)]));
          client.destroy();
          up.destroy();
        });
      }),
      sock,
    );
    t.after(() => proxy.close());
    const port = await freePort();
    const data = crypto.randomBytes(4 << 20);
    const client = `
import hashlib, os, socket, sys, threading, time
def relay_fds():
    # The relay is the fence-launch process holding a pidfd for this process.
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(f"Pid:\\t{os.getpid()}\\n" in open(f"/proc/{pid}/fdinfo/{fd}").read() for fd in fds):
                return len(fds)
        except OSError:
            pass
before = relay_fds()
data = sys.stdin.buffer.read()
s = socket.create_connection(("127.0.0.1", ${port}))
got = b""
while len(got) < ${reply.length}:
    got += s.recv(${reply.length} - len(got))
print(got.decode().strip())
def send():
    s.sendall(data); s.shutdown(socket.SHUT_WR)
threading.Thread(target=send).start()
got = b""
while chunk := s.recv(65536):
    got += chunk
s.close()
print(len(got), hashlib.sha256(got).hexdigest())
for _ in range(100):
    if relay_fds() == before: break
    time.sleep(0.02)
print("fds", before, relay_fds())`;
    const plan = { bridges: [{ kind: 'tcp-to-unix', port, fd: 4 }], rlimits: [] };
    const r = await launch(plan, [python, '-c', client], { stdin: data, pass: [openSocketPath(sock)] });
    const [status, sum, fds] = r.stdout.split('\n');
    assert.equal(status, 'HTTP/1.1 200 Connection established', r.stderr);
    assert.equal(sum, `${data.length} ${crypto.createHash('sha256').update(data).digest('hex')}`);
    const [, before, after] = fds.split(' ');
    assert.ok(Number(before) > 0, fds);
    assert.equal(after, before);
  });

  it('tcp-to-unix handoff re-sends to the upstream the client bytes the proxy never read, in order', async (t) => {
    // The upstream: collects everything until the client's FIN, then answers with its length and hash.
    const upstream = await listen(
      net.createServer({ allowHalfOpen: true }, (c) => {
        const chunks = [];
        c.on('data', (d) => chunks.push(d)).on('end', () => {
          const all = Buffer.concat(chunks);
          c.end(`${all.length} ${crypto.createHash('sha256').update(all).digest('hex')}`);
        });
      }),
      { port: 0, host: '127.0.0.1' },
    );
    t.after(() => upstream.close());
    const reply = 'HTTP/1.1 200 Connection established\r\n\r\n';
    const request = 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test\r\n\r\n';
    const early = crypto.randomBytes(100_000); // sent with the request, before the reply
    const later = crypto.randomBytes(300_000); // sent after the reply
    const sock = path.join(openDir(t, 'bridge'), 'proxy.sock');
    // Reads only the request, waits until early bytes sit unread in its socket, claims N = request.
    const proxy = fakeProxy(t, [sock, request.length, 4096, request.length, upstream.address().port, Buffer.from(reply).toString('hex')]);
    await proxy.ready;
    const port = await freePort();
    const client = `
import socket, sys
early, later = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])
s = socket.create_connection(("127.0.0.1", ${port}))
s.sendall(${JSON.stringify(request)}.encode() + early)
got = b""
while len(got) < ${reply.length}:
    chunk = s.recv(${reply.length} - len(got))
    if not chunk: break
    got += chunk
print(got.decode().strip())
s.sendall(later); s.shutdown(socket.SHUT_WR)
rest = b""
while chunk := s.recv(65536): rest += chunk
print(rest.decode())`;
    const plan = { bridges: [{ kind: 'tcp-to-unix', port, fd: 4 }], rlimits: [] };
    // argv is too small for 800 KB of hex: the client reads the payloads from files instead.
    const dir = openDir(t, 'payload');
    const fs = require('node:fs');
    fs.writeFileSync(path.join(dir, 'early'), early.toString('hex'));
    fs.writeFileSync(path.join(dir, 'later'), later.toString('hex'));
    const script = client.replace('bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2])', `bytes.fromhex(open(${JSON.stringify(path.join(dir, 'early'))}).read()), bytes.fromhex(open(${JSON.stringify(path.join(dir, 'later'))}).read())`);
    const r = await launch(plan, [python, '-c', script], { pass: [openSocketPath(sock)] });
    const [status, summary] = r.stdout.split('\n');
    assert.equal(status, 'HTTP/1.1 200 Connection established', r.stderr);
    const all = Buffer.concat([early, later]);
    assert.equal(summary, `${all.length} ${crypto.createHash('sha256').update(all).digest('hex')}`, r.stderr);
    assert.equal((await proxy.lines).split('\n')[1], `handed ${Buffer.from(request).toString('hex')}`);
  });

  it('tcp-to-unix handoff closes the connection when the proxy claims more bytes than were sent', async (t) => {
    let received = -1;
    const upstream = await listen(
      net.createServer((c) => {
        const chunks = [];
        c.on('data', (d) => chunks.push(d)).on('close', () => (received = Buffer.concat(chunks).length));
      }),
      { port: 0, host: '127.0.0.1' },
    );
    t.after(() => upstream.close());
    const request = 'CONNECT example.test:443 HTTP/1.1\r\n\r\n';
    const sock = path.join(openDir(t, 'bridge'), 'proxy.sock');
    const proxy = fakeProxy(t, [sock, request.length, 0, request.length + 10, upstream.address().port, Buffer.from('ok').toString('hex')]);
    await proxy.ready;
    const port = await freePort();
    const client = `
import socket
s = socket.create_connection(("127.0.0.1", ${port}))
s.sendall(${JSON.stringify(request)}.encode())
got = b""
try:
    while chunk := s.recv(4096): got += chunk
except ConnectionResetError:
    pass
print(repr(got))`;
    const plan = { bridges: [{ kind: 'tcp-to-unix', port, fd: 4 }], rlimits: [] };
    const r = await launch(plan, [python, '-c', client], { pass: [openSocketPath(sock)] });
    assert.equal(r.stdout, "b''\n", r.stderr); // not even the reply: nothing of a broken stream
    await proxy.lines;
    for (let i = 0; i < 100 && received < 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(received, 0);
  });

  it('unix-to-tcp: a host client on the Unix socket reaches a server on 127.0.0.1:port inside', async (t) => {
    const sock = path.join(openDir(t, 'bridge'), 'in.sock');
    const port = await freePort();
    const server = `
import socket
srv = socket.create_server(("127.0.0.1", ${port}))
print("ready", flush=True)
c, _ = srv.accept()
got = b""
while chunk := c.recv(4096):
    got += chunk
c.sendall(b"inside got " + got); c.close()`;
    const plan = { bridges: [{ kind: 'unix-to-tcp', port, fd: 4 }], rlimits: [] };
    let ready;
    const isReady = new Promise((resolve) => (ready = resolve));
    const listener = require('..').addon().listenUnix(sock, 16);
    const run = launch(plan, [python, '-c', server], { onStdout: (out) => out.startsWith('ready') && ready(), pass: [listener] });
    await isReady;
    const reply = await new Promise((resolve, reject) => {
      let got = '';
      const c = net.createConnection(sock, () => c.end('ping'));
      c.on('data', (d) => (got += d)).on('end', () => resolve(got)).on('error', reject);
    });
    assert.equal(reply, 'inside got ping');
    assert.equal((await run).code, 0);
  });

  it('refuses to start (125) when a bridge port is taken', async (t) => {
    const taken = await listen(net.createServer(), { port: 0, host: '127.0.0.1' });
    t.after(() => taken.close());
    const { port } = taken.address();
    const plan = { bridges: [{ kind: 'tcp-to-unix', port, fd: 4 }], rlimits: [] };
    const r = await launch(plan, ['echo', 'ran'], { pass: [fs.openSync('/dev/null', 'r')] });
    assert.equal(r.code, 125);
    // The text is the C library's: glibc's "Address already in use", musl's "Address in use".
    assert.match(r.stderr, new RegExp(`^fence-launch: bridge: listen on 127\\.0\\.0\\.1:${port}: Address (already )?in use\n$`));
  });

  it('does not leave the relay behind as a child of the command, nor the host socket\'s descriptor', async (t) => {
    const sock = path.join(openDir(t, 'bridge'), 'x.sock');
    const server = await listen(net.createServer(), sock);
    t.after(() => server.close());
    const plan = { bridges: [{ kind: 'tcp-to-unix', port: await freePort(), fd: 4 }], rlimits: [] };
    const r = await launch(plan, ['sh', '-c', 'ls /proc/self/fd; exec cat /proc/$$/task/$$/children'], { pass: [openSocketPath(sock)] });
    // No child, and only stdio (plus ls's own directory descriptor): the host socket's descriptor stays with the relay.
    assert.equal(r.stdout, '0\n1\n2\n3\n');
  });
  for (const asNobody of [false, true]) {
    it(`behind the creation guard, a refusal-only relay answers every client and the command holds no listener (${asNobody ? 'uid 65534' : 'root'})`, async (t) => {
      const port = await freePort();
      const dir = openDir(t, 'refuse-guard');
      fs.chmodSync(dir, 0o777);
      const plan = {
        bridges: [{ kind: 'refuse', port, reply: Buffer.from('HTTP/1.1 403 Forbidden\r\n\r\nno domain') }],
        rlimits: [],
        createGuard: { files: ['.bashrc'], dirs: [], git: [], gitConfig: [] },
      };
      const client = `
import os, socket
for i in range(2):
    s = socket.create_connection(("127.0.0.1", ${port}))
    s.sendall(b"GET http://example.com/ HTTP/1.1\\r\\n\\r\\n")
    got = b""
    while chunk := s.recv(4096):
        got += chunk
    s.close()
    print(got.decode().split("\\r\\n\\r\\n")[1])
print(sorted(os.listdir("/proc/self/fd")))
try:
    open(".bashrc", "w")
except PermissionError:
    print("guarded")`;
      const r = await launch(plan, ['sh', '-c', `cd ${dir} && exec ${python} -c '${client}'`], { asNobody });
      assert.equal(r.stdout, "no domain\nno domain\n['0', '1', '2', '3']\nguarded\n", r.stderr);
      assert.equal(r.code, 0);
    });
  }
  /** A host HTTP server on a Unix socket every uid may connect to; its URL path in every answer. */
  async function hostServer(t, name) {
    const sock = path.join(openDir(t, name), 'http.sock');
    const server = await listen(http.createServer((req, res) => res.end(`hello from unix ${req.url}\n`)), sock);
    fs.chmodSync(sock, 0o777);
    t.after(() => server.close());
    return sock;
  }
  const GUARDED = { files: ['.bashrc'], dirs: [], git: [], gitConfig: [] };
  for (const asNobody of [false, true]) {
    it(`behind the creation guard, the relay to a host socket starts at its first client: the command waits for no fork and holds neither the listener nor the host socket (${asNobody ? 'uid 65534' : 'root'})`, async (t) => {
      const sock = await hostServer(t, 'later');
      const port = await freePort();
      const plan = { bridges: [{ kind: 'tcp-to-unix', port, fd: 4 }], rlimits: [], createGuard: GUARDED };
      // The guard's siblings named fence-launch (the relay is one) before and after the first
      // connection: earlier tests' relays may still be ending, none may appear but this one's.
      const client = `
import os, socket
def ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])
def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read()
    except OSError:
        return ""
guard = os.getppid()
def relays():
    return {p for p in (int(d) for d in os.listdir("/proc") if d.isdigit()) if p != guard and comm(p) == "fence-launch\\n" and ppid(p) == ppid(guard)}
before = relays()
fds = sorted(os.listdir("/proc/self/fd"))
s = socket.create_connection(("127.0.0.1", ${port}))
s.sendall(b"GET /a HTTP/1.0\\r\\n\\r\\n")
got = b""
while chunk := s.recv(4096):
    got += chunk
print(got.decode().split("\\r\\n\\r\\n")[1], end="")
print(fds, len(relays() - before))`;
      const r = await launch(plan, [python, '-c', client], { asNobody, pass: [openSocketPath(sock)] });
      assert.equal(r.stdout, "hello from unix /a\n['0', '1', '2', '3'] 1\n", r.stderr);
      assert.equal(r.code, 0);
    });
  }
  /** Fence's DNS decision socket as a host Unix socket every uid may connect to: allows every name. */
  async function allowingDecider(t, name) {
    const sock = path.join(openDir(t, name), 'dns.sock');
    const server = await listen(net.createServer((c) => c.on('data', (d) => c.write('allow\n'.repeat(d.toString().split('\n').length - 1)))), sock);
    fs.chmodSync(sock, 0o777);
    t.after(() => server.close());
    return sock;
  }
  for (const asNobody of [false, true]) {
    it(`behind the creation guard, a relay that cannot start yet (no process left) refuses its waiting clients at once, and the next client starts it (${asNobody ? 'uid 65534' : 'root'})`, async (t) => {
      const cgroup = pidsCgroup(t, 6);
      if (cgroup.reason) return t.skip(cgroup.reason);
      const sock = await hostServer(t, 'nofork');
      const decider = await allowingDecider(t, 'nofork');
      const [port, dnsPort] = [await freePort(), await freePort()];
      const plan = { bridges: [{ kind: 'tcp-to-unix', port, fd: 4 }, { kind: 'dns', port: dnsPort, fd: 5 }], rlimits: [], createGuard: GUARDED };
      // The command takes every process the cgroup has left, then asks each bridge (its relay not
      // started: the guard cannot fork it), then frees them and asks again.
      const client = `
import os, socket, struct, time
kids = []
while len(kids) < 50:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
def http():
    try:
        s = socket.create_connection(("127.0.0.1", ${port}), timeout=5)
        s.sendall(b"GET /a HTTP/1.0\\r\\n\\r\\n")
        got = b""
        while chunk := s.recv(4096):
            got += chunk
        return got.decode().split("\\r\\n\\r\\n")[-1].strip() or "closed"
    except ConnectionResetError:
        return "closed" # the close crossed the request
    except OSError as e:
        return type(e).__name__
def dns():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(struct.pack(">6H", 7, 0x100, 1, 0, 0, 0) + b"\\x07example\\x03com\\x00\\x00\\x01\\x00\\x01", ("127.0.0.53", ${dnsPort}))
    try:
        r = s.recv(512)
        return "rcode %d, %d answer(s)" % (r[3] & 15, r[7])
    except OSError as e:
        return type(e).__name__
print("at the limit:", len(kids) < 50, http(), "/", dns())
for k in kids:
    os.kill(k, 9)
    os.waitpid(k, 0)
print("below it:", http(), "/", dns())`;
      const r = await launch(plan, [python, '-c', client], { asNobody, cgroup: cgroup.dir, pass: [openSocketPath(sock), openSocketPath(decider)] });
      assert.equal(r.stdout, 'at the limit: True closed / rcode 2, 0 answer(s)\nbelow it: hello from unix /a / rcode 0, 1 answer(s)\n', r.stderr);
      assert.equal(r.stderr, "fence-launch: guard: cannot start the bridges' relay (bridge: fork: Resource temporarily unavailable); its waiting clients are refused, the next one tries again\n");
      assert.equal(r.code, 0);
    });
  }
  it('with resource limits the relay starts before them: a limit of open files the command stays within does not bind it', async (t) => {
    const sock = await hostServer(t, 'limited');
    const port = await freePort();
    // Ten connections held open at once: the command needs about 16 descriptors, the relay 26
    // (two per connection, its listener, the host socket, the pidfd, stdio).
    const plan = { bridges: [{ kind: 'tcp-to-unix', port, fd: 4 }], rlimits: [{ resource: 'NOFILE', value: 20 }], createGuard: GUARDED };
    const client = `
import socket
conns = [socket.create_connection(("127.0.0.1", ${port}), timeout=5) for _ in range(10)]
for i, s in enumerate(conns):
    s.sendall(b"GET /%d HTTP/1.0\\r\\n\\r\\n" % i)
answers = []
for s in conns:
    got = b""
    try:
        while chunk := s.recv(4096):
            got += chunk
    except OSError as e:
        got = str(e).encode()
    answers.append(got.decode().split("\\r\\n\\r\\n")[-1].strip())
print(" ".join(answers))`;
    const r = await launch(plan, [python, '-c', client], { pass: [openSocketPath(sock)] });
    assert.equal(r.stdout, `${Array.from({ length: 10 }, (_, i) => `hello from unix /${i}`).join(' ')}\n`, r.stderr);
    assert.equal(r.code, 0);
  });
  for (const asNobody of [false, true]) {
    it(`the command cannot signal the creation guard nor the refusal relay it started: Landlock scope (${asNobody ? 'uid 65534' : 'root'})`, async (t) => {
      if (abi < 6) return t.skip(`needs Landlock ABI 6 for the signal scope (kernel has ${abi})`);
      const port = await freePort();
      const plan = {
        bridges: [{ kind: 'refuse', port, reply: Buffer.from('HTTP/1.1 403 Forbidden\r\n\r\nno domain') }],
        rlimits: [],
        createGuard: { files: ['.bashrc'], dirs: [], git: [], gitConfig: [] },
        landlock: { abi: 6, handledAccessFs: fsRights(6), handledAccessNet: 0, scoped: 3, restrictFlags: 0, paths: [{ access: READ_EXEC, path: '/' }], ports: [] },
      };
      // SIGKILL to the guard (the parent) and to the relay (the guard's sibling, started by the
      // first connection; earlier tests' relays may be there too); then the refusal must still be
      // answered.
      const attack = `
import os, signal, socket
def refusal():
    s = socket.create_connection(("127.0.0.1", ${port}))
    s.sendall(b"GET http://example.com/ HTTP/1.1\\r\\n\\r\\n")
    got = b""
    while chunk := s.recv(4096):
        got += chunk
    s.close()
    return got.decode().split("\\r\\n\\r\\n")[1]
def ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])
print(refusal())
guard = os.getppid()
relays = [p for p in (int(d) for d in os.listdir("/proc") if d.isdigit()) if p != guard and os.path.exists("/proc/%d" % p) and open("/proc/%d/comm" % p).read() == "fence-launch\\n" and ppid(p) == ppid(guard)]
for name, pids in (("guard", [guard]), ("relay", relays)):
    outcomes = set()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            outcomes.add("killed")
        except PermissionError:
            outcomes.add("EPERM")
    print(name, *sorted(outcomes))
print(refusal())`;
      const r = await launch(plan, [python, '-c', attack], { asNobody });
      assert.equal(r.stdout, 'no domain\nguard EPERM\nrelay EPERM\nno domain\n', r.stderr);
      assert.equal(r.code, 0);
    });
  }
});
