import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';

/** A host TCP server on `host` that answers every connection with `reply` and counts them. */
async function hostServer(host: string, reply: string): Promise<{ port: number; connections: () => number; close: () => void }> {
  let connections = 0;
  const server: Server = createServer((s) => {
    connections++;
    s.on('error', () => undefined).end(`${reply}\n`);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return { port: (server.address() as AddressInfo).port, connections: () => connections, close: () => server.close() };
}

/** What a command inside prints for a TCP connection to 127.0.0.1:port (bash's /dev/tcp: no proxy involved). */
const dial = (port: number, host = '127.0.0.1') => `(exec 3<>/dev/tcp/${host}/${port} && timeout 3 cat <&3) 2>/dev/null || echo "refused ${host}:${port}"`;

describe.each(USERS)('network.allowLocalOutboundPorts (as %s)', (user) => {
  let ws: Workspace;
  const servers: { close: () => void }[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
    ws.cleanup();
  });

  async function server(host: string, reply: string) {
    const s = await hostServer(host, reply);
    servers.push(s);
    return s;
  }

  it("reaches a listed port of the host's 127.0.0.1 and of its ::1, and no other port", async () => {
    ws = workspace(user);
    const v4 = await server('127.0.0.1', 'LISTED-V4');
    const v6 = await server('::1', 'LISTED-V6');
    const other = await server('127.0.0.1', 'UNLISTED');
    const other6 = await server('::1', 'UNLISTED-V6');
    writeSettings(ws, { network: { allowLocalOutbound: true, allowLocalOutboundPorts: [v4.port, v6.port] } });
    const r = await fence(ws, ['-c', [dial(v4.port), dial(v6.port), dial(other.port), dial(other6.port), dial(v4.port, '::1')].join('; ')]);
    expect(r.stdout).toContain('LISTED-V4');
    expect(r.stdout).toContain('LISTED-V6');
    expect(r.stdout).toContain(`refused 127.0.0.1:${other.port}`);
    expect(r.stdout).toContain(`refused 127.0.0.1:${other6.port}`);
    expect(r.stdout).not.toContain('UNLISTED');
    expect(other.connections() + other6.connections()).toBe(0);
    expect(r.status).toBe(0);
  });

  it('carries a large exchange both ways without losing a byte (the bridge relays it)', async () => {
    ws = workspace(user);
    const echo = createServer((s) => s.on('error', () => undefined).pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    servers.push({ close: () => echo.close() });
    const port = (echo.address() as AddressInfo).port;
    writeSettings(ws, { network: { allowLocalOutbound: true, allowLocalOutboundPorts: [port] } });
    // 8 MiB out and back through python (in the sandbox, no Node): the digest of what came back.
    const script = `import socket,hashlib,threading
s=socket.create_connection(('127.0.0.1',${port}))
data=bytes(range(256))*32768
threading.Thread(target=lambda:(s.sendall(data),s.shutdown(socket.SHUT_WR))).start()
h=hashlib.sha256();n=0
while True:
  b=s.recv(65536)
  if not b: break
  h.update(b);n+=len(b)
print(n, h.hexdigest()==hashlib.sha256(data).hexdigest())`;
    const r = await fence(ws, ['--', 'python3', '-c', script]);
    expect(r.stdout.trim()).toBe(`${256 * 32768} True`);
  });

  it('without allowLocalOutbound the ports are refused as a settings error naming the field', async () => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowLocalOutboundPorts: [5432] } });
    const r = await fence(ws, ['--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('network.allowLocalOutboundPorts: needs "allowLocalOutbound": true');
  });

  it('a listed port with nothing behind it is closed at once, and -m says why', async () => {
    ws = workspace(user);
    const gone = await hostServer('127.0.0.1', 'x');
    gone.close();
    writeSettings(ws, { network: { allowLocalOutbound: true, allowLocalOutboundPorts: [gone.port] } });
    const r = await fence(ws, ['-m', '-c', dial(gone.port)]);
    expect(r.stderr).toContain(`[fence:local]`);
    expect(r.stderr).toContain(`connect localhost:${gone.port} (upstream unreachable: nothing answers on the host's 127.0.0.1:${gone.port} or [::1]:${gone.port}`);
  });
});
