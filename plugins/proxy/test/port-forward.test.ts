import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPortForward } from '../src/port-forward.js';
import { collect, deadPort, fdCount, fdsSettle, tempDir } from './support.js';

const dir = tempDir();
afterAll(() => dir.remove());

const tcpClient = (port: number) =>
  new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });

describe('createPortForward', () => {
  it('carries host 127.0.0.1:N connections to the Unix socket and back, half-close included', async () => {
    const path = join(dir.path, 'in-1.sock');
    // Stands in for the helper inside the sandbox: an echo on the Unix socket.
    const inner: Server = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
    await new Promise<void>((r) => inner.listen(path, r));
    const port = await deadPort();
    const forward = createPortForward({ port, path });
    await forward.start();
    const start = fdCount();
    const replies = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const s = await tcpClient(port);
        const all = collect(s);
        s.end(`hello ${i}`);
        return (await all).toString();
      }),
    );
    replies.forEach((r, i) => expect(r).toBe(`hello ${i}`));
    expect(await fdsSettle(start)).toBeLessThanOrEqual(start);
    await forward.stop();
    await new Promise((r) => inner.close(r));
  });

  it('closes a connection at once when nothing serves the Unix socket', async () => {
    const port = await deadPort();
    const forward = createPortForward({ port, path: join(dir.path, 'nobody.sock') });
    await forward.start();
    const s = await tcpClient(port);
    expect((await collect(s, 2000)).length).toBe(0);
    await forward.stop();
  });

  it('fails to start when the host port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const forward = createPortForward({ port, path: join(dir.path, 'x.sock') });
    await expect(forward.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await forward.stop();
    await new Promise((r) => taken.close(r));
  });
});
