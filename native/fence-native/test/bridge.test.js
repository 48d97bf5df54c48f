'use strict';
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { describe, it } = require('node:test');
const { freePort, hasCommand, helper, launch, openDir, python } = require('./helpers.js');

const skip = !helper && 'fence-launch is not built (npm run build)';

function listen(server, where) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => resolve(server));
  });
}

describe('fence-launch bridges', { skip }, () => {
  it('tcp-to-unix: a client on 127.0.0.1:port reaches a host Unix socket server', async (t) => {
    if (!hasCommand('curl')) return t.skip('curl is not installed');
    const sock = path.join(openDir(t, 'bridge'), 'http.sock');
    const server = await listen(http.createServer((req, res) => res.end(`hello from unix ${req.url}\n`)), sock);
    t.after(() => server.close());
    const port = await freePort();
    const plan = { bridges: [{ kind: 'tcp-to-unix', port, path: sock }], rlimits: [] };
    const r = await launch(plan, ['curl', '-sS', `http://127.0.0.1:${port}/a`, `http://127.0.0.1:${port}/b`]);
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
    const plan = { bridges: [{ kind: 'tcp-to-unix', port, path: sock }], rlimits: [] };
    const r = await launch(plan, [python, '-c', client], { stdin: data });
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
          addon.sendFd(client._handle.fd, up._handle.fd, Buffer.from(`${reply}\0`));
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
    const plan = { bridges: [{ kind: 'tcp-to-unix', port, path: sock }], rlimits: [] };
    const r = await launch(plan, [python, '-c', client], { stdin: data });
    const [status, sum, fds] = r.stdout.split('\n');
    assert.equal(status, 'HTTP/1.1 200 Connection established', r.stderr);
    assert.equal(sum, `${data.length} ${crypto.createHash('sha256').update(data).digest('hex')}`);
    const [, before, after] = fds.split(' ');
    assert.ok(Number(before) > 0, fds);
    assert.equal(after, before);
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
    const plan = { bridges: [{ kind: 'unix-to-tcp', port, path: sock }], rlimits: [] };
    let ready;
    const isReady = new Promise((resolve) => (ready = resolve));
    const run = launch(plan, [python, '-c', server], { onStdout: (out) => out.startsWith('ready') && ready() });
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
    const plan = { bridges: [{ kind: 'tcp-to-unix', port, path: '/tmp/x.sock' }], rlimits: [] };
    const r = await launch(plan, ['echo', 'ran']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, `fence-launch: bridge: listen on 127.0.0.1:${port}: Address already in use\n`);
  });

  it('does not leave the relay behind as a child of the command', async (t) => {
    const sock = path.join(openDir(t, 'bridge'), 'x.sock');
    const plan = { bridges: [{ kind: 'tcp-to-unix', port: await freePort(), path: sock }], rlimits: [] };
    const r = await launch(plan, ['sh', '-c', 'exec cat /proc/$$/task/$$/children']);
    assert.equal(r.stdout.trim(), '');
  });
});
