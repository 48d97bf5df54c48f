import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fence, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';

/**
 * A client that does what TLS clients do: it sends its first bytes right after the CONNECT (or
 * the SOCKS5 greeting and request), in a write of their own, without waiting for the proxy's reply. Each tunnel must still
 * deliver the reply and then the echo of those early bytes. Prints the number of tunnels lost.
 */
const CLIENT = String.raw`
import socket, sys, time
port, up, n, kind = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lost = 0
for i in range(n):
    early = b"early-%d\n" % i
    if kind == "http":
        hello = b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % up
        ok = lambda d: d.startswith(b"HTTP/1.1 200")
    else:
        hello = b"\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01" + up.to_bytes(2, "big")
        ok = lambda d: d[:4] == b"\x05\x00\x05\x00"
    data = b""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(hello)
        # A separate write, 0 to 2 ms later: it reaches the bridge around the moment of the handoff.
        time.sleep((i % 21) / 10000)
        s.sendall(early)
        while not data.endswith(early):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
    except OSError:
        pass
    if not (ok(data) and data.endswith(early)):
        lost += 1
print("lost", lost, flush=True)
`;

let echo: Server;
let upstream = 0;
beforeAll(async () => {
  echo = createServer({ allowHalfOpen: true }, (c) => c.on('error', () => undefined).pipe(c));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  upstream = (echo.address() as { port: number }).port;
});
afterAll(() => echo.close());

describe.each(USERS)('tunnels lose nothing the client sent before the reply (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  const run = async (kind: 'http' | 'socks', port: number, perClient: number): Promise<string> => {
    ws = workspace(user);
    writeSettings(ws, { network: { allowedDomains: ['127.0.0.1'], allowLocalOutbound: true } });
    // Four clients at once: the handoff races the proxy closing its side.
    const script = `for k in 1 2 3 4; do /usr/bin/python3 -c "$S" ${port} ${upstream} ${perClient} ${kind} & done; wait`;
    const r = await fence(ws, ['-c', script], { env: { S: CLIENT }, timeoutMs: 240_000 });
    return r.stdout + r.stderr;
  };

  it('10,000 CONNECT tunnels with early data, 4 clients at once: 0 lost', async () => {
    expect(await run('http', 3128, 2500)).toBe('lost 0\n'.repeat(4));
  }, 250_000);

  it('2,000 SOCKS5 tunnels with early data, 4 clients at once: 0 lost', async () => {
    expect(await run('socks', 1080, 500)).toBe('lost 0\n'.repeat(4));
  }, 250_000);
});
